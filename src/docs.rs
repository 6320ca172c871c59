//! Text about gdctl itself, generated from the one definition of its flags:
//! shell completion scripts (clap_complete) and the man page (clap_mangen).

use std::io::Write;
use std::process::ExitCode;

/// The variable under which the shell asks gdctl for completions: gdctl's
/// own, so that a `COMPLETE` set for another tool changes nothing here.
pub const COMPLETE_VAR: &str = "GDCTL_COMPLETE";

/// When the shell asks (GDCTL_COMPLETE set, and the words after `--`, as
/// every completion script passes them): print the candidates and exit.
/// Otherwise nothing: a variable left set never turns a run into a no-op.
pub fn complete_if_asked() {
    if std::env::var_os(COMPLETE_VAR).is_some() && std::env::args_os().nth(1).is_some_and(|a| a == "--") {
        clap_complete::CompleteEnv::with_factory(crate::cli::command).var(COMPLETE_VAR).complete();
    }
}

/// The shell's registration script. It runs `gdctl` at TAB time, so that
/// every item of a comma list is completed (`--features s3-data-events,eb`),
/// which a static script cannot do.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
    let completer: &dyn EnvCompleter = match shell {
        clap_complete::Shell::Bash => &Bash,
        clap_complete::Shell::Zsh => &Zsh,
        clap_complete::Shell::Fish => &Fish,
        clap_complete::Shell::PowerShell => &Powershell,
        clap_complete::Shell::Elvish => &Elvish,
        _ => &Bash,
    };
    let mut out = Vec::new();
    if let Err(e) = completer.write_registration(COMPLETE_VAR, "gdctl", "gdctl", "gdctl", &mut out) {
        eprintln!("gdctl: error: could not write the completion script: {e}");
        return ExitCode::FAILURE;
    }
    write_out(&out)
}

/// gdctl(1) on stdout; with `dir`, gdctl(1) and one page per subcommand
/// (gdctl-enable(1), gdctl-org-enable(1), ...) written there, their paths said.
pub fn man(dir: Option<&std::path::Path>) -> ExitCode {
    let Some(dir) = dir else {
        let mut out = Vec::new();
        return match page(&mut out) {
            Ok(()) => write_out(&out),
            Err(e) => {
                eprintln!("gdctl: error: could not render the man page: {e}");
                ExitCode::FAILURE
            }
        };
    };
    match pages(dir) {
        Ok(paths) => {
            let list: Vec<String> = paths.iter().map(|p| format!("{}\n", p.display())).collect();
            write_out(list.concat().as_bytes())
        }
        Err(e) => {
            eprintln!(
                "gdctl: error: could not write the man pages to {}: {}",
                dir.display(),
                crate::error::plain_chain(&e)
            );
            ExitCode::FAILURE
        }
    }
}

/// gdctl.1, then a page per subcommand, as the subcommands' own section of
/// gdctl(1) names them.
fn pages(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    let mut main = Vec::new();
    page(&mut main)?;
    // As `install -d` would: the usual place (/usr/local/share/man/man1) may not be there yet.
    std::fs::create_dir_all(dir)?;
    write_page(&dir.join("gdctl.1"), &main, &mut written)?;
    let mut cmd = crate::cli::command().disable_help_subcommand(true);
    cmd.build();
    subpages(&cmd, "gdctl", "gdctl", dir, &mut written)?;
    Ok(written)
}

/// One page written; a failure names the file.
fn write_page(
    path: &std::path::Path,
    text: &[u8],
    written: &mut Vec<std::path::PathBuf>,
) -> std::io::Result<()> {
    std::fs::write(path, text)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    written.push(path.to_path_buf());
    Ok(())
}

