//! GuardDuty's Organizations calls for one region: the delegated
//! administrator (management account's side), the organization configuration
//! and the members (administrator's side). The decisions are in org_plan.rs.

use std::borrow::Cow;
use std::time::Duration;

use aws_sdk_guardduty::types::{
    AccountDetail, AdminStatus, AutoEnableMembers, OrgFeature, OrgFeatureAdditionalConfiguration,
    OrgFeatureStatus, OrganizationAdditionalConfiguration, OrganizationFeatureConfiguration,
};
use aws_sdk_guardduty::Client;
use futures::future::try_join_all;
use tracing::debug;

use crate::detectors::{feature_entry, observe};
use crate::error::RegionError;
use crate::fanout::WriteSent;
use crate::features::Features;
use crate::org_plan::{ConfigPlan, OrgAccount, OrgConfig, PlanSetting};
use crate::plan::Detector;

/// CreateMembers and DisassociateMembers take at most 50 accounts a call.
const BATCH: usize = 50;

fn failed<E>(
    e: aws_sdk_guardduty::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> RegionError
where
    E: aws_sdk_guardduty::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    with_hint(RegionError::from_sdk(&e))
}

/// What to do about the Organizations errors GuardDuty answers with.
pub fn with_hint(mut e: RegionError) -> RegionError {
    let m = e.message.to_ascii_lowercase();
    let hint = if m.contains("trusted service") || m.contains("service access") {
        Some(
            "from the management account: `aws organizations enable-aws-service-access \
             --service-principal guardduty.amazonaws.com`",
        )
    } else if m.contains("not have guardduty enabled") || m.contains("not enabled guardduty") {
        Some("GuardDuty must be on in that account and region first (`gdctl enable` there)")
    } else if m.contains("management account") || m.contains("master account") {
        // The service's wording varies ("not the management account", "only the
        // organization's management account can ..."): the cure is the same.
        Some("run `gdctl org` with the organization's management account credentials")
    } else if m.contains("not a member of an organization") || e.code == "AWSOrganizationsNotInUseException" {
        Some("the account is not in an AWS Organization")
    } else if m.contains("not the delegated administrator") {
        Some("the account is not this region's delegated administrator: run `gdctl org enable` first")
    } else if m.contains("limit") && m.contains("member") {
        Some("the administrator's member account limit is reached (Service Quotas, GuardDuty)")
    } else if e.code == "AccessDeniedException" {
        Some("`gdctl iam-policy org` prints the management side's policy, `--role` the administrator's")
    } else {
        None
    };
    if let Some(h) = hint {
        e.hint = Some(Cow::Borrowed(h));
    }
    e
}

/// ListOrganizationAdminAccounts (every page): the region's administrators,
/// those being removed included.
pub async fn admins(client: &Client) -> Result<Vec<String>, RegionError> {
    let items: Vec<_> = client
        .list_organization_admin_accounts()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(failed)?;
    Ok(items
        .iter()
        .filter(|a| matches!(a.admin_status(), Some(AdminStatus::Enabled | AdminStatus::DisableInProgress)))
        .filter_map(|a| a.admin_account_id().map(str::to_string))
        .collect())
}

pub async fn enable_admin(client: &Client, id: &str, sent: &WriteSent) -> Result<(), RegionError> {
    sent.mark("EnableOrganizationAdminAccount");
    client.enable_organization_admin_account().admin_account_id(id).send().await.map_err(failed)?;
    sent.answered(["admin set".to_string()]);
    Ok(())
}

pub async fn disable_admin(client: &Client, id: &str, sent: &WriteSent) -> Result<(), RegionError> {
    sent.mark("DisableOrganizationAdminAccount");
    client.disable_organization_admin_account().admin_account_id(id).send().await.map_err(failed)?;
    sent.answered(["admin removed".to_string()]);
    Ok(())
}

/// The account's detector in the region, if any.
pub async fn detector(client: &Client) -> Result<Option<String>, RegionError> {
    let seen = observe(client, false).await.map_err(with_hint)?;
    Ok(seen.into_iter().next().map(|d| d.id))
}

