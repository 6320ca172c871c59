//! One file per command. Each turns its arguments into per-region work; the
//! accounts, the fan-out, the clients and the report are shared here.

pub mod apply;
pub mod disable;
pub mod enable;
pub mod findings;
pub mod org;
pub mod status;
pub mod usage;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use tracing::debug;

use crate::accounts::{AccountReport, Caller, Opened, Role};
use crate::cli::Global;
use crate::error::{RegionError, SetupError};
use crate::fanout::{fan_out, Place, WriteSent};
use crate::interrupt::Signals;
use crate::output::Printer;
use crate::plan::Outcome;
use crate::prompt;
use crate::regions::{self, Described};
use crate::report::{RegionReport, Report};
use crate::session::Session;

/// The accounts of a run.
pub enum Accounts {
    /// The caller's account alone, its regions chosen already.
    One(Rc<Opened>),
    /// Many accounts, each opened (role assumed, regions listed) as the
    /// fan-out reaches it. `caller_regions` is the caller's own
    /// DescribeRegions answer, for its account if listed.
    Many { ids: Vec<String>, role: Role, caller_regions: Vec<Described> },
}

/// What every command works with: the loaded session, who runs it, the
/// accounts, and the accounts opened so far (a preview and the run share them).
pub struct Context<'a> {
    pub session: &'a Session,
    pub caller: &'a Caller,
    pub accounts: &'a Accounts,
    pub global: &'a Global,
    opened: RefCell<BTreeMap<String, Result<Rc<Opened>, RegionError>>>,
    /// Role assumptions start at most `--assume-role-rate` in any second.
    role_starts: RefCell<crate::limits::RateCeiling>,
}

/// One region's work, as a command gets it.
pub struct Job {
    /// The account worked in.
    pub account: String,
    /// The account's GuardDuty client in the region.
    pub client: aws_sdk_guardduty::Client,
    pub region: String,
    pub sent: Rc<WriteSent>,
    /// After a confirmation: what the question showed of this region (the
    /// preview's report), which is all the work may change.
    pub shown: Option<RegionReport>,
}

/// What a question showed: the preview's report of every place, and which
/// of them it asked about. Only those are worked on; the others keep their
/// preview's report.
pub struct Asked {
    preview: BTreeMap<(String, String), RegionReport>,
    will_change: fn(&RegionReport) -> bool,
}

impl Asked {
    pub fn new(preview: &Report, will_change: fn(&RegionReport) -> bool) -> Asked {
        let preview =
            preview.regions.iter().map(|r| ((r.account.clone(), r.region.clone()), r.clone())).collect();
        Asked { preview, will_change }
    }

    /// A place the question did not show, read again after it, where there
    /// is now something it would change: left alone, and a failure.
    fn appeared(now: RegionReport) -> RegionReport {
        let what = match &now.detector_id {
            Some(id) => format!("detector {id}"),
            None => "a change".to_string(),
        };
        let e = RegionError::new(
            "ChangedSinceAsked",
            format!("{what} appeared after the question, which did not show it: left alone; run again"),
        );
        RegionReport { detector_id: now.detector_id, ..RegionReport::failed(&now.region, e) }
    }

    /// What the question made of a place.
    fn place(&self, account: &str, region: &str) -> AskedPlace {
        match self.preview.get(&(account.to_string(), region.to_string())) {
            Some(r) if (self.will_change)(r) => AskedPlace::Shown(r.clone()),
            Some(r) if r.is_failure() => {
                let mut r = r.clone();
                if let Some(e) = r.error.as_mut() {
                    e.message = format!("{} (could not be read before asking: left alone)", e.message);
                }
                r.outcome = Outcome::Failed;
                AskedPlace::Unread(r)
            }
            Some(_) => AskedPlace::NotShown,
            None => AskedPlace::Unread(RegionReport::failed(
                region,
                RegionError::new("NotAsked", "not read before asking: left alone"),
            )),
        }
    }
}

