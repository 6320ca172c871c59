//! Command-line interface: every flag, its validation and its help text.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::findings::plan::{Band, MaxAge};

/// Every exit code gdctl has and when: `--help` and the man pages both say it from here.
pub const EXIT_CODES: &[(&str, &str)] = &[
    ("0", "every target region succeeded (no-ops included)"),
    (
        "1",
        "at least one region or account failed or has an unknown outcome (the others were still done), a \
         deletion or an administrator's removal was not confirmed, or the report could not be \
         written (a reader that stops early, as `head` does, is not counted: the run's own code \
         stays)",
    ),
    (
        "2",
        "usage or setup error (bad flag or setting, unknown region, no region left, no home \
         region, no credentials, unknown profile, another account than --expect-account, \
         GetCallerIdentity or DescribeRegions failed or timed out, an organization gdctl cannot \
         list or an --admin-account not in it, a flag that could only be ignored, a confirmation that could not be asked or got \
         no answer); nothing was changed",
    ),
    (
        "3",
        "`status --check` or `org status --check` found a region out of line, `usage --check` a \
         cost above --max-usd, `findings --check` (or --max-age) a finding it gates on or a region \
         GuardDuty does not watch, or `apply --check` a region that differs from the file",
    ),
    (
        "130, 143, 129",
        "interrupted by SIGINT (Ctrl-C), SIGTERM or SIGHUP: the regions in flight were finished \
         and reported, the others not started",
    ),
];

const AFTER_HELP_ENVIRONMENT: &str = "\
Credentials, profile, home region and endpoint are read as the aws CLI reads
them (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS,
~/.aws/config, ...); the flags above override them, and --profile is used even
where AWS_ACCESS_KEY_ID is set. The account acted on is named in the summary.";

/// `gdctl --help`'s last part: the exit codes, wrapped, then the environment.
fn after_help() -> String {
    let mut text = String::from("Exit codes:\n");
    for (code, when) in EXIT_CODES {
        let mut line = format!("  {code} ");
        for word in when.split_whitespace() {
            if line.len() + 1 + word.len() > 78 {
                text.push_str(&line);
                text.push('\n');
                line = "    ".to_string();
            }
            line.push(' ');
            line.push_str(word);
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(AFTER_HELP_ENVIRONMENT);
    text
}

/// Turn AWS GuardDuty on, off, and check it, in every region of an account at once.
#[derive(Debug, Parser)]
#[command(name = "gdctl", version, about, after_help = after_help())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    #[command(flatten)]
    pub global: Global,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Named profile from the AWS config and credentials files.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Home region: where GetCallerIdentity and DescribeRegions are called [default: AWS_REGION,
    /// AWS_DEFAULT_REGION or the profile's region].
    #[arg(long, global = true, value_name = "REGION", add = region_names())]
    pub region: Option<String>,

    /// Send gdctl's requests (STS, EC2, GuardDuty, Organizations) to this
    /// endpoint instead of AWS (for emulators).
    // Checked, with gdctl's own message, by `settings::endpoint`: clap's own
    // would echo a password in the URL.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Report format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Work on only these regions (comma separated).
    #[arg(long, global = true, value_delimiter = ',', value_name = "REGION,...", value_parser = parse_region,
          add = region_names())]
    pub regions: Vec<String>,

    /// Leave these regions out (comma separated).
    #[arg(long, global = true, value_delimiter = ',', value_name = "REGION,...", value_parser = parse_region,
          add = region_names())]
    pub exclude_regions: Vec<String>,

    /// Refuse to run (exit 2, nothing changed) unless the credentials belong
    /// to one of these accounts (12-digit ids, comma separated).
    #[arg(long, global = true, value_delimiter = ',', value_name = "ID,...", value_parser = parse_account)]
    pub expect_account: Vec<String>,

    /// How many account-regions are worked on at once (every region of 200
    /// accounts by default; fewer if the open-file limit is lower).
    #[arg(long, global = true, default_value_t = 4096, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=16384))]
    pub concurrency: u16,

    /// Deadline in seconds for each setup phase (credentials, GetCallerIdentity,
    /// DescribeRegions) and for each region's work; a region past it fails
    /// alone and the others carry on.
    #[arg(long, global = true, default_value = "60", value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Attempts per request, retries with backoff included [default: AWS_MAX_ATTEMPTS or 3].
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: Option<u32>,

    /// Log to stderr: -v for gdctl's steps, -vv for every SDK request too.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    // Last: its heading ("Accounts") would otherwise take the options after it.
    #[command(flatten)]
    pub accounts: AccountArgs,
}

