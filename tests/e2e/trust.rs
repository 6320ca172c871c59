//! Nothing changes that the user did not agree to, and every change made is
//! reported: the question covers exactly what the run changes, it is asked
//! at the terminal whatever stdin is, flags that could only be ignored are
//! refused, and a failure after a write still shows the write.

use std::io::Read;

use crate::common::*;

const WEST_EAST: &str = "us-west-2,us-east-2";

fn region_changes(doc: &serde_json::Value, region: &str) -> Vec<String> {
    let r = &by_region(doc)[region];
    r["changes"]
        .as_array()
        .map_or(Vec::new(), |c| c.iter().map(|c| c.as_str().unwrap().to_string()).collect())
}

#[test]
fn a_region_that_could_not_be_read_before_the_question_is_left_alone() {
    let w = World::new();
    w.create_detector("us-west-2", true, "SIX_HOURS");
    w.create_detector("us-east-2", true, "SIX_HOURS");
    // us-west-2's reads are throttled past the retries once (the preview), then pass.
    let front = front(&["us-west-2=throttle:3"]);
    let at = w.through(&front);
    let out = at.gdctl_at_terminal(&["disable", "--regions", WEST_EAST], "y\n");
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("Delete 1 detector in account"), "{shown}");
    assert!(shown.contains("Not read, so left alone (run again for these):"), "{shown}");
    assert!(shown.contains("could not be read before asking: left alone"), "{shown}");
    assert_eq!(w.detectors("us-west-2").len(), 1, "the question did not show it: it must stay");
    assert!(w.detectors("us-east-2").is_empty(), "shown and agreed to");

    // Run again: now it is read, shown, and goes on yes.
    let out = at.gdctl_at_terminal(&["disable", "--regions", WEST_EAST], "y\n");
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(w.detectors("us-west-2").is_empty());
}

#[test]
fn a_region_the_question_did_not_show_is_read_again_and_left_alone() {
    let w = World::new();
    w.create_detector("us-east-2", true, "SIX_HOURS");
    let line = format!("GDCTL disable --regions {WEST_EAST} --output json");
    // While the question waits, another writer turns GuardDuty on in us-west-2.
    let mut appeared = None;
    let out = converse_acting(w.std_terminal_line(&line), &[("[y/N] ", "y\n")], &mut |_| {
        appeared = Some(w.create_detector("us-west-2", true, "SIX_HOURS"));
    });
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(w.detectors("us-east-2").is_empty(), "shown and agreed to");
    let id = appeared.unwrap();
    assert_eq!(w.detectors("us-west-2").len(), 1, "not shown: never deleted");
    assert!(
        shown.contains("ChangedSinceAsked")
            && shown.contains(&format!("detector {id} appeared after the question")),
        "{shown}"
    );
}

#[test]
fn when_no_region_can_be_read_nothing_is_asked_and_nothing_is_deleted() {
    let w = World::new();
    w.create_detector("us-west-2", true, "SIX_HOURS");
    w.create_detector("us-east-2", true, "SIX_HOURS");
    let front = front(&["us-west-2=throttle:3", "us-east-2=throttle:3"]);
    let at = w.through(&front);
    let out = at.gdctl_at_terminal(&["disable", "--regions", WEST_EAST], "");
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(!shown.contains("[y/N]"), "{shown}");
    assert_eq!(w.detectors("us-west-2").len(), 1);
    assert_eq!(w.detectors("us-east-2").len(), 1);
}

#[test]
fn at_a_terminal_gdctl_asks_there_whatever_stdin_is() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let line = format!("printf '{}\\n' | GDCTL disable --accounts-file - --regions eu-west-1", w.account.id);
    let out = converse(w.std_terminal_line(&line), &[("[y/N] ", "n\n")]);
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("[y/N]") && shown.contains("nothing was deleted"), "{shown}");
    assert_eq!(w.detectors("eu-west-1").len(), 1, "stdin was a pipe, but the terminal said no");

    let out = converse(w.std_terminal_line(&line), &[("[y/N] ", "y\n")]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(w.detectors("eu-west-1").is_empty());

    // The ids typed at the terminal itself, then the answer: it says what it waits for.
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let ids = format!("{}\n\x04", w.account.id);
    let line = "GDCTL disable --accounts-file - --regions eu-west-1";
    let out = converse(w.std_terminal_line(line), &[("reading account ids", &ids), ("[y/N] ", "y\n")]);
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("reading account ids from standard input"), "{shown}");
    assert!(w.detectors("eu-west-1").is_empty());
}