/// A place after a question.
enum AskedPlace {
    /// The question showed it: it is worked on, given what was shown.
    Shown(RegionReport),
    /// Nothing to change was shown: it is read again, never changed.
    NotShown,
    /// It could not be read before asking: left alone, a failure.
    Unread(RegionReport),
}

/// One region of one opened account.
struct Unit {
    account: Rc<Opened>,
    region: String,
}

impl Place for Unit {
    fn account(&self) -> &str {
        &self.account.id
    }
    fn region(&self) -> &str {
        &self.region
    }
}

impl<'a> Context<'a> {
    pub fn new(session: &'a Session, caller: &'a Caller, accounts: &'a Accounts, global: &'a Global) -> Self {
        let mut opened = BTreeMap::new();
        if let Accounts::One(one) = accounts {
            opened.insert(one.id.clone(), Ok(one.clone()));
        }
        Context {
            session,
            caller,
            accounts,
            global,
            opened: RefCell::new(opened),
            role_starts: RefCell::new(crate::limits::RateCeiling::new(global.accounts.assume_role_rate())),
        }
    }

    fn ids(&self) -> Vec<String> {
        match self.accounts {
            Accounts::One(one) => vec![one.id.clone()],
            Accounts::Many { ids, .. } => ids.clone(),
        }
    }

    /// Get into an account once per run: its configuration and its regions.
    async fn open(&self, id: String) -> Result<Rc<Opened>, RegionError> {
        if let Some(done) = self.opened.borrow().get(&id) {
            return done.clone();
        }
        let result = self.open_uncached(&id).await.map(Rc::new);
        self.opened.borrow_mut().insert(id, result.clone());
        result
    }

    async fn open_uncached(&self, id: &str) -> Result<Opened, RegionError> {
        let Accounts::Many { role, caller_regions, .. } = self.accounts else {
            unreachable!("the one account is opened before the run")
        };
        let (s, g) = (self.session, self.global);
        let home = &s.home_region;
        let (config, role_arn, described) = if id == self.caller.account {
            // The caller's own account: its own credentials, never the role.
            (s.config.clone(), None, caller_regions.clone())
        } else {
            let config = role.config_for(id, &s.config, s.sts_endpoint()).await;
            // The first call with the role's credentials assumes it.
            self.pace_role_assumption().await;
            let described = regions::describe(&s.ec2(&config)).await.map_err(|e| {
                let mut e = e.at(&s.endpoint("ec2", home), s.timeout);
                if e.message.starts_with("AssumeRole failed") {
                    e.hint = Some(role.hint(id, &self.caller.account).into());
                }
                e
            })?;
            (config, Some(role.arn(id)), described)
        };
        let selection = regions::select(&described, home, &g.regions, &g.exclude_regions)
            .map_err(|e| RegionError::new("UnknownRegion", e.to_string()))?
            .of_account(id);
        Ok(Opened::new(id.to_string(), &config, role_arn, selection))
    }

    /// Wait for this role assumption's turn: at most `--assume-role-rate`
    /// start in any one second. The n-th starts no sooner than a second after
    /// the (n - rate)-th did, so a whole second's worth may start at once and
    /// the rest follow as the window moves on. STS allows about 600 AssumeRole
    /// calls a second per calling account and region: paced below that, a
    /// large organization is not throttled into failures.
    async fn pace_role_assumption(&self) {
        let start = self.role_starts.borrow_mut().next(tokio::time::Instant::now());
        tokio::time::sleep_until(start).await;
    }

