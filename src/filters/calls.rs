//! The filter calls: ListFilters (every page) and GetFilter of each side by
//! side; CreateFilter, UpdateFilter and DeleteFilter in the plan's order.

use std::collections::HashSet;

use aws_sdk_guardduty::types::{Condition as ApiCondition, FilterAction, FindingCriteria};
use aws_sdk_guardduty::Client;
use futures::future::try_join_all;

use super::plan::{Action, Call, Condition, Criteria, Existing, Rule};
use crate::error::{printable, RegionError};
use crate::fanout::WriteSent;

/// A refusal names the permission `apply` needs.
pub fn denied(call: &'static str, mut e: RegionError) -> RegionError {
    if matches!(e.code.as_str(), "AccessDeniedException" | "AccessDenied") {
        e.hint = Some(std::borrow::Cow::Owned(format!(
            "gdctl apply needs guardduty:{call}; {}",
            crate::iam::denied_hint()
        )));
    }
    e
}

/// The region's filters, each read in full.
pub async fn read(client: &Client, detector: &str) -> Result<Vec<Existing>, RegionError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = HashSet::new();
    loop {
        let page = client
            .list_filters()
            .detector_id(detector)
            .max_results(50)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| denied("ListFilters", RegionError::from_sdk(&e)))?;
        names.extend(page.filter_names().iter().cloned());
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(t) if !seen.insert(t.clone()) => {
                return Err(RegionError::new("ResponseError", "ListFilters: the same nextToken twice"))
            }
            Some(t) => token = Some(t),
            None => break,
        }
    }
    try_join_all(names.iter().map(|name| async move {
        let f = client
            .get_filter()
            .detector_id(detector)
            .filter_name(name)
            .send()
            .await
            .map_err(|e| denied("GetFilter", RegionError::from_sdk(&e)))?;
        let rule = Rule {
            name: printable(f.name().unwrap_or(name).to_string()),
            description: f.description().unwrap_or("").to_string(),
            action: Action::from_api(f.action().map_or("NOOP", |a| a.as_str())),
            criteria: f.finding_criteria().map(from_api).unwrap_or_default(),
        };
        Ok::<_, RegionError>(Existing { rule, rank: f.rank().unwrap_or(i32::MAX) })
    }))
    .await
}

/// The API's criteria in the normal form: short and long keys alike (the
/// short ones are deprecated, but an older writer may have used them).
#[allow(deprecated)]
fn from_api(c: &FindingCriteria) -> Criteria {
    let mut out = Criteria::new();
    for (field, cond) in c.criterion().into_iter().flatten() {
        let join = |a: &[String], b: &[String]| a.iter().chain(b).cloned().collect::<Vec<_>>();
        let either = |long: Option<i64>, short: Option<i32>| long.or(short.map(i64::from));
        let c = Condition {
            equals: join(cond.equals(), cond.eq()),
            not_equals: join(cond.not_equals(), cond.neq()),
            greater_than: either(cond.greater_than(), cond.gt()),
            greater_than_or_equal: either(cond.greater_than_or_equal(), cond.gte()),
            less_than: either(cond.less_than(), cond.lt()),
            less_than_or_equal: either(cond.less_than_or_equal(), cond.lte()),
            matches: cond.matches().to_vec(),
            not_matches: cond.not_matches().to_vec(),
        };
        out.insert(field.clone(), c.normal());
    }
    out
}

/// The file's criteria as the API takes them, in the long form it stores.
fn to_api(c: &Criteria) -> FindingCriteria {
    let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    let mut f = FindingCriteria::builder();
    for (field, cond) in c {
        let api = ApiCondition::builder()
            .set_equals(list(&cond.equals))
            .set_not_equals(list(&cond.not_equals))
            .set_greater_than(cond.greater_than)
            .set_greater_than_or_equal(cond.greater_than_or_equal)
            .set_less_than(cond.less_than)
            .set_less_than_or_equal(cond.less_than_or_equal)
            .set_matches(list(&cond.matches))
            .set_not_matches(list(&cond.not_matches))
            .build();
        f = f.criterion(field, api);
    }
    f.build()
}

/// Always sent, empty too: a description the file drops is cleared.
fn described(rule: &Rule) -> Option<String> {
    Some(rule.description.clone())
}

fn api_action(a: Action) -> FilterAction {
    FilterAction::from(a.api_name())
}

/// Make the calls, one after another (ranks depend on the ones before).
pub async fn execute(
    client: &Client,
    detector: &str,
    calls: &[Call],
    words: &[String],
    sent: &WriteSent,
) -> Result<(), RegionError> {
    for (call, made) in calls.iter().zip(words) {
        sent.mark(call.api_name());
        let result = match call {
            Call::Create { rule, rank } => client
                .create_filter()
                .detector_id(detector)
                .name(&rule.name)
                .set_description(described(rule))
                .action(api_action(rule.action))
                .rank(*rank)
                .finding_criteria(to_api(&rule.criteria))
                .send()
                .await
                .map(drop)
                .map_err(|e| denied("CreateFilter", RegionError::from_sdk(&e))),
            Call::Update { rule, rank } => client
                .update_filter()
                .detector_id(detector)
                .filter_name(&rule.name)
                .set_description(described(rule))
                .action(api_action(rule.action))
                .rank(*rank)
                .finding_criteria(to_api(&rule.criteria))
                .send()
                .await
                .map(drop)
                .map_err(|e| denied("UpdateFilter", RegionError::from_sdk(&e))),
            Call::Delete { name } => client
                .delete_filter()
                .detector_id(detector)
                .filter_name(name)
                .send()
                .await
                .map(drop)
                .map_err(|e| denied("DeleteFilter", RegionError::from_sdk(&e))),
        };
        result?;
        sent.answered([made.clone()]);
    }
    Ok(())
}
