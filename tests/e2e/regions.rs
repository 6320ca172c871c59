use crate::common::*;

#[test]
fn regions_limits_and_exclude_regions_removes() {
    let w = World::new();
    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1,us-east-2"]);
    assert_eq!(code, 0);
    assert_eq!(by_region(&doc).keys().collect::<Vec<_>>(), ["eu-west-1", "us-east-2"]);
    let touched: Vec<String> =
        w.snapshot().into_iter().filter(|(_, d)| !d.is_empty()).map(|(r, _)| r).collect();
    assert_eq!(touched, ["eu-west-1", "us-east-2"]);

    let (code, doc) = w.json(&["disable", "--exclude-regions", "eu-west-1"]);
    assert_eq!(code, 0);
    assert!(!by_region(&doc).contains_key("eu-west-1"));
    assert_eq!(by_region(&doc)["us-east-2"]["outcome"], "deleted");
    assert_eq!(w.detectors("eu-west-1").len(), 1);
    assert!(w.detectors("us-east-2").is_empty());
}

#[test]
fn an_unknown_region_is_a_usage_error_naming_it_and_nothing_changes() {
    let w = World::new();
    for args in [
        &["enable", "--regions", "us-east-1,xx-nowhere-1"][..],
        &["enable", "--exclude-regions", "xx-nowhere-1"][..],
    ] {
        let out = w.gdctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = stderr_of(&out);
        assert!(err.contains("xx-nowhere-1"), "{err}");
        assert!(stdout_of(&out).is_empty());
    }
    assert!(w.detectors("us-east-1").is_empty());
}

#[test]
fn a_named_region_that_is_not_opted_in_is_skipped_and_never_called() {
    let w = World::new();
    let (code, doc) = w.json(&["enable", "--regions", "ap-east-1,eu-west-1"]);
    assert_eq!(code, 0);
    assert_eq!(doc["skipped"][0]["region"], "ap-east-1");
    assert_eq!(doc["skipped"][0]["reason"], "not opted in");
    assert!(w.detectors("ap-east-1").is_empty());
}
