//! Load configuration and credentials once, into one SdkConfig that every
//! regional client shares (and with it one HTTP client and connection pool).

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};
use tracing::debug;

use crate::cli::Global;
use crate::error::SetupError;

pub struct Session {
    pub config: SdkConfig,
    pub home_region: String,
}

impl Session {
    pub async fn load(g: &Global) -> Result<Session, SetupError> {
        if let Some(name) = g.profile.clone().or_else(|| std::env::var("AWS_PROFILE").ok()) {
            check_profile_exists(&name).await?;
        }

        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(crate::http::client());
        // The SDK's default chain tries the environment first and stops there when
        // it holds credentials. Taking them straight from there gives the same
        // credentials without building the rest of the chain (an STS client for web
        // identity, an IMDS client): about a tenth of gdctl's fixed start-up instructions.
        let from_env = EnvironmentVariableCredentialsProvider::new().provide_credentials().await.ok();
        if let Some(credentials) = &from_env {
            loader = loader.credentials_provider(credentials.clone());
        }
        if let Some(p) = &g.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &g.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(url) = &g.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(n) = g.max_attempts {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(n));
        }
        let config = loader.load().await;

        let home_region = config.region().ok_or(SetupError::NoRegion)?.to_string();

        // Resolve credentials here, once: a missing or broken credential source is
        // one clear error before any region is touched, and no regional client
        // resolves them again (a run lasts seconds, far less than their lifetime).
        let credentials = match from_env {
            Some(credentials) => credentials,
            None => config
                .credentials_provider()
                .ok_or_else(|| SetupError::NoCredentials("no credential source is configured".into()))?
                .provide_credentials()
                .await
                .map_err(|e| SetupError::NoCredentials(format!("{:#}", anyhow::Error::new(e))))?,
        };
        debug!(home_region, "configuration and credentials loaded");
        let config =
            config.into_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build();
        Ok(Session { config, home_region })
    }

    pub fn guardduty(&self, region: &str) -> aws_sdk_guardduty::Client {
        let conf = aws_sdk_guardduty::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_guardduty::Client::from_conf(conf)
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config)
    }
}

async fn check_profile_exists(name: &str) -> Result<(), SetupError> {
    let profiles = aws_config::profile::load(&Fs::real(), &Env::real(), &EnvConfigFiles::default(), None)
        .await
        .map_err(|e| SetupError::NoCredentials(format!("could not read the AWS config files: {e}")))?;
    match profiles.get_profile(name) {
        Some(_) => Ok(()),
        None => Err(SetupError::UnknownProfile(name.to_string())),
    }
}
