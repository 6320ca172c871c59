//! `gdctl status`: read-only; each region's detector, state and frequency.

use crate::cli::StatusArgs;
use crate::detectors::observe;
use crate::output::Printer;
use crate::plan::{assess, Outcome};
use crate::report::{RegionReport, Report, State};

use super::Context;

pub async fn run(ctx: &Context<'_>, args: &StatusArgs, printer: &mut Printer<'_>) -> Report {
    let (check, want) = (args.check, args.frequency);
    ctx.each_region(
        "status",
        false,
        Some(printer),
        |client, region| async move {
            let existing = match observe(&client, true).await {
                Ok(d) => d,
                Err(e) => return RegionReport::failed(&region, e),
            };
            let a = assess(&existing, want);
            let mut r = RegionReport::new(&region, a.outcome);
            let first = existing.iter().find(|d| d.enabled).or(existing.first());
            r.detector_id = first.map(|d| d.id.clone());
            r.frequency = first.and_then(|d| d.frequency.clone());
            r.status = Some(match a.outcome {
                Outcome::Enabled => State::Enabled,
                Outcome::Suspended => State::Suspended,
                _ => State::NotEnabled,
            });
            r.in_line = check.then_some(a.in_line);
            r
        },
    )
    .await
}