#[test]
fn a_yes_typed_before_the_question_shows_is_not_the_answer() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    w.create_detector("eu-west-2", true, "SIX_HOURS");
    // eu-west-2 is read slowly: the yes goes in once eu-west-1 is read,
    // while the question is still to come.
    let front = front(&["eu-west-2=delay:1500"]);
    let at = w.through(&front);
    let line = "GDCTL disable --regions eu-west-1,eu-west-2 -v";
    let out = converse(at.std_terminal_line(line), &[("region finished", "y\n"), ("[y/N] ", "")]);
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("not confirmed: nothing was deleted"), "{shown}");
    assert_eq!(w.detectors("eu-west-1").len(), 1, "typed ahead, before the list was shown");
}

#[test]
fn a_terminal_gdctl_cannot_ask_on_is_a_refusal_not_a_go_ahead() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    // Its output is the terminal, but it has no controlling terminal to ask on.
    let out =
        w.terminal_line("setsid -w GDCTL disable --regions eu-west-1").write_stdin("y\n").output().unwrap();
    let shown = stdout_of(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    assert!(shown.contains("cannot be opened to ask") && shown.contains("pass --yes"), "{shown}");
    assert_eq!(w.detectors("eu-west-1").len(), 1);
    let out = w
        .terminal_line("setsid -w GDCTL disable --yes --regions eu-west-1")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(w.detectors("eu-west-1").is_empty());
}

#[test]
fn no_answer_in_time_is_a_refusal_not_a_wait_forever() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    // A terminal nobody types on (a container started with -t and no input).
    let mut cmd = w.std_terminal_line("GDCTL disable --regions eu-west-1");
    let mut child = cmd.env("GDCTL_CONFIRM_TIMEOUT", "1").spawn().unwrap();
    let stdin = child.stdin.take().unwrap(); // held open, never written
    let mut shown = String::new();
    child.stdout.take().unwrap().read_to_string(&mut shown).unwrap();
    let code = child.wait().unwrap().code();
    drop(stdin);
    assert_eq!(code, Some(2), "{shown}");
    assert!(shown.contains("no answer within 1 s") && shown.contains("nothing was changed"), "{shown}");
    assert_eq!(w.detectors("eu-west-1").len(), 1);
}

#[test]
fn flags_that_could_only_be_ignored_are_refused_before_any_call() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    let own = w.account.id.clone();
    let refused = |args: &[&str], says: &str| {
        let out = w.gdctl(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
        assert!(stderr_of(&out).contains(says), "{args:?}: {}", stderr_of(&out));
    };
    refused(
        &["disable", "--exclude-accounts", &own, "--yes", "--regions", "eu-west-1"],
        "nothing to leave out",
    );
    refused(&["status", "--exclude-accounts", "111111111111"], "--exclude-accounts narrows");
    let typo = ["enable", "--accounts", &own, "--exclude-accounts", "111111111112", "--regions", "eu-west-1"];
    refused(&typo, "--exclude-accounts 111111111112: not among the accounts of --accounts");
    refused(&["status", "--role-name", "Auditor"], "--role-name only applies where gdctl assumes a role");
    refused(
        &["status", "--external-id", "abc-123", "--session-duration", "900"],
        "--external-id, --session-duration",
    );
    // The test credentials are an assumed role's: a chained role lasts an hour at most.
    let other = fresh_account_id();
    let list = format!("{own},{other}");
    refused(
        &["disable", "--accounts", &list, "--session-duration", "7200", "--yes", "--regions", "eu-west-1"],
        "role chaining",
    );
    assert_eq!(w.detectors("eu-west-1").len(), 1, "nothing changed");
}

