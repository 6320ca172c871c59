//! One region of `enable` or `disable`: look, decide, act, and say what happened.

use aws_sdk_guardduty::Client;
use tracing::debug;

use crate::detectors::{execute, observe, ExecError};
use crate::error::RegionError;
use crate::fanout::WriteSent;
use crate::plan::{decide, Action, Desired, Detector, Outcome, Plan};
use crate::report::{RegionReport, State};

pub async fn converge(
    client: &Client,
    region: &str,
    desired: &Desired,
    dry_run: bool,
    sent: &WriteSent,
) -> RegionReport {
    let existing = match observe(client, desired.needs_details()).await {
        Ok(d) => d,
        Err(e) => return RegionReport::failed(region, e),
    };
    converge_seen(client, region, desired, dry_run, sent, existing).await
}

/// `converge`, with the region's detectors already observed (in detail when
/// `desired` needs it).
pub async fn converge_seen(
    client: &Client,
    region: &str,
    desired: &Desired,
    dry_run: bool,
    sent: &WriteSent,
    existing: Vec<Detector>,
) -> RegionReport {
    let full = desired.needs_details();
    if let Some(d) = existing.first() {
        sent.saw_detector(&d.id);
    }
    let plan = decide(&existing, desired);
    if dry_run {
        return describe(region, &existing, &plan, desired, None);
    }
    match execute(client, region, &existing, &plan.actions, sent).await {
        Ok(created) => describe(region, &existing, &plan, desired, created),
        // Another writer created the detector between our look and our create:
        // look again and converge what is there now.
        Err(ExecError::CreateRefused(first)) => {
            debug!(region, error = %first, "create refused; looking again");
            let existing = match observe(client, full).await {
                Ok(d) if !d.is_empty() => d,
                Ok(_) => return RegionReport::failed(region, first),
                Err(e) => return RegionReport::failed(region, e),
            };
            let plan = decide(&existing, desired);
            match execute(client, region, &existing, &plan.actions, sent).await {
                Ok(_) => describe(region, &existing, &plan, desired, None),
                Err(ExecError::CreateRefused(e) | ExecError::Failed(e)) => {
                    failed_at(region, &existing, e, sent)
                }
            }
        }
        Err(ExecError::Failed(e)) => match gone_after_delete(client, &plan, &e).await {
            Some(id) => {
                // The SDK retries a DeleteDetector whose answer was lost; the
                // retry is refused, the detector gone all the same.
                let mut r = RegionReport::new(region, Outcome::Absent);
                r.status = Some(State::NotEnabled);
                r.note = Some(format!(
                    "DeleteDetector answered {}, but detector {id} is gone (an earlier attempt's answer may \
                     have been lost)",
                    e.code
                ));
                r
            }
            None => failed_at(region, &existing, e, sent),
        },
    }
}

/// After a refused DeleteDetector: the detector, if a second look finds it gone.
async fn gone_after_delete(client: &Client, plan: &Plan, e: &RegionError) -> Option<String> {
    let id = plan.actions.iter().find_map(|a| match a {
        Action::Delete { id } => Some(id.clone()),
        _ => None,
    })?;
    if e.may_have_landed() || e.code != "BadRequestException" {
        return None;
    }
    let now = observe(client, false).await.ok()?;
    (!now.iter().any(|d| d.id == id)).then_some(id)
}

/// A write that went out with no AWS answer may have been made: that is an
/// unknown outcome, not a plain failure.
fn failed_at(region: &str, existing: &[Detector], e: RegionError, sent: &WriteSent) -> RegionReport {
    let mut r = RegionReport::failed(region, e);
    r.detector_id = existing.first().map(|d| d.id.clone());
    mark_unknown(&mut r, sent);
    r
}

/// A failure after a write that got no AWS answer becomes an unknown outcome.
pub fn mark_unknown(r: &mut RegionReport, sent: &WriteSent) {
    if let (Some(call), Some(e)) = (sent.call(), &mut r.error) {
        if r.outcome == Outcome::Failed && e.may_have_landed() {
            r.outcome = Outcome::Unknown;
            e.message = format!(
                "{} (after {call}): the change may or may not have been made; run again to converge",
                e.message
            );
        }
    }
}

