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

pub fn client() -> SharedHttpClient {
    ByScheme {
        plain: aws_smithy_http_client::Builder::new().build_http(),
        tls: aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https(),
        routes: Mutex::new(Vec::new()),
    }
    .into_shared()
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
        let connector = client().http_connector(&HttpConnectorSettings::builder().build(), &components);
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
