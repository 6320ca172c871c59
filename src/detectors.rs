//! GuardDuty calls for one region: read what exists, carry out a plan.

use aws_sdk_guardduty::types::{DetectorStatus, FindingPublishingFrequency};
use aws_sdk_guardduty::Client;
use tracing::debug;

use crate::cli::Frequency;
use crate::error::RegionError;
use crate::plan::{Action, Detector};

/// ListDetectors (every page), then GetDetector for each when `describe` is
/// set. Deleting needs only the ids, so `disable` skips that round trip; the
/// detectors are then reported as not enabled with no known frequency.
pub async fn observe(client: &Client, describe: bool) -> Result<Vec<Detector>, RegionError> {
    let ids: Vec<String> = client
        .list_detectors()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| RegionError::from_sdk(&e))?;
    if !describe {
        return Ok(ids
            .into_iter()
            .map(|id| Detector {
                id,
                enabled: false,
                frequency: None,
            })
            .collect());
    }
    let mut detectors = Vec::with_capacity(ids.len());
    for id in ids {
        let d = client
            .get_detector()
            .detector_id(&id)
            .send()
            .await
            .map_err(|e| RegionError::from_sdk(&e))?;
        detectors.push(Detector {
            enabled: d.status() == Some(&DetectorStatus::Enabled),
            frequency: d
                .finding_publishing_frequency()
                .map(|f| f.as_str().to_string()),
            id,
        });
    }
    Ok(detectors)
}

/// Why carrying out a plan stopped.
#[derive(Debug)]
pub enum ExecError {
    /// CreateDetector was refused as a bad request: usually because another
    /// writer created the region's detector first. The caller looks again.
    CreateRefused(RegionError),
    Failed(RegionError),
}

/// Make the plan's calls in order. Returns the id of a detector it created.
pub async fn execute(client: &Client, actions: &[Action]) -> Result<Option<String>, ExecError> {
    let mut created = None;
    for action in actions {
        debug!(?action, "calling");
        let result = match action {
            Action::Create { frequency } => {
                match client
                    .create_detector()
                    .enable(true)
                    .set_finding_publishing_frequency(frequency.map(api_frequency))
                    .send()
                    .await
                {
                    Ok(out) => {
                        created = out.detector_id().map(str::to_string);
                        Ok(())
                    }
                    Err(e) => {
                        let err = RegionError::from_sdk(&e);
                        return Err(if err.code == "BadRequestException" {
                            ExecError::CreateRefused(err)
                        } else {
                            ExecError::Failed(err)
                        });
                    }
                }
            }
            Action::Resume { id, frequency } => update(client, id, Some(true), *frequency).await,
            Action::SetFrequency { id, frequency } => {
                update(client, id, None, Some(*frequency)).await
            }
            Action::Suspend { id } => update(client, id, Some(false), None).await,
            Action::Delete { id } => client
                .delete_detector()
                .detector_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
        };
        result.map_err(ExecError::Failed)?;
    }
    Ok(created)
}

async fn update(
    client: &Client,
    id: &str,
    enable: Option<bool>,
    frequency: Option<Frequency>,
) -> Result<(), RegionError> {
    client
        .update_detector()
        .detector_id(id)
        .set_enable(enable)
        .set_finding_publishing_frequency(frequency.map(api_frequency))
        .send()
        .await
        .map(drop)
        .map_err(|e| RegionError::from_sdk(&e))
}

fn api_frequency(f: Frequency) -> FindingPublishingFrequency {
    FindingPublishingFrequency::from(f.api_name())
}
