//! `--output text`: one aligned line per region as it finishes, then a summary.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::features;
use crate::plan::Outcome;
use crate::report::{RegionReport, Report};

const ID_WIDTH: usize = 32;

pub struct Layout {
    color: bool,
    dry_run: bool,
    region_width: usize,
    label_width: usize,
}

impl Layout {
    pub fn new(color: bool) -> Self {
        Layout { color, dry_run: false, region_width: 0, label_width: 0 }
    }

    pub fn fit<'a>(&mut self, regions: impl Iterator<Item = &'a String>, dry_run: bool) {
        self.dry_run = dry_run;
        self.region_width = regions.map(|r| r.len()).max().unwrap_or(0);
        // Wide enough for every label this run can print ("would suspend" is the longest).
        self.label_width = if dry_run { 13 } else { 11 };
    }

    pub fn region(&self, out: &mut dyn Write, r: &RegionReport) -> io::Result<()> {
        let label = r.outcome.label(self.dry_run);
        let style = self.style(r);
        let id = r.detector_id.as_deref().unwrap_or("-");
        let line = format!(
            "{region:<rw$}  {on}{label:<lw$}{off}  {id:<iw$}  {detail}",
            region = r.region,
            rw = self.region_width,
            on = style.render(),
            lw = self.label_width,
            off = style.render_reset(),
            iw = ID_WIDTH,
            detail = detail(r),
        );
        writeln!(out, "{}", line.trim_end())
    }

    pub fn finish(&self, out: &mut dyn Write, report: &Report) -> io::Result<()> {
        // Skipped regions are never called: one line per reason keeps them out of the way.
        let mut reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        for reason in reasons {
            let names: Vec<&str> =
                report.skipped.iter().filter(|s| s.reason == reason).map(|s| s.region.as_str()).collect();
            writeln!(out, "skipped ({reason}): {}", names.join(", "))?;
        }
        writeln!(out, "{}", summary(report))
    }

    fn style(&self, r: &RegionReport) -> Style {
        if !self.color {
            return Style::new();
        }
        let color = match r.outcome {
            Outcome::Failed | Outcome::Unknown => Some(AnsiColor::Red),
            _ if r.in_line == Some(false) => Some(AnsiColor::Yellow),
            Outcome::NotEnabled => Some(AnsiColor::Yellow),
            o if o.is_change() || o == Outcome::Enabled => Some(AnsiColor::Green),
            _ => None,
        };
        Style::new().fg_color(color.map(Into::into))
    }
}

fn detail(r: &RegionReport) -> String {
    if let Some(e) = &r.error {
        return e.to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    match (&r.previous_frequency, &r.frequency) {
        (Some(old), Some(new)) => parts.push(format!("{old} -> {new}")),
        (None, Some(f)) => parts.push(f.clone()),
        (_, None) => match r.outcome {
            Outcome::Created => parts.push("service default frequency".into()),
            // With --check the reason says it already.
            Outcome::Absent | Outcome::NotEnabled if r.in_line != Some(false) => {
                parts.push("no detector".into())
            }
            _ => {}
        },
    }
    if !r.changes.is_empty() {
        parts.push(r.changes.join(" "));
    }
    if let Some(f) = &r.features {
        parts.push(format!("features: {}", features::compact(f)));
    }
    parts.extend(r.note.clone());
    if r.in_line == Some(false) {
        parts.push(format!("out of line: {}", r.out_of_line.join(", ")));
    }
    parts.join("  ")
}

fn summary(report: &Report) -> String {
    let s = &report.summary;
    let outcomes: Vec<String> = s
        .outcomes
        .iter()
        .filter(|(outcome, _)| !matches!(outcome, Outcome::Failed | Outcome::Unknown | Outcome::NotStarted))
        .map(|(outcome, n)| format!("{n} {}", outcome.label(report.dry_run)))
        .collect();
    let plural = if s.targets == 1 { "" } else { "s" };
    let mut line =
        format!("{}: account {}, {} target region{plural}", report.command, report.account, s.targets);
    if !outcomes.is_empty() {
        line.push_str(&format!(" ({})", outcomes.join(", ")));
    }
    line.push_str(&format!(", {} failed", s.failed));
    if let Some(n) = s.outcomes.get(&Outcome::Unknown) {
        line.push_str(&format!(" ({n} with an unknown outcome: run again)"));
    }
    line.push_str(&format!(", {} skipped", s.skipped));
    if let Some(n) = s.out_of_line {
        line.push_str(&format!(", {n} out of line"));
    }
    if s.not_started > 0 {
        line.push_str(&format!(", {} not started", s.not_started));
    }
    match report.interrupted_exit {
        Some(143) => line.push_str("; interrupted by SIGTERM"),
        Some(_) => line.push_str("; interrupted by SIGINT"),
        None => {}
    }
    if report.dry_run {
        line.push_str("; dry run, nothing was changed");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RegionError;
    use crate::regions::Skipped;

    fn render(report: &Report, color: bool) -> String {
        let mut layout = Layout::new(color);
        let names: Vec<String> = report.regions.iter().map(|r| r.region.clone()).collect();
        layout.fit(names.iter().chain(report.skipped.iter().map(|s| &s.region)), report.dry_run);
        let mut out = Vec::new();
        for r in &report.regions {
            layout.region(&mut out, r).unwrap();
        }
        layout.finish(&mut out, report).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_are_aligned_and_summarised() {
        let mut updated = RegionReport::new("eu-west-1", Outcome::Updated);
        updated.detector_id = Some("a".repeat(32));
        updated.previous_frequency = Some("SIX_HOURS".into());
        updated.frequency = Some("FIFTEEN_MINUTES".into());
        let failed = RegionReport::failed("ap-south-1", RegionError::new("AccessDeniedException", "no"));
        let report = Report::new(
            "enable",
            "123456789012",
            "us-east-1",
            false,
            vec![updated, failed],
            vec![Skipped { region: "ap-east-1".into(), reason: "not opted in" }],
        );
        let text = render(&report, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ap-south-1  failed       -                                 \
             AccessDeniedException: no (see the minimum IAM policy in the README)"
        );
        assert_eq!(
            lines[1],
            format!("eu-west-1   updated      {}  SIX_HOURS -> FIFTEEN_MINUTES", "a".repeat(32))
        );
        assert_eq!(lines[2], "skipped (not opted in): ap-east-1");
        assert_eq!(
            lines[3],
            "enable: account 123456789012, 2 target regions (1 updated), 1 failed, 1 skipped"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn colour_only_when_asked() {
        let report = Report::new(
            "status",
            "123456789012",
            "us-east-1",
            false,
            vec![RegionReport::new("us-east-1", Outcome::Enabled)],
            vec![],
        );
        assert!(render(&report, true).contains("\x1b["));
        assert!(!render(&report, false).contains("\x1b["));
    }

    #[test]
    fn dry_run_says_so() {
        let report = Report::new(
            "disable",
            "123456789012",
            "us-east-1",
            true,
            vec![RegionReport::new("us-east-1", Outcome::Deleted)],
            vec![],
        );
        let text = render(&report, false);
        assert!(text.starts_with("us-east-1  would delete"));
        assert!(text.ends_with("(1 would delete), 0 failed, 0 skipped; dry run, nothing was changed\n"));
    }
}
