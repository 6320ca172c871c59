//! `gdctl findings`: what GuardDuty found, per region (and account), counted
//! by severity band or listed, with a gate; `findings sample` and
//! `findings archive --samples` for testing the pipeline that reads them.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_guardduty::types::DetectorStatus;
use aws_sdk_guardduty::Client;
use futures::future::{try_join_all, OptionFuture};

use crate::cli::{ArchiveArgs, FindingsArgs, SampleArgs};
use crate::converge::mark_unknown;
use crate::detectors::observe;
use crate::error::{RegionError, SetupError};
use crate::findings::calls::{self, Criteria, BATCH};
use crate::findings::plan::{gate_reasons, Band, BandCounts, Cond, Gate, Query, Top, MAX_VALUES};
use crate::output::Printer;
use crate::plan::Outcome;
use crate::report::{FindingsTotals, RegionFindings, RegionReport, Report, State};

use super::{Accounts, Context, Job};

/// `--list` without `--limit`.
const DEFAULT_LIMIT: usize = 100;

/// A `findings` run, its flags checked.
pub struct Run {
    query: Query,
    min: Band,
    gate: Gate,
    list: Option<usize>,
    /// `--max-age`: each gated band's cut-off, in epoch milliseconds.
    cutoffs: Vec<(Band, i64)>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn ago(now: i64, d: Duration) -> i64 {
    now.saturating_sub(d.as_millis() as i64)
}

/// Every flag checked before the first call.
pub fn checked(args: &FindingsArgs) -> Result<Run, SetupError> {
    if args.types.len() > MAX_VALUES {
        return Err(SetupError::Invalid(format!(
            "--type is given {} times: GuardDuty takes at most {MAX_VALUES} types in one query",
            args.types.len()
        )));
    }
    let now = now_ms();
    let invalid = |m: String| Err(SetupError::Invalid(m));
    // A gate on what is not counted would pass on what it never saw.
    if let Some(band) = args.fail_on.filter(|b| *b < args.severity) {
        return invalid(format!(
            "--fail-on {} is below --severity {}: the findings it would fail on are not counted",
            band.name(),
            args.severity.name()
        ));
    }
    if let Some(band) = args.max_age.as_ref().and_then(|m| m.0.keys().find(|b| **b < args.severity)) {
        return invalid(format!(
            "--max-age names {}, below --severity {}: the findings it would gate are not counted",
            band.name(),
            args.severity.name()
        ));
    }
    if let (Some(_), Some(_)) = (&args.max_age, args.since) {
        return invalid(
            "--since leaves out the findings not updated lately, which are the ones --max-age is about: \
             use one or the other"
                .into(),
        );
    }
    // `--check` fails on high and above, or from --severity up if that is higher.
    let gate = Gate {
        fail_on: args.check.then(|| args.fail_on.unwrap_or(Band::High.max(args.severity))),
        max_age: args.max_age.clone(),
    };
    let cutoffs = match &gate.max_age {
        Some(ages) => ages.0.iter().map(|(b, d)| (*b, ago(now, *d))).collect(),
        None => Vec::new(),
    };
    let mut types = args.types.clone();
    types.dedup();
    Ok(Run {
        query: Query {
            updated_since_ms: args.since.map(|d| ago(now, d)),
            types,
            include_archived: args.include_archived,
            include_samples: args.include_samples,
            account: None,
        },
        min: args.severity,
        gate,
        list: args.list.then(|| args.limit.map_or(DEFAULT_LIMIT, |n| n as usize)),
        cutoffs,
    })
}

pub async fn run(ctx: &Context<'_>, run: &Run, printer: &mut Printer<'_>) -> Report {
    // An administrator's members are its own view's only when it runs alone:
    // with many accounts each reports its own, and members would count twice.
    let members = matches!(ctx.accounts, Accounts::One(_));
    let top = Rc::new(RefCell::new(Top::new(run.list.unwrap_or(0))));
    printer.hold_ranked();
    let mut report = ctx
        .each_region("findings", false, Some(printer), |job: Job| {
            let top = top.clone();
            async move {
                let mut r = region(&job, run, members, &top).await;
                if let (Some(f), false) = (&r.findings, r.is_failure()) {
                    let watched = match (f.watched, r.status) {
                        (true, _) => Ok(()),
                        (false, Some(State::Suspended)) => Err("suspended"),
                        (false, _) => Err("no detector"),
                    };
                    let aged = f.aged.unwrap_or_default();
                    let reasons = gate_reasons(&run.gate, watched, &f.bands(), &aged);
                    if run.gate.is_on() {
                        r.in_line = Some(reasons.is_empty());
                        r.out_of_line = reasons;
                    }
                }
                r
            }
        })
        .await;
    let mut totals = FindingsTotals::of(&report.regions, Some(run.min));
    if run.list.is_some() {
        let top = std::mem::take(&mut *top.borrow_mut());
        totals.more = Some(top.more());
        totals.listed = Some(top.kept);
    }
    report.summary.findings = Some(totals);
    report
}

/// The region's findings: ListDetectors, then side by side whether the
/// detector is on, the counts per band, an administrator's per-account view,
/// the aged findings and the listing.
async fn region(job: &Job, run: &Run, members: bool, top: &RefCell<Top>) -> RegionReport {
    let (client, region) = (&job.client, job.region.as_str());
    let detector = match observe(client, false).await {
        Ok(d) => d.into_iter().next(),
        Err(e) => return RegionReport::failed(region, calls::denied("ListDetectors", e)),
    };
    let Some(detector) = detector else {
        let mut r = RegionReport::new(region, Outcome::NotEnabled);
        r.status = Some(State::NotEnabled);
        r.findings = Some(RegionFindings::default());
        r.note = Some("not watched: no detector".into());
        return r;
    };
    let id = detector.id.as_str();
    let mut query = run.query.clone();
    if !members {
        query.account = Some(job.account.clone());
    }
    let all = query.criteria((None, None), None, None);
    let shown = query.criteria(Query::from_band(run.min), None, None);
    let status = enabled(client, id);
    let per_account: OptionFuture<_> =
        members.then(|| accounts_view(client, id, &query, run.min, &job.account)).into();
    let aged = try_join_all(run.cutoffs.iter().map(|(band, cutoff)| {
        let c = query.criteria(Query::band(*band), Some(*cutoff), None);
        async move { calls::by_severity(client, id, &c).await.map(|n| (*band, n.get(*band))) }
    }));
    let listed: OptionFuture<_> = run.list.map(|limit| calls::list(client, id, &shown, limit)).into();
    let (enabled, counts, per_account, aged, listed) =
        futures::join!(status, calls::by_severity(client, id, &all), per_account, aged, listed);
    let (enabled, counts, per_account, aged, listed) =
        match (enabled, counts, per_account.transpose(), aged, listed.transpose()) {
            (Ok(e), Ok(c), Ok(p), Ok(a), Ok(l)) => (e, c, p, a, l),
            (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), ..) | (_, _, _, Err(e), _) | (.., Err(e)) => {
                let mut r = RegionReport::failed(region, e);
                r.detector_id = Some(detector.id);
                return r;
            }
        };
    let counts = counts.from(run.min);
    if let Some(found) = listed {
        top.borrow_mut().add(found, counts.total());
    }
    let (outcome, state) = match enabled {
        true => (Outcome::Enabled, State::Enabled),
        false => (Outcome::Suspended, State::Suspended),
    };
    let mut r = RegionReport::new(region, outcome);
    r.status = Some(state);
    r.detector_id = Some(detector.id);
    if !enabled {
        r.note = Some("not watched: the detector is suspended".into());
    }
    r.findings = Some(RegionFindings {
        watched: enabled,
        total: Some(counts.total()),
        counts: Some(counts),
        accounts: per_account.flatten().unwrap_or_default(),
        aged: (!run.cutoffs.is_empty()).then(|| {
            let mut a = BandCounts::default();
            for (band, n) in aged {
                a.add(band, n);
            }
            a
        }),
        samples: None,
    });
    r
}

