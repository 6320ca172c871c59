//! The one HTTP client every AWS call goes through (shared through the
//! SdkConfig, so one connection pool). TLS, and with it the reading of the
//! system trust store (some 150 files, ~10 ms of CPU), is set up on the first
//! https request only: a run against a local http:// emulator never pays it.

use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
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
/// HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY, as the aws CLI reads
/// them) and extra trusted certificates (AWS_CA_BUNDLE or a profile's `ca_bundle`).
#[derive(Debug, Clone, Default)]
pub struct Network {
    /// Set when any proxy variable is: which requests bypass the proxy, and
    /// which proxy the others go through.
    pub proxy: Option<Proxies>,
    /// PEM certificates, checked to parse before they reach the TLS stack
    /// (which panics on a bad one).
    pub ca_bundle: Option<Vec<u8>>,
}

const PROXY_VARIABLES: [&str; 6] =
    ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

impl Network {
    /// A proxy variable that is set but is no proxy URL is an error naming
    /// it (never its password): the HTTP client would otherwise fall back to
    /// a port or a direct connection the user did not ask for.
    pub fn from_env(ca_bundle: Option<Vec<u8>>) -> Result<Network, String> {
        let mut proxy = false;
        for var in PROXY_VARIABLES {
            if let Some(value) = std::env::var_os(var).filter(|x| !x.is_empty()) {
                check_proxy(var, &value.to_string_lossy())?;
                proxy = true;
            }
        }
        Ok(Network { proxy: proxy.then(Proxies::from_env), ca_bundle })
    }
}

/// A proxy URL, checked as an endpoint is, its user name and password
/// allowed but never shown; without a scheme it is http (as curl reads it).
fn check_proxy(var: &str, value: &str) -> Result<(), String> {
    let full = if value.contains("://") { value.to_string() } else { format!("http://{value}") };
    let (scheme, rest) = full.split_once("://").unwrap_or(("http", &full));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (bare, shown) = match rest[..end].rfind('@') {
        Some(at) => {
            (format!("{scheme}://{}", &rest[at + 1..]), format!("{scheme}://***@{}", &rest[at + 1..]))
        }
        None => (full.clone(), full.clone()),
    };
    crate::settings::endpoint(&bare)
        .map(drop)
        .map_err(|e| format!("{var} (environment) is not a proxy URL: {}", e.replace(&bare, &shown)))
}

/// The environment's proxies. gdctl's own NO_PROXY reading decides, per
/// request, whether a call goes direct; the proxy variables say which proxy
/// the others go through (aws-smithy-http-client's reading of them).
#[derive(Debug, Clone)]
pub struct Proxies {
    pub no_proxy: NoProxy,
    /// What the proxied connectors are built with. Its own NO_PROXY rules
    /// (the SDK client's reading) are a subset of `no_proxy`'s, so it never
    /// sends direct a request that `no_proxy` hands to it.
    config: aws_smithy_http_client::proxy::ProxyConfig,
    /// The same reading, to name the proxy a call went through.
    matcher: Arc<hyper_util::client::proxy::matcher::Matcher>,
}

impl Proxies {
    fn from_env() -> Proxies {
        // The first of the two that is set, even empty (as the SDK's client reads it).
        let list = std::env::var("NO_PROXY").or_else(|_| std::env::var("no_proxy")).unwrap_or_default();
        Proxies {
            no_proxy: NoProxy::parse(&list),
            config: aws_smithy_http_client::proxy::ProxyConfig::from_env(),
            matcher: Arc::new(hyper_util::client::proxy::matcher::Matcher::from_env()),
        }
    }

    /// The proxy a request to `url` goes through, in words: `proxy
    /// scheme://host:port` (never its user name or password); `None` when it
    /// goes direct.
    pub fn through(&self, url: &str) -> Option<String> {
        if self.no_proxy.bypasses(url) {
            return None;
        }
        let intercept = self.matcher.intercept(&url.parse::<http::Uri>().ok()?)?;
        let uri = intercept.uri();
        Some(match (uri.scheme_str(), uri.host(), uri.port_u16()) {
            (Some(scheme), Some(host), Some(port)) => format!("proxy {scheme}://{host}:{port}"),
            (Some(scheme), Some(host), None) => format!("proxy {scheme}://{host}"),
            _ => "a proxy".to_string(),
        })
    }
}

