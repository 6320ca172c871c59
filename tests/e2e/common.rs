//! The end-to-end harness: the real `gdctl` binary against moto on loopback.
//!
//! One moto server per test binary, warmed once (moto builds each service's
//! backend on first touch, which costs seconds). Each test gets its own AWS
//! account on it (STS AssumeRole into a fresh account id: moto keeps state per
//! account), so tests run in parallel without seeing each other's detectors.
//! State is checked through the SDK talking to moto directly, never through
//! gdctl's own words alone.

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use aws_credential_types::Credentials;
use aws_sdk_guardduty::types::{DetectorStatus, FindingPublishingFrequency};
use aws_types::region::Region;

pub const HOME_REGION: &str = "us-east-1";

/// A helper process (moto or the fault front) on a loopback port. It exits
/// when its stdin closes, so even a crashed test leaves nothing running.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    let p = std::env::var_os("GDCTL_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join(".venv/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run `scripts/test.sh`, which installs the pinned moto into .venv",
        p.display()
    );
    p
}

fn spawn(script: &str, args: &[&str]) -> Server {
    let mut child = Command::new(python())
        .arg(manifest_dir().join("scripts").join(script))
        .args(args)
        .arg("--exit-on-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {script}: {e}"));
    // The script prints its address once it accepts connections.
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{script} did not start: {line:?}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"), "{url}");
    Server { child, url }
}

pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// The binary's shared moto server, started and warmed on first use.
pub fn moto() -> &'static Server {
    static MOTO: OnceLock<Server> = OnceLock::new();
    MOTO.get_or_init(|| {
        let server = spawn("emulator.py", &[]);
        let warm = Account::default();
        block_on(async {
            ec2(&server.url, &warm).describe_regions().all_regions(true).send().await.unwrap();
            guardduty(&server.url, &warm, HOME_REGION).list_detectors().send().await.unwrap();
        });
        server
    })
}

/// The fault front (scripts/front.py) between gdctl and the shared moto.
pub fn front(faults: &[&str]) -> Server {
    let args: Vec<&str> = faults.iter().flat_map(|f| ["--fault", f]).collect();
    front_with(&args)
}

/// The front with any of its options (`--delays FILE`, ...).
pub fn front_with(options: &[&str]) -> Server {
    let mut args = vec!["--upstream", &moto().url];
    args.extend(options);
    spawn("front.py", &args)
}

/// The account moto gives to keys it did not hand out itself.
pub const MOTO_DEFAULT_ACCOUNT: &str = "123456789012";

#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

/// An account id no other test uses.
pub fn fresh_account_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(100_000_000_001);
    NEXT.fetch_add(1, Ordering::SeqCst).to_string()
}

impl Account {
    fn default() -> Account {
        Account {
            id: MOTO_DEFAULT_ACCOUNT.into(),
            key: "testing".into(),
            secret: "testing".into(),
            token: None,
        }
    }

    /// A fresh, empty account on the shared moto.
    pub fn fresh() -> Account {
        Account::of(&fresh_account_id())
    }

    /// Credentials for account `id` on the shared moto (moto's AssumeRole
    /// hands out credentials of the account in the role ARN).
    pub fn of(id: &str) -> Account {
        let url = &moto().url;
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version_latest()
                .http_client(aws_smithy_http_client::Builder::new().build_http())
                .region(Region::new(HOME_REGION))
                .endpoint_url(url)
                .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
                .build(),
        );
        let out = block_on(
            sts.assume_role()
                .role_arn(format!("arn:aws:iam::{id}:role/gdctl-test"))
                .role_session_name("gdctl-test")
                .send(),
        )
        .unwrap();
        let c = out.credentials().unwrap();
        Account {
            id: id.to_string(),
            key: c.access_key_id().into(),
            secret: c.secret_access_key().into(),
            token: Some(c.session_token().into()),
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(&self.key, &self.secret, self.token.clone(), None, "test")
    }

    /// This account's detector ids in a region, read from moto directly.
    pub fn detector_ids(&self, region: &str) -> Vec<String> {
        let gd = guardduty(&moto().url, self, region);
        block_on(gd.list_detectors().send()).unwrap().detector_ids.unwrap_or_default()
    }

    pub fn delete_detector(&self, region: &str, id: &str) {
        let gd = guardduty(&moto().url, self, region);
        block_on(gd.delete_detector().detector_id(id).send()).unwrap();
    }

    /// The keys as a credentials-file profile section.
    pub fn profile_section(&self, name: &str) -> String {
        let mut s =
            format!("[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n", self.key, self.secret);
        if let Some(t) = &self.token {
            s.push_str(&format!("aws_session_token = {t}\n"));
        }
        s
    }
}