/// Which accounts `enable`, `disable` and `status` work in (`gdctl org`
/// works on the whole organization, so it has none of these).
#[derive(Debug, Default, Args)]
#[command(next_help_heading = "Accounts")]
pub struct Selection {
    /// Work in these accounts (12-digit ids, comma separated) through --role-name;
    /// the caller's own account with its own credentials.
    #[arg(long, value_delimiter = ',', value_name = "ID,...", value_parser = parse_account,
          conflicts_with_all = ["accounts_file", "org"])]
    pub accounts: Vec<String>,

    /// Read the accounts from a file: one id per line, `#` comments and blank
    /// lines allowed; `-` for standard input.
    #[arg(long, value_name = "PATH", conflicts_with = "org")]
    pub accounts_file: Option<std::path::PathBuf>,

    /// Work in every ACTIVE account of the caller's AWS Organization.
    #[arg(long)]
    pub org: bool,

    /// With --org: only the accounts in this organizational unit's subtree.
    #[arg(long, value_name = "OU", value_parser = parse_ou, requires = "org")]
    pub org_unit: Option<String>,
}

impl Command {
    /// The accounts named, for the commands that take them.
    pub fn selection(&self) -> Option<&Selection> {
        match self {
            Command::Enable(a) => Some(&a.select),
            Command::Disable(a) => Some(&a.select),
            Command::Status(a) => Some(&a.select),
            Command::Usage(a) => Some(&a.select),
            Command::Findings(a) => Some(match &a.action {
                None => &a.select,
                Some(FindingsAction::Sample(s)) => &s.select,
                Some(FindingsAction::Archive(s)) => &s.select,
            }),
            Command::Apply(a) => Some(&a.select),
            Command::Org(_) | Command::IamPolicy(_) | Command::Completions { .. } | Command::Man { .. } => {
                None
            }
        }
    }
}

impl Selection {
    /// Whether other accounts than the caller's are named.
    pub fn is_many(&self) -> bool {
        self.org || self.accounts_file.is_some() || !self.accounts.is_empty()
    }
}

/// Many accounts: which to leave out, and the role gdctl assumes in each.
#[derive(Debug, Args)]
#[command(next_help_heading = "Accounts")]
pub struct AccountArgs {
    /// Leave these accounts out (comma separated).
    #[arg(long, global = true, value_delimiter = ',', value_name = "ID,...", value_parser = parse_account)]
    pub exclude_accounts: Vec<String>,

    /// The role to assume in each account (a path is allowed: security/gdctl)
    /// [default: OrganizationAccountAccessRole].
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_role_name)]
    pub role_name: Option<String>,

    /// The external id the role's trust policy asks for.
    #[arg(long, global = true, value_name = "ID", value_parser = parse_external_id)]
    pub external_id: Option<String>,

    /// The session name, as CloudTrail shows it in each account [default: gdctl].
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_session_name)]
    pub role_session_name: Option<String>,

    /// Role assumptions started in any one second, at most. STS allows about
    /// 600 a second per calling account and region; lower it where other jobs
    /// share that [default: 400].
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub assume_role_rate: Option<u32>,

    /// How long each assumed role's credentials last, in seconds (they are
    /// renewed if the run lasts longer) [default: 3600].
    #[arg(long, global = true, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(900..=43200))]
    pub session_duration: Option<u32>,
}

impl AccountArgs {
    pub const DEFAULT_ROLE: &'static str = "OrganizationAccountAccessRole";
    pub const DEFAULT_RATE: u32 = 400;
    pub const DEFAULT_SESSION_SECONDS: u32 = 3600;

