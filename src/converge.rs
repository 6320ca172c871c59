//! One region of `enable` or `disable`: look, decide, act, and say what happened.

use aws_sdk_guardduty::Client;
use tracing::debug;

use crate::detectors::{execute, observe, ExecError};
use crate::plan::{decide, Action, Desired, Detector, Outcome, Plan};
use crate::report::{RegionReport, State};

pub async fn converge(
    client: &Client,
    region: &str,
    desired: Desired,
    dry_run: bool,
) -> RegionReport {
    let existing = match observe(client).await {
        Ok(d) => d,
        Err(e) => return RegionReport::failed(region, e),
    };
    let plan = decide(&existing, desired);
    if dry_run {
        return describe(region, &existing, &plan, desired, None);
    }
    match execute(client, &plan.actions).await {
        Ok(created) => describe(region, &existing, &plan, desired, created),
        // Another writer created the detector between our look and our create:
        // look again and converge what is there now.
        Err(ExecError::CreateRefused(first)) => {
            debug!(region, error = %first, "create refused; looking again");
            let existing = match observe(client).await {
                Ok(d) if !d.is_empty() => d,
                Ok(_) => return RegionReport::failed(region, first),
                Err(e) => return RegionReport::failed(region, e),
            };
            let plan = decide(&existing, desired);
            match execute(client, &plan.actions).await {
                Ok(_) => describe(region, &existing, &plan, desired, None),
                Err(ExecError::CreateRefused(e) | ExecError::Failed(e)) => {
                    failed_at(region, &existing, e)
                }
            }
        }
        Err(ExecError::Failed(e)) => failed_at(region, &existing, e),
    }
}

fn failed_at(region: &str, existing: &[Detector], e: crate::error::RegionError) -> RegionReport {
    RegionReport {
        detector_id: existing.first().map(|d| d.id.clone()),
        ..RegionReport::failed(region, e)
    }
}

/// The region's state once the plan is carried out.
fn describe(
    region: &str,
    existing: &[Detector],
    plan: &Plan,
    desired: Desired,
    created: Option<String>,
) -> RegionReport {
    let mut r = RegionReport::new(region, plan.outcome);
    let first = existing.first();
    r.detector_id = created.or_else(|| first.map(|d| d.id.clone()));
    let current = first.and_then(|d| d.frequency.clone());
    match desired {
        Desired::Enabled { frequency } => {
            r.status = Some(State::Enabled);
            let changed = plan.actions.iter().find_map(|a| match a {
                Action::Resume {
                    frequency: Some(f), ..
                }
                | Action::SetFrequency { frequency: f, .. } => Some(*f),
                _ => None,
            });
            if plan.outcome == Outcome::Created {
                // Without --frequency the service picks its default; we do not guess it.
                r.frequency = frequency.map(|f| f.api_name().to_string());
            } else if let Some(f) = changed {
                r.previous_frequency = current;
                r.frequency = Some(f.api_name().to_string());
            } else {
                r.frequency = current;
            }
        }
        Desired::Deleted => r.status = Some(State::NotEnabled),
        Desired::Suspended => {
            r.status = Some(if existing.is_empty() {
                State::NotEnabled
            } else {
                State::Suspended
            });
            r.frequency = current;
        }
    }
    r
}
