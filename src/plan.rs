//! The per-region decision, kept pure: what exists in a region + what the user
//! wants → the calls to make and the outcome to report. No I/O here.

use serde::Serialize;

use crate::cli::Frequency;
use crate::features::{self, Change, Features, Wanted};
use crate::tags::{self, Tags};

/// A detector as GetDetector describes it (ListDetectors alone gives the id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detector {
    pub id: String,
    pub enabled: bool,
    /// The API's spelling (FIFTEEN_MINUTES, ...), as the service reported it.
    pub frequency: Option<String>,
    pub features: Features,
    pub tags: Tags,
    /// Its service-linked role's ARN, which names the account (for tag calls).
    pub service_role: Option<String>,
}

/// What the user asked for in every target region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    Enabled { frequency: Option<Frequency>, features: Option<Wanted>, tags: Tags },
    Deleted { only_tagged: Option<(String, String)> },
    Suspended { only_tagged: Option<(String, String)> },
}

impl Desired {
    #[cfg(test)]
    pub fn enabled(frequency: Option<Frequency>) -> Desired {
        Desired::Enabled { frequency, features: None, tags: Tags::new() }
    }

    /// Whether the plan needs GetDetector, or only the ids from ListDetectors.
    pub fn needs_details(&self) -> bool {
        !matches!(self, Desired::Deleted { only_tagged: None })
    }
}

/// One write call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create {
        frequency: Option<Frequency>,
        features: Option<Wanted>,
        tags: Tags,
    },
    /// UpdateDetector: turn it on (`resume`), and/or set the frequency, and/or
    /// send the complete feature list (when `changes` is not empty).
    Update {
        id: String,
        resume: bool,
        frequency: Option<Frequency>,
        features: Option<Wanted>,
        changes: Vec<Change>,
    },
    /// TagResource with the tags the detector lacks.
    Tag {
        id: String,
        tags: Tags,
    },
    Delete {
        id: String,
    },
    /// UpdateDetector(Enable=false).
    Suspend {
        id: String,
    },
}

impl Action {
    /// The existing detector the call acts on.
    pub fn target(&self) -> Option<&str> {
        match self {
            Action::Create { .. } => None,
            Action::Update { id, .. }
            | Action::Tag { id, .. }
            | Action::Delete { id }
            | Action::Suspend { id } => Some(id),
        }
    }

    /// The API operation that carries it out.
    pub fn call(&self) -> &'static str {
        match self {
            Action::Create { .. } => "CreateDetector",
            Action::Update { .. } | Action::Suspend { .. } => "UpdateDetector",
            Action::Tag { .. } => "TagResource",
            Action::Delete { .. } => "DeleteDetector",
        }
    }

    /// What the call changes, in the report's words (`+s3-data-events`, `+tag:team=sec`).
    pub fn changes(&self) -> Vec<String> {
        let tag_changes = |tags: &Tags| tags.iter().map(|(k, v)| format!("+tag:{k}={v}")).collect::<Vec<_>>();
        match self {
            Action::Create { features, tags, .. } => {
                let mut v: Vec<String> = features
                    .iter()
                    .flat_map(|w| features::diff(w, &Features::new()))
                    .map(|c| c.to_string())
                    .collect();
                v.extend(tag_changes(tags));
                v
            }
            Action::Update { changes, .. } => changes.iter().map(|c| c.to_string()).collect(),
            Action::Tag { tags, .. } => tag_changes(tags),
            Action::Delete { .. } | Action::Suspend { .. } => Vec::new(),
        }
    }
}

