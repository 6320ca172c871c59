//! What GuardDuty found (pure): severity bands, the query's criteria, the
//! gates, and the most severe findings kept across regions.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// GuardDuty's severity bands, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Band {
    /// 1.0-3.9
    Low,
    /// 4.0-6.9
    Medium,
    /// 7.0-8.9
    High,
    /// 9.0-10.0
    Critical,
}

impl Band {
    pub const ALL: [Band; 4] = [Band::Critical, Band::High, Band::Medium, Band::Low];

    /// The band a severity falls in (anything under 4 is low).
    pub fn of(severity: f64) -> Band {
        match severity {
            s if s >= 9.0 => Band::Critical,
            s if s >= 7.0 => Band::High,
            s if s >= 4.0 => Band::Medium,
            _ => Band::Low,
        }
    }

    /// The lowest severity in the band; the next band starts at `ceiling`.
    pub fn floor(self) -> i64 {
        match self {
            Band::Low => 1,
            Band::Medium => 4,
            Band::High => 7,
            Band::Critical => 9,
        }
    }

    pub fn ceiling(self) -> Option<i64> {
        match self {
            Band::Low => Some(4),
            Band::Medium => Some(7),
            Band::High => Some(9),
            Band::Critical => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
            Band::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Result<Band, String> {
        <Band as clap::ValueEnum>::from_str(s, true)
            .map_err(|_| format!("`{s}` is not a severity band (low, medium, high, critical)"))
    }
}

/// Findings counted per band.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BandCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

impl BandCounts {
    pub fn get(&self, band: Band) -> u64 {
        match band {
            Band::Critical => self.critical,
            Band::High => self.high,
            Band::Medium => self.medium,
            Band::Low => self.low,
        }
    }

    pub fn add(&mut self, band: Band, n: u64) {
        let slot = match band {
            Band::Critical => &mut self.critical,
            Band::High => &mut self.high,
            Band::Medium => &mut self.medium,
            Band::Low => &mut self.low,
        };
        *slot = slot.saturating_add(n);
    }

    pub fn merge(&mut self, other: &BandCounts) {
        for band in Band::ALL {
            self.add(band, other.get(band));
        }
    }

    /// Findings in `band` or above.
    pub fn at_least(&self, band: Band) -> u64 {
        Band::ALL.iter().filter(|b| **b >= band).map(|b| self.get(*b)).sum()
    }

    /// The bands below `band` emptied: what is shown and counted.
    pub fn from(mut self, band: Band) -> BandCounts {
        for b in Band::ALL.into_iter().filter(|b| *b < band) {
            *match b {
                Band::High => &mut self.high,
                Band::Medium => &mut self.medium,
                Band::Low => &mut self.low,
                Band::Critical => &mut self.critical,
            } = 0;
        }
        self
    }

    pub fn total(&self) -> u64 {
        self.at_least(Band::Low)
    }

    /// `1 critical  2 high  5 medium`: the bands with findings, most severe first.
    pub fn words(&self) -> String {
        let parts: Vec<String> = Band::ALL
            .iter()
            .filter(|b| self.get(**b) > 0)
            .map(|b| format!("{} {}", self.get(*b), b.name()))
            .collect();
        parts.join("  ")
    }

    /// Most severe first: by critical, then high, medium and low.
    pub fn severity_key(&self) -> [u64; 4] {
        [self.critical, self.high, self.medium, self.low]
    }
}

/// Counts from GuardDuty's per-severity groups (GetFindingsStatistics groupBy SEVERITY).
pub fn band_counts(groups: impl IntoIterator<Item = (f64, u64)>) -> BandCounts {
    let mut counts = BandCounts::default();
    for (severity, n) in groups {
        counts.add(Band::of(severity), n);
    }
    counts
}

/// `30m`, `24h`, `7d`, `2w`: a whole number and a unit.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration: a whole number and a unit, m, h, d or w (`24h`, `7d`)");
    let s = text.trim();
    let unit = s.chars().last().ok_or_else(bad)?;
    let seconds: u64 = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    let digits = &s[..s.len() - 1];
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    // GuardDuty keeps findings 90 days; ten years is far past any use.
    if n == 0 || n.saturating_mul(seconds) > 10 * 365 * 86_400 {
        return Err(format!("`{text}`: a duration between a minute and ten years"));
    }
    Ok(Duration::from_secs(n * seconds))
}

/// `--max-age high=1d,medium=7d,low=30d`: the age each band's findings may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxAge(pub BTreeMap<Band, Duration>);

impl MaxAge {
    pub fn parse(text: &str) -> Result<MaxAge, String> {
        let mut ages = BTreeMap::new();
        for part in text.split(',').map(str::trim) {
            let (band, age) =
                part.split_once('=').ok_or_else(|| format!("`{part}` is not BAND=DURATION (`high=1d`)"))?;
            let band = Band::parse(band.trim())?;
            if ages.insert(band, parse_age(age)?).is_some() {
                return Err(format!("{} is given twice", band.name()));
            }
        }
        Ok(MaxAge(ages))
    }
}

/// What the run gates on: `--check [--fail-on BAND]`, any counted finding
/// in that band or above; `--max-age`, findings first seen longer ago than
/// their band allows. Both may be given: either fails the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gate {
    pub fail_on: Option<Band>,
    pub max_age: Option<MaxAge>,
}

