//! The two kinds of failure: a setup error stops the run before any region is
//! touched (exit 2, or 1 when the user declines the confirmation); a region error fails that region alone (exit 1).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use aws_sdk_guardduty::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::Serialize;

/// Wrong input or an unusable environment: reported once, exit 2, nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "no home region: pass --region, set AWS_REGION (or AWS_DEFAULT_REGION), \
         or set `region` in the profile"
    )]
    NoRegion,
    #[error("profile `{0}` not found in the AWS config or credentials file")]
    UnknownProfile(String),
    #[error("no usable AWS credentials: {0}")]
    NoCredentials(String),
    /// A setup call (GetCallerIdentity, DescribeRegions) failed.
    #[error("{call} in {region} failed: {error}")]
    Call { call: &'static str, region: String, error: Box<RegionError> },
    #[error("{}", unknown_regions(.names, .home, .suggestions))]
    UnknownRegions { names: Vec<String>, home: String, suggestions: Vec<(String, String)> },
    #[error("{0}")]
    Invalid(String),
    #[error("no target region left to work on{0}")]
    NoTargets(String),
    #[error(
        "the credentials are for account {actual}, not {} (--expect-account): nothing was changed",
        .expected.join(" or ")
    )]
    WrongAccount { actual: String, expected: Vec<String> },
    #[error("could not read the answer to the confirmation: {0}")]
    Prompt(std::io::Error),
    /// The user said no (`nothing was deleted`, `nothing was removed`).
    #[error("not confirmed: {0}")]
    Declined(&'static str),
    /// A question was needed and no answer could be had.
    #[error("{0}: nothing was changed; pass --yes to go ahead without asking")]
    CannotAsk(String),
}

fn unknown_regions(names: &[String], home: &str, suggestions: &[(String, String)]) -> String {
    let (s, them) = if names.len() > 1 { ("s", "them") } else { ("", "it") };
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let mut line =
        format!("unknown region{s}: {} (DescribeRegions in {home} did not return {them})", quoted.join(", "));
    for (name, near) in suggestions {
        line.push_str(&format!("; did you mean `{near}` for `{name}`?"));
    }
    line
}

impl SetupError {
    pub fn exit_code(&self) -> u8 {
        match self {
            // The user said no: not a usage error, but not a success either.
            SetupError::Declined(_) => 1,
            _ => 2,
        }
    }
}

/// Why one region failed: the AWS error code and message, never guessed from
/// text; or, when no AWS answer came, what happened in plain words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Cow<'static, str>>,
    /// Where the call went, for failures where that is the question
    /// (no connection, no answer, an answer that is not AWS's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

/// Codes of failures that happened before or instead of an AWS answer.
const NO_AWS_ANSWER: [&str; 4] = ["ConnectionError", "Timeout", "ResponseError", "NotAwsResponse"];

impl RegionError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = printable(code.into());
        let hint = hint_for(&code);
        RegionError { code, message: printable(message.into()), hint, endpoint: None }
    }

    /// No answer before the deadline: every such case in the same words
    /// (the SDK's operation or read timeout, or the region's whole deadline).
    pub fn timed_out(after: Duration) -> Self {
        RegionError::new("Timeout", no_answer_within(after))
    }

    /// A write call sent with no answer before the deadline.
    pub fn unknown_outcome(call: &str, after: Duration) -> Self {
        RegionError::new(
            "Timeout",
            format!(
                "no answer to {call} within {} s: the change may or may not have been made; \
                 run again to converge",
                after.as_secs_f64()
            ),
        )
    }

    /// The home region's GetCallerIdentity checks the credentials themselves:
    /// a refusal there is about them, not about the region being enabled.
    pub fn about_credentials(mut self) -> Self {
        if matches!(
            self.code.as_str(),
            "InvalidClientTokenId" | "UnrecognizedClientException" | "ExpiredToken"
        ) {
            self.hint = Some(Cow::Borrowed("the credentials are not valid: check the keys, profile or role"));
        }
        self
    }

    /// Whether a write that failed this way may still have been carried out:
    /// it was sent, and no AWS answer said what became of it.
    pub fn may_have_landed(&self) -> bool {
        match self.code.as_str() {
            "Timeout" | "ResponseError" | "NotAwsResponse" => true,
            "ConnectionError" => {
                !matches!(self.message.as_str(), "connection refused" | "could not connect in time")
            }
            _ => false,
        }
    }

    /// Classify any SDK error by its code (service errors) or its kind (no
    /// AWS answer), in one line without Rust's debug output. The whole chain
    /// of causes goes to the log (`-v`).
    pub fn from_sdk<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        tracing::debug!(error = %DisplayErrorContext(err), "call failed");
        // A role assumed on the way (an account's credentials) failed: that is the news.
        if !matches!(err, SdkError::ServiceError(_)) {
            if let Some((call, e)) = sts_failure(err) {
                return RegionError { message: format!("{call} failed: {}", e.message), ..e };
            }
        }
        match err {
            SdkError::ServiceError(e) => match e.err().code() {
                Some(code) => RegionError::new(code, e.err().message().unwrap_or("(no message)")),
                None => not_aws(e.raw()),
            },
            SdkError::TimeoutError(_) => RegionError::new("Timeout", NO_ANSWER_IN_TIME),
            SdkError::DispatchFailure(e) => match e.as_connector_error() {
                // The connection was made and the request sent: a read
                // timeout is no answer, like the operation's deadline.
                Some(c) if c.is_timeout() && !while_connecting(c) => {
                    RegionError::new("Timeout", NO_ANSWER_IN_TIME)
                }
                Some(c) if c.is_timeout() => RegionError::new("ConnectionError", "could not connect in time"),
                _ => RegionError::new("ConnectionError", connection_failure(err)),
            },
            SdkError::ResponseError(e) => not_aws(e.raw()),
            _ => RegionError::new("RequestError", plain_chain(err)),
        }
    }

    /// Say where the call went and, for a call cut by the deadline, what the
    /// deadline was; other failures are the service's own words and stay as they are.
    pub fn at(mut self, endpoint: &str, deadline: Duration) -> Self {
        if NO_AWS_ANSWER.contains(&self.code.as_str()) {
            self.endpoint = Some(endpoint.to_string());
            if self.code == "Timeout" && self.message == NO_ANSWER_IN_TIME {
                self.message = no_answer_within(deadline);
            }
        }
        self
    }
}

