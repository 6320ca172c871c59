//! One file per command. Each turns its arguments into per-region work; the
//! fan-out, the clients and the report are shared here.

pub mod disable;
pub mod enable;
pub mod status;

use std::future::Future;
use std::time::Instant;

use tracing::debug;

use crate::cli::Global;
use crate::fanout::fan_out;
use crate::output::Printer;
use crate::regions::Selection;
use crate::report::{RegionReport, Report};
use crate::session::Session;

/// What every command works with: the loaded session and the chosen regions.
pub struct Context<'a> {
    pub session: &'a Session,
    pub selection: &'a Selection,
    pub global: &'a Global,
}

impl Context<'_> {
    /// Run `work` in every target region, print each region as it finishes,
    /// and gather the report.
    pub async fn each_region<F, Fut>(
        &self,
        command: &'static str,
        dry_run: bool,
        mut printer: Option<&mut Printer<'_>>,
        work: F,
    ) -> Report
    where
        F: Fn(aws_sdk_guardduty::Client, String) -> Fut,
        Fut: Future<Output = RegionReport>,
    {
        let targets = &self.selection.targets;
        if let Some(p) = printer.as_deref_mut() {
            p.prepare(targets, &self.selection.skipped, dry_run);
        }
        let started = Instant::now();
        let reports = fan_out(
            targets,
            usize::from(self.global.concurrency),
            self.global.timeout,
            |region| work(self.session.guardduty(region), region.to_string()),
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
        Report::new(command, &self.session.home_region, dry_run, reports, self.selection.skipped.clone())
    }
}
