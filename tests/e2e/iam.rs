//! `gdctl iam-policy` against what the commands really call: every SDK
//! operation a run makes (the SDK's own names, from its log) is an action of
//! the command's policy, on the side that makes it.

use std::collections::BTreeSet;

use crate::common::*;

const TWO: &str = "eu-west-1,us-west-2";

/// The SDK logs each operation in a span named after it; these filters
/// turn the spans on (and the runtime's events inside them, which print them).
const OPERATIONS_LOG: &str = "aws_sdk_guardduty=debug,aws_sdk_ec2=debug,aws_sdk_sts=debug,\
                              aws_sdk_organizations=debug,aws_smithy_runtime=debug";

/// The IAM actions a gdctl run called, and its exit code. GetCallerIdentity
/// needs no permission, so it is left out.
fn called(w: &World, args: &[&str]) -> (i32, BTreeSet<String>) {
    let out = w.gdctl(args).env("RUST_LOG", OPERATIONS_LOG).output().unwrap();
    let log = stderr_of(&out);
    let mut actions = BTreeSet::new();
    for span in log.split("rpc.service=\"").skip(1) {
        let service = span.split('"').next().unwrap();
        let Some(method) = span.split("rpc.method=\"").nth(1).and_then(|m| m.split('"').next()) else {
            continue;
        };
        let prefix = match service {
            "GuardDuty" => "guardduty",
            "EC2" => "ec2",
            "STS" => "sts",
            "Organizations" => "organizations",
            other => panic!("a call to {other}, which no policy covers: {method}"),
        };
        if method != "GetCallerIdentity" {
            actions.insert(format!("{prefix}:{method}"));
        }
    }
    (out.status.code().unwrap_or(-1), actions)
}

/// The actions of `gdctl iam-policy ARGS`.
fn policy(w: &World, args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["iam-policy"];
    all.extend(args);
    let out = w.bare_gdctl(&all).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let mut actions = BTreeSet::new();
    for statement in doc["Statement"].as_array().unwrap() {
        assert_eq!(statement["Effect"], "Allow");
        match &statement["Action"] {
            serde_json::Value::String(a) => {
                actions.insert(a.clone());
            }
            serde_json::Value::Array(list) => {
                actions.extend(list.iter().map(|a| a.as_str().unwrap().to_string()));
            }
            other => panic!("{other}"),
        }
    }
    actions
}

/// Runs `args` and holds every call it made to `allowed`.
fn within(w: &World, args: &[&str], allowed: &BTreeSet<String>, code: i32) -> BTreeSet<String> {
    let (got, calls) = called(w, args);
    assert_eq!(got, code, "{args:?}");
    assert!(!calls.is_empty(), "no call logged for {args:?}");
    let missing: Vec<_> = calls.difference(allowed).collect();
    assert!(missing.is_empty(), "{args:?} called {missing:?}, not in its policy {allowed:?}");
    calls
}

