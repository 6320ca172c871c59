//! Every phase ends within --timeout, and says what it was waiting for.

use crate::common::*;

/// A loopback port that accepts connections (the kernel completes them on
/// the listen backlog) and never answers.
fn silent() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

#[test]
fn a_silent_endpoint_is_one_line_naming_it_and_the_deadline() {
    let (_listener, url) = silent();
    let w = World::via(&url);
    let out = w.gdctl(&["status", "--timeout", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        format!(
            "gdctl: error: GetCallerIdentity in us-east-1 failed: Timeout: no answer within 2 s (--timeout) \
             (at {url})\n"
        )
    );
    assert!(stdout_of(&out).is_empty());
}

#[test]
fn role_assumption_through_a_silent_endpoint_is_bounded_too() {
    let (_listener, url) = silent();
    let w = World::via(&url);
    w.aws_files(
        "[profile member]\nrole_arn = arn:aws:iam::111111111111:role/X\nsource_profile = src\n",
        &w.account.profile_section("src"),
    );
    let out = w.gdctl(&["status", "--profile", "member", "--timeout", "2"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        format!(
            "gdctl: error: no usable AWS credentials: profile `member`: AssumeRole failed: Timeout: \
             no answer within 2 s (--timeout) (at {url})\n"
        )
    );
}

#[test]
fn a_refused_connection_is_plain_words_and_the_full_chain_only_at_v() {
    let (listener, url) = silent();
    drop(listener); // nothing listens there now: connection refused
    let w = World::via(&url);
    let out = w.gdctl(&["status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        format!("gdctl: error: GetCallerIdentity in us-east-1 failed: ConnectionError: connection refused (at {url})\n")
    );
    let out = w.gdctl(&["status", "-v"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(err.contains("tcp connect error") && err.contains("dispatch failure"), "{err}");
}

#[test]
fn a_write_cut_by_the_deadline_is_an_unknown_outcome_and_a_rerun_converges() {
    let front = front(&["eu-west-2=hang-after-write"]);
    let w = World::via(&front.url);
    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1,eu-west-2", "--timeout", "3"]);
    assert_eq!(code, 1, "{doc:#}");
    let r = by_region(&doc);
    assert_eq!(r["eu-west-1"]["outcome"], "created");
    let cut = &r["eu-west-2"];
    assert_eq!(cut["outcome"], "unknown");
    assert_eq!(cut["error"]["code"], "Timeout");
    assert_eq!(
        cut["error"]["message"],
        "no answer to CreateDetector within 3 s: the change may or may not have been made; run again to converge"
    );
    assert_eq!(doc["summary"]["failed"], 1);
    // The front carried the create out: it was made, and a second run sees it.
    assert_eq!(w.detectors("eu-west-2").len(), 1);
    let again = World {
        account: w.account.clone(),
        endpoint: moto().url.clone(),
        home: tempfile::tempdir().unwrap(),
    };
    let (code, doc) = again.json(&["enable", "--regions", "eu-west-2"]);
    assert_eq!((code, &by_region(&doc)["eu-west-2"]["outcome"]), (0, &serde_json::json!("unchanged")));

    let id = w.detectors("eu-west-2")[0].id.clone();
    let text =
        stdout_of(&w.gdctl(&["disable", "--regions", "eu-west-2", "--timeout", "3"]).output().unwrap());
    let line = text.lines().find(|l| l.starts_with("eu-west-2")).unwrap();
    assert!(line.contains("unknown") && line.contains("no answer to DeleteDetector within 3 s"), "{text}");
    assert!(line.contains(&id), "the detector id known before the cut is kept: {text}");
    assert!(text.contains("1 failed (1 with an unknown outcome: run again)"), "{text}");
}

#[test]
fn a_credential_process_that_never_finishes_is_bounded() {
    let w = World::new();
    let script = w.home.path().join("stuck.sh");
    // Its stderr is gdctl's: closed here, so the test does not wait for the sleep.
    std::fs::write(&script, "#!/bin/sh\nexec 2>&- >&-\nsleep 30\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    w.aws_files(&format!("[profile stuck]\ncredential_process = {}\n", script.display()), "");
    let out = w.gdctl(&["status", "--profile", "stuck", "--timeout", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out),
        "gdctl: error: no usable AWS credentials: profile `stuck`: no credentials within 1 s (--timeout)\n"
    );
}
