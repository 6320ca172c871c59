//! `gdctl status`: read-only; each region's detector, state and frequency.

use crate::cli::StatusArgs;
use crate::detectors::observe;
use crate::error::SetupError;
use crate::features::{self, Wanted};
use crate::output::Printer;
use crate::plan::{assess, Outcome};
use crate::report::{RegionReport, Report, State};

use super::{Context, Job};

/// The features `--check --features` requires, checked before any call.
pub fn wanted_features(args: &StatusArgs) -> Result<Option<Wanted>, SetupError> {
    features::requested(args.features.as_ref(), &args.runtime_agents).map_err(SetupError::Invalid)
}

pub async fn run(
    ctx: &Context<'_>,
    args: &StatusArgs,
    want_features: Option<&Wanted>,
    printer: &mut Printer<'_>,
) -> Report {
    let (check, want) = (args.check, args.frequency);
    ctx.each_region("status", false, Some(printer), |job: Job| async move {
        let region = job.region;
        let existing = match observe(&job.client, true).await {
            Ok(d) => d,
            Err(e) => return RegionReport::failed(&region, e),
        };
        let a = assess(&existing, want, want_features);
        let mut r = RegionReport::new(&region, a.outcome);
        let first = existing.iter().find(|d| d.enabled).or(existing.first());
        r.detector_id = first.map(|d| d.id.clone());
        r.frequency = first.and_then(|d| d.frequency.clone());
        r.features = first.map(|d| d.features.clone());
        r.status = Some(match a.outcome {
            Outcome::Enabled => State::Enabled,
            Outcome::Suspended => State::Suspended,
            _ => State::NotEnabled,
        });
        if check {
            r.in_line = Some(a.out_of_line.is_empty());
            r.out_of_line = a.out_of_line;
        }
        r
    })
    .await
}