/// An administrator's view: its members' findings per account and band. One
/// call says whether any account but its own has findings; only then is each
/// band grouped by account. A group-by answer holds at most 100 accounts and
/// has no next page: past that, the accounts are asked about 50 at a time
/// (its own and its members'), so none is dropped.
async fn accounts_view(
    client: &Client,
    detector: &str,
    query: &Query,
    min: Band,
    own: &str,
) -> Result<Option<BTreeMap<String, BandCounts>>, RegionError> {
    let (seen, full) =
        calls::by_account(client, detector, &query.criteria(Query::from_band(min), None, None)).await?;
    if !full && seen.keys().all(|a| a == own) {
        return Ok(None);
    }
    let bands: Vec<Band> = Band::ALL.into_iter().filter(|b| *b >= min).collect();
    let grouped = match full {
        false => Some(grouped_by_account(client, detector, query, &bands, None).await?),
        true => None,
    };
    let grouped = match grouped {
        Some(g) if g.iter().all(|(_, (_, full))| !full) => g,
        _ => {
            let mut ids = vec![own.to_string()];
            let members = crate::organization::members(client, detector).await?;
            ids.extend(members.into_iter().map(|(m, _)| m).filter(|m| m != own));
            let chunks =
                ids.chunks(BATCH).map(|c| grouped_by_account(client, detector, query, &bands, Some(c)));
            try_join_all(chunks).await?.into_iter().flatten().collect()
        }
    };
    let mut view: BTreeMap<String, BandCounts> = BTreeMap::new();
    for (band, (accounts, _)) in grouped {
        for (account, n) in accounts {
            view.entry(account).or_default().add(band, n);
        }
    }
    Ok(Some(view))
}

