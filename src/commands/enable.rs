//! `gdctl enable`: converge every target region to "GuardDuty on".

use crate::cli::EnableArgs;
use crate::converge::converge;
use crate::error::SetupError;
use crate::features;
use crate::output::Printer;
use crate::plan::Desired;
use crate::report::Report;
use crate::tags;

use super::{Context, Job};

/// What `enable` will converge to, checked before any call is made.
pub fn desired(args: &EnableArgs) -> Result<Desired, SetupError> {
    let features =
        features::requested(args.features.as_ref(), &args.runtime_agents).map_err(SetupError::Invalid)?;
    let tags = tags::collect(&args.tags).map_err(SetupError::Invalid)?;
    Ok(Desired::Enabled { frequency: args.frequency, features, tags })
}

pub async fn run(ctx: &Context<'_>, desired: &Desired, dry_run: bool, printer: &mut Printer<'_>) -> Report {
    ctx.each_region("enable", dry_run, Some(printer), |job: Job| async move {
        converge(&job.client, &job.region, desired, dry_run, &job.sent).await
    })
    .await
}