fn subpages(
    parent: &clap::Command,
    prefix: &str,
    parent_bin: &str,
    dir: &std::path::Path,
    written: &mut Vec<std::path::PathBuf>,
) -> std::io::Result<()> {
    for sub in parent.get_subcommands().filter(|s| !s.is_hide_set()) {
        // clap takes names as &'static str; these live until gdctl exits a moment later.
        let name: &'static str = Box::leak(format!("{prefix}-{}", sub.get_name()).into_boxed_str());
        let bin: &'static str = Box::leak(format!("{parent_bin} {}", sub.get_name()).into_boxed_str());
        let cmd = sub.clone().name(name).display_name(name).bin_name(bin).version(env!("CARGO_PKG_VERSION"));
        let text_only = crate::cli::TEXT_ONLY.contains(&sub.get_name()) && parent_bin == "gdctl";
        let page = clap_mangen::Man::new(cmd.clone());
        let mut out = Vec::new();
        page.render_title(&mut out)?;
        page.render_name_section(&mut out)?;
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)?;
        if cmd.get_subcommands().next().is_some() {
            page.render_subcommands_section(&mut out)?;
        }
        examples(&mut out, name)?;
        if text_only {
            // Text about gdctl: nothing of AWS is read.
            out.extend_from_slice(TEXT_ONLY_EXIT_STATUS.as_bytes());
        } else {
            exit_status(&mut out)?;
            out.extend_from_slice(ENVIRONMENT.as_bytes());
            out.extend_from_slice(FILES.as_bytes());
        }
        out.extend_from_slice(SEE_ALSO.as_bytes());
        write_page(&dir.join(format!("{name}.1")), &out, written)?;
        subpages(sub, name, bin, dir, written)?;
    }
    Ok(())
}

const TEXT_ONLY_EXIT_STATUS: &str = ".SH \"EXIT STATUS\"\n.TP\n\\fB0\\fR\nprinted\n.TP\n\\fB1\\fR\n\
    the text could not be written\n.TP\n\\fB2\\fR\na bad argument, or a flag of a run against AWS (which this command would ignore)\n";

/// Each subcommand's page points to the one page that holds what is common.
const SEE_ALSO: &str = ".SH \"SEE ALSO\"\n\\fBgdctl\\fR(1): every command on one page.\n";

/// clap_mangen's page, each subcommand's flags too (`org`'s own
/// subcommands included: one page covers the whole tool), then what gdctl
/// reads besides its flags, then the version.
fn page(out: &mut Vec<u8>) -> std::io::Result<()> {
    // `gdctl help` has no page of its own: not listed as one.
    let cmd = crate::cli::command().disable_help_subcommand(true);
    let page = clap_mangen::Man::new(cmd.clone());
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    page.render_subcommands_section(out)?;
    sections(out, &cmd, "GDCTL")?;
    examples(out, "gdctl")?;
    exit_status(out)?;
    out.extend_from_slice(ENVIRONMENT.as_bytes());
    out.extend_from_slice(FILES.as_bytes());
    see_also(out, &cmd)?;
    page.render_version_section(out)
}

/// gdctl(1)'s SEE ALSO: every command's own page.
fn see_also(out: &mut Vec<u8>, cmd: &clap::Command) -> std::io::Result<()> {
    fn names(cmd: &clap::Command, prefix: &str, all: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
            let name = format!("{prefix}-{}", sub.get_name());
            all.push(format!("\\fB{}\\fR(1)", name.replace('-', "\\-")));
            names(sub, &name, all);
        }
    }
    let mut all = Vec::new();
    names(cmd, "gdctl", &mut all);
    // `.nh`: names whole, never hyphenated across lines.
    writeln!(out, ".SH \"SEE ALSO\"\n.nh\n{}\n.hy", all.join(", "))
}

