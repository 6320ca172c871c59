use crate::common::*;

#[test]
fn status_reports_each_state_and_check_gates_on_it() {
    let w = World::new();
    let on = w.create_detector("eu-west-1", true, "FIFTEEN_MINUTES");
    let off = w.create_detector("eu-west-2", false, "SIX_HOURS");
    let regions = ["--regions", "eu-west-1,eu-west-2,eu-west-3"];

    let (code, doc) = w.json(&[&["status"][..], &regions[..]].concat());
    assert_eq!(code, 0, "plain status is read only and never fails on state");
    let r = by_region(&doc);
    assert_eq!(
        (r["eu-west-1"]["status"].as_str(), r["eu-west-1"]["detector_id"].as_str()),
        (Some("ENABLED"), Some(on.as_str()))
    );
    assert_eq!(r["eu-west-1"]["frequency"], "FIFTEEN_MINUTES");
    assert_eq!(
        (r["eu-west-2"]["status"].as_str(), r["eu-west-2"]["detector_id"].as_str()),
        (Some("SUSPENDED"), Some(off.as_str()))
    );
    assert_eq!(r["eu-west-3"]["status"], "NOT_ENABLED");
    assert!(r["eu-west-3"]["detector_id"].is_null());

    let check = |extra: &[&str]| {
        let mut args = vec!["status", "--check"];
        args.extend(extra);
        w.gdctl(&args).output().unwrap().status.code().unwrap()
    };
    assert_eq!(check(&regions), 3);
    assert_eq!(check(&["--regions", "eu-west-1"]), 0);
    assert_eq!(check(&["--regions", "eu-west-1", "--frequency", "fifteen-minutes"]), 0);
    assert_eq!(check(&["--regions", "eu-west-1", "--frequency", "six-hours"]), 3);

    w.gdctl(&["enable", "--frequency", "fifteen-minutes"]).assert().success();
    assert_eq!(check(&["--frequency", "fifteen-minutes"]), 0);
}

#[test]
fn check_text_marks_the_regions_out_of_line() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let out = w.gdctl(&["status", "--check", "--regions", "eu-west-1,eu-west-2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = stdout_of(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("eu-west-2  not-enabled") && l.ends_with("out of line: no detector")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("eu-west-1  enabled")
            && l.contains("SIX_HOURS")
            && !l.contains("out of line")),
        "{text}"
    );
    assert!(text.contains("1 out of line"), "{text}");
}

#[test]
fn out_of_line_says_why_in_text_and_json() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    w.create_detector("eu-west-3", false, "FIFTEEN_MINUTES");
    let args =
        ["status", "--check", "--frequency", "fifteen-minutes", "--regions", "eu-west-1,eu-west-2,eu-west-3"];
    let (code, doc) = w.json(&args);
    assert_eq!(code, 3, "{doc:#}");
    let r = by_region(&doc);
    assert_eq!(
        r["eu-west-1"]["out_of_line"],
        serde_json::json!(["frequency SIX_HOURS, not FIFTEEN_MINUTES"])
    );
    assert_eq!(r["eu-west-2"]["out_of_line"], serde_json::json!(["no detector"]));
    assert_eq!(r["eu-west-3"]["out_of_line"], serde_json::json!(["suspended"]));
    assert_eq!(doc["summary"]["out_of_line"], 3);

    let text = stdout_of(&w.gdctl(&args).output().unwrap());
    let line = text.lines().find(|l| l.starts_with("eu-west-1")).unwrap();
    assert!(line.ends_with("out of line: frequency SIX_HOURS, not FIFTEEN_MINUTES"), "{text}");
}

#[test]
fn a_gate_that_checked_nothing_does_not_pass() {
    let w = World::new();
    // me-south-1 is not opted in (moto lists it so with AllRegions).
    let out = w.gdctl(&["status", "--check", "--regions", "me-south-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout_of(&out));
    assert_eq!(
        stderr_of(&out),
        "gdctl: error: no target region left to work on: skipped me-south-1 (not opted in)\n"
    );
    let out = w
        .gdctl(&["status", "--check", "--regions", "eu-west-1", "--exclude-regions", "eu-west-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no target region left"), "{}", stderr_of(&out));
    // An empty list (an unset variable in a script) is not "every region".
    let out = w.gdctl(&["status", "--check", "--regions", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("empty region name"), "{}", stderr_of(&out));
}

#[test]
fn region_names_are_trimmed_and_unknown_ones_get_a_suggestion() {
    let w = World::new();
    w.gdctl(&["status", "--regions", " eu-west-1 , us-east-1"]).assert().code(0);
    let out = w.gdctl(&["status", "--regions", "US-EAST-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        "gdctl: error: unknown region: `US-EAST-1` (DescribeRegions in us-east-1 did not return it); \
         did you mean `us-east-1` for `US-EAST-1`?\n"
    );
}

#[test]
fn json_report_matches_the_state_after_enable() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let (code, doc) = w.json(&["enable", "--frequency", "one-hour"]);
    assert_eq!(code, 0);
    assert_eq!(doc["command"], "enable");
    assert_eq!(doc["home_region"], HOME_REGION);
    assert_eq!(doc["dry_run"], false);

    let reported = by_region(&doc);
    let names: Vec<&String> = reported.keys().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "regions sorted by name");
    for (region, r) in &reported {
        let seen = w.detectors(region);
        assert_eq!(r["detector_id"], seen[0].id.as_str(), "{region}");
        assert_eq!(r["status"], "ENABLED");
        assert_eq!(r["frequency"], seen[0].frequency.as_str(), "{region}");
        assert!(r["error"].is_null());
    }
    assert_eq!(reported["eu-west-1"]["outcome"], "updated");
    assert_eq!(reported["eu-west-1"]["previous_frequency"], "SIX_HOURS");
    let s = &doc["summary"];
    assert_eq!(s["targets"], reported.len());
    assert_eq!(s["succeeded"], reported.len());
    assert_eq!(s["failed"], 0);
    assert_eq!(s["skipped"], doc["skipped"].as_array().unwrap().len());
    assert_eq!(s["outcomes"]["created"], reported.len() - 1);
}

#[test]
fn colour_only_at_a_terminal_and_never_with_no_color() {
    let w = World::new();
    let args = ["status", "--regions", "eu-west-1"];
    let at_terminal = w.gdctl_at_terminal(&args, "");
    assert_eq!(at_terminal.status.code(), Some(0));
    assert!(stdout_of(&at_terminal).contains("\x1b["), "{:?}", stdout_of(&at_terminal));

    let no_color = w.terminal(&args).env("NO_COLOR", "1").output().unwrap();
    assert!(stdout_of(&no_color).contains("not-enabled"));
    assert!(!stdout_of(&no_color).contains("\x1b["), "{:?}", stdout_of(&no_color));

    let piped = w.gdctl(&args).output().unwrap();
    assert!(!stdout_of(&piped).contains('\x1b'));
}