/// The service creates a new administrator's detector a moment after
/// EnableOrganizationAdminAccount: look for it (in detail, as `enable` needs
/// it), more slowly each time, until `bound`. Empty when it has not appeared
/// (the caller then creates it).
pub async fn wait_for_detector(client: &Client, bound: Duration) -> Result<Vec<Detector>, RegionError> {
    let until = tokio::time::Instant::now() + bound;
    let mut pause = Duration::from_millis(100);
    loop {
        let seen = observe(client, true).await.map_err(with_hint)?;
        if !seen.is_empty() {
            return Ok(seen);
        }
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(Vec::new());
        }
        debug!(?pause, "the administrator's detector is not there yet");
        tokio::time::sleep(pause.min(until - now)).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// DescribeOrganizationConfiguration (every page of features).
pub async fn configuration(client: &Client, detector: &str) -> Result<OrgConfig, RegionError> {
    let mut config = OrgConfig::default();
    let mut token = None;
    loop {
        let out = client
            .describe_organization_configuration()
            .detector_id(detector)
            .set_next_token(token)
            .send()
            .await
            .map_err(failed)?;
        if let Some(a) = out.auto_enable_organization_members() {
            config.auto_enable = a.as_str().to_string();
        }
        config.limit_reached |= out.member_account_limit_reached().unwrap_or(false);
        for f in out.features() {
            let Some(name) = f.name() else { continue };
            let additional = f
                .additional_configuration()
                .iter()
                .filter_map(|a| Some((a.name()?.as_str().to_string(), a.auto_enable()?.as_str().to_string())))
                .collect();
            let auto_enable = f.auto_enable().map_or("NONE", |s| s.as_str()).to_string();
            config.plans.insert(name.as_str().to_string(), PlanSetting { auto_enable, additional });
        }
        token = out.next_token().filter(|t| !t.is_empty()).map(str::to_string);
        if token.is_none() {
            return Ok(config);
        }
    }
}

/// UpdateOrganizationConfiguration with what differs: never the deprecated
/// `autoEnable`.
pub async fn update_configuration(
    client: &Client,
    detector: &str,
    plan: &ConfigPlan,
    sent: &WriteSent,
) -> Result<(), RegionError> {
    let features: Vec<OrganizationFeatureConfiguration> = plan
        .plans
        .iter()
        .map(|p| {
            let agents: Vec<OrganizationAdditionalConfiguration> = p
                .agents
                .iter()
                .map(|(a, v)| {
                    OrganizationAdditionalConfiguration::builder()
                        .name(OrgFeatureAdditionalConfiguration::from(a.api_name()))
                        .auto_enable(OrgFeatureStatus::from(*v))
                        .build()
                })
                .collect();
            OrganizationFeatureConfiguration::builder()
                .name(OrgFeature::from(p.feature.api_name()))
                .auto_enable(OrgFeatureStatus::from(p.auto_enable))
                .set_additional_configuration((!agents.is_empty()).then_some(agents))
                .build()
        })
        .collect();
    sent.mark("UpdateOrganizationConfiguration");
    client
        .update_organization_configuration()
        .detector_id(detector)
        .set_auto_enable_organization_members(plan.auto_enable.map(AutoEnableMembers::from))
        .set_features((!features.is_empty()).then_some(features))
        .send()
        .await
        .map_err(failed)?;
    sent.answered(plan.changes.iter().cloned());
    Ok(())
}

/// ListMembers (every page, associated or not): each member and its relationship.
pub async fn members(client: &Client, detector: &str) -> Result<Vec<(String, String)>, RegionError> {
    let items: Vec<_> = client
        .list_members()
        .detector_id(detector)
        .only_associated("false")
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(failed)?;
    Ok(items
        .iter()
        .filter_map(|m| {
            Some((m.account_id()?.to_string(), m.relationship_status().unwrap_or("").to_string()))
        })
        .collect())
}

/// GetMemberDetectors in batches of 50, side by side: each member's plans
/// (as GetDetector would give them), and the members not processed.
pub async fn member_plans(
    client: &Client,
    detector: &str,
    ids: &[String],
) -> Result<(Vec<(String, Features)>, Vec<Unprocessed>), RegionError> {
    let calls = ids.chunks(BATCH).map(|batch| async move {
        let out = client
            .get_member_detectors()
            .detector_id(detector)
            .set_account_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(failed)?;
        let plans: Vec<(String, Features)> = out
            .member_data_source_configurations()
            .iter()
            .filter_map(|m| {
                let features = m
                    .features()
                    .iter()
                    .filter_map(|f| {
                        let agents = f
                            .additional_configuration()
                            .iter()
                            .map(|a| (a.name().map(|n| n.as_str()), a.status()));
                        feature_entry(f.name().map(|n| n.as_str()), f.status(), agents)
                    })
                    .collect();
                Some((m.account_id()?.to_string(), features))
            })
            .collect();
        Ok::<_, RegionError>((plans, unprocessed(out.unprocessed_accounts())))
    });
    let (mut plans, mut left) = (Vec::new(), Vec::new());
    for (p, u) in try_join_all(calls).await? {
        plans.extend(p);
        left.extend(u);
    }
    Ok((plans, left))
}

/// An account the service did not process, and why.
pub type Unprocessed = (String, String);

/// CreateMembers in batches of 50, side by side. Organization accounts become
/// members with GuardDuty on; no invitation is sent.
pub async fn create_members(
    client: &Client,
    detector: &str,
    accounts: &[&OrgAccount],
    sent: &WriteSent,
) -> Result<Vec<Unprocessed>, RegionError> {
    let calls = accounts.chunks(BATCH).map(|batch| {
        let details: Vec<AccountDetail> = batch
            .iter()
            .map(|a| AccountDetail::builder().account_id(&a.id).email(&a.email).build())
            .collect();
        let request = client.create_members().detector_id(detector).set_account_details(Some(details));
        async move {
            sent.mark("CreateMembers");
            let out = request.send().await.map_err(failed)?;
            let left = unprocessed(out.unprocessed_accounts());
            sent.answered(members_changed('+', batch.len() - left.len()));
            Ok::<_, RegionError>(left)
        }
    });
    let unprocessed = try_join_all(calls).await?.into_iter().flatten().collect();
    Ok(unprocessed)
}

/// DisassociateMembers in batches of 50, side by side.
pub async fn disassociate_members(
    client: &Client,
    detector: &str,
    ids: &[String],
    sent: &WriteSent,
) -> Result<Vec<Unprocessed>, RegionError> {
    let calls = ids.chunks(BATCH).map(|batch| async move {
        sent.mark("DisassociateMembers");
        let out = client
            .disassociate_members()
            .detector_id(detector)
            .set_account_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(failed)?;
        let left = unprocessed(out.unprocessed_accounts());
        sent.answered(members_changed('-', batch.len() - left.len()));
        Ok::<_, RegionError>(left)
    });
    let unprocessed = try_join_all(calls).await?.into_iter().flatten().collect();
    Ok(unprocessed)
}

/// `+12 members`, `-1 member`; nothing for none.
pub fn members_changed(sign: char, n: usize) -> Option<String> {
    (n > 0).then(|| format!("{sign}{n} member{}", if n == 1 { "" } else { "s" }))
}

fn unprocessed(list: &[aws_sdk_guardduty::types::UnprocessedAccount]) -> Vec<Unprocessed> {
    list.iter()
        .map(|u| {
            (u.account_id().unwrap_or("?").to_string(), u.result().unwrap_or("no reason given").to_string())
        })
        .collect()
}

/// The accounts the service did not process, as one error: each with its reason.
pub fn unprocessed_error(call: &str, list: &[Unprocessed]) -> RegionError {
    let n = list.len();
    let s = if n == 1 { "" } else { "s" };
    let each: Vec<String> = list.iter().map(|(id, why)| format!("{id}: {why}")).collect();
    with_hint(RegionError::new(
        "UnprocessedAccounts",
        format!("{call}: {n} account{s} not processed ({})", each.join("; ")),
    ))
}

#[cfg(test)]
mod tests {
    //! The paths moto cannot produce, with GuardDuty's real error shapes.
    use aws_sdk_guardduty::operation::create_members::CreateMembersOutput;
    use aws_sdk_guardduty::operation::get_detector::GetDetectorOutput;
    use aws_sdk_guardduty::operation::list_detectors::ListDetectorsOutput;
    use aws_sdk_guardduty::operation::list_organization_admin_accounts::ListOrganizationAdminAccountsOutput;
    use aws_sdk_guardduty::types::{AdminAccount, DetectorStatus, UnprocessedAccount};
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::mocks::{aws_error, client};

    fn accounts(n: usize) -> Vec<OrgAccount> {
        (0..n)
            .map(|i| OrgAccount {
                id: format!("{:012}", 100_000_000_000u64 + i as u64),
                email: format!("{i}@example.com"),
            })
            .collect()
    }

    #[tokio::test]
    async fn members_go_in_batches_of_fifty_and_unprocessed_ones_are_kept_with_their_reason() {
        let create = mock!(Client::create_members)
            .match_requests(|req| req.account_details().len() <= 50)
            .then_output(|| {
                CreateMembersOutput::builder()
                    .unprocessed_accounts(
                        UnprocessedAccount::builder()
                            .account_id("100000000000")
                            .result(
                                "The request is rejected because the member account limit has been reached.",
                            )
                            .build(),
                    )
                    .build()
            });
        let all = accounts(120);
        let refs: Vec<&OrgAccount> = all.iter().collect();
        let sent = WriteSent::default();
        let unprocessed = create_members(&client(&[&create]), "d", &refs, &sent).await.unwrap();
        assert_eq!(create.num_calls(), 3, "50 + 50 + 20");
        assert_eq!(unprocessed.len(), 3, "one per batch here, none dropped");
        assert_eq!(sent.call(), None, "answered: made, not unknown");
        let e = unprocessed_error("CreateMembers", &unprocessed[..1]);
        assert_eq!(e.code, "UnprocessedAccounts");
        assert!(e.message.starts_with("CreateMembers: 1 account not processed (100000000000: The request"));
        assert!(e.hint.unwrap().contains("member account limit"));
    }

    #[tokio::test]
    async fn throttled_admin_listing_is_retried_and_only_live_administrators_count() {
        let list = mock!(Client::list_organization_admin_accounts)
            .sequence()
            .http_response(aws_error(429, "TooManyRequestsException", "Rate exceeded"))
            .output(|| {
                ListOrganizationAdminAccountsOutput::builder()
                    .admin_accounts(
                        AdminAccount::builder()
                            .admin_account_id("111111111111")
                            .admin_status(AdminStatus::Enabled)
                            .build(),
                    )
                    .admin_accounts(AdminAccount::builder().admin_account_id("222222222222").build())
                    .build()
            })
            .build();
        assert_eq!(admins(&client(&[&list])).await.unwrap(), ["111111111111"]);
        assert_eq!(list.num_calls(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_administrators_detector_is_waited_for_then_given_up_on() {
        let list = mock!(Client::list_detectors)
            .sequence()
            .output(|| ListDetectorsOutput::builder().set_detector_ids(Some(vec![])).build())
            .times(3)
            .output(|| ListDetectorsOutput::builder().detector_ids("abc").build())
            .build();
        let get = mock!(Client::get_detector).then_output(|| {
            GetDetectorOutput::builder().status(DetectorStatus::Enabled).service_role("r").build()
        });
        let found = wait_for_detector(&client(&[&list, &get]), Duration::from_secs(20)).await.unwrap();
        assert_eq!(found.iter().map(|d| (d.id.as_str(), d.enabled)).collect::<Vec<_>>(), [("abc", true)]);
        assert_eq!((list.num_calls(), get.num_calls()), (4, 1));

        let never = mock!(Client::list_detectors)
            .then_output(|| ListDetectorsOutput::builder().set_detector_ids(Some(vec![])).build());
        let start = tokio::time::Instant::now();
        assert!(wait_for_detector(&client(&[&never]), Duration::from_secs(5)).await.unwrap().is_empty());
        assert_eq!(start.elapsed(), Duration::from_secs(5), "bounded, on the paused clock");
    }

    #[tokio::test]
    async fn an_untrusted_service_says_how_to_trust_it() {
        let enable = mock!(Client::enable_organization_admin_account).then_http_response(aws_error(
            400,
            "BadRequestException",
            "The request is rejected because GuardDuty is not a trusted service of the organization.",
        ));
        let e = enable_admin(&client(&[&enable]), "111111111111", &WriteSent::default()).await.unwrap_err();
        assert_eq!(e.code, "BadRequestException");
        assert!(e
            .hint
            .unwrap()
            .contains("enable-aws-service-access --service-principal guardduty.amazonaws.com"));
    }

    #[test]
    fn hints_follow_the_services_words() {
        let hint = |code: &'static str, m: &'static str| {
            with_hint(RegionError::new(code, m)).hint.map(|h| h.into_owned())
        };
        let not_management = hint(
            "BadRequestException",
            "the current account is not the management account of the organization",
        );
        assert!(not_management.unwrap().contains("management account credentials"));
        let only = hint("BadRequestException", "Only the organization's management account can do this.");
        assert!(only.unwrap().contains("management account credentials"));
        let no_detector =
            hint("X", "the organization's management account does not have GuardDuty enabled in this region");
        assert!(no_detector.unwrap().contains("`gdctl enable` there"));
        assert!(hint(
            "BadRequestException",
            "The request is rejected because the current account is not a member of an organization."
        )
        .unwrap()
        .contains("not in an AWS Organization"));
        assert!(hint("AccessDeniedException", "no").unwrap().contains("gdctl iam-policy org"));
        assert_eq!(hint("BadRequestException", "something else"), None);
    }
}
