//! `gdctl disable`: delete (or with --suspend, suspend) every target region's detector.

use crate::cli::DisableArgs;
use crate::converge::converge_seen;
use crate::detectors::observe;
use crate::error::{RegionError, SetupError};
use crate::output::Printer;
use crate::plan::{Desired, Outcome};
use crate::prompt;
use crate::report::{RegionReport, Report};

use super::{Context, Job};

pub async fn run(
    ctx: &Context<'_>,
    args: &DisableArgs,
    printer: &mut Printer<'_>,
) -> Result<Report, SetupError> {
    let only_tagged = args.only_tagged.clone();
    let desired =
        &if args.suspend { Desired::Suspended { only_tagged } } else { Desired::Deleted { only_tagged } };
    let work = |dry_run| {
        move |job: Job| async move {
            let existing = match observe(&job.client, desired.needs_details()).await {
                Ok(d) => d,
                Err(e) => return RegionReport::failed(&job.region, e),
            };
            // After the question: only the detector it showed may go.
            if let Some(shown) = &job.shown {
                if let Some(other) = existing.iter().find(|d| Some(&d.id) != shown.detector_id.as_ref()) {
                    let e = RegionError::new(
                        "ChangedSinceAsked",
                        format!("detector {} was not shown in the question: left alone; run again", other.id),
                    );
                    return RegionReport::failed(&job.region, e);
                }
            }
            converge_seen(&job.client, &job.region, desired, dry_run, &job.sent, existing).await
        }
    };
    // Deleting destroys findings: a person at a terminal sees what will go and
    // says yes first. Without a terminal (CI) there is nobody to ask.
    if matches!(desired, Desired::Deleted { .. }) {
        let deletes = |r: &RegionReport| r.outcome == Outcome::Deleted;
        ctx.each_region_confirmed(
            "disable",
            (args.yes, args.dry_run),
            printer,
            work,
            deletes,
            prompt::deletion,
        )
        .await
    } else {
        Ok(ctx.each_region("disable", args.dry_run, Some(printer), work(args.dry_run)).await)
    }
}
