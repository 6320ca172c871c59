//! `gdctl org enable | status | disable`: the organization's delegated
//! GuardDuty administrator, auto-enable and members, region by region. Run
//! with the management account's credentials; the administrator's side is
//! reached through the role (or the caller's own credentials when the caller
//! is the administrator).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_guardduty::Client;
use futures::future::{FutureExt, LocalBoxFuture, Shared};

use crate::accounts::Role;
use crate::cli::{AutoEnable, OrgDisableArgs, OrgEnableArgs, OrgStatusArgs};
use crate::converge::{converge, converge_seen, mark_unknown};
use crate::detectors::observe;
use crate::error::{RegionError, SetupError};
use crate::fanout::WriteSent;
use crate::features::{self, Wanted};
use crate::org_plan::{self, AdminStep, OrgAccount};
use crate::organization::{self as calls, with_hint};
use crate::output::Printer;
use crate::plan::{Desired, Outcome};
use crate::prompt;
use crate::report::{OrgRegion, RegionReport, Report};

use super::{Context, Job};

/// How long to wait for the detector the service creates for a new
/// administrator before creating it ourselves (at most half of --timeout,
/// which bounds the whole region).
const DETECTOR_WAIT: Duration = Duration::from_secs(20);

/// What every org command works with: the run's context, the organization's
/// ACTIVE accounts, and a way into the administrator's account.
pub struct Org<'a> {
    ctx: &'a Context<'a>,
    accounts: Vec<OrgAccount>,
    role: Role,
    /// Each administrator's configuration, made once (the role is assumed once).
    configs: RefCell<BTreeMap<String, Shared<LocalBoxFuture<'a, SdkConfig>>>>,
}

impl<'a> Org<'a> {
    pub fn new(ctx: &'a Context<'a>, accounts: Vec<OrgAccount>, role: Role) -> Self {
        Org { ctx, accounts, role, configs: RefCell::new(BTreeMap::new()) }
    }

    /// The administrator's GuardDuty client in a region.
    async fn admin_client(&self, admin: &str, region: &str) -> Client {
        let s = self.ctx.session;
        let config = if admin == self.ctx.caller.account {
            s.config.clone()
        } else {
            let make = || {
                let (role, id) = (self.role.clone(), admin.to_string());
                async move { role.config_for(&id, &s.config, s.sts_endpoint()).await }.boxed_local().shared()
            };
            let shared = self.configs.borrow_mut().entry(admin.to_string()).or_insert_with(make).clone();
            shared.await
        };
        s.guardduty(&config, region)
    }

    /// An administrator-side failure: the role's hint when it could not be assumed.
    fn admin_failed(&self, admin: &str, region: &str, e: RegionError) -> RegionReport {
        self.admin_report(admin, RegionReport::failed(region, e))
    }

    /// An administrator-side report that failed (its outcome, `unknown`
    /// included, kept), with the role's hint where the role was the trouble.
    fn admin_report(&self, admin: &str, mut r: RegionReport) -> RegionReport {
        if let Some(e) = r.error.as_mut().filter(|e| e.message.starts_with("AssumeRole failed")) {
            e.hint = Some(self.role.hint(admin, &self.ctx.caller.account).into());
        }
        r
    }

    fn management_is(&self, id: &str) -> bool {
        id == self.ctx.caller.account
    }
}

/// The administrator must be one of the organization's ACTIVE accounts.
pub fn check_admin(admin: &str, accounts: &[OrgAccount]) -> Result<(), SetupError> {
    if accounts.iter().any(|a| a.id == admin) {
        Ok(())
    } else {
        Err(SetupError::Invalid(format!(
            "--admin-account {admin} is not an ACTIVE account of the caller's organization \
             (or --exclude-accounts leaves it out)"
        )))
    }
}

