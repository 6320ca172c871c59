//! The findings export (a publishing destination), pure: one S3 destination
//! per detector, created or updated to the file's bucket and key.

/// The export as the file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/prefix`.
    pub destination_arn: String,
    /// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
    pub kms_key_arn: String,
}

/// A region's destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub id: String,
    pub export: Export,
    /// PUBLISHING, PENDING_VERIFICATION, UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY, STOPPED.
    pub status: String,
    /// Since when publishing fails (epoch milliseconds), as the API says it.
    pub failing_since_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create(Export),
    Update { id: String, export: Export },
}

/// The call, with its words, if one is needed.
pub fn decide(wanted: &Export, existing: Option<&Existing>) -> Option<(Call, String)> {
    match existing {
        None => Some((Call::Create(wanted.clone()), format!("+export {}", wanted.destination_arn))),
        Some(e) if e.export == *wanted => None,
        Some(e) => {
            let mut what = Vec::new();
            if e.export.destination_arn != wanted.destination_arn {
                what.push(format!("destination {} -> {}", e.export.destination_arn, wanted.destination_arn));
            }
            if e.export.kms_key_arn != wanted.kms_key_arn {
                what.push(format!("kms key {} -> {}", e.export.kms_key_arn, wanted.kms_key_arn));
            }
            Some((
                Call::Update { id: e.id.clone(), export: wanted.clone() },
                format!("~export: {}", what.join(", ")),
            ))
        }
    }
}

/// Why an existing export does not publish, if it does not (for `--check`).
pub fn not_publishing(e: &Existing) -> Option<String> {
    if e.status == "PUBLISHING" {
        return None;
    }
    let reason = match e.status.as_str() {
        "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY" => {
            ": GuardDuty cannot write to it (check the bucket policy and the key policy)"
        }
        "PENDING_VERIFICATION" => ": GuardDuty has not yet verified the bucket and key",
        "STOPPED" => ": publishing was stopped",
        _ => "",
    };
    let since = e.failing_since_ms.and_then(iso).map(|t| format!(" since {t}")).unwrap_or_default();
    Some(format!("export {}{reason}{since}", e.status))
}

/// Epoch milliseconds as `2026-12-01T10:00:00Z`.
fn iso(ms: i64) -> Option<String> {
    use aws_sdk_guardduty::primitives::{DateTime, DateTimeFormat};
    DateTime::from_millis(ms).fmt(DateTimeFormat::DateTime).ok()
}

/// `arn:aws:s3:::bucket[/prefix]` as GuardDuty takes it.
pub fn check_bucket_arn(arn: &str) -> Result<(), String> {
    let rest = arn
        .strip_prefix("arn:aws:s3:::")
        .or_else(|| arn.strip_prefix("arn:aws-us-gov:s3:::"))
        .or_else(|| arn.strip_prefix("arn:aws-cn:s3:::"));
    let bucket = rest.map(|r| r.split('/').next().unwrap_or(""));
    match bucket {
        Some(b)
            if (3..=63).contains(&b.len())
                && b.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "`{arn}` is not an S3 bucket ARN (`arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/prefix`)"
        )),
    }
}

/// `arn:aws:kms:REGION:ACCOUNT:key/ID`.
pub fn check_key_arn(arn: &str) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && parts[5].strip_prefix("key/").is_some_and(|id| !id.is_empty());
    match ok {
        true => Ok(()),
        false => Err(format!("`{arn}` is not a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(bucket: &str, key: &str) -> Export {
        Export { destination_arn: bucket.into(), kms_key_arn: key.into() }
    }

    const KEY: &str = "arn:aws:kms:us-east-1:111111111111:key/abc";
    const KEY2: &str = "arn:aws:kms:us-east-1:111111111111:key/def";

    #[test]
    fn created_updated_or_left_alone() {
        let wanted = export("arn:aws:s3:::findings", KEY);
        assert!(
            matches!(decide(&wanted, None), Some((Call::Create(_), w)) if w == "+export arn:aws:s3:::findings")
        );
        let same = Existing {
            id: "d".into(),
            export: wanted.clone(),
            status: "PUBLISHING".into(),
            failing_since_ms: None,
        };
        assert_eq!(decide(&wanted, Some(&same)), None);
        let other = Existing { export: export("arn:aws:s3:::findings", KEY2), ..same.clone() };
        let (call, words) = decide(&wanted, Some(&other)).unwrap();
        assert_eq!(call, Call::Update { id: "d".into(), export: wanted.clone() });
        assert_eq!(words, format!("~export: kms key {KEY2} -> {KEY}"));
        assert_eq!(not_publishing(&same), None);
        let broken = Existing {
            status: "UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY".into(),
            failing_since_ms: Some(0),
            ..same
        };
        assert_eq!(
            not_publishing(&broken).unwrap(),
            "export UNABLE_TO_PUBLISH_FIX_DESTINATION_PROPERTY: GuardDuty cannot write to it (check the bucket policy and the key policy) since 1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn arns_are_checked() {
        assert!(check_bucket_arn("arn:aws:s3:::findings").is_ok());
        assert!(check_bucket_arn("arn:aws:s3:::findings/guardduty/").is_ok());
        for bad in ["findings", "arn:aws:s3:::", "arn:aws:s3:::UPPER", "s3://findings", "arn:aws:s3:::a"] {
            assert!(check_bucket_arn(bad).is_err(), "{bad}");
        }
        assert!(check_key_arn(KEY).is_ok());
        for bad in [
            "abc",
            "arn:aws:kms:us-east-1:1111:key/abc",
            "arn:aws:kms:us-east-1:111111111111:alias/x",
            "arn:aws:s3:us-east-1:111111111111:key/abc",
        ] {
            assert!(check_key_arn(bad).is_err(), "{bad}");
        }
    }
}