/// Each page's examples: (what it does, the command line).
pub const EXAMPLES: &[(&str, &[(&str, &str)])] = &[
    (
        "gdctl",
        &[
            (
                "Turn GuardDuty on in every region the account can use, findings published every 15 minutes.",
                "gdctl enable --frequency fifteen-minutes",
            ),
            (
                "Fail a CI job (exit 3) where a region is not watched at that frequency.",
                "gdctl status --check --frequency fifteen-minutes",
            ),
            ("Fail it where a high or critical finding is active.", "gdctl findings --check"),
            (
                "Converge a settings file in every region of every account of the organization.",
                "gdctl apply guardduty.toml --org",
            ),
        ],
    ),
    (
        "gdctl-enable",
        &[
            (
                "Every region, findings published every 15 minutes.",
                "gdctl enable --frequency fifteen-minutes",
            ),
            (
                "Only two protection plans, showing what would change first.",
                "gdctl enable --features s3-data-events,eks-audit-logs --dry-run",
            ),
            (
                "Two accounts, through the role gdctl assumes in each.",
                "gdctl enable --accounts 111111111111,222222222222 --role-name security/gdctl",
            ),
            ("Tag every detector.", "gdctl enable --tag team=security"),
        ],
    ),
    (
        "gdctl-disable",
        &[
            ("Suspend GuardDuty everywhere, keeping its findings.", "gdctl disable --suspend"),
            (
                "Delete one region's detector without the question (in CI).",
                "gdctl disable --regions eu-west-1 --yes --expect-account 123456789012",
            ),
            (
                "Delete only the detectors tagged as a test's.",
                "gdctl disable --only-tagged purpose=test --dry-run",
            ),
        ],
    ),
    (
        "gdctl-status",
        &[
            ("Each region's detector.", "gdctl status"),
            (
                "Exit 3 where a region is not enabled at 15 minutes.",
                "gdctl status --check --frequency fifteen-minutes",
            ),
            ("The same as JSON, for a script.", "gdctl status --output json"),
        ],
    ),
    (
        "gdctl-usage",
        &[
            ("Cost over the last 30 days by protection plan.", "gdctl usage --by plan"),
            ("Exit 3 if the total is above 250 USD.", "gdctl usage --check --max-usd 250"),
        ],
    ),
    (
        "gdctl-findings",
        &[
            ("Active findings counted by severity in every region.", "gdctl findings"),
            (
                "The 20 most severe high or critical findings across every region.",
                "gdctl findings --list --limit 20 --severity high",
            ),
            ("Exit 3 on any active critical finding.", "gdctl findings --check --fail-on critical"),
            (
                "Exit 3 on a high finding older than a day or a medium one older than a week.",
                "gdctl findings --max-age high=1d,medium=7d",
            ),
        ],
    ),
    (
        "gdctl-findings-sample",
        &[(
            "Sample findings in one region, to test what reads them.",
            "gdctl findings sample --regions us-east-1",
        )],
    ),
    (
        "gdctl-findings-archive",
        &[("Archive the sample findings again (never real ones).", "gdctl findings archive --samples")],
    ),
    (
        "gdctl-apply",
        &[
            ("What would change in every region.", "gdctl apply guardduty.toml --dry-run"),
            ("Make every region match the file.", "gdctl apply guardduty.toml"),
            ("Exit 3 where a region differs from the file.", "gdctl apply guardduty.toml --check"),
        ],
    ),
    (
        "gdctl-org",
        &[
            (
                "Name the delegated administrator and enrol every account.",
                "gdctl org enable --admin-account 111111111111 --auto-enable all",
            ),
            (
                "Exit 3 where a region's organization set-up differs.",
                "gdctl org status --check --admin-account 111111111111 --auto-enable all",
            ),
        ],
    ),
    (
        "gdctl-org-enable",
        &[
            (
                "Name the delegated administrator and enrol every account, in every region.",
                "gdctl org enable --admin-account 111111111111 --auto-enable all",
            ),
            (
                "Only new accounts are enrolled automatically; show the plan first.",
                "gdctl org enable --admin-account 111111111111 --auto-enable new --dry-run",
            ),
        ],
    ),
    (
        "gdctl-org-status",
        &[
            ("Each region's administrator, auto-enable and members.", "gdctl org status"),
            (
                "Exit 3 where a region's set-up differs.",
                "gdctl org status --check --admin-account 111111111111 --auto-enable all",
            ),
        ],
    ),
    (
        "gdctl-org-disable",
        &[(
            "Remove the delegated administrator in every region.",
            "gdctl org disable --admin-account 111111111111",
        )],
    ),
    (
        "gdctl-iam-policy",
        &[
            ("The policy for running status with one's own credentials.", "gdctl iam-policy status"),
            (
                "The policy for the role gdctl assumes in each other account.",
                "gdctl iam-policy enable disable status --role",
            ),
            ("The delegated administrator's side of gdctl org.", "gdctl iam-policy org --role"),
        ],
    ),
    (
        "gdctl-completions",
        &[
            ("bash.", "gdctl completions bash > ~/.local/share/bash-completion/completions/gdctl"),
            ("fish.", "gdctl completions fish > ~/.config/fish/completions/gdctl.fish"),
        ],
    ),
    ("gdctl-man", &[("This page and every command's.", "gdctl man --dir /usr/local/share/man/man1")]),
];