pub async fn enable(
    org: &Org<'_>,
    args: &OrgEnableArgs,
    want: Option<&Wanted>,
    printer: &mut Printer<'_>,
) -> Report {
    let desired =
        Desired::Enabled { frequency: args.frequency, features: want.cloned(), tags: Default::default() };
    let desired = &desired;
    org.ctx
        .each_region("org enable", args.dry_run, Some(printer), |job: Job| async move {
            let mut r = enable_region(org, args, want, desired, &job.client, &job.region, &job.sent).await;
            mark_unknown(&mut r, &job.sent);
            r
        })
        .await
}

async fn enable_region(
    org: &Org<'_>,
    args: &OrgEnableArgs,
    want: Option<&Wanted>,
    desired: &Desired,
    mgmt: &Client,
    region: &str,
    sent: &WriteSent,
) -> RegionReport {
    let admin = args.admin_account.as_str();
    let dry_run = args.dry_run;
    let mut changes = Vec::new();
    let mut state = OrgRegion { administrator: Some(admin.to_string()), ..OrgRegion::default() };

    // 1. The management account names the administrator, never replacing
    // another. The administrator's side is read beside it, so a role that
    // cannot be assumed fails the region before anything is written.
    let gd = org.admin_client(admin, region).await;
    let (listed, seen) = futures::join!(calls::admins(mgmt), observe(&gd, desired.needs_details()));
    let listed = match listed {
        Ok(l) => l,
        Err(e) => return RegionReport::failed(region, e),
    };
    let seen = match seen {
        Ok(seen) => seen,
        Err(e) => return org.admin_failed(admin, region, with_hint(e)),
    };
    let step = match org_plan::admin_step(&listed, admin) {
        Ok(step) => step,
        Err(why) => {
            let mut r = RegionReport::failed(region, RegionError::new("OtherAdministrator", why));
            r.org = Some(OrgRegion { administrator: listed.first().cloned(), ..OrgRegion::default() });
            return r;
        }
    };
    if step == AdminStep::Enable {
        changes.push("admin set".to_string());
        if dry_run {
            // Nothing of the administrator's side can be read before it is one.
            return would_enable_new_admin(org, args, want, region, changes, state);
        }
        if let Err(e) = calls::enable_admin(mgmt, admin, sent).await {
            return RegionReport::failed(region, e);
        }
    }

    // 2. The administrator's detector (created by the service for a new
    // administrator that had none), converged as `enable` does.
    let seen = match (step, seen.is_empty()) {
        (AdminStep::Enable, true) => {
            match calls::wait_for_detector(&gd, DETECTOR_WAIT.min(org.ctx.session.timeout / 2)).await {
                Ok(seen) => seen,
                Err(e) => return org.admin_failed(admin, region, e),
            }
        }
        _ => seen,
    };
    let own = converge_seen(&gd, region, desired, dry_run, &sent.scoped("admin detector"), seen).await;
    if own.error.is_some() {
        return org.admin_report(admin, own);
    }
    changes.extend(detector_changes("admin", &own));
    let Some(detector) = own.detector_id.clone() else {
        let e = RegionError::new("NoDetector", "the administrator has no detector");
        return org.admin_failed(admin, region, e);
    };

    // The organization configuration and the members, read side by side.
    let (config, members) =
        futures::join!(calls::configuration(&gd, &detector), calls::members(&gd, &detector));
    let (config, members) = match (config, members) {
        (Ok(c), Ok(m)) => (c, m),
        (Err(e), _) | (_, Err(e)) => return org.admin_failed(admin, region, e),
    };
    // Auto-enable and the plans, where they differ.
    let plan = org_plan::config_plan(&config, args.auto_enable, want);
    changes.extend(plan.changes.iter().cloned());
    state.auto_enable = Some(args.auto_enable.api_name().to_string());
    state.plans = config.plans;
    for p in &plan.plans {
        let setting = state.plans.entry(p.feature.api_name().to_string()).or_default();
        setting.auto_enable = p.auto_enable.to_string();
        for (a, v) in &p.agents {
            setting.additional.insert(a.api_name().to_string(), v.to_string());
        }
    }
    // 3. Every ACTIVE account not yet an enabled member becomes one.
    let enabled: Vec<String> =
        members.into_iter().filter(|(_, status)| status == "Enabled").map(|(id, _)| id).collect();
    let missing = org_plan::uncovered(&org.accounts, &enabled, admin);

    // The configuration's update and the members' enrolment do not depend on
    // each other: side by side.
    let update = async {
        match plan.is_empty() || dry_run {
            true => Ok(()),
            false => calls::update_configuration(&gd, &detector, &plan, sent).await,
        }
    };
    let enroll = async {
        let mut made = Vec::new();
        // The management account can only be a member with its own detector on.
        if missing.iter().any(|a| org.management_is(&a.id)) {
            let own = converge(mgmt, region, desired, dry_run, &sent.scoped("management detector")).await;
            if own.error.is_some() {
                return (made, Err(own));
            }
            made.extend(detector_changes("management", &own));
        }
        if missing.is_empty() || dry_run {
            return (made, Ok(Vec::new()));
        }
        let created = calls::create_members(&gd, &detector, &missing, sent).await;
        (made, created.map_err(|e| org.admin_failed(admin, region, e)))
    };
    // Plans at NEW reach only accounts that become members afterwards: then
    // the configuration goes first.
    let (updated, (made, enrolled)) = if plan.plans.is_empty() || args.auto_enable == AutoEnable::All {
        futures::join!(update, enroll)
    } else {
        let updated = update.await;
        (updated, enroll.await)
    };
    changes.extend(made);
    // A failure from here on keeps the changes already made: the fan-out
    // takes them from the region's journal of writes.
    if let Err(e) = updated {
        return org.admin_failed(admin, region, e);
    }
    let unprocessed = match enrolled {
        Ok(u) => u,
        Err(r) => return r,
    };
    let added = if dry_run { missing.len() } else { missing.len() - unprocessed.len() };
    if added > 0 {
        changes.push(format!("+{added} member{}", if added == 1 { "" } else { "s" }));
    }
    state.accounts = org.accounts.iter().filter(|a| a.id != admin).count();
    if dry_run {
        state.members_enabled = enabled.len();
        state.uncovered = missing.iter().map(|a| a.id.clone()).collect();
    } else {
        state.members_enabled = enabled.len() + added;
        state.uncovered = unprocessed.iter().map(|(id, _)| id.clone()).collect();
    }

    let outcome = if changes.is_empty() { Outcome::Unchanged } else { Outcome::Updated };
    let mut r = RegionReport::new(region, outcome);
    r.detector_id = Some(detector);
    r.changes = changes;
    r.org = Some(state);
    if !unprocessed.is_empty() {
        r.outcome = Outcome::Failed;
        r.error = Some(calls::unprocessed_error("CreateMembers", &unprocessed));
    }
    r
}