fn sdk_config(url: &str, account: &Account, region: &str) -> aws_types::SdkConfig {
    aws_types::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .region(Region::new(region.to_string()))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            account.credentials(),
        ))
        .build()
}

pub fn guardduty(url: &str, account: &Account, region: &str) -> aws_sdk_guardduty::Client {
    aws_sdk_guardduty::Client::new(&sdk_config(url, account, region))
}

/// Organizations on the shared moto, as `account`.
pub fn organizations(account: &Account) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::new(&sdk_config(&moto().url, account, HOME_REGION))
}

fn ec2(url: &str, account: &Account) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&sdk_config(url, account, HOME_REGION))
}

/// A detector as the independent client sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub id: String,
    pub enabled: bool,
    pub frequency: String,
}

pub fn seen(id: &str, enabled: bool, frequency: &str) -> Seen {
    Seen { id: id.to_string(), enabled, frequency: frequency.to_string() }
}

/// One test's world: a fresh account on moto, a scratch HOME, and the endpoint
/// gdctl is pointed at (moto itself, or a fault front before it).
pub struct World {
    pub account: Account,
    pub endpoint: String,
    pub home: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        World::via(&moto().url)
    }

    /// The same account with a scratch HOME of its own, gdctl pointed at a
    /// fault front (moto behind it).
    pub fn through(&self, front: &Server) -> World {
        World {
            account: self.account.clone(),
            endpoint: front.url.clone(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// The same account and HOME, with gdctl pointed at another endpoint.
    pub fn via_endpoint(self, endpoint: &str) -> World {
        World { endpoint: endpoint.to_string(), ..self }
    }

    pub fn via(endpoint: &str) -> World {
        World {
            account: Account::fresh(),
            endpoint: endpoint.to_string(),
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// `gdctl` with a clean environment: this world's credentials, home region
    /// and endpoint; no real AWS files; the metadata service never probed.
    pub fn gdctl(&self, args: &[&str]) -> assert_cmd::Command {
        let cmd = self.bare_gdctl(args);
        self.with_account(cmd)
    }

    fn with_account(&self, mut cmd: assert_cmd::Command) -> assert_cmd::Command {
        cmd.envs(self.account_env());
        cmd
    }

    /// This world's credentials, home region and endpoint, as variables.
    fn account_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let mut vars = vec![
            ("AWS_ACCESS_KEY_ID", self.account.key.clone().into()),
            ("AWS_SECRET_ACCESS_KEY", self.account.secret.clone().into()),
            ("AWS_REGION", HOME_REGION.into()),
            ("AWS_ENDPOINT_URL", self.endpoint.clone().into()),
        ];
        vars.extend(self.account.token.clone().map(|t| ("AWS_SESSION_TOKEN", t.into())));
        vars
    }

    /// What every gdctl run here starts from: no variables but PATH, a scratch
    /// HOME and AWS files, no metadata probe.
    fn isolated_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        vec![
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", self.home.path().into()),
            ("AWS_CONFIG_FILE", self.home.path().join("aws-config").into()),
            ("AWS_SHARED_CREDENTIALS_FILE", self.home.path().join("aws-credentials").into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// `gdctl` with no credentials, region or endpoint set at all.
    pub fn bare_gdctl(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(detached(env!("CARGO_BIN_EXE_gdctl")));
        cmd.args(args);
        self.isolate(cmd)
    }

    /// `gdctl` on a pseudo-terminal (util-linux `script`), as a person runs
    /// it: `typed` is typed once the question (`[y/N] `) shows, then input
    /// ends; with no question, nothing is typed.
    pub fn gdctl_at_terminal(&self, args: &[&str], typed: &str) -> std::process::Output {
        assert!(args.iter().all(|a| !a.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c))));
        let line = format!("GDCTL {}", args.join(" "));
        converse(self.std_terminal_line(&line), &[("[y/N] ", typed)])
    }

    /// The `script` command that runs gdctl on a pseudo-terminal, to add to.
    pub fn terminal(&self, args: &[&str]) -> assert_cmd::Command {
        assert!(args.iter().all(|a| !a.contains(|c: char| c.is_whitespace() || "'\"\\$`".contains(c))));
        let line = format!("{} {}", env!("CARGO_BIN_EXE_gdctl"), args.join(" "));
        self.terminal_line(&line)
    }

    /// A shell line on a pseudo-terminal (`printf ... | gdctl ...`); `GDCTL`
    /// in it is the binary under test.
    pub fn terminal_line(&self, line: &str) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.std_terminal_line(line));
        cmd.timeout(std::time::Duration::from_secs(120));
        cmd
    }

    /// `terminal_line` as a plain command, for tests that hold its input open.
    pub fn std_terminal_line(&self, line: &str) -> Command {
        let line = line.replace("GDCTL", env!("CARGO_BIN_EXE_gdctl"));
        let mut cmd = self.std_command("script", &["-q", "-e", "-c", &line, "/dev/null"]);
        cmd.stdin(Stdio::piped());
        cmd
    }

    fn isolate(&self, mut cmd: assert_cmd::Command) -> assert_cmd::Command {
        cmd.env_clear().envs(self.isolated_env()).timeout(std::time::Duration::from_secs(120));
        cmd
    }

    /// Run gdctl with `--output json`; the exit code and the parsed document.
    pub fn json(&self, args: &[&str]) -> (i32, serde_json::Value) {
        json_of(self.gdctl(args))
    }

    /// Write the scratch HOME's AWS config and credentials files.
    pub fn aws_files(&self, config: &str, credentials: &str) {
        std::fs::write(self.home.path().join("aws-config"), config).unwrap();
        std::fs::write(self.home.path().join("aws-credentials"), credentials).unwrap();
    }

    /// gdctl started in this world, for tests that signal or read it while it runs.
    pub fn spawn_gdctl(&self, args: &[&str]) -> std::process::Child {
        self.std_gdctl(args).spawn().unwrap()
    }

    /// A plain `std::process::Command` for gdctl in this world, its output piped.
    pub fn std_gdctl(&self, args: &[&str]) -> Command {
        self.std_command(env!("CARGO_BIN_EXE_gdctl"), args)
    }

    /// `program` with this world's environment, as `std_gdctl` runs gdctl
    /// (a shell that then runs gdctl, say).
    pub fn std_command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = detached(program);
        cmd.args(args)
            .env_clear()
            .envs(self.isolated_env())
            .envs(self.account_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// Run `cmd` (its input piped), and for each step wait until its output
/// shows `wait`, then type `typed`; then end its input and collect the rest.
/// If it ends before a step's `wait`, the steps left are not typed.
pub fn converse(cmd: Command, steps: &[(&str, &str)]) -> std::process::Output {
    converse_acting(cmd, steps, &mut |_| {})
}

/// `converse`, with `act(step)` done once a step's `wait` shows, before its
/// typing (another writer changing something while the question waits).
pub fn converse_acting(
    mut cmd: Command,
    steps: &[(&str, &str)],
    act: &mut dyn FnMut(usize),
) -> std::process::Output {
    use std::io::{Read, Write};
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take();
    let mut output = child.stdout.take().unwrap();
    let mut seen: Vec<u8> = Vec::new();
    let mut from = 0;
    'steps: for (step, (wait, typed)) in steps.iter().enumerate() {
        loop {
            if let Some(at) = String::from_utf8_lossy(&seen[from..]).find(wait) {
                from += at + wait.len();
                break;
            }
            let mut buf = [0u8; 4096];
            match output.read(&mut buf).unwrap() {
                0 => break 'steps,
                n => seen.extend_from_slice(&buf[..n]),
            }
        }
        act(step);
        input.as_mut().unwrap().write_all(typed.as_bytes()).unwrap();
    }
    drop(input.take());
    output.read_to_end(&mut seen).unwrap();
    let mut stderr = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    std::process::Output { status: child.wait().unwrap(), stdout: seen, stderr }
}

/// A command in a session of its own, with no controlling terminal: gdctl
/// asks its questions there, and a test run from a developer's terminal must
/// be what CI sees (no terminal at all) unless it runs gdctl under `script`.
pub fn detached(program: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    cmd
}

/// Run a gdctl command with `--output json`; the exit code and the parsed document.
pub fn json_of(mut cmd: assert_cmd::Command) -> (i32, serde_json::Value) {
    {
        cmd.args(["--output", "json"]);
        let out = cmd.output().unwrap();
        let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), doc)
    }
}

