//! Whose credentials sign a request: one GuardDuty client per region serves
//! every account, and each account's work runs in that account's scope.
//!
//! A client costs ~50 K instructions and ~17 KB to build; across 100 accounts
//! of 20 regions that was 2,000 clients differing only in their credentials.
//! The SDK's identity cache is its extension point for "which identity signs
//! this request": the shared client's cache resolves the scope's account
//! through the caller's lazy cache (each account's credentials cached under
//! their own partition, the role assumed once and renewed), and outside any
//! scope it resolves nothing: a request is never signed as another account.

use std::future::Future;

use aws_credential_types::provider::{error::CredentialsError, future, ProvideCredentials};
use aws_sdk_guardduty::config::ConfigBag;
use aws_smithy_runtime_api::client::identity::{
    IdentityFuture, ResolveCachedIdentity, SharedIdentityCache, SharedIdentityResolver,
};
use aws_smithy_runtime_api::client::runtime_components::{RuntimeComponents, RuntimeComponentsBuilder};

tokio::task_local! {
    static ACCOUNT: SharedIdentityResolver;
}

/// `work`, its requests signed with `credentials` (an account's).
pub fn in_account<F: Future>(
    credentials: SharedIdentityResolver,
    work: F,
) -> impl Future<Output = F::Output> {
    ACCOUNT.scope(credentials, work)
}

/// The shared client's identity cache: the scope's account, through `inner`.
#[derive(Debug)]
pub struct PerAccount {
    pub inner: SharedIdentityCache,
}

impl ResolveCachedIdentity for PerAccount {
    fn resolve_cached_identity<'a>(
        &'a self,
        resolver: SharedIdentityResolver,
        runtime_components: &'a RuntimeComponents,
        config_bag: &'a ConfigBag,
    ) -> IdentityFuture<'a> {
        // Outside a scope: the client's own resolver, which is `NoAccount`.
        let resolver = ACCOUNT.try_with(Clone::clone).unwrap_or(resolver);
        self.inner.resolve_cached_identity(resolver, runtime_components, config_bag)
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.inner.validate_final_config(runtime_components, cfg)
    }
}

/// The shared client's own credentials: none. A request made outside an
/// account's scope fails rather than being signed as anyone.
#[derive(Debug)]
pub struct NoAccount;

impl ProvideCredentials for NoAccount {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "a request outside any account's scope (gdctl's own error)",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;

    fn client(cache: SharedIdentityCache) -> aws_sdk_guardduty::Client {
        let conf = aws_sdk_guardduty::Config::builder()
            .behavior_version(aws_sdk_guardduty::config::BehaviorVersion::latest())
            .region(aws_sdk_guardduty::config::Region::new("eu-west-1"))
            .credentials_provider(NoAccount)
            .identity_cache(PerAccount { inner: cache })
            .http_client(aws_smithy_runtime_api::client::http::SharedHttpClient::new(Capture))
            .build();
        aws_sdk_guardduty::Client::from_conf(conf)
    }

    /// Answers nothing; records the access key each request was signed with.
    #[derive(Debug, Clone)]
    struct Capture;

    impl aws_smithy_runtime_api::client::http::HttpClient for Capture {
        fn http_connector(
            &self,
            _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(CaptureConnector)
        }
    }

    #[derive(Debug)]
    struct CaptureConnector;

    impl aws_smithy_runtime_api::client::http::HttpConnector for CaptureConnector {
        fn call(
            &self,
            request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let auth = request.headers().get("authorization").unwrap_or_default().to_string();
            let key =
                auth.split("Credential=").nth(1).and_then(|c| c.split('/').next()).unwrap_or("").to_string();
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(
                aws_smithy_runtime_api::http::Response::new(
                    400.try_into().unwrap(),
                    aws_smithy_types::body::SdkBody::from(format!(
                        "{{\"__type\":\"Signed\",\"message\":\"{key}\"}}"
                    )),
                ),
            ))
        }
    }

    fn signed_with(
        e: &aws_sdk_guardduty::error::SdkError<
            impl std::error::Error + aws_sdk_guardduty::error::ProvideErrorMetadata,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    ) -> String {
        match e {
            aws_sdk_guardduty::error::SdkError::ServiceError(s) => {
                s.err().message().unwrap_or_default().to_string()
            }
            other => format!("{other:?}"),
        }
    }

    fn account(key: &str) -> SharedIdentityResolver {
        let provider = SharedCredentialsProvider::new(Credentials::new(key, "secret", None, None, "test"));
        SharedIdentityResolver::new(provider)
    }

    #[tokio::test]
    async fn each_scope_signs_with_its_own_account_and_no_scope_signs_nothing() {
        let gd = client(aws_sdk_guardduty::config::IdentityCache::lazy().build());
        let (a, b) = (account("AKIDACCOUNTA"), account("AKIDACCOUNTB"));
        // Interleaved on one task, as the fan-out runs them.
        let (ra, rb) = tokio::join!(
            in_account(a.clone(), gd.list_detectors().send()),
            in_account(b.clone(), gd.list_detectors().send())
        );
        assert_eq!(signed_with(&ra.unwrap_err()), "AKIDACCOUNTA");
        assert_eq!(signed_with(&rb.unwrap_err()), "AKIDACCOUNTB");
        // Again, from the cache: still each its own.
        let again = in_account(b, gd.list_detectors().send()).await;
        assert_eq!(signed_with(&again.unwrap_err()), "AKIDACCOUNTB");
        // Outside any scope: not signed at all.
        let outside = gd.list_detectors().send().await.unwrap_err();
        assert!(!signed_with(&outside).starts_with("AKID"), "{outside:?}");
    }
}