/// NO_PROXY, read as the aws CLI (botocore, urllib) and curl read it, and a
/// superset of the SDK client's own reading: comma-separated entries, each
///
/// - `*`: every host;
/// - a domain (`example.com`, `.example.com`, `*.example.com`): that host and
///   every host under it, in any case;
/// - an IP address (`10.1.2.3`, `::1`, `[::1]`) or a network (`10.0.0.0/8`);
/// - any of these with `:PORT` (`127.0.0.1:4566`, `[::1]:4566`,
///   `proxy.corp:8080`): only at that port (the URL's own, else 80 for http
///   and 443 for https).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    everything: bool,
    entries: Vec<(Host, Option<u16>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Domain(String),
    Ip(IpAddr),
    Network(IpAddr, u8),
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        let mut no = NoProxy::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                no.everything = true;
            } else if let Some(parsed) = parse_entry(entry) {
                no.entries.push(parsed);
            }
        }
        no
    }

    /// Whether a request to `url` goes direct, not through the proxy. A URL
    /// that does not parse goes direct too: it fails on its own either way.
    pub fn bypasses(&self, url: &str) -> bool {
        if self.everything {
            return true;
        }
        let Ok(uri) = url.parse::<http::Uri>() else { return true };
        let Some(host) = uri.host() else { return true };
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
        self.matches(host, port)
    }

    fn matches(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        let domain = host.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|(pattern, only)| {
            only.is_none_or(|p| p == port)
                && match (pattern, ip) {
                    (Host::Ip(a), Some(ip)) => *a == ip,
                    (Host::Network(net, bits), Some(ip)) => in_network(ip, *net, *bits),
                    (Host::Domain(d), None) => domain == *d || domain.ends_with(&format!(".{d}")),
                    _ => false,
                }
        })
    }
}

fn parse_entry(entry: &str) -> Option<(Host, Option<u16>)> {
    let entry = entry.to_ascii_lowercase();
    // `[v6]` or `[v6]:port`.
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        return Some((ip_or_network(inside)?, port));
    }
    if let Some(host) = ip_or_network(&entry) {
        return Some((host, None));
    }
    let (host, port) = match entry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse::<u16>().ok()?)),
        None => (entry.as_str(), None),
    };
    if let Some(ip) = ip_or_network(host) {
        return Some((ip, port));
    }
    let domain = host.strip_prefix("*.").unwrap_or(host).trim_start_matches('.').trim_end_matches('.');
    (!domain.is_empty() && !domain.contains(['/', ':', '*']))
        .then(|| (Host::Domain(domain.to_string()), port))
}

fn ip_or_network(s: &str) -> Option<Host> {
    match s.split_once('/') {
        Some((addr, bits)) => {
            let addr: IpAddr = addr.parse().ok()?;
            let bits: u8 = bits.parse().ok()?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            (bits <= max).then_some(Host::Network(addr, bits))
        }
        None => s.parse().ok().map(Host::Ip),
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    // Shifting a u128 by 128 overflows: a /0 network holds every address.
    shift >= 128 || (ip >> shift) == (net >> shift)
}

pub fn client(network: &Network) -> SharedHttpClient {
    let direct = if network.proxy.is_some() || network.ca_bundle.is_some() {
        configured(network, false)
    } else {
        // The common case, as cheap as the SDK's own client.
        Clients {
            plain: aws_smithy_http_client::Builder::new().build_http(),
            tls: aws_smithy_http_client::Builder::new()
                .tls_provider(Provider::Rustls(CryptoMode::Ring))
                .build_https(),
        }
    };
    let proxied = network.proxy.as_ref().map(|p| (configured(network, true), p.no_proxy.clone()));
    ByScheme { direct, proxied, routes: Mutex::new(Vec::new()) }.into_shared()
}

/// The clients for http:// and for https:// requests.
#[derive(Debug, Clone)]
struct Clients {
    plain: SharedHttpClient,
    tls: SharedHttpClient,
}

/// Connectors through the proxy the environment names (`proxied`), or
/// direct, trusting the extra certificates too: aws-smithy-http-client's own
/// proxy and TLS support.
fn configured(network: &Network, proxied: bool) -> Clients {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{TlsContext, TrustStore};
    use aws_smithy_http_client::Connector;
    let proxy = match (&network.proxy, proxied) {
        (Some(p), true) => p.config.clone(),
        _ => ProxyConfig::disabled(),
    };
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
    Clients { plain, tls }
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
    direct: Clients,
    /// With a proxy variable set: the proxied clients, and the NO_PROXY
    /// rules that send a request direct instead.
    proxied: Option<(Clients, NoProxy)>,
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
            direct: Connectors::new(&self.direct),
            proxied: self.proxied.as_ref().map(|(c, no)| (Connectors::new(c), no.clone())),
            settings: settings.clone(),
            components: components.clone(),
        }
        .into_shared();
        routes.push((key, route.clone()));
        route
    }
}

