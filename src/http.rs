//! The one HTTP client every AWS call goes through (shared through the
//! SdkConfig, so one connection pool). TLS, and with it the reading of the
//! system trust store (some 150 files, ~10 ms of CPU), is set up on the first
//! https request only: a run against a local http:// emulator never pays it.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;

/// What the network between gdctl and AWS asks for: a proxy (from
/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as the aws CLI reads them) and extra
/// trusted certificates (AWS_CA_BUNDLE or a profile's `ca_bundle`).
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub proxy: bool,
    /// PEM certificates, checked to parse before they reach the TLS stack
    /// (which panics on a bad one).
    pub ca_bundle: Option<Vec<u8>>,
}

const PROXY_VARIABLES: [&str; 6] =
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

impl Network {
    pub fn from_env(ca_bundle: Option<Vec<u8>>) -> Network {
        let proxy = PROXY_VARIABLES.iter().any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
        Network { proxy, ca_bundle }
    }
}

pub fn client(network: &Network) -> SharedHttpClient {
    let (plain, tls) = if network.proxy || network.ca_bundle.is_some() {
        configured(network)
    } else {
        // The common case, as cheap as the SDK's own client.
        (
            aws_smithy_http_client::Builder::new().build_http(),
            aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        )
    };
    ByScheme { plain, tls, routes: Mutex::new(Vec::new()) }.into_shared()
}

/// Connectors through the proxy the environment names, trusting the extra
/// certificates too: aws-smithy-http-client's own proxy and TLS support.
fn configured(network: &Network) -> (SharedHttpClient, SharedHttpClient) {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{TlsContext, TrustStore};
    use aws_smithy_http_client::Connector;
    let proxy = if network.proxy { ProxyConfig::from_env() } else { ProxyConfig::disabled() };
    let mut trust = TrustStore::default();
    if let Some(pem) = &network.ca_bundle {
        trust = trust.with_pem_certificate(pem.clone());
    }
    let context = TlsContext::builder().with_trust_store(trust).build().ok();
    let base = |settings: Option<&HttpConnectorSettings>, components: Option<&RuntimeComponents>| {
        let mut b = Connector::builder();
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b
    };
    let plain_proxy = proxy.clone();
    let plain =
        aws_smithy_http_client::Builder::new().build_with_connector_fn(move |settings, components| {
            base(settings, components).proxy_config(plain_proxy.clone()).build_http()
        });
    let tls = aws_smithy_http_client::Builder::new().build_with_connector_fn(move |settings, components| {
        let mut b = base(settings, components)
            .proxy_config(proxy.clone())
            .tls_provider(Provider::Rustls(CryptoMode::Ring));
        if let Some(ctx) = &context {
            b = b.tls_context(ctx.clone());
        }
        b.build()
    });
    (plain, tls)
}

/// Check a CA bundle the way the TLS stack will read it, so that a bad file is
/// an error naming it rather than a panic.
pub fn check_ca_bundle(pem: &[u8]) -> Result<usize, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("not a PEM certificate bundle ({e})"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| format!("holds a certificate that does not parse ({e})"))?;
    }
    Ok(roots.len())
}

/// The settings a connector is built for (connect and read timeouts): the
/// same key the SDK's own client caches its connectors under.
type Timeouts = (Option<Duration>, Option<Duration>);

#[derive(Debug)]
struct ByScheme {
    plain: SharedHttpClient,
    tls: SharedHttpClient,
    /// The SDK asks for a connector before every request. Building a `Route`
    /// clones the runtime components (dozens of Arcs), so it is built once per
    /// set of timeouts (in practice one) and handed out again. Like the SDK's
    /// own client, this keys on the settings only.
    routes: Mutex<Vec<(Timeouts, SharedHttpConnector)>>,
}

impl HttpClient for ByScheme {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        // A poisoned lock only means another thread panicked mid-push; the
        // list itself is still whole.
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, route)) = routes.iter().find(|(k, _)| *k == key) {
            return route.clone();
        }
        let route: SharedHttpConnector = Route {
            plain: self.plain.http_connector(settings, components),
            tls_client: self.tls.clone(),
            tls: OnceLock::new(),
            settings: settings.clone(),
            components: components.clone(),
        }
        .into_shared();
        routes.push((key, route.clone()));
        route
    }
}

#[derive(Debug)]
struct Route {
    plain: SharedHttpConnector,
    tls_client: SharedHttpClient,
    /// Built on the first https request, not before.
    tls: OnceLock<SharedHttpConnector>,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for Route {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if request.uri().starts_with("http://") {
            self.plain.call(request)
        } else {
            let tls =
                self.tls.get_or_init(|| self.tls_client.http_connector(&self.settings, &self.components));
            tls.call(request)
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_async::rt::sleep::TokioSleep;
    use aws_smithy_async::time::SystemTimeSource;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use tokio::io::AsyncReadExt;

    use super::*;

    #[test]
    fn a_ca_bundle_must_hold_certificates_that_parse() {
        assert!(check_ca_bundle(b"").unwrap_err().contains("no PEM certificate"));
        assert!(check_ca_bundle(b"hello").unwrap_err().contains("no PEM certificate"));
        let bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(check_ca_bundle(bad).is_err());
    }

    /// What a client sends first tells the two paths apart: "GET" in clear,
    /// or a TLS handshake record (0x16).
    #[tokio::test]
    async fn http_goes_in_clear_and_https_through_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let components = RuntimeComponentsBuilder::for_tests()
            .with_sleep_impl(Some(TokioSleep::new()))
            .with_time_source(Some(SystemTimeSource::new()))
            .build()
            .unwrap();
        let connector = client(&Network::default())
            .http_connector(&HttpConnectorSettings::builder().build(), &components);
        for (scheme, first_byte) in [("http", b'G'), ("https", 0x16)] {
            let request = HttpRequest::get(format!("{scheme}://127.0.0.1:{port}/")).unwrap();
            let call = tokio::spawn(connector.call(request));
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut byte = [0u8; 1];
            socket.read_exact(&mut byte).await.unwrap();
            assert_eq!(byte[0], first_byte, "{scheme}");
            call.abort();
        }
    }
}
