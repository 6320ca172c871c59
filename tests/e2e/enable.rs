use crate::common::*;

#[test]
fn fresh_enable_leaves_one_enabled_detector_in_every_target_and_none_elsewhere() {
    let w = World::new();
    let (code, doc) = w.json(&["enable", "--frequency", "fifteen-minutes"]);
    assert_eq!(code, 0, "{doc:#}");

    let targets = w.target_regions();
    let reported = by_region(&doc);
    assert_eq!(reported.keys().cloned().collect::<Vec<_>>(), targets);
    for (region, dets) in w.snapshot() {
        if targets.contains(&region) {
            assert_eq!(dets.len(), 1, "{region}: {dets:?}");
            assert!(dets[0].enabled, "{region}");
            assert_eq!(dets[0].frequency, "FIFTEEN_MINUTES", "{region}");
            let r = &reported[&region];
            assert_eq!(r["outcome"], "created");
            assert_eq!(r["detector_id"], dets[0].id.as_str());
        } else {
            assert!(dets.is_empty(), "{region} is not a target but has {dets:?}");
        }
    }
    // Skipped regions are reported, with why.
    let skipped: Vec<&str> =
        doc["skipped"].as_array().unwrap().iter().map(|s| s["region"].as_str().unwrap()).collect();
    assert!(skipped.contains(&"ap-east-1"), "{skipped:?}");
    assert!(!skipped.iter().any(|s| targets.iter().any(|t| t == s)));
}

#[test]
fn second_enable_is_all_unchanged_and_creates_nothing() {
    let w = World::new();
    w.gdctl(&["enable", "--frequency", "one-hour"]).assert().success();
    let before = w.snapshot();

    let out = w.gdctl(&["enable", "--frequency", "one-hour"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let targets = w.target_regions();
    let region_lines: Vec<&str> =
        text.lines().filter(|l| targets.iter().any(|t| l.split_whitespace().next() == Some(t))).collect();
    assert_eq!(region_lines.len(), targets.len(), "{text}");
    assert!(region_lines.iter().all(|l| l.split_whitespace().nth(1) == Some("unchanged")), "{text}");
    assert_eq!(w.snapshot(), before, "a re-run must not change anything");
}

#[test]
fn a_suspended_detector_is_resumed_in_place() {
    let w = World::new();
    let id = w.create_detector("eu-west-1", false, "SIX_HOURS");

    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1,us-east-1"]);
    assert_eq!(code, 0);
    let r = &by_region(&doc)["eu-west-1"];
    assert_eq!(r["outcome"], "resumed");
    assert_eq!(r["detector_id"], id.as_str());
    assert_eq!(w.detectors("eu-west-1"), [seen(&id, true, "SIX_HOURS")]);
    assert_eq!(by_region(&doc)["us-east-1"]["outcome"], "created");
}

#[test]
fn a_six_hours_detector_is_moved_to_fifteen_minutes() {
    let w = World::new();
    let id = w.create_detector("ap-south-1", true, "SIX_HOURS");

    let out =
        w.gdctl(&["enable", "--frequency", "fifteen-minutes", "--regions", "ap-south-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = stdout_of(&out).lines().next().unwrap().to_string();
    assert!(line.starts_with("ap-south-1  updated"), "{line}");
    assert!(line.contains(&id) && line.ends_with("SIX_HOURS -> FIFTEEN_MINUTES"), "{line}");
    assert_eq!(w.detectors("ap-south-1"), [seen(&id, true, "FIFTEEN_MINUTES")]);
}

#[test]
fn enable_without_frequency_keeps_an_existing_frequency() {
    let w = World::new();
    let id = w.create_detector("eu-west-1", true, "ONE_HOUR");
    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1"]);
    assert_eq!(code, 0);
    assert_eq!(by_region(&doc)["eu-west-1"]["outcome"], "unchanged");
    assert_eq!(w.detectors("eu-west-1"), [seen(&id, true, "ONE_HOUR")]);
}

#[test]
fn dry_run_reads_but_changes_nothing() {
    let w = World::new();
    w.create_detector("eu-west-1", false, "SIX_HOURS");
    w.create_detector("us-west-2", true, "SIX_HOURS");
    let before = w.snapshot();

    let out = w.gdctl(&["enable", "--dry-run", "--frequency", "fifteen-minutes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert!(text.contains("us-east-1       would create"), "{text}");
    assert!(text.contains("eu-west-1       would resume"), "{text}");
    assert!(text.contains("us-west-2       would update"), "{text}");
    assert!(text.contains("dry run, nothing was changed"), "{text}");

    w.gdctl(&["disable", "--dry-run"]).assert().success();
    w.gdctl(&["disable", "--dry-run", "--suspend"]).assert().success();
    assert_eq!(w.snapshot(), before);
}
