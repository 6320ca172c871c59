//! Bad settings in the environment or the config files: one line naming the
//! setting and where it came from, exit 2, never a panic.

use crate::common::*;

fn assert_refused(out: &std::process::Output, expected: &str, case: &str) {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(2), "{case}: {err}");
    assert!(!err.contains("panicked"), "{case}: {err}");
    assert_eq!(err.lines().count(), 1, "{case}: one line: {err}");
    assert!(err.starts_with("gdctl: error: ") && err.contains(expected), "{case}: {err}");
    assert!(!err.contains("Error {") && !err.contains("Some("), "{case}: no debug output: {err}");
}

#[test]
fn bad_environment_values_are_refused_by_name() {
    let w = World::new();
    let table = [
        ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS (environment) is `0`"),
        ("AWS_MAX_ATTEMPTS", "abc", "AWS_MAX_ATTEMPTS (environment) is `abc`"),
        ("AWS_MAX_ATTEMPTS", "21", "from 1 to 20"),
        ("AWS_MAX_ATTEMPTS", "", "AWS_MAX_ATTEMPTS (environment) is ``"),
        ("AWS_RETRY_MODE", "bogus", "AWS_RETRY_MODE (environment) is `bogus`"),
        ("AWS_REGION", "", "AWS_REGION (environment) is empty"),
        ("AWS_REGION", "US-EAST-1", "did you mean `us-east-1`?"),
        ("AWS_REGION", "-x", "AWS_REGION (environment) `-x` is not a region name"),
        (
            "AWS_ENDPOINT_URL",
            "not-a-url",
            "AWS_ENDPOINT_URL (environment): `not-a-url` must start with http://",
        ),
        ("AWS_ENDPOINT_URL_GUARDDUTY", "ftp://x", "AWS_ENDPOINT_URL_GUARDDUTY (environment)"),
        ("AWS_PROFILE", "nope", "profile `nope` not found"),
    ];
    for (name, value, expected) in table {
        let out = w.gdctl(&["enable", "--regions", "eu-west-1"]).env(name, value).output().unwrap();
        assert_refused(&out, expected, &format!("{name}={value}"));
    }
    assert!(w.detectors("eu-west-1").is_empty(), "nothing was changed");
}

#[test]
fn bad_profile_values_are_refused_by_name() {
    let w = World::new();
    let table = [
        ("max_attempts = 0", "`max_attempts` in profile `ci` is `0`"),
        ("max_attempts = many", "`max_attempts` in profile `ci` is `many`"),
        ("retry_mode = fast", "`retry_mode` in profile `ci` is `fast`"),
        ("region = eu west 1", "`region` in profile `ci` `eu west 1` is not a region name"),
        ("endpoint_url = localhost:4566", "`endpoint_url` in profile `ci`: `localhost:4566` must start with"),
    ];
    for (line, expected) in table {
        w.aws_files(&format!("[profile ci]\n{line}\n"), &w.account.profile_section("ci"));
        let out = w
            .bare_gdctl(&["enable", "--regions", "eu-west-1", "--profile", "ci"])
            .env("AWS_ENDPOINT_URL_STS", &moto().url)
            .output()
            .unwrap();
        assert_refused(&out, expected, line);
    }
    assert!(w.detectors("eu-west-1").is_empty(), "nothing was changed");
}

#[test]
fn settings_the_sdk_only_warns_about_do_not_stop_the_run() {
    let w = World::new();
    for (name, value) in [
        ("AWS_USE_FIPS_ENDPOINT", "maybe"),
        ("AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES", "abc"),
        ("AWS_SDK_UA_APP_ID", "x y"),
        ("AWS_DEFAULT_REGION", ""),
    ] {
        let out = w.gdctl(&["status", "--regions", "eu-west-1"]).env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}={value}: {}", stderr_of(&out));
    }
}

#[test]
fn a_config_file_that_does_not_parse_is_one_line_naming_it() {
    let w = World::new();
    w.aws_files("[profile x\nregion = us-east-1\n", "");
    let out = w.gdctl(&["status"]).output().unwrap();
    let path = w.home.path().join("aws-config");
    assert_refused(&out, &format!("could not read the AWS config files: could not parse profile file: error parsing {} on line 1: Profile definition must end with ']'", path.display()), "bad file");
}
