//! Hardening: NO_PROXY as the aws CLI reads it, endpoints checked (and their
//! passwords never printed), one wording for every deadline, no process left
//! behind, unreadable AWS files named, the man page's ENVIRONMENT, and
//! values AWS would refuse refused before any call.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_guardduty::types::FeatureStatus;

use crate::common::*;

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn moto_port() -> u16 {
    moto().url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

/// The refusal every bad setting gets: exit 2, one line, no panic, nothing on stdout.
fn assert_refused(out: &std::process::Output, expected: &str, case: &str) -> String {
    let err = stderr_of(out);
    assert_eq!(out.status.code(), Some(2), "{case}: {err}");
    assert!(!err.contains("panicked"), "{case}: {err}");
    assert_eq!(err.lines().count(), 1, "{case}: one line: {err}");
    assert!(err.contains(expected), "{case}: `{expected}` not in: {err}");
    assert!(stdout_of(out).is_empty(), "{case}");
    err
}

// 1. NO_PROXY

#[test]
fn no_proxy_star_or_the_host_and_port_send_calls_direct_past_a_dead_proxy() {
    let proxy = format!("http://gd:Pr0xyPw@127.0.0.1:{}", dead_port());
    let w = World::new();
    let moto_at = format!("127.0.0.1:{}", moto_port());
    for (variable, no_proxy) in [
        ("HTTP_PROXY", "*".to_string()),
        ("ALL_PROXY", "*".to_string()),
        ("HTTP_PROXY", format!("example.com, {moto_at}")),
        ("all_proxy", moto_at.clone()),
    ] {
        let out = w
            .gdctl(&["enable", "--regions", "eu-west-1"])
            .env(variable, &proxy)
            .env("NO_PROXY", &no_proxy)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{variable} NO_PROXY={no_proxy}: {}", stderr_of(&out));
        assert_eq!(w.detectors("eu-west-1").len(), 1, "NO_PROXY={no_proxy}");
    }
    // The lower-case spelling, and the same host at another port: that one
    // goes through the proxy, named without its password.
    let out = w
        .gdctl(&["status", "--regions", "eu-west-1"])
        .env("HTTP_PROXY", &proxy)
        .env("no_proxy", "*")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "no_proxy=*: {}", stderr_of(&out));
    let other = format!("127.0.0.1:{}", moto_port().wrapping_add(1));
    let out = w
        .gdctl(&["status", "--regions", "eu-west-1"])
        .env("HTTP_PROXY", &proxy)
        .env("NO_PROXY", &other)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let dead = proxy.replace("gd:Pr0xyPw@", "");
    assert!(err.contains(&format!("(at {} through proxy {dead})", moto().url)), "{err}");
    assert!(!err.contains("Pr0xyPw"), "{err}");
}

// 2 and 3. Endpoints

#[test]
fn an_endpoint_holding_a_password_is_refused_from_any_source_without_printing_it() {
    let w = World::new();
    let secret = format!("http://gd:Secr3t@127.0.0.1:{}", moto_port());
    let cases: Vec<(&str, assert_cmd::Command)> = vec![
        ("--endpoint-url", w.gdctl(&["status", "--endpoint-url", &secret])),
        ("--endpoint-url -vv", w.gdctl(&["status", "-vv", "--endpoint-url", &secret])),
        // A URL clap itself would have refused, echoing it.
        ("--endpoint-url, bad too", w.gdctl(&["status", "--endpoint-url", "http://gd:Secr3t@ x"])),
        ("AWS_ENDPOINT_URL", {
            let mut c = w.gdctl(&["status"]);
            c.env("AWS_ENDPOINT_URL", &secret);
            c
        }),
        ("AWS_ENDPOINT_URL_GUARDDUTY", {
            let mut c = w.gdctl(&["status"]);
            c.env("AWS_ENDPOINT_URL_GUARDDUTY", &secret);
            c
        }),
    ];
    for (case, mut cmd) in cases {
        let out = cmd.output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{case}: {err}");
        assert!(!err.contains("Secr3t") && !err.contains("gd:"), "{case}: the password is printed: {err}");
        assert!(err.contains("holds a user name or password"), "{case}: {err}");
    }
    w.aws_files(&format!("[profile ci]\nendpoint_url = {secret}\n"), &w.account.profile_section("ci"));
    let out = w.bare_gdctl(&["status", "--profile", "ci", "--region", HOME_REGION]).output().unwrap();
    let err = assert_refused(&out, "`endpoint_url` in profile `ci`: `http://***@127.0.0.1:", "profile");
    assert!(!err.contains("Secr3t"), "{err}");
}

