use crate::common::*;

#[test]
fn disable_deletes_everything_then_a_second_disable_is_all_absent() {
    let w = World::new();
    w.gdctl(&["enable"]).assert().success();
    w.create_detector("ap-east-1", true, "SIX_HOURS"); // not opted in: must be left alone

    let (code, doc) = w.json(&["disable", "--yes"]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(by_region(&doc)
        .values()
        .all(|r| r["outcome"] == "deleted" && r["status"] == "NOT_ENABLED"));
    for region in w.target_regions() {
        assert!(w.detectors(&region).is_empty(), "{region}");
    }
    assert_eq!(
        w.detectors("ap-east-1").len(),
        1,
        "a skipped region was touched"
    );

    let (code, doc) = w.json(&["disable"]); // no terminal: proceeds without --yes
    assert_eq!(code, 0);
    assert!(
        by_region(&doc).values().all(|r| r["outcome"] == "absent"),
        "{doc:#}"
    );
    assert_eq!(
        doc["summary"]["outcomes"]["absent"],
        w.target_regions().len()
    );
}

#[test]
fn suspend_keeps_the_detector_and_enable_resumes_it() {
    let w = World::new();
    let id = w.create_detector("eu-west-1", true, "ONE_HOUR");

    let (code, doc) = w.json(&["disable", "--suspend", "--regions", "eu-west-1,eu-west-2"]);
    assert_eq!(code, 0);
    let r = by_region(&doc);
    assert_eq!(r["eu-west-1"]["outcome"], "suspended");
    assert_eq!(r["eu-west-1"]["status"], "SUSPENDED");
    assert_eq!(r["eu-west-2"]["outcome"], "absent");
    assert_eq!(
        w.detectors("eu-west-1"),
        [Seen {
            id: id.clone(),
            enabled: false,
            frequency: "ONE_HOUR".into()
        }]
    );

    // Suspending again changes nothing.
    let (_, doc) = w.json(&["disable", "--suspend", "--regions", "eu-west-1"]);
    assert_eq!(by_region(&doc)["eu-west-1"]["outcome"], "unchanged");

    w.gdctl(&["enable", "--regions", "eu-west-1"])
        .assert()
        .success();
    assert_eq!(
        w.detectors("eu-west-1"),
        [Seen {
            id,
            enabled: true,
            frequency: "ONE_HOUR".into()
        }]
    );
}
