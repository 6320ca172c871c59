//! The run from parsed flags to exit code: session, regions, command, report.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;

use crate::accounts::{self, Opened, Role};
use crate::cli::{
    ApplyArgs, ArchiveArgs, Cli, Command, DisableArgs, FindingsAction, OrgCommand, OutputFormat, SampleArgs,
    Selection, StatusArgs, UsageArgs,
};
use crate::commands::{apply, disable, enable, findings, org, status, usage, Accounts, Context};
use crate::error::SetupError;
use crate::features::{self, Wanted};
use crate::output::Printer;
use crate::plan::Desired;
use crate::regions;
use crate::session::Session;
use crate::usage::plan::Usd;

/// A command with its input checked.
enum Intent<'a> {
    Enable(Desired, bool),
    Disable(&'a DisableArgs),
    Status(&'a StatusArgs, Option<Wanted>),
    Usage(&'a UsageArgs, Option<Usd>),
    Findings(findings::Run),
    Sample(&'a SampleArgs),
    Archive(&'a ArchiveArgs),
    Apply(crate::settings_file::Settings, &'a ApplyArgs),
    Org(&'a OrgCommand, Option<Wanted>),
}

pub async fn run(cli: &Cli, out: &mut dyn Write, color: bool) -> Result<ExitCode, SetupError> {
    let g = &cli.global;
    // Everything the user typed is checked before the first call.
    let intent = match &cli.command {
        Command::Enable(args) => Intent::Enable(enable::desired(args)?, args.dry_run),
        Command::Disable(args) => Intent::Disable(args),
        Command::Status(args) => Intent::Status(args, status::wanted_features(args)?),
        Command::Usage(args) => Intent::Usage(
            args,
            args.max_usd
                .as_deref()
                .map(|m| Usd::parse(m).map_err(|e| SetupError::Invalid(format!("--max-usd: {e}"))))
                .transpose()?,
        ),
        Command::Findings(args) => match &args.action {
            None => Intent::Findings(findings::checked(args)?),
            Some(FindingsAction::Sample(a)) => Intent::Sample(a),
            Some(FindingsAction::Archive(a)) => Intent::Archive(a),
        },
        Command::Apply(args) => {
            let dash = std::path::Path::new("-");
            if args.file == dash && args.select.accounts_file.as_deref() == Some(dash) {
                return Err(SetupError::Invalid(
                    "the settings file and --accounts-file cannot both be standard input (`-`)".into(),
                ));
            }
            Intent::Apply(crate::settings_file::read(&args.file, args.reload_lists)?, args)
        }
        Command::Org(cmd) => Intent::Org(
            cmd,
            match cmd {
                OrgCommand::Enable(args) => features::requested(args.features.as_ref(), &args.runtime_agents),
                OrgCommand::Status(args) => features::requested(args.features.as_ref(), &args.runtime_agents),
                OrgCommand::Disable(_) => Ok(None),
            }
            .map_err(SetupError::Invalid)?,
        ),
        Command::Completions { .. } | Command::Man { .. } | Command::IamPolicy(_) => {
            unreachable!("answered in main, before any set-up")
        }
    };
    let a = &g.accounts;
    let for_org = matches!(intent, Intent::Org(..));
    let none = Selection::default();
    let select = cli.command.selection().unwrap_or(&none);
    let many = select.is_many();
    // A flag that could only be ignored is refused instead.
    if !many && !for_org {
        if !a.exclude_accounts.is_empty() {
            return Err(SetupError::Invalid(
                "--exclude-accounts narrows --accounts, --accounts-file or --org; without them gdctl works in \
                 the caller's own account alone, so there is nothing to leave out (nothing was changed)"
                    .into(),
            ));
        }
        let role_flags = a.role_flags();
        if !role_flags.is_empty() {
            return Err(SetupError::Invalid(format!(
                "{} only {} where gdctl assumes a role in other accounts: with --accounts, \
                 --accounts-file or --org (or gdctl org)",
                role_flags.join(", "),
                if role_flags.len() == 1 { "applies" } else { "apply" }
            )));
        }
    }
    // Auto-enable ALL has GuardDuty enroll every existing account itself
    // (within 24 hours): an exclusion would hold only until then.
    if let Command::Org(OrgCommand::Enable(args)) = &cli.command {
        if args.auto_enable == crate::cli::AutoEnable::All && !a.exclude_accounts.is_empty() {
            return Err(SetupError::Invalid(
                "--exclude-accounts with --auto-enable all: GuardDuty itself enrolls every existing account \
                 within 24 hours, the excluded ones too; use --auto-enable new (or none) to keep them out"
                    .into(),
            ));
        }
    }
    // Removing the administrator disassociates every member: none can be left out.
    if let Command::Org(OrgCommand::Disable(_)) = &cli.command {
        if !a.exclude_accounts.is_empty() {
            return Err(SetupError::Invalid(
                "--exclude-accounts with org disable: removing the administrator disassociates every \
                 member, the excluded ones too (nothing was changed)"
                    .into(),
            ));
        }
    }
    // An accounts file is input too: read before any call.
    let listed = match &select.accounts_file {
        Some(path) => Some((accounts::read_list(path)?, "--accounts-file")),
        None if !select.accounts.is_empty() => Some((select.accounts.clone(), "--accounts")),
        None => None,
    };
    let session = Session::load(g).await?;
    let home = &session.home_region;
    // Side by side: naming the account (and listing the organization) costs
    // no extra round trip.
    let ec2 = session.ec2(&session.config);
    let org_ids = async {
        match select.org {
            true => Some(accounts::organization(&session.organizations(), select.org_unit.as_deref()).await),
            false => None,
        }
    };
    let org_accounts = async {
        match for_org {
            true => {
                Some(accounts::organization_accounts(&session.organizations(), &a.exclude_accounts).await)
            }
            false => None,
        }
    };
    let (caller, described, org_ids, org_accounts) =
        tokio::join!(session.caller(), regions::describe(&ec2), org_ids, org_accounts);
    let setup_failed =
        |call: &'static str, service: &str, error: crate::error::RegionError| SetupError::Call {
            call,
            region: home.clone(),
            error: Box::new(error.at(&session.endpoint(service, home), session.timeout)),
        };
    let caller = caller.map_err(|e| setup_failed("GetCallerIdentity", "sts", e.about_credentials()))?;
    if !g.expect_account.is_empty() && !g.expect_account.contains(&caller.account) {
        return Err(SetupError::WrongAccount { actual: caller.account, expected: g.expect_account.clone() });
    }
    // STS caps a role assumed with an assumed role's credentials (role
    // chaining) at one hour: a longer session would fail in every account.
    if let Some(asked) = a.session_duration.filter(|&s| s > 3600 && caller.assumed_role && (many || for_org))
    {
        return Err(SetupError::Invalid(format!(
            "--session-duration {asked}: the caller is itself an assumed role, and STS allows a role \
             assumed from it (role chaining) one hour at most: use 3600 or less"
        )));
    }
    let described = described.map_err(|e| setup_failed("DescribeRegions", "ec2", e))?;
    // The caller's answer holds every region of the partition (opted in or
    // not): the names given are checked against it, for every account.
    let selection = regions::select(&described, home, &g.regions, &g.exclude_regions)?;
    let chosen = match (listed, org_ids) {
        (Some((ids, origin)), _) => Some(accounts::finish(ids, &a.exclude_accounts, origin)?),
        (None, Some(org)) => {
            let origin = match &select.org_unit {
                Some(ou) => format!("--org-unit {ou}"),
                None => "--org".to_string(),
            };
            Some(accounts::finish(org?, &a.exclude_accounts, &origin)?)
        }
        (None, None) => None,
    };
    let plan = match chosen {
        None => {
            let selection = selection.nonempty()?.of_account(&caller.account);
            let config = session.config.clone();
            Accounts::One(Rc::new(Opened::new(caller.account.clone(), &config, None, selection)))
        }
        Some(ids) => Accounts::Many { ids, role: Role::new(a, &caller), caller_regions: described },
    };

    let mut printer = Printer::new(out, g.output, color, g.verbose > 0);
    let ctx = Context::new(&session, &caller, &plan, g);
    let report = match &intent {
        Intent::Enable(desired, dry_run) => enable::run(&ctx, desired, *dry_run, &mut printer).await,
        Intent::Disable(args) => disable::run(&ctx, args, &mut printer).await?,
        Intent::Status(args, features) => status::run(&ctx, args, features.as_ref(), &mut printer).await,
        Intent::Usage(args, max_usd) => usage::run(&ctx, args, *max_usd, &mut printer).await,
        Intent::Findings(run) => findings::run(&ctx, run, &mut printer).await,
        Intent::Sample(args) => findings::sample(&ctx, args, &mut printer).await,
        Intent::Archive(args) => findings::archive(&ctx, args, &mut printer).await,
        Intent::Apply(settings, args) => apply::run(&ctx, settings, args, &mut printer).await,
        Intent::Org(cmd, features) => {
            let accounts = org_accounts.expect("listed for every org command")?;
            let admin = match cmd {
                OrgCommand::Enable(args) => Some(&args.admin_account),
                OrgCommand::Status(args) => args.admin_account.as_ref(),
                OrgCommand::Disable(_) => None,
            };
            if let Some(admin) = admin {
                org::check_admin(admin, &accounts)?;
            }
            let org = org::Org::new(&ctx, accounts, Role::new(a, &caller));
            match cmd {
                OrgCommand::Enable(args) => org::enable(&org, args, features.as_ref(), &mut printer).await,
                OrgCommand::Status(args) => org::status(&org, args, features.as_ref(), &mut printer).await,
                OrgCommand::Disable(args) => org::disable(&org, args, &mut printer).await?,
            }
        }
    };
    match printer.finish(&report) {
        Ok(()) => Ok(report.exit_code()),
        // A reader that stops early (`| head`, `| grep -q`) is no failure of
        // the run: whether its going is even noticed depends on timing, so it
        // never decides the exit code, which stays the run's own.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(report.exit_code()),
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

/// Colour only for a person at a terminal that shows it: never with NO_COLOR
/// set, nor on a terminal that says it is dumb.
pub fn use_color(format: OutputFormat, stream_is_terminal: bool) -> bool {
    format == OutputFormat::Text
        && stream_is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}