    /// The role flags given: they only mean something where a role is assumed.
    pub fn role_flags(&self) -> Vec<&'static str> {
        let given = [
            ("--role-name", self.role_name.is_some()),
            ("--external-id", self.external_id.is_some()),
            ("--role-session-name", self.role_session_name.is_some()),
            ("--assume-role-rate", self.assume_role_rate.is_some()),
            ("--session-duration", self.session_duration.is_some()),
        ];
        given.iter().filter(|(_, on)| *on).map(|(flag, _)| *flag).collect()
    }

    pub fn assume_role_rate(&self) -> u32 {
        self.assume_role_rate.unwrap_or(Self::DEFAULT_RATE)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn GuardDuty on in every target region (create, resume or update the detector).
    ///
    /// Without --frequency a new detector gets the service default and an
    /// existing one keeps its own.
    Enable(EnableArgs),
    /// Turn GuardDuty off in every target region (delete the detector, or suspend it).
    ///
    /// Deleting a detector destroys its findings; on a terminal gdctl asks first
    /// unless --yes is given. Without a terminal (CI) it proceeds.
    Disable(DisableArgs),
    /// Show each region's detector, its status and frequency (read only).
    Status(StatusArgs),
    /// What GuardDuty cost over its last 30 days, per region, by plan,
    /// account or resource, with the free-trial days left (read only).
    ///
    /// The API's own window (GetUsageStatistics), not the console's monthly
    /// projection. A region without a detector is `not watched`, never $0.
    Usage(UsageArgs),
    /// What GuardDuty found: each region's active findings counted by
    /// severity, or listed, with a gate for CI (read only); and sample findings.
    ///
    /// Counted: findings not archived and not samples (unless asked), at or
    /// above --severity. A region without a detector, or with a suspended one,
    /// is `not watched`, never clean. Run with a delegated administrator's
    /// credentials, its members' findings are counted per account too.
    Findings(FindingsArgs),
    /// Converge a settings file (TOML) in every target region: the detector,
    /// suppression rules, trusted IP and threat lists, and the findings export.
    ///
    /// Sections left out of the file are neither read nor changed. See
    /// examples/guardduty.toml for the format.
    Apply(ApplyArgs),
    /// AWS Organizations: a delegated GuardDuty administrator, auto-enable and
    /// members, in every region (run with the management account's credentials).
    #[command(subcommand)]
    Org(OrgCommand),
    /// Print the minimum IAM policy (JSON) for the commands named, all of them
    /// when none is: `gdctl iam-policy status > policy.json`.
    ///
    /// The calls are the ones the command makes with every flag. Without
    /// --role, the credentials gdctl runs with, working in their own account
    /// (for org: the management account's); with --role, the role it assumes in
    /// each other account (for org: the delegated administrator's).
    IamPolicy(IamPolicyArgs),
    /// Print the shell completion script (bash, zsh, fish, powershell, elvish).
    ///
    /// bash: `gdctl completions bash > /etc/bash_completion.d/gdctl`;
    /// zsh: `source <(gdctl completions zsh)` in ~/.zshrc;
    /// fish: `gdctl completions fish > ~/.config/fish/completions/gdctl.fish`.
    /// The script runs `gdctl` (on PATH) at TAB time, so that every item of a
    /// comma list completes.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `gdctl man > /usr/local/share/man/man1/gdctl.1`;
    /// with --dir, write it and one page per subcommand (gdctl-enable(1), ...) there.
    Man {
        /// Write gdctl.1 and every subcommand's page into this directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
    },
}

/// The commands that only print text about gdctl: no flag of a run applies.
pub const TEXT_ONLY: [&str; 3] = ["iam-policy", "completions", "man"];

/// gdctl's command line, as parsed, helped, completed and paged: the flags of
/// a run against AWS (global, so clap offers them everywhere) hidden where
/// they cannot apply; given there, they are refused (`text_only_with_run_flag`).
pub fn command() -> clap::Command {
    let mut root = <Cli as clap::CommandFactory>::command();
    let globals: Vec<clap::Arg> = root.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    for name in TEXT_ONLY {
        // A subcommand's own arg of the same id is not replaced by the global one.
        root = root.mut_subcommand(name, |sub| {
            let copies: Vec<clap::Arg> = globals
                .iter()
                .filter(|g| sub.get_arguments().all(|own| own.get_id() != g.get_id()))
                .map(|g| g.clone().global(false).hide(true))
                .collect();
            sub.args(copies)
        });
    }
    root
}

/// For the commands that only print text about gdctl (completions, man,
/// iam-policy): the first flag given of the ones for a run against AWS.
pub fn text_only_with_run_flag(matches: &clap::ArgMatches) -> Option<String> {
    let (name, sub) = matches.subcommand()?;
    if !TEXT_ONLY.contains(&name) {
        return None;
    }
    let root = <Cli as clap::CommandFactory>::command();
    let own = root.find_subcommand(name)?;
    let given = root
        .get_arguments()
        .filter(|a| a.is_global_set() && !own.get_arguments().any(|o| o.get_id() == a.get_id()))
        .find(|a| sub.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine))
        .map(|a| a.get_long().map(|l| format!("--{l}")).unwrap_or_else(|| "-v".to_string()));
    given
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// The commands (all when none): enable, disable, status, usage,
    /// findings, findings-sample, findings-archive, apply, org (its three
    /// commands), org-enable, org-status, org-disable.
    #[arg(value_name = "COMMAND", add = policy_names())]
    pub commands: Vec<String>,

    /// The side of the role gdctl assumes in each other account (--accounts,
    /// --org), for org the delegated administrator's.
    #[arg(long)]
    pub role: bool,

    /// The caller of a run across accounts: also sts:AssumeRole on the role
    /// in every account, and the organization's listing (--org, --org-unit).
    #[arg(long, conflicts_with = "role")]
    pub accounts: bool,

    /// The role the caller assumes, as in --accounts runs and org's
    /// [default: OrganizationAccountAccessRole].
    #[arg(long, value_name = "NAME", value_parser = parse_role_name)]
    pub role_name: Option<String>,

    /// For org: the delegated administrator, the one account whose role the
    /// management account may assume (else the role in every account).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub admin_account: Option<String>,
}

