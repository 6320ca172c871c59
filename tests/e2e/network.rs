//! Where companies run gdctl: behind an HTTP proxy, with a private CA.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::*;

/// proxy.py (PyPI), on a loopback port, logging every request it carries.
struct Proxy {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn start() -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let (port_file, log) = (dir.path().join("port"), dir.path().join("log"));
        let bin = python().parent().unwrap().join("proxy");
        let child = Command::new(bin)
            .args(["--hostname", "127.0.0.1", "--port", "0", "--num-workers", "1", "--threaded"])
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log-file")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // proxy.py writes its port once it listens.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let port = loop {
            if let Some(p) = std::fs::read_to_string(&port_file).ok().and_then(|s| s.trim().parse().ok()) {
                break p;
            }
            assert!(std::time::Instant::now() < deadline, "proxy.py did not start");
            std::thread::yield_now();
        };
        Proxy { child, port, log, _dir: dir }
    }

    fn url(&self, credentials: &str) -> String {
        format!("http://{credentials}127.0.0.1:{}", self.port)
    }

    /// The requests it carried: `GET 127.0.0.1:5000/detector`, `CONNECT 127.0.0.1:443`.
    fn carried(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("access_log"))
            .map(|l| l.split(" - ").nth(3).unwrap_or("").to_string())
            .collect()
    }
}

#[test]
fn every_call_goes_through_the_proxy_unless_no_proxy_says_otherwise() {
    let proxy = Proxy::start();
    let w = World::new();
    let moto_host = moto().url.trim_start_matches("http://").to_string();
    let out = w
        .gdctl(&["enable", "--regions", "eu-west-1"])
        .env("HTTP_PROXY", proxy.url("gd:Pr0xyPw@"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(w.detectors("eu-west-1").len(), 1);
    let carried = proxy.carried();
    // STS and EC2 (POST /), then ListDetectors and CreateDetector.
    assert!(carried.iter().filter(|r| *r == &format!("POST {moto_host}/")).count() >= 2, "{carried:?}");
    assert!(carried.contains(&format!("GET {moto_host}/detector")), "{carried:?}");
    assert!(carried.contains(&format!("POST {moto_host}/detector")), "{carried:?}");

    let before = proxy.carried().len();
    let out = w
        .gdctl(&["status", "--regions", "eu-west-1"])
        .env("HTTP_PROXY", proxy.url(""))
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(proxy.carried().len(), before, "NO_PROXY: nothing through the proxy");
}

#[test]
fn a_proxy_that_refuses_is_one_line_naming_it_without_its_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let w = World::new();
    for verbose in [&[][..], &["-vv"][..]] {
        let args = [&["status", "--regions", "eu-west-1"][..], verbose].concat();
        let out =
            w.gdctl(&args).env("HTTP_PROXY", format!("http://gd:Pr0xyPw@127.0.0.1:{port}")).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = stderr_of(&out);
        assert!(!err.contains("Pr0xyPw"), "the password is never printed: {err}");
        if verbose.is_empty() {
            assert_eq!(
                err,
                format!(
                    "gdctl: error: GetCallerIdentity in us-east-1 failed: ConnectionError: connection refused \
                     (at {} through proxy http://127.0.0.1:{port})\n",
                    moto().url
                )
            );
        }
    }
}

/// A CA made now, and a certificate it signed for 127.0.0.1 (scripts/private-ca.sh).
fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let out =
        Command::new("bash").arg(manifest_dir().join("scripts/private-ca.sh")).arg(dir).output().unwrap();
    assert!(out.status.success(), "private-ca.sh: {}", stderr_of(&out));
    (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"))
}

#[test]
fn a_private_ca_is_trusted_from_aws_ca_bundle_or_the_profile_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(dir.path());
    let tls = front_with(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(tls.url.starts_with("https://"));
    let w = World::new().via_endpoint(&tls.url);

    // Without the bundle every call fails: one line, no debug output.
    let out = w.gdctl(&["status", "--regions", "eu-west-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err,
        format!(
            "gdctl: error: GetCallerIdentity in us-east-1 failed: ConnectionError: certificate not trusted: its issuer \
             is not a known CA (set AWS_CA_BUNDLE to your CA's PEM file) (at {})\n",
            tls.url
        )
    );

    let out = w.gdctl(&["enable", "--regions", "eu-west-1"]).env("AWS_CA_BUNDLE", &ca).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(w.detectors("eu-west-1").len(), 1);

    // A profile's ca_bundle, through a proxy by CONNECT.
    w.aws_files(
        &format!("[profile corp]\nca_bundle = {}\n", ca.display()),
        &w.account.profile_section("corp"),
    );
    let proxy = Proxy::start();
    let out = w
        .bare_gdctl(&["status", "--check", "--regions", "eu-west-1", "--profile", "corp"])
        .env("AWS_REGION", HOME_REGION)
        .env("AWS_ENDPOINT_URL", &tls.url)
        .env("HTTPS_PROXY", proxy.url(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let host = tls.url.trim_start_matches("https://");
    assert!(proxy.carried().iter().any(|r| r == &format!("CONNECT {host}")), "{:?}", proxy.carried());

    // A bundle that is missing, or not PEM: exit 2 naming it.
    let missing = dir.path().join("nope.pem");
    let out = w.gdctl(&["status"]).env("AWS_CA_BUNDLE", &missing).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).starts_with(&format!(
            "gdctl: error: AWS_CA_BUNDLE (environment): cannot read {}",
            missing.display()
        )),
        "{}",
        stderr_of(&out)
    );
    let out = w.gdctl(&["status"]).env("AWS_CA_BUNDLE", &key).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "a private key is not a certificate bundle");
    assert!(stderr_of(&out).contains("no PEM certificate"), "{}", stderr_of(&out));
}
