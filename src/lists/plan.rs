//! Trusted IP lists and threat lists, pure: what it takes to make a region's
//! lists the file's.

/// Which kind of list: GuardDuty keeps them apart, with their own calls and quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An IP set: addresses GuardDuty does not alert on (one per region).
    Trusted,
    /// A threat intel set: addresses GuardDuty alerts on (six per region).
    Threat,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Trusted => "trusted-ips",
            Kind::Threat => "threat-list",
        }
    }
}

/// The formats GuardDuty reads, by API name.
pub const FORMATS: [&str; 6] = ["TXT", "STIX", "OTX_CSV", "ALIEN_VAULT", "PROOF_POINT", "FIRE_EYE"];

/// An S3 object's URL as GuardDuty takes a list's location: path-style
/// (`https://s3.amazonaws.com/BUCKET/KEY`, `https://s3[.-]REGION.amazonaws.com/BUCKET/KEY`),
/// virtual-hosted (`https://BUCKET.s3[.-REGION].amazonaws.com/KEY`) or `s3://BUCKET/KEY`.
pub fn is_s3_url(url: &str) -> bool {
    if url.len() > 300 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let bucket_ok = |b: &str| {
        (3..=63).contains(&b.len())
            && b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    };
    let region_host = |h: &str| {
        h == "s3.amazonaws.com"
            || h.strip_suffix(".amazonaws.com")
                .and_then(|r| r.strip_prefix("s3.").or_else(|| r.strip_prefix("s3-")))
                .is_some_and(|r| {
                    !r.is_empty()
                        && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                })
    };
    if let Some(rest) = url.strip_prefix("s3://") {
        return rest.split_once('/').is_some_and(|(b, k)| bucket_ok(b) && !k.is_empty());
    }
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
        return false;
    };
    let Some((host, path)) = rest.split_once('/') else { return false };
    if region_host(host) {
        return path.split_once('/').is_some_and(|(b, k)| bucket_ok(b) && !k.is_empty());
    }
    match host.split_once('.') {
        Some((bucket, h)) => bucket_ok(bucket) && region_host(h) && !path.is_empty(),
        None => false,
    }
}

/// A list as the file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    pub name: String,
    pub format: String,
    pub location: String,
    pub activate: bool,
}

/// A region's list, with its id and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub id: String,
    pub name: String,
    pub format: String,
    pub location: String,
    /// ACTIVE, ACTIVATING, INACTIVE, ERROR, ...
    pub status: String,
}

impl Existing {
    fn active(&self) -> bool {
        matches!(self.status.as_str(), "ACTIVE" | "ACTIVATING")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create(List),
    /// UpdateIPSet / UpdateThreatIntelSet: name, location and activation.
    Update {
        id: String,
        list: List,
    },
    Delete {
        id: String,
    },
}

/// The calls, each with the words the report gives it, and the lists left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub calls: Vec<(Call, String)>,
    pub unmanaged: Vec<String>,
}

