//! The run from parsed flags to exit code: session, regions, command, report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{Cli, Command, OutputFormat};
use crate::commands::{disable, enable, status, Context};
use crate::error::SetupError;
use crate::output::Printer;
use crate::regions;
use crate::session::Session;

pub async fn run(cli: &Cli, out: &mut dyn Write, color: bool) -> Result<ExitCode, SetupError> {
    let g = &cli.global;
    let session = Session::load(g).await?;
    let home = &session.home_region;
    let described =
        regions::describe(&session.ec2())
            .await
            .map_err(|error| SetupError::DescribeRegions {
                region: home.clone(),
                error,
            })?;
    let selection = regions::select(&described, home, &g.regions, &g.exclude_regions)?;

    let mut printer = Printer::new(out, g.output, color);
    let ctx = Context {
        session: &session,
        selection: &selection,
        global: g,
    };
    let report = match &cli.command {
        Command::Enable(args) => enable::run(&ctx, args, &mut printer).await,
        Command::Disable(args) => disable::run(&ctx, args, &mut printer).await?,
        Command::Status(args) => status::run(&ctx, args, &mut printer).await,
    };
    match printer.finish(&report) {
        Ok(()) => Ok(report.exit_code()),
        // A reader that went away (`| head`) is not our failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(report.exit_code()),
        Err(e) => {
            eprintln!("gdctl: error: could not write the report: {e}");
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
