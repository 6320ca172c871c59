//! `--tag key=value` and `--only-tagged key=value`, checked as AWS checks tags,
//! before any call.

use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

/// One `key=value`, checked as GuardDuty's TagResource and CreateDetector
/// check it: the key 1–128 characters of `^(?!aws:)[a-zA-Z+-=._:/]+$`, the
/// value at most 256 of `[a-zA-Z+-=._:/]` (it may be empty). `+-=` there is
/// the range from `+` to `=`: digits and `+ , - . / : ; < =`.
pub fn parse_tag(s: &str) -> Result<(String, String), String> {
    let (key, value) = s.split_once('=').ok_or_else(|| format!("`{s}` is not key=value"))?;
    let chars = key.chars().count();
    if chars == 0 || chars > 128 {
        return Err(format!("tag key `{key}` must be 1 to 128 characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!("tag key `{key}` may not start with `aws:` (reserved for AWS)"));
    }
    if let Some(c) = key.chars().find(|c| !tag_char(*c)) {
        return Err(format!("tag key `{key}` holds `{c}`: {ALLOWED}"));
    }
    if value.chars().count() > 256 {
        return Err(format!("the value of tag `{key}` is longer than 256 characters"));
    }
    if let Some(c) = value.chars().find(|c| !tag_char(*c)) {
        return Err(format!("the value of tag `{key}` holds `{c}`: {ALLOWED}"));
    }
    Ok((key.to_string(), value.to_string()))
}

const ALLOWED: &str = "GuardDuty allows only letters, digits and + , - . / : ; < = _";

/// `[a-zA-Z+-=._:/]`.
fn tag_char(c: char) -> bool {
    c.is_ascii_alphabetic() || ('+'..='=').contains(&c) || "._:/".contains(c)
}

/// Every `--tag`; a key given twice with different values is an error.
pub fn collect(pairs: &[(String, String)]) -> Result<Tags, String> {
    let mut tags = Tags::new();
    for (k, v) in pairs {
        if let Some(old) = tags.insert(k.clone(), v.clone()) {
            if &old != v {
                return Err(format!("tag `{k}` is given twice, as `{old}` and `{v}`"));
            }
        }
    }
    if tags.len() > 50 {
        return Err("at most 50 tags per detector".into());
    }
    Ok(tags)
}

/// The wanted tags a detector lacks or holds with another value. Tags it has
/// that were not named are left alone.
pub fn missing(wanted: &Tags, current: &Tags) -> Tags {
    wanted.iter().filter(|(k, v)| current.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_are_checked_as_aws_does() {
        assert_eq!(parse_tag("team=sec").unwrap(), ("team".into(), "sec".into()));
        assert_eq!(parse_tag("owner=").unwrap(), ("owner".into(), "".into()));
        assert_eq!(parse_tag("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_tag("team").is_err());
        assert!(parse_tag("=x").is_err());
        assert!(parse_tag(&format!("{}=x", "k".repeat(129))).is_err());
        assert!(parse_tag(&format!("{}=x", "k".repeat(128))).is_ok());
        assert!(parse_tag("aws:createdBy=me").is_err());
        assert!(parse_tag("AWS:x=me").is_err());
        assert!(parse_tag(&format!("k={}", "v".repeat(257))).is_err());
        assert!(parse_tag(&format!("k={}", "v".repeat(256))).is_ok());
    }

    #[test]
    fn only_the_characters_guardduty_allows_are_taken() {
        // `+-=` is a range: digits and , ; < are in it.
        for good in ["a.b_c:d/e+f-g=1", "cost-center=1,2;3<4", "Team=Sec/Ops:1.0", "k=v=w"] {
            assert!(parse_tag(good).is_ok(), "{good}");
        }
        for (bad, expected) in [
            ("team name=x", "tag key `team name` holds ` `"),
            ("owner@corp=x", "holds `@`"),
            ("k>=x", "holds `>`"),
            ("équipe=x", "holds `é`"),
            ("team=sec ops", "the value of tag `team` holds ` `"),
            ("team=a@b", "the value of tag `team` holds `@`"),
            ("team=a*", "holds `*`"),
            ("team=\u{1F600}", "holds `\u{1F600}`"),
        ] {
            let e = parse_tag(bad).unwrap_err();
            assert!(e.contains(expected) && e.contains("letters, digits"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_key_twice_with_two_values_is_refused() {
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert!(collect(&[p("a", "1"), p("a", "2")]).is_err());
        assert_eq!(collect(&[p("a", "1"), p("a", "1")]).unwrap().len(), 1);
    }

    #[test]
    fn only_missing_or_different_tags_are_set() {
        let wanted = Tags::from([("team".into(), "sec".into()), ("env".into(), "prod".into())]);
        let current = Tags::from([
            ("team".into(), "sec".into()),
            ("env".into(), "dev".into()),
            ("x".into(), "y".into()),
        ]);
        assert_eq!(missing(&wanted, &current), Tags::from([("env".into(), "prod".into())]));
    }
}
