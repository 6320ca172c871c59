//! The GuardDuty findings calls: GetFindingsStatistics grouped by severity or
//! account, ListFindings with GetFindings overlapped page by page, and the two
//! writes, CreateSampleFindings and ArchiveFindings (in batches of 50).

use std::collections::{BTreeMap, HashSet};

use aws_sdk_guardduty::types::{
    Condition, Finding, FindingCriteria, FindingStatistics, GroupByType, OrderBy, Resource, SortCriteria,
};
use aws_sdk_guardduty::Client;

use super::plan::{band_counts, Band, BandCounts, Cond, Listed};
use crate::error::{printable, RegionError};
use crate::fanout::WriteSent;

/// The API's limit on ids per ListFindings page, GetFindings and ArchiveFindings.
pub const BATCH: usize = 50;
/// The most groups one GetFindingsStatistics answer holds (it has no next page).
pub const MAX_GROUPS: usize = 100;

pub type Criteria = BTreeMap<&'static str, Cond>;

fn api_criteria(c: &Criteria) -> FindingCriteria {
    let mut f = FindingCriteria::builder();
    for (field, cond) in c {
        let mut b = Condition::builder()
            .set_equals((!cond.eq.is_empty()).then(|| cond.eq.clone()))
            .set_not_equals((!cond.neq.is_empty()).then(|| cond.neq.clone()));
        if let Some(n) = cond.gte {
            b = b.greater_than_or_equal(n);
        }
        if let Some(n) = cond.lt {
            b = b.less_than(n);
        }
        f = f.criterion(*field, b.build());
    }
    f.build()
}

/// A refusal names the permission the command needs.
pub fn denied(call: &'static str, mut e: RegionError) -> RegionError {
    if matches!(e.code.as_str(), "AccessDeniedException" | "AccessDenied") {
        e.hint = Some(std::borrow::Cow::Owned(format!(
            "this needs guardduty:{call}; {}",
            crate::iam::denied_hint()
        )));
    }
    e
}

fn malformed(call: &str, what: &str) -> RegionError {
    RegionError::new("ResponseError", format!("{call}: {what}"))
}

fn count(n: Option<i32>) -> u64 {
    n.unwrap_or(0).max(0) as u64
}

/// One GetFindingsStatistics call grouped by `by`, as many groups as an answer holds.
async fn statistics(
    client: &Client,
    detector: &str,
    criteria: &Criteria,
    by: GroupByType,
) -> Result<FindingStatistics, RegionError> {
    let out = client
        .get_findings_statistics()
        .detector_id(detector)
        .finding_criteria(api_criteria(criteria))
        .group_by(by)
        .order_by(OrderBy::Desc)
        .max_results(MAX_GROUPS as i32)
        .send()
        .await
        .map_err(|e| denied("GetFindingsStatistics", RegionError::from_sdk(&e)))?;
    out.finding_statistics
        .ok_or_else(|| malformed("GetFindingsStatistics", "an answer without findingStatistics"))
}

/// Active findings matching `criteria`, counted per band (one call: there are
/// fewer distinct severities than a group-by answer holds).
pub async fn by_severity(
    client: &Client,
    detector: &str,
    criteria: &Criteria,
) -> Result<BandCounts, RegionError> {
    let stats = statistics(client, detector, criteria, GroupByType::Severity).await?;
    let groups = stats.grouped_by_severity();
    if groups.len() >= MAX_GROUPS {
        return Err(malformed("GetFindingsStatistics", "more severities than one answer holds"));
    }
    let mut pairs = Vec::with_capacity(groups.len());
    for g in groups {
        let severity =
            g.severity().ok_or_else(|| malformed("GetFindingsStatistics", "a group without its severity"))?;
        pairs.push((severity, count(g.total_findings())));
    }
    Ok(band_counts(pairs))
}

/// Active findings matching `criteria`, per account; `true` when the answer
/// was full (MAX_GROUPS groups), so more accounts may have findings.
pub async fn by_account(
    client: &Client,
    detector: &str,
    criteria: &Criteria,
) -> Result<(BTreeMap<String, u64>, bool), RegionError> {
    let stats = statistics(client, detector, criteria, GroupByType::Account).await?;
    let groups = stats.grouped_by_account();
    let mut accounts = BTreeMap::new();
    for g in groups {
        let id = g
            .account_id()
            .ok_or_else(|| malformed("GetFindingsStatistics", "a group without its account"))?;
        *accounts.entry(printable(id.to_string())).or_insert(0) += count(g.total_findings());
    }
    Ok((accounts, groups.len() >= MAX_GROUPS))
}

