//! Where reports go: stdout, as aligned text lines while regions finish, or as
//! one JSON document at the end. The writer is passed in so tests capture it.

mod json;
mod text;

use std::io::{self, Write};

use crate::cli::OutputFormat;
use crate::regions::Skipped;
use crate::report::{RegionReport, Report};

pub struct Printer<'w> {
    out: &'w mut dyn Write,
    format: OutputFormat,
    layout: text::Layout,
    /// The first write error; later writes are not attempted (say, a closed pipe).
    failed: Option<io::Error>,
}

impl<'w> Printer<'w> {
    pub fn new(out: &'w mut dyn Write, format: OutputFormat, color: bool) -> Self {
        Printer { out, format, layout: text::Layout::new(color), failed: None }
    }

    /// Size the text columns for the regions that will be reported.
    pub fn prepare(&mut self, targets: &[String], skipped: &[Skipped], dry_run: bool) {
        self.layout.fit(targets.iter().chain(skipped.iter().map(|s| &s.region)), dry_run);
    }

    pub fn region(&mut self, r: &RegionReport) {
        if self.format == OutputFormat::Text {
            let res = self.layout.region(&mut *self.out, r).and_then(|_| self.out.flush());
            self.note(res);
        }
    }

    /// Write the end of the report; returns the first write error of the run.
    pub fn finish(mut self, report: &Report) -> io::Result<()> {
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