    /// A run that destroys (`disable`, `org disable`): where a person may be
    /// at a terminal, a read-only preview first, a question showing every
    /// place `will_change` picks (and those that could not be read), and on
    /// yes a run that changes only those. `work(dry_run)` is the region's
    /// work. With --yes, --dry-run or no terminal at all: the run alone.
    pub async fn each_region_confirmed<W, F, Fut>(
        &self,
        command: &'static str,
        (yes, dry_run): (bool, bool),
        printer: &mut Printer<'_>,
        work: W,
        will_change: fn(&RegionReport) -> bool,
        question: impl FnOnce(&[&RegionReport], &[&RegionReport]) -> prompt::Question,
    ) -> Result<Report, SetupError>
    where
        W: Fn(bool) -> F,
        F: Fn(Job) -> Fut,
        Fut: Future<Output = RegionReport>,
    {
        let mut terminal = match (yes || dry_run, prompt::Terminal::find()) {
            (false, Some(t)) => t,
            _ => return Ok(self.each_region(command, dry_run, Some(printer), work(dry_run)).await),
        };
        let preview = self.each_region(command, true, None, work(true)).await;
        let shown: Vec<&RegionReport> = preview.regions.iter().filter(|r| will_change(r)).collect();
        if !shown.is_empty() {
            // Accounts that could not be opened are named too: nothing is done in them.
            let closed: Vec<RegionReport> = preview
                .accounts
                .iter()
                .filter_map(|a| {
                    let mut r = RegionReport::failed("(the account)", a.error.clone()?);
                    r.account = a.account.clone();
                    Some(r)
                })
                .collect();
            let unread: Vec<&RegionReport> =
                preview.regions.iter().filter(|r| r.is_failure()).chain(closed.iter()).collect();
            let question = question(&shown, &unread);
            if !terminal.confirm(&question)? {
                return Err(SetupError::Declined(question.declined));
            }
        }
        let asked = Asked::new(&preview, will_change);
        let read_only = work(true);
        Ok(self
            .each_region_asked(command, false, Some(printer), Some((&asked, &read_only)), work(false))
            .await)
    }

    /// Run `work` in every target region of every account, print each as it
    /// finishes, and gather the report. With a printer (the real run, not a
    /// preview) a first SIGINT or SIGTERM ends the run early with a whole report.
    pub async fn each_region<F, Fut>(
        &self,
        command: &'static str,
        dry_run: bool,
        printer: Option<&mut Printer<'_>>,
        work: F,
    ) -> Report
    where
        F: Fn(Job) -> Fut,
        Fut: Future<Output = RegionReport>,
    {
        self.each_region_asked(command, dry_run, printer, None, work).await
    }

