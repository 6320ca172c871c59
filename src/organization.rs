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

use crate::error::RegionError;
use crate::fanout::WriteSent;
use crate::org_plan::{ConfigPlan, OrgAccount, OrgConfig, PlanSetting};

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
    } else if m.contains("not the management account") || m.contains("not the master account") {
        Some("run `gdctl org` with the organization's management account credentials")
    } else if m.contains("not a member of an organization") || e.code == "AWSOrganizationsNotInUseException" {
        Some("the account is not in an AWS Organization")
    } else if m.contains("not the delegated administrator") {
        Some("the account is not this region's delegated administrator: run `gdctl org enable` first")
    } else if m.contains("limit") && m.contains("member") {
        Some("the administrator's member account limit is reached (Service Quotas, GuardDuty)")
    } else if e.code == "AccessDeniedException" {
        Some("the caller needs the IAM permissions listed in the README (gdctl org)")
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
    Ok(())
}

pub async fn disable_admin(client: &Client, id: &str, sent: &WriteSent) -> Result<(), RegionError> {
    sent.mark("DisableOrganizationAdminAccount");
    client.disable_organization_admin_account().admin_account_id(id).send().await.map_err(failed)?;
    Ok(())
}

/// The account's detector in the region, if any (ListDetectors, every page).
pub async fn detector(client: &Client) -> Result<Option<String>, RegionError> {
    let ids: Vec<String> = client
        .list_detectors()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(failed)?;
    Ok(ids.into_iter().next())
}

/// The service creates a new administrator's detector a moment after
/// EnableOrganizationAdminAccount: look for it, more slowly each time, until
/// `bound`. None when it has not appeared (the caller then creates it).
pub async fn wait_for_detector(client: &Client, bound: Duration) -> Result<Option<String>, RegionError> {
    let until = tokio::time::Instant::now() + bound;
    let mut pause = Duration::from_millis(100);
    loop {
        if let Some(id) = detector(client).await? {
            return Ok(Some(id));
        }
        let now = tokio::time::Instant::now();
        if now >= until {
            return Ok(None);
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
    sent.mark("CreateMembers");
    let calls = accounts.chunks(BATCH).map(|batch| {
        let details: Vec<AccountDetail> = batch
            .iter()
            .map(|a| AccountDetail::builder().account_id(&a.id).email(&a.email).build())
            .collect();
        let request = client.create_members().detector_id(detector).set_account_details(Some(details));
        async move {
            let out = request.send().await.map_err(failed)?;
            Ok::<_, RegionError>(unprocessed(out.unprocessed_accounts()))
        }
    });
    Ok(try_join_all(calls).await?.into_iter().flatten().collect())
}

/// DisassociateMembers in batches of 50, side by side.
pub async fn disassociate_members(
    client: &Client,
    detector: &str,
    ids: &[String],
    sent: &WriteSent,
) -> Result<Vec<Unprocessed>, RegionError> {
    sent.mark("DisassociateMembers");
    let calls = ids.chunks(BATCH).map(|batch| async move {
        let out = client
            .disassociate_members()
            .detector_id(detector)
            .set_account_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(failed)?;
        Ok::<_, RegionError>(unprocessed(out.unprocessed_accounts()))
    });
    Ok(try_join_all(calls).await?.into_iter().flatten().collect())
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