/// One way out (direct or through the proxy), its connectors each built on
/// its first request: TLS, and the trust store with it, only when an https
/// request is made.
#[derive(Debug)]
struct Connectors {
    clients: Clients,
    plain: OnceLock<SharedHttpConnector>,
    tls: OnceLock<SharedHttpConnector>,
}

impl Connectors {
    fn new(clients: &Clients) -> Connectors {
        Connectors { clients: clients.clone(), plain: OnceLock::new(), tls: OnceLock::new() }
    }
}

#[derive(Debug)]
struct Route {
    direct: Connectors,
    proxied: Option<(Connectors, NoProxy)>,
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
}

impl HttpConnector for Route {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let uri = request.uri();
        let way = match &self.proxied {
            Some((proxied, no_proxy)) if !no_proxy.bypasses(uri) => proxied,
            _ => &self.direct,
        };
        let (slot, client) = if uri.starts_with("http://") {
            (&way.plain, &way.clients.plain)
        } else {
            (&way.tls, &way.clients.tls)
        };
        slot.get_or_init(|| client.http_connector(&self.settings, &self.components)).call(request)
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

    impl Proxies {
        /// A proxy for http:// requests, without reading the environment.
        fn fixed(proxy: &str, no_proxy: &str) -> Proxies {
            Proxies {
                no_proxy: NoProxy::parse(no_proxy),
                config: aws_smithy_http_client::proxy::ProxyConfig::http(proxy).unwrap(),
                matcher: Arc::new(hyper_util::client::proxy::matcher::Matcher::builder().http(proxy).build()),
            }
        }
    }

    #[test]
    fn a_proxy_variable_that_is_no_url_is_refused_without_its_password() {
        assert!(check_proxy("HTTPS_PROXY", "http://bob:pw@127.0.0.1:3128").is_ok());
        assert!(check_proxy("HTTPS_PROXY", "proxy.corp:3128").is_ok());
        for bad in [
            "http://bob:pw@127.0.0.1:99999",
            "http://bob:pw@[::1:1",
            "socks5://bob:pw@127.0.0.1:1080",
            "http://",
        ] {
            let e = check_proxy("HTTP_PROXY", bad).unwrap_err();
            assert!(e.starts_with("HTTP_PROXY (environment) is not a proxy URL"), "{e}");
            assert!(!e.contains("pw"), "{e}");
        }
    }