#[test]
fn every_call_of_one_account_commands_is_in_their_policy() {
    let w = World::new();
    let enable = policy(&w, &["enable"]);
    within(
        &w,
        &["enable", "--frequency", "fifteen-minutes", "--features", "s3-data-events", "--regions", TWO],
        &enable,
        0,
    );
    // Updated and tagged where it exists.
    let calls = within(
        &w,
        &[
            "enable",
            "--frequency",
            "one-hour",
            "--features",
            "eks-audit-logs",
            "--tag",
            "team=sec",
            "--regions",
            TWO,
        ],
        &enable,
        0,
    );
    assert!(
        calls.contains("guardduty:UpdateDetector") && calls.contains("guardduty:TagResource"),
        "{calls:?}"
    );

    within(
        &w,
        &["status", "--check", "--frequency", "one-hour", "--regions", TWO],
        &policy(&w, &["status"]),
        0,
    );
    let usage = policy(&w, &["usage"]);
    for by in ["plan", "account", "resource"] {
        within(&w, &["usage", "--by", by, "--regions", TWO], &usage, 0);
    }

    seed_findings(&w.account.id, "eu-west-1", &[finding("Recon:EC2/Portscan", 8.0)]);
    let findings = policy(&w, &["findings"]);
    within(&w, &["findings", "--regions", TWO], &findings, 0);
    let calls = within(&w, &["findings", "--list", "--check", "--regions", TWO], &findings, 3);
    assert!(calls.contains("guardduty:GetFindings"), "{calls:?}");
    within(&w, &["findings", "sample", "--regions", TWO], &policy(&w, &["findings-sample"]), 0);
    let calls = within(
        &w,
        &["findings", "archive", "--samples", "--regions", TWO],
        &policy(&w, &["findings-archive"]),
        0,
    );
    assert!(calls.contains("guardduty:ArchiveFindings"), "{calls:?}");

    let apply = policy(&w, &["apply"]);
    let example = manifest_dir().join("examples/guardduty.toml");
    let example = example.to_str().unwrap();
    within(&w, &["apply", example, "--regions", TWO], &apply, 0);
    within(&w, &["apply", example, "--check", "--regions", TWO], &apply, 0);
    within(&w, &["apply", example, "--reload-lists", "--regions", TWO], &apply, 0);
    // Every write kind: a rule dropped and pruned, a list's format and the export's key changed.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edited.toml");
    // The example less one rule, pruned; the threat list in another format;
    // the export under another key.
    let text = format!(
        "prune_rules = true\n{}",
        std::fs::read_to_string(example)
            .unwrap()
            .replace("name = \"low-noise\"", "name = \"low-noise-2\"")
            .replace(
                "format = \"TXT\"\nlocation = \"https://s3.amazonaws.com/example-security-lists/threats.txt\"",
                "format = \"STIX\"\nlocation = \"https://s3.amazonaws.com/example-security-lists/threats.txt\"",
            )
            .replace("example-guardduty-findings/guardduty", "example-guardduty-findings/gd")
    );
    assert!(
        text.contains("low-noise-2") && text.contains("STIX") && text.contains("findings/gd\""),
        "{text}"
    );
    std::fs::write(&file, &text).unwrap();
    let calls = within(&w, &["apply", file.to_str().unwrap(), "--regions", TWO], &apply, 0);
    for write in
        ["guardduty:DeleteFilter", "guardduty:DeleteThreatIntelSet", "guardduty:UpdatePublishingDestination"]
    {
        assert!(calls.contains(write), "{write} not called: {calls:?}");
    }

    let disable = policy(&w, &["disable"]);
    within(&w, &["disable", "--suspend", "--regions", TWO], &disable, 0);
    let calls = within(&w, &["disable", "--yes", "--regions", TWO], &disable, 0);
    assert!(calls.contains("guardduty:DeleteDetector"), "{calls:?}");

    // The policy of all commands holds each one's.
    let all = policy(&w, &[]);
    for one in [&enable, &usage, &findings, &apply, &disable] {
        assert!(one.is_subset(&all));
    }
    // And a policy is no wider than asked: status reads only.
    assert!(policy(&w, &["status"])
        .iter()
        .all(|a| a.contains(":List") || a.contains(":Get") || a.contains(":Describe")));
}

#[test]
fn across_accounts_the_caller_and_the_role_each_have_their_side() {
    let w = World::new();
    let other = Account::fresh();
    let list = format!("{},{}", w.account.id, other.id);
    for command in ["enable", "status", "disable"] {
        let caller = policy(&w, &[command, "--accounts"]);
        let role = policy(&w, &[command, "--role"]);
        assert!(caller.contains("sts:AssumeRole") && !role.contains("sts:AssumeRole"));
        let both: BTreeSet<String> = caller.union(&role).cloned().collect();
        let mut args = vec![command, "--accounts", &list, "--regions", TWO];
        if command == "disable" {
            args.push("--yes");
        }
        let calls = within(&w, &args, &both, 0);
        assert!(calls.contains("sts:AssumeRole"), "{calls:?}");
    }
}