impl Gate {
    pub fn is_on(&self) -> bool {
        self.fail_on.is_some() || self.max_age.is_some()
    }
}

/// The threat purposes GuardDuty's finding types begin with (the user
/// guide's "Finding format"); types are matched exactly, case and all.
pub const PURPOSES: [&str; 19] = [
    "AttackSequence",
    "Backdoor",
    "Behavior",
    "CredentialAccess",
    "CryptoCurrency",
    "DefenseEvasion",
    "Discovery",
    "Execution",
    "Exfiltration",
    "Impact",
    "InitialAccess",
    "PenTest",
    "Persistence",
    "Policy",
    "PrivilegeEscalation",
    "Recon",
    "Stealth",
    "Trojan",
    "UnauthorizedAccess",
];

/// A finding type as GuardDuty spells them: `ThreatPurpose:ResourceType/ThreatFamily.Variant!Artifact`.
pub fn check_type(t: &str) -> Result<(), String> {
    let ok = |part: &str, extra: &str| {
        !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    let shape = t.split_once(':').and_then(|(purpose, rest)| Some((purpose, rest.split_once('/')?)));
    let Some((purpose, (resource, family))) =
        shape.filter(|(p, (r, f))| ok(p, "") && ok(r, "") && ok(f, ".!&_-"))
    else {
        return Err(format!(
            "`{t}` is not a GuardDuty finding type (`Recon:EC2/PortProbeUnprotectedPort`; exact types, no wildcards)"
        ));
    };
    if PURPOSES.contains(&purpose) {
        return Ok(());
    }
    // GuardDuty matches types exactly: a wrong case would match nothing, and a gate pass.
    let hint = match PURPOSES.iter().find(|p| p.eq_ignore_ascii_case(purpose)) {
        Some(p) => format!("; types are matched exactly: did you mean `{p}:{resource}/{family}`?"),
        None => format!(" (GuardDuty's are {})", PURPOSES.join(", ")),
    };
    Err(format!("`{t}`: `{purpose}` is not a threat purpose of GuardDuty's finding types{hint}"))
}

/// One field's condition in GuardDuty's finding criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cond {
    pub eq: Vec<String>,
    pub neq: Vec<String>,
    pub gte: Option<i64>,
    pub lt: Option<i64>,
}

/// The findings asked about: every call of a run uses these criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Only findings updated since this many milliseconds since the epoch.
    pub updated_since_ms: Option<i64>,
    pub types: Vec<String>,
    pub include_archived: bool,
    pub include_samples: bool,
    /// With many accounts: each account's own findings only (an
    /// administrator's members are counted in their own accounts).
    pub account: Option<String>,
}

/// At most this many values in one condition (GuardDuty's limit).
pub const MAX_VALUES: usize = 50;