/// Make the region's lists of one kind the file's. Lists are matched by name;
/// the one trusted list a region may hold is the file's whatever its name. A
/// format cannot be changed: the list is deleted and made again. `reload`
/// activates every list of the file again, so GuardDuty reads its file anew.
pub fn decide(kind: Kind, wanted: &[List], existing: &[Existing], reload: bool) -> Plan {
    let mut plan = Plan::default();
    let mut taken: Vec<&str> = Vec::new();
    for w in wanted {
        let found = existing.iter().find(|e| e.name == w.name).or_else(|| match kind {
            Kind::Trusted => existing.first(),
            Kind::Threat => None,
        });
        let Some(e) = found else {
            plan.calls.push((Call::Create(w.clone()), format!("+{} {}", kind.word(), w.name)));
            continue;
        };
        taken.push(&e.id);
        if e.format != w.format {
            let words = format!(
                "~{} {}: format {} -> {} (deleted and made again)",
                kind.word(),
                w.name,
                e.format,
                w.format
            );
            plan.calls.push((
                Call::Delete { id: e.id.clone() },
                format!("-{} {} ({})", kind.word(), e.name, e.format),
            ));
            plan.calls.push((Call::Create(w.clone()), words));
            continue;
        }
        let mut what = Vec::new();
        if e.name != w.name {
            what.push(format!("name {} -> {}", e.name, w.name));
        }
        if e.location != w.location {
            what.push(format!("location {} -> {}", e.location, w.location));
        }
        if e.active() != w.activate {
            what.push(if w.activate { "activated".to_string() } else { "deactivated".to_string() });
        }
        if what.is_empty() && reload && w.activate {
            what.push("activated again (--reload-lists)".to_string());
        }
        if !what.is_empty() {
            let words = format!("~{} {}: {}", kind.word(), w.name, what.join(", "));
            plan.calls.push((Call::Update { id: e.id.clone(), list: w.clone() }, words));
        }
    }
    plan.unmanaged =
        existing.iter().filter(|e| !taken.contains(&e.id.as_str())).map(|e| e.name.clone()).collect();
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(name: &str, format: &str, location: &str) -> List {
        List { name: name.into(), format: format.into(), location: location.into(), activate: true }
    }

    fn existing(id: &str, name: &str, format: &str, location: &str, status: &str) -> Existing {
        Existing {
            id: id.into(),
            name: name.into(),
            format: format.into(),
            location: location.into(),
            status: status.into(),
        }
    }

    const A: &str = "https://s3.amazonaws.com/b/a.txt";
    const B: &str = "https://s3.amazonaws.com/b/b.txt";

    #[test]
    fn missing_lists_are_made_and_matching_ones_left_alone() {
        let plan = decide(Kind::Threat, &[list("feed", "TXT", A)], &[], false);
        assert_eq!(plan.calls, [(Call::Create(list("feed", "TXT", A)), "+threat-list feed".to_string())]);
        let same = [existing("1", "feed", "TXT", A, "ACTIVE")];
        assert_eq!(decide(Kind::Threat, &[list("feed", "TXT", A)], &same, false), Plan::default());
    }

    #[test]
    fn location_and_activation_are_updated_and_a_format_change_replaces_the_list() {
        let now = [existing("1", "feed", "TXT", A, "INACTIVE")];
        let plan = decide(Kind::Threat, &[list("feed", "TXT", B)], &now, false);
        assert_eq!(plan.calls.len(), 1);
        assert_eq!(plan.calls[0].1, format!("~threat-list feed: location {A} -> {B}, activated"));
        let plan = decide(Kind::Threat, &[list("feed", "STIX", A)], &now, false);
        assert!(matches!(plan.calls[0].0, Call::Delete { .. }) && matches!(plan.calls[1].0, Call::Create(_)));
        assert!(plan.calls[1].1.contains("format TXT -> STIX (deleted and made again)"));
    }

    #[test]
    fn the_one_trusted_list_is_the_files_whatever_its_name_and_unnamed_threat_lists_stay() {
        let now = [existing("1", "office", "TXT", A, "ACTIVE")];
        let plan = decide(Kind::Trusted, &[list("egress", "TXT", A)], &now, false);
        assert_eq!(plan.calls[0].1, "~trusted-ips egress: name office -> egress");
        assert!(plan.unmanaged.is_empty());
        let plan = decide(
            Kind::Threat,
            &[list("feed", "TXT", A)],
            &[existing("9", "other", "TXT", B, "ACTIVE")],
            false,
        );
        assert_eq!(plan.unmanaged, ["other"]);
    }

    #[test]
    fn locations_are_s3_object_urls() {
        for ok in [
            "https://s3.amazonaws.com/bucket/key.txt",
            "https://s3-eu-west-1.amazonaws.com/bucket/a/b.txt",
            "https://s3.eu-west-1.amazonaws.com/bucket/k",
            "https://bucket.s3.amazonaws.com/k",
            "https://bucket.s3.eu-west-1.amazonaws.com/k",
            "https://bucket.s3-eu-west-1.amazonaws.com/k",
            "s3://bucket/k",
        ] {
            assert!(is_s3_url(ok), "{ok}");
        }
        for bad in [
            "https://example.com/k",
            "https://s3.amazonaws.com/",
            "https://s3.amazonaws.com/bucket",
            "s3://bucket",
            "ftp://b/k",
            "https://s3.amazonaws.com/b u/k",
        ] {
            assert!(!is_s3_url(bad), "{bad}");
        }
    }

    #[test]
    fn reload_activates_every_active_list_again() {
        let now = [existing("1", "feed", "TXT", A, "ACTIVE")];
        let plan = decide(Kind::Threat, &[list("feed", "TXT", A)], &now, true);
        assert_eq!(plan.calls[0].1, "~threat-list feed: activated again (--reload-lists)");
    }
}
