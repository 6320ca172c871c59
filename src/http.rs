//! The one HTTP client every AWS call goes through (shared through the
//! SdkConfig, so one connection pool). TLS, and with it the reading of the
//! system trust store (some 150 files, ~10 ms of CPU), is set up on the first
//! https request only: a run against a local http:// emulator never pays it.

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
    }
    .into_shared()
}

#[derive(Debug)]
struct ByScheme {
    plain: SharedHttpClient,
    tls: SharedHttpClient,
}

impl HttpClient for ByScheme {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        // Both inner clients cache their connectors per settings, so asking
        // them again per request is cheap; the TLS one is only ever asked for
        // an https request.
        Route {
            plain: self.plain.http_connector(settings, components),
            tls: self.tls.clone(),
            settings: settings.clone(),
            components: components.clone(),
        }
        .into_shared()
    }
}

#[derive(Debug)]
struct Route {
    plain: SharedHttpConnector,
    tls: SharedHttpClient,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for Route {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if request.uri().starts_with("http://") {
            self.plain.call(request)
        } else {
            self.tls.http_connector(&self.settings, &self.components).call(request)
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
