use std::fs;

use crate::common::*;

#[test]
fn a_bad_frequency_is_a_usage_error() {
    let w = World::new();
    let out = w.gdctl(&["enable", "--frequency", "hourly"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("fifteen-minutes"), "the valid values are listed");
}

#[test]
fn no_credentials_is_one_clear_error_before_any_region() {
    let w = World::new();
    let out = w
        .bare_gdctl(&["enable"])
        .env("AWS_REGION", HOME_REGION)
        .env("AWS_ENDPOINT_URL", &moto().url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert_eq!(err.matches("gdctl: error").count(), 1, "one message, not one per region: {err}");
    assert!(!err.contains("eu-west-1"), "no region was called: {err}");
    assert_eq!(
        err,
        "gdctl: error: no usable AWS credentials: none found: set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY, set AWS_PROFILE or pass --profile, or run `aws configure`\n"
    );
    assert!(stdout_of(&out).is_empty());
}

#[test]
fn no_home_region_says_how_to_set_one() {
    let w = World::new();
    let out = w.gdctl(&["status"]).env_remove("AWS_REGION").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("--region") && err.contains("AWS_REGION"), "{err}");
}

#[test]
fn an_unknown_profile_is_a_setup_error() {
    let w = World::new();
    let out = w.gdctl(&["status", "--profile", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("profile `nope` not found"), "{}", stderr_of(&out));
}

#[test]
fn profile_from_config_files_supplies_credentials_region_and_endpoint() {
    let w = World::new();
    let dir = w.home.path();
    fs::write(
        dir.join("aws-config"),
        format!("[profile ci]\nregion = {HOME_REGION}\nendpoint_url = {}\n", moto().url),
    )
    .unwrap();
    let mut creds = format!(
        "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        w.account.key, w.account.secret
    );
    if let Some(t) = &w.account.token {
        creds.push_str(&format!("aws_session_token = {t}\n"));
    }
    fs::write(dir.join("aws-credentials"), creds).unwrap();

    // No credential, region or endpoint variables: all of it from the profile.
    let out = w.bare_gdctl(&["enable", "--profile", "ci", "--regions", "eu-north-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout_of(&out).starts_with("eu-north-1  created"), "{}", stdout_of(&out));
    assert_eq!(w.detectors("eu-north-1").len(), 1);

    // AWS_PROFILE works the same way.
    w.bare_gdctl(&["status", "--check", "--regions", "eu-north-1"]).env("AWS_PROFILE", "ci").assert().code(0);
}

#[test]
fn endpoint_url_flag_overrides_the_environment() {
    let w = World::new();
    let out = w
        .gdctl(&["status", "--regions", "eu-west-1", "--endpoint-url", &moto().url])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9") // discard port: would fail if used
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn help_documents_exit_codes() {
    let w = World::new();
    let out = w.bare_gdctl(&["--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = stdout_of(&out);
    for needle in ["Exit codes", "status --check", "enable", "disable"] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}

#[test]
fn verbose_logs_go_to_stderr_and_leave_the_report_alone() {
    let w = World::new();
    let quiet = w.gdctl(&["status", "--regions", "eu-west-1"]).output().unwrap();
    assert!(stderr_of(&quiet).is_empty(), "{}", stderr_of(&quiet));
    let v = w.gdctl(&["status", "--regions", "eu-west-1", "-v"]).output().unwrap();
    assert!(stderr_of(&v).contains("region finished"), "{}", stderr_of(&v));
    assert_eq!(stdout_of(&v), stdout_of(&quiet));
    let vv = w.gdctl(&["status", "--regions", "eu-west-1", "-vv"]).output().unwrap();
    assert!(stderr_of(&vv).contains("GuardDuty.ListDetectors"), "the SDK's requests at -vv");
}
