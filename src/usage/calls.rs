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
    let mut token: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
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
        match out.usage_statistics {
            Some(page) => pages.push(page),
            None => return Err(malformed("an answer without usageStatistics")),
        }
        match out.next_token.filter(|t| !t.is_empty()) {
            Some(t) if !seen.insert(t.clone()) => return Err(malformed("the same nextToken twice")),
            Some(t) => token = Some(t),
            None => return Ok(pages),
        }
    }
}

/// A refusal names the permission the usage view needs.
fn denied(call: &'static str, mut e: RegionError) -> RegionError {
    if matches!(e.code.as_str(), "AccessDeniedException" | "AccessDenied") {
        e.hint = Some(std::borrow::Cow::Owned(format!(
            "gdctl usage needs guardduty:{call}; {}",
            crate::iam::denied_hint()
        )));
    }
    e
}

fn malformed(what: &str) -> RegionError {
    RegionError::new("ResponseError", format!("GetUsageStatistics: {what}"))
}

/// An amount, which must be there and in USD: never a silent zero.
fn amount(total: Option<&aws_sdk_guardduty::types::Total>) -> Result<Usd, RegionError> {
    let total = total.ok_or_else(|| malformed("a line without its total"))?;
    match total.unit() {
        Some("USD") => {}
        other => return Err(malformed(&format!("an amount in {}, not USD", other.unwrap_or("no unit")))),
    }
    let text = total.amount().ok_or_else(|| malformed("a total without its amount"))?;
    Usd::parse(text).map_err(|e| malformed(&e))
}

/// A name from the answer (a plan, a resource, an account), printable.
fn name(text: &str) -> String {
    crate::error::printable(text.to_string())
}

/// SUM_BY_FEATURES: each plan's cost, by its `--features` name.
pub async fn by_plan(client: &Client, detector: &str) -> Result<Vec<(String, Usd)>, RegionError> {
    let pages =
        statistics(client, detector, UsageStatisticType::SumByFeatures, UsageCriteria::builder().build())
            .await?;
    let rows = pages.iter().flat_map(|p| p.sum_by_feature());
    rows.map(|r| Ok((name(&plan_name(r.feature().map_or("UNKNOWN", |f| f.as_str()))), amount(r.total())?)))
        .collect()
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
            sums.push((name(r.account_id().unwrap_or("?")), amount(r.total())?));
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
    rows.map(|r| Ok((name(r.resource().unwrap_or("?")), amount(r.total())?))).collect()
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
        .filter_map(|f| Some((name(&plan_name(f.name()?.as_str())), f.free_trial_days_remaining()?)))
        .filter(|(_, days)| *days > 0)
        .collect())
}

#[cfg(test)]
mod tests {
    use aws_sdk_guardduty::operation::get_usage_statistics::GetUsageStatisticsOutput;
    use aws_sdk_guardduty::types::{Total, UsageAccountResult, UsageFeature, UsageFeatureResult};
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::mocks::{aws_error, client};

    fn total(amount: &str) -> Total {
        Total::builder().amount(amount).unit("USD").build()
    }

    #[tokio::test]
    async fn accounts_go_in_batches_of_fifty_and_every_page_is_read() {
        let stats = mock!(Client::get_usage_statistics)
            .match_requests(|req| req.usage_criteria().is_some_and(|c| c.account_ids().len() <= 50))
            .then_output(|| {
                let row =
                    UsageAccountResult::builder().account_id("111111111111").total(total("0.5")).build();
                GetUsageStatisticsOutput::builder()
                    .usage_statistics(UsageStatistics::builder().sum_by_account(row).build())
                    .build()
            });
        let ids: Vec<String> = (0..120).map(|i| format!("{:012}", 100_000_000_000u64 + i)).collect();
        let sums = by_account(&client(&[&stats]), "d", &ids).await.unwrap();
        assert_eq!(stats.num_calls(), 3, "50 + 50 + 20");
        assert_eq!(sums.len(), 3);

        // Two pages: the token is followed, and both pages count.
        let paged = mock!(Client::get_usage_statistics).sequence().output(|| {
            let row =
                UsageFeatureResult::builder().feature(UsageFeature::FlowLogs).total(total("1.1")).build();
            GetUsageStatisticsOutput::builder()
                .usage_statistics(UsageStatistics::builder().sum_by_feature(row).build())
                .next_token("2")
                .build()
        });
        let paged = paged
            .output(|| {
                let row = UsageFeatureResult::builder()
                    .feature(UsageFeature::S3DataEvents)
                    .total(total("2.2"))
                    .build();
                GetUsageStatisticsOutput::builder()
                    .usage_statistics(UsageStatistics::builder().sum_by_feature(row).build())
                    .build()
            })
            .build();
        let plans = by_plan(&client(&[&paged]), "d").await.unwrap();
        assert_eq!(
            plans,
            [
                ("flow-logs".to_string(), Usd::parse("1.1").unwrap()),
                ("s3-data-events".to_string(), Usd::parse("2.2").unwrap())
            ]
        );
    }

    #[tokio::test]
    async fn a_refusal_names_the_permission_and_a_bad_amount_is_no_silent_zero() {
        let denied = mock!(Client::get_usage_statistics).then_http_response(aws_error(
            403,
            "AccessDeniedException",
            "User is not authorized to perform: guardduty:GetUsageStatistics",
        ));
        let e = by_plan(&client(&[&denied]), "d").await.unwrap_err();
        assert!(e.hint.unwrap().contains("guardduty:GetUsageStatistics"));

        let garbled = mock!(Client::get_usage_statistics).then_output(|| {
            let row =
                UsageFeatureResult::builder().feature(UsageFeature::FlowLogs).total(total("1,5")).build();
            GetUsageStatisticsOutput::builder()
                .usage_statistics(UsageStatistics::builder().sum_by_feature(row).build())
                .build()
        });
        let e = by_plan(&client(&[&garbled]), "d").await.unwrap_err();
        assert_eq!(e.code, "ResponseError");

        // Another currency, a line without its amount, no statistics, a token that repeats.
        let line = |t: Total| {
            let row = UsageFeatureResult::builder().feature(UsageFeature::FlowLogs).total(t).build();
            GetUsageStatisticsOutput::builder()
                .usage_statistics(UsageStatistics::builder().sum_by_feature(row).build())
        };
        let euro = mock!(Client::get_usage_statistics)
            .then_output(move || line(Total::builder().amount("1").unit("EUR").build()).build());
        assert!(by_plan(&client(&[&euro]), "d").await.unwrap_err().message.contains("in EUR, not USD"));
        let bare = mock!(Client::get_usage_statistics)
            .then_output(move || line(Total::builder().unit("USD").build()).build());
        assert!(by_plan(&client(&[&bare]), "d").await.unwrap_err().message.contains("without its amount"));
        let empty =
            mock!(Client::get_usage_statistics).then_output(|| GetUsageStatisticsOutput::builder().build());
        assert!(by_plan(&client(&[&empty]), "d")
            .await
            .unwrap_err()
            .message
            .contains("without usageStatistics"));
        let looping = mock!(Client::get_usage_statistics)
            .then_output(move || line(total("1")).next_token("again").build());
        assert!(by_plan(&client(&[&looping]), "d")
            .await
            .unwrap_err()
            .message
            .contains("the same nextToken twice"));
        assert_eq!(looping.num_calls(), 2);
    }
}