#[test]
fn a_port_out_of_range_or_not_a_number_is_an_invalid_url_before_any_call() {
    // STS and EC2 would go here: a listener that records any connection.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let w = World::via(&format!("http://{}", listener.local_addr().unwrap()));
    for (url, port) in [("http://127.0.0.1:99999", "99999"), ("http://127.0.0.1:abc", "abc")] {
        let expected =
            format!("`{url}` is not a valid URL: its port `{port}` is not a number from 1 to 65535");
        let out = w.gdctl(&["status", "--endpoint-url", url]).output().unwrap();
        assert_refused(&out, &format!("gdctl: error: --endpoint-url: {expected}"), url);
        let out =
            w.gdctl(&["status", "--timeout", "2"]).env("AWS_ENDPOINT_URL_GUARDDUTY", url).output().unwrap();
        let err = assert_refused(&out, &format!("AWS_ENDPOINT_URL_GUARDDUTY (environment): {expected}"), url);
        assert!(!err.contains("connection refused"), "{err}");
    }
    listener.set_nonblocking(true).unwrap();
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a call was made before the URL was checked: {accepted:?}"
    );
}

// 4. No answer within the deadline

#[test]
fn a_region_without_an_answer_says_what_a_setup_call_without_one_says() {
    let hang = front(&["eu-west-1=hang"]);
    let w = World::via(&hang.url);
    let (code, doc) = w.json(&["status", "--regions", "eu-west-1,eu-west-2", "--timeout", "2"]);
    assert_eq!(code, 1, "{doc:#}");
    let r = by_region(&doc);
    assert_eq!(r["eu-west-2"]["error"], serde_json::Value::Null, "{doc:#}");
    let error = &r["eu-west-1"]["error"];
    assert_eq!(error["code"], "Timeout", "{doc:#}");
    assert_eq!(error["message"], "no answer within 2 s (--timeout)", "{doc:#}");
    assert_eq!(
        error["endpoint"],
        hang.url.as_str(),
        "a region cut by its deadline names where it waited: {doc:#}"
    );
    // The home region's setup calls, cut the same way.
    let hang = front(&["us-east-1/sts=hang"]);
    let out = World::via(&hang.url).gdctl(&["status", "--timeout", "2"]).output().unwrap();
    assert_eq!(
        stderr_of(&out),
        format!(
            "gdctl: error: GetCallerIdentity in us-east-1 failed: Timeout: no answer within 2 s (--timeout) (at {})\n",
            hang.url
        )
    );
}

// 5. credential_process

/// Processes a test started, killed if the test fails before they end.
struct Pids(Vec<i32>);

