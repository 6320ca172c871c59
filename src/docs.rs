//! Text about gdctl itself, generated from the one definition of its flags:
//! shell completion scripts (clap_complete) and the man page (clap_mangen).

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gdctl", &mut out);
    write_out(&out)
}

pub fn man() -> ExitCode {
    let mut out = Vec::new();
    let page = clap_mangen::Man::new(Cli::command());
    // Each subcommand's flags too (`org`'s own subcommands included): one
    // page covers the whole tool.
    let written = page.render(&mut out).and_then(|_| sections(&mut out, &Cli::command(), "GDCTL"));
    match written {
        Ok(()) => write_out(&out),
        Err(e) => {
            eprintln!("gdctl: error: could not render the man page: {e}");
            ExitCode::FAILURE
        }
    }
}

fn sections(out: &mut Vec<u8>, parent: &clap::Command, prefix: &str) -> std::io::Result<()> {
    for sub in parent.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        let title = format!("{prefix} {}", sub.get_name().to_uppercase());
        writeln!(out, ".SH \"{title}\"")?;
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            writeln!(out, "{}", about.to_string().replace('\n', " ").replace('\\', "\\\\"))?;
        }
        clap_mangen::Man::new(sub.clone()).render_options_section(out)?;
        sections(out, sub, &title)?;
    }
    Ok(())
}

fn write_out(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gdctl: error: could not write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}