fn policy_names() -> clap_complete::engine::ArgValueCandidates {
    clap_complete::engine::ArgValueCandidates::new(|| {
        crate::iam::NAMES.iter().map(|(n, _)| clap_complete::CompletionCandidate::new(*n)).collect()
    })
}

#[derive(Debug, Args)]
pub struct EnableArgs {
    /// How often findings are published.
    #[arg(long, value_enum)]
    pub frequency: Option<Frequency>,

    /// Protection plans to turn on, comma separated: s3-data-events,
    /// eks-audit-logs, ebs-malware-protection, rds-login-events,
    /// lambda-network-logs, runtime-monitoring (or eks-runtime-monitoring), or
    /// `none`. Every plan not named is turned off. Without --features, existing
    /// detectors keep theirs, and a NEW detector gets the service default:
    /// every plan except runtime monitoring turned on, which costs money.
    #[arg(long, value_delimiter = ',', value_name = "FEATURE,...", value_parser = features_hint())]
    pub features: Option<Vec<String>>,

    /// With runtime-monitoring: the agents GuardDuty manages, comma
    /// separated: eks, ecs-fargate, ec2 (the others are turned off).
    #[arg(long, value_delimiter = ',', value_name = "AGENT,...", requires = "features", value_parser = agents_hint())]
    pub runtime_agents: Vec<String>,

    /// Tag the detectors gdctl creates, and add the tag where an existing
    /// detector lacks it (repeatable). Other tags are left alone.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = crate::tags::parse_tag)]
    pub tags: Vec<(String, String)>,

    /// Read only: print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Args)]
pub struct DisableArgs {
    /// Suspend the detector instead of deleting it (findings and settings are
    /// kept; `gdctl enable` resumes it).
    #[arg(long)]
    pub suspend: bool,

    /// Do not ask before deleting (nothing is asked with --suspend or --dry-run).
    #[arg(long, short = 'y', conflicts_with_all = ["suspend", "dry_run"])]
    pub yes: bool,

    /// Only delete (or suspend) detectors carrying this tag; the others are
    /// reported as kept.
    #[arg(long, value_name = "KEY=VALUE", value_parser = crate::tags::parse_tag)]
    pub only_tagged: Option<(String, String)>,

    /// Read only: print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit 3 unless every target region is ENABLED (and runs --frequency, and
    /// has exactly --features, if given).
    #[arg(long)]
    pub check: bool,

    /// With --check: the frequency every region must run.
    #[arg(long, value_enum, requires = "check")]
    pub frequency: Option<Frequency>,

    /// With --check: exactly these protection plans must be on (as for `enable`).
    #[arg(long, value_delimiter = ',', value_name = "FEATURE,...", requires = "check", value_parser = features_hint())]
    pub features: Option<Vec<String>>,

    /// With --check --features runtime-monitoring: the agents that must be managed.
    #[arg(long, value_delimiter = ',', value_name = "AGENT,...", requires = "features", value_parser = agents_hint())]
    pub runtime_agents: Vec<String>,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// How each region's cost is broken down: by plan (as --features names
    /// them), by account (an administrator's members too), or the most
    /// expensive resources.
    #[arg(long, value_enum, default_value = "plan")]
    pub by: crate::usage::plan::By,

    /// Exit 3 when the cost is above --max-usd (over the whole run, or with
    /// --per-region in any one region).
    #[arg(long, requires = "max_usd")]
    pub check: bool,

    /// With --check: the budget in USD, for the last 30 days (`250`, `99.50`).
    #[arg(long, value_name = "AMOUNT", requires = "check")]
    pub max_usd: Option<String>,

