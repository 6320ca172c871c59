use crate::common::*;

#[test]
fn disable_deletes_everything_then_a_second_disable_is_all_absent() {
    let w = World::new();
    w.gdctl(&["enable"]).assert().success();
    w.create_detector("ap-east-1", true, "SIX_HOURS"); // not opted in: must be left alone

    let (code, doc) = w.json(&["disable", "--yes"]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(by_region(&doc).values().all(|r| r["outcome"] == "deleted" && r["status"] == "NOT_ENABLED"));
    for region in w.target_regions() {
        assert!(w.detectors(&region).is_empty(), "{region}");
    }
    assert_eq!(w.detectors("ap-east-1").len(), 1, "a skipped region was touched");

    let (code, doc) = w.json(&["disable"]); // no terminal: proceeds without --yes
    assert_eq!(code, 0);
    assert!(by_region(&doc).values().all(|r| r["outcome"] == "absent"), "{doc:#}");
    assert_eq!(doc["summary"]["outcomes"]["absent"], w.target_regions().len());
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
    assert_eq!(w.detectors("eu-west-1"), [seen(&id.clone(), false, "ONE_HOUR")]);

    // Suspending again changes nothing.
    let (_, doc) = w.json(&["disable", "--suspend", "--regions", "eu-west-1"]);
    assert_eq!(by_region(&doc)["eu-west-1"]["outcome"], "unchanged");

    w.gdctl(&["enable", "--regions", "eu-west-1"]).assert().success();
    assert_eq!(w.detectors("eu-west-1"), [seen(&id, true, "ONE_HOUR")]);
}

#[test]
fn at_a_terminal_deletion_waits_for_a_yes() {
    let w = World::new();
    let id = w.create_detector("eu-west-1", true, "SIX_HOURS");
    let args = ["disable", "--regions", "eu-west-1,eu-west-2"];

    let out = w.gdctl_at_terminal(&args, "n\n");
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
    let shown = stdout_of(&out); // the pty merges stdout and stderr
    assert!(shown.contains(&id) && shown.contains("[y/N]"), "{shown}");
    assert!(shown.contains("nothing was deleted"), "{shown}");
    assert_eq!(w.detectors("eu-west-1").len(), 1, "a no must change nothing");

    let out = w.gdctl_at_terminal(&args, "y\n");
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(w.detectors("eu-west-1").is_empty());

    // --yes does not ask; a region with nothing to delete is not asked about.
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let out = w.gdctl_at_terminal(&[&args[..], &["--yes"]].concat(), "");
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout_of(&out).contains("[y/N]"));
    let out = w.gdctl_at_terminal(&args, "");
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout_of(&out).contains("[y/N]"), "nothing left to delete, nothing to ask");
}