/// What converging an account's own detector did, in the org report's words:
/// `admin detector created`, `admin detector +s3-data-events`,
/// `admin detector SIX_HOURS -> FIFTEEN_MINUTES`.
fn detector_changes(whose: &str, r: &RegionReport) -> Vec<String> {
    let mut out = Vec::new();
    if matches!(r.outcome, Outcome::Created | Outcome::Resumed) {
        out.push(format!("{whose} detector {}", r.outcome.label(false)));
    }
    if let (Some(from), Some(to)) = (&r.previous_frequency, &r.frequency) {
        out.push(format!("{whose} detector {from} -> {to}"));
    }
    out.extend(r.changes.iter().map(|c| format!("{whose} detector {c}")));
    out
}

/// A dry run where the administrator is not named yet: what naming it brings.
fn would_enable_new_admin(
    org: &Org<'_>,
    args: &OrgEnableArgs,
    want: Option<&Wanted>,
    region: &str,
    mut changes: Vec<String>,
    mut state: OrgRegion,
) -> RegionReport {
    let fresh = org_plan::OrgConfig::default();
    changes.extend(org_plan::config_plan(&fresh, args.auto_enable, want).changes);
    let missing = org_plan::uncovered(&org.accounts, &[], &args.admin_account);
    if !missing.is_empty() {
        changes.push(format!("+{} member{}", missing.len(), if missing.len() == 1 { "" } else { "s" }));
    }
    state.accounts = missing.len();
    state.uncovered = missing.iter().map(|a| a.id.clone()).collect();
    let mut r = RegionReport::new(region, Outcome::Updated);
    r.changes = changes;
    r.org = Some(state);
    r
}