fn examples(out: &mut Vec<u8>, page: &str) -> std::io::Result<()> {
    let Some((_, list)) = EXAMPLES.iter().find(|(p, _)| *p == page) else { return Ok(()) };
    writeln!(out, ".SH EXAMPLES")?;
    for (what, line) in *list {
        writeln!(out, ".TP\n{}\n.EX\n{}\n.EE", roff(what), roff(line))?;
    }
    Ok(())
}

fn exit_status(out: &mut Vec<u8>) -> std::io::Result<()> {
    writeln!(out, ".SH \"EXIT STATUS\"")?;
    for (code, when) in crate::cli::EXIT_CODES {
        writeln!(out, ".TP\n\\fB{}\\fR\n{}", code, roff(when))?;
    }
    Ok(())
}

/// Text as roff shows it: backslashes and dashes escaped, no line taken for a request.
fn roff(text: &str) -> String {
    let text = text.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}

/// Every variable gdctl reads, itself or through the SDK's credential chain.
// `.nh`: no hyphenation, so that every name stays whole (and can be searched for).
const ENVIRONMENT: &str = r#".SH ENVIRONMENT
.nh
The flags override the variables; the variables override the profile.
.TP
\fBAWS_PROFILE\fR
The profile to use when \fB\-\-profile\fR is not given (else \fBdefault\fR).
.TP
\fBAWS_REGION\fR, \fBAWS_DEFAULT_REGION\fR
The home region when \fB\-\-region\fR is not given, in this order; then the profile's \fBregion\fR.
.TP
\fBAWS_ACCESS_KEY_ID\fR, \fBAWS_SECRET_ACCESS_KEY\fR, \fBAWS_SESSION_TOKEN\fR
Credentials, used before \fBAWS_PROFILE\fR and the default profile; never in place of a profile named with \fB\-\-profile\fR.
.TP
\fBAWS_WEB_IDENTITY_TOKEN_FILE\fR, \fBAWS_ROLE_ARN\fR, \fBAWS_ROLE_SESSION_NAME\fR
Web identity: the credential chain's next source after the profiles.
.TP
\fBAWS_CONTAINER_CREDENTIALS_RELATIVE_URI\fR
.TQ
\fBAWS_CONTAINER_CREDENTIALS_FULL_URI\fR
A container's credentials: the chain's source after web identity, before the instance's.
.TP
\fBAWS_EC2_METADATA_DISABLED\fR
\fBtrue\fR: never ask the instance metadata service (for credentials or the region).
.TP
\fBAWS_CONFIG_FILE\fR, \fBAWS_SHARED_CREDENTIALS_FILE\fR
Where the config and credentials files are (see FILES). A file that is missing is no file; one that is there and cannot be read (a directory, no permission, not UTF\-8) is an error naming it (exit 2).
.TP
\fBAWS_ENDPOINT_URL\fR, \fBAWS_ENDPOINT_URL_STS\fR, \fBAWS_ENDPOINT_URL_EC2\fR, \fBAWS_ENDPOINT_URL_GUARDDUTY\fR, \fBAWS_ENDPOINT_URL_ORGANIZATIONS\fR
Where every service's, or one service's, calls go instead of AWS (the service's variable first; \fB\-\-endpoint\-url\fR overrides both for gdctl's own calls, the roles it assumes in other accounts included; a profile's own \fBrole_arn\fR goes where the aws CLI sends it). An http:// or https:// URL with a host and a port from 1 to 65535; one with a user name or password is refused (exit 2) and never printed.
.TP
\fBAWS_IGNORE_CONFIGURED_ENDPOINT_URLS\fR
\fBtrue\fR: ignore the endpoint variables and the profile's \fBendpoint_url\fR.
.TP
\fBAWS_MAX_ATTEMPTS\fR
Attempts per request, retries included, 1 to 20 (\fB\-\-max\-attempts\fR overrides; default 3).
.TP
\fBAWS_RETRY_MODE\fR
\fBstandard\fR (the default), \fBadaptive\fR or \fBlegacy\fR (read as standard).
.TP
\fBAWS_CA_BUNDLE\fR
A PEM file of certificates to trust besides the system's (a company's TLS\-inspecting proxy); else the profile's \fBca_bundle\fR.
.TP
\fBHTTPS_PROXY\fR, \fBHTTP_PROXY\fR, \fBALL_PROXY\fR (or \fBhttps_proxy\fR, \fBhttp_proxy\fR, \fBall_proxy\fR)
The proxy for https:// calls, for http:// calls, for both. Credentials in its URL are sent to it and never printed.
.TP
\fBNO_PROXY\fR (or \fBno_proxy\fR)
Hosts that bypass the proxy, comma separated: \fB*\fR for every host; a domain, for it and every host under it; an IP address or network (\fB10.0.0.0/8\fR); any of these with \fB:PORT\fR for that port only (\fB127.0.0.1:4566\fR).
.TP
\fBGDCTL_CONFIRM_TIMEOUT\fR
How long a question at the terminal (before a deletion or a removal) waits for its answer, in seconds (more than 0, at most 86400; default 300); with no answer by then nothing is changed.
.TP
\fBGDCTL_COMPLETE\fR
Set by the completion scripts (\fBgdctl completions\fR) when the shell asks gdctl for the words that can follow: gdctl prints them and does nothing else.
.TP
\fBNO_COLOR\fR
Set and not empty: no colour.
.TP
\fBTERM\fR
\fBdumb\fR: no colour.
.TP
\fBRUST_LOG\fR
A log filter for stderr (\fBgdctl=debug\fR), instead of the one \fB\-v\fR sets.
.TP
\fBHOME\fR
Where \fB~\fR is, in the files' paths.
"#;

