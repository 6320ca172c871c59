//! `gdctl usage`: seeded usage (the emulator's test hook) read back per region,
//! account and plan, to the cent and exactly, with the budget gate.

use crate::common::*;

const THREE: &str = "eu-west-1,us-east-1,us-west-2";

fn usage(doc: &serde_json::Value, region: &str) -> serde_json::Value {
    by_region(doc)[region]["usage"].clone()
}

/// A world with detectors in THREE and usage in two of them; eu-west-2 has no detector.
fn seeded() -> World {
    let w = World::new();
    w.gdctl(&["enable", "--regions", THREE]).assert().code(0);
    let id = w.account.id.clone();
    seed_usage(
        &id,
        "eu-west-1",
        &[
            ("S3_DATA_EVENTS", "8.004", Some("arn:aws:s3:::logs")),
            ("FLOW_LOGS", "4.3456", None),
            ("FLOW_LOGS", "0.0004", None),
        ],
        &[("EBS_MALWARE_PROTECTION", 12)],
    );
    seed_usage(&id, "us-east-1", &[("EC2_RUNTIME_MONITORING", "20.1", Some("i-0abc"))], &[]);
    w
}

/// A front that refuses GetUsageStatistics for eu-west-1's detector alone,
/// and the world through it.
fn refusing_usage_in_eu_west_1(w: &World) -> (Server, World) {
    let id = w.detectors("eu-west-1")[0].id.clone();
    let front = front_with(&["--fault-on", &format!("POST /detector/{id}/usage/statistics=denied")]);
    let at = w.through(&front);
    (front, at)
}

#[test]
fn cost_per_region_and_plan_exactly_and_a_region_without_a_detector_is_not_watched() {
    let w = seeded();
    let regions = format!("{THREE},eu-west-2");
    let (code, doc) = w.json(&["usage", "--regions", &regions]);
    assert_eq!(code, 0, "{doc:#}");
    let eu = usage(&doc, "eu-west-1");
    assert_eq!(eu["by"], "plan");
    assert_eq!(eu["total"], "12.35", "8.004 + 4.3456 + 0.0004, exactly: {eu:#}");
    assert_eq!(eu["items"][0], serde_json::json!({"name": "s3-data-events", "usd": "8.004"}));
    assert_eq!(eu["items"][1], serde_json::json!({"name": "flow-logs", "usd": "4.346"}));
    assert_eq!(eu["free_trial_days"]["ebs-malware-protection"], 12);
    assert_eq!(usage(&doc, "us-east-1")["items"][0]["name"], "runtime-monitoring:ec2");
    assert_eq!(usage(&doc, "us-west-2")["total"], "0");
    let unwatched = &by_region(&doc)["eu-west-2"];
    assert_eq!(
        (&unwatched["outcome"], &unwatched["usage"]),
        (&serde_json::json!("not-enabled"), &serde_json::Value::Null)
    );
    assert!(unwatched["note"].as_str().unwrap().contains("not watched"), "{unwatched:#}");
    assert_eq!(doc["summary"]["usage"]["total"], "32.45");
    assert_eq!(doc["summary"]["usage"]["accounts"][&w.account.id], "32.45");

    // Text: most expensive first, the region with no cost only counted (listed with -v).
    let text = stdout_of(&w.gdctl(&["usage", "--regions", &regions]).output().unwrap());
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("us-east-1") && lines[0].contains("$20.10"), "{text}");
    assert!(
        lines[1].starts_with("eu-west-1")
            && lines[1].contains("$12.35  s3-data-events $8.00, flow-logs $4.35"),
        "{text}"
    );
    assert!(lines[1].contains("free trial: ebs-malware-protection 12 days"), "{text}");
    assert!(!text.contains("us-west-2"), "{text}");
    assert!(text.contains("cost: $32.45 over GuardDuty's last 30 days"), "{text}");
    assert!(text.contains("1 with no cost"), "{text}");
    let verbose = stdout_of(&w.gdctl(&["usage", "--regions", &regions, "-v"]).output().unwrap());
    assert!(verbose.contains("us-west-2") && verbose.contains("$0.00"), "{verbose}");
}