impl World {
    /// Independent of gdctl: talks to moto directly, whatever `endpoint` is.
    pub fn gd(&self, region: &str) -> aws_sdk_guardduty::Client {
        guardduty(&moto().url, &self.account, region)
    }

    /// Every region DescribeRegions(AllRegions) returns, with its opt-in status.
    pub fn regions(&self) -> Vec<(String, String)> {
        let out =
            block_on(ec2(&moto().url, &self.account).describe_regions().all_regions(true).send()).unwrap();
        out.regions()
            .iter()
            .map(|r| (r.region_name().unwrap().to_string(), r.opt_in_status().unwrap().to_string()))
            .collect()
    }

    /// Regions gdctl should work on from the home region: opted in, same partition.
    pub fn target_regions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .regions()
            .into_iter()
            .filter(|(name, status)| {
                status != "not-opted-in" && !name.starts_with("cn-") && !name.starts_with("us-gov-")
            })
            .map(|(n, _)| n)
            .collect();
        v.sort();
        v
    }

    pub fn detectors(&self, region: &str) -> Vec<Seen> {
        block_on(async {
            let gd = self.gd(region);
            let ids = gd.list_detectors().send().await.unwrap().detector_ids.unwrap_or_default();
            let mut seen = Vec::new();
            for id in ids {
                let d = gd.get_detector().detector_id(&id).send().await.unwrap();
                seen.push(Seen {
                    enabled: d.status == Some(DetectorStatus::Enabled),
                    frequency: d
                        .finding_publishing_frequency
                        .map(|f| f.as_str().to_string())
                        .unwrap_or_default(),
                    id,
                });
            }
            seen
        })
    }

    /// Every region's detectors, not-opted-in regions included.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<Seen>> {
        self.regions().into_iter().map(|(r, _)| (r.clone(), self.detectors(&r))).collect()
    }

    pub fn create_detector(&self, region: &str, enabled: bool, frequency: &str) -> String {
        block_on(
            self.gd(region)
                .create_detector()
                .enable(enabled)
                .finding_publishing_frequency(FindingPublishingFrequency::from(frequency))
                .send(),
        )
        .unwrap()
        .detector_id
        .unwrap()
    }
}

