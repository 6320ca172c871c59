//! Ctrl-C and SIGTERM lose nothing; a report nobody can read is no success.

use std::io::{BufRead, BufReader, Read};
use std::process::Child;

use crate::common::*;

const SIX: &str = "eu-west-1,eu-west-2,eu-west-3,us-east-1,us-east-2,us-west-2";

/// A front that makes every request take 300 ms, so a run with one region in
/// flight at a time lasts seconds and can be interrupted in the middle.
fn slow_front() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let delays = dir.path().join("delays.json");
    std::fs::write(&delays, r#"{"service_ms": 300, "rtt_ms": {"us-east-1": 0}}"#).unwrap();
    let front = front_with(&["--delays", delays.to_str().unwrap()]);
    drop(dir); // the front read the file when it started
    front
}

fn signal(child: &Child, sig: libc::c_int) {
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

/// Read stderr until a line contains `needle`; the lines read so far.
fn wait_for(stderr: &mut impl BufRead, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "gdctl ended before `{needle}`: {seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
    }
}

/// The regions gdctl reported as created agree with moto: those and no others
/// have a detector; the rest were not started.
fn assert_report_matches_moto(w: &World, outcomes: &[(String, String)]) {
    let mut not_started = 0;
    for (region, outcome) in outcomes {
        match outcome.as_str() {
            "created" => assert_eq!(w.detectors(region).len(), 1, "{region} reported created"),
            "not-started" => {
                not_started += 1;
                assert!(w.detectors(region).is_empty(), "{region} reported not started");
            }
            other => panic!("{region}: unexpected outcome {other}"),
        }
    }
    assert_eq!(outcomes.len(), 6, "every region is in the report");
    assert!(not_started >= 1, "the interruption stopped the run early: {outcomes:?}");
}

#[test]
fn ctrl_c_finishes_the_regions_in_flight_and_reports_everything() {
    let front = slow_front();
    let w = World::via(&front.url);
    let mut child = w.spawn_gdctl(&["enable", "--regions", SIX, "--concurrency", "1"]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("created"), "{first}");
    signal(&child, libc::SIGINT);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();

    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted: starting no more regions"), "{err}");
    let text = format!("{first}{rest}");
    let lines: Vec<&str> = text.lines().collect();
    let outcomes: Vec<(String, String)> = lines[..6]
        .iter()
        .map(|l| {
            let mut f = l.split_whitespace();
            (f.next().unwrap().to_string(), f.next().unwrap().to_string())
        })
        .collect();
    assert_report_matches_moto(&w, &outcomes);
    assert!(lines[6].ends_with("not started; interrupted by SIGINT"), "{text}");
}

#[test]
fn sigterm_or_a_closed_terminal_with_json_gives_a_whole_document_that_says_so() {
    // SIGHUP: the terminal went away; the report (to a file, here a pipe) still comes.
    for (sig, code) in [(libc::SIGTERM, 143), (libc::SIGHUP, 129)] {
        let front = slow_front();
        let w = World::via(&front.url);
        let mut child =
            w.spawn_gdctl(&["enable", "--regions", SIX, "--concurrency", "1", "--output", "json", "-v"]);
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        wait_for(&mut stderr, "region finished");
        signal(&child, sig);
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(code));
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["interrupted"], true);
        let outcomes: Vec<(String, String)> = by_region(&doc)
            .into_iter()
            .map(|(region, r)| (region, r["outcome"].as_str().unwrap().to_string()))
            .collect();
        assert_report_matches_moto(&w, &outcomes);
        assert_eq!(
            doc["summary"]["not_started"],
            outcomes.iter().filter(|(_, o)| o == "not-started").count()
        );
    }
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    // eu-west-2 never answers: only a second Ctrl-C ends the run before --timeout.
    let front = front(&["eu-west-2=hang"]);
    let w = World::via(&front.url);
    let mut child = w.spawn_gdctl(&["enable", "--regions", "eu-west-1,eu-west-2", "--timeout", "600", "-v"]);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    wait_for(&mut stderr, "region finished");
    signal(&child, libc::SIGINT);
    wait_for(&mut stderr, "interrupted: starting no more regions");
    signal(&child, libc::SIGINT);
    let rest = wait_for(&mut stderr, "interrupted again");
    assert!(rest.contains("changes in flight may be unreported"), "{rest}");
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[test]
fn a_report_that_cannot_be_written_is_a_failure() {
    let w = World::new();
    // A full disk.
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = w.std_gdctl(&["status", "--regions", "eu-west-1"]).stdout(full).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "gdctl: error: could not write the report to stdout: No space left on device (os error 28)\n"
    );
    // A closed stdout (`>&-`): Rust would take the writes as done; gdctl
    // does nothing and says why.
    let gdctl = env!("CARGO_BIN_EXE_gdctl");
    let line = ["sh", "-c", "exec \"$0\" enable --regions eu-west-1 >&-", gdctl];
    let out = w.std_command(line[0], &line[1..]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("standard output is closed"), "{}", stderr_of(&out));
    assert!(w.detectors("eu-west-1").is_empty(), "nothing may be done without a report");
}

/// A reader that goes away (`| head -c 20`) is noticed or not depending on
/// timing, so it never decides the exit code: the run's own is kept, every time.
#[test]
fn a_reader_that_goes_away_leaves_the_runs_exit_code() {
    let w = World::new();
    w.create_detector("eu-west-1", true, "SIX_HOURS");
    for format in ["json", "text"] {
        // Before anything is written, and (text) after the first bytes.
        let mut child = w.spawn_gdctl(&["status", "--check", "--frequency", "one-hour", "--output", format]);
        let mut stdout = child.stdout.take().unwrap();
        if format == "text" {
            let mut first = [0u8; 20];
            stdout.read_exact(&mut first).unwrap();
        }
        drop(stdout);
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(3), "{format}: the check's own code: {err}");
        assert!(!err.contains("error"), "{format}: {err}");
    }
}

/// An account none of whose regions had started when Ctrl-C came is
/// reported as not started, not as done.
#[test]
fn an_account_interrupted_before_any_region_is_not_started() {
    let front = front(&["eu-west-2=delay:3000"]);
    let w = World::via(&front.url);
    let other = Account::fresh();
    let list = format!("{},{}", w.account.id, other.id);
    let args =
        ["status", "--accounts", &list, "--regions", "eu-west-1,eu-west-2", "--concurrency", "1", "-v"];
    let mut child = w.spawn_gdctl(&[&args[..], &["--output", "json"]].concat());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    wait_for(&mut stderr, "region finished");
    signal(&child, libc::SIGINT);
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let outcome = |id: &str| {
        let a = doc["accounts"].as_array().unwrap().iter().find(|a| a["account"] == id).unwrap();
        a["outcome"].as_str().unwrap().to_string()
    };
    // The caller's account (first, by id order) had started; the other had not.
    let (first, second) =
        if w.account.id < other.id { (&w.account.id, &other.id) } else { (&other.id, &w.account.id) };
    assert_eq!(outcome(first), "ok", "{doc:#}");
    assert_eq!(outcome(second), "not-started", "{doc:#}");
}
