//! Settings read from the environment and the AWS config files that the SDK
//! would otherwise panic on or misread, checked before it sees them. Pure:
//! the caller hands in the variables and the selected profile's keys.

use aws_config::retry::{RetryConfig, RetryMode};

use crate::error::SetupError;

/// The range `--max-attempts` takes; `AWS_MAX_ATTEMPTS` and a profile's
/// `max_attempts` obey the same one.
pub const MAX_ATTEMPTS: std::ops::RangeInclusive<u32> = 1..=20;

/// Where a setting came from, for the error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    Env(&'a str),
    Profile { profile: &'a str, key: &'a str },
}

impl std::fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env(name) => write!(f, "{name} (environment)"),
            Source::Profile { profile, key } => write!(f, "`{key}` in profile `{profile}`"),
        }
    }
}

/// The retry settings, per field: the flag, else the environment, else the
/// profile, else the SDK's standard mode with 3 attempts (as the aws CLI reads them).
pub fn retry_config(
    flag: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
    profile_name: &str,
    profile: &dyn Fn(&str) -> Option<String>,
) -> Result<RetryConfig, SetupError> {
    let pick = |var: &'static str, key: &'static str| {
        env(var)
            .map(|v| (v, Source::Env(var)))
            .or_else(|| profile(key).map(|v| (v, Source::Profile { profile: profile_name, key })))
    };
    let mut config = RetryConfig::standard();
    let attempts = match flag {
        Some(n) => Some(n),
        None => {
            pick("AWS_MAX_ATTEMPTS", "max_attempts").map(|(v, from)| max_attempts(&v, from)).transpose()?
        }
    };
    if let Some(n) = attempts {
        config = config.with_max_attempts(n);
    }
    if let Some((v, from)) = pick("AWS_RETRY_MODE", "retry_mode") {
        config = config.with_retry_mode(retry_mode(&v, from)?);
    }
    Ok(config)
}

fn max_attempts(value: &str, from: Source) -> Result<u32, SetupError> {
    match value.trim().parse::<u32>() {
        Ok(n) if MAX_ATTEMPTS.contains(&n) => Ok(n),
        _ => Err(SetupError::Invalid(format!(
            "{from} is `{value}`: it must be a whole number from {} to {}",
            MAX_ATTEMPTS.start(),
            MAX_ATTEMPTS.end()
        ))),
    }
}

fn retry_mode(value: &str, from: Source) -> Result<RetryMode, SetupError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "standard" => Ok(RetryMode::Standard),
        "adaptive" => Ok(RetryMode::Adaptive),
        // The aws CLI v1's default; the Rust SDK has no such mode, and its
        // standard mode is the same idea (backoff with jitter, retry quotas).
        "legacy" => Ok(RetryMode::Standard),
        _ => Err(SetupError::Invalid(format!(
            "{from} is `{value}`: it must be `standard`, `adaptive` or `legacy`"
        ))),
    }
}