#[test]
fn org_commands_are_covered_by_the_management_and_administrator_sides() {
    let org = crate::org::Organization::new(2);
    let w = &org.world;
    let admin = org.admin().id.clone();
    let management = policy(w, &["org"]);
    let administrator = policy(w, &["org", "--role"]);
    assert!(management.contains("guardduty:EnableOrganizationAdminAccount"));
    assert!(!administrator.contains("guardduty:EnableOrganizationAdminAccount"));
    let both: BTreeSet<String> = management.union(&administrator).cloned().collect();
    let calls = within(
        w,
        &["org", "enable", "--admin-account", &admin, "--features", "s3-data-events", "--regions", TWO],
        &both,
        0,
    );
    assert!(calls.contains("guardduty:CreateMembers"), "{calls:?}");
    within(
        w,
        &[
            "org",
            "status",
            "--check",
            "--admin-account",
            &admin,
            "--features",
            "s3-data-events",
            "--regions",
            TWO,
        ],
        &both,
        0,
    );
    let calls =
        within(w, &["org", "disable", "--admin-account", &admin, "--yes", "--regions", TWO], &both, 0);
    assert!(calls.contains("guardduty:DisableOrganizationAdminAccount"), "{calls:?}");
}

#[test]
fn flags_that_cannot_apply_are_refused() {
    let w = World::new();
    for args in [
        &["iam-policy", "org", "--accounts"][..],
        &["iam-policy", "status", "--role", "--role-name", "x"],
        &["iam-policy", "status", "--role-name", "x"],
        &["iam-policy", "status", "--role", "--accounts"],
        &["iam-policy", "bogus"],
        &["iam-policy", "status", "--region", "us-east-1"],
        &["--profile", "prod", "iam-policy"],
        &["man", "--regions", "us-east-1"],
        // Typed as the commands are, but here `org` is all three and `enable` its own.
        &["iam-policy", "org", "enable"],
        &["iam-policy", "findings", "sample"],
        &["iam-policy", "status", "--admin-account", "111111111111"],
        &["iam-policy", "org", "--role", "--admin-account", "111111111111"],
    ] {
        let out = w.bare_gdctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // The administrator named is the one role org's caller may assume; else
    // any account's, and gdctl says so.
    let out =
        w.bare_gdctl(&["iam-policy", "org-status", "--admin-account", "111111111111"]).output().unwrap();
    assert!(stdout_of(&out).contains("\"arn:aws:iam::111111111111:role/OrganizationAccountAccessRole\""));
    assert_eq!(stderr_of(&out), "");
    let out = w.bare_gdctl(&["iam-policy", "org-status"]).output().unwrap();
    assert!(stdout_of(&out).contains("\"arn:aws:iam::*:role/OrganizationAccountAccessRole\""));
    assert!(stderr_of(&out).contains("--admin-account"), "{}", stderr_of(&out));
    // The role's name goes into the caller's statement, path and all.
    let out = w
        .bare_gdctl(&["iam-policy", "status", "--accounts", "--role-name", "security/gdctl"])
        .output()
        .unwrap();
    assert!(stdout_of(&out).contains("\"arn:aws:iam::*:role/security/gdctl\""), "{}", stdout_of(&out));
}

#[test]
fn an_access_denied_answer_names_the_policy_of_the_command_run() {
    let w = World::new();
    let front = front(&["eu-west-1/guardduty=denied"]);
    let w = w.through(&front);
    for (args, policy) in [
        (&["status", "--regions", "eu-west-1"][..], "gdctl iam-policy status"),
        (&["findings", "sample", "--regions", "eu-west-1"], "gdctl iam-policy findings-sample"),
        (&["usage", "--regions", "eu-west-1"], "gdctl iam-policy usage"),
    ] {
        let out = w.gdctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stdout_of(&out).contains(policy), "{args:?}: {}", stdout_of(&out));
    }
}
