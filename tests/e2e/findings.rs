//! `gdctl findings`: findings seeded through the emulator's test hook, counted
//! per band and region, listed, gated on, and sample findings made and
//! archived (checked through an independent client).

use aws_sdk_guardduty::types::{Condition, FindingCriteria};

use crate::common::*;

const THREE: &str = "eu-west-1,us-east-1,us-west-2";

fn counts(doc: &serde_json::Value, region: &str) -> serde_json::Value {
    by_region(doc)[region]["findings"]["counts"].clone()
}

fn bands(critical: u64, high: u64, medium: u64, low: u64) -> serde_json::Value {
    serde_json::json!({"critical": critical, "high": high, "medium": medium, "low": low})
}

fn aged(kind: &str, severity: f64, first_seen_hours_ago: f64) -> serde_json::Value {
    serde_json::json!({"type": kind, "severity": severity, "firstSeenHoursAgo": first_seen_hours_ago})
}

const PROBE: &str = "Recon:EC2/PortProbeUnprotectedPort";
const EXFIL: &str = "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS";
const MINER: &str = "CryptoCurrency:EC2/BitcoinTool.B!DNS";

/// Detectors in THREE; in eu-west-1 a finding of every band, plus an archived
/// and a sample high; in us-east-1 a medium; us-west-2 clean.
fn seeded() -> World {
    let w = World::new();
    w.gdctl(&["enable", "--regions", THREE]).assert().code(0);
    let id = w.account.id.clone();
    seed_findings(
        &id,
        "eu-west-1",
        &[
            finding(MINER, 9.5),
            finding(EXFIL, 8.0),
            finding(PROBE, 7.2),
            finding(PROBE, 5.0),
            finding(PROBE, 2.0),
            serde_json::json!({"type": EXFIL, "severity": 8.0, "archived": true}),
            serde_json::json!({"type": EXFIL, "severity": 8.0, "sample": true}),
            serde_json::json!({"type": PROBE, "severity": 5.0, "updatedHoursAgo": 72.0, "firstSeenHoursAgo": 80.0}),
        ],
    );
    seed_findings(&id, "us-east-1", &[finding(PROBE, 5.0)]);
    w
}

#[test]
fn active_findings_are_counted_per_band_and_a_region_without_a_detector_is_not_watched() {
    let w = seeded();
    let regions = format!("{THREE},eu-west-2");
    let (code, doc) = w.json(&["findings", "--regions", &regions]);
    assert_eq!(code, 0, "no gate, no failure: {doc:#}");
    assert_eq!(counts(&doc, "eu-west-1"), bands(1, 2, 2, 1), "archived and sample left out: {doc:#}");
    assert_eq!(counts(&doc, "us-east-1"), bands(0, 0, 1, 0));
    assert_eq!(counts(&doc, "us-west-2"), bands(0, 0, 0, 0));
    let unwatched = &by_region(&doc)["eu-west-2"];
    assert_eq!(unwatched["findings"]["watched"], false, "{unwatched:#}");
    assert_eq!(
        unwatched["findings"]["counts"],
        serde_json::Value::Null,
        "not counted, not zero: {unwatched:#}"
    );
    assert_eq!(by_region(&doc)["us-west-2"]["findings"]["watched"], true);
    let s = &doc["summary"]["findings"];
    assert_eq!(s["counts"], bands(1, 2, 3, 1));
    assert_eq!(
        (&s["regions_with_findings"], &s["regions_without"], &s["regions_not_watched"]),
        (&2.into(), &1.into(), &1.into())
    );

    // Text: regions with findings most severe first; the clean one only counted.
    let text = stdout_of(&w.gdctl(&["findings", "--regions", &regions]).output().unwrap());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("eu-west-1") && lines[0].contains("1 critical  2 high  2 medium  1 low"),
        "{text}"
    );
    assert!(lines[1].starts_with("us-east-1") && lines[1].contains("1 medium"), "{text}");
    assert!(lines[2].starts_with("eu-west-2") && lines[2].contains("not watched"), "{text}");
    assert!(!text.contains("us-west-2"), "{text}");
    assert!(
        text.contains("2 with findings (1 critical, 2 high, 3 medium, 1 low), 1 with none, 1 not watched"),
        "{text}"
    );
    let verbose = stdout_of(&w.gdctl(&["findings", "--regions", &regions, "-v"]).output().unwrap());
    assert!(verbose.lines().any(|l| l.starts_with("us-west-2") && l.contains("none")), "{verbose}");
}

