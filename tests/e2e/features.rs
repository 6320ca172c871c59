//! Protection plans and tags, end to end against moto (which stores the
//! features and tags it is given), checked with the SDK.

use std::collections::BTreeMap;

use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
use aws_sdk_guardduty::types::{DetectorFeature, DetectorFeatureConfiguration, FeatureStatus};

use crate::common::*;

/// The region's (first) detector, as GetDetector describes it.
fn detector(w: &World, region: &str) -> GetDetectorOutput {
    let gd = w.gd(region);
    block_on(async {
        let ids = gd.list_detectors().send().await.unwrap().detector_ids.unwrap_or_default();
        gd.get_detector().detector_id(&ids[0]).send().await.unwrap()
    })
}

fn on(status: Option<&FeatureStatus>) -> bool {
    status == Some(&FeatureStatus::Enabled)
}

/// A region's detector features as the service reports them: API name → on.
fn features(w: &World, region: &str) -> BTreeMap<String, bool> {
    let d = detector(w, region);
    d.features().iter().map(|f| (f.name().unwrap().as_str().to_string(), on(f.status()))).collect()
}

fn tags(w: &World, region: &str) -> BTreeMap<String, String> {
    detector(w, region).tags().cloned().unwrap_or_default().into_iter().collect()
}

fn create_with_feature(w: &World, region: &str, feature: &str) {
    block_on(
        w.gd(region)
            .create_detector()
            .enable(true)
            .features(
                DetectorFeatureConfiguration::builder()
                    .name(DetectorFeature::from(feature))
                    .status(FeatureStatus::Enabled)
                    .build(),
            )
            .send(),
    )
    .unwrap();
}

#[test]
fn features_are_sent_complete_on_create() {
    let w = World::new();
    let (code, doc) =
        w.json(&["enable", "--regions", "eu-west-1", "--features", "s3-data-events,ebs-malware-protection"]);
    assert_eq!(code, 0, "{doc:#}");
    let r = &by_region(&doc)["eu-west-1"];
    assert_eq!(r["outcome"], "created");
    assert_eq!(r["changes"], serde_json::json!(["+s3-data-events", "+ebs-malware-protection"]));
    let f = features(&w, "eu-west-1");
    let on: Vec<&str> = f.iter().filter(|(_, on)| **on).map(|(n, _)| n.as_str()).collect();
    assert_eq!(on, ["EBS_MALWARE_PROTECTION", "S3_DATA_EVENTS"]);
    assert_eq!(f.len(), 6, "every known feature sent, one runtime flavour: {f:?}");
    assert!(!f.contains_key("EKS_RUNTIME_MONITORING"));
}

#[test]
fn existing_features_are_converged_and_then_left_alone() {
    let w = World::new();
    create_with_feature(&w, "eu-west-2", "RDS_LOGIN_EVENTS");
    let args = ["enable", "--regions", "eu-west-2", "--features", "s3-data-events"];

    let out = w.gdctl(&[&args[..], &["--dry-run"]].concat()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout_of(&out).contains("would update")
            && stdout_of(&out).contains("+s3-data-events -rds-login-events")
    );
    assert_eq!(
        features(&w, "eu-west-2"),
        BTreeMap::from([("RDS_LOGIN_EVENTS".to_string(), true)]),
        "dry run"
    );

    let out = w.gdctl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let line = stdout_of(&out);
    assert!(
        line.starts_with("eu-west-2  updated")
            && line.lines().next().unwrap().ends_with("+s3-data-events -rds-login-events"),
        "{line}"
    );
    let f = features(&w, "eu-west-2");
    assert_eq!((f["S3_DATA_EVENTS"], f["RDS_LOGIN_EVENTS"]), (true, false));

    let (_, doc) = w.json(&args);
    assert_eq!(by_region(&doc)["eu-west-2"]["outcome"], "unchanged");
}

#[test]
fn runtime_agents_are_set_with_runtime_monitoring() {
    let w = World::new();
    w.gdctl(&[
        "enable",
        "--regions",
        "us-west-2",
        "--features",
        "runtime-monitoring",
        "--runtime-agents",
        "eks,ec2",
    ])
    .assert()
    .success();
    let d = detector(&w, "us-west-2");
    let rt = d.features().iter().find(|f| f.name().unwrap().as_str() == "RUNTIME_MONITORING").unwrap();
    let agents: BTreeMap<String, bool> = rt
        .additional_configuration()
        .iter()
        .map(|a| (a.name().unwrap().as_str().to_string(), on(a.status())))
        .collect();
    assert_eq!(
        agents,
        BTreeMap::from([
            ("EC2_AGENT_MANAGEMENT".to_string(), true),
            ("ECS_FARGATE_AGENT_MANAGEMENT".to_string(), false),
            ("EKS_ADDON_MANAGEMENT".to_string(), true),
        ])
    );
    let (code, _) = w.json(&[
        "status",
        "--check",
        "--regions",
        "us-west-2",
        "--features",
        "runtime-monitoring",
        "--runtime-agents",
        "eks,ec2",
    ]);
    assert_eq!(code, 0);
    let (code, _) =
        w.json(&["status", "--check", "--regions", "us-west-2", "--features", "runtime-monitoring"]);
    assert_eq!(code, 3, "agents differ");
}

