//! Load configuration and credentials once, into one SdkConfig that every
//! client shares (and with it one HTTP client and connection pool).
//!
//! Precedence follows the aws CLI (botocore), setting by setting:
//! - credentials: `--profile` > environment keys > `AWS_PROFILE` > the
//!   `default` profile > web identity > container > instance metadata. A
//!   profile named with `--profile` is the only source tried before the last
//!   three: environment keys never stand in for it.
//! - home region: `--region` > `AWS_REGION` > `AWS_DEFAULT_REGION` > the
//!   profile's `region`.
//! - retries: `--max-attempts` > `AWS_MAX_ATTEMPTS` > the profile's `max_attempts`.

use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::identity::IdentityCache;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_runtime::env_config::section::EnvConfigSections;
use aws_types::os_shim_internal::{Env, Fs};
use tracing::debug;

use crate::accounts::Caller;
use crate::cli::Global;
use crate::error::{plain_chain, sts_failure, RegionError, SetupError};
use crate::settings;

/// The SDK's own connect timeout; a shorter `--timeout` shortens it.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// More accounts than any organization holds (AWS's own ceiling is in the
/// thousands), plus the caller's: each costs the cache one entry.
const MAX_ACCOUNTS: usize = 100_000;

pub struct Session {
    pub config: SdkConfig,
    pub home_region: String,
    /// Configured endpoints (else AWS's own), set on each client so that the
    /// flag beats a service's variable, as in the aws CLI.
    endpoints: Endpoints,
    /// The environment's proxies, to name the one a failed call went through
    /// (the same NO_PROXY reading the HTTP client routes by).
    proxies: Option<crate::http::Proxies>,
    /// `--timeout`: every call, and every setup phase, ends within it.
    pub timeout: Duration,
    /// The GuardDuty client of each region, shared by the accounts.
    regional: std::cell::RefCell<std::collections::HashMap<String, aws_sdk_guardduty::Client>>,
}

impl Session {
    pub async fn load(g: &Global) -> Result<Session, SetupError> {
        let env = |name: &str| std::env::var(name).ok();
        let profile_flag = g.profile.as_deref();
        let profile_env = env("AWS_PROFILE").filter(|p| !p.is_empty());
        readable_aws_files(&env)?;
        let profiles = load_profiles().await?;
        let selected = profile_flag.map(str::to_string).or(profile_env).unwrap_or_else(|| "default".into());
        let profile = profiles.get_profile(&selected);
        if profile.is_none() && (profile_flag.is_some() || selected != "default") {
            return Err(SetupError::UnknownProfile(selected));
        }
        let from_profile = |key: &str| profile.and_then(|p| p.get(key)).map(str::to_string);

        let retry = settings::retry_config(g.max_attempts, &env, &selected, &from_profile)?;
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(g.timeout))
            .read_timeout(g.timeout)
            .operation_timeout(g.timeout)
            .build();
        let region = home_region(g.region.as_deref(), &env, &selected, &from_profile)?;
        let endpoint =
            |id| settings::endpoint_url(id, g.endpoint_url.as_deref(), &env, &selected, &from_profile);
        let endpoints = Endpoints {
            sts: endpoint("STS")?,
            ec2: endpoint("EC2")?,
            guardduty: endpoint("GUARDDUTY")?,
            organizations: endpoint("ORGANIZATIONS")?,
        };

