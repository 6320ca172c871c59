//! GuardDuty calls for one region: read what exists, carry out a plan.

use std::collections::HashMap;

use aws_sdk_guardduty::types::{
    DetectorAdditionalConfiguration, DetectorFeature, DetectorFeatureConfiguration, DetectorStatus,
    FeatureAdditionalConfiguration, FeatureStatus, FindingPublishingFrequency,
};
use aws_sdk_guardduty::Client;
use tracing::debug;

use crate::cli::Frequency;
use crate::error::RegionError;
use crate::fanout::WriteSent;
use crate::features::{Feature, FeatureState, Wanted};
use crate::plan::{Action, Detector};
use crate::tags::Tags;

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
    // A detector id is letters and digits: anything else is no answer of
    // GuardDuty's, and would be printed (or deleted by) as given.
    if let Some(bad) = ids.iter().find(|id| id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric())) {
        return Err(RegionError::new(
            "ResponseError",
            format!("ListDetectors returned `{}`, which is not a detector id", bad.escape_default()),
        ));
    }
    if !describe {
        return Ok(ids.into_iter().map(|id| Detector { id, ..Detector::default() }).collect());
    }
    let mut detectors = Vec::with_capacity(ids.len());
    for id in ids {
        let d = client.get_detector().detector_id(&id).send().await.map_err(|e| RegionError::from_sdk(&e))?;
        let features = d
            .features()
            .iter()
            .filter_map(|f| {
                let agents =
                    f.additional_configuration().iter().map(|a| (a.name().map(|n| n.as_str()), a.status()));
                feature_entry(f.name().map(|n| n.as_str()), f.status(), agents)
            })
            .collect();
        let tags = d.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        detectors.push(Detector {
            enabled: d.status() == Some(&DetectorStatus::Enabled),
            frequency: d.finding_publishing_frequency().map(|f| f.as_str().to_string()),
            features,
            tags: tags.unwrap_or_default(),
            service_role: d.service_role().map(str::to_string),
            id,
        });
    }
    Ok(detectors)
}

/// A feature as the API reports it, a detector's or a member's: its name,
/// whether it is on, and its agents'.
pub fn feature_entry<'a>(
    name: Option<&str>,
    status: Option<&FeatureStatus>,
    agents: impl Iterator<Item = (Option<&'a str>, Option<&'a FeatureStatus>)>,
) -> Option<(String, FeatureState)> {
    let on = |s: Option<&FeatureStatus>| s == Some(&FeatureStatus::Enabled);
    let additional = agents.filter_map(|(n, s)| Some((n?.to_string(), on(s)))).collect();
    Some((name?.to_string(), FeatureState { enabled: on(status), additional }))
}

/// Why carrying out a plan stopped.
#[derive(Debug)]
pub enum ExecError {
    /// CreateDetector was refused as a bad request: usually because another
    /// writer created the region's detector first. The caller looks again.
    CreateRefused(RegionError),
    Failed(RegionError),
}

/// Make the plan's calls in order, marking each in `sent` before it goes out.
/// Returns the id of a detector it created.
pub async fn execute(
    client: &Client,
    region: &str,
    existing: &[Detector],
    actions: &[Action],
    sent: &WriteSent,
) -> Result<Option<String>, ExecError> {
    let mut created = None;
    for action in actions {
        debug!(?action, "calling");
        sent.mark(action.call());
        let result = match action {
            Action::Create { frequency, features, tags } => {
                match client
                    .create_detector()
                    .enable(true)
                    .set_finding_publishing_frequency(frequency.map(api_frequency))
                    .set_features(features.as_ref().map(api_features))
                    .set_tags((!tags.is_empty()).then(|| api_tags(tags)))
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
            Action::Update { id, resume, frequency, features, .. } => {
                update(client, id, resume.then_some(true), *frequency, features.as_ref()).await
            }
            Action::Suspend { id } => update(client, id, Some(false), None, None).await,
            Action::Tag { id, tags } => match arn(region, existing.iter().find(|d| &d.id == id)) {
                Some(arn) => client
                    .tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(api_tags(tags)))
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| RegionError::from_sdk(&e)),
                None => Err(RegionError::new(
                    "NoDetectorArn",
                    "GetDetector named no service role, so the detector's ARN is unknown",
                )),
            },
            Action::Delete { id } => client
                .delete_detector()
                .detector_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| RegionError::from_sdk(&e)),
        };
        result.map_err(ExecError::Failed)?;
        if let Some(id) = &created {
            sent.saw_detector(id);
        }
        sent.answered(action.made(existing));
    }
    Ok(created)
}

