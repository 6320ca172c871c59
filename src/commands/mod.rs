//! One file per command. Each turns its arguments into per-region work; the
//! fan-out, the clients and the report are shared here.

pub mod disable;
pub mod enable;
pub mod status;

use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

use tracing::debug;

use crate::cli::Global;
use crate::fanout::{fan_out, WriteSent};
use crate::interrupt::Signals;
use crate::output::Printer;
use crate::regions::Selection;
use crate::report::{RegionReport, Report};
use crate::session::Session;

/// What every command works with: the loaded session, its account and the chosen regions.
pub struct Context<'a> {
    pub session: &'a Session,
    pub account: &'a str,
    pub selection: &'a Selection,
    pub global: &'a Global,
}

impl Context<'_> {
    /// Run `work` in every target region, print each region as it finishes,
    /// and gather the report. With a printer (the real run, not a preview) a
    /// first SIGINT or SIGTERM ends the run early with a whole report.
    pub async fn each_region<F, Fut>(
        &self,
        command: &'static str,
        dry_run: bool,
        mut printer: Option<&mut Printer<'_>>,
        work: F,
    ) -> Report
    where
        F: Fn(aws_sdk_guardduty::Client, String, Rc<WriteSent>) -> Fut,
        Fut: Future<Output = RegionReport>,
    {
        let targets = &self.selection.targets;
        if let Some(p) = printer.as_deref_mut() {
            p.prepare(targets, &self.selection.skipped, dry_run);
        }
        let mut signals = match printer {
            Some(_) => match Signals::listen() {
                Ok(s) => Some(s),
                // Without a handler a signal ends the run the usual way.
                Err(e) => {
                    debug!(error = %e, "cannot handle signals");
                    None
                }
            },
            None => None,
        };
        let started = Instant::now();
        let session = self.session;
        let run = fan_out(
            targets,
            usize::from(self.global.concurrency),
            self.global.timeout,
            signals.as_mut(),
            |region, sent| {
                let job = work(session.guardduty(region), region.to_string(), sent);
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
                    region = %report.region,
                    outcome = report.outcome.label(dry_run),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "region finished"
                );
                if let Some(p) = printer.as_deref_mut() {
                    p.region(report);
                }
            },
        )
        .await;
        if let Some(p) = printer {
            for r in run.reports.iter().filter(|r| r.outcome == crate::plan::Outcome::NotStarted) {
                p.region(r);
            }
        }
        let skipped = self.selection.skipped.clone();
        Report::new(command, self.account, &session.home_region, dry_run, run.reports, skipped)
            .interrupted_by(run.interrupted)
    }
}
