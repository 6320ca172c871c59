//! `gdctl org`: an organization in moto (with the project's emulator for the
//! GuardDuty Organizations operations moto lacks), checked through independent
//! clients in the management, administrator and member accounts.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::AutoEnableMembers;

use crate::common::*;

const TWO: &str = "eu-west-1,us-west-2";
const REGIONS: [&str; 2] = ["eu-west-1", "us-west-2"];

/// A fresh organization: the world's account is its management account.
pub struct Organization {
    pub world: World,
    /// The member accounts created in it (the first is made administrator).
    accounts: Vec<Account>,
}

impl Organization {
    pub fn new(members: usize) -> Organization {
        let world = World::new();
        let org = organizations(&world.account);
        let accounts = block_on(async {
            org.create_organization().send().await.unwrap();
            let mut ids = Vec::new();
            for i in 0..members {
                let out = org
                    .create_account()
                    .account_name(format!("member{i}"))
                    .email(format!("member{i}@example.com"))
                    .send()
                    .await
                    .unwrap();
                ids.push(out.create_account_status.unwrap().account_id.unwrap());
            }
            ids
        });
        Organization { world, accounts: accounts.iter().map(|id| Account::of(id)).collect() }
    }

    pub fn admin(&self) -> &Account {
        &self.accounts[0]
    }

    /// ListOrganizationAdminAccounts, as the management account.
    fn admins(&self, region: &str) -> Vec<String> {
        let out = block_on(self.world.gd(region).list_organization_admin_accounts().send()).unwrap();
        out.admin_accounts().iter().map(|a| a.admin_account_id().unwrap().to_string()).collect()
    }

    /// As the administrator: auto-enable, each plan's auto-enable, and members by status.
    fn seen_by_admin(&self, region: &str) -> (String, BTreeMap<String, String>, BTreeMap<String, String>) {
        let gd = guardduty(&moto().url, self.admin(), region);
        block_on(async {
            let detector = gd.list_detectors().send().await.unwrap().detector_ids.unwrap()[0].clone();
            let config =
                gd.describe_organization_configuration().detector_id(&detector).send().await.unwrap();
            let plans = config
                .features()
                .iter()
                .map(|f| {
                    (f.name().unwrap().as_str().to_string(), f.auto_enable().unwrap().as_str().to_string())
                })
                .collect();
            let members =
                gd.list_members().detector_id(&detector).only_associated("false").send().await.unwrap();
            let members = members
                .members()
                .iter()
                .map(|m| (m.account_id().unwrap().to_string(), m.relationship_status().unwrap().to_string()))
                .collect();
            let auto = config.auto_enable_organization_members().map_or("", |a| a.as_str()).to_string();
            (auto, plans, members)
        })
    }
}

fn outcomes(doc: &serde_json::Value) -> BTreeMap<String, String> {
    by_region(doc).into_iter().map(|(r, v)| (r, v["outcome"].as_str().unwrap().to_string())).collect()
}