/// A timeout's words until `at` knows the deadline.
const NO_ANSWER_IN_TIME: &str = "no answer in time";

fn no_answer_within(deadline: Duration) -> String {
    format!("no answer within {} s (--timeout)", deadline.as_secs_f64())
}

/// Whether a connector's timeout cut the connection being made (the connect
/// timeout), not the wait for an answer on it (the read timeout): the HTTP
/// client reports the first as a failure to connect, with the timeout inside.
fn while_connecting(e: &aws_smithy_runtime_api::client::result::ConnectorError) -> bool {
    // hyper-util's legacy client is the SDK client's own (its feature is on
    // through aws-smithy-http-client).
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if c.downcast_ref::<hyper_util::client::legacy::Error>().is_some_and(|h| h.is_connect()) {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The STS call of a role assumption among an error's causes (not the error
/// itself): it is classified like any other call.
pub fn sts_failure(e: &(dyn std::error::Error + 'static)) -> Option<(&'static str, RegionError)> {
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError;
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(e) = c.downcast_ref::<SdkError<AssumeRoleError, HttpResponse>>() {
            return Some(("AssumeRole", RegionError::from_sdk(e).about_credentials()));
        }
        if let Some(e) = c.downcast_ref::<SdkError<AssumeRoleWithWebIdentityError, HttpResponse>>() {
            return Some(("AssumeRoleWithWebIdentity", RegionError::from_sdk(e).about_credentials()));
        }
        cause = c.source();
    }
    None
}

/// Text from a server, made safe for a terminal and one line: line breaks
/// become spaces and other control characters (escape sequences that could
/// rewrite what the terminal shows) become U+FFFD.
pub fn printable(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// An answer that is not an AWS error reply (a proxy's page, a wrong endpoint).
fn not_aws(raw: &HttpResponse) -> RegionError {
    let status = raw.status().as_u16();
    let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut start: String = flat.chars().take(60).collect();
    if start.len() < flat.len() {
        start.push('…');
    }
    let mut message = format!("HTTP {status} with an answer that is not from AWS");
    if !start.is_empty() {
        message.push_str(&format!(" (it begins `{start}`)"));
    }
    RegionError::new("NotAwsResponse", message)
}

/// A failed connection in words: the innermost cause, which is the one that
/// says what happened ("Connection refused"), without its "(os error N)".
fn connection_failure(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = cause.source() {
        if let Some(rustls::Error::InvalidCertificate(e)) = tls_error(next) {
            return match e {
                rustls::CertificateError::UnknownIssuer => {
                    "certificate not trusted: its issuer is not a known CA \
                     (set AWS_CA_BUNDLE to your CA's PEM file)"
                        .into()
                }
                rustls::CertificateError::Expired => "certificate expired".into(),
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. } => {
                    "certificate not valid for this host name".into()
                }
                other => format!("certificate not trusted: {other:?}"),
            };
        }
        if let Some(io) = next.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".into(),
                std::io::ErrorKind::TimedOut => return "could not connect in time".into(),
                _ => {}
            }
        }
        cause = next;
    }
    let text = cause.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The TLS stack's verdict, which travels inside io::Errors (whose source()
/// skips the error they wrap).
fn tls_error<'a>(mut e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        e = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// An error and its causes on one line, each said once, without debug output.
pub fn plain_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(err);
    while let Some(e) = cause {
        // One line, whatever the cause's own layout.
        let text = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        // Wrappers often repeat their cause's text, or say nothing of their own.
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text) || text.contains(p.as_str())) {
            parts.push(text);
        } else if let Some(last) = parts.last_mut() {
            if text.contains(last.as_str()) {
                *last = text;
            }
        }
        cause = e.source();
    }
    parts.join(": ")
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(endpoint) = &self.endpoint {
            write!(f, " (at {endpoint})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RegionError {}

fn hint_for(code: &str) -> Option<Cow<'static, str>> {
    match code {
        "UnrecognizedClientException" | "InvalidClientTokenId" => {
            Some(Cow::Borrowed("the region may not be enabled for this account"))
        }
        "AccessDeniedException" | "UnauthorizedOperation" | "AccessDenied" => {
            Some(Cow::Owned(crate::iam::denied_hint()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What gdctl's HTTP client answers `url` with, under these timeouts.
    async fn connector_error(
        url: String,
        connect: Duration,
        read: Duration,
    ) -> SdkError<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError, HttpResponse> {
        use aws_smithy_async::rt::sleep::TokioSleep;
        use aws_smithy_async::time::SystemTimeSource;
        use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnector, HttpConnectorSettings};
        use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
        use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
        let components = RuntimeComponentsBuilder::for_tests()
            .with_sleep_impl(Some(TokioSleep::new()))
            .with_time_source(Some(SystemTimeSource::new()))
            .build()
            .unwrap();
        let settings = HttpConnectorSettings::builder().connect_timeout(connect).read_timeout(read).build();
        let connector =
            crate::http::client(&crate::http::Network::default()).http_connector(&settings, &components);
        match connector.call(HttpRequest::get(url).unwrap()).await {
            Err(e) => SdkError::dispatch_failure(e),
            Ok(r) => panic!("an answer: {}", r.status()),
        }
    }

    #[tokio::test]
    async fn a_read_timeout_is_no_answer_in_the_deadline_s_words() {
        // It accepts (the kernel completes the connection) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", silent.local_addr().unwrap());
        let err = connector_error(url.clone(), Duration::from_secs(60), Duration::from_millis(50)).await;
        let e = RegionError::from_sdk(&err).at(&url, Duration::from_secs(3));
        assert_eq!(e.to_string(), format!("Timeout: no answer within 3 s (--timeout) (at {url})"));
        assert!(e.may_have_landed(), "the request was sent");
    }

    #[tokio::test]
    async fn a_connect_timeout_is_a_connection_that_was_not_made() {
        // A listen queue of one, taken: the kernel drops further connection
        // attempts unanswered, so connecting never completes.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let full = socket.listen(0).unwrap();
        let addr = full.local_addr().unwrap();
        let _taken = std::net::TcpStream::connect(addr).unwrap();
        let err =
            connector_error(format!("http://{addr}/"), Duration::from_millis(50), Duration::from_secs(60))
                .await;
        let e = RegionError::from_sdk(&err).at("http://x", Duration::from_secs(3));
        assert_eq!(e.to_string(), "ConnectionError: could not connect in time (at http://x)");
        assert!(!e.may_have_landed());
    }

    #[test]
    fn every_deadline_without_an_answer_says_the_same_words() {
        let timed_out = RegionError::timed_out(Duration::from_secs(3)).at("http://x", Duration::from_secs(3));
        let sdk = RegionError::new("Timeout", NO_ANSWER_IN_TIME).at("http://x", Duration::from_secs(3));
        assert_eq!(timed_out, sdk);
        assert_eq!(timed_out.to_string(), "Timeout: no answer within 3 s (--timeout) (at http://x)");
    }

    #[test]
    fn unrecognized_client_gets_the_opt_in_hint() {
        let e = RegionError::new("UnrecognizedClientException", "The security token is invalid");
        assert_eq!(
            e.to_string(),
            "UnrecognizedClientException: The security token is invalid \
             (the region may not be enabled for this account)"
        );
        assert!(RegionError::new("InvalidClientTokenId", "x").hint.is_some());
        assert!(RegionError::new("ThrottlingException", "x").hint.is_none());
    }

    #[test]
    fn a_servers_words_cannot_steer_the_terminal() {
        let e = RegionError::new("Bad\x1b[2K", "one\ntwo\r\x1b]0;title\x07 three");
        assert_eq!(e.code, "Bad\u{fffd}[2K");
        assert_eq!(e.message, "one two \u{fffd}]0;title\u{fffd} three");
        assert!(!e.to_string().chars().any(char::is_control));
    }

    #[test]
    fn unknown_regions_are_named() {
        let e = SetupError::UnknownRegions {
            names: vec!["US-EAST-1".into()],
            home: "us-east-1".into(),
            suggestions: vec![("US-EAST-1".into(), "us-east-1".into())],
        };
        assert_eq!(
            e.to_string(),
            "unknown region: `US-EAST-1` (DescribeRegions in us-east-1 did not return it); \
             did you mean `us-east-1` for `US-EAST-1`?"
        );
    }
}