    /// `each_region`, after a question: only the places it asked about are
    /// worked on (each given what it showed); the others are reported as the
    /// preview found them, and one whose preview failed fails.
    pub async fn each_region_asked<F, Fut>(
        &self,
        command: &'static str,
        dry_run: bool,
        printer: Option<&mut Printer<'_>>,
        asked: Option<(&Asked, &F)>,
        work: F,
    ) -> Report
    where
        F: Fn(Job) -> Fut,
        Fut: Future<Output = RegionReport>,
    {
        let session = self.session;
        let ids = self.ids();
        let real_run = printer.is_some();
        let printer = RefCell::new(printer);
        if let Some(p) = printer.borrow_mut().as_deref_mut() {
            match self.accounts {
                Accounts::One(one) => p.prepare(&one.selection.targets, &one.selection.skipped, dry_run),
                Accounts::Many { ids, .. } => p.prepare_many(ids.len(), dry_run),
            }
        }
        let mut signals = if real_run {
            Signals::listen()
                .inspect_err(|e| debug!(error = %e, "cannot handle signals; they end the run the usual way"))
                .ok()
        } else {
            None
        };
        let started = Instant::now();
        let places = stream::iter(ids.clone())
            .map(|id| async move {
                let opened = self.open(id.clone()).await;
                (id, opened)
            })
            .buffer_unordered(usize::from(self.global.concurrency))
            .flat_map(|(id, opened)| {
                let units: Vec<Unit> = match opened {
                    Ok(account) => {
                        if let Some(p) = printer.borrow_mut().as_deref_mut() {
                            p.account_opened(&account);
                        }
                        let regions = account.selection.targets.clone();
                        regions.into_iter().map(|region| Unit { account: account.clone(), region }).collect()
                    }
                    Err(e) => {
                        if let Some(p) = printer.borrow_mut().as_deref_mut() {
                            p.account_failed(&id, &e);
                        }
                        Vec::new()
                    }
                };
                stream::iter(units)
            });
        let run = fan_out(
            places,
            crate::limits::concurrency(self.global.concurrency),
            self.global.timeout,
            signals.as_mut(),
            |unit: &Unit, sent| {
                let region = unit.region.clone();
                // After a question: a place it showed is worked on; one it did
                // not is read again (never changed), so the report says what
                // is there now; one that could not be read stays a failure.
                let place = asked
                    .map(|(a, read_only)| (a.place(&unit.account.id, &region), read_only, a.will_change));
                let (run, shown, recheck, unread) = match place {
                    None => (&work, None, None, None),
                    Some((AskedPlace::Shown(shown), _, _)) => (&work, Some(shown), None, None),
                    Some((AskedPlace::NotShown, read_only, will_change)) => {
                        (read_only, None, Some(will_change), None)
                    }
                    Some((AskedPlace::Unread(failed), read_only, _)) => (read_only, None, None, Some(failed)),
                };
                let job = unread.is_none().then(|| {
                    let client = session.shared_guardduty(&region);
                    let work = run(Job { account: unit.account.id.clone(), client, region, sent, shown });
                    crate::identity::in_account(unit.account.credentials.clone(), work)
                });
                async move {
                    let Some(job) = job else { return unread.expect("a place not worked on is reported") };
                    let now = job.await;
                    match recheck.is_some_and(|changes| changes(&now)) {
                        true => Asked::appeared(now),
                        false => now,
                    }
                }
            },
            |report| {
                // Where the call went, for failures with no AWS answer: the
                // deadline's cut included, which the fan-out made.
                if let Some(e) = report.error.take() {
                    report.error =
                        Some(e.at(&session.endpoint("guardduty", &report.region), session.timeout));
                }
                debug!(
                    account = %report.account,
                    region = %report.region,
                    outcome = report.outcome.label(dry_run),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "region finished"
                );
                if let Some(p) = printer.borrow_mut().as_deref_mut() {
                    p.region(report);
                }
            },
        )
        .await;

        // Whatever the interruption left out is reported as not started.
        let mut reports = run.reports;
        let mut skipped = Vec::new();
        let mut accounts = Vec::new();
        let opened = self.opened.borrow();
        for id in &ids {
            let mut account = AccountReport {
                account: id.clone(),
                outcome: "ok",
                role_arn: None,
                targets: 0,
                succeeded: 0,
                failed: 0,
                skipped: 0,
                out_of_line: None,
                outcomes: BTreeMap::new(),
                error: None,
            };
            match opened.get(id) {
                Some(Ok(o)) => {
                    account.role_arn = o.role_arn.clone();
                    skipped.extend(o.selection.skipped.iter().cloned());
                    for region in &o.selection.targets {
                        if !reports.iter().any(|r| &r.account == id && &r.region == region) {
                            let mut r = RegionReport::new(region, Outcome::NotStarted);
                            r.account = id.clone();
                            if let Some(p) = printer.borrow_mut().as_deref_mut() {
                                p.region(&r);
                            }
                            reports.push(r);
                        }
                    }
                    // Interrupted before any of its regions started: not started.
                    let mine = || reports.iter().filter(|r| &r.account == id);
                    if mine().next().is_some() && mine().all(|r| r.outcome == Outcome::NotStarted) {
                        account.outcome = "not-started";
                    }
                }
                Some(Err(e)) => {
                    account.outcome = "failed";
                    account.error = Some(e.clone());
                    if let Accounts::Many { role, .. } = self.accounts {
                        account.role_arn = (id != &self.caller.account).then(|| role.arn(id));
                    }
                }
                None => account.outcome = "not-started",
            }
            accounts.push(account);
        }
        Report::new(command, &self.caller.account, &session.home_region, dry_run, reports, skipped, accounts)
            .interrupted(run.interrupted)
    }
}