    /// With --max-usd: hold each region to the budget, not the run's total.
    #[arg(long, requires = "max_usd")]
    pub per_region: bool,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FindingsArgs {
    #[command(subcommand)]
    pub action: Option<FindingsAction>,

    /// The lowest severity band counted and shown: low (1.0-3.9), medium
    /// (4.0-6.9), high (7.0-8.9), critical (9.0-10.0).
    #[arg(long, value_enum, default_value = "low", value_name = "BAND")]
    pub severity: Band,

    /// Only findings updated since then: `24h`, `7d`, `30d` (m, h, d, w).
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub since: Option<Duration>,

    /// Only findings of this exact type (repeatable; no wildcards):
    /// `Recon:EC2/PortProbeUnprotectedPort`.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_finding_type)]
    pub types: Vec<String>,

    /// Count archived findings too.
    #[arg(long)]
    pub include_archived: bool,

    /// Count sample findings too (`findings sample` makes them).
    #[arg(long)]
    pub include_samples: bool,

    /// List the findings themselves, most severe first across every region.
    #[arg(long)]
    pub list: bool,

    /// With --list: at most this many, over the whole run [default: 100].
    #[arg(long, value_name = "N", requires = "list", value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub limit: Option<u32>,

    /// Exit 3 where any counted finding at or above --fail-on exists, or a
    /// region is not watched.
    #[arg(long)]
    pub check: bool,

    /// With --check: the lowest band that fails it [default: high, or
    /// --severity if higher].
    #[arg(long, value_enum, value_name = "BAND", requires = "check")]
    pub fail_on: Option<Band>,

    /// The aging gate: exit 3 for findings first seen longer ago than their
    /// band allows (`high=1d,medium=7d,low=30d`; bands not named are not
    /// gated), or where a region is not watched. With --check, either fails.
    #[arg(long, value_name = "BAND=DURATION,...", value_parser = MaxAge::parse)]
    pub max_age: Option<MaxAge>,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The settings file (TOML); `-` for standard input.
    #[arg(value_name = "FILE")]
    pub file: std::path::PathBuf,

    /// Read only: print per region what would change, and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Change nothing; exit 3 where anything differs from the file (or the
    /// export does not publish), naming what.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// Activate every list of the file again, so GuardDuty reads its file
    /// anew (it does not notice a changed file behind an unchanged location).
    #[arg(long, conflicts_with = "check")]
    pub reload_lists: bool,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Subcommand)]
pub enum FindingsAction {
    /// Make sample findings in every target region (CreateSampleFindings), to
    /// check that alerts, the findings export and Security Hub see them.
    Sample(SampleArgs),
    /// Archive the sample findings in every target region; real findings are
    /// never archived by it.
    Archive(ArchiveArgs),
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    /// The finding types to make one sample of each (comma separated)
    /// [default: every type GuardDuty has].
    #[arg(long, value_delimiter = ',', value_name = "TYPE,...", value_parser = parse_finding_type)]
    pub types: Vec<String>,

    /// Read only: print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

#[derive(Debug, Args)]
pub struct ArchiveArgs {
    /// Archive the sample findings (the only kind gdctl archives).
    #[arg(long, required = true)]
    pub samples: bool,

    /// Read only: print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    // Last: the heading it sets (Accounts) would cover the flags after it.
    #[command(flatten)]
    pub select: Selection,
}

fn parse_finding_type(s: &str) -> Result<String, String> {
    crate::findings::plan::check_type(s).map(|()| s.to_string())
}

fn parse_age(s: &str) -> Result<Duration, String> {
    crate::findings::plan::parse_age(s)
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Name the delegated administrator, turn on auto-enable and make every
    /// account a member, in every target region.
    ///
    /// Per region: the management account names --admin-account unless it is
    /// already the administrator (another one is never replaced); the
    /// administrator's detector is converged as `enable` does; auto-enable and
    /// each plan's auto-enable are set where they differ; every ACTIVE account
    /// of the organization not yet an enabled member becomes one
    /// (CreateMembers, no invitations). The administrator is reached through
    /// --role-name unless it is the caller's account.
    Enable(OrgEnableArgs),
    /// Per region: the administrator, auto-enable, its plans, and which of the
    /// organization's accounts are enabled members (read only).
    Status(OrgStatusArgs),
    /// Remove the delegated administrator in every target region: auto-enable
    /// to NONE, the members disassociated, then DisableOrganizationAdminAccount.
    ///
    /// Member detectors stay enabled (use `gdctl disable --org` to turn them
    /// off). At a terminal gdctl asks first unless --yes is given.
    Disable(OrgDisableArgs),
}

/// Which accounts auto-enable covers (AutoEnableOrganizationMembers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AutoEnable {
    /// Every account, existing and new.
    All,
    /// Accounts that join the organization from now on.
    New,
    /// None: members are added explicitly.
    None,
}

impl AutoEnable {
    pub fn api_name(self) -> &'static str {
        match self {
            AutoEnable::All => "ALL",
            AutoEnable::New => "NEW",
            AutoEnable::None => "NONE",
        }
    }
}

