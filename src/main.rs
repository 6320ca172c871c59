//! gdctl: turn AWS GuardDuty on, off, and check it, in every region at once.

mod app;
mod cli;
mod commands;
mod converge;
mod detectors;
mod error;
mod fanout;
mod features;
mod http;
mod output;
mod plan;
mod prompt;
mod regions;
mod report;
mod session;
mod tags;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version land here too, with exit code 0.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    init_tracing(cli.global.verbose);

    // One thread is plenty: the work is waiting on the network.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gdctl: error: could not start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let color = app::use_color(cli.global.output, app::stdout_is_terminal());
    let mut stdout = std::io::stdout().lock();
    match runtime.block_on(app::run(&cli, &mut stdout, color)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gdctl: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// -v: gdctl's own steps; -vv: every SDK request as well. RUST_LOG overrides.
fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let from_env = std::env::var_os("RUST_LOG").is_some();
    if verbose == 0 && !from_env {
        return;
    }
    let default = match verbose {
        0 | 1 => "gdctl=debug",
        _ => "gdctl=trace,aws_smithy_runtime=debug,aws_smithy_runtime_api=debug,aws_config=debug,aws_sdk_guardduty=debug,aws_sdk_ec2=debug",
    };
    let filter = if from_env { EnvFilter::from_default_env() } else { EnvFilter::new(default) };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(app::use_color(cli::OutputFormat::Text, std::io::stderr().is_terminal()))
        .init();
}