#[test]
fn by_resource_keeps_the_whole_total_and_by_account_sums_each_account() {
    let w = seeded();
    let (code, doc) = w.json(&["usage", "--by", "resource", "--regions", THREE]);
    assert_eq!(code, 0, "{doc:#}");
    let eu = usage(&doc, "eu-west-1");
    assert_eq!(eu["items"].as_array().unwrap().len(), 1, "only flow logs had no resource: {eu:#}");
    assert_eq!(eu["items"][0]["name"], "arn:aws:s3:::logs");
    assert_eq!(eu["total"], "12.35", "the top resources are not the whole: {eu:#}");

    let other = Account::fresh();
    seed_usage(&other.id, "eu-west-1", &[("DNS_LOGS", "1.01", None)], &[]);
    let list = format!("{},{}", w.account.id, other.id);
    w.gdctl(&["enable", "--accounts", &list, "--regions", "eu-west-1"]).assert().code(0);
    let (code, doc) = w.json(&["usage", "--by", "account", "--accounts", &list, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let totals = &doc["summary"]["usage"];
    assert_eq!(totals["accounts"][&w.account.id], "12.35");
    assert_eq!(totals["accounts"][&other.id], "1.01");
    assert_eq!(totals["total"], "13.36");
    // Text with many accounts: the regions that cost something, and each account's cost.
    let text =
        stdout_of(&w.gdctl(&["usage", "--accounts", &list, "--regions", "eu-west-1"]).output().unwrap());
    assert!(text.contains(&format!("{}  eu-west-1", other.id)) && text.contains("$1.01"), "{text}");
    assert!(
        text.contains(&format!(
            "account {}: 1 target region (1 enabled), 0 failed, 0 skipped, cost $1.01",
            other.id
        )),
        "{text}"
    );
}

#[test]
fn a_suspended_detector_is_said_so_and_its_cost_still_counts() {
    let w = seeded();
    w.gdctl(&["disable", "--suspend", "--regions", "eu-west-1"]).assert().code(0);
    seed_usage(&w.account.id, "us-west-2", &[("DNS_LOGS", "0.0000001", None)], &[]);
    let (code, doc) = w.json(&["usage", "--regions", THREE]);
    assert_eq!(code, 0, "{doc:#}");
    let eu = &by_region(&doc)["eu-west-1"];
    assert_eq!(
        (&eu["outcome"], &eu["status"]),
        (&serde_json::json!("suspended"), &serde_json::json!("SUSPENDED")),
        "{eu:#}"
    );
    assert_eq!(eu["usage"]["total"], "12.35");
    assert_eq!(by_region(&doc)["us-east-1"]["status"], "ENABLED");
    // The emulator writes that amount as 1E-7: taken exactly.
    assert_eq!(usage(&doc, "us-west-2")["total"], "0.0000001", "{doc:#}");
}

#[test]
fn a_total_with_regions_left_out_says_it_is_incomplete() {
    let w = seeded();
    let (_front, at) = refusing_usage_in_eu_west_1(&w);
    let (code, doc) = at.json(&["usage", "--regions", THREE, "--check", "--max-usd", "100"]);
    assert_eq!(code, 1, "a gate that could not look everywhere does not pass: {doc:#}");
    assert_eq!(doc["summary"]["usage"]["complete"], false, "{doc:#}");
    let text = stdout_of(&at.gdctl(&["usage", "--regions", THREE]).output().unwrap());
    assert!(text.contains("cost: $20.10") && text.contains("incomplete"), "{text}");
}

#[test]
fn the_budget_gate_fails_above_it_over_the_run_or_per_region() {
    let w = seeded();
    let gate = |extra: &[&str]| {
        let args = [&["usage", "--regions", THREE, "--check"][..], extra].concat();
        w.json(&args)
    };
    let (code, doc) = gate(&["--max-usd", "32.45"]);
    assert_eq!(code, 0, "at the budget is within it: {doc:#}");
    assert_eq!(doc["summary"]["usage"]["over_budget"], false);
    let (code, doc) = gate(&["--max-usd", "32.44"]);
    assert_eq!(code, 3, "{doc:#}");
    assert_eq!(doc["summary"]["usage"]["over_budget"], true);
    assert_eq!(doc["summary"]["usage"]["complete"], true);
    let out = w.gdctl(&["usage", "--regions", THREE, "--check", "--max-usd", "32.449"]).output().unwrap();
    assert!(
        stdout_of(&out).contains("$32.45 is over --max-usd $32.449"),
        "exact, not rounded: {}",
        stdout_of(&out)
    );
    let (code, doc) = gate(&["--max-usd", "$15", "--per-region"]);
    assert_eq!(code, 3, "{doc:#}");
    let r = by_region(&doc);
    assert_eq!(r["us-east-1"]["in_line"], false);
    assert_eq!(r["eu-west-1"]["in_line"], true);
    assert!(r["us-east-1"]["out_of_line"][0].as_str().unwrap().contains("cost $20.1 over --max-usd $15"));
    for bad in [
        &["usage", "--check", "--max-usd", "ten"][..],
        &["usage", "--max-usd", "10"],
        &["usage", "--check"],
        &["usage", "--by", "bucket"],
    ] {
        let out = w.gdctl(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr_of(&out));
    }
}

#[test]
fn a_region_refusing_the_usage_call_fails_alone_naming_the_permission() {
    let w = seeded();
    // eu-west-1's detector alone is refused GetUsageStatistics.
    let (_front, at) = refusing_usage_in_eu_west_1(&w);
    let (code, doc) = at.json(&["usage", "--regions", "eu-west-1,us-east-1"]);
    assert_eq!(code, 1, "{doc:#}");
    let e = &by_region(&doc)["eu-west-1"]["error"];
    assert_eq!(e["code"], "AccessDeniedException", "{doc:#}");
    assert!(e["hint"].as_str().unwrap().contains("guardduty:GetUsageStatistics"), "{e:#}");
    assert_eq!(usage(&doc, "us-east-1")["total"], "20.1", "the other region is read: {doc:#}");
}