pub async fn status(
    org: &Org<'_>,
    args: &OrgStatusArgs,
    want: Option<&Wanted>,
    printer: &mut Printer<'_>,
) -> Report {
    org.ctx
        .each_region("org status", false, Some(printer), |job: Job| async move {
            status_region(org, args, want, &job.client, &job.region).await
        })
        .await
}

async fn status_region(
    org: &Org<'_>,
    args: &OrgStatusArgs,
    want: Option<&Wanted>,
    mgmt: &Client,
    region: &str,
) -> RegionReport {
    let listed = match calls::admins(mgmt).await {
        Ok(l) => l,
        Err(e) => return RegionReport::failed(region, e),
    };
    let admin = listed.first().cloned();
    let expected = args.admin_account.as_deref();
    let mut state = OrgRegion { administrator: admin.clone(), ..OrgRegion::default() };
    let mut config = None;
    let mut detector = None;
    match &admin {
        None => {
            let everyone = org_plan::uncovered(&org.accounts, &[], "");
            state.accounts = everyone.len();
            state.uncovered = everyone.iter().map(|a| a.id.clone()).collect();
        }
        Some(admin) => {
            let gd = org.admin_client(admin, region).await;
            let id = match calls::detector(&gd).await {
                Ok(Some(id)) => id,
                Ok(None) => {
                    let e = RegionError::new(
                        "NoDetector",
                        format!("the administrator {admin} has no detector here"),
                    );
                    return org.admin_failed(admin, region, e);
                }
                Err(e) => return org.admin_failed(admin, region, e),
            };
            let (found, members) =
                match futures::join!(calls::configuration(&gd, &id), calls::members(&gd, &id)) {
                    (Ok(c), Ok(m)) => (c, m),
                    (Err(e), _) | (_, Err(e)) => return org.admin_failed(admin, region, e),
                };
            let enabled: Vec<String> =
                members.into_iter().filter(|(_, s)| s == "Enabled").map(|(id, _)| id).collect();
            let missing = org_plan::uncovered(&org.accounts, &enabled, admin);
            // With --check --features: the members' own plans, not only auto-enable's.
            if let (true, Some(want), false) = (args.check, want, enabled.is_empty()) {
                match calls::member_plans(&gd, &id, &enabled).await {
                    Ok((plans, unread)) => {
                        for (member, features) in plans {
                            let diff = features::diff(want, &features);
                            if !diff.is_empty() {
                                state
                                    .plans_differ
                                    .insert(member, diff.iter().map(|c| c.to_string()).collect());
                            }
                        }
                        // Not read is not in line.
                        for (member, why) in unread {
                            state.plans_differ.insert(member, vec![format!("not read: {why}")]);
                        }
                    }
                    Err(e) => return org.admin_failed(admin, region, e),
                }
            }
            state.accounts = org.accounts.iter().filter(|a| &a.id != admin).count();
            state.members_enabled = state.accounts - missing.len();
            state.uncovered = missing.iter().map(|a| a.id.clone()).collect();
            state.auto_enable =
                Some(if found.auto_enable.is_empty() { "NONE".into() } else { found.auto_enable.clone() });
            state.plans = found.plans.clone();
            detector = Some(id);
            config = Some(found);
        }
    }
    let outcome = if admin.is_some() { Outcome::Enabled } else { Outcome::NotEnabled };
    let mut r = RegionReport::new(region, outcome);
    r.detector_id = detector;
    if args.check {
        let reasons = org_plan::out_of_line(
            admin.as_deref(),
            expected,
            config.as_ref(),
            args.auto_enable,
            want,
            state.uncovered.len(),
            state.plans_differ.len(),
        );
        r.in_line = Some(reasons.is_empty());
        r.out_of_line = reasons;
    }
    r.org = Some(state);
    r
}

