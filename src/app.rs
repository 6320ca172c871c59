//! The run from parsed flags to exit code: session, regions, command, report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{Cli, Command, DisableArgs, OutputFormat, StatusArgs};
use crate::commands::{disable, enable, status, Context};
use crate::error::SetupError;
use crate::features::Wanted;
use crate::output::Printer;
use crate::plan::Desired;
use crate::regions;
use crate::session::Session;

/// A command with its input checked.
enum Intent<'a> {
    Enable(Desired, bool),
    Disable(&'a DisableArgs),
    Status(&'a StatusArgs, Option<Wanted>),
}

pub async fn run(cli: &Cli, out: &mut dyn Write, color: bool) -> Result<ExitCode, SetupError> {
    let g = &cli.global;
    // Everything the user typed is checked before the first call.
    let intent = match &cli.command {
        Command::Enable(args) => Intent::Enable(enable::desired(args)?, args.dry_run),
        Command::Disable(args) => Intent::Disable(args),
        Command::Status(args) => Intent::Status(args, status::wanted_features(args)?),
    };
    let session = Session::load(g).await?;
    let home = &session.home_region;
    // Side by side: naming the account costs no extra round trip.
    let ec2 = session.ec2();
    let (account, described) = tokio::join!(session.account(), regions::describe(&ec2));
    let setup_failed =
        |call: &'static str, service: &str, error: crate::error::RegionError| SetupError::Call {
            call,
            region: home.clone(),
            error: Box::new(error.at(&session.endpoint(service, home), session.timeout)),
        };
    let account = account.map_err(|e| setup_failed("GetCallerIdentity", "sts", e.about_credentials()))?;
    if !g.expect_account.is_empty() && !g.expect_account.contains(&account) {
        return Err(SetupError::WrongAccount { actual: account, expected: g.expect_account.clone() });
    }
    let described = described.map_err(|e| setup_failed("DescribeRegions", "ec2", e))?;
    let selection = regions::select(&described, home, &g.regions, &g.exclude_regions)?;

    let mut printer = Printer::new(out, g.output, color);
    let ctx = Context { session: &session, account: &account, selection: &selection, global: g };
    let report = match &intent {
        Intent::Enable(desired, dry_run) => enable::run(&ctx, desired, *dry_run, &mut printer).await,
        Intent::Disable(args) => disable::run(&ctx, args, &mut printer).await?,
        Intent::Status(args, features) => status::run(&ctx, args, features.as_ref(), &mut printer).await,
    };
    match printer.finish(&report) {
        Ok(()) => Ok(report.exit_code()),
        // A report nobody could read (a closed pipe, a full disk) is no success.
        Err(e) => {
            eprintln!(
                "gdctl: error: could not write the report to stdout: {}",
                crate::error::plain_chain(&e)
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Colour only for a person at a terminal, and never with NO_COLOR set.
pub fn use_color(format: OutputFormat, stream_is_terminal: bool) -> bool {
    format == OutputFormat::Text
        && stream_is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}
