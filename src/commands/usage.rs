//! `gdctl usage`: what GuardDuty cost over its last 30 days, per region (and
//! account), by plan, account or resource, with a budget gate.

use crate::cli::UsageArgs;
use crate::detectors::observe;
use crate::error::RegionError;
use crate::output::Printer;
use crate::plan::Outcome;
use crate::report::{RegionReport, Report};
use crate::usage::calls;
use crate::usage::plan::{over_budget, By, RegionUsage, UsageTotals, Usd};

use super::{Context, Job};

pub async fn run(
    ctx: &Context<'_>,
    args: &UsageArgs,
    max_usd: Option<Usd>,
    printer: &mut Printer<'_>,
) -> Report {
    let (by, per_region) = (args.by, args.per_region);
    printer.sort_by_cost();
    let mut report = ctx
        .each_region("usage", false, Some(printer), |job: Job| async move {
            let mut r = region(&job, by).await;
            if let (Some(max), true, Some(u)) = (max_usd, per_region, &r.usage) {
                let (over, _) = over_budget(max, true, &[u.total]);
                r.in_line = Some(!over);
                if over {
                    r.out_of_line = vec![format!("cost {} over --max-usd {}", u.total.cents(), max.cents())];
                }
            }
            r
        })
        .await;
    if let Some(max) = max_usd {
        let regions: Vec<Usd> =
            report.regions.iter().filter_map(|r| r.usage.as_ref().map(|u| u.total)).collect();
        let totals = report.summary.usage.get_or_insert_with(UsageTotals::default);
        totals.max_usd = Some(max);
        totals.over_budget = Some(over_budget(max, per_region, &regions).0);
    }
    report
}

/// One region's cost; a region without a detector is not watched (no usage), never $0.
async fn region(job: &Job, by: By) -> RegionReport {
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
                let members = crate::organization::members(client, id).await?;
                let mut ids = vec![job.account.clone()];
                ids.extend(members.into_iter().filter(|(_, s)| s == "Enabled").map(|(m, _)| m));
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
    let (breakdown, trial) = futures::join!(breakdown, calls::free_trial_days(client, id, &job.account));
    let ((items, total), trial) = match (breakdown, trial) {
        (Ok(b), Ok(t)) => (b, t),
        (Err(e), _) | (_, Err(e)) => return RegionReport::failed(region, e),
    };
    let mut usage = RegionUsage::new(by, items, total);
    usage.free_trial_days = trial;
    let mut r = RegionReport::new(region, Outcome::Enabled);
    r.detector_id = Some(detector.id);
    r.usage = Some(usage);
    r
}