        // One HTTP client (one pool) for every call, the providers' included.
        let ca_bundle = ca_bundle(&env, &selected, &from_profile)?;
        let network = crate::http::Network::from_env(ca_bundle).map_err(SetupError::Invalid)?;
        let http = crate::http::client(&network);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http.clone())
            .retry_config(retry.clone())
            .timeout_config(timeouts.clone())
            // An assumed role's credentials (other accounts) may take a few
            // retries under throttling: up to the deadline, not the cache's 5 s.
            .identity_cache(IdentityCache::lazy().load_timeout(g.timeout).build())
            // Resolved below, by gdctl's own reading of the precedence.
            .no_credentials();
        if let Some(p) = profile_flag {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &region {
            loader = loader.region(Region::new(r.clone()));
        }
        let config = loader.load().await;
        let home_region = match config.region() {
            Some(r) => settings::region_name(r.as_ref(), "the home region")?,
            None => return Err(SetupError::NoRegion),
        };

        // Resolve credentials here, once: a missing or broken credential source is
        // one clear error before any region is touched, and no client resolves
        // them again (a run lasts seconds, far less than their lifetime).
        let providers = ProviderConfig::default()
            .with_http_client(http)
            .with_region(Some(Region::new(home_region.clone())))
            .with_retry_config(retry)
            .with_timeout_config(timeouts)
            .with_behavior_version(Some(BehaviorVersion::latest()));
        let source = credential_source(profile_flag, &providers).await;
        let from = match profile_flag.or(profile.map(|_| selected.as_str())) {
            Some(p) => format!("profile `{p}`"),
            None => "the credential chain".to_string(),
        };
        // Role assumption goes where the aws CLI sends it: --endpoint-url is
        // for gdctl's own calls only.
        let role_sts = settings::endpoint_url("STS", None, &env, &selected, &from_profile)?
            .unwrap_or_else(|| format!("https://sts.{home_region}.amazonaws.com"));
        // The SDK's timeouts bound each STS or HTTP call of a provider and
        // normally fire first; a `credential_process` command has none, so the
        // whole phase has a backstop a moment later.
        let backstop = g.timeout + Duration::from_secs(1);
        let credentials = match tokio::time::timeout(backstop, source.provide_credentials()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => {
                return Err(no_credentials(&e, profile_flag, &from, |err| err.at(&role_sts, g.timeout)))
            }
            Err(_) => {
                // A `credential_process` still running (and whatever it
                // started) is not left behind.
                crate::process::end_descendants();
                return Err(SetupError::NoCredentials(format!(
                    "{from}: no credentials within {} (--timeout)",
                    secs(g.timeout)
                )));
            }
        };
        debug!(home_region, profile = profile_flag, "configuration and credentials loaded");
        // Every client of every account resolves through this one cache, each
        // account's credentials under their own partition: sized for every
        // account a run can hold, or past the SDK's default 64 accounts roles
        // would be assumed again mid-run (the other accounts' evicted).
        let cache = aws_config::identity::IdentityCache::lazy().max_partitions(MAX_ACCOUNTS).build();
        let config = config
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .identity_cache(cache)
            .build();
        let proxies = network.proxy;
        Ok(Session {
            config,
            home_region,
            endpoints,
            proxies,
            timeout: g.timeout,
            regional: Default::default(),
        })
    }

    /// A region's GuardDuty client for every account: each request signed
    /// with the credentials of the account whose scope it runs in
    /// (`identity::in_account`), none outside one. Built once per region.
    pub fn shared_guardduty(&self, region: &str) -> aws_sdk_guardduty::Client {
        let mut clients = self.regional.borrow_mut();
        if let Some(client) = clients.get(region) {
            return client.clone();
        }
        let mut conf = aws_sdk_guardduty::config::Builder::from(&self.config);
        conf.set_endpoint_url(self.endpoints.guardduty.clone());
        let inner = self
            .config
            .identity_cache()
            .unwrap_or_else(|| aws_sdk_guardduty::config::IdentityCache::lazy().build());
        let conf = conf
            .region(Region::new(region.to_string()))
            .credentials_provider(crate::identity::NoAccount)
            .identity_cache(crate::identity::PerAccount { inner });
        let client = aws_sdk_guardduty::Client::from_conf(conf.build());
        clients.insert(region.to_string(), client.clone());
        client
    }

    /// A region's GuardDuty client for an account (`config`: the caller's,
    /// or an assumed role's).
    pub fn guardduty(&self, config: &SdkConfig, region: &str) -> aws_sdk_guardduty::Client {
        let mut conf = aws_sdk_guardduty::config::Builder::from(config);
        conf.set_endpoint_url(self.endpoints.guardduty.clone());
        aws_sdk_guardduty::Client::from_conf(conf.region(Region::new(region.to_string())).build())
    }

    /// The home region's EC2 client for an account.
    pub fn ec2(&self, config: &SdkConfig) -> aws_sdk_ec2::Client {
        let mut conf = aws_sdk_ec2::config::Builder::from(config);
        conf.set_endpoint_url(self.endpoints.ec2.clone());
        aws_sdk_ec2::Client::from_conf(conf.build())
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        let mut conf = aws_sdk_organizations::config::Builder::from(&self.config);
        conf.set_endpoint_url(self.endpoints.organizations.clone());
        aws_sdk_organizations::Client::from_conf(conf.build())
    }

    /// Where gdctl's own STS calls go (GetCallerIdentity, and the roles it
    /// assumes in other accounts), when configured.
    pub fn sts_endpoint(&self) -> Option<&str> {
        self.endpoints.sts.as_deref()
    }

    /// Who the credentials belong to (STS GetCallerIdentity, which needs no permission).
    pub async fn caller(&self) -> Result<Caller, RegionError> {
        let mut conf = aws_sdk_sts::config::Builder::from(&self.config);
        conf.set_endpoint_url(self.endpoints.sts.clone());
        let out = aws_sdk_sts::Client::from_conf(conf.build())
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| RegionError::from_sdk(&e))?;
        match out.account {
            Some(account) => Ok(Caller::from_arn(account, out.arn.as_deref())),
            None => Err(RegionError::new("ResponseError", "GetCallerIdentity returned no account")),
        }
    }

    /// Where a service's calls for a region go: the configured endpoint, or AWS's.
    pub fn endpoint(&self, service: &str, region: &str) -> String {
        let configured = match service {
            "sts" => &self.endpoints.sts,
            "ec2" => &self.endpoints.ec2,
            "organizations" => &self.endpoints.organizations,
            _ => &self.endpoints.guardduty,
        };
        let url = configured.clone().unwrap_or_else(|| format!("https://{service}.{region}.amazonaws.com"));
        // Never the proxy's password: only its scheme, host and port.
        match self.proxies.as_ref().and_then(|p| p.through(&url)) {
            Some(proxy) => format!("{url} through {proxy}"),
            None => url,
        }
    }
}

