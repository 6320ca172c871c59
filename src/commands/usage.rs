//! `gdctl usage`: what GuardDuty cost over its last 30 days, per region (and
//! account), by plan, account or resource, with a budget gate.

use crate::cli::UsageArgs;
use crate::detectors::observe;
use crate::error::RegionError;
use crate::output::Printer;
use crate::plan::Outcome;
use crate::report::{RegionReport, Report, State};
use crate::usage::calls;
use crate::usage::plan::{over_budget, By, RegionUsage, UsageTotals, Usd};

use super::{Accounts, Context, Job};

pub async fn run(
    ctx: &Context<'_>,
    args: &UsageArgs,
    max_usd: Option<Usd>,
    printer: &mut Printer<'_>,
) -> Report {
    let (by, per_region) = (args.by, args.per_region);
    // An administrator's members are its own view's only when it runs alone:
    // with many accounts each reports its own, and members would count twice.
    let members = matches!(ctx.accounts, Accounts::One(_));
    printer.hold_ranked();
    let mut report = ctx
        .each_region("usage", false, Some(printer), |job: Job| async move {
            let mut r = region(&job, by, members).await;
            if let (Some(max), true, Some(u)) = (max_usd, per_region, &r.usage) {
                let (over, _) = over_budget(max, true, &[u.total]);
                r.in_line = Some(!over);
                if over {
                    r.out_of_line = vec![format!("cost ${} over --max-usd ${max}", u.total)];
                }
            }
            r
        })
        .await;
    let s = &report.summary;
    let complete = s.failed == 0 && s.not_started == 0 && s.accounts_failed == 0;
    let totals = report.summary.usage.get_or_insert_with(UsageTotals::default);
    totals.complete = complete;
    if let Some(max) = max_usd {
        let regions: Vec<Usd> =
            report.regions.iter().filter_map(|r| r.usage.as_ref().map(|u| u.total)).collect();
        let totals = report.summary.usage.get_or_insert_with(UsageTotals::default);
        totals.max_usd = Some(max);
        totals.over_budget = Some(over_budget(max, per_region, &regions).0);
        totals.per_region = per_region;
    }
    report
}

/// One region's cost; a region without a detector is not watched (no usage), never $0.
async fn region(job: &Job, by: By, members: bool) -> RegionReport {
    let (client, region) = (&job.client, job.region.as_str());
    let detector = match observe(client, false).await {
        Ok(d) => d.into_iter().next(),
        Err(e) => return RegionReport::failed(region, e),
    };
    let Some(detector) = detector else {
        let mut r = RegionReport::new(region, Outcome::NotEnabled);
        r.note = Some("not watched, so no usage".into());
        return r;
    };
    let id = detector.id.as_str();
    let breakdown = async {
        match by {
            By::Plan => calls::by_plan(client, id).await.map(|items| (items, None)),
            By::Account => {
                // An administrator's members too; any other account has none.
                let mut ids = vec![job.account.clone()];
                if members {
                    let listed = crate::organization::members(client, id).await?;
                    ids.extend(listed.into_iter().filter(|(_, s)| s == "Enabled").map(|(m, _)| m));
                }
                calls::by_account(client, id, &ids).await.map(|items| (items, None))
            }
            By::Resource => {
                // The top resources are not the whole: the plans give the total.
                let (top, plans) =
                    futures::join!(calls::top_resources(client, id), calls::by_plan(client, id));
                Ok::<_, RegionError>((top?, Some(plans?.into_iter().map(|(_, usd)| usd).sum())))
            }
        }
    };
    // Whether it is on (a suspended detector's cost still counts), beside the rest.
    let status = async {
        let d = client.get_detector().detector_id(id).send().await.map_err(|e| RegionError::from_sdk(&e))?;
        Ok::<_, RegionError>(d.status() == Some(&aws_sdk_guardduty::types::DetectorStatus::Enabled))
    };
    let (breakdown, trial, enabled) =
        futures::join!(breakdown, calls::free_trial_days(client, id, &job.account), status);
    let ((items, total), trial, enabled) = match (breakdown, trial, enabled) {
        (Ok(b), Ok(t), Ok(on)) => (b, t, on),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return RegionReport::failed(region, e),
    };
    let mut usage = RegionUsage::new(by, items, total);
    usage.free_trial_days = trial;
    let (outcome, state) = match enabled {
        true => (Outcome::Enabled, State::Enabled),
        false => (Outcome::Suspended, State::Suspended),
    };
    let mut r = RegionReport::new(region, outcome);
    r.status = Some(state);
    r.detector_id = Some(detector.id);
    r.usage = Some(usage);
    r
}
