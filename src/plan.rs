//! The per-region decision, kept pure: what exists in a region + what the user
//! wants → the calls to make and the outcome to report. No I/O here.

use serde::Serialize;

use crate::cli::Frequency;

/// A detector as GetDetector describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detector {
    pub id: String,
    pub enabled: bool,
    /// The API's spelling (FIFTEEN_MINUTES, ...), as the service reported it.
    pub frequency: Option<String>,
}

/// What the user asked for in every target region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Desired {
    Enabled { frequency: Option<Frequency> },
    Deleted,
    Suspended,
}

/// One write call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create {
        frequency: Option<Frequency>,
    },
    /// UpdateDetector(Enable=true[, frequency]).
    Resume {
        id: String,
        frequency: Option<Frequency>,
    },
    /// UpdateDetector(frequency) on a detector that is already on.
    SetFrequency {
        id: String,
        frequency: Frequency,
    },
    Delete {
        id: String,
    },
    /// UpdateDetector(Enable=false).
    Suspend {
        id: String,
    },
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
    // `status` reports a region's state rather than a change.
    Enabled,
    NotEnabled,
    Failed,
}

impl Outcome {
    /// True when the outcome stands for a write call.
    pub fn is_change(self) -> bool {
        matches!(
            self,
            Outcome::Created
                | Outcome::Resumed
                | Outcome::Updated
                | Outcome::Deleted
                | Outcome::Suspended
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
            (Outcome::Enabled, _) => "enabled",
            (Outcome::NotEnabled, _) => "not-enabled",
            (Outcome::Failed, _) => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub outcome: Outcome,
}

/// Decide what to do in one region.
pub fn decide(existing: &[Detector], desired: Desired) -> Plan {
    match desired {
        Desired::Enabled { frequency } => plan_enable(existing, frequency),
        Desired::Deleted => {
            let actions: Vec<Action> = existing
                .iter()
                .map(|d| Action::Delete { id: d.id.clone() })
                .collect();
            let outcome = if actions.is_empty() {
                Outcome::Absent
            } else {
                Outcome::Deleted
            };
            Plan { actions, outcome }
        }
        Desired::Suspended => {
            let actions: Vec<Action> = existing
                .iter()
                .filter(|d| d.enabled)
                .map(|d| Action::Suspend { id: d.id.clone() })
                .collect();
            let outcome = match (existing.is_empty(), actions.is_empty()) {
                (true, _) => Outcome::Absent,
                (false, true) => Outcome::Unchanged,
                (false, false) => Outcome::Suspended,
            };
            Plan { actions, outcome }
        }
    }
}

fn plan_enable(existing: &[Detector], frequency: Option<Frequency>) -> Plan {
    if existing.is_empty() {
        return Plan {
            actions: vec![Action::Create { frequency }],
            outcome: Outcome::Created,
        };
    }
    // AWS allows one detector per region; should there be more, converge each.
    let mut actions = Vec::new();
    for d in existing {
        let wrong_frequency = frequency.filter(|f| d.frequency.as_deref() != Some(f.api_name()));
        if !d.enabled {
            // Only send a frequency that changes something: the user did not ask
            // to touch the others.
            actions.push(Action::Resume {
                id: d.id.clone(),
                frequency: wrong_frequency,
            });
        } else if let Some(f) = wrong_frequency {
            actions.push(Action::SetFrequency {
                id: d.id.clone(),
                frequency: f,
            });
        }
    }
    let outcome = if actions.iter().any(|a| matches!(a, Action::Resume { .. })) {
        Outcome::Resumed
    } else if actions.is_empty() {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    };
    Plan { actions, outcome }
}

/// `status`: a region's state, and whether it is in line with `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    pub outcome: Outcome,
    pub in_line: bool,
}

pub fn assess(existing: &[Detector], want_frequency: Option<Frequency>) -> Assessment {
    let outcome = if existing.is_empty() {
        Outcome::NotEnabled
    } else if existing.iter().any(|d| d.enabled) {
        Outcome::Enabled
    } else {
        Outcome::Suspended
    };
    let in_line = !existing.is_empty()
        && existing.iter().all(|d| {
            d.enabled && want_frequency.is_none_or(|f| d.frequency.as_deref() == Some(f.api_name()))
        });
    Assessment { outcome, in_line }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Frequency::*;

    fn det(id: &str, enabled: bool, freq: &str) -> Detector {
        Detector {
            id: id.into(),
            enabled,
            frequency: Some(freq.into()),
        }
    }

    #[test]
    fn enable_with_nothing_there_creates() {
        let p = decide(
            &[],
            Desired::Enabled {
                frequency: Some(FifteenMinutes),
            },
        );
        assert_eq!(p.outcome, Outcome::Created);
        assert_eq!(
            p.actions,
            [Action::Create {
                frequency: Some(FifteenMinutes)
            }]
        );
        let p = decide(&[], Desired::Enabled { frequency: None });
        assert_eq!(p.actions, [Action::Create { frequency: None }]);
    }

    #[test]
    fn enable_resumes_a_suspended_detector() {
        let p = decide(
            &[det("a", false, "SIX_HOURS")],
            Desired::Enabled { frequency: None },
        );
        assert_eq!(p.outcome, Outcome::Resumed);
        assert_eq!(
            p.actions,
            [Action::Resume {
                id: "a".into(),
                frequency: None
            }]
        );
    }

    #[test]
    fn resume_carries_the_frequency_only_when_it_differs() {
        let existing = [det("a", false, "SIX_HOURS")];
        let p = decide(
            &existing,
            Desired::Enabled {
                frequency: Some(OneHour),
            },
        );
        assert_eq!(
            p.actions,
            [Action::Resume {
                id: "a".into(),
                frequency: Some(OneHour)
            }]
        );
        let p = decide(
            &existing,
            Desired::Enabled {
                frequency: Some(SixHours),
            },
        );
        assert_eq!(
            p.actions,
            [Action::Resume {
                id: "a".into(),
                frequency: None
            }]
        );
    }

    #[test]
    fn enable_updates_only_a_different_frequency() {
        let existing = [det("a", true, "SIX_HOURS")];
        let p = decide(
            &existing,
            Desired::Enabled {
                frequency: Some(FifteenMinutes),
            },
        );
        assert_eq!(p.outcome, Outcome::Updated);
        assert_eq!(
            p.actions,
            [Action::SetFrequency {
                id: "a".into(),
                frequency: FifteenMinutes
            }]
        );

        let p = decide(
            &existing,
            Desired::Enabled {
                frequency: Some(SixHours),
            },
        );
        assert_eq!(
            p,
            Plan {
                actions: vec![],
                outcome: Outcome::Unchanged
            }
        );
    }

    #[test]
    fn enable_without_frequency_leaves_an_enabled_detector_alone() {
        let p = decide(
            &[det("a", true, "ONE_HOUR")],
            Desired::Enabled { frequency: None },
        );
        assert_eq!(
            p,
            Plan {
                actions: vec![],
                outcome: Outcome::Unchanged
            }
        );
    }

    #[test]
    fn enable_converges_every_detector_when_there_are_several() {
        let existing = [
            det("a", true, "SIX_HOURS"),
            det("b", false, "FIFTEEN_MINUTES"),
        ];
        let p = decide(
            &existing,
            Desired::Enabled {
                frequency: Some(FifteenMinutes),
            },
        );
        assert_eq!(p.outcome, Outcome::Resumed);
        assert_eq!(
            p.actions,
            [
                Action::SetFrequency {
                    id: "a".into(),
                    frequency: FifteenMinutes
                },
                Action::Resume {
                    id: "b".into(),
                    frequency: None
                },
            ]
        );
    }

    #[test]
    fn delete_with_nothing_there_is_absent_not_an_error() {
        assert_eq!(
            decide(&[], Desired::Deleted),
            Plan {
                actions: vec![],
                outcome: Outcome::Absent
            }
        );
        assert_eq!(decide(&[], Desired::Suspended).outcome, Outcome::Absent);
    }

    #[test]
    fn delete_removes_every_detector_enabled_or_not() {
        let p = decide(
            &[det("a", true, "SIX_HOURS"), det("b", false, "SIX_HOURS")],
            Desired::Deleted,
        );
        assert_eq!(p.outcome, Outcome::Deleted);
        assert_eq!(
            p.actions,
            [
                Action::Delete { id: "a".into() },
                Action::Delete { id: "b".into() }
            ]
        );
    }

    #[test]
    fn suspend_touches_only_enabled_detectors() {
        let p = decide(&[det("a", true, "SIX_HOURS")], Desired::Suspended);
        assert_eq!(p.outcome, Outcome::Suspended);
        assert_eq!(p.actions, [Action::Suspend { id: "a".into() }]);
        let p = decide(&[det("a", false, "SIX_HOURS")], Desired::Suspended);
        assert_eq!(
            p,
            Plan {
                actions: vec![],
                outcome: Outcome::Unchanged
            }
        );
    }

    #[test]
    fn assess_states_and_check() {
        assert_eq!(
            assess(&[], None),
            Assessment {
                outcome: Outcome::NotEnabled,
                in_line: false
            }
        );
        let off = [det("a", false, "SIX_HOURS")];
        assert_eq!(
            assess(&off, None),
            Assessment {
                outcome: Outcome::Suspended,
                in_line: false
            }
        );
        let on = [det("a", true, "SIX_HOURS")];
        assert_eq!(
            assess(&on, None),
            Assessment {
                outcome: Outcome::Enabled,
                in_line: true
            }
        );
        assert!(assess(&on, Some(SixHours)).in_line);
        assert!(!assess(&on, Some(FifteenMinutes)).in_line);
        // A detector with no reported frequency cannot satisfy a frequency check.
        let unknown = [Detector {
            id: "a".into(),
            enabled: true,
            frequency: None,
        }];
        assert!(!assess(&unknown, Some(SixHours)).in_line);
    }

    #[test]
    fn labels_say_would_on_dry_run_only_for_changes() {
        assert_eq!(Outcome::Created.label(true), "would create");
        assert_eq!(Outcome::Deleted.label(false), "deleted");
        assert_eq!(Outcome::Unchanged.label(true), "unchanged");
        assert!(Outcome::Suspended.is_change());
        assert!(!Outcome::Absent.is_change());
    }
}