impl Action {
    /// Everything the call changed once answered, in the report's words, the
    /// outcome and frequency included (`created`, `resumed`,
    /// `SIX_HOURS -> FIFTEEN_MINUTES`, `+s3-data-events`): what a region that
    /// fails later still reports.
    pub fn made(&self, existing: &[Detector]) -> Vec<String> {
        let mut made = match self {
            Action::Create { .. } => vec!["created".to_string()],
            Action::Update { id, resume, frequency, .. } => {
                let mut v = Vec::new();
                if *resume {
                    v.push("resumed".to_string());
                }
                if let Some(f) = frequency {
                    let was = existing.iter().find(|d| &d.id == id).and_then(|d| d.frequency.as_deref());
                    v.push(format!("{} -> {}", was.unwrap_or("?"), f.api_name()));
                }
                v
            }
            Action::Delete { .. } => vec!["deleted".to_string()],
            Action::Suspend { .. } => vec!["suspended".to_string()],
            Action::Tag { .. } => Vec::new(),
        };
        made.extend(self.changes());
        made
    }
}

/// What happened (or would happen) in a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Created,
    Resumed,
    Updated,
    Deleted,
    Suspended,
    Unchanged,
    Absent,
    /// `disable --only-tagged`: the detector lacks the tag and is left alone.
    Kept,
    // `status` reports a region's state rather than a change.
    Enabled,
    NotEnabled,
    Failed,
    /// A write was sent and no answer came (cut by --timeout): it may have
    /// been carried out or not. Counted as a failure.
    Unknown,
    /// The run was interrupted before this region was started.
    NotStarted,
}

impl Outcome {
    /// True when the outcome stands for a write call.
    pub fn is_change(self) -> bool {
        matches!(
            self,
            Outcome::Created | Outcome::Resumed | Outcome::Updated | Outcome::Deleted | Outcome::Suspended
        )
    }

    pub fn label(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Outcome::Created, false) => "created",
            (Outcome::Created, true) => "would create",
            (Outcome::Resumed, false) => "resumed",
            (Outcome::Resumed, true) => "would resume",
            (Outcome::Updated, false) => "updated",
            (Outcome::Updated, true) => "would update",
            (Outcome::Deleted, false) => "deleted",
            (Outcome::Deleted, true) => "would delete",
            (Outcome::Suspended, false) => "suspended",
            (Outcome::Suspended, true) => "would suspend",
            (Outcome::Unchanged, _) => "unchanged",
            (Outcome::Absent, _) => "absent",
            (Outcome::Kept, _) => "kept",
            (Outcome::Enabled, _) => "enabled",
            (Outcome::NotEnabled, _) => "not-enabled",
            (Outcome::Failed, _) => "failed",
            (Outcome::Unknown, _) => "unknown",
            (Outcome::NotStarted, _) => "not-started",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub outcome: Outcome,
}

/// Decide what to do in one region.
pub fn decide(existing: &[Detector], desired: &Desired) -> Plan {
    match desired {
        Desired::Enabled { frequency, features, tags } => {
            plan_enable(existing, *frequency, features.as_ref(), tags)
        }
        Desired::Deleted { only_tagged } | Desired::Suspended { only_tagged } => {
            let deleting = matches!(desired, Desired::Deleted { .. });
            let carries = |d: &Detector| only_tagged.as_ref().is_none_or(|(k, v)| d.tags.get(k) == Some(v));
            let ours: Vec<&Detector> = existing.iter().filter(|d| carries(d)).collect();
            let actions: Vec<Action> = ours
                .iter()
                .filter(|d| deleting || d.enabled)
                .map(|d| {
                    if deleting {
                        Action::Delete { id: d.id.clone() }
                    } else {
                        Action::Suspend { id: d.id.clone() }
                    }
                })
                .collect();
            let outcome = if existing.is_empty() {
                Outcome::Absent
            } else if ours.is_empty() {
                Outcome::Kept
            } else if actions.is_empty() {
                Outcome::Unchanged
            } else if deleting {
                Outcome::Deleted
            } else {
                Outcome::Suspended
            };
            Plan { actions, outcome }
        }
    }
}