impl Query {
    /// The criteria, narrowed to a severity range and to findings first seen
    /// before a moment (epoch milliseconds) where given.
    pub fn criteria(
        &self,
        severity: (Option<i64>, Option<i64>),
        first_seen_before_ms: Option<i64>,
        accounts: Option<&[String]>,
    ) -> BTreeMap<&'static str, Cond> {
        let mut c: BTreeMap<&'static str, Cond> = BTreeMap::new();
        if !self.include_archived {
            c.insert("service.archived", Cond { eq: vec!["false".into()], ..Cond::default() });
        }
        // Sample findings say so in service.additionalInfo; real ones lack the key.
        if !self.include_samples {
            c.insert("service.additionalInfo.sample", Cond { neq: vec!["true".into()], ..Cond::default() });
        }
        if let Some(since) = self.updated_since_ms {
            c.insert("updatedAt", Cond { gte: Some(since), ..Cond::default() });
        }
        if !self.types.is_empty() {
            c.insert("type", Cond { eq: self.types.clone(), ..Cond::default() });
        }
        let (gte, lt) = severity;
        if gte.is_some() || lt.is_some() {
            c.insert("severity", Cond { gte, lt, ..Cond::default() });
        }
        if let Some(before) = first_seen_before_ms {
            c.insert("service.eventFirstSeen", Cond { lt: Some(before), ..Cond::default() });
        }
        match (accounts, &self.account) {
            (Some(ids), _) => {
                c.insert("accountId", Cond { eq: ids.to_vec(), ..Cond::default() });
            }
            (None, Some(own)) => {
                c.insert("accountId", Cond { eq: vec![own.clone()], ..Cond::default() });
            }
            (None, None) => {}
        }
        c
    }

    /// A band's range, and from a band up.
    pub fn band(band: Band) -> (Option<i64>, Option<i64>) {
        (Some(band.floor()), band.ceiling())
    }

    pub fn from_band(band: Band) -> (Option<i64>, Option<i64>) {
        match band {
            Band::Low => (None, None),
            b => (Some(b.floor()), None),
        }
    }
}

/// Why a region fails the gate; empty when it passes.
pub fn gate_reasons(
    gate: &Gate,
    watched: Result<(), &str>,
    counts: &BandCounts,
    aged: &BandCounts,
) -> Vec<String> {
    if !gate.is_on() {
        return Vec::new();
    }
    // A gate that did not look must not pass.
    if let Err(why) = watched {
        return vec![format!("not watched ({why})")];
    }
    let mut reasons = Vec::new();
    if let Some(band) = gate.fail_on {
        match (counts.at_least(band), band) {
            (0, _) => {}
            (n, Band::Critical) => reasons.push(format!("{n} critical")),
            (n, b) => reasons.push(format!("{n} at {} or above", b.name())),
        }
    }
    if let Some(ages) = &gate.max_age {
        for b in Band::ALL {
            let (Some(age), n) = (ages.0.get(&b), aged.get(b)) else { continue };
            if n > 0 {
                reasons.push(format!("{n} {} first seen over {} ago", b.name(), age_words(*age)));
            }
        }
    }
    reasons
}

/// `1d`, `36h`, `90m` (`2w` reads `14d`).
pub fn age_words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}

/// One finding, as `--list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    pub account: String,
    pub region: String,
    pub id: String,
    pub severity: f64,
    pub band: Band,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The resource's type (`Instance`, `AccessKey`, `S3Bucket`, ...).
    pub resource_type: String,
    /// The id a person acts on: the instance id, the access key id and user,
    /// the bucket, the cluster, ...
    pub resource: String,
    pub count: i64,
    pub first_seen: String,
    pub last_seen: String,
    pub archived: bool,
    pub sample: bool,
}

// Severities come from JSON, which has no NaN: equality is total.
impl Eq for Listed {}

/// The most severe findings across every region, at most `limit`, and how
/// many matched in all.
#[derive(Debug, Clone, Default)]
pub struct Top {
    pub limit: usize,
    pub kept: Vec<Listed>,
    /// Findings that matched, in every region read.
    pub matched: u64,
}

impl Top {
    pub fn new(limit: usize) -> Top {
        Top { limit, kept: Vec::new(), matched: 0 }
    }

