//! The two kinds of failure: a setup error stops the run before any region is
//! touched (exit 2, or 1 when the user declines the confirmation); a region error fails that region alone (exit 1).

use std::fmt;

use aws_sdk_guardduty::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
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
    #[error("DescribeRegions in {region} failed: {error}")]
    DescribeRegions { region: String, error: RegionError },
    #[error("{}", unknown_regions(.names, .home))]
    UnknownRegions { names: Vec<String>, home: String },
    #[error("{0}")]
    Invalid(String),
    #[error("no target region left after --regions / --exclude-regions")]
    NoTargets,
    #[error("could not read the answer to the confirmation: {0}")]
    Prompt(std::io::Error),
    #[error("not confirmed: nothing was deleted")]
    Declined,
}

fn unknown_regions(names: &[String], home: &str) -> String {
    let (s, them) = if names.len() > 1 { ("s", "them") } else { ("", "it") };
    format!("unknown region{s}: {} (DescribeRegions in {home} did not return {them})", names.join(", "))
}

impl SetupError {
    pub fn exit_code(&self) -> u8 {
        match self {
            // The user said no: not a usage error, but not a success either.
            SetupError::Declined => 1,
            _ => 2,
        }
    }
}

/// Why one region failed: the AWS error code and message, never guessed from text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'static str>,
}

impl RegionError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        let hint = hint_for(&code);
        RegionError { code, message: message.into(), hint }
    }

    pub fn timed_out(after: std::time::Duration) -> Self {
        RegionError::new("Timeout", format!("timed out after {} s", after.as_secs_f64()))
    }

    /// Classify any SDK error by its code (service errors) or its kind
    /// (no response at all).
    pub fn from_sdk<E, R>(err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let kind = match err {
            SdkError::ServiceError(e) => {
                let e = e.err();
                let code = e.code().unwrap_or("Unknown");
                let message = e.message().unwrap_or("(no message)");
                return RegionError::new(code, message);
            }
            SdkError::TimeoutError(_) => "RequestTimeout",
            SdkError::DispatchFailure(_) => "ConnectionError",
            SdkError::ResponseError(_) => "ResponseError",
            SdkError::ConstructionFailure(_) => "RequestError",
            _ => "Unknown",
        };
        RegionError::new(kind, DisplayErrorContext(err).to_string())
    }
}

impl fmt::Display for RegionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(hint) = self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RegionError {}

fn hint_for(code: &str) -> Option<&'static str> {
    match code {
        "UnrecognizedClientException" | "InvalidClientTokenId" => {
            Some("the region may not be enabled for this account")
        }
        "AccessDeniedException" | "UnauthorizedOperation" | "AccessDenied" => {
            Some("see the minimum IAM policy in the README")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn unknown_regions_are_named() {
        let e = SetupError::UnknownRegions { names: vec!["xx-1".into()], home: "us-east-1".into() };
        assert_eq!(e.to_string(), "unknown region: xx-1 (DescribeRegions in us-east-1 did not return it)");
    }
}
