//! Test helpers: a GuardDuty client on aws-smithy-mocks rules, and GuardDuty's
//! real error shape, for the paths moto cannot produce.

use std::time::Duration;

use aws_sdk_guardduty::config::retry::RetryConfig;
use aws_sdk_guardduty::Client;
use aws_smithy_mocks::{mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// GuardDuty's restJson1 error shape.
pub fn aws_error(status: u16, code: &'static str, message: &'static str) -> impl Fn() -> HttpResponse {
    move || {
        let body = format!(r#"{{"message":"{message}","__type":"{code}"}}"#);
        let mut r = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
        r.headers_mut().insert("Content-Type", "application/json");
        r.headers_mut().insert("x-amzn-ErrorType", code);
        r
    }
}

/// A client answering from `rules`, retrying quickly (three attempts).
pub fn client(rules: &[&Rule]) -> Client {
    mock_client!(aws_sdk_guardduty, RuleMode::MatchAny, rules, |b| b.retry_config(
        RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(1))
    ))
}