struct Endpoints {
    sts: Option<String>,
    ec2: Option<String>,
    guardduty: Option<String>,
    organizations: Option<String>,
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

async fn load_profiles() -> Result<EnvConfigSections, SetupError> {
    aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
        .await
        .map_err(|e| SetupError::Invalid(format!("could not read the AWS config files: {}", plain_chain(&e))))
}

/// The AWS config and credentials files, where the SDK looks for them: one
/// that is missing is no file (as for the aws CLI), but one that is there
/// and cannot be read (a directory, no permission, not UTF-8) is an error
/// naming it. The SDK would take it as empty and report, at best, a profile
/// without credentials.
fn readable_aws_files(env: &dyn Fn(&str) -> Option<String>) -> Result<(), SetupError> {
    for (kind, variable, default) in [
        ("config", "AWS_CONFIG_FILE", "~/.aws/config"),
        ("credentials", "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    ] {
        let (path, from) = match env(variable) {
            Some(path) => (path, format!("from {variable}")),
            None => (default.to_string(), "the default".to_string()),
        };
        let path = expand_home(&path, env("HOME"));
        let why = match std::fs::read(&path) {
            Ok(bytes) if std::str::from_utf8(&bytes).is_ok() => continue,
            Ok(_) => "it is not UTF-8 text".to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => unreadable(&e),
        };
        return Err(SetupError::Invalid(format!(
            "cannot read the AWS {kind} file {} ({from}): {why}",
            path.display()
        )));
    }
    Ok(())
}

/// `~` or `~/...` under HOME, as the SDK expands the files' paths.
fn expand_home(path: &str, home: Option<String>) -> std::path::PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            std::path::PathBuf::from(format!("{home}{rest}"))
        }
        _ => path.into(),
    }
}

/// An I/O error in words, without its "(os error N)".
fn unreadable(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            text.find(" (os error").map_or(text.clone(), |i| text[..i].to_string())
        }
    }
}

