//! `gdctl apply FILE`: the example settings file converged in every region
//! and two accounts, checked through an independent client; a second run
//! writes nothing (counted through the front); edits change exactly what
//! was edited; the gate, dry runs, pruning, format changes and bad files.

use aws_sdk_guardduty::Client;

use crate::common::*;

const TWO: &str = "eu-west-1,us-east-1";

fn example() -> String {
    manifest_dir().join("examples/guardduty.toml").display().to_string()
}

/// What an independent client sees of a region's settings.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    /// Filter names in rank order, with action and the criteria's fields.
    rules: Vec<(String, String, Vec<String>)>,
    trusted: Vec<(String, String, String, String)>,
    threats: Vec<(String, String, String, String)>,
    export: Option<(String, String, String)>,
}

fn seen(gd: &Client, detector: &str) -> Seen {
    block_on(async {
        let names =
            gd.list_filters().detector_id(detector).send().await.unwrap().filter_names.unwrap_or_default();
        let mut rules = Vec::new();
        for n in names {
            let f = gd.get_filter().detector_id(detector).filter_name(&n).send().await.unwrap();
            let mut fields: Vec<String> =
                f.finding_criteria().unwrap().criterion().unwrap().keys().cloned().collect();
            fields.sort();
            rules.push((f.rank.unwrap(), n, f.action.unwrap().as_str().to_string(), fields));
        }
        rules.sort();
        let rules = rules.into_iter().map(|(_, n, a, f)| (n, a, f)).collect();
        let mut trusted = Vec::new();
        for id in gd.list_ip_sets().detector_id(detector).send().await.unwrap().ip_set_ids.unwrap_or_default()
        {
            let s = gd.get_ip_set().detector_id(detector).ip_set_id(id).send().await.unwrap();
            trusted.push((
                s.name.unwrap(),
                s.format.unwrap().as_str().to_string(),
                s.location.unwrap(),
                s.status.unwrap().as_str().to_string(),
            ));
        }
        let mut threats = Vec::new();
        let ids =
            gd.list_threat_intel_sets().detector_id(detector).send().await.unwrap().threat_intel_set_ids;
        for id in ids.unwrap_or_default() {
            let s =
                gd.get_threat_intel_set().detector_id(detector).threat_intel_set_id(id).send().await.unwrap();
            threats.push((
                s.name.unwrap(),
                s.format.unwrap().as_str().to_string(),
                s.location.unwrap(),
                s.status.unwrap().as_str().to_string(),
            ));
        }
        threats.sort();
        let dests = gd.list_publishing_destinations().detector_id(detector).send().await.unwrap();
        let export = match dests.destinations().first() {
            None => None,
            Some(d) => {
                let d = gd
                    .describe_publishing_destination()
                    .detector_id(detector)
                    .destination_id(d.destination_id().unwrap())
                    .send()
                    .await
                    .unwrap();
                let p = d.destination_properties().unwrap();
                Some((
                    p.destination_arn().unwrap().to_string(),
                    p.kms_key_arn().unwrap().to_string(),
                    d.status().unwrap().as_str().to_string(),
                ))
            }
        };
        Seen { rules, trusted, threats, export }
    })
}

fn seen_in(account: &Account, region: &str) -> Seen {
    let detector = account.detector_ids(region).pop().expect("a detector");
    seen(&guardduty(&moto().url, account, region), &detector)
}

const EXPORT: &str = "arn:aws:s3:::example-guardduty-findings/guardduty";
const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn the_example() -> Seen {
    let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Seen {
        rules: vec![
            (
                "ignore-scanner".into(),
                "ARCHIVE".into(),
                fields(&["resource.instanceDetails.tags.value", "type"]),
            ),
            ("low-noise".into(), "ARCHIVE".into(), fields(&["accountId", "severity"])),
            ("exfiltration".into(), "NOOP".into(), fields(&["type"])),
        ],
        trusted: vec![(
            "office-egress".into(),
            "TXT".into(),
            "https://s3.amazonaws.com/example-security-lists/trusted.txt".into(),
            "ACTIVE".into(),
        )],
        threats: vec![(
            "intel-feed".into(),
            "TXT".into(),
            "https://s3.amazonaws.com/example-security-lists/threats.txt".into(),
            "ACTIVE".into(),
        )],
        export: Some((EXPORT.into(), KEY.into(), "PUBLISHING".into())),
    }
}

