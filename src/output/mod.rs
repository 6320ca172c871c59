//! Where reports go: stdout, as aligned text lines while regions finish, or as
//! one JSON document at the end. The writer is passed in so tests capture it.
//! With many accounts at a terminal, a progress line goes to stderr.

mod json;
mod progress;
mod text;

use std::io::{self, Write};

use crate::accounts::Opened;
use crate::cli::OutputFormat;
use crate::error::RegionError;
use crate::regions::Skipped;
use crate::report::{RegionReport, Report};

pub struct Printer<'w> {
    out: &'w mut dyn Write,
    format: OutputFormat,
    layout: text::Layout,
    progress: Option<progress::Progress>,
    /// The first write error; later writes are not attempted (say, a closed pipe).
    failed: Option<io::Error>,
    /// Text region lines held for the end, most expensive first (`usage`).
    held: Option<Vec<RegionReport>>,
}

impl<'w> Printer<'w> {
    /// `list_all`: with many accounts, list the regions that did not change too.
    pub fn new(out: &'w mut dyn Write, format: OutputFormat, color: bool, list_all: bool) -> Self {
        Printer {
            out,
            format,
            layout: text::Layout::new(color, list_all),
            progress: None,
            failed: None,
            held: None,
        }
    }

    /// Text: region lines at the end, ranked (most expensive first for
    /// `usage`, most severe findings first for `findings`), not as they finish.
    pub fn hold_ranked(&mut self) {
        if self.format == OutputFormat::Text {
            self.held = Some(Vec::new());
        }
    }

    /// Size the text columns for the regions that will be reported.
    pub fn prepare(&mut self, targets: &[String], skipped: &[Skipped], dry_run: bool) {
        self.layout.fit(targets.iter().chain(skipped.iter().map(|s| &s.region)), dry_run);
    }

    /// Many accounts: lines carry the account, and a terminal shows progress.
    pub fn prepare_many(&mut self, accounts: usize, dry_run: bool) {
        self.layout.fit_many(dry_run);
        self.progress = progress::Progress::at_terminal(accounts);
    }

    pub fn account_opened(&mut self, account: &Opened) {
        if let Some(p) = &self.progress {
            p.account_opened(&account.id, account.selection.targets.len());
        }
    }

    pub fn account_failed(&mut self, account: &str, error: &RegionError) {
        if let Some(p) = &self.progress {
            p.account_failed();
        }
        if self.format == OutputFormat::Text {
            let line = self.layout.account_failed(account, error);
            self.line(&line);
        }
    }

    pub fn region(&mut self, r: &RegionReport) {
        if let Some(p) = &self.progress {
            p.region_done(&r.account, r.is_failure());
        }
        if let Some(held) = self.held.as_mut() {
            held.push(r.clone());
        } else if self.format == OutputFormat::Text {
            if let Some(line) = self.layout.region(r) {
                self.line(&line);
            }
        }
    }

    fn line(&mut self, line: &str) {
        let out = &mut *self.out;
        let mut write = || writeln!(out, "{line}").and_then(|_| out.flush());
        let res = match &self.progress {
            // Keep the progress line off the report's lines at a shared terminal.
            Some(p) => p.suspend(write),
            None => write(),
        };
        self.note(res);
    }

    /// Write the end of the report; returns the first write error of the run.
    pub fn finish(mut self, report: &Report) -> io::Result<()> {
        if let Some(p) = self.progress.take() {
            p.finish();
        }
        if let Some(mut held) = self.held.take() {
            let cost = |r: &RegionReport| r.usage.as_ref().map(|u| u.total).unwrap_or_default();
            let severity =
                |r: &RegionReport| r.findings.as_ref().map(|f| f.bands().severity_key()).unwrap_or_default();
            held.sort_by(|a, b| {
                severity(b)
                    .cmp(&severity(a))
                    .then_with(|| cost(b).cmp(&cost(a)))
                    .then_with(|| (&a.account, &a.region).cmp(&(&b.account, &b.region)))
            });
            for r in &held {
                if let Some(line) = self.layout.region(r) {
                    self.line(&line);
                }
            }
        }
        let res = match self.format {
            OutputFormat::Text => self.layout.finish(&mut *self.out, report),
            OutputFormat::Json => json::write(&mut *self.out, report),
        }
        .and_then(|_| self.out.flush());
        self.note(res);
        self.failed.map_or(Ok(()), Err)
    }

    fn note(&mut self, res: io::Result<()>) {
        if let (Err(e), None) = (res, &self.failed) {
            self.failed = Some(e);
        }
    }
}
