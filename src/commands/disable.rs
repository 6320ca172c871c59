//! `gdctl disable`: delete (or with --suspend, suspend) every target region's detector.

use std::io::IsTerminal;
use std::rc::Rc;

use crate::cli::DisableArgs;
use crate::converge::converge;
use crate::error::SetupError;
use crate::fanout::WriteSent;
use crate::output::Printer;
use crate::plan::{Desired, Outcome};
use crate::prompt;
use crate::report::Report;

use super::Context;

pub async fn run(
    ctx: &Context<'_>,
    args: &DisableArgs,
    printer: &mut Printer<'_>,
) -> Result<Report, SetupError> {
    let only_tagged = args.only_tagged.clone();
    let desired =
        &if args.suspend { Desired::Suspended { only_tagged } } else { Desired::Deleted { only_tagged } };
    let dry_run = args.dry_run;
    let work = |dry_run| {
        move |client, region: String, sent: Rc<WriteSent>| async move {
            converge(&client, &region, desired, dry_run, &sent).await
        }
    };

    // Deleting destroys findings: a person at a terminal sees what will go and
    // says yes first. Without a terminal (CI) there is nobody to ask.
    if matches!(desired, Desired::Deleted { .. }) && !dry_run && !args.yes && std::io::stdin().is_terminal() {
        let preview = ctx.each_region("disable", true, None, work(true)).await;
        let doomed: Vec<prompt::Doomed> = preview
            .regions
            .iter()
            .filter(|r| r.outcome == Outcome::Deleted)
            .map(|r| prompt::Doomed {
                account: r.account.clone(),
                region: r.region.clone(),
                detector: r.detector_id.clone().unwrap_or_default(),
            })
            .collect();
        if !doomed.is_empty() {
            let stdin = std::io::stdin();
            let confirmed = prompt::confirm_deletion(&doomed, &mut stdin.lock(), &mut std::io::stderr())
                .map_err(SetupError::Prompt)?;
            if !confirmed {
                return Err(SetupError::Declined);
            }
        }
    }

    Ok(ctx.each_region("disable", dry_run, Some(printer), work(dry_run)).await)
}