const FILES: &str = r#".SH FILES
.TP
\fI~/.aws/config\fR
Profiles (\fB[profile NAME]\fR): \fBregion\fR, \fBrole_arn\fR with \fBsource_profile\fR or \fBcredential_source\fR, SSO, \fBcredential_process\fR, \fBendpoint_url\fR, \fBmax_attempts\fR, \fBretry_mode\fR, \fBca_bundle\fR. Moved by \fBAWS_CONFIG_FILE\fR.
.TP
\fI~/.aws/credentials\fR
Keys by profile (\fB[NAME]\fR). Moved by \fBAWS_SHARED_CREDENTIALS_FILE\fR.
.hy
"#;

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

/// Text on stdout; a reader that stops early (`| head`) is not a failure.
pub fn write_out(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gdctl: error: could not write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// Every example the man pages give is a command line gdctl takes, and
    /// each page that has examples shows its own command.
    #[test]
    fn every_example_parses_and_belongs_to_its_page() {
        for (page, examples) in super::EXAMPLES {
            assert!(!examples.is_empty(), "{page}");
            for (what, line) in *examples {
                assert!(what.ends_with('.'), "{page}: {what}");
                let words: Vec<&str> = line.split(" > ").next().unwrap().split_whitespace().collect();
                if let Err(e) = crate::cli::Cli::try_parse_from(&words) {
                    panic!("{page}: `{line}`: {e}");
                }
                let command = page.replace('-', " ").replace("iam policy", "iam-policy");
                if *page != "gdctl" && *page != "gdctl-org" {
                    assert!(line.starts_with(&command), "{page}: `{line}`");
                }
            }
        }
    }
}
