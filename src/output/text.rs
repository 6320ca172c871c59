//! `--output text`: one aligned line per region as it finishes, then a summary.
//! With many accounts: `ACCOUNT  REGION  OUTCOME ...` lines for what changed,
//! failed or is out of line (every region with -v), then a line per account
//! and a total.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use crate::features;
use crate::plan::Outcome;
use crate::report::{RegionReport, Report};

const ID_WIDTH: usize = 32;

/// The longest region name AWS has (`ap-southeast-5`), for lines printed
/// before every account's regions are known.
const REGION_WIDTH: usize = 14;

pub struct Layout {
    color: bool,
    dry_run: bool,
    region_width: usize,
    label_width: usize,
    /// Many accounts: lines start with the account.
    many: bool,
    /// Many accounts: list unchanged regions too.
    list_all: bool,
}

impl Layout {
    pub fn new(color: bool, list_all: bool) -> Self {
        Layout { color, dry_run: false, region_width: 0, label_width: 0, many: false, list_all }
    }

    pub fn fit_many(&mut self, dry_run: bool) {
        self.fit(std::iter::empty(), dry_run);
        self.region_width = REGION_WIDTH;
        self.many = true;
    }

    pub fn fit<'a>(&mut self, regions: impl Iterator<Item = &'a String>, dry_run: bool) {
        self.dry_run = dry_run;
        self.region_width = regions.map(|r| r.len()).max().unwrap_or(0);
        // Wide enough for every label this run can print ("would suspend" is the longest).
        self.label_width = if dry_run { 13 } else { 11 };
    }

    /// A region's line; with many accounts, none for a region that needs no
    /// attention (unless all are listed): it is counted in its account's summary.
    pub fn region(&self, r: &RegionReport) -> Option<String> {
        let counted = counted(r);
        let notable = r.outcome.is_change()
            || r.is_failure()
            || r.usage.as_ref().is_some_and(|u| !u.total.is_zero())
            || counted.is_some_and(|f| f.found() > 0 || !f.watched)
            || matches!(r.outcome, Outcome::NotStarted | Outcome::NotEnabled)
            || r.in_line == Some(false);
        if self.many && !notable && !self.list_all {
            return None;
        }
        // Regions that cost nothing are counted on the summary line (listed with -v).
        if r.usage.as_ref().is_some_and(|u| u.total.is_zero()) && !self.list_all {
            return None;
        }
        // So are regions where nothing was found, unless a check fails them.
        if counted.is_some_and(|f| f.watched && f.found() == 0) && r.in_line != Some(false) && !self.list_all
        {
            return None;
        }
        let id = r.detector_id.as_deref().unwrap_or("-");
        let label = match counted {
            Some(f) if !f.watched => "not watched",
            Some(f) if f.found() > 0 => "found",
            Some(_) => "none",
            None => r.outcome.label(self.dry_run),
        };
        Some(self.line(&r.region, label, self.style(r), id, &detail(r), &r.account))
    }

    /// An account nothing could be done in.
    pub fn account_failed(&self, account: &str, error: &crate::error::RegionError) -> String {
        let style =
            if self.color { Style::new().fg_color(Some(AnsiColor::Red.into())) } else { Style::new() };
        self.line("-", "failed", style, "-", &error.to_string(), account)
    }

    fn line(&self, region: &str, label: &str, style: Style, id: &str, detail: &str, account: &str) -> String {
        let line = format!(
            "{account}{gap}{region:<rw$}  {on}{label:<lw$}{off}  {id:<iw$}  {detail}",
            account = if self.many { account } else { "" },
            gap = if self.many { "  " } else { "" },
            rw = self.region_width,
            on = style.render(),
            lw = self.label_width,
            off = style.render_reset(),
            iw = ID_WIDTH,
        );
        line.trim_end().to_string()
    }

    pub fn finish(&self, out: &mut dyn Write, report: &Report) -> io::Result<()> {
        if let Some(t) = &report.summary.usage {
            usage_totals(out, t)?;
        }
        let found = report.summary.findings.as_ref();
        if let Some(listed) = found.and_then(|f| f.listed.as_ref()) {
            self.listed(out, listed)?;
        }
        // An administrator's view: its members' findings, account by account.
        if let (false, Some(f)) = (self.many, found) {
            if report.regions.iter().any(|r| r.findings.as_ref().is_some_and(|f| !f.accounts.is_empty())) {
                for (account, counts) in f.accounts.iter().filter(|(_, c)| c.total() > 0) {
                    writeln!(out, "account {account}: {}", counts.words().replace("  ", ", "))?;
                }
            }
        }
        if self.many {
            for a in &report.accounts {
                let mut line = account_summary(a, report.dry_run);
                if let (Some(counts), None) = (found.and_then(|f| f.accounts.get(&a.account)), &a.error) {
                    match counts.total() {
                        0 => line.push_str(", nothing found"),
                        _ => line.push_str(&format!(", found {}", counts.words().replace("  ", ", "))),
                    }
                }
                // `usage`: the account's own cost.
                if let Some(usd) = report.summary.usage.as_ref().and_then(|u| u.accounts.get(&a.account)) {
                    if a.error.is_none() {
                        line.push_str(&format!(", cost {}", usd.cents()));
                    }
                }
                writeln!(out, "{line}")?;
            }
            return writeln!(out, "{}", summary(report, true));
        }
        // Skipped regions are never called: one line per reason keeps them out of the way.
        let mut reasons: Vec<&str> = report.skipped.iter().map(|s| s.reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        for reason in reasons {
            let names: Vec<&str> =
                report.skipped.iter().filter(|s| s.reason == reason).map(|s| s.region.as_str()).collect();
            writeln!(out, "skipped ({reason}): {}", names.join(", "))?;
        }
        writeln!(out, "{}", summary(report, false))
    }

    /// `--list`: one line per finding, most severe first.
    fn listed(&self, out: &mut dyn Write, listed: &[crate::findings::plan::Listed]) -> io::Result<()> {
        let kind = listed.iter().map(|f| f.kind.len()).max().unwrap_or(0);
        let region = listed.iter().map(|f| f.region.len()).max().unwrap_or(0);
        let count = listed.iter().map(|f| f.count.to_string().len()).max().unwrap_or(0);
        // The account, wherever the findings are of more than one (an administrator's view too).
        let accounts = self.many || listed.iter().any(|f| f.account != listed[0].account);
        let resource = listed.iter().map(|f| f.resource_type.len() + f.resource.len() + 1).max().unwrap_or(0);
        for f in listed {
            let line = format!(
                "{band:<8} {sev:>4}  {account}{gap}{region:<rw$}  {kind:<kw$}  {res:<resw$}  x{count:<cw$}  \
                 first {first}  last {last}  {id}  {title}",
                cw = count,
                band = f.band.name(),
                sev = severity(f.severity),
                account = if accounts { f.account.as_str() } else { "" },
                gap = if accounts { "  " } else { "" },
                region = f.region,
                rw = region,
                kind = f.kind,
                kw = kind,
                res = format!("{} {}", f.resource_type, f.resource),
                resw = resource,
                count = f.count,
                first = f.first_seen,
                last = f.last_seen,
                id = f.id,
                title = f.title,
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    fn style(&self, r: &RegionReport) -> Style {
        if !self.color {
            return Style::new();
        }
        // Findings: red where they fail a gate (or, without one, where there
        // are any), yellow where nothing watches; a gate's pass is plain.
        if let Some(f) = counted(r).filter(|_| !r.is_failure()) {
            let color = match (r.in_line, f.watched, f.found()) {
                (_, false, _) => Some(AnsiColor::Yellow),
                (Some(false), ..) | (None, _, 1..) => Some(AnsiColor::Red),
                _ => None,
            };
            return Style::new().fg_color(color.map(Into::into));
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

/// `8.0`, `6.95`: never rounded across a band's edge.
fn severity(s: f64) -> String {
    match (s * 10.0).fract() == 0.0 {
        true => format!("{s:.1}"),
        false => format!("{s}"),
    }
}

/// `gdctl findings`' own report of a region (not a sample or archive run's).
fn counted(r: &RegionReport) -> Option<&crate::report::RegionFindings> {
    r.findings
        .as_ref()
        .filter(|_| matches!(r.outcome, Outcome::Enabled | Outcome::Suspended | Outcome::NotEnabled))
}

fn detail(r: &RegionReport) -> String {
    if let Some(e) = &r.error {
        // A failure after writes still says what they changed.
        return match r.changes.is_empty() {
            true => e.to_string(),
            false => format!("{e}  made before the failure: {}", r.changes.join(", ")),
        };
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(u) = &r.usage {
        parts.push(usage_state(u));
    } else if let Some(f) = counted(r) {
        if f.found() > 0 {
            parts.push(f.bands().words());
        }
        let others = f.accounts.values().filter(|c| c.total() > 0).count();
        if others > 0 {
            parts.push(format!("in {others} account{}", if others == 1 { "" } else { "s" }));
        }
    } else if r.findings.is_some() {
        // A sample or archive run says what it did in its note.
    } else if let Some(o) = &r.org {
        parts.push(org_state(o));
    } else {
        detector_state(r, &mut parts);
    }
    if !r.changes.is_empty() {
        parts.push(r.changes.join(if r.org.is_some() { ", " } else { " " }));
    }
    if let Some(f) = &r.features {
        parts.push(format!("features: {}", features::compact(f)));
    }
    // A region not watched that fails a check: the check's reason says it all.
    if !(r.in_line == Some(false) && counted(r).is_some_and(|f| !f.watched)) {
        parts.extend(r.note.clone());
    }
    if r.in_line == Some(false) {
        parts.push(format!("out of line: {}", r.out_of_line.join(", ")));
    }
    parts.join("  ")
}

/// `$12.35  s3-data-events $8.00, flow-logs $4.35  free trial: ebs-malware-protection 12 days`.
fn usage_state(u: &crate::usage::plan::RegionUsage) -> String {
    const SHOWN: usize = 4;
    let mut line = u.total.cents();
    let items: Vec<String> =
        u.items.iter().take(SHOWN).map(|i| format!("{} {}", i.name, i.usd.cents())).collect();
    if !items.is_empty() {
        line.push_str(&format!("  {}", items.join(", ")));
        if u.items.len() > SHOWN {
            line.push_str(&format!(" (+{} more)", u.items.len() - SHOWN));
        }
    }
    if !u.free_trial_days.is_empty() {
        let days: Vec<String> = u.free_trial_days.iter().map(|(p, d)| format!("{p} {d} days")).collect();
        line.push_str(&format!("  free trial: {}", days.join(", ")));
    }
    line
}

/// `gdctl usage`: the run's cost by line of the breakdown, most expensive
/// first, then the total and the budget's verdict.
fn usage_totals(out: &mut dyn Write, t: &crate::usage::plan::UsageTotals) -> io::Result<()> {
    let width = t.items.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for i in t.items.iter().filter(|i| !i.usd.is_zero()) {
        writeln!(out, "  {:<width$}  {:>12}", i.name, i.usd.cents())?;
    }
    let mut line = format!(
        "cost: {} over GuardDuty's last 30 days (its own window, not a monthly projection)",
        t.total.cents()
    );
    if !t.complete {
        line.push_str(", incomplete: regions that were not read are left out");
    }
    // The budget's verdict in exact figures: cents could hide the difference.
    match (t.max_usd, t.over_budget, t.per_region) {
        (Some(max), Some(true), true) => line.push_str(&format!("; a region over --max-usd ${max}")),
        (Some(max), Some(false), true) => line.push_str(&format!("; every region within --max-usd ${max}")),
        (Some(max), Some(over), false) => {
            let verdict = if over { "is over" } else { "is within" };
            line.push_str(&format!("; ${} {verdict} --max-usd ${max}", t.total));
        }
        _ => {}
    }
    writeln!(out, "{line}")
}

/// `admin 111111111111, auto-enable ALL, plans s3-data-events, members 5/6`.
fn org_state(o: &crate::report::OrgRegion) -> String {
    let Some(admin) = &o.administrator else { return "no administrator".into() };
    let mut parts = vec![format!("admin {admin}")];
    parts.extend(o.auto_enable.as_ref().map(|a| format!("auto-enable {a}")));
    let plans: Vec<&str> = o
        .plans
        .iter()
        .filter(|(_, p)| p.auto_enable != "NONE")
        .map(|(name, _)| features::Feature::from_api(name).map_or(name.as_str(), |f| f.cli_name()))
        .collect();
    if !plans.is_empty() {
        parts.push(format!("plans {}", plans.join(",")));
    }
    if o.accounts > 0 {
        parts.push(format!("members {}/{}", o.members_enabled, o.accounts));
    }
    parts.join(", ")
}

fn detector_state(r: &RegionReport, parts: &mut Vec<String>) {
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
}

fn summary(report: &Report, many: bool) -> String {
    let s = &report.summary;
    let outcomes = outcome_counts(&s.outcomes, report.dry_run);
    let plural = if s.targets == 1 { "" } else { "s" };
    let mut line = if many {
        let failed =
            if s.accounts_failed > 0 { format!(" ({} failed)", s.accounts_failed) } else { String::new() };
        let accounts = if s.accounts == 1 { "account" } else { "accounts" };
        format!(
            "{}: {} {accounts}{failed}, {} target account-region{plural}",
            report.command, s.accounts, s.targets
        )
    } else {
        format!("{}: account {}, {} target region{plural}", report.command, report.account, s.targets)
    };
    if let Some(f) = &s.findings {
        let mut found = format!(", {} with findings", f.regions_with_findings);
        if f.total > 0 {
            found.push_str(&format!(" ({})", f.counts.words().replace("  ", ", ")));
        }
        line.push_str(&format!(
            "{found}, {} with none, {} not watched",
            f.regions_without, f.regions_not_watched
        ));
        if let Some(more) = f.more {
            let shown = f.listed.as_ref().map_or(0, Vec::len);
            line.push_str(&format!(", {shown} listed"));
            if more > 0 {
                line.push_str(&format!(" ({more} more beyond --limit)"));
            }
        }
    } else if !outcomes.is_empty() {
        line.push_str(&format!(" ({outcomes})"));
    }
    line.push_str(&format!(", {} failed", s.failed));
    if let Some(n) = s.outcomes.get(&Outcome::Unknown) {
        line.push_str(&format!(" ({n} with an unknown outcome: run again)"));
    }
    line.push_str(&format!(", {} skipped", s.skipped));
    if s.usage.is_some() {
        let free =
            report.regions.iter().filter(|r| r.usage.as_ref().is_some_and(|u| u.total.is_zero())).count();
        line.push_str(&format!(", {free} with no cost"));
    }
    if let Some(n) = s.out_of_line {
        line.push_str(&format!(", {n} out of line"));
    }
    if s.not_started > 0 {
        line.push_str(&format!(", {} not started", s.not_started));
    }
    match report.interrupted_by {
        Some(143) => line.push_str("; interrupted by SIGTERM"),
        Some(129) => line.push_str("; interrupted by SIGHUP"),
        Some(_) => line.push_str("; interrupted by SIGINT"),
        None => {}
    }
    if report.dry_run {
        line.push_str("; dry run, nothing was changed");
    }
    line
}

/// `2 created, 15 unchanged`: the outcomes that are not failures, which are counted apart.
fn outcome_counts(outcomes: &std::collections::BTreeMap<Outcome, usize>, dry_run: bool) -> String {
    let parts: Vec<String> = outcomes
        .iter()
        .filter(|(outcome, _)| !matches!(outcome, Outcome::Failed | Outcome::Unknown | Outcome::NotStarted))
        .map(|(outcome, n)| format!("{n} {}", outcome.label(dry_run)))
        .collect();
    parts.join(", ")
}

/// One account's line in a many-account report.
fn account_summary(a: &crate::accounts::AccountReport, dry_run: bool) -> String {
    match (&a.error, a.outcome) {
        (Some(e), _) => format!("account {}: failed, nothing was done in it: {e}", a.account),
        (None, "not-started") => format!("account {}: not started (interrupted)", a.account),
        _ => {
            let plural = if a.targets == 1 { "" } else { "s" };
            let mut line = format!("account {}: {} target region{plural}", a.account, a.targets);
            let outcomes = outcome_counts(&a.outcomes, dry_run);
            if !outcomes.is_empty() {
                line.push_str(&format!(" ({outcomes})"));
            }
            line.push_str(&format!(", {} failed, {} skipped", a.failed, a.skipped));
            if let Some(n) = a.out_of_line {
                line.push_str(&format!(", {n} out of line"));
            }
            if dry_run {
                line.push_str(" (dry run)");
            }
            line
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RegionError;
    use crate::regions::Skipped;

    fn render(report: &Report, color: bool) -> String {
        let mut layout = Layout::new(color, false);
        let names: Vec<String> = report.regions.iter().map(|r| r.region.clone()).collect();
        layout.fit(names.iter().chain(report.skipped.iter().map(|s| &s.region)), report.dry_run);
        let mut out = Vec::new();
        for r in &report.regions {
            writeln!(out, "{}", layout.region(r).unwrap()).unwrap();
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
            vec![Skipped { account: String::new(), region: "ap-east-1".into(), reason: "not opted in" }],
            vec![],
        );
        let text = render(&report, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "ap-south-1  failed       -                                 \
             AccessDeniedException: no (`gdctl iam-policy COMMAND` prints the IAM policy it needs)"
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
            vec![],
        );
        let text = render(&report, false);
        assert!(text.starts_with("us-east-1  would delete"));
        assert!(text.ends_with("(1 would delete), 0 failed, 0 skipped; dry run, nothing was changed\n"));
    }
}