#[test]
fn an_accounts_file_may_start_with_a_byte_order_mark() {
    let w = World::new();
    let file = w.home.path().join("accounts.txt");
    std::fs::write(&file, format!("\u{feff}{}\n", w.account.id)).unwrap();
    let (code, doc) =
        w.json(&["status", "--accounts-file", file.to_str().unwrap(), "--regions", "eu-west-1"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["accounts"][0]["account"], w.account.id.as_str());
}

#[test]
fn a_change_made_before_a_failure_is_reported() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    // UpdateDetector passes; TagResource (POST /tags/ARN) fails after it.
    let front = front_with(&["--fault-on", "POST /tags/.*=500"]);
    let at = w.through(&front);
    let args = ["enable", "--frequency", "one-hour", "--tag", "team=sec", "--regions", "eu-west-1"];
    let (code, doc) = at.json(&args);
    assert_eq!(code, 1, "{doc:#}");
    let r = &by_region(&doc)["eu-west-1"];
    assert_eq!(r["outcome"], "failed", "{r:#}");
    assert_eq!(region_changes(&doc, "eu-west-1"), ["SIX_HOURS -> ONE_HOUR"], "{r:#}");
    assert!(r["detector_id"].is_string(), "{r:#}");
    assert_eq!(w.detectors("eu-west-1")[0].frequency, "ONE_HOUR", "the change was made");
    // The text says it too. (The frequency is set now: the tag alone fails.)
    w.gdctl(&["enable", "--frequency", "six-hours", "--regions", "eu-west-1"]).assert().code(0);
    let out = at.gdctl(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout_of(&out).contains("made before the failure: SIX_HOURS -> ONE_HOUR"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn colour_only_where_the_terminal_shows_it() {
    let w = World::new();
    let out = w
        .terminal(&["status", "--regions", "eu-west-1"])
        .env("TERM", "xterm")
        .write_stdin("")
        .output()
        .unwrap();
    assert!(stdout_of(&out).contains("\x1b["), "a terminal gets colour: {}", stdout_of(&out));
    let out = w
        .terminal(&["status", "--regions", "eu-west-1"])
        .env("TERM", "dumb")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout_of(&out).contains("\x1b["), "a dumb terminal gets none: {:?}", stdout_of(&out));
}

#[test]
fn endpoint_url_is_where_roles_are_assumed_too_whatever_the_environment_says() {
    // AWS_ENDPOINT_URL points at moto itself; --endpoint-url at a front that
    // refuses the role: the flag wins for AssumeRole as for every other call.
    let w = World::new();
    let other = Account::fresh();
    let role = format!("arn:aws:iam::{}:role/OrganizationAccountAccessRole", other.id);
    let front = front_with(&["--deny-role", &role]);
    for var in ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"] {
        let mut cmd = w.gdctl(&[
            "status",
            "--accounts",
            &other.id,
            "--regions",
            "eu-west-1",
            "--endpoint-url",
            &front.url,
        ]);
        cmd.env(var, &moto().url);
        let (code, doc) = json_of(cmd);
        assert_eq!(code, 1, "{var}: {doc:#}");
        assert_eq!(doc["accounts"][0]["outcome"], "failed", "{var}: {doc:#}");
        assert!(
            doc["accounts"][0]["error"]["message"].as_str().unwrap().contains("AssumeRole failed"),
            "{var}: {doc:#}"
        );
    }
}

#[test]
fn a_servers_words_reach_the_terminal_as_text_not_as_control() {
    // An error message holding escape sequences and line breaks.
    let w = World::new();
    let front = front(&["eu-west-1=hostile"]);
    let at = w.through(&front);
    let out = at.gdctl(&["status", "--regions", "eu-west-1", "--max-attempts", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    assert!(text.contains("BadRequestException") && text.contains("spoof"), "{text}");
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
}

#[test]
fn a_proxy_variable_that_is_no_proxy_url_is_refused_not_bent_into_one() {
    let w = World::new();
    for (var, value) in
        [("HTTP_PROXY", "http://bob:pr0xypw@127.0.0.1:99999"), ("HTTPS_PROXY", "http://bob:pr0xypw@[::1:1")]
    {
        let out = w.gdctl(&["status", "--regions", "eu-west-1"]).env(var, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {}", stderr_of(&out));
        let err = stderr_of(&out);
        assert!(err.contains(&format!("{var} (environment) is not a proxy URL")), "{err}");
        assert!(!err.contains("pr0xypw"), "{err}");
    }
}