#[test]
fn status_shows_features_and_check_gates_on_them() {
    let w = World::new();
    create_with_feature(&w, "eu-west-1", "S3_DATA_EVENTS");
    let out = w.gdctl(&["status", "--regions", "eu-west-1"]).output().unwrap();
    assert!(stdout_of(&out).contains("features: s3-data-events"), "{}", stdout_of(&out));
    let (_, doc) = w.json(&["status", "--regions", "eu-west-1"]);
    assert_eq!(by_region(&doc)["eu-west-1"]["features"]["S3_DATA_EVENTS"]["enabled"], true);

    let check = |f: &str| {
        w.gdctl(&["status", "--check", "--regions", "eu-west-1", "--features", f])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(check("s3-data-events"), Some(0));
    assert_eq!(check("s3-data-events,rds-login-events"), Some(3));
    assert_eq!(check("none"), Some(3));
}

#[test]
fn what_the_api_would_refuse_is_refused_before_any_call() {
    let w = World::new();
    for (args, needle) in [
        (&["enable", "--features", "s3"][..], "lambda-network-logs"),
        (&["enable", "--features", "runtime-monitoring,eks-runtime-monitoring"][..], "cannot both"),
        (
            &["enable", "--features", "s3-data-events", "--runtime-agents", "ec2"][..],
            "needs runtime-monitoring",
        ),
        (&["enable", "--tag", "aws:owner=me"][..], "aws:"),
        (&["enable", "--tag", "team=a", "--tag", "team=b"][..], "twice"),
        (&["status", "--check", "--features", "nope"][..], "unknown feature"),
    ] {
        let out = w.gdctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr_of(&out).contains(needle), "{args:?}: {}", stderr_of(&out));
    }
    assert!(w.snapshot().values().all(|d| d.is_empty()));
}

#[test]
fn tags_go_on_new_detectors() {
    let w = World::new();
    let args = ["enable", "--regions", "eu-north-1", "--tag", "team=sec", "--tag", "cost=42"];
    let out = w.gdctl(&[&args[..], &["--dry-run"]].concat()).output().unwrap();
    assert!(
        stdout_of(&out).contains("would create") && stdout_of(&out).contains("+tag:cost=42 +tag:team=sec")
    );
    assert!(w.detectors("eu-north-1").is_empty(), "dry run");

    let (code, doc) = w.json(&args);
    assert_eq!(code, 0);
    assert_eq!(
        by_region(&doc)["eu-north-1"]["changes"],
        serde_json::json!(["+tag:cost=42", "+tag:team=sec"])
    );
    assert_eq!(
        tags(&w, "eu-north-1"),
        BTreeMap::from([("cost".to_string(), "42".to_string()), ("team".to_string(), "sec".to_string())])
    );
}

#[test]
fn an_existing_detector_gets_the_tags_it_lacks_and_keeps_its_others() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-north-1", "--tag", "owner=them"]).assert().code(0);
    let (code, doc) = w.json(&["enable", "--regions", "eu-north-1", "--tag", "team=sec"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_region(&doc)["eu-north-1"]["changes"], serde_json::json!(["+tag:team=sec"]));
    assert_eq!(
        tags(&w, "eu-north-1"),
        BTreeMap::from([("owner".to_string(), "them".to_string()), ("team".to_string(), "sec".to_string())])
    );
    // Again: nothing to add.
    let (_, doc) = w.json(&["enable", "--regions", "eu-north-1", "--tag", "team=sec"]);
    assert_eq!(by_region(&doc)["eu-north-1"]["outcome"], "unchanged", "{doc:#}");
}

#[test]
fn only_tagged_deletes_ours_and_keeps_theirs() {
    let w = World::new();
    w.gdctl(&["enable", "--regions", "eu-west-1", "--tag", "team=sec"]).assert().success();
    w.create_detector("eu-west-2", true, "SIX_HOURS"); // someone else's, untagged
    let args = ["disable", "--only-tagged", "team=sec", "--regions", "eu-west-1,eu-west-2,eu-west-3"];

    let (code, doc) = w.json(&args);
    assert_eq!(code, 0, "{doc:#}");
    let r = by_region(&doc);
    assert_eq!(r["eu-west-1"]["outcome"], "deleted");
    assert_eq!(r["eu-west-2"]["outcome"], "kept");
    assert_eq!(r["eu-west-2"]["note"], "not tagged team=sec");
    assert_eq!(r["eu-west-2"]["status"], "ENABLED");
    assert_eq!(r["eu-west-3"]["outcome"], "absent");
    assert!(w.detectors("eu-west-1").is_empty());
    assert_eq!(w.detectors("eu-west-2").len(), 1);
}