#[derive(Debug, Args)]
pub struct OrgEnableArgs {
    /// The account to make GuardDuty's delegated administrator.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub admin_account: String,

    /// Which accounts GuardDuty enrolls by itself.
    #[arg(long, value_enum, default_value_t = AutoEnable::All)]
    pub auto_enable: AutoEnable,

    /// The administrator's detector: how often findings are published.
    #[arg(long, value_enum)]
    pub frequency: Option<Frequency>,

    /// Protection plans, as for `enable`: the administrator's detector gets
    /// exactly these, and auto-enable covers exactly these for members (every
    /// plan not named is set to NONE). Without it, plans are left as they are.
    #[arg(long, value_delimiter = ',', value_name = "FEATURE,...", value_parser = features_hint())]
    pub features: Option<Vec<String>>,

    /// With runtime-monitoring: the agents GuardDuty manages (eks, ecs-fargate, ec2).
    #[arg(long, value_delimiter = ',', value_name = "AGENT,...", requires = "features", value_parser = agents_hint())]
    pub runtime_agents: Vec<String>,

    /// Read only: print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct OrgStatusArgs {
    /// Exit 3 unless every target region has the administrator (--admin-account
    /// if given), auto-enable as --auto-enable, the plans of --features if given,
    /// and every ACTIVE account an enabled member.
    #[arg(long)]
    pub check: bool,

    /// With --check: the administrator every region must have (without it,
    /// any administrator will do).
    #[arg(long, value_name = "ID", value_parser = parse_account, requires = "check")]
    pub admin_account: Option<String>,

    /// With --check: the auto-enable setting required.
    #[arg(long, value_enum, default_value_t = AutoEnable::All, requires = "check")]
    pub auto_enable: AutoEnable,

    /// With --check: exactly these plans must be auto-enabled.
    #[arg(long, value_delimiter = ',', value_name = "FEATURE,...", requires = "check", value_parser = features_hint())]
    pub features: Option<Vec<String>>,