/// The most severe findings matching `criteria`, at most `limit`: each
/// ListFindings page's GetFindings runs beside the next page's listing.
pub async fn list(
    client: &Client,
    detector: &str,
    criteria: &Criteria,
    limit: usize,
) -> Result<Vec<Listed>, RegionError> {
    let criteria = api_criteria(criteria);
    let sort = SortCriteria::builder().attribute_name("severity").order_by(OrderBy::Desc).build();
    let mut found: Vec<Listed> = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = HashSet::new();
    let mut wanted = limit;
    let mut ids: Vec<String> = Vec::new();
    while wanted > 0 {
        let page = client
            .list_findings()
            .detector_id(detector)
            .finding_criteria(criteria.clone())
            .sort_criteria(sort.clone())
            .max_results(wanted.min(BATCH) as i32)
            .set_next_token(token.take())
            .send();
        let previous = std::mem::take(&mut ids);
        let (page, got) = futures::join!(page, get(client, detector, previous));
        found.extend(got?);
        let page = page.map_err(|e| denied("ListFindings", RegionError::from_sdk(&e)))?;
        ids = page.finding_ids().iter().take(wanted).cloned().collect();
        wanted -= ids.len();
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(t) if !seen.insert(t.clone()) => {
                return Err(malformed("ListFindings", "the same nextToken twice"))
            }
            Some(t) if !ids.is_empty() => token = Some(t),
            _ => break,
        }
    }
    found.extend(get(client, detector, ids).await?);
    Ok(found)
}

/// GetFindings for up to 50 ids (none: no call).
async fn get(client: &Client, detector: &str, ids: Vec<String>) -> Result<Vec<Listed>, RegionError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = client
        .get_findings()
        .detector_id(detector)
        .set_finding_ids(Some(ids))
        .send()
        .await
        .map_err(|e| denied("GetFindings", RegionError::from_sdk(&e)))?;
    out.findings().iter().map(listed).collect()
}