fn plan_enable(
    existing: &[Detector],
    frequency: Option<Frequency>,
    features: Option<&Wanted>,
    tags: &Tags,
) -> Plan {
    if existing.is_empty() {
        let create = Action::Create { frequency, features: features.cloned(), tags: tags.clone() };
        return Plan { actions: vec![create], outcome: Outcome::Created };
    }
    // AWS allows one detector per region; should there be more, converge each.
    let mut actions = Vec::new();
    for d in existing {
        // Only send what changes something: the user did not ask to touch the rest.
        let wrong_frequency = frequency.filter(|f| d.frequency.as_deref() != Some(f.api_name()));
        let changes = features.map(|w| features::diff(w, &d.features)).unwrap_or_default();
        if !d.enabled || wrong_frequency.is_some() || !changes.is_empty() {
            actions.push(Action::Update {
                id: d.id.clone(),
                resume: !d.enabled,
                frequency: wrong_frequency,
                features: features.filter(|_| !changes.is_empty()).cloned(),
                changes,
            });
        }
        let lacking = tags::missing(tags, &d.tags);
        if !lacking.is_empty() {
            actions.push(Action::Tag { id: d.id.clone(), tags: lacking });
        }
    }
    let outcome = if actions.iter().any(|a| matches!(a, Action::Update { resume: true, .. })) {
        Outcome::Resumed
    } else if actions.is_empty() {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    };
    Plan { actions, outcome }
}

/// `status`: a region's state, and why it is out of line with `--check`
/// (nothing when it is in line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub outcome: Outcome,
    pub out_of_line: Vec<String>,
}