/// Each band's findings grouped by account, side by side (of these accounts only, if named).
async fn grouped_by_account(
    client: &Client,
    detector: &str,
    query: &Query,
    bands: &[Band],
    accounts: Option<&[String]>,
) -> Result<Vec<(Band, (BTreeMap<String, u64>, bool))>, RegionError> {
    try_join_all(bands.iter().map(|band| {
        let c = query.criteria(Query::band(*band), None, accounts);
        async move { calls::by_account(client, detector, &c).await.map(|got| (*band, got)) }
    }))
    .await
}

/// `findings sample`: CreateSampleFindings in every region with a detector.
pub async fn sample(ctx: &Context<'_>, args: &SampleArgs, printer: &mut Printer<'_>) -> Report {
    let types = &args.types;
    let dry_run = args.dry_run;
    ctx.each_region("findings sample", dry_run, Some(printer), |job: Job| async move {
        let region = job.region.as_str();
        let id = match detector(&job).await {
            Ok(Some(id)) => id,
            Ok(None) => return unwatched(region, "no detector, so no samples made (gdctl enable makes one)"),
            Err(e) => return RegionReport::failed(region, e),
        };
        let n = types.len() as u64;
        let made = match n {
            0 => "one sample of every finding type".to_string(),
            1 => format!("1 sample: {}", types[0]),
            n => format!("{n} samples"),
        };
        let mut r = RegionReport::new(region, Outcome::Created);
        r.detector_id = Some(id.clone());
        // Whether the detector is on, beside the write: a suspended one takes
        // samples, but nothing watches the region.
        let status = enabled(&job.client, &id);
        let write = async {
            match dry_run {
                true => Ok(()),
                false => calls::create_samples(&job.client, &id, types, &job.sent).await,
            }
        };
        let (enabled, written) = futures::join!(status, write);
        if let Err(e) = written.and(enabled.as_ref().map(drop).map_err(Clone::clone)) {
            let mut r = RegionReport::failed(region, e);
            r.detector_id = Some(id);
            mark_unknown(&mut r, &job.sent);
            return r;
        }
        let watched = enabled.unwrap_or(false);
        let mut note = format!("{} {made}", if dry_run { "would make" } else { "made" });
        if !watched {
            note.push_str("; the detector is suspended, so nothing watches this region");
            r.status = Some(State::Suspended);
        }
        r.note = Some(note);
        r.findings = Some(RegionFindings { watched, samples: (n > 0).then_some(n), ..Default::default() });
        r
    })
    .await
}