    #[test]
    fn no_proxy_entries_match_as_the_aws_cli_reads_them() {
        let table: &[(&str, &str, bool)] = &[
            ("*", "https://sts.us-east-1.amazonaws.com", true),
            ("*", "http://127.0.0.1:4566", true),
            ("*", "http://[::1]:4566", true),
            (" foo.example , * ", "http://10.0.0.1", true),
            ("", "http://127.0.0.1:4566", false),
            ("127.0.0.1", "http://127.0.0.1:4566", true),
            ("127.0.0.1", "http://127.0.0.2:4566", false),
            ("127.0.0.1:4566", "http://127.0.0.1:4566", true),
            ("127.0.0.1:4566", "http://127.0.0.1:4567", false),
            ("127.0.0.1:80", "http://127.0.0.1", true),
            ("127.0.0.1:443", "https://127.0.0.1/", true),
            ("127.0.0.1:443", "http://127.0.0.1/", false),
            ("10.0.0.0/8", "http://10.20.30.40:1", true),
            ("10.0.0.0/8", "http://11.0.0.1:1", false),
            ("0.0.0.0/0", "http://192.0.2.1", true),
            ("::1", "http://[::1]:4566", true),
            ("[::1]:4566", "http://[::1]:4566", true),
            ("[::1]:4566", "http://[::1]:4567", false),
            ("fd00::/8", "http://[fd12::1]/", true),
            ("amazonaws.com", "https://sts.us-east-1.amazonaws.com", true),
            ("amazonaws.com", "https://AMAZONAWS.COM", true),
            (".amazonaws.com", "https://amazonaws.com", true),
            ("*.amazonaws.com", "https://guardduty.eu-west-1.amazonaws.com", true),
            ("amazonaws.com", "https://notamazonaws.com", false),
            ("sts.us-east-1.amazonaws.com:443", "https://sts.us-east-1.amazonaws.com", true),
            ("amazonaws.com:8443", "https://sts.us-east-1.amazonaws.com", false),
            ("amazonaws.com:8443", "https://sts.us-east-1.amazonaws.com:8443", true),
            ("localhost", "http://127.0.0.1:4566", false),
            ("127.0.0.1:notaport", "http://127.0.0.1:4566", false),
        ];
        for (list, url, bypass) in table {
            assert_eq!(NoProxy::parse(list).bypasses(url), *bypass, "NO_PROXY={list:?} {url}");
        }
    }

    #[test]
    fn a_request_no_proxy_names_is_not_said_to_go_through_the_proxy() {
        let p = Proxies::fixed("http://user:Secr3t@127.0.0.1:3128", "127.0.0.1:4566");
        assert_eq!(p.through("http://127.0.0.1:4566"), None);
        assert_eq!(p.through("http://127.0.0.1:4567").as_deref(), Some("proxy http://127.0.0.1:3128"));
        let every = Proxies::fixed("http://127.0.0.1:3128", "*");
        assert_eq!(every.through("http://127.0.0.1:4567"), None);
    }

    /// The first line a client sends says where it meant to go: a proxy gets
    /// the whole URL (`GET http://host:port/ HTTP/1.1`), a server the path.
    #[tokio::test]
    async fn each_request_goes_direct_or_through_the_proxy_as_no_proxy_says() {
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (proxy_port, server_port) =
            (proxy.local_addr().unwrap().port(), server.local_addr().unwrap().port());
        let components = RuntimeComponentsBuilder::for_tests()
            .with_sleep_impl(Some(TokioSleep::new()))
            .with_time_source(Some(SystemTimeSource::new()))
            .build()
            .unwrap();
        let network = Network {
            proxy: Some(Proxies::fixed(
                &format!("http://127.0.0.1:{proxy_port}"),
                &format!("127.0.0.1:{server_port}"),
            )),
            ca_bundle: None,
        };
        let connector =
            client(&network).http_connector(&HttpConnectorSettings::builder().build(), &components);
        async fn first_line(
            connector: &SharedHttpConnector,
            listener: &tokio::net::TcpListener,
            url: String,
        ) -> String {
            let call = tokio::spawn(connector.call(HttpRequest::get(url).unwrap()));
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut bytes = [0u8; 64];
            let n = socket.read(&mut bytes).await.unwrap();
            call.abort();
            String::from_utf8_lossy(&bytes[..n]).lines().next().unwrap_or("").to_string()
        }
        let direct = first_line(&connector, &server, format!("http://127.0.0.1:{server_port}/x")).await;
        assert_eq!(direct, "GET /x HTTP/1.1");
        // Another port of the same host is not in NO_PROXY: through the proxy.
        let other = server_port.wrapping_add(1);
        let proxied = first_line(&connector, &proxy, format!("http://127.0.0.1:{other}/x")).await;
        assert_eq!(proxied, format!("GET http://127.0.0.1:{other}/x HTTP/1.1"));
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
