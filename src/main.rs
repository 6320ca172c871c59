//! gdctl: turn AWS GuardDuty on, off, and check it, in every region at once.

mod accounts;
mod app;
mod cli;
mod commands;
mod converge;
mod detectors;
mod docs;
mod error;
mod export;
mod fanout;
mod features;
mod filters;
mod findings;
mod http;
mod iam;
mod identity;
mod interrupt;
mod limits;
mod lists;
#[cfg(test)]
mod mocks;
mod org_plan;
mod organization;
mod output;
mod plan;
mod process;
mod prompt;
mod regions;
mod report;
mod session;
mod settings;
mod settings_file;
mod tags;
mod usage;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::FromArgMatches;

// glibc's malloc was a quarter of gdctl's instructions: the SDK allocates a lot
// per request. With mimalloc a 20-region run takes 17% fewer instructions
// (callgrind) and 3-4% less CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// With transparent huge pages set to "always" (common), mimalloc's first touch
// of an arena faults in whole 2 MB pages: +6 MB RSS and the kernel zeroing them,
// for a heap of a few hundred KB. This turns THP off for the process before
// mimalloc's own constructor (priority 101) and the first allocation, which is
// what mimalloc does itself when MIMALLOC_ALLOW_THP=0.
//
// It also looks at stdout before Rust's runtime does: that quietly opens
// /dev/null in place of a closed stdout (`>&-`), after which the report would
// vanish with exit 0.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array.00100"]
static BEFORE_MAIN: extern "C" fn() = {
    extern "C" fn before_main() {
        // Best effort: on failure the process only uses more memory.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
        STDOUT_CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }
    before_main
};

/// Whether stdout was closed when the process started.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() -> ExitCode {
    docs::complete_if_asked();
    let parsed =
        cli::command().try_get_matches().and_then(|m| cli::Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // --help and --version land here too, with exit code 0.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    init_tracing(cli.global.verbose);
    iam::set_running(&cli.command);
    // With stdout closed (`>&-`) the report would vanish and the exit code say
    // nothing of it: nothing is done instead.
    if STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("gdctl: error: standard output is closed, so no report could be written: nothing was done");
        return ExitCode::FAILURE;
    }
    // Text about gdctl itself: no AWS set-up, no runtime, so no flag of one.
    if let Some(flag) = cli::text_only_with_run_flag(&matches) {
        let name = matches.subcommand_name().unwrap_or_default();
        eprintln!("gdctl: error: {flag} does nothing for `gdctl {name}`, which calls nothing: drop it");
        return ExitCode::from(2);
    }
    match &cli.command {
        cli::Command::Completions { shell } => return docs::completions(*shell),
        cli::Command::Man { dir } => return docs::man(dir.as_deref()),
        cli::Command::IamPolicy(args) => return iam::print(args),
        _ => {}
    }

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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    // The constructor is linked into this test binary as into gdctl's.
    #[test]
    fn huge_pages_are_off_before_main() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("THP_enabled:")).unwrap();
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}