/// Seed an account's usage and free-trial days in a region through the
/// emulator's test hook (not an AWS operation: AWS cannot be asked for usage).
/// `usage`: (API feature, amount, resource).
pub fn seed_usage(
    account: &str,
    region: &str,
    usage: &[(&str, &str, Option<&str>)],
    free_trial: &[(&str, i32)],
) {
    let body = serde_json::json!({
        "accountId": account,
        "region": region,
        "usage": usage.iter().map(|(f, a, r)| serde_json::json!({"feature": f, "amount": a, "resource": r})).collect::<Vec<_>>(),
        "freeTrialDays": free_trial.iter().map(|(f, d)| (f.to_string(), serde_json::json!(d))).collect::<serde_json::Map<_, _>>(),
    })
    .to_string();
    hook("/__gdctl/usage", region, &body);
}

/// A GET on loopback with the standard library (the front's stats): the JSON answer.
pub fn get_json(url: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    serde_json::from_str(response.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

/// The GuardDuty writes (POST, PUT, DELETE) a front passed on, as `METHOD /path`;
/// the reads that are POSTs (GetFindings and its kin) left out.
pub fn guardduty_writes(front: &Server) -> Vec<String> {
    let stats = get_json(&format!("{}/__front/stats", front.url));
    let reads = [
        "/findings",
        "/findings/get",
        "/findings/statistics",
        "/usage/statistics",
        "/freeTrial/daysRemaining",
    ];
    stats["guardduty_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .filter(|c| !c.starts_with("GET "))
        .filter(|c| !(c.starts_with("POST ") && reads.iter().any(|r| c.ends_with(r))))
        .collect()
}

/// POST to one of the emulator's test hooks (never an AWS path): its answer's body.
pub fn hook(path: &str, region: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let host = moto().url.strip_prefix("http://").unwrap().to_string();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/guardduty/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.") && response.contains(" 200 "), "{response}");
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

/// Seed findings in an account's region through the emulator's test hook
/// (AWS cannot be asked for a finding of a given age): each a JSON object
/// as the hook takes it (`type`, `severity`, `firstSeenHoursAgo`, ...).
/// Returns the findings' ids.
pub fn seed_findings(account: &str, region: &str, findings: &[serde_json::Value]) -> Vec<String> {
    let body = serde_json::json!({"accountId": account, "region": region, "findings": findings}).to_string();
    let answer = hook("/__gdctl/findings", region, &body);
    let doc: serde_json::Value =
        serde_json::from_str(answer.trim()).unwrap_or_else(|e| panic!("{e}: {answer}"));
    doc["findingIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// A finding for `seed_findings`: its type and severity, the rest defaulted.
pub fn finding(kind: &str, severity: f64) -> serde_json::Value {
    serde_json::json!({"type": kind, "severity": severity})
}

/// `gdctl man` rendered by groff, which must warn of nothing.
pub fn rendered_man_page(w: &World) -> String {
    let out = w.bare_gdctl(&["man"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = w.home.path().join("gdctl.1");
    std::fs::write(&page, &out.stdout).unwrap();
    let rendered =
        Command::new("groff").args(["-man", "-Tutf8", "-ww", "-P-cbou"]).arg(&page).output().unwrap();
    assert!(rendered.status.success());
    assert_eq!(stderr_of(&rendered), "", "groff warnings");
    stdout_of(&rendered)
}

/// The region entries of a gdctl JSON report, by region name.
pub fn by_region(doc: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    doc["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["region"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