/// `AWS_CA_BUNDLE`, else the profile's `ca_bundle`: a PEM file whose
/// certificates are trusted besides the system's (a company's TLS-inspecting CA).
fn ca_bundle(
    env: &dyn Fn(&str) -> Option<String>,
    profile_name: &str,
    profile: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Vec<u8>>, SetupError> {
    let (path, from) = match (env("AWS_CA_BUNDLE").filter(|p| !p.is_empty()), profile("ca_bundle")) {
        (Some(p), _) => (p, "AWS_CA_BUNDLE (environment)".to_string()),
        (None, Some(p)) => (p, format!("`ca_bundle` in profile `{profile_name}`")),
        (None, None) => return Ok(None),
    };
    let pem = std::fs::read(&path)
        .map_err(|e| SetupError::Invalid(format!("{from}: cannot read {path}: {}", plain_chain(&e))))?;
    crate::http::check_ca_bundle(&pem).map_err(|e| SetupError::Invalid(format!("{from}: {path} {e}")))?;
    Ok(Some(pem))
}

/// `--region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else the
/// profile's `region`; `None` leaves it to the SDK's last resort (the instance's region).
fn home_region(
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    profile_name: &str,
    profile: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, SetupError> {
    let (value, from) = if let Some(r) = flag {
        (r.to_string(), "--region".to_string())
    } else if let Some(r) = env("AWS_REGION") {
        (r, "AWS_REGION (environment)".to_string())
    } else if let Some(r) = env("AWS_DEFAULT_REGION") {
        (r, "AWS_DEFAULT_REGION (environment)".to_string())
    } else if let Some(r) = profile("region") {
        (r, format!("`region` in profile `{profile_name}`"))
    } else {
        return Ok(None);
    };
    settings::region_name(&value, &from).map(Some)
}

/// The credential chain in the aws CLI's order. With `--profile` the
/// environment's keys are left out: the named profile is what the user asked for.
async fn credential_source(profile_flag: Option<&str>, providers: &ProviderConfig) -> CredentialSource {
    if let Some(name) = profile_flag {
        let chain = CredentialsProviderChain::first_try(
            "Profile",
            ProfileFileCredentialsProvider::builder().configure(providers).profile_name(name).build(),
        )
        .or_else(
            "WebIdentityToken",
            WebIdentityTokenCredentialsProvider::builder().configure(providers).build(),
        )
        .or_else("EcsContainer", EcsCredentialsProvider::builder().configure(providers).build())
        .or_else("Ec2InstanceMetadata", ImdsCredentialsProvider::builder().configure(providers).build());
        return CredentialSource::Chain(chain);
    }
    // The default chain starts with the environment and stops there when it
    // holds keys; taking them straight from there skips building the rest of
    // it (an STS client for web identity, an IMDS client).
    match EnvironmentVariableCredentialsProvider::new().provide_credentials().await {
        Ok(c) => CredentialSource::Env(c),
        Err(_) => CredentialSource::Default(
            DefaultCredentialsChain::builder().configure(providers.clone()).build().await,
        ),
    }
}

enum CredentialSource {
    Env(Credentials),
    Chain(CredentialsProviderChain),
    Default(DefaultCredentialsChain),
}

impl CredentialSource {
    async fn provide_credentials(&self) -> Result<Credentials, CredentialsError> {
        match self {
            CredentialSource::Env(c) => Ok(c.clone()),
            CredentialSource::Chain(c) => c.provide_credentials().await,
            CredentialSource::Default(c) => c.provide_credentials().await,
        }
    }
}

/// The credential chain's failure in one line. A role assumption's STS call
/// is classified like any other call (connection, deadline, AWS code).
fn no_credentials(
    e: &CredentialsError,
    profile_flag: Option<&str>,
    from: &str,
    locate: impl Fn(RegionError) -> RegionError,
) -> SetupError {
    debug!(error = %aws_sdk_guardduty::error::DisplayErrorContext(e), "credentials");
    if let Some((call, err)) = sts_failure(e) {
        return SetupError::NoCredentials(format!("{from}: {call} failed: {}", locate(err)));
    }
    let message = match (e, profile_flag) {
        (CredentialsError::CredentialsNotLoaded(_), Some(p)) => format!(
            "profile `{p}` has no credentials (no keys, role, SSO or credential_process in it); \
             environment keys are not used when --profile is given"
        ),
        (CredentialsError::CredentialsNotLoaded(_), None) => "none found: set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, set AWS_PROFILE or pass --profile, or run `aws configure`"
            .to_string(),
        _ => plain_chain(e),
    };
    SetupError::NoCredentials(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_paths_expand_home_as_the_sdk_does() {
        let home = || Some("/home/u".to_string());
        assert_eq!(expand_home("~/.aws/config", home()), std::path::Path::new("/home/u/.aws/config"));
        assert_eq!(expand_home("~", home()), std::path::Path::new("/home/u"));
        assert_eq!(expand_home("~other/x", home()), std::path::Path::new("~other/x"));
        assert_eq!(expand_home("/etc/aws", home()), std::path::Path::new("/etc/aws"));
        assert_eq!(expand_home("~/x", None), std::path::Path::new("~/x"));
    }

    #[test]
    fn a_file_that_is_there_and_cannot_be_read_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap().to_string();
        let (ok, not_utf8) = (dir.path().join("ok"), dir.path().join("latin1"));
        std::fs::write(&ok, "[default]\n").unwrap();
        std::fs::write(&not_utf8, b"[default]\nregion = caf\xe9\n").unwrap();
        let check = |vars: Vec<(&str, String)>| {
            let vars = vars.clone();
            readable_aws_files(&move |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
                .map_err(|e| e.to_string())
        };
        // Missing files are no files; HOME holds no .aws at all.
        assert_eq!(check(vec![("HOME", home.clone())]), Ok(()));
        assert_eq!(check(vec![("AWS_CONFIG_FILE", ok.display().to_string())]), Ok(()));
        assert_eq!(check(vec![("AWS_CONFIG_FILE", "/nonexistent/x".into())]), Ok(()));
        let err = check(vec![("AWS_CONFIG_FILE", home.clone())]).unwrap_err();
        assert_eq!(
            err,
            format!("cannot read the AWS config file {home} (from AWS_CONFIG_FILE): it is a directory")
        );
        let err = check(vec![("AWS_SHARED_CREDENTIALS_FILE", not_utf8.display().to_string())]).unwrap_err();
        assert!(
            err.starts_with("cannot read the AWS credentials file") && err.ends_with("it is not UTF-8 text"),
            "{err}"
        );
        std::fs::create_dir_all(dir.path().join(".aws/credentials")).unwrap();
        let err = check(vec![("HOME", home.clone())]).unwrap_err();
        assert_eq!(
            err,
            format!("cannot read the AWS credentials file {home}/.aws/credentials (the default): it is a directory")
        );
    }
}