#[test]
fn the_example_is_converged_everywhere_in_two_accounts_and_a_second_run_writes_nothing() {
    let w = World::new();
    let other = Account::fresh();
    let list = format!("{},{}", w.account.id, other.id);
    let (code, doc) = w.json(&["apply", &example(), "--accounts", &list]);
    assert_eq!(code, 0, "{doc:#}");
    let regions = w.target_regions();
    assert_eq!(doc["summary"]["targets"], 2 * regions.len());
    for account in [&w.account, &other] {
        for region in &regions {
            assert_eq!(seen_in(account, region), the_example(), "{} {region}", account.id);
        }
    }
    let eu = by_region(&doc)["eu-west-1"].clone();
    let changes: Vec<&str> = eu["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(
        changes.contains(&"+rule ignore-scanner") && changes.contains(&"+trusted-ips office-egress"),
        "{eu:#}"
    );
    assert!(changes.iter().any(|c| c.starts_with("+export ")), "{eu:#}");

    // Again, through a front that counts the calls: nothing to change, no write made.
    let front = front(&[]);
    let at = w.through(&front);
    let (code, doc) = at.json(&["apply", &example(), "--accounts", &list]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["outcomes"]["unchanged"], 2 * regions.len(), "{:#}", doc["summary"]);
    assert_eq!(guardduty_writes(&front), Vec::<String>::new());
}

/// A copy of the example with `edit` applied to its text.
fn edited(dir: &tempfile::TempDir, edit: impl Fn(String) -> String) -> String {
    let path = dir.path().join("guardduty.toml");
    std::fs::write(&path, edit(std::fs::read_to_string(example()).unwrap())).unwrap();
    path.display().to_string()
}