pub async fn disable(
    org: &Org<'_>,
    args: &OrgDisableArgs,
    printer: &mut Printer<'_>,
) -> Result<Report, SetupError> {
    let work = |dry_run| {
        move |job: Job| async move {
            let mut r =
                disable_region(org, &args.admin_account, dry_run, &job.client, &job.region, &job.sent).await;
            mark_unknown(&mut r, &job.sent);
            r
        }
    };
    // Removing the administrator ends its view of every member: a person at a
    // terminal sees where first. Without a terminal (CI) there is nobody to ask.
    let removes = |r: &RegionReport| r.outcome == Outcome::Updated;
    let admin = args.admin_account.as_str();
    org.ctx
        .each_region_confirmed(
            "org disable",
            (args.yes, args.dry_run),
            printer,
            work,
            removes,
            |shown, unread| prompt::admin_removal(admin, shown, unread),
        )
        .await
}

/// AWS's order for removing a delegated administrator: auto-enable to NONE,
/// the members disassociated, then DisableOrganizationAdminAccount.
async fn disable_region(
    org: &Org<'_>,
    admin: &str,
    dry_run: bool,
    mgmt: &Client,
    region: &str,
    sent: &WriteSent,
) -> RegionReport {
    let listed = match calls::admins(mgmt).await {
        Ok(l) => l,
        Err(e) => return RegionReport::failed(region, e),
    };
    if !listed.iter().any(|a| a == admin) {
        let mut r = RegionReport::new(region, Outcome::Absent);
        r.note = Some(match listed.first() {
            Some(other) => format!("the administrator is {other}: left alone"),
            None => "no delegated administrator".to_string(),
        });
        r.org = Some(OrgRegion { administrator: listed.first().cloned(), ..OrgRegion::default() });
        return r;
    }
    let mut changes = Vec::new();
    let gd = org.admin_client(admin, region).await;
    let detector = match calls::detector(&gd).await {
        Ok(d) => d,
        Err(e) => return org.admin_failed(admin, region, e),
    };
    if let Some(id) = &detector {
        let (config, members) = match futures::join!(calls::configuration(&gd, id), calls::members(&gd, id)) {
            (Ok(c), Ok(m)) => (c, m),
            (Err(e), _) | (_, Err(e)) => return org.admin_failed(admin, region, e),
        };
        // Auto-enable off first, so the members disassociated next are not enrolled again.
        let plan = org_plan::config_plan(&config, AutoEnable::None, None);
        if !plan.is_empty() && !dry_run {
            if let Err(e) = calls::update_configuration(&gd, id, &plan, sent).await {
                return org.admin_failed(admin, region, e);
            }
        }
        changes.extend(plan.changes);
        let associated: Vec<String> =
            members.into_iter().filter(|(_, s)| s != "Removed").map(|(id, _)| id).collect();
        if !associated.is_empty() {
            if !dry_run {
                match calls::disassociate_members(&gd, id, &associated, sent).await {
                    Ok(u) if u.is_empty() => {}
                    Ok(u) => {
                        return RegionReport::failed(
                            region,
                            calls::unprocessed_error("DisassociateMembers", &u),
                        )
                    }
                    Err(e) => return org.admin_failed(admin, region, e),
                }
            }
            changes.extend(calls::members_changed('-', associated.len()));
        }
    }
    if !dry_run {
        if let Err(e) = calls::disable_admin(mgmt, admin, sent).await {
            return RegionReport::failed(region, with_hint(e));
        }
    }
    changes.push("admin removed".to_string());
    let mut r = RegionReport::new(region, Outcome::Updated);
    r.detector_id = detector;
    r.changes = changes;
    r.note = Some("member detectors stay enabled".to_string());
    r.org = Some(OrgRegion { administrator: None, ..OrgRegion::default() });
    r
}