fn listed(f: &Finding) -> Result<Listed, RegionError> {
    let text = |v: Option<&str>| printable(v.unwrap_or("").to_string());
    let id = f.id().ok_or_else(|| malformed("GetFindings", "a finding without its id"))?;
    let severity = f.severity().ok_or_else(|| malformed("GetFindings", "a finding without its severity"))?;
    let service = f.service();
    let (resource_type, resource) = f.resource().map(acted_on).unwrap_or_default();
    Ok(Listed {
        account: text(f.account_id()),
        region: text(f.region()),
        id: printable(id.to_string()),
        severity,
        band: Band::of(severity),
        kind: text(f.r#type()),
        title: text(f.title()),
        resource_type,
        resource,
        count: service.and_then(|s| s.count()).map_or(1, i64::from),
        first_seen: text(service.and_then(|s| s.event_first_seen()).or(f.created_at())),
        last_seen: text(service.and_then(|s| s.event_last_seen()).or(f.updated_at())),
        archived: service.and_then(|s| s.archived()).unwrap_or(false),
        sample: service.and_then(|s| s.additional_info()).is_some_and(is_sample),
    })
}

/// A sample finding's additionalInfo holds `"sample": true`.
fn is_sample(info: &aws_sdk_guardduty::types::ServiceAdditionalInfo) -> bool {
    info.value()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .and_then(|v| v.get("sample").cloned())
        .is_some_and(|s| s == serde_json::Value::Bool(true) || s == "true")
}

/// The resource's type and the id a person acts on: chosen by the type, as a
/// finding about a bucket carries the access key that touched it too.
fn acted_on(r: &Resource) -> (String, String) {
    let kind = r.resource_type().unwrap_or("").to_string();
    let key = || {
        r.access_key_details().map(|k| match (k.access_key_id(), k.user_name()) {
            (Some(key), Some(user)) => format!("{key} ({user})"),
            (Some(key), None) => key.to_string(),
            (None, user) => user.unwrap_or("").to_string(),
        })
    };
    let buckets = || {
        let names: Vec<&str> = r.s3_bucket_details().iter().filter_map(|b| b.name()).collect();
        (!names.is_empty()).then(|| names.join(","))
    };
    let instance = || r.instance_details().and_then(|i| i.instance_id()).map(str::to_string);
    let eks = || r.eks_cluster_details().and_then(|e| e.name()).map(str::to_string);
    let ecs = || r.ecs_cluster_details().and_then(|e| e.name()).map(str::to_string);
    let lambda = || r.lambda_details().and_then(|l| l.function_name()).map(str::to_string);
    let rds = || r.rds_db_instance_details().and_then(|d| d.db_instance_identifier()).map(str::to_string);
    let by_kind = match kind.as_str() {
        "AccessKey" => key(),
        "S3Bucket" | "S3Object" => buckets(),
        "Instance" | "EC2Instance" => instance(),
        "EKSCluster" => eks(),
        "ECSCluster" | "Container" => ecs(),
        "Lambda" => lambda(),
        "RDSDBInstance" => rds(),
        _ => None,
    };
    let id = by_kind
        .or_else(buckets)
        .or_else(instance)
        .or_else(eks)
        .or_else(ecs)
        .or_else(lambda)
        .or_else(rds)
        .or_else(key)
        .unwrap_or_default();
    (printable(kind), printable(id))
}

/// CreateSampleFindings: one sample of each type named, of every type when none is.
pub async fn create_samples(
    client: &Client,
    detector: &str,
    types: &[String],
    sent: &WriteSent,
) -> Result<(), RegionError> {
    sent.mark("CreateSampleFindings");
    client
        .create_sample_findings()
        .detector_id(detector)
        .set_finding_types((!types.is_empty()).then(|| types.to_vec()))
        .send()
        .await
        .map_err(|e| denied("CreateSampleFindings", RegionError::from_sdk(&e)))?;
    let made = match types.len() {
        0 => "+samples of every type".to_string(),
        n => format!("+{n} sample{}", if n == 1 { "" } else { "s" }),
    };
    sent.answered([made]);
    Ok(())
}

/// The ids of the active sample findings (ListFindings, every page).
pub async fn sample_ids(
    client: &Client,
    detector: &str,
    criteria: &Criteria,
) -> Result<Vec<String>, RegionError> {
    let criteria = api_criteria(criteria);
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let mut seen = HashSet::new();
    loop {
        let page = client
            .list_findings()
            .detector_id(detector)
            .finding_criteria(criteria.clone())
            .max_results(BATCH as i32)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| denied("ListFindings", RegionError::from_sdk(&e)))?;
        ids.extend(page.finding_ids().iter().map(|id| printable(id.clone())));
        match page.next_token.filter(|t| !t.is_empty()) {
            Some(t) if !seen.insert(t.clone()) => {
                return Err(malformed("ListFindings", "the same nextToken twice"))
            }
            Some(t) => token = Some(t),
            None => return Ok(ids),
        }
    }
}

/// Of these ids (at most 50), those GetFindings shows to be active sample findings.
pub async fn samples_among(
    client: &Client,
    detector: &str,
    ids: &[String],
) -> Result<Vec<String>, RegionError> {
    let found = get(client, detector, ids.to_vec()).await?;
    Ok(found.into_iter().filter(|f| f.sample && !f.archived && ids.contains(&f.id)).map(|f| f.id).collect())
}

/// ArchiveFindings in batches of 50, one after another so the report can
/// say how many were archived before a failure.
pub async fn archive(
    client: &Client,
    detector: &str,
    ids: &[String],
    sent: &WriteSent,
) -> Result<(), RegionError> {
    for batch in ids.chunks(BATCH) {
        sent.mark("ArchiveFindings");
        client
            .archive_findings()
            .detector_id(detector)
            .set_finding_ids(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| {
                let mut e = denied("ArchiveFindings", RegionError::from_sdk(&e));
                // A member's findings are archived by its administrator.
                if e.code == "BadRequestException" && e.message.contains("administrator") {
                    e.hint = Some(std::borrow::Cow::Borrowed(
                        "run `gdctl findings archive --samples` with the administrator's credentials: \
                         it archives its members' samples too",
                    ));
                }
                e
            })?;
        sent.answered([format!("archived {}", batch.len())]);
    }
    Ok(())
}