impl Drop for Pids {
    fn drop(&mut self) {
        for &pid in &self.0 {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Running: in the process table and not a zombie.
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").split_whitespace().next();
            !matches!(state, Some("Z" | "X"))
        }
        Err(_) => false,
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_credential_process_cut_by_the_deadline_is_ended_with_what_it_started() {
    let w = World::new();
    let pidfile = w.home.path().join("pids");
    // Its shell, and a sleep that shell starts in the background.
    let command = format!("sh -c 'echo $$ > {0}; sleep 300 & echo $! >> {0}; wait'", pidfile.display());
    w.aws_files(&format!("[profile stuck]\ncredential_process = {command}\n"), "");
    // Files, not pipes: gdctl's exit is what is waited for, not the pipes'
    // last writer (the processes share gdctl's stderr).
    let (stdout, stderr) = (w.home.path().join("stdout"), w.home.path().join("stderr"));
    let mut child = w
        .std_gdctl(&["status", "--profile", "stuck", "--timeout", "1"])
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("gdctl did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "gdctl: error: no usable AWS credentials: profile `stuck`: no credentials within 1 s (--timeout)\n"
    );
    let pids =
        Pids(std::fs::read_to_string(&pidfile).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect());
    assert_eq!(pids.0.len(), 2, "{:?}", pids.0);
    // The kills were sent before gdctl exited; their effect is waited for, briefly.
    let until = Instant::now() + Duration::from_secs(5);
    while pids.0.iter().any(|p| running(*p)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<i32> = pids.0.iter().copied().filter(|p| running(*p)).collect();
    assert!(left.is_empty(), "still running after gdctl exited: {left:?}");
}

// 6. AWS files that cannot be read

#[test]
fn an_aws_file_that_is_there_but_cannot_be_read_is_named() {
    let w = World::new();
    let config = w.home.path().join("aws-config");
    std::fs::create_dir(&config).unwrap();
    let out = w.gdctl(&["status", "--regions", "eu-west-1"]).output().unwrap();
    assert_eq!(
        assert_refused(&out, "", "config is a directory"),
        format!(
            "gdctl: error: cannot read the AWS config file {} (from AWS_CONFIG_FILE): it is a directory\n",
            config.display()
        )
    );
    std::fs::remove_dir(&config).unwrap();

    // The default place, under HOME, with a profile that is in it.
    let credentials = w.home.path().join(".aws/credentials");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(w.home.path().join(".aws/config"), "[profile ci]\nregion = us-east-1\n").unwrap();
    let out = w
        .bare_gdctl(&["status", "--profile", "ci"])
        .env_remove("AWS_CONFIG_FILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env("AWS_ENDPOINT_URL", &w.endpoint)
        .output()
        .unwrap();
    assert_eq!(
        assert_refused(&out, "", "default credentials file is a directory"),
        format!(
            "gdctl: error: cannot read the AWS credentials file {} (the default): it is a directory\n",
            credentials.display()
        )
    );
}

// 7. The man page

/// Every environment variable the source reads by name (`env("X")`,
/// `var("X")`, `var_os("X")`, `Source::Env("X")`, `pick("X", ...)`), and the
/// proxy variables' list.
fn variables_in_the_source() -> Vec<String> {
    let mut names = Vec::new();
    let mut files = vec![manifest_dir().join("src")];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for call in ["env(\"", "var(\"", "var_os(\"", "Env(\"", "pick(\""] {
            for (i, _) in text.match_indices(call) {
                let rest = &text[i + call.len()..];
                let name = &rest[..rest.find('"').unwrap()];
                if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !name.is_empty() {
                    names.push(name.to_string());
                }
            }
        }
        if let Some(i) = text.find("const PROXY_VARIABLES") {
            let list = &text[i..i + text[i..].find("];").unwrap()];
            names.extend(list.split('"').skip(1).step_by(2).map(str::to_string));
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_man_page_has_environment_and_files_naming_every_variable_gdctl_reads() {
    let w = World::new();
    let text = rendered_man_page(&w);
    let environment = text.find("\nENVIRONMENT\n").expect("an ENVIRONMENT section");
    let files = text.find("\nFILES\n").expect("a FILES section");
    assert!(environment < files);
    let section = text[environment..files].split_whitespace().collect::<Vec<_>>().join(" ");
    let mut wanted: Vec<String> = [
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_EC2",
        "AWS_ENDPOINT_URL_GUARDDUTY",
        "AWS_ENDPOINT_URL_ORGANIZATIONS",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_MAX_ATTEMPTS",
        "AWS_RETRY_MODE",
        "AWS_CA_BUNDLE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "AWS_EC2_METADATA_DISABLED",
        "NO_COLOR",
        "TERM",
        "RUST_LOG",
        "HOME",
    ]
    .map(String::from)
    .to_vec();
    let read = variables_in_the_source();
    assert!(read.contains(&"NO_COLOR".to_string()) && read.contains(&"https_proxy".to_string()), "{read:?}");
    wanted.extend(read);
    for name in wanted {
        // Whole words: AWS_ENDPOINT_URL is not found inside AWS_ENDPOINT_URL_STS.
        let whole = section.match_indices(name.as_str()).any(|(i, _)| {
            !section[i + name.len()..].starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric())
        });
        assert!(whole, "{name} is not in the man page's ENVIRONMENT");
    }
    let files = text[files..].split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(files.contains("~/.aws/config") && files.contains("~/.aws/credentials"), "{files}");

    let help = stdout_of(&w.bare_gdctl(&["--help"]).output().unwrap());
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(help.contains("(STS, EC2, GuardDuty, Organizations)"), "{help}");
}

// 8. Feature names

#[test]
fn a_feature_named_twice_is_named_once() {
    let w = World::new();
    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1", "--features", "none,none"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(by_region(&doc)["eu-west-1"]["outcome"], "created");
    let ids = w.account.detector_ids("eu-west-1");
    assert_eq!(ids.len(), 1);
    let d = block_on(w.gd("eu-west-1").get_detector().detector_id(&ids[0]).send()).unwrap();
    let on: Vec<_> = d
        .features()
        .iter()
        .filter(|f| f.status() == Some(&FeatureStatus::Enabled))
        .map(|f| f.name())
        .collect();
    assert!(on.is_empty(), "every plan off: {on:?}");
    let (code, doc) = w.json(&[
        "status",
        "--check",
        "--regions",
        "eu-west-1",
        "--features",
        "s3-data-events,s3-data-events",
    ]);
    assert_eq!(code, 3, "s3-data-events is off: {doc:#}");
}

// 9. Values AWS would refuse

#[test]
fn tags_external_ids_and_role_names_aws_would_refuse_are_refused_before_any_call() {
    let w = World::new();
    let long = "r".repeat(65);
    let deep = format!("{}/gdctl", "p".repeat(511));
    let cases: &[(&[&str], &str)] = &[
        (&["enable", "--tag", "team name=sec"], "tag key `team name` holds ` `"),
        (&["enable", "--tag", "owner=me@corp"], "the value of tag `owner` holds `@`"),
        (&["enable", "--tag", "k=é"], "holds `é`"),
        (&["disable", "--only-tagged", "env=prod east"], "the value of tag `env` holds ` `"),
        (&["status", "--org", "--external-id", "x"], "an external id is 2 to 1224 characters, not 1"),
        (&["status", "--org", "--external-id", "a b"], "not ` `"),
        (&["status", "--org", "--role-name", &long], "longer than 64 characters"),
        (&["status", "--org", "--role-name", &deep], "longer than 512 characters"),
    ];
    for (args, expected) in cases {
        let args = [&args[..], &["--regions", "eu-west-1"][..]].concat();
        let out = w.gdctl(&args).output().unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected) && !err.contains("panicked"), "{args:?}: {err}");
    }
    assert!(w.detectors("eu-west-1").is_empty(), "nothing was created");
    // What GuardDuty does take: digits and `+ , - . / : ; < =` are in its `+-=` range.
    let (code, doc) = w.json(&["enable", "--regions", "eu-west-1", "--tag", "cost-center/1=a,b;c<d"]);
    assert_eq!(code, 0, "{doc:#}");
    let ids = w.account.detector_ids("eu-west-1");
    let d = block_on(w.gd("eu-west-1").get_detector().detector_id(&ids[0]).send()).unwrap();
    let tags: BTreeMap<String, String> = d.tags().cloned().unwrap_or_default().into_iter().collect();
    assert_eq!(tags, BTreeMap::from([("cost-center/1".to_string(), "a,b;c<d".to_string())]));
}