/// `findings archive --samples`: the account's own active sample findings
/// archived in every region. Each batch is checked to be samples before it is
/// archived: a real finding is never archived by it.
pub async fn archive(ctx: &Context<'_>, args: &ArchiveArgs, printer: &mut Printer<'_>) -> Report {
    let dry_run = args.dry_run;
    // Run alone, an administrator archives its members' samples too (only it
    // may); with many accounts each archives its own.
    let own_only = !matches!(ctx.accounts, Accounts::One(_));
    ctx.each_region("findings archive", dry_run, Some(printer), |job: Job| async move {
        let region = job.region.as_str();
        let id = match detector(&job).await {
            Ok(Some(id)) => id,
            Ok(None) => return unwatched(region, "no detector, so no findings"),
            Err(e) => return RegionReport::failed(region, e),
        };
        let mut criteria: Criteria = BTreeMap::new();
        criteria.insert("service.additionalInfo.sample", Cond { eq: vec!["true".into()], ..Cond::default() });
        criteria.insert("service.archived", Cond { eq: vec!["false".into()], ..Cond::default() });
        if own_only {
            criteria.insert("accountId", Cond { eq: vec![job.account.clone()], ..Cond::default() });
        }
        let failed = |e: RegionError, sent: &crate::fanout::WriteSent| {
            let mut r = RegionReport::failed(region, e);
            r.detector_id = Some(id.clone());
            mark_unknown(&mut r, sent);
            r
        };
        let (ids, enabled) =
            futures::join!(samples_only(&job.client, &id, &criteria), enabled(&job.client, &id));
        let (ids, watched) = match (ids, enabled) {
            (Ok(ids), Ok(on)) => (ids, on),
            (Err(e), _) | (_, Err(e)) => return failed(e, &job.sent),
        };
        let n = ids.len() as u64;
        let outcome = if n == 0 { Outcome::Unchanged } else { Outcome::Updated };
        let mut r = RegionReport::new(region, outcome);
        r.detector_id = Some(id.clone());
        let plural = if n == 1 { "" } else { "s" };
        r.note = Some(match (n, dry_run) {
            (0, _) => "no sample findings".to_string(),
            (n, true) => format!("would archive {n} sample finding{plural}"),
            (n, false) => format!("archived {n} sample finding{plural}"),
        });
        if !dry_run && n > 0 {
            if let Err(e) = calls::archive(&job.client, &id, &ids, &job.sent).await {
                return failed(e, &job.sent);
            }
        }
        r.findings = Some(RegionFindings { watched, samples: Some(n), ..Default::default() });
        r
    })
    .await
}

/// Whether the region's detector is on (GetDetector).
async fn enabled(client: &Client, detector: &str) -> Result<bool, RegionError> {
    client
        .get_detector()
        .detector_id(detector)
        .send()
        .await
        .map(|d| d.status() == Some(&DetectorStatus::Enabled))
        .map_err(|e| calls::denied("GetDetector", RegionError::from_sdk(&e)))
}