    /// With --check --features runtime-monitoring: the agents that must be auto-enabled.
    #[arg(long, value_delimiter = ',', value_name = "AGENT,...", requires = "features", value_parser = agents_hint())]
    pub runtime_agents: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OrgDisableArgs {
    /// The delegated administrator to remove.
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub admin_account: String,

    /// Do not ask first (nothing is asked with --dry-run).
    #[arg(long, short = 'y', conflicts_with = "dry_run")]
    pub yes: bool,

    /// Read only: print what would be done and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

/// GuardDuty's finding publishing frequency, spelled as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Frequency {
    FifteenMinutes,
    OneHour,
    SixHours,
}

impl Frequency {
    /// The API's spelling.
    pub fn api_name(self) -> &'static str {
        match self {
            Frequency::FifteenMinutes => "FIFTEEN_MINUTES",
            Frequency::OneHour => "ONE_HOUR",
            Frequency::SixHours => "SIX_HOURS",
        }
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
        return Err("must be more than 0 and at most 86400 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A name in a region list, trimmed. An empty one is refused: `--regions ""`
/// (an unset variable) must not mean every region.
fn parse_region(s: &str) -> Result<String, String> {
    match s.trim() {
        "" => Err("empty region name".into()),
        name => Ok(name.to_string()),
    }
}

/// Region names for the shell to complete; any name is taken and checked
/// against DescribeRegions' answer.
fn region_names() -> clap_complete::engine::ArgValueCandidates {
    clap_complete::engine::ArgValueCandidates::new(|| {
        crate::regions::KNOWN.iter().map(|r| clap_complete::CompletionCandidate::new(*r)).collect()
    })
}

/// Names shells can complete; any string is taken here and checked (with
/// gdctl's own message) by `features::parse`.
#[derive(Clone)]
struct Hinted(Vec<&'static str>);

impl clap::builder::TypedValueParser for Hinted {
    type Value = String;

    fn parse_ref(
        &self,
        _: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().map(|v| clap::builder::PossibleValue::new(*v))))
    }
}

fn features_hint() -> Hinted {
    use crate::features::Feature;
    Hinted(Feature::ALL.iter().map(|f| f.cli_name()).chain(["none"]).collect())
}

fn agents_hint() -> Hinted {
    Hinted(crate::features::Agent::ALL.iter().map(|a| a.cli_name()).collect())
}

/// An IAM role name, with an optional path: `security/gdctl`. As IAM
/// checks them: the name 1–64 of letters, digits and `+=,.@_-`; the path
/// (`/security/`) at most 512 characters.
fn parse_role_name(s: &str) -> Result<String, String> {
    let name = s.trim().trim_matches('/');
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if name.is_empty() || name.split('/').any(|part| part.is_empty() || !part.chars().all(ok_char)) {
        return Err(format!(
            "`{s}` is not an IAM role name (letters, digits and +=,.@_- , with / between path parts)"
        ));
    }
    let (path, last) = match name.rsplit_once('/') {
        Some((path, last)) => (format!("/{path}/"), last),
        None => ("/".to_string(), name),
    };
    if last.len() > 64 {
        return Err(format!("the IAM role name `{last}` is longer than 64 characters"));
    }
    if path.len() > 512 {
        return Err(format!("the path of IAM role `{last}` is longer than 512 characters"));
    }
    Ok(name.to_string())
}

/// `sts:ExternalId` as STS checks it: 2–1224 of letters, digits and `_+=,.@:/-`.
fn parse_external_id(s: &str) -> Result<String, String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
    let chars = s.chars().count();
    if !(2..=1224).contains(&chars) {
        return Err(format!("an external id is 2 to 1224 characters, not {chars}"));
    }
    match s.chars().find(|c| !ok_char(*c)) {
        Some(c) => Err(format!("an external id holds only letters, digits and _+=,.@:/- , not `{c}`")),
        None => Ok(s.to_string()),
    }
}

fn parse_session_name(s: &str) -> Result<String, String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if (2..=64).contains(&s.len()) && s.chars().all(ok_char) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}` is not a role session name (2 to 64 of letters, digits and +=,.@_-)"))
    }
}

fn parse_ou(s: &str) -> Result<String, String> {
    let id = s.trim();
    let valid = id.strip_prefix("ou-").is_some_and(|rest| {
        let mut parts = rest.split('-');
        matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None)
            if (4..=32).contains(&a.len()) && (8..=32).contains(&b.len())
            && a.chars().chain(b.chars()).all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    });
    if valid {
        Ok(id.to_string())
    } else {
        Err(format!("`{s}` is not an organizational unit id (ou-xxxx-xxxxxxxx)"))
    }
}

pub fn parse_account(s: &str) -> Result<String, String> {
    let id = s.trim();
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_string())
    } else {
        Err(format!("`{s}` is not a 12-digit AWS account id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn timeout_accepts_fractions_and_rejects_nonsense() {
        assert_eq!(parse_timeout("1.5").unwrap(), Duration::from_millis(1500));
        for bad in ["0", "-1", "abc", "NaN", "inf", "100000"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_endpoint_is_taken_as_given_and_checked_later_without_echoing_it() {
        // clap's "invalid value" message would print a password in the URL.
        let url = "http://user:Secr3t@127.0.0.1:99999";
        let cli = Cli::try_parse_from(["gdctl", "status", "--endpoint-url", url]).unwrap();
        assert_eq!(cli.global.endpoint_url.as_deref(), Some(url));
    }

    #[test]
    fn regions_split_on_commas_and_are_trimmed() {
        let cli = Cli::try_parse_from(["gdctl", "status", "--regions", "us-east-1, eu-west-1 "]).unwrap();
        assert_eq!(cli.global.regions, ["us-east-1", "eu-west-1"]);
        for empty in ["", "us-east-1,", " "] {
            let err = Cli::try_parse_from(["gdctl", "status", "--regions", empty]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{empty:?}");
        }
    }

    #[test]
    fn account_flags_are_checked() {
        let cli =
            Cli::try_parse_from(["gdctl", "status", "--accounts", "111111111111, 222222222222"]).unwrap();
        match &cli.command {
            Command::Status(a) => assert_eq!(a.select.accounts, ["111111111111", "222222222222"]),
            _ => unreachable!(),
        }
        assert_eq!(cli.global.accounts.role_name, None);
        assert!(cli.global.accounts.role_flags().is_empty());
        let cli =
            Cli::try_parse_from(["gdctl", "status", "--org", "--role-name", "/security/gdctl/"]).unwrap();
        assert_eq!(cli.global.accounts.role_name.as_deref(), Some("security/gdctl"));
        assert_eq!(cli.global.accounts.role_flags(), ["--role-name"]);
        for bad in [
            &["--accounts", "1234"][..],
            &["--accounts", "111111111111", "--org"],
            &["--org-unit", "ou-ab12-cdef3456"],
            &["--org", "--org-unit", "r-ab12"],
            &["--org", "--role-name", "a//b"],
            &["--org", "--role-name", "a b"],
            &["--org", "--role-session-name", "x"],
            &["--org", "--session-duration", "60"],
            &["--exclude-accounts", "abc"],
        ] {
            let args = [&["gdctl", "status"][..], bad].concat();
            let err = Cli::try_parse_from(&args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad:?}");
        }
        assert!(Cli::try_parse_from(["gdctl", "status", "--org", "--org-unit", "ou-ab12-cdef3456"]).is_ok());
        // gdctl org works on the whole organization: it takes no selection.
        for refused in [&["--org"][..], &["--accounts", "111111111111"], &["--accounts-file", "-"]] {
            let args = [&["gdctl", "org", "status"][..], refused].concat();
            assert_eq!(Cli::try_parse_from(&args).unwrap_err().exit_code(), 2, "{refused:?}");
        }
    }

    #[test]
    fn role_names_and_external_ids_are_checked_as_iam_and_sts_check_them() {
        assert_eq!(parse_role_name(&"r".repeat(64)).unwrap(), "r".repeat(64));
        let e = parse_role_name(&"r".repeat(65)).unwrap_err();
        assert!(e.contains("longer than 64 characters"), "{e}");
        let e = parse_role_name(&format!("team/{}", "r".repeat(65))).unwrap_err();
        assert!(e.contains("longer than 64 characters"), "{e}");
        // The path `/p.../` holds 512 characters at most, slashes included.
        let path = |n: usize| format!("{}/gdctl", "p".repeat(n));
        assert!(parse_role_name(&path(510)).is_ok());
        assert!(parse_role_name(&path(511)).unwrap_err().contains("longer than 512 characters"));

        for good in ["ab", "Corp-2024_x+y=z,a.b@c:d/e", &"x".repeat(1224)] {
            assert_eq!(parse_external_id(good).as_deref(), Ok(good));
        }
        for (bad, expected) in [
            ("x", "2 to 1224 characters, not 1"),
            ("", "not 0"),
            (&"x".repeat(1225), "not 1225"),
            ("has space", "not ` `"),
            ("a#b", "not `#`"),
            ("caf\u{e9}", "not `\u{e9}`"),
        ] {
            assert!(parse_external_id(bad).unwrap_err().contains(expected), "{bad}");
        }
        for bad in ["x", "a b"] {
            let err = Cli::try_parse_from(["gdctl", "status", "--org", "--external-id", bad]).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
        let err =
            Cli::try_parse_from(["gdctl", "status", "--org", "--role-name", &"r".repeat(65)]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn expected_accounts_are_12_digit_ids() {
        let cli = Cli::try_parse_from(["gdctl", "status", "--expect-account", "123456789012,210987654321"])
            .unwrap();
        assert_eq!(cli.global.expect_account, ["123456789012", "210987654321"]);
        for bad in ["12345", "12345678901a", "1234567890123", ""] {
            assert!(Cli::try_parse_from(["gdctl", "status", "--expect-account", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_parse_as_pairs_and_bad_ones_are_usage_errors() {
        let cli = Cli::try_parse_from(["gdctl", "enable", "--tag", "team=sec", "--tag", "env=prod"]).unwrap();
        match cli.command {
            Command::Enable(a) => {
                assert_eq!(a.tags, [("team".into(), "sec".into()), ("env".into(), "prod".into())])
            }
            _ => unreachable!(),
        }
        let err = Cli::try_parse_from(["gdctl", "enable", "--tag", "aws:x=y"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Cli::try_parse_from(["gdctl", "disable", "--only-tagged", "novalue"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn flags_that_would_be_ignored_are_usage_errors() {
        for ignored in [
            &["disable", "--yes", "--suspend"][..],
            &["disable", "--yes", "--dry-run"],
            &["org", "disable", "--admin-account", "111111111111", "--yes", "--dry-run"],
            &["org", "status", "--admin-account", "111111111111"],
        ] {
            let args = [&["gdctl"][..], ignored].concat();
            assert_eq!(Cli::try_parse_from(&args).unwrap_err().exit_code(), 2, "{ignored:?}");
        }
        assert!(Cli::try_parse_from([
            "gdctl",
            "org",
            "status",
            "--check",
            "--admin-account",
            "111111111111"
        ])
        .is_ok());
    }

    #[test]
    fn frequency_outside_the_three_is_a_usage_error() {
        let err = Cli::try_parse_from(["gdctl", "enable", "--frequency", "hourly"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