/// The region's state once the plan is carried out.
fn describe(
    region: &str,
    existing: &[Detector],
    plan: &Plan,
    desired: &Desired,
    created: Option<String>,
) -> RegionReport {
    let mut r = RegionReport::new(region, plan.outcome);
    let first = existing.first();
    // The detector acted on (with --only-tagged, not necessarily the first).
    let acted_on = plan.actions.iter().find_map(Action::target).map(str::to_string);
    r.detector_id = created.or(acted_on).or_else(|| first.map(|d| d.id.clone()));
    r.changes = plan.actions.iter().flat_map(Action::changes).collect();
    let current = first.and_then(|d| d.frequency.clone());
    let state_now = |d: &Detector| {
        if d.enabled {
            State::Enabled
        } else {
            State::Suspended
        }
    };
    match desired {
        Desired::Enabled { frequency, .. } => {
            r.status = Some(State::Enabled);
            let changed = plan.actions.iter().find_map(|a| match a {
                Action::Update { frequency: Some(f), .. } => Some(*f),
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
        Desired::Deleted { only_tagged } | Desired::Suspended { only_tagged } => {
            if plan.outcome == Outcome::Kept {
                r.status = first.map(state_now);
                r.frequency = current;
                r.note = only_tagged.as_ref().map(|(k, v)| format!("not tagged {k}={v}"));
            } else if matches!(desired, Desired::Deleted { .. }) || existing.is_empty() {
                r.status = Some(State::NotEnabled);
            } else {
                r.status = Some(State::Suspended);
                r.frequency = current;
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    //! The client-level paths moto cannot produce, with real AWS error shapes.
    use aws_sdk_guardduty::operation::create_detector::CreateDetectorOutput;
    use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
    use aws_sdk_guardduty::operation::list_detectors::ListDetectorsOutput;
    use aws_sdk_guardduty::operation::update_detector::UpdateDetectorOutput;
    use aws_sdk_guardduty::types::{DetectorStatus, FindingPublishingFrequency};
    use aws_sdk_guardduty::Client;
    use aws_smithy_mocks::{mock, Rule};
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::cli::Frequency;
    use crate::mocks::{aws_error, client};

    const ID: &str = "12abc34d567e8fa901bc2d34e56789f0";

    fn none_listed() -> Rule {
        mock!(Client::list_detectors)
            .then_output(|| ListDetectorsOutput::builder().set_detector_ids(Some(vec![])).build())
    }

    fn enable_15() -> Desired {
        Desired::enabled(Some(Frequency::FifteenMinutes))
    }

    #[tokio::test]
    async fn throttling_is_retried_then_the_create_succeeds() {
        let list = none_listed();
        let create = mock!(Client::create_detector)
            .sequence()
            .http_response(aws_error(400, "ThrottlingException", "Rate exceeded"))
            .times(2)
            .output(|| CreateDetectorOutput::builder().detector_id(ID).build())
            .build();
        let r = converge(&client(&[&list, &create]), "eu-west-1", &enable_15(), false, &WriteSent::default())
            .await;
        assert_eq!(r.outcome, Outcome::Created, "{r:?}");
        assert_eq!(r.detector_id.as_deref(), Some(ID));
        assert_eq!(create.num_calls(), 3);
    }

    #[tokio::test]
    async fn losing_the_create_race_converges_the_winner_detector() {
        let list = mock!(Client::list_detectors)
            .sequence()
            .output(|| ListDetectorsOutput::builder().set_detector_ids(Some(vec![])).build())
            .output(|| ListDetectorsOutput::builder().detector_ids(ID).build())
            .build();
        let create = mock!(Client::create_detector).then_http_response(aws_error(
            400,
            "BadRequestException",
            "The request is rejected because a detector already exists for the current account.",
        ));
        let get = mock!(Client::get_detector).then_output(|| {
            GetDetectorOutput::builder()
                .status(DetectorStatus::Enabled)
                .finding_publishing_frequency(FindingPublishingFrequency::SixHours)
                .service_role("role")
                .build()
        });
        let update = mock!(Client::update_detector)
            .match_requests(|req| {
                req.detector_id() == Some(ID)
                    && req.finding_publishing_frequency() == Some(&FindingPublishingFrequency::FifteenMinutes)
            })
            .then_output(|| UpdateDetectorOutput::builder().build());
        let r = converge(
            &client(&[&list, &create, &get, &update]),
            "eu-west-1",
            &enable_15(),
            false,
            &WriteSent::default(),
        )
        .await;
        assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
        assert_eq!(r.detector_id.as_deref(), Some(ID));
        assert_eq!(r.previous_frequency.as_deref(), Some("SIX_HOURS"));
        assert_eq!((list.num_calls(), create.num_calls(), update.num_calls()), (2, 1, 1));
    }

    #[tokio::test]
    async fn a_refused_create_with_nothing_there_fails_with_the_services_error() {
        let list = none_listed();
        let create =
            mock!(Client::create_detector).then_http_response(aws_error(400, "BadRequestException", "nope"));
        let r = converge(&client(&[&list, &create]), "eu-west-1", &enable_15(), false, &WriteSent::default())
            .await;
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.error.unwrap().code, "BadRequestException");
    }

    #[tokio::test]
    async fn forbidden_region_fails_with_code_message_and_hint() {
        let list = mock!(Client::list_detectors).then_http_response(aws_error(
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
        let r = converge(&client(&[&list]), "me-south-1", &enable_15(), false, &WriteSent::default()).await;
        assert_eq!(r.outcome, Outcome::Failed);
        let e = r.error.unwrap();
        assert_eq!(e.code, "UnrecognizedClientException");
        assert_eq!(e.message, "The security token included in the request is invalid.");
        assert!(e.hint.unwrap().contains("not be enabled"));
        assert_eq!(list.num_calls(), 1, "a 403 is not retried");
    }

    #[tokio::test]
    async fn server_errors_are_retried_then_fail_the_region() {
        let list = mock!(Client::list_detectors)
            .sequence()
            .http_response(aws_error(500, "InternalServerErrorException", "Internal server error."))
            .repeatedly()
            .build();
        let r = converge(
            &client(&[&list]),
            "eu-west-1",
            &Desired::Deleted { only_tagged: None },
            false,
            &WriteSent::default(),
        )
        .await;
        assert_eq!(r.outcome, Outcome::Failed);
        assert_eq!(r.error.unwrap().code, "InternalServerErrorException");
        assert_eq!(list.num_calls(), 3, "every attempt was used");
    }

    #[tokio::test]
    async fn dry_run_makes_no_write_call() {
        let list = mock!(Client::list_detectors)
            .then_output(|| ListDetectorsOutput::builder().detector_ids(ID).build());
        let get = mock!(Client::get_detector).then_output(|| {
            GetDetectorOutput::builder().status(DetectorStatus::Enabled).service_role("role").build()
        });
        let delete =
            mock!(Client::delete_detector).then_http_response(aws_error(500, "Unexpected", "write call"));
        let r = converge(
            &client(&[&list, &get, &delete]),
            "eu-west-1",
            &Desired::Deleted { only_tagged: None },
            true,
            &WriteSent::default(),
        )
        .await;
        assert_eq!(r.outcome, Outcome::Deleted);
        assert_eq!(delete.num_calls(), 0);
    }

    #[tokio::test]
    async fn a_detector_id_that_is_not_one_fails_the_region_and_is_never_acted_on() {
        let list = mock!(Client::list_detectors)
            .then_output(|| ListDetectorsOutput::builder().detector_ids("2bd9\u{1b}[2K\r(nothing)").build());
        let delete =
            mock!(Client::delete_detector).then_http_response(aws_error(500, "Unexpected", "write call"));
        let deleted = Desired::Deleted { only_tagged: None };
        let r =
            converge(&client(&[&list, &delete]), "eu-west-1", &deleted, false, &WriteSent::default()).await;
        assert_eq!(r.outcome, Outcome::Failed);
        let e = r.error.unwrap();
        assert!(e.message.contains("not a detector id") && !e.message.chars().any(char::is_control), "{e:?}");
        assert_eq!(delete.num_calls(), 0);
    }

    #[tokio::test]
    async fn a_refused_delete_whose_detector_is_gone_is_absent_not_a_failure() {
        // The first DeleteDetector's answer was lost; the SDK's retry is refused.
        let list = mock!(Client::list_detectors)
            .sequence()
            .output(|| ListDetectorsOutput::builder().detector_ids(ID).build())
            .output(|| ListDetectorsOutput::builder().set_detector_ids(Some(vec![])).build())
            .build();
        let delete = mock!(Client::delete_detector).then_http_response(aws_error(
            400,
            "BadRequestException",
            "The request is rejected because the input detectorId is not owned by the current account.",
        ));
        let deleted = Desired::Deleted { only_tagged: None };
        let r =
            converge(&client(&[&list, &delete]), "eu-west-1", &deleted, false, &WriteSent::default()).await;
        assert_eq!((r.outcome, r.status), (Outcome::Absent, Some(State::NotEnabled)), "{r:?}");
        assert!(r.note.unwrap().contains(&format!("detector {ID} is gone")));

        // Still there: a plain failure.
        let list = mock!(Client::list_detectors)
            .then_output(|| ListDetectorsOutput::builder().detector_ids(ID).build());
        let r =
            converge(&client(&[&list, &delete]), "eu-west-1", &deleted, false, &WriteSent::default()).await;
        assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    }

    #[tokio::test]
    async fn a_write_with_no_answer_is_an_unknown_outcome_a_refused_connection_is_not() {
        let list = none_listed();
        let create = mock!(Client::create_detector).then_http_response(|| {
            HttpResponse::new(StatusCode::try_from(502).unwrap(), SdkBody::from("<html>Bad Gateway</html>"))
        });
        let sent = WriteSent::default();
        let r = converge(&client(&[&list, &create]), "eu-west-1", &enable_15(), false, &sent).await;
        assert_eq!(sent.call(), Some("CreateDetector"));
        assert_eq!(r.outcome, Outcome::Unknown, "{r:?}");
        let e = r.error.unwrap();
        assert_eq!(e.code, "NotAwsResponse");
        assert!(e.message.starts_with("HTTP 502 with an answer that is not from AWS"), "{}", e.message);
        assert!(e.message.contains("may or may not have been made"), "{}", e.message);
        assert!(!e.message.contains('{'), "no debug output: {}", e.message);

        // The same failure before any write: a plain failure.
        let list = mock!(Client::list_detectors).then_http_response(|| {
            HttpResponse::new(StatusCode::try_from(502).unwrap(), SdkBody::from("<html>Bad Gateway</html>"))
        });
        let sent = WriteSent::default();
        let r = converge(&client(&[&list]), "eu-west-1", &enable_15(), false, &sent).await;
        assert_eq!((r.outcome, sent.call()), (Outcome::Failed, None));
    }

    fn one_detector(tags: &[(&str, &str)]) -> (Rule, Rule) {
        let list = mock!(Client::list_detectors)
            .then_output(|| ListDetectorsOutput::builder().detector_ids(ID).build());
        let tags: std::collections::HashMap<String, String> =
            tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let get = mock!(Client::get_detector).then_output(move || {
            GetDetectorOutput::builder()
                .status(DetectorStatus::Enabled)
                .finding_publishing_frequency(FindingPublishingFrequency::SixHours)
                .service_role("arn:aws:iam::123456789012:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty")
                .set_tags(Some(tags.clone()))
                .build()
        });
        (list, get)
    }

    #[tokio::test]
    async fn a_missing_tag_is_added_to_the_detector_arn() {
        use aws_sdk_guardduty::operation::tag_resource::TagResourceOutput;
        let (list, get) = one_detector(&[("team", "sec"), ("keep", "me")]);
        let tag = mock!(Client::tag_resource)
            .match_requests(|req| {
                req.resource_arn() == Some(&format!("arn:aws:guardduty:eu-west-1:123456789012:detector/{ID}"))
                    && req.tags().map(|t| t.len()) == Some(1)
                    && req.tags().and_then(|t| t.get("env")).map(String::as_str) == Some("prod")
            })
            .then_output(|| TagResourceOutput::builder().build());
        let tags = [("team".to_string(), "sec".to_string()), ("env".to_string(), "prod".to_string())].into();
        let desired = Desired::Enabled { frequency: None, features: None, tags };
        let r = converge(&client(&[&list, &get, &tag]), "eu-west-1", &desired, false, &WriteSent::default())
            .await;
        assert_eq!(r.outcome, Outcome::Updated, "{r:?}");
        assert_eq!(r.changes, ["+tag:env=prod"]);
        assert_eq!(tag.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_feature_the_region_refuses_fails_that_region_with_the_reason() {
        let (list, get) = one_detector(&[]);
        let update = mock!(Client::update_detector).then_http_response(aws_error(
            400,
            "BadRequestException",
            "The request failed because the feature RDS_LOGIN_EVENTS is not available in this region.",
        ));
        let features = crate::features::parse(&["rds-login-events".to_string()], &[]).unwrap();
        let desired =
            Desired::Enabled { frequency: None, features: Some(features), tags: Default::default() };
        let r =
            converge(&client(&[&list, &get, &update]), "ap-south-2", &desired, false, &WriteSent::default())
                .await;
        assert_eq!(r.outcome, Outcome::Failed);
        let e = r.error.unwrap();
        assert_eq!(e.code, "BadRequestException");
        assert!(e.message.contains("RDS_LOGIN_EVENTS"));
        assert_eq!(r.detector_id.as_deref(), Some(ID));
    }
}