/// The sample findings' ids, each read back (GetFindings) and kept only if
/// it says it is a sample.
async fn samples_only(
    client: &Client,
    detector: &str,
    criteria: &Criteria,
) -> Result<Vec<String>, RegionError> {
    let ids = calls::sample_ids(client, detector, criteria).await?;
    let checked =
        try_join_all(ids.chunks(BATCH).map(|batch| calls::samples_among(client, detector, batch))).await?;
    Ok(checked.into_iter().flatten().collect())
}

/// The region's detector id; `None` without one.
async fn detector(job: &Job) -> Result<Option<String>, RegionError> {
    let found = observe(&job.client, false).await.map_err(|e| calls::denied("ListDetectors", e))?;
    Ok(found.into_iter().next().map(|d| d.id))
}

fn unwatched(region: &str, note: &str) -> RegionReport {
    let mut r = RegionReport::new(region, Outcome::NotEnabled);
    r.status = Some(State::NotEnabled);
    r.note = Some(note.into());
    r.findings = Some(RegionFindings::default());
    r
}

#[cfg(test)]
mod tests {
    use aws_sdk_guardduty::operation::get_findings_statistics::GetFindingsStatisticsOutput;
    use aws_sdk_guardduty::operation::list_members::ListMembersOutput;
    use aws_sdk_guardduty::types::{AccountStatistics, FindingStatistics, Member};
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::mocks::client;

    fn accounts_named(
        req: &aws_sdk_guardduty::operation::get_findings_statistics::GetFindingsStatisticsInput,
    ) -> usize {
        req.finding_criteria()
            .and_then(|c| c.criterion())
            .and_then(|c| c.get("accountId"))
            .map_or(0, |c| c.equals().len())
    }

    fn grouped(ids: impl Iterator<Item = String>) -> GetFindingsStatisticsOutput {
        let groups = ids.map(|id| AccountStatistics::builder().account_id(id).total_findings(1).build());
        GetFindingsStatisticsOutput::builder()
            .finding_statistics(
                FindingStatistics::builder().set_grouped_by_account(Some(groups.collect())).build(),
            )
            .build()
    }

    #[tokio::test]
    async fn past_a_hundred_accounts_each_is_asked_about_fifty_at_a_time_and_none_is_dropped() {
        // Without an account criterion the answer is full: 100 groups, no next page.
        let full = mock!(Client::get_findings_statistics)
            .match_requests(|req| accounts_named(req) == 0)
            .then_output(|| grouped((0..100).map(|i| format!("{:012}", 200_000_000_000u64 + i))));
        let chunked = mock!(Client::get_findings_statistics)
            .match_requests(|req| (1..=BATCH).contains(&accounts_named(req)))
            .then_output(|| grouped(["111111111111".to_string()].into_iter()));
        let members = mock!(Client::list_members).then_output(|| {
            let m = (0..130).map(|i| {
                Member::builder()
                    .account_id(format!("{:012}", 200_000_000_000u64 + i))
                    .relationship_status("Enabled")
                    .build()
            });
            ListMembersOutput::builder().set_members(Some(m.collect())).build()
        });
        let c = client(&[&full, &chunked, &members]);
        let view =
            accounts_view(&c, "d", &Query::default(), Band::Medium, "111111111111").await.unwrap().unwrap();
        assert_eq!(full.num_calls(), 1);
        // 131 accounts (its own and 130 members) in 3 chunks, for each of 3 bands.
        assert_eq!(chunked.num_calls(), 9);
        assert_eq!(view["111111111111"], BandCounts { critical: 3, high: 3, medium: 3, low: 0 });
    }

    #[tokio::test]
    async fn an_account_alone_with_its_findings_needs_one_call() {
        let own = mock!(Client::get_findings_statistics)
            .then_output(|| grouped(["111111111111".to_string()].into_iter()));
        let c = client(&[&own]);
        assert_eq!(accounts_view(&c, "d", &Query::default(), Band::Low, "111111111111").await.unwrap(), None);
        assert_eq!(own.num_calls(), 1);
    }
}