/// Where one service's calls go: `--endpoint-url`, else (unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true) `AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_ENDPOINT_URL`, the profile's `endpoint_url`; else AWS's own (`None`).
/// A configured one that is not a usable http(s) URL is an error naming its
/// source, and one holding a user name or password is refused without
/// printing them.
pub fn endpoint_url(
    service_id: &str,
    flag: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    profile_name: &str,
    profile: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, SetupError> {
    if let Some(url) = flag {
        return endpoint(url.trim())
            .map(Some)
            .map_err(|e| SetupError::Invalid(format!("--endpoint-url: {e}")));
    }
    let ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .or_else(|| profile("ignore_configured_endpoint_urls"))
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if ignore {
        return Ok(None);
    }
    let service_var = format!("AWS_ENDPOINT_URL_{service_id}");
    let (value, from) = if let Some(v) = env(&service_var) {
        (v, Source::Env(&service_var))
    } else if let Some(v) = env("AWS_ENDPOINT_URL") {
        (v, Source::Env("AWS_ENDPOINT_URL"))
    } else if let Some(v) = profile("endpoint_url") {
        (v, Source::Profile { profile: profile_name, key: "endpoint_url" })
    } else {
        return Ok(None);
    };
    endpoint(value.trim()).map(Some).map_err(|e| SetupError::Invalid(format!("{from}: {e}")))
}

/// An endpoint URL checked before any call: http:// or https://, a host, a
/// port from 1 to 65535 if one is given, and no user name or password (which
/// would otherwise be echoed in every error naming the endpoint).
pub fn endpoint(s: &str) -> Result<String, String> {
    // Whatever else is wrong, a URL holding credentials is never shown whole.
    let before_query = s.split(['?', '#']).next().unwrap_or("");
    if let Some(at) = before_query.rfind('@') {
        let start = s.find("://").map_or(0, |i| i + 3);
        let shown = format!("{}***{}", &s[..start.min(at)], &s[at..]);
        return Err(format!(
            "`{shown}` holds a user name or password (`user:password@`): gdctl refuses them \
             in an endpoint, so that they are never printed; give AWS credentials instead"
        ));
    }
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .ok_or_else(|| format!("`{s}` must start with http:// or https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    let invalid = |why: String| format!("`{s}` is not a valid URL: {why}");
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (addr, after) = v6.split_once(']').ok_or_else(|| invalid("its `[` has no `]`".into()))?;
            if addr.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(invalid(format!("`[{addr}]` is not an IPv6 address")));
            }
            match after {
                "" => (authority, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (&authority[..addr.len() + 2], Some(port)),
                    None => return Err(invalid(format!("`{after}` after the host"))),
                },
            }
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_char = |c: char| c.is_ascii_alphanumeric() || "-._".contains(c);
    if host.is_empty() {
        return Err(format!("`{s}` has no host"));
    }
    if !host.starts_with('[') && !host.chars().all(host_char) {
        return Err(invalid(format!("`{host}` is not a host name or IP address")));
    }
    if let Some(port) = port {
        let number = port.bytes().all(|b| b.is_ascii_digit()).then(|| port.parse::<u16>().ok()).flatten();
        if number.is_none_or(|n| n == 0) {
            return Err(invalid(format!("its port `{port}` is not a number from 1 to 65535")));
        }
    }
    if rest.contains(char::is_whitespace) {
        return Err(invalid("it holds a space".into()));
    }
    // The SDK parses it too: what it would refuse is refused here.
    s.parse::<http::Uri>().map_err(|e| invalid(e.to_string()))?;
    Ok(s.to_string())
}

/// A region name as a person may have typed it: trimmed. An empty one or one
/// with characters no region has is an error, with the lower-case spelling
/// suggested where that is all that is wrong.
pub fn region_name(value: &str, from: &str) -> Result<String, SetupError> {
    let name = value.trim();
    if name.is_empty() {
        return Err(SetupError::Invalid(format!(
            "{from} is empty: it must name a region, such as us-east-1"
        )));
    }
    // Lower-case letters and digits in parts joined by single hyphens: a host label.
    let valid = |s: &str| {
        s.split('-').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
    };
    if valid(name) {
        return Ok(name.to_string());
    }
    let lower = name.to_ascii_lowercase();
    let hint = if valid(&lower) { format!(" (did you mean `{lower}`?)") } else { String::new() };
    Err(SetupError::Invalid(format!("{from} `{name}` is not a region name{hint}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    fn resolve(
        flag: Option<u32>,
        env: &[(&str, &str)],
        profile: &[(&str, &str)],
    ) -> Result<RetryConfig, String> {
        retry_config(flag, &vars(env), "ci", &vars(profile)).map_err(|e| e.to_string())
    }

    #[test]
    fn bad_values_are_errors_naming_the_setting_and_its_source() {
        type Vars<'a> = &'a [(&'a str, &'a str)];
        let table: &[(Vars, Vars, &str)] = &[
            (&[("AWS_MAX_ATTEMPTS", "0")], &[], "AWS_MAX_ATTEMPTS (environment) is `0`"),
            (&[("AWS_MAX_ATTEMPTS", "abc")], &[], "AWS_MAX_ATTEMPTS (environment) is `abc`"),
            (&[("AWS_MAX_ATTEMPTS", "-1")], &[], "AWS_MAX_ATTEMPTS (environment) is `-1`"),
            (&[("AWS_MAX_ATTEMPTS", "21")], &[], "from 1 to 20"),
            (&[("AWS_MAX_ATTEMPTS", "")], &[], "AWS_MAX_ATTEMPTS (environment) is ``"),
            (&[("AWS_RETRY_MODE", "bogus")], &[], "AWS_RETRY_MODE (environment) is `bogus`"),
            (&[], &[("max_attempts", "0")], "`max_attempts` in profile `ci` is `0`"),
            (&[], &[("max_attempts", "3.5")], "`max_attempts` in profile `ci`"),
            (&[], &[("retry_mode", "fast")], "`retry_mode` in profile `ci` is `fast`"),
        ];
        for (env, profile, expected) in table {
            let err = resolve(None, env, profile).unwrap_err();
            assert!(err.contains(expected), "{env:?} {profile:?}: {err}");
        }
    }

    #[test]
    fn flag_beats_environment_beats_profile_per_field() {
        let env = [("AWS_MAX_ATTEMPTS", "5")];
        let profile = [("max_attempts", "7"), ("retry_mode", "adaptive")];
        assert_eq!(resolve(Some(2), &env, &profile).unwrap().max_attempts(), 2);
        let c = resolve(None, &env, &profile).unwrap();
        assert_eq!((c.max_attempts(), c.mode()), (5, RetryMode::Adaptive));
        assert_eq!(resolve(None, &[], &profile).unwrap().max_attempts(), 7);
        // A flag wins even over a broken environment value: it is never read.
        assert!(resolve(Some(2), &[("AWS_MAX_ATTEMPTS", "0")], &[]).is_ok());
        assert_eq!(resolve(None, &[], &[]).unwrap(), RetryConfig::standard());
        assert_eq!(
            resolve(None, &[("AWS_RETRY_MODE", " Legacy ")], &[]).unwrap().mode(),
            RetryMode::Standard
        );
    }

    #[test]
    fn region_names_are_trimmed_and_checked() {
        assert_eq!(region_name(" eu-west-1 ", "--region").unwrap(), "eu-west-1");
        let e = region_name("US-EAST-1", "--region").unwrap_err().to_string();
        assert_eq!(e, "--region `US-EAST-1` is not a region name (did you mean `us-east-1`?)");
        let e = region_name("", "AWS_REGION (environment)").unwrap_err().to_string();
        assert!(e.starts_with("AWS_REGION (environment) is empty"), "{e}");
        assert!(!region_name("us east 1", "--region").unwrap_err().to_string().contains("did you mean"));
        for bad in ["-x", "a--b", "eu-west-", "a.b"] {
            assert!(region_name(bad, "--region").is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_follow_flag_then_service_variable_then_variable_then_profile() {
        let url = |flag: Option<&str>, env: &[(&str, &str)], profile: &[(&str, &str)]| {
            endpoint_url("EC2", flag, &vars(env), "ci", &vars(profile)).map_err(|e| e.to_string())
        };
        let env = [("AWS_ENDPOINT_URL_EC2", "http://ec2:1"), ("AWS_ENDPOINT_URL", "http://all:2")];
        let profile = [("endpoint_url", "http://profile:3")];
        assert_eq!(url(Some("http://flag:9"), &env, &profile).unwrap().as_deref(), Some("http://flag:9"));
        assert_eq!(url(None, &env, &profile).unwrap().as_deref(), Some("http://ec2:1"));
        assert_eq!(url(None, &env[1..], &profile).unwrap().as_deref(), Some("http://all:2"));
        assert_eq!(url(None, &[], &profile).unwrap().as_deref(), Some("http://profile:3"));
        assert_eq!(url(None, &[], &[]).unwrap(), None);
        let ignore = [("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"), ("AWS_ENDPOINT_URL", "http://all:2")];
        assert_eq!(url(None, &ignore, &profile).unwrap(), None);
        let err = url(None, &[("AWS_ENDPOINT_URL", "not-a-url")], &[]).unwrap_err();
        assert_eq!(err, "AWS_ENDPOINT_URL (environment): `not-a-url` must start with http:// or https://");
        let err = url(None, &[], &[("endpoint_url", "http://")]).unwrap_err();
        assert!(err.starts_with("`endpoint_url` in profile `ci`"), "{err}");
        let err = url(Some("http://127.0.0.1:0"), &env, &[]).unwrap_err();
        assert!(err.starts_with("--endpoint-url: `http://127.0.0.1:0` is not a valid URL"), "{err}");
    }

    #[test]
    fn endpoints_need_a_scheme_a_host_and_a_port_in_range() {
        for good in [
            "http://127.0.0.1:5000",
            "https://guardduty.eu-west-1.amazonaws.com",
            "http://localhost:4566/",
            "http://[::1]:4566",
            "http://[::1]",
            "http://moto_server:5000/path?x=1",
            "http://127.0.0.1:65535",
        ] {
            assert_eq!(endpoint(good).as_deref(), Ok(good));
        }
        let table = [
            ("127.0.0.1:5000", "`127.0.0.1:5000` must start with http:// or https://"),
            ("ftp://x", "must start with http:// or https://"),
            ("http://", "`http://` has no host"),
            ("http:///x", "`http:///x` has no host"),
            ("http://:5000", "`http://:5000` has no host"),
            (
                "http://127.0.0.1:99999",
                "`http://127.0.0.1:99999` is not a valid URL: its port `99999` is not a number from 1 to 65535",
            ),
            ("http://127.0.0.1:abc", "its port `abc` is not a number from 1 to 65535"),
            ("http://127.0.0.1:", "its port `` is not a number"),
            ("http://127.0.0.1:0", "its port `0` is not a number"),
            ("http://127.0.0.1:-1", "its port `-1` is not a number"),
            ("http://127.0.0.1:+80", "its port `+80` is not a number"),
            ("http://[::1]:99999", "its port `99999`"),
            ("http://[::1", "its `[` has no `]`"),
            ("http://[nope]:1", "`[nope]` is not an IPv6 address"),
            ("http://a b:1", "`a b` is not a host name or IP address"),
            ("http://host/a b", "it holds a space"),
        ];
        for (bad, expected) in table {
            let err = endpoint(bad).unwrap_err();
            assert!(err.contains(expected), "{bad}: {err}");
        }
    }

    #[test]
    fn an_endpoint_holding_credentials_is_refused_without_showing_them() {
        for (bad, shown) in [
            ("http://gd:Secr3t@127.0.0.1:5000", "`http://***@127.0.0.1:5000`"),
            ("https://Secr3t@host/x", "`https://***@host/x`"),
            ("http://gd:pa/Secr3t@host", "`http://***@host`"),
            ("gd:Secr3t@host:1", "`***@host:1`"),
            ("http://u:Secr3t@127.0.0.1:99999", "`http://***@127.0.0.1:99999`"),
        ] {
            let err = endpoint(bad).unwrap_err();
            assert!(!err.contains("Secr3t") && !err.contains("gd:"), "{bad}: {err}");
            assert!(err.contains(shown) && err.contains("user name or password"), "{bad}: {err}");
        }
        let env = [("AWS_ENDPOINT_URL", "http://gd:Secr3t@127.0.0.1:1")];
        for (flag, env, profile, from) in [
            (Some("http://gd:Secr3t@127.0.0.1:1"), &[][..], &[][..], "--endpoint-url: "),
            (None, &env[..], &[][..], "AWS_ENDPOINT_URL (environment): "),
            (
                None,
                &[][..],
                &[("endpoint_url", "http://gd:Secr3t@127.0.0.1:1")][..],
                "`endpoint_url` in profile `ci`: ",
            ),
        ] {
            let err = endpoint_url("EC2", flag, &vars(env), "ci", &vars(profile)).unwrap_err().to_string();
            assert!(err.starts_with(from) && !err.contains("Secr3t"), "{err}");
        }
    }
}