pub fn assess(
    existing: &[Detector],
    want_frequency: Option<Frequency>,
    want_features: Option<&Wanted>,
) -> Assessment {
    let outcome = if existing.is_empty() {
        Outcome::NotEnabled
    } else if existing.iter().any(|d| d.enabled) {
        Outcome::Enabled
    } else {
        Outcome::Suspended
    };
    let mut out_of_line = Vec::new();
    if existing.is_empty() {
        out_of_line.push("no detector".to_string());
    }
    for d in existing {
        let which = if existing.len() > 1 { format!("detector {}: ", d.id) } else { String::new() };
        if !d.enabled {
            out_of_line.push(format!("{which}suspended"));
        }
        if let Some(f) = want_frequency.filter(|f| d.frequency.as_deref() != Some(f.api_name())) {
            let now = d.frequency.as_deref().unwrap_or("unknown");
            out_of_line.push(format!("{which}frequency {now}, not {}", f.api_name()));
        }
        for change in want_features.map(|w| features::diff(w, &d.features)).unwrap_or_default() {
            let (what, name) = (if change.enable { "missing" } else { "unwanted" }, &change.name);
            out_of_line.push(format!("{which}{what} plan {name}"));
        }
    }
    Assessment { outcome, out_of_line }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{parse, FeatureState};
    use Frequency::*;

    fn det(id: &str, enabled: bool, freq: &str) -> Detector {
        Detector { id: id.into(), enabled, frequency: Some(freq.into()), ..Detector::default() }
    }

    fn update(id: &str, resume: bool, frequency: Option<Frequency>) -> Action {
        Action::Update { id: id.into(), resume, frequency, features: None, changes: vec![] }
    }

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn enable(frequency: Option<Frequency>) -> Desired {
        Desired::enabled(frequency)
    }

    const DELETE: Desired = Desired::Deleted { only_tagged: None };
    const SUSPEND: Desired = Desired::Suspended { only_tagged: None };

    #[test]
    fn enable_with_nothing_there_creates() {
        let p = decide(&[], &enable(Some(FifteenMinutes)));
        assert_eq!(p.outcome, Outcome::Created);
        assert_eq!(
            p.actions,
            [Action::Create { frequency: Some(FifteenMinutes), features: None, tags: Tags::new() }]
        );
    }

    #[test]
    fn enable_resumes_a_suspended_detector() {
        let p = decide(&[det("a", false, "SIX_HOURS")], &enable(None));
        assert_eq!(p.outcome, Outcome::Resumed);
        assert_eq!(p.actions, [update("a", true, None)]);
    }

    #[test]
    fn resume_carries_the_frequency_only_when_it_differs() {
        let existing = [det("a", false, "SIX_HOURS")];
        assert_eq!(decide(&existing, &enable(Some(OneHour))).actions, [update("a", true, Some(OneHour))]);
        assert_eq!(decide(&existing, &enable(Some(SixHours))).actions, [update("a", true, None)]);
    }

    #[test]
    fn enable_updates_only_a_different_frequency() {
        let existing = [det("a", true, "SIX_HOURS")];
        let p = decide(&existing, &enable(Some(FifteenMinutes)));
        assert_eq!(p.outcome, Outcome::Updated);
        assert_eq!(p.actions, [update("a", false, Some(FifteenMinutes))]);
        let p = decide(&existing, &enable(Some(SixHours)));
        assert_eq!(p, Plan { actions: vec![], outcome: Outcome::Unchanged });
    }

    #[test]
    fn enable_without_frequency_leaves_an_enabled_detector_alone() {
        let p = decide(&[det("a", true, "ONE_HOUR")], &enable(None));
        assert_eq!(p, Plan { actions: vec![], outcome: Outcome::Unchanged });
    }

    #[test]
    fn enable_converges_every_detector_when_there_are_several() {
        let existing = [det("a", true, "SIX_HOURS"), det("b", false, "FIFTEEN_MINUTES")];
        let p = decide(&existing, &enable(Some(FifteenMinutes)));
        assert_eq!(p.outcome, Outcome::Resumed);
        assert_eq!(p.actions, [update("a", false, Some(FifteenMinutes)), update("b", true, None)]);
    }

    #[test]
    fn features_are_sent_complete_and_only_when_they_differ() {
        let wanted = parse(&["s3-data-events".to_string()], &[]).unwrap();
        let desired = Desired::Enabled { frequency: None, features: Some(wanted.clone()), tags: Tags::new() };
        let mut d = det("a", true, "SIX_HOURS");
        d.features.insert("RDS_LOGIN_EVENTS".into(), FeatureState { enabled: true, ..Default::default() });
        let p = decide(&[d.clone()], &desired);
        assert_eq!(p.outcome, Outcome::Updated);
        match &p.actions[..] {
            [Action::Update { resume: false, frequency: None, features: Some(f), changes, .. }] => {
                assert_eq!(f, &wanted);
                assert_eq!(p.actions[0].changes(), ["+s3-data-events", "-rds-login-events"]);
                assert_eq!(changes.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        d.features =
            Features::from([("S3_DATA_EVENTS".into(), FeatureState { enabled: true, ..Default::default() })]);
        assert_eq!(decide(&[d], &desired).outcome, Outcome::Unchanged);
    }

    #[test]
    fn a_new_detector_gets_the_features_and_tags_asked_for() {
        let wanted = parse(&["ebs-malware-protection".to_string()], &[]).unwrap();
        let t = tags(&[("team", "sec")]);
        let p = decide(&[], &Desired::Enabled { frequency: None, features: Some(wanted), tags: t });
        assert_eq!(p.actions[0].changes(), ["+ebs-malware-protection", "+tag:team=sec"]);
    }

    #[test]
    fn tags_are_added_where_missing_and_others_left_alone() {
        let mut d = det("a", true, "SIX_HOURS");
        d.tags = tags(&[("team", "sec"), ("other", "x")]);
        let desired = Desired::Enabled {
            frequency: None,
            features: None,
            tags: tags(&[("team", "sec"), ("env", "prod")]),
        };
        let p = decide(&[d.clone()], &desired);
        assert_eq!(p.outcome, Outcome::Updated);
        assert_eq!(p.actions, [Action::Tag { id: "a".into(), tags: tags(&[("env", "prod")]) }]);
        d.tags.insert("env".into(), "prod".into());
        assert_eq!(decide(&[d], &desired).outcome, Outcome::Unchanged);
    }

    #[test]
    fn delete_with_nothing_there_is_absent_not_an_error() {
        assert_eq!(decide(&[], &DELETE), Plan { actions: vec![], outcome: Outcome::Absent });
        assert_eq!(decide(&[], &SUSPEND).outcome, Outcome::Absent);
    }

    #[test]
    fn delete_removes_every_detector_enabled_or_not() {
        let p = decide(&[det("a", true, "SIX_HOURS"), det("b", false, "SIX_HOURS")], &DELETE);
        assert_eq!(p.outcome, Outcome::Deleted);
        assert_eq!(p.actions, [Action::Delete { id: "a".into() }, Action::Delete { id: "b".into() }]);
        assert!(!DELETE.needs_details());
    }

    #[test]
    fn suspend_touches_only_enabled_detectors() {
        let p = decide(&[det("a", true, "SIX_HOURS")], &SUSPEND);
        assert_eq!(p.outcome, Outcome::Suspended);
        assert_eq!(p.actions, [Action::Suspend { id: "a".into() }]);
        let p = decide(&[det("a", false, "SIX_HOURS")], &SUSPEND);
        assert_eq!(p, Plan { actions: vec![], outcome: Outcome::Unchanged });
    }

    #[test]
    fn only_tagged_keeps_detectors_without_the_tag() {
        let only = Some(("team".to_string(), "sec".to_string()));
        let delete = Desired::Deleted { only_tagged: only.clone() };
        assert!(delete.needs_details(), "tags come from GetDetector");
        let mut theirs = det("a", true, "SIX_HOURS");
        theirs.tags = tags(&[("team", "web")]);
        assert_eq!(decide(&[theirs.clone()], &delete), Plan { actions: vec![], outcome: Outcome::Kept });
        let mut ours = det("b", true, "SIX_HOURS");
        ours.tags = tags(&[("team", "sec")]);
        let p = decide(&[theirs.clone(), ours.clone()], &delete);
        assert_eq!(p, Plan { actions: vec![Action::Delete { id: "b".into() }], outcome: Outcome::Deleted });
        let p = decide(&[theirs], &Desired::Suspended { only_tagged: only });
        assert_eq!(p.outcome, Outcome::Kept);
    }

    #[test]
    fn assess_states_and_says_why_a_region_is_out_of_line() {
        let why = |existing: &[Detector], f, w| assess(existing, f, w).out_of_line;
        assert_eq!(assess(&[], None, None).outcome, Outcome::NotEnabled);
        assert_eq!(why(&[], None, None), ["no detector"]);
        let off = [det("a", false, "SIX_HOURS")];
        assert_eq!(assess(&off, None, None).outcome, Outcome::Suspended);
        assert_eq!(why(&off, None, None), ["suspended"]);
        let on = [det("a", true, "SIX_HOURS")];
        assert_eq!(assess(&on, None, None), Assessment { outcome: Outcome::Enabled, out_of_line: vec![] });
        assert!(why(&on, Some(SixHours), None).is_empty());
        assert_eq!(why(&on, Some(FifteenMinutes), None), ["frequency SIX_HOURS, not FIFTEEN_MINUTES"]);
        // A detector with no reported frequency cannot satisfy a frequency check.
        let unknown = [Detector { id: "a".into(), enabled: true, ..Detector::default() }];
        assert_eq!(why(&unknown, Some(SixHours), None), ["frequency unknown, not SIX_HOURS"]);
        let wanted = parse(&["s3-data-events".to_string()], &[]).unwrap();
        assert_eq!(why(&on, None, Some(&wanted)), ["missing plan s3-data-events"]);
        let none = parse(&["none".to_string()], &[]).unwrap();
        assert!(why(&on, None, Some(&none)).is_empty());
        // Several detectors: each reason names its detector.
        let two = [det("a", true, "SIX_HOURS"), det("b", false, "SIX_HOURS")];
        assert_eq!(why(&two, None, None), ["detector b: suspended"]);
    }

    #[test]
    fn labels_say_would_on_dry_run_only_for_changes() {
        assert_eq!(Outcome::Created.label(true), "would create");
        assert_eq!(Outcome::Deleted.label(false), "deleted");
        assert_eq!(Outcome::Unchanged.label(true), "unchanged");
        assert_eq!(Outcome::Kept.label(true), "kept");
        assert!(Outcome::Suspended.is_change());
        assert!(!Outcome::Absent.is_change());
    }
}
