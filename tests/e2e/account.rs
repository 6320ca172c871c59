//! Which account gdctl acts on: the aws CLI's precedence, row by row, checked
//! by where the detector lands (read with each account's own credentials),
//! not only by what gdctl says.

use std::os::unix::fs::PermissionsExt;

use crate::common::*;

const REGION: &str = "eu-north-1";

/// One row of the precedence table in docs/configuration.md.
struct Row {
    name: &'static str,
    args: Vec<String>,
    env_keys: bool,
    env: Vec<(&'static str, String)>,
    config: String,
    credentials: String,
    /// The account that must be acted on; `None`: refused with exit 2.
    expect: Option<Account>,
}

#[test]
fn credentials_follow_the_aws_cli_precedence() {
    let w = World::new();
    let env_account = w.account.clone();
    let p = Account::fresh();
    let q = Account::fresh();
    let c = Account::fresh();
    let role = fresh_account_id();
    let env_role = fresh_account_id();
    let web_role = fresh_account_id();
    let home = w.home.path();

    let process = home.join("credential-process.sh");
    std::fs::write(
        &process,
        format!(
            "#!/bin/sh\necho '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\", \"SessionToken\": \"{}\"}}'\n",
            c.key,
            c.secret,
            c.token.as_deref().unwrap()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&process, std::fs::Permissions::from_mode(0o755)).unwrap();
    let token_file = home.join("web-identity-token");
    std::fs::write(&token_file, "a-token").unwrap();

    let config = format!(
        "[profile member]\nrole_arn = arn:aws:iam::{role}:role/X\nsource_profile = src\n\
         [profile proc]\ncredential_process = {}\n\
         [profile envrole]\nrole_arn = arn:aws:iam::{env_role}:role/Y\ncredential_source = Environment\n\
         [profile empty]\nregion = {HOME_REGION}\n",
        process.display()
    );
    let credentials =
        format!("{}{}{}", p.profile_section("p"), q.profile_section("q"), p.profile_section("src"));
    let default_only = p.profile_section("default");
    let flag = |name: &str| vec!["--profile".to_string(), name.to_string()];
    let aws_profile = |name: &str| vec![("AWS_PROFILE", name.to_string())];

    let rows = vec![
        Row {
            name: "--profile beats environment keys",
            args: flag("p"),
            env_keys: true,
            env: vec![],
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(p.clone()),
        },
        Row {
            name: "--profile that assumes a role beats environment keys",
            args: flag("member"),
            env_keys: true,
            env: vec![],
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(Account::of(&role)),
        },
        Row {
            name: "--profile beats AWS_PROFILE",
            args: flag("p"),
            env_keys: false,
            env: aws_profile("q"),
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(p.clone()),
        },
        Row {
            name: "--profile with credential_process beats environment keys",
            args: flag("proc"),
            env_keys: true,
            env: vec![],
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(c.clone()),
        },
        Row {
            name:
                "--profile with credential_source = Environment assumes its role with the environment's keys",
            args: flag("envrole"),
            env_keys: true,
            env: vec![],
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(Account::of(&env_role)),
        },
        Row {
            name: "environment keys beat AWS_PROFILE",
            args: vec![],
            env_keys: true,
            env: aws_profile("p"),
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(env_account.clone()),
        },
        Row {
            name: "AWS_PROFILE without environment keys",
            args: vec![],
            env_keys: false,
            env: aws_profile("p"),
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(p.clone()),
        },
        Row {
            name: "AWS_PROFILE that assumes a role, without environment keys",
            args: vec![],
            env_keys: false,
            env: aws_profile("member"),
            config: config.clone(),
            credentials: credentials.clone(),
            expect: Some(Account::of(&role)),
        },
        Row {
            name: "the default profile when nothing else is set",
            args: vec![],
            env_keys: false,
            env: vec![],
            config: String::new(),
            credentials: default_only.clone(),
            expect: Some(p.clone()),
        },
        Row {
            name: "environment keys beat the default profile",
            args: vec![],
            env_keys: true,
            env: vec![],
            config: String::new(),
            credentials: default_only,
            expect: Some(env_account.clone()),
        },
        Row {
            name: "web identity from the environment when there are no keys or profile",
            args: vec![],
            env_keys: false,
            env: vec![
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.display().to_string()),
                ("AWS_ROLE_ARN", format!("arn:aws:iam::{web_role}:role/W")),
            ],
            config: String::new(),
            credentials: String::new(),
            expect: Some(Account::of(&web_role)),
        },
        Row {
            name: "--profile without credentials never falls back to environment keys",
            args: flag("empty"),
            env_keys: true,
            env: vec![],
            config: config.clone(),
            credentials: credentials.clone(),
            expect: None,
        },
    ];

    let everyone = [&env_account, &p, &q, &c];
    for row in rows {
        w.aws_files(&row.config, &row.credentials);
        let mut args: Vec<&str> = vec!["enable", "--regions", REGION];
        args.extend(row.args.iter().map(String::as_str));
        let mut cmd = if row.env_keys { w.gdctl(&args) } else { w.bare_gdctl(&args) };
        cmd.env("AWS_REGION", HOME_REGION).env("AWS_ENDPOINT_URL", &moto().url);
        for (k, v) in &row.env {
            cmd.env(k, v);
        }
        match &row.expect {
            Some(account) => {
                let (code, doc) = json_of(cmd);
                assert_eq!(code, 0, "{}: {doc:#}", row.name);
                assert_eq!(doc["account"], account.id.as_str(), "{}", row.name);
                assert_eq!(
                    account.detector_ids(REGION).len(),
                    1,
                    "{}: no detector in {}",
                    row.name,
                    account.id
                );
                for other in everyone.iter().filter(|o| o.id != account.id) {
                    assert!(other.detector_ids(REGION).is_empty(), "{}: {} was touched", row.name, other.id);
                }
                // Clean up for the next row, through the account's own credentials.
                for id in account.detector_ids(REGION) {
                    account.delete_detector(REGION, &id);
                }
            }
            None => {
                let out = cmd.output().unwrap();
                assert_eq!(out.status.code(), Some(2), "{}: {}", row.name, stderr_of(&out));
                for other in everyone {
                    assert!(other.detector_ids(REGION).is_empty(), "{}: {} was touched", row.name, other.id);
                }
            }
        }
    }
}

#[test]
fn settings_follow_the_aws_cli_precedence() {
    let w = World::new();
    w.aws_files("[profile r]\nregion = eu-west-3\nmax_attempts = 0\n", &w.account.profile_section("r"));
    let home = |cmd: assert_cmd::Command| {
        let (code, doc) = json_of(cmd);
        assert_eq!(code, 0, "{doc:#}");
        doc["home_region"].as_str().unwrap().to_string()
    };
    let status = ["status", "--regions", "eu-west-1", "--max-attempts", "2"];
    // --region > AWS_REGION > AWS_DEFAULT_REGION > the profile's region.
    let with = |extra: &[&str], env: &[(&str, Option<&str>)]| {
        let mut cmd = w.gdctl(&[&status[..], extra].concat());
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    };
    let r = ["--profile", "r"];
    assert_eq!(home(with(&["--region", "eu-west-2", "--profile", "r"], &[])), "eu-west-2");
    let both = [("AWS_REGION", Some("ap-south-1")), ("AWS_DEFAULT_REGION", Some("sa-east-1"))];
    assert_eq!(home(with(&r, &both)), "ap-south-1");
    let default_only = [("AWS_REGION", None), ("AWS_DEFAULT_REGION", Some("sa-east-1"))];
    assert_eq!(home(with(&r, &default_only)), "sa-east-1");
    assert_eq!(home(with(&r, &[("AWS_REGION", None)])), "eu-west-3");
    // The profile's max_attempts = 0 is never read while --max-attempts is given ...
    // ... and is an error naming it when it is.
    let out = w.gdctl(&["status", "--profile", "r"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        "gdctl: error: `max_attempts` in profile `r` is `0`: it must be a whole number from 1 to 20\n"
    );
    // AWS_MAX_ATTEMPTS beats the profile's value.
    w.gdctl(&["status", "--profile", "r", "--regions", "eu-west-1"])
        .env("AWS_MAX_ATTEMPTS", "2")
        .assert()
        .code(0);
}

#[test]
fn the_account_is_named_in_text_json_and_the_confirmation() {
    let w = World::new();
    let id = w.account.id.as_str();
    let out = w.gdctl(&["status", "--regions", "eu-west-1"]).output().unwrap();
    let last = stdout_of(&out).lines().last().unwrap().to_string();
    assert!(last.starts_with(&format!("status: account {id}, 1 target region")), "{last}");
    let (_, doc) = w.json(&["status", "--regions", "eu-west-1"]);
    assert_eq!(doc["account"], id);

    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let out = w.gdctl_at_terminal(&["disable", "--regions", "eu-west-1"], "n\n");
    let shown = stdout_of(&out);
    assert!(shown.contains(&format!("Delete 1 detector in account {id}?")), "{shown}");
}

#[test]
fn expect_account_refuses_another_account_and_changes_nothing() {
    let w = World::new();
    let other = fresh_account_id();
    let out = w.gdctl(&["enable", "--regions", "eu-west-1", "--expect-account", &other]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        format!(
            "gdctl: error: the credentials are for account {}, not {other} (--expect-account): nothing was changed\n",
            w.account.id
        )
    );
    assert!(stdout_of(&out).is_empty());
    assert!(w.detectors("eu-west-1").is_empty());

    let list = format!("{other},{}", w.account.id);
    w.gdctl(&["enable", "--regions", "eu-west-1", "--expect-account", &list]).assert().code(0);
    assert_eq!(w.detectors("eu-west-1").len(), 1);

    let out = w.gdctl(&["status", "--expect-account", "12345"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("not a 12-digit AWS account id"), "{}", stderr_of(&out));
}
