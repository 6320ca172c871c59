//! `gdctl enable`: converge every target region to "GuardDuty on".

use crate::cli::EnableArgs;
use crate::converge::converge;
use crate::output::Printer;
use crate::plan::Desired;
use crate::report::Report;

use super::Context;

pub async fn run(ctx: &Context<'_>, args: &EnableArgs, printer: &mut Printer<'_>) -> Report {
    let desired = Desired::Enabled {
        frequency: args.frequency,
    };
    let dry_run = args.dry_run;
    ctx.each_region(
        "enable",
        dry_run,
        Some(printer),
        |client, region| async move { converge(&client, &region, desired, dry_run).await },
    )
    .await
}