#[test]
fn an_edit_changes_exactly_what_was_edited() {
    let w = World::new();
    w.gdctl(&["apply", &example(), "--regions", TWO]).assert().code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = edited(&dir, |t| {
        t.replace("severity = { lt = 4 }", "severity = { lt = 5 }")
            .replace("example-security-lists/threats.txt", "example-security-lists/threats-v2.txt")
            .replace("key/1234abcd-12ab-34cd-56ef-1234567890ab", "key/99999999-12ab-34cd-56ef-1234567890ab")
    });
    let front = front(&[]);
    let at = w.through(&front);
    let (code, doc) = at.json(&["apply", &file, "--regions", TWO]);
    assert_eq!(code, 0, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(eu["outcome"], "updated");
    let changes: Vec<&str> = eu["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.contains(&"~rule low-noise: criteria severity"), "{changes:?}");
    assert!(changes.iter().any(|c| c.starts_with("~threat-list intel-feed: location ")), "{changes:?}");
    assert!(changes.iter().any(|c| c.starts_with("~export: kms key ")), "{changes:?}");
    // Three writes per region, and only those.
    let writes = guardduty_writes(&front);
    assert_eq!(writes.len(), 6, "{writes:?}");
    let eu = seen_in(&w.account, "eu-west-1");
    assert!(eu.threats[0].2.ends_with("threats-v2.txt"));
    assert!(eu.export.unwrap().1.contains("key/99999999"));
    assert_eq!(eu.rules, the_example().rules, "same rules, same ranks");
}

#[test]
fn check_is_a_gate_and_a_dry_run_changes_nothing() {
    let w = World::new();
    let (code, doc) = w.json(&["apply", &example(), "--check", "--regions", TWO]);
    assert_eq!(code, 3, "{doc:#}");
    let out = by_region(&doc)["eu-west-1"]["out_of_line"].clone();
    assert!(out.as_array().unwrap().iter().any(|o| o == "+rule ignore-scanner"), "{out:#}");
    let dry = w.gdctl(&["apply", &example(), "--dry-run", "--regions", TWO]).output().unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", stdout_of(&dry));
    assert!(stdout_of(&dry).contains("would create"), "{}", stdout_of(&dry));
    assert!(w.account.detector_ids("eu-west-1").is_empty(), "a dry run makes no detector");

    w.gdctl(&["apply", &example(), "--regions", TWO]).assert().code(0);
    let (code, doc) = w.json(&["apply", &example(), "--check", "--regions", TWO]);
    assert_eq!(code, 0, "{doc:#}");
    // An export that does not publish is out of line, with the API's status.
    let body = serde_json::json!({"accountId": w.account.id, "region": "us-east-1",
        "status": "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY", "failureStartedHoursAgo": 2});
    hook("/__gdctl/destination-status", "us-east-1", &body.to_string());
    let (code, doc) = w.json(&["apply", &example(), "--check", "--regions", TWO]);
    assert_eq!(code, 3, "{doc:#}");
    let us = &by_region(&doc)["us-east-1"];
    assert!(
        us["out_of_line"][0]
            .as_str()
            .unwrap()
            .starts_with("export UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY"),
        "{us:#}"
    );
    assert_eq!(by_region(&doc)["eu-west-1"]["in_line"], true);
}

#[test]
fn unnamed_rules_stay_after_the_files_unless_pruned() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-west-1"]).assert().code(0);
    let detector = w.account.detector_ids("eu-west-1").pop().unwrap();
    let gd = w.gd("eu-west-1");
    block_on(async {
        use aws_sdk_guardduty::types::{Condition, FilterAction, FindingCriteria};
        for name in ["handmade-a", "handmade-b"] {
            let c = FindingCriteria::builder()
                .criterion("type", Condition::builder().equals("X:Y/Z").build())
                .build();
            gd.create_filter()
                .detector_id(&detector)
                .name(name)
                .action(FilterAction::Noop)
                .finding_criteria(c)
                .send()
                .await
                .unwrap();
        }
    });
    let (code, doc) = w.json(&["apply", &example(), "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        by_region(&doc)["eu-west-1"]["note"]
            .as_str()
            .unwrap()
            .contains("unmanaged: rule handmade-a, rule handmade-b"),
        "{doc:#}"
    );
    let names: Vec<String> = seen_in(&w.account, "eu-west-1").rules.into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["ignore-scanner", "low-noise", "exfiltration", "handmade-a", "handmade-b"]);

    let dir = tempfile::tempdir().unwrap();
    let file = edited(&dir, |t| format!("prune_rules = true\n{t}"));
    let (code, doc) = w.json(&["apply", &file, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let names: Vec<String> = seen_in(&w.account, "eu-west-1").rules.into_iter().map(|r| r.0).collect();
    assert_eq!(names, ["ignore-scanner", "low-noise", "exfiltration"]);
}

#[test]
fn a_format_change_replaces_the_list_and_reload_activates_every_list_again() {
    let w = World::new();
    w.gdctl(&["apply", &example(), "--regions", "eu-west-1"]).assert().code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = edited(&dir, |t| {
        t.replacen(
            "format = \"TXT\"\nlocation = \"https://s3.amazonaws.com/example-security-lists/threats.txt\"",
            "format = \"STIX\"\nlocation = \"https://s3.amazonaws.com/example-security-lists/threats.txt\"",
            1,
        )
    });
    let (code, doc) = w.json(&["apply", &file, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let changes = by_region(&doc)["eu-west-1"]["changes"].to_string();
    assert!(changes.contains("format TXT -> STIX (deleted and made again)"), "{changes}");
    assert_eq!(seen_in(&w.account, "eu-west-1").threats[0].1, "STIX");

    let front = front(&[]);
    let (code, doc) = w.through(&front).json(&["apply", &file, "--reload-lists", "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let writes = guardduty_writes(&front);
    assert_eq!(writes.len(), 2, "the trusted list and the threat list: {writes:?}");
    assert!(
        writes.iter().any(|w| w.contains("/ipset/")) && writes.iter().any(|w| w.contains("/threatintelset/")),
        "{writes:?}"
    );
}

#[test]
fn a_region_refusing_the_filters_fails_alone_naming_the_permission() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", TWO]).assert().code(0);
    let id = w.account.detector_ids("eu-west-1").pop().unwrap();
    let front = front_with(&["--fault-on", &format!("GET /detector/{id}/filter=denied")]);
    let (code, doc) = w.through(&front).json(&["apply", &example(), "--regions", TWO]);
    assert_eq!(code, 1, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(eu["outcome"], "failed");
    assert!(eu["error"]["hint"].as_str().unwrap().contains("guardduty:ListFilters"), "{eu:#}");
    assert_eq!(seen_in(&w.account, "us-east-1"), the_example(), "the other region is done");
}

#[test]
fn bad_files_are_refused_before_any_call_naming_the_line() {
    let w = World::via("http://127.0.0.1:9");
    let dir = tempfile::tempdir().unwrap();
    for (text, says) in [
        ("[detector]\nfrequncy = \"one-hour\"\n", ":2:1: unknown field `frequncy`"),
        (
            "[[suppression_rule]]\nname = \"a\"\ncriteria = { type = [\"x\"] }\n",
            ":2:8: `a`: a rule's name is 3 to 64",
        ),
        (
            "[[suppression_rule]]\nname = \"abc\"\ncriteria = { tpye = [\"x\"] }\n",
            ":3:14: `tpye` is not a field",
        ),
        (
            "[trusted_ips]\nname = \"x\"\nformat = \"CSV\"\nlocation = \"s3://b/k\"\n",
            ":3:10: `CSV` is not a list format",
        ),
        ("[export]\ndestination_arn = \"arn:aws:s3:::b\"\nkms_key_arn = \"k\"\n", "is not an S3 bucket ARN"),
        ("this is not toml\n", ":1:"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = w.gdctl(&["apply", path.to_str().unwrap()]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(err.contains(&format!("{}{says}", path.display())) || err.contains(says), "{text}: {err}");
    }
    let out = w.gdctl(&["apply", "/nonexistent/guardduty.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("could not read /nonexistent/guardduty.toml"), "{}", stderr_of(&out));
}

#[test]
fn a_description_the_file_drops_is_cleared_once_and_a_file_can_come_from_stdin() {
    let w = World::new();
    w.gdctl(&["apply", &example(), "--regions", "eu-west-1"]).assert().code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = edited(&dir, |t| {
        t.replace("description = \"Our vulnerability scanner probes its own instances\"\n", "")
    });
    let (code, doc) = w.json(&["apply", &file, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        by_region(&doc)["eu-west-1"]["changes"],
        serde_json::json!(["~rule ignore-scanner: description"])
    );
    let front = front(&[]);
    let text = std::fs::read_to_string(&file).unwrap();
    let (code, doc) = json_of({
        let mut cmd = w.through(&front).gdctl(&["apply", "-", "--regions", "eu-west-1"]);
        cmd.write_stdin(text);
        cmd
    });
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(guardduty_writes(&front), Vec::<String>::new(), "cleared once, then nothing to write");
}

#[test]
fn over_a_quota_the_region_fails_before_any_rule_or_list_is_written() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-west-1"]).assert().code(0);
    let detector = w.account.detector_ids("eu-west-1").pop().unwrap();
    let gd = w.gd("eu-west-1");
    block_on(async {
        use aws_sdk_guardduty::types::{Condition, FindingCriteria, ThreatIntelSetFormat};
        for i in 0..98 {
            let c = FindingCriteria::builder()
                .criterion("type", Condition::builder().equals("X:Y/Z").build())
                .build();
            gd.create_filter()
                .detector_id(&detector)
                .name(format!("handmade-{i}"))
                .finding_criteria(c)
                .send()
                .await
                .unwrap();
        }
        for i in 0..6 {
            gd.create_threat_intel_set()
                .detector_id(&detector)
                .name(format!("feed-{i}"))
                .format(ThreatIntelSetFormat::Txt)
                .location(format!("https://s3.amazonaws.com/example-security-lists/feed-{i}.txt"))
                .activate(true)
                .send()
                .await
                .unwrap();
        }
    });
    let front = front(&[]);
    let file = example();
    for args in [&["--dry-run"][..], &[]] {
        let mut all = vec!["apply", &file, "--regions", "eu-west-1"];
        all.extend(args);
        let (code, doc) = w.through(&front).json(&all);
        assert_eq!(code, 1, "{doc:#}");
        let err = by_region(&doc)["eu-west-1"]["error"]["message"].as_str().unwrap().to_string();
        assert!(err.contains("over GuardDuty's 100") || err.contains("over GuardDuty's 6"), "{err}");
    }
    let writes = guardduty_writes(&front);
    assert!(!writes.iter().any(|w| w.contains("/filter") || w.contains("/threatintelset")), "{writes:?}");
}

#[test]
fn a_suspended_detector_is_said_and_fails_the_check_though_the_file_has_no_detector_section() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-west-1"]).assert().code(0);
    w.gdctl(&["disable", "--suspend", "--regions", "eu-west-1"]).assert().code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = edited(&dir, |t| t[t.find("# Suppression rules").unwrap()..].to_string());
    let (code, doc) = w.json(&["apply", &file, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(eu["status"], "SUSPENDED", "{eu:#}");
    assert!(eu["note"].as_str().unwrap().contains("suspended"), "{eu:#}");
    assert!(!w.detectors("eu-west-1")[0].enabled, "the file did not ask to resume it");
    let (code, doc) = w.json(&["apply", &file, "--check", "--regions", "eu-west-1"]);
    assert_eq!(code, 3, "{doc:#}");
}
