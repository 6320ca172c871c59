//! `--output json`: the whole report as one document (its shape in docs/output.md).

use std::io::{self, Write};

use crate::report::Report;

pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