async fn update(
    client: &Client,
    id: &str,
    enable: Option<bool>,
    frequency: Option<Frequency>,
    features: Option<&Wanted>,
) -> Result<(), RegionError> {
    client
        .update_detector()
        .detector_id(id)
        .set_enable(enable)
        .set_finding_publishing_frequency(frequency.map(api_frequency))
        .set_features(features.map(api_features))
        .send()
        .await
        .map(drop)
        .map_err(|e| RegionError::from_sdk(&e))
}

fn api_frequency(f: Frequency) -> FindingPublishingFrequency {
    FindingPublishingFrequency::from(f.api_name())
}

fn api_status(on: bool) -> FeatureStatus {
    if on {
        FeatureStatus::Enabled
    } else {
        FeatureStatus::Disabled
    }
}

/// The complete feature list: never the deprecated DataSources alongside.
fn api_features(w: &Wanted) -> Vec<DetectorFeatureConfiguration> {
    w.features
        .iter()
        .map(|(&f, &on)| {
            let agents = (f == Feature::RuntimeMonitoring && !w.agents.is_empty()).then(|| {
                w.agents
                    .iter()
                    .map(|(a, &on)| {
                        DetectorAdditionalConfiguration::builder()
                            .name(FeatureAdditionalConfiguration::from(a.api_name()))
                            .status(api_status(on))
                            .build()
                    })
                    .collect()
            });
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::from(f.api_name()))
                .status(api_status(on))
                .set_additional_configuration(agents)
                .build()
        })
        .collect()
}

fn api_tags(tags: &Tags) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// arn:PARTITION:guardduty:REGION:ACCOUNT:detector/ID, the account and
/// partition read from the detector's service-linked role
/// (arn:PARTITION:iam::ACCOUNT:role/...).
fn arn(region: &str, detector: Option<&Detector>) -> Option<String> {
    let d = detector?;
    let role = d.service_role.as_deref()?;
    let parts: Vec<&str> = role.split(':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, ..] if !account.is_empty() => {
            Some(format!("arn:{partition}:guardduty:{region}:{account}:detector/{}", d.id))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detector_arn_comes_from_the_service_role() {
        let d = Detector {
            id: "abc".into(),
            service_role: Some(
                "arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty"
                    .into(),
            ),
            ..Detector::default()
        };
        assert_eq!(
            arn("eu-west-1", Some(&d)).as_deref(),
            Some("arn:aws:guardduty:eu-west-1:123456789012:detector/abc")
        );
        assert_eq!(arn("eu-west-1", Some(&Detector { id: "x".into(), ..Detector::default() })), None);
    }

    #[test]
    fn features_go_out_complete_with_agents_only_on_runtime_monitoring() {
        let w = crate::features::parse(&["runtime-monitoring".into()], &["ec2".into()]).unwrap();
        let sent = api_features(&w);
        assert_eq!(sent.len(), 6);
        for f in &sent {
            let name = f.name().unwrap().as_str();
            let agents = f.additional_configuration();
            if name == "RUNTIME_MONITORING" {
                assert_eq!(f.status(), Some(&FeatureStatus::Enabled));
                assert_eq!(agents.len(), 3);
            } else {
                assert_eq!(f.status(), Some(&FeatureStatus::Disabled), "{name}");
                assert!(agents.is_empty());
            }
        }
    }
}
