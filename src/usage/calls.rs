//! The GuardDuty usage calls: GetUsageStatistics (every page) and
//! GetRemainingFreeTrialDays, in batches of 50 accounts where the API asks.

use std::collections::BTreeMap;

use aws_sdk_guardduty::types::{UsageCriteria, UsageStatisticType, UsageStatistics};
use aws_sdk_guardduty::Client;
use futures::future::try_join_all;

use super::plan::{plan_name, Usd};
use crate::error::RegionError;

/// The API's limit on accounts per request, and on results per page.
const BATCH: usize = 50;

/// Every page of one kind of statistic.
async fn statistics(
    client: &Client,
    detector: &str,
    kind: UsageStatisticType,
    criteria: UsageCriteria,
) -> Result<Vec<UsageStatistics>, RegionError> {
    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let out = client
            .get_usage_statistics()
            .detector_id(detector)
            .usage_statistic_type(kind.clone())
            .usage_criteria(criteria.clone())
            .unit("USD")
            .max_results(BATCH as i32)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| denied("GetUsageStatistics", RegionError::from_sdk(&e)))?;
        pages.extend(out.usage_statistics);
        match out.next_token.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok(pages),
        }
    }
}

/// A refusal names the permission the usage view needs.
fn denied(call: &'static str, mut e: RegionError) -> RegionError {
    if matches!(e.code.as_str(), "AccessDeniedException" | "AccessDenied") {
        e.hint = Some(std::borrow::Cow::Owned(format!(
            "gdctl usage needs guardduty:{call} (see the minimum IAM policy in the README)"
        )));
    }
    e
}

fn amount(total: Option<&aws_sdk_guardduty::types::Total>) -> Result<Usd, RegionError> {
    let text = total.and_then(|t| t.amount()).unwrap_or("0");
    Usd::parse(text).map_err(|e| RegionError::new("ResponseError", format!("GetUsageStatistics: {e}")))
}

/// SUM_BY_FEATURES: each plan's cost, by its `--features` name.
pub async fn by_plan(client: &Client, detector: &str) -> Result<Vec<(String, Usd)>, RegionError> {
    let pages =
        statistics(client, detector, UsageStatisticType::SumByFeatures, UsageCriteria::builder().build())
            .await?;
    let rows = pages.iter().flat_map(|p| p.sum_by_feature());
    rows.map(|r| Ok((plan_name(r.feature().map_or("UNKNOWN", |f| f.as_str())), amount(r.total())?))).collect()
}

/// SUM_BY_ACCOUNT for these accounts (at most 50 a request, side by side).
pub async fn by_account(
    client: &Client,
    detector: &str,
    accounts: &[String],
) -> Result<Vec<(String, Usd)>, RegionError> {
    let calls = accounts.chunks(BATCH).map(|batch| {
        let criteria = UsageCriteria::builder().set_account_ids(Some(batch.to_vec())).build();
        statistics(client, detector, UsageStatisticType::SumByAccount, criteria)
    });
    let mut sums = Vec::new();
    for page in try_join_all(calls).await?.iter().flatten() {
        for r in page.sum_by_account() {
            sums.push((r.account_id().unwrap_or("?").to_string(), amount(r.total())?));
        }
    }
    Ok(sums)
}

/// TOP_RESOURCES: the most expensive resources (the API's top 50).
pub async fn top_resources(client: &Client, detector: &str) -> Result<Vec<(String, Usd)>, RegionError> {
    let pages =
        statistics(client, detector, UsageStatisticType::TopResources, UsageCriteria::builder().build())
            .await?;
    let rows = pages.iter().flat_map(|p| p.top_resources());
    rows.map(|r| Ok((r.resource().unwrap_or("?").to_string(), amount(r.total())?))).collect()
}

/// The plans of `account` still in their free trial, and the days left.
pub async fn free_trial_days(
    client: &Client,
    detector: &str,
    account: &str,
) -> Result<BTreeMap<String, i32>, RegionError> {
    let out = client
        .get_remaining_free_trial_days()
        .detector_id(detector)
        .account_ids(account)
        .send()
        .await
        .map_err(|e| denied("GetRemainingFreeTrialDays", RegionError::from_sdk(&e)))?;
    let features =
        out.accounts().iter().filter(|a| a.account_id() == Some(account)).flat_map(|a| a.features());
    Ok(features
        .filter_map(|f| Some((plan_name(f.name()?.as_str()), f.free_trial_days_remaining()?)))
        .filter(|(_, days)| *days > 0)
        .collect())
}