#[test]
fn severity_since_type_archived_and_samples_narrow_or_widen_what_is_counted() {
    let w = seeded();
    let eu = |args: &[&str]| {
        let mut all = vec!["findings", "--regions", "eu-west-1"];
        all.extend(args);
        let (code, doc) = w.json(&all);
        assert_eq!(code, 0, "{doc:#}");
        counts(&doc, "eu-west-1")
    };
    assert_eq!(eu(&["--severity", "high"]), bands(1, 2, 0, 0));
    assert_eq!(eu(&["--severity", "critical"]), bands(1, 0, 0, 0));
    assert_eq!(eu(&["--include-archived"]), bands(1, 3, 2, 1));
    assert_eq!(eu(&["--include-samples"]), bands(1, 3, 2, 1));
    assert_eq!(eu(&["--include-archived", "--include-samples"]), bands(1, 4, 2, 1));
    assert_eq!(eu(&["--since", "24h"]), bands(1, 2, 1, 1), "the medium updated 3 days ago is left out");
    assert_eq!(eu(&["--type", PROBE]), bands(0, 1, 2, 1));
    assert_eq!(eu(&["--type", PROBE, "--type", MINER, "--severity", "high"]), bands(1, 1, 0, 0));
}

#[test]
fn the_gate_fails_on_a_high_passes_on_mediums_and_fails_where_nothing_watches() {
    let w = seeded();
    let (code, doc) = w.json(&["findings", "--check", "--regions", THREE]);
    assert_eq!(code, 3, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(eu["in_line"], false);
    assert_eq!(eu["out_of_line"][0], "3 at high or above", "{eu:#}");
    assert_eq!(by_region(&doc)["us-east-1"]["in_line"], true);
    assert_eq!(doc["summary"]["out_of_line"], 1);

    // Only mediums: the default gate (high) passes, --fail-on medium does not.
    let passes = w.gdctl(&["findings", "--check", "--regions", "us-east-1,us-west-2"]).output().unwrap();
    assert_eq!(passes.status.code(), Some(0), "{}", stdout_of(&passes));
    let medium =
        w.gdctl(&["findings", "--check", "--fail-on", "medium", "--regions", "us-east-1"]).output().unwrap();
    assert_eq!(medium.status.code(), Some(3), "{}", stdout_of(&medium));
    assert!(stdout_of(&medium).contains("out of line: 1 at medium or above"), "{}", stdout_of(&medium));

    // A region without a detector fails the gate: it did not look.
    let out = w.gdctl(&["findings", "--check", "--regions", "us-west-2,eu-west-2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    assert!(
        text.lines().any(|l| l.starts_with("eu-west-2") && l.contains("not watched (no detector)")),
        "{text}"
    );

    // A suspended detector is not watched either, whatever it found before.
    w.gdctl(&["disable", "--suspend", "--regions", "us-west-2"]).assert().code(0);
    let (code, doc) = w.json(&["findings", "--check", "--regions", "us-west-2"]);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(by_region(&doc)["us-west-2"]["out_of_line"][0], "not watched (suspended)");
}

#[test]
fn the_aging_gate_fails_only_on_findings_older_than_their_band_allows() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-west-1,us-east-1"]).assert().code(0);
    let id = w.account.id.clone();
    seed_findings(&id, "eu-west-1", &[aged(EXFIL, 8.0, 2.0), aged(PROBE, 5.0, 24.0 * 10.0)]);
    seed_findings(&id, "us-east-1", &[aged(EXFIL, 8.0, 30.0), aged(PROBE, 2.0, 24.0 * 40.0)]);
    let gate = ["findings", "--max-age", "high=1d,medium=7d", "--regions", "eu-west-1,us-east-1"];
    let (code, doc) = w.json(&gate);
    assert_eq!(code, 3, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(eu["out_of_line"], serde_json::json!(["1 medium first seen over 7d ago"]), "{eu:#}");
    assert_eq!(eu["findings"]["aged"], bands(0, 0, 1, 0));
    let us = &by_region(&doc)["us-east-1"];
    assert_eq!(
        us["out_of_line"],
        serde_json::json!(["1 high first seen over 1d ago"]),
        "the old low is not gated: {us:#}"
    );
    // With --check too, either gate fails the region, and both say why.
    let both = [
        "findings",
        "--check",
        "--fail-on",
        "critical",
        "--max-age",
        "medium=7d",
        "--regions",
        "eu-west-1,us-east-1",
    ];
    let (code, doc) = w.json(&both);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(
        by_region(&doc)["eu-west-1"]["out_of_line"],
        serde_json::json!(["1 medium first seen over 7d ago"])
    );
    assert_eq!(by_region(&doc)["us-east-1"]["in_line"], true, "no critical, no medium too old: {doc:#}");
    // Within the ages allowed: passes.
    let (code, doc) =
        w.json(&["findings", "--max-age", "high=2d,medium=14d", "--regions", "eu-west-1,us-east-1"]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn the_list_is_most_severe_first_across_regions_and_bounded_by_limit() {
    let w = seeded();
    let (code, doc) = w.json(&["findings", "--list", "--regions", THREE]);
    assert_eq!(code, 0, "{doc:#}");
    let listed = doc["summary"]["findings"]["listed"].as_array().unwrap().clone();
    let severities: Vec<f64> = listed.iter().map(|f| f["severity"].as_f64().unwrap()).collect();
    assert_eq!(severities, [9.5, 8.0, 7.2, 5.0, 5.0, 5.0, 2.0], "{doc:#}");
    // Of equal severity, the most recently seen first: the medium last seen 3 days ago is last.
    let mediums: Vec<&str> = listed[3..6].iter().map(|f| f["last_seen"].as_str().unwrap()).collect();
    assert!(mediums[2] < mediums[0] && mediums[2] < mediums[1], "{mediums:?}");
    let top = &listed[0];
    assert_eq!(top["band"], "critical");
    assert_eq!(top["type"], MINER);
    assert_eq!(top["account"], w.account.id.as_str());
    assert!(!top["id"].as_str().unwrap().is_empty() && !top["title"].as_str().unwrap().is_empty(), "{top:#}");
    assert!(
        !top["resource"].as_str().unwrap().is_empty() && !top["resource_type"].as_str().unwrap().is_empty(),
        "{top:#}"
    );
    assert_eq!(doc["summary"]["findings"]["more"], 0);
    // The id is GuardDuty's: an independent client gets the same finding.
    let got = block_on(
        w.gd("eu-west-1")
            .get_findings()
            .detector_id(&w.detectors("eu-west-1")[0].id)
            .finding_ids(top["id"].as_str().unwrap())
            .send(),
    )
    .unwrap();
    assert_eq!(got.findings()[0].severity(), Some(9.5));

    let (code, doc) = w.json(&["findings", "--list", "--limit", "3", "--regions", THREE]);
    assert_eq!(code, 0, "{doc:#}");
    let s = &doc["summary"]["findings"];
    assert_eq!(s["listed"].as_array().unwrap().len(), 3);
    assert_eq!(s["more"], 4, "{s:#}");
    let text =
        stdout_of(&w.gdctl(&["findings", "--list", "--limit", "3", "--regions", THREE]).output().unwrap());
    assert!(text.lines().any(|l| l.starts_with("critical  9.5  eu-west-1") && l.contains(MINER)), "{text}");
    assert!(text.contains("3 listed (4 more beyond --limit)"), "{text}");

    // A finding about a bucket names the bucket, not the key that touched it.
    let bucket = serde_json::json!({"type": "Policy:S3/BucketPublicAccessGranted", "severity": 9.9, "resource": {
        "resourceType": "S3Bucket", "s3BucketDetails": [{"name": "logs", "arn": "arn:aws:s3:::logs", "type": "Destination"}],
        "accessKeyDetails": {"accessKeyId": "AKIAEXAMPLE", "userName": "alice", "principalId": "AIDA", "userType": "IAMUser"}}});
    seed_findings(&w.account.id, "us-west-2", &[bucket]);
    let (_, doc) = w.json(&["findings", "--list", "--limit", "1", "--regions", THREE]);
    let first = &doc["summary"]["findings"]["listed"][0];
    assert_eq!(
        (&first["resource_type"], &first["resource"]),
        (&"S3Bucket".into(), &"logs".into()),
        "{first:#}"
    );
}

#[test]
fn many_accounts_report_each_ones_findings_and_a_total() {
    let w = seeded();
    let other = Account::fresh();
    let list = format!("{},{}", w.account.id, other.id);
    w.gdctl(&["enable", "--accounts", &list, "--regions", "eu-west-1"]).assert().code(0);
    seed_findings(&other.id, "eu-west-1", &[finding(EXFIL, 8.0)]);
    let (code, doc) = w.json(&["findings", "--accounts", &list, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let accounts = &doc["summary"]["findings"]["accounts"];
    assert_eq!(accounts[&w.account.id], bands(1, 2, 2, 1));
    assert_eq!(accounts[&other.id], bands(0, 1, 0, 0));
    let text =
        stdout_of(&w.gdctl(&["findings", "--accounts", &list, "--regions", "eu-west-1"]).output().unwrap());
    assert!(
        text.contains(&format!("account {}: 1 target region", other.id)) && text.contains("found 1 high"),
        "{text}"
    );
}

#[test]
fn an_administrator_sees_its_members_findings_per_account() {
    let w = World::new();
    let org = organizations(&w.account);
    let (admin, member) = block_on(async {
        org.create_organization().send().await.unwrap();
        let mut ids = Vec::new();
        for i in 0..2 {
            let out = org
                .create_account()
                .account_name(format!("findings{i}"))
                .email(format!("findings{i}@example.com"))
                .send()
                .await
                .unwrap();
            ids.push(out.create_account_status.unwrap().account_id.unwrap());
        }
        (ids[0].clone(), ids[1].clone())
    });
    w.gdctl(&["org", "enable", "--admin-account", &admin, "--regions", "eu-west-1"]).assert().code(0);
    let admin = World {
        account: Account::of(&admin),
        endpoint: w.endpoint.clone(),
        home: tempfile::tempdir().unwrap(),
    };
    seed_findings(&member, "eu-west-1", &[finding(EXFIL, 8.0), finding(PROBE, 5.0)]);
    seed_findings(&admin.account.id, "eu-west-1", &[finding(MINER, 9.5)]);
    let (code, doc) = admin.json(&["findings", "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"]["findings"];
    assert_eq!(eu["counts"], bands(1, 1, 1, 0), "the region's total covers the members: {eu:#}");
    assert_eq!(eu["accounts"][&member], bands(0, 1, 1, 0));
    assert_eq!(eu["accounts"][&admin.account.id], bands(1, 0, 0, 0));
    let text = stdout_of(&admin.gdctl(&["findings", "--regions", "eu-west-1"]).output().unwrap());
    assert!(text.contains(&format!("account {member}: 1 high, 1 medium")), "{text}");
    // The listing says whose each finding is.
    let text = stdout_of(&admin.gdctl(&["findings", "--list", "--regions", "eu-west-1"]).output().unwrap());
    assert!(text.lines().any(|l| l.contains(&member) && l.contains(EXFIL)), "{text}");

    // Only the administrator may archive a member's findings: run alone, it archives its members' samples too.
    seed_findings(
        &member,
        "eu-west-1",
        &[serde_json::json!({"type": PROBE, "severity": 2.0, "sample": true})],
    );
    let (code, doc) = admin.json(&["findings", "archive", "--samples", "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_region(&doc)["eu-west-1"]["findings"]["samples"], 1, "{doc:#}");
    let (_, doc) = admin.json(&["findings", "--include-samples", "--regions", "eu-west-1"]);
    assert_eq!(
        by_region(&doc)["eu-west-1"]["findings"]["accounts"][&member],
        bands(0, 1, 1, 0),
        "real ones stay: {doc:#}"
    );
}

fn sample_ids(w: &World, region: &str, archived: bool) -> Vec<String> {
    let gd = w.gd(region);
    let detector = w.detectors(region)[0].id.clone();
    let criteria = FindingCriteria::builder()
        .criterion("service.additionalInfo.sample", Condition::builder().equals("true").build())
        .criterion("service.archived", Condition::builder().equals(archived.to_string()).build())
        .build();
    block_on(gd.list_findings().detector_id(detector).finding_criteria(criteria).send())
        .unwrap()
        .finding_ids
        .unwrap_or_default()
}

#[test]
fn samples_are_made_and_archived_and_real_findings_are_left_untouched() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-west-1,us-east-1"]).assert().code(0);
    let real = seed_findings(&w.account.id, "eu-west-1", &[finding(EXFIL, 8.0)]);

    w.gdctl(&["findings", "sample", "--types", PROBE, "--dry-run", "--regions", "eu-west-1,us-east-1"])
        .assert()
        .code(0);
    assert!(sample_ids(&w, "eu-west-1", false).is_empty(), "a dry run makes none");

    let (code, doc) = w.json(&[
        "findings",
        "sample",
        "--types",
        &format!("{PROBE},{EXFIL}"),
        "--regions",
        "eu-west-1,us-east-1,eu-west-2",
    ]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_region(&doc)["eu-west-1"]["outcome"], "created");
    assert!(by_region(&doc)["eu-west-2"]["note"].as_str().unwrap().contains("no detector"), "{doc:#}");
    assert_eq!(sample_ids(&w, "eu-west-1", false).len(), 2);
    assert_eq!(sample_ids(&w, "us-east-1", false).len(), 2);
    // Samples are not counted unless asked.
    let (_, doc) = w.json(&["findings", "--regions", "eu-west-1"]);
    assert_eq!(counts(&doc, "eu-west-1"), bands(0, 1, 0, 0));

    let dry = w
        .gdctl(&["findings", "archive", "--samples", "--dry-run", "--regions", "eu-west-1"])
        .output()
        .unwrap();
    assert!(stdout_of(&dry).contains("would archive 2 sample findings"), "{}", stdout_of(&dry));
    assert_eq!(sample_ids(&w, "eu-west-1", false).len(), 2, "a dry run archives none");
    let (code, doc) = w.json(&["findings", "archive", "--samples", "--regions", "eu-west-1,us-east-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_region(&doc)["eu-west-1"]["findings"]["samples"], 2);
    assert!(sample_ids(&w, "eu-west-1", false).is_empty() && sample_ids(&w, "us-east-1", false).is_empty());
    assert_eq!(sample_ids(&w, "eu-west-1", true).len(), 2);
    // The real finding is still active.
    let (_, doc) = w.json(&["findings", "--list", "--regions", "eu-west-1"]);
    let listed = &doc["summary"]["findings"]["listed"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(listed[0]["id"], real[0].as_str());
    // Again: nothing left to archive.
    let again = w.gdctl(&["findings", "archive", "--samples", "--regions", "eu-west-1"]).output().unwrap();
    assert!(stdout_of(&again).contains("no sample findings"), "{}", stdout_of(&again));
}

#[test]
fn a_region_refusing_the_statistics_fails_alone_naming_the_permission() {
    let w = seeded();
    let id = w.detectors("eu-west-1")[0].id.clone();
    let front = front_with(&["--fault-on", &format!("POST /detector/{id}/findings/statistics=denied")]);
    let at = w.through(&front);
    let (code, doc) = at.json(&["findings", "--regions", THREE]);
    assert_eq!(code, 1, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(eu["outcome"], "failed");
    assert!(eu["error"]["hint"].as_str().unwrap().contains("guardduty:GetFindingsStatistics"), "{eu:#}");
    assert_eq!(counts(&doc, "us-east-1"), bands(0, 0, 1, 0), "the others are read: {doc:#}");
}

#[test]
fn bad_flags_are_refused_before_any_call() {
    let w = World::via("http://127.0.0.1:9");
    for (args, says) in [
        (vec!["findings", "--severity", "severe"], "severe"),
        (vec!["findings", "--since", "0d"], "between a minute"),
        (vec!["findings", "--since", "7"], "not a duration"),
        (vec!["findings", "--type", "Recon:EC2/*"], "not a GuardDuty finding type"),
        (vec!["findings", "--max-age", "high=soon"], "not a duration"),
        (vec!["findings", "--max-age", "urgent=1d"], "not a severity band"),
        (vec!["findings", "--list", "--limit", "0"], "0"),
        (vec!["findings", "--limit", "5"], "--list"),
        (vec!["findings", "--fail-on", "high"], "--check"),
        (vec!["findings", "--check", "--fail-on", "medium", "--severity", "high"], "below --severity high"),
        (vec!["findings", "--max-age", "low=1d", "--severity", "high"], "below --severity high"),
        (vec!["findings", "--max-age", "high=1d", "--since", "7d"], "--since leaves out"),
        (vec!["findings", "--type", "recon:EC2/Portscan"], "did you mean `Recon:EC2/Portscan`"),
        (vec!["findings", "archive"], "--samples"),
        (vec!["findings", "sample", "--types", "nope"], "not a GuardDuty finding type"),
    ] {
        let out = w.gdctl(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains(says), "{args:?}: {}", stderr_of(&out));
    }
    let many: Vec<String> =
        (0..51).flat_map(|i| ["--type".to_string(), format!("Recon:EC2/Probe{i}")]).collect();
    let mut args = vec!["findings"];
    args.extend(many.iter().map(String::as_str));
    let out = w.gdctl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("at most 50 types"), "{}", stderr_of(&out));
}
