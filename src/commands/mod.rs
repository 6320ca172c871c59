//! One file per command. Each turns its arguments into per-region work; the
//! accounts, the fan-out, the clients and the report are shared here.

pub mod disable;
pub mod enable;
pub mod org;
pub mod status;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use tracing::debug;

use crate::accounts::{AccountReport, Caller, Opened, Role};
use crate::cli::Global;
use crate::error::RegionError;
use crate::fanout::{fan_out, Place, WriteSent};
use crate::interrupt::Signals;
use crate::output::Printer;
use crate::plan::Outcome;
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
    /// Role assumptions are started one slot apart from here on.
    pace_from: tokio::time::Instant,
    assumed: std::cell::Cell<u32>,
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
            pace_from: tokio::time::Instant::now(),
            assumed: std::cell::Cell::new(0),
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
        Ok(Opened { id: id.to_string(), config, role_arn, selection })
    }

    /// Wait for this role assumption's slot: after the first rate/2, the n-th
    /// starts (n - rate/2)/rate seconds after the first, or at once if that
    /// time has passed. STS allows about 600 AssumeRole calls a second per
    /// calling account and region: paced below that, a large organization is
    /// not throttled into failures (the SDK's retries absorb the rest).
    async fn pace_role_assumption(&self) {
        let n = self.assumed.get();
        self.assumed.set(n + 1);
        // A token bucket: half a second's worth start at once, the rest at the rate.
        let rate = self.global.accounts.assume_role_rate;
        let slot = Duration::from_secs(1) / rate * n.saturating_sub(rate / 2);
        tokio::time::sleep_until(self.pace_from + slot).await;
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
        F: Fn(aws_sdk_guardduty::Client, String, Rc<WriteSent>) -> Fut,
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
                let job = work(session.guardduty(&unit.account.config, &region), region, sent);
                async move {
                    let mut report = job.await;
                    if let Some(e) = report.error.take() {
                        report.error =
                            Some(e.at(&session.endpoint("guardduty", &report.region), session.timeout));
                    }
                    report
                }
            },
            |report| {
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