    /// A region's findings (already its most severe), and how many it matched.
    pub fn add(&mut self, found: Vec<Listed>, matched: u64) {
        self.matched += matched;
        self.kept.extend(found);
        self.kept.sort_by(order);
        self.kept.truncate(self.limit);
    }

    /// Matched but not kept.
    pub fn more(&self) -> u64 {
        self.matched.saturating_sub(self.kept.len() as u64)
    }
}

/// Most severe first, then the most recently seen; then by place and id so
/// the order is the same on every run.
pub fn order(a: &Listed, b: &Listed) -> std::cmp::Ordering {
    b.severity
        .total_cmp(&a.severity)
        .then_with(|| b.last_seen.cmp(&a.last_seen))
        .then_with(|| (&a.account, &a.region, &a.id).cmp(&(&b.account, &b.region, &b.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_fall_in_their_bands() {
        assert_eq!(Band::of(10.0), Band::Critical);
        assert_eq!(Band::of(9.0), Band::Critical);
        assert_eq!(Band::of(8.9), Band::High);
        assert_eq!(Band::of(7.0), Band::High);
        assert_eq!(Band::of(6.9), Band::Medium);
        assert_eq!(Band::of(4.0), Band::Medium);
        assert_eq!(Band::of(3.9), Band::Low);
        assert_eq!(Band::of(1.0), Band::Low);
        let c = band_counts([(8.0, 2), (7.5, 1), (5.0, 4), (2.0, 1), (9.5, 1)]);
        assert_eq!(c, BandCounts { critical: 1, high: 3, medium: 4, low: 1 });
        assert_eq!(c.at_least(Band::High), 4);
        assert_eq!(c.from(Band::Medium), BandCounts { critical: 1, high: 3, medium: 4, low: 0 });
        assert_eq!(c.words(), "1 critical  3 high  4 medium  1 low");
        assert_eq!(BandCounts::default().words(), "");
    }

    #[test]
    fn ages_are_a_number_and_a_unit() {
        assert_eq!(parse_age("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        for bad in ["", "d", "7", "7 d", "-1d", "1.5d", "0d", "1y", "99999999999999999999d", "4000w"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
        assert_eq!(age_words(Duration::from_secs(86_400)), "1d");
        assert_eq!(age_words(Duration::from_secs(36 * 3600)), "36h");
    }

    #[test]
    fn max_age_names_bands_once() {
        let m = MaxAge::parse("high=1d, medium=7d,low=30d").unwrap();
        assert_eq!(m.0[&Band::High], Duration::from_secs(86_400));
        assert_eq!(m.0.len(), 3);
        assert!(MaxAge::parse("high=1d,high=2d").unwrap_err().contains("twice"));
        assert!(MaxAge::parse("severe=1d").unwrap_err().contains("not a severity band"));
        assert!(MaxAge::parse("high").is_err());
        assert!(MaxAge::parse("high=soon").is_err());
        assert!(MaxAge::parse("").is_err());
    }

    #[test]
    fn finding_types_are_checked_as_guardduty_spells_them() {
        for ok in [
            "Recon:EC2/PortProbeUnprotectedPort",
            "Backdoor:EC2/C&CActivity.B!DNS",
            "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
            "CryptoCurrency:Runtime/BitcoinTool.B",
        ] {
            assert_eq!(check_type(ok), Ok(()), "{ok}");
        }
        for bad in
            ["Recon:EC2/*", "Recon", "Recon:EC2", ":EC2/X", "Recon:/X", "Recon:EC2/", "a b:c/d", "a:b/c"]
        {
            assert!(check_type(bad).is_err(), "{bad}");
        }
        assert!(check_type("recon:ec2/portscan").unwrap_err().contains("did you mean `Recon:ec2/portscan`"));
    }

    #[test]
    fn criteria_leave_out_archived_and_sample_findings_unless_asked() {
        let q = Query::default();
        let c = q.criteria((None, None), None, None);
        assert_eq!(c["service.archived"].eq, ["false"]);
        assert_eq!(c["service.additionalInfo.sample"].neq, ["true"]);
        assert!(!c.contains_key("severity") && !c.contains_key("accountId"));
        let q = Query {
            include_archived: true,
            include_samples: true,
            updated_since_ms: Some(1000),
            types: vec!["Recon:EC2/PortProbeUnprotectedPort".into()],
            account: Some("111111111111".into()),
        };
        let c = q.criteria(Query::band(Band::High), Some(5), None);
        assert!(!c.contains_key("service.archived") && !c.contains_key("service.additionalInfo.sample"));
        assert_eq!(c["updatedAt"].gte, Some(1000));
        assert_eq!(c["severity"], Cond { gte: Some(7), lt: Some(9), ..Cond::default() });
        assert_eq!(c["service.eventFirstSeen"].lt, Some(5));
        assert_eq!(c["accountId"].eq, ["111111111111"]);
        let some = ["222222222222".to_string()];
        assert_eq!(q.criteria(Query::from_band(Band::Low), None, Some(&some))["accountId"].eq, some);
        assert!(!q.criteria(Query::from_band(Band::Low), None, None).contains_key("severity"));
        assert_eq!(q.criteria(Query::from_band(Band::Critical), None, None)["severity"].gte, Some(9));
    }

    #[test]
    fn the_gate_fails_on_its_band_and_where_nothing_watched() {
        let counts = BandCounts { high: 2, medium: 5, ..BandCounts::default() };
        let none = BandCounts::default();
        let fail_on = |b| Gate { fail_on: Some(b), max_age: None };
        assert!(gate_reasons(&Gate::default(), Err("no detector"), &counts, &none).is_empty());
        assert_eq!(gate_reasons(&fail_on(Band::High), Ok(()), &counts, &none), ["2 at high or above"]);
        assert!(gate_reasons(&fail_on(Band::Critical), Ok(()), &counts, &none).is_empty());
        assert_eq!(gate_reasons(&fail_on(Band::Medium), Ok(()), &counts, &none), ["7 at medium or above"]);
        assert_eq!(
            gate_reasons(&fail_on(Band::Low), Err("suspended"), &none, &none),
            ["not watched (suspended)"]
        );
        let ages = Gate { fail_on: None, max_age: Some(MaxAge::parse("high=1d,low=30d").unwrap()) };
        assert!(gate_reasons(&ages, Ok(()), &counts, &none).is_empty());
        let aged = BandCounts { high: 1, medium: 3, ..BandCounts::default() };
        assert_eq!(gate_reasons(&ages, Ok(()), &counts, &aged), ["1 high first seen over 1d ago"]);
        // Both gates: either fails the region, and both say why.
        let both = Gate { fail_on: Some(Band::Critical), ..ages };
        let critical = BandCounts { critical: 1, ..counts };
        assert_eq!(
            gate_reasons(&both, Ok(()), &critical, &aged),
            ["1 critical", "1 high first seen over 1d ago"]
        );
    }

    fn listed(region: &str, severity: f64, last_seen: &str) -> Listed {
        Listed {
            account: "111111111111".into(),
            region: region.into(),
            id: format!("{region}-{severity}"),
            severity,
            band: Band::of(severity),
            kind: "Recon:EC2/PortProbeUnprotectedPort".into(),
            title: String::new(),
            resource_type: "Instance".into(),
            resource: "i-1".into(),
            count: 1,
            first_seen: last_seen.into(),
            last_seen: last_seen.into(),
            archived: false,
            sample: false,
        }
    }

    #[test]
    fn the_top_keeps_the_most_severe_then_most_recent_across_regions() {
        let mut top = Top::new(3);
        top.add(vec![listed("us-east-1", 8.0, "2026-11-01"), listed("us-east-1", 5.0, "2026-11-30")], 10);
        top.add(vec![listed("eu-west-1", 8.0, "2026-11-02"), listed("eu-west-1", 2.0, "2026-11-30")], 2);
        top.add(vec![listed("ap-south-1", 9.1, "2026-10-01")], 1);
        let kept: Vec<(&str, f64)> = top.kept.iter().map(|l| (l.region.as_str(), l.severity)).collect();
        assert_eq!(kept, [("ap-south-1", 9.1), ("eu-west-1", 8.0), ("us-east-1", 8.0)]);
        assert_eq!((top.matched, top.more()), (13, 10));
    }
}