#[test]
fn org_enable_then_check_then_again_changes_nothing() {
    let org = Organization::new(3);
    let w = &org.world;
    let admin = org.admin().id.clone();
    let args = ["org", "enable", "--admin-account", &admin, "--features", "s3-data-events", "--regions", TWO];

    let (code, doc) = w.json(&args);
    assert_eq!(code, 0, "{doc:#}");
    for region in REGIONS {
        let r = &by_region(&doc)[region];
        assert_eq!(r["outcome"], "updated", "{r:#}");
        let changes: Vec<&str> =
            r["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        for expected in [
            "admin set",
            "auto-enable NONE -> ALL",
            "+s3-data-events",
            "management detector created",
            "+3 members",
        ] {
            assert!(changes.contains(&expected), "{expected} in {changes:?}");
        }
        assert_eq!(r["org"]["members_enabled"], 3);
        assert_eq!(r["org"]["uncovered"], serde_json::json!([]));

        // Independently: the management account lists the administrator...
        assert_eq!(org.admins(region), [admin.as_str()]);
        // ...which sees auto-enable ALL, S3 on for members, the rest off...
        let (auto, plans, members) = org.seen_by_admin(region);
        assert_eq!(auto, AutoEnableMembers::All.as_str());
        assert_eq!(plans["S3_DATA_EVENTS"], "ALL");
        assert!(plans.iter().filter(|(n, _)| *n != "S3_DATA_EVENTS").all(|(_, v)| v == "NONE"), "{plans:?}");
        // ...and every other account (the management account too) as an enabled member.
        let mut expected: Vec<String> = org.accounts[1..].iter().map(|a| a.id.clone()).collect();
        expected.push(w.account.id.clone());
        expected.sort();
        assert_eq!(members.keys().cloned().collect::<Vec<_>>(), expected);
        assert!(members.values().all(|s| s == "Enabled"), "{members:?}");
        for member in &org.accounts[1..] {
            assert_eq!(member.detector_ids(region).len(), 1, "GuardDuty on in member {}", member.id);
        }
        assert_eq!(w.account.detector_ids(region).len(), 1, "the management account's own detector");
        assert_eq!(org.admin().detector_ids(region).len(), 1, "the administrator's, made by the service");
    }

    let check = [
        "org",
        "status",
        "--check",
        "--admin-account",
        &admin,
        "--features",
        "s3-data-events",
        "--regions",
        TWO,
    ];
    let (code, doc) = w.json(&check);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["out_of_line"], 0);

    // The check reads the members' own plans: one that turned S3 off is out of line.
    let member = &org.accounts[1];
    block_on(async {
        let gd = guardduty(&moto().url, member, "eu-west-1");
        let id = gd.list_detectors().send().await.unwrap().detector_ids.unwrap()[0].clone();
        let off = aws_sdk_guardduty::types::DetectorFeatureConfiguration::builder()
            .name(aws_sdk_guardduty::types::DetectorFeature::S3DataEvents)
            .status(aws_sdk_guardduty::types::FeatureStatus::Disabled)
            .build();
        gd.update_detector().detector_id(id).features(off).send().await.unwrap();
    });
    let (code, doc) = w.json(&check);
    assert_eq!(code, 3, "{doc:#}");
    let r = &by_region(&doc)["eu-west-1"];
    assert_eq!(r["org"]["plans_differ"][&member.id], serde_json::json!(["+s3-data-events"]), "{r:#}");
    assert_eq!(r["out_of_line"], serde_json::json!(["1 member's plans differ"]));
    assert_eq!(by_region(&doc)["us-west-2"]["in_line"], true);

    // A second run changes nothing (and creates no second detector anywhere).
    let (code, doc) = w.json(&args);
    assert_eq!(code, 0, "{doc:#}");
    assert!(outcomes(&doc).values().all(|o| o == "unchanged"), "{doc:#}");
    for region in REGIONS {
        assert_eq!(org.admin().detector_ids(region).len(), 1);
        assert_eq!(w.account.detector_ids(region).len(), 1);
    }

    // Another auto-enable setting is one change, and the check then fails on it.
    let out = w
        .gdctl(&[
            "org",
            "enable",
            "--admin-account",
            &admin,
            "--auto-enable",
            "new",
            "--regions",
            "eu-west-1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("auto-enable ALL -> NEW"), "{}", stdout_of(&out));
    assert_eq!(org.seen_by_admin("eu-west-1").0, "NEW");
    let out = w.gdctl(&["org", "status", "--check", "--regions", "eu-west-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    assert!(stdout_of(&out).contains("out of line: needs auto-enable NEW -> ALL"), "{}", stdout_of(&out));
}

#[test]
fn another_administrator_in_one_region_fails_that_region_alone() {
    let org = Organization::new(2);
    let w = &org.world;
    let (admin, other) = (org.admin().id.clone(), org.accounts[1].id.clone());
    block_on(w.gd("eu-west-1").enable_organization_admin_account().admin_account_id(&other).send()).unwrap();

    let (code, doc) = w.json(&["org", "enable", "--admin-account", &admin, "--regions", TWO]);
    assert_eq!(code, 1, "{doc:#}");
    let regions = by_region(&doc);
    let failed = &regions["eu-west-1"];
    assert_eq!(failed["outcome"], "failed");
    assert_eq!(failed["error"]["code"], "OtherAdministrator");
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("account {other} is this region's GuardDuty administrator")),
        "{message}"
    );
    assert_eq!(regions["us-west-2"]["outcome"], "updated");
    // Never replaced: the other administrator stays.
    assert_eq!(org.admins("eu-west-1"), [other.as_str()]);
    assert_eq!(org.admins("us-west-2"), [admin.as_str()]);

    // The check names it (reading the other administrator's side through the role).
    let out =
        w.gdctl(&["org", "status", "--check", "--admin-account", &admin, "--regions", TWO]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains(&format!("out of line: administrator {other}, not {admin}")), "{text}");
}

#[test]
fn org_disable_removes_the_administrator_and_members_keep_their_detectors() {
    let org = Organization::new(2);
    let w = &org.world;
    let admin = org.admin().id.clone();
    w.gdctl(&["org", "enable", "--admin-account", &admin, "--regions", TWO]).assert().code(0);

    // At a terminal it asks first; "no" changes nothing.
    let out = w.gdctl_at_terminal(&["org", "disable", "--admin-account", &admin, "--regions", TWO], "n\n");
    assert_eq!(out.status.code(), Some(1));
    let shown = stdout_of(&out);
    assert!(shown.contains("Remove the administrator in 2 regions? [y/N]"), "{shown}");
    assert!(shown.contains("their detectors stay enabled"), "{shown}");
    assert!(shown.contains("not confirmed: nothing was removed"), "{shown}");
    assert_eq!(org.admins("eu-west-1"), [admin.as_str()]);

    let (code, doc) = w.json(&["org", "disable", "--admin-account", &admin, "--regions", TWO]);
    assert_eq!(code, 0, "{doc:#}");
    for region in REGIONS {
        let r = &by_region(&doc)[region];
        let changes: Vec<&str> =
            r["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(changes, ["auto-enable ALL -> NONE", "-2 members", "admin removed"], "{r:#}");
        assert_eq!(r["note"], "member detectors stay enabled");
        assert!(org.admins(region).is_empty());
        assert_eq!(org.accounts[1].detector_ids(region).len(), 1, "the member's detector stays");
    }
    // Again: nothing to remove.
    let (code, doc) = w.json(&["org", "disable", "--admin-account", &admin, "--regions", TWO]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(outcomes(&doc).values().all(|o| o == "absent"), "{doc:#}");
    let out = w.gdctl(&["org", "status", "--check", "--regions", TWO]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(stdout_of(&out).contains("out of line: no delegated administrator"), "{}", stdout_of(&out));
}

#[test]
fn a_dry_run_and_bad_input_change_nothing() {
    let org = Organization::new(2);
    let w = &org.world;
    let admin = org.admin().id.clone();

    let out = w
        .gdctl(&["org", "enable", "--admin-account", &admin, "--dry-run", "--regions", TWO])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    assert!(
        text.contains("would update") && text.contains("admin set, auto-enable NONE -> ALL, +2 members"),
        "{text}"
    );

    let refused: [&[&str]; 9] = [
        &["org", "enable", "--admin-account", "999999999999", "--regions", TWO],
        // Removing the administrator disassociates every member: none can be kept.
        &[
            "org",
            "disable",
            "--admin-account",
            &admin,
            "--exclude-accounts",
            &org.accounts[1].id,
            "--regions",
            TWO,
        ],
        &["org", "status", "--check", "--admin-account", "999999999999", "--regions", TWO],
        &["org", "status", "--accounts", &admin, "--regions", TWO],
        &["org", "enable", "--admin-account", &admin, "--exclude-accounts", "999999999999", "--regions", TWO],
        &[
            "org",
            "enable",
            "--admin-account",
            &admin,
            "--exclude-accounts",
            &org.accounts[1].id,
            "--regions",
            TWO,
        ],
        &["org", "enable", "--admin-account", &admin, "--org", "--regions", TWO],
        &["org", "enable", "--admin-account", &admin, "--features", "s3", "--regions", TWO],
        &["org", "enable", "--admin-account", "12345", "--regions", TWO],
    ];
    for args in refused {
        let out = w.gdctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).starts_with("error:") || stderr_of(&out).starts_with("gdctl: error:"));
    }
    for region in REGIONS {
        assert!(org.admins(region).is_empty(), "nothing changed in {region}");
        assert!(org.admin().detector_ids(region).is_empty());
    }

    // Outside an organization: exit 2, nothing changed.
    let loner = World::new();
    let out = loner.gdctl(&["org", "enable", "--admin-account", &admin, "--regions", TWO]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no ACTIVE account"), "{}", stderr_of(&out));
}

#[test]
fn a_refused_role_into_the_administrator_and_an_untrusted_service_say_what_to_do() {
    let org = Organization::new(1);
    let admin = org.admin().id.clone();
    let role = format!("arn:aws:iam::{admin}:role/OrganizationAccountAccessRole");
    let front = front_with(&["--deny-role", &role]);
    let w = org.world.through(&front);
    let (code, doc) = w.json(&["org", "enable", "--admin-account", &admin, "--regions", "eu-west-1"]);
    assert_eq!(code, 1, "{doc:#}");
    let r = &by_region(&doc)["eu-west-1"];
    assert_eq!(r["error"]["code"], "AccessDenied", "{r:#}");
    assert!(r["error"]["hint"].as_str().unwrap().contains(&role), "{r:#}");
    assert!(org.admins("eu-west-1").is_empty(), "a role refused before the first write changes nothing");
    assert!(r.get("changes").is_none(), "{r:#}");

    // Straight to moto: it works; then GuardDuty stops being a trusted service.
    let w = &org.world;
    w.gdctl(&["org", "enable", "--admin-account", &admin, "--regions", "eu-west-1"]).assert().code(0);
    block_on(
        organizations(&w.account)
            .disable_aws_service_access()
            .service_principal("guardduty.amazonaws.com")
            .send(),
    )
    .unwrap();
    let (code, doc) = w.json(&["org", "status", "--regions", "eu-west-1"]);
    assert_eq!(code, 1, "{doc:#}");
    let e = &by_region(&doc)["eu-west-1"]["error"];
    assert_eq!(e["code"], "BadRequestException", "{e:#}");
    assert!(e["hint"]
        .as_str()
        .unwrap()
        .contains("enable-aws-service-access --service-principal guardduty.amazonaws.com"));
}

#[test]
fn a_write_with_no_answer_is_an_unknown_outcome_and_a_rerun_converges() {
    let org = Organization::new(1);
    let admin = org.admin().id.clone();
    let front = front(&["eu-west-1/guardduty=hang-after-write"]);
    let w = org.world.through(&front);
    let (code, doc) =
        w.json(&["org", "enable", "--admin-account", &admin, "--regions", TWO, "--timeout", "3"]);
    assert_eq!(code, 1, "{doc:#}");
    let regions = by_region(&doc);
    assert_eq!(regions["us-west-2"]["outcome"], "updated");
    let cut = &regions["eu-west-1"];
    assert_eq!(cut["outcome"], "unknown", "{cut:#}");
    let message = cut["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("no answer to EnableOrganizationAdminAccount within 3 s"), "{message}");
    // The front carried it out: a run straight to moto sees the administrator and goes on.
    assert_eq!(org.admins("eu-west-1"), [admin.as_str()]);
    let (code, doc) = org.world.json(&["org", "enable", "--admin-account", &admin, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let changes = &by_region(&doc)["eu-west-1"]["changes"];
    assert!(!changes.as_array().unwrap().iter().any(|c| c == "admin set"), "{changes}");
}

#[test]
fn plans_at_new_reach_the_members_gdctl_adds() {
    // NEW covers only accounts that become members afterwards: the
    // configuration must land before CreateMembers.
    let org = Organization::new(3);
    let w = &org.world;
    let admin = org.admin().id.clone();
    let plans = ["--auto-enable", "new", "--features", "s3-data-events", "--regions", "eu-west-1"];
    let mut args = vec!["org", "enable", "--admin-account", &admin];
    args.extend(plans);
    w.gdctl(&args).assert().code(0);
    let mut check = vec!["org", "status", "--check"];
    check.extend(plans);
    let (code, doc) = w.json(&check);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(org.seen_by_admin("eu-west-1").1["S3_DATA_EVENTS"], "NEW");
}

#[test]
fn a_failure_after_the_administrator_is_set_still_reports_that_it_was_set() {
    let org = Organization::new(2);
    let admin = org.admin().id.clone();
    // CreateMembers (POST /detector/ID/member) fails; every call before it passes.
    let front = front_with(&["--fault-on", "POST /detector/[^/]+/member=500"]);
    let w = org.world.through(&front);
    let args = ["org", "enable", "--admin-account", &admin, "--regions", "eu-west-1"];
    let (code, doc) = w.json(&args);
    assert_eq!(code, 1, "{doc:#}");
    let r = &by_region(&doc)["eu-west-1"];
    assert_eq!(r["outcome"], "failed", "{r:#}");
    let changes: Vec<&str> = r["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changes.contains(&"admin set"), "{r:#}");
    assert!(!changes.iter().any(|c| c.contains("member")), "no member was added: {r:#}");
    assert_eq!(org.admins("eu-west-1"), [admin.as_str()], "it was set");
    // Run again, in text: set already, the failure is CreateMembers' alone.
    let out = w.gdctl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout_of(&out).contains("admin set"), "{}", stdout_of(&out));
}

#[test]
fn org_disable_leaves_a_region_it_could_not_read_before_asking() {
    let org = Organization::new(1);
    let admin = org.admin().id.clone();
    org.world.gdctl(&["org", "enable", "--admin-account", &admin, "--regions", TWO]).assert().code(0);
    // us-west-2 is throttled past the retries once: during the preview.
    let front = front(&["us-west-2=throttle:3"]);
    let w = org.world.through(&front);
    let out = w.gdctl_at_terminal(&["org", "disable", "--admin-account", &admin, "--regions", TWO], "y\n");
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("Remove the administrator in 1 region? [y/N]"), "{shown}");
    assert!(shown.contains("Not read, so left alone"), "{shown}");
    assert!(org.admins("eu-west-1").is_empty(), "shown and agreed to");
    assert_eq!(org.admins("us-west-2"), [admin.as_str()], "not shown: left alone");
}

#[test]
fn the_administrators_usage_view_covers_its_members() {
    let org = Organization::new(2);
    let admin = org.admin().clone();
    let member = org.accounts[1].id.clone();
    org.world
        .gdctl(&["org", "enable", "--admin-account", &admin.id, "--regions", "eu-west-1"])
        .assert()
        .code(0);
    seed_usage(&admin.id, "eu-west-1", &[("FLOW_LOGS", "1.25", None)], &[]);
    seed_usage(&member, "eu-west-1", &[("S3_DATA_EVENTS", "2.5", None)], &[]);
    let as_admin =
        World { account: admin.clone(), endpoint: moto().url.clone(), home: tempfile::tempdir().unwrap() };
    let (code, doc) = as_admin.json(&["usage", "--by", "account", "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    let items = &by_region(&doc)["eu-west-1"]["usage"]["items"];
    assert_eq!(items[0], serde_json::json!({"name": member, "usd": "2.5"}), "{doc:#}");
    assert_eq!(items[1], serde_json::json!({"name": admin.id, "usd": "1.25"}), "{doc:#}");
    // Each account's own cost, not the administrator's region's total.
    let accounts = &doc["summary"]["usage"]["accounts"];
    assert_eq!(
        (&accounts[&admin.id], &accounts[&member]),
        (&serde_json::json!("1.25"), &serde_json::json!("2.5")),
        "{doc:#}"
    );
    // Its own view by plan is its own account's alone.
    let (_, doc) = as_admin.json(&["usage", "--regions", "eu-west-1"]);
    assert_eq!(by_region(&doc)["eu-west-1"]["usage"]["total"], "1.25", "{doc:#}");
    // Both accounts in one run (the management account's, through the role):
    // each counts once, the members not again in the administrator's region.
    let both = format!("{},{member}", admin.id);
    let (code, doc) =
        org.world.json(&["usage", "--by", "account", "--accounts", &both, "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["usage"]["total"], "3.75", "{doc:#}");
}
