//! What a run found and did, region by region; the exit code follows from it.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;

use crate::accounts::AccountReport;
use crate::error::RegionError;
use crate::features::Features;
use crate::findings::plan::{Band, BandCounts, Listed};
use crate::plan::Outcome;
use crate::regions::Skipped;
use crate::usage::plan::{RegionUsage, UsageTotals};

/// A region's GuardDuty state after the command (for `--dry-run` and `status`: now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Enabled,
    Suspended,
    NotEnabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionReport {
    pub account: String,
    pub region: String,
    pub outcome: Outcome,
    pub detector_id: Option<String>,
    pub status: Option<State>,
    pub frequency: Option<String>,
    /// Set when the command changed the frequency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_frequency: Option<String>,
    /// `status --check` only: whether the region meets the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_line: Option<bool>,
    /// `status --check`: why the region is out of line (`no detector`,
    /// `frequency SIX_HOURS, not FIFTEEN_MINUTES`, `missing plan s3-data-events`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub out_of_line: Vec<String>,
    /// `status`: the detector's features by API name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
    /// Feature and tag changes made (or, on a dry run, to be made):
    /// `+s3-data-events`, `-rds-login-events`, `+tag:team=sec`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// `apply`: what the region has that the file does not name, left alone
    /// (`rule handmade`, `threat-list old-feed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmanaged: Vec<String>,
    /// Why a detector was left alone (`not tagged team=sec`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `gdctl org`: the organization's GuardDuty in the region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<OrgRegion>,
    /// `gdctl usage`: the region's cost over GuardDuty's last 30 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<RegionUsage>,
    /// `gdctl findings`: what GuardDuty found in the region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<RegionFindings>,
    pub error: Option<RegionError>,
}

/// `gdctl findings`: a region's active findings, per band (those at or above
/// `--severity`), and whether GuardDuty watches the region at all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegionFindings {
    /// False without a detector or with a suspended one: never "no findings".
    pub watched: bool,
    /// Null where nothing was counted (no detector; `sample` and `archive`).
    /// A suspended detector's findings are counted, and left out of the totals.
    pub counts: Option<BandCounts>,
    pub total: Option<u64>,
    /// An administrator's view (one account run): the findings per account,
    /// its members' and its own, when any member has some.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<String, BandCounts>,
    /// `--max-age`: per band, the findings first seen longer ago than allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aged: Option<BandCounts>,
    /// `findings sample` / `archive --samples`: sample findings made or archived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
}

/// `gdctl findings`: the run's findings, and with `--list` the most severe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FindingsTotals {
    /// The lowest band counted and shown (`--severity`).
    pub severity: Option<Band>,
    pub counts: BandCounts,
    pub total: u64,
    /// Regions read and watched, with findings and without; regions not watched.
    pub regions_with_findings: usize,
    pub regions_without: usize,
    pub regions_not_watched: usize,
    /// Per account: with many accounts each one's own, in an administrator's
    /// view its members too.
    pub accounts: BTreeMap<String, BandCounts>,
    /// `--list`: the most severe findings across every region, at most `--limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed: Option<Vec<Listed>>,
    /// `--list`: findings that matched but are beyond `--limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<u64>,
}

impl RegionFindings {
    /// The findings counted, none where nothing was.
    pub fn bands(&self) -> BandCounts {
        self.counts.unwrap_or_default()
    }

    pub fn found(&self) -> u64 {
        self.total.unwrap_or(0)
    }
}

impl FindingsTotals {
    pub fn of(regions: &[RegionReport], severity: Option<Band>) -> FindingsTotals {
        let mut t = FindingsTotals { severity, ..FindingsTotals::default() };
        for r in regions.iter().filter(|r| !r.is_failure()) {
            let Some(f) = &r.findings else { continue };
            // A region not watched is counted apart: its line shows what a
            // suspended detector still holds, the totals are of watched regions.
            match (f.watched, f.found()) {
                (false, _) => {
                    t.regions_not_watched += 1;
                    continue;
                }
                (true, 0) => t.regions_without += 1,
                (true, _) => t.regions_with_findings += 1,
            }
            t.counts.merge(&f.bands());
            t.total += f.found();
            if f.accounts.is_empty() {
                t.accounts.entry(r.account.clone()).or_default().merge(&f.bands());
            }
            for (account, counts) in &f.accounts {
                t.accounts.entry(account.clone()).or_default().merge(counts);
            }
        }
        t
    }
}

/// `gdctl org`: a region's delegated administrator, auto-enable, plans and members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgRegion {
    pub administrator: Option<String>,
    /// AutoEnableOrganizationMembers: `ALL`, `NEW` or `NONE`.
    pub auto_enable: Option<String>,
    /// Each plan's auto-enable, by API name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub plans: BTreeMap<String, crate::org_plan::PlanSetting>,
    /// The organization's ACTIVE accounts, the administrator left out.
    pub accounts: usize,
    /// Those of them that are enabled members.
    pub members_enabled: usize,
    /// Those that are not: the accounts GuardDuty does not cover here.
    pub uncovered: Vec<String>,
    /// `org status --check --features`: members whose plans differ, and how
    /// (`+s3-data-events`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub plans_differ: BTreeMap<String, Vec<String>>,
}

impl RegionReport {
    pub fn new(region: &str, outcome: Outcome) -> Self {
        RegionReport {
            account: String::new(),
            region: region.to_string(),
            outcome,
            detector_id: None,
            status: None,
            frequency: None,
            previous_frequency: None,
            in_line: None,
            out_of_line: Vec::new(),
            features: None,
            changes: Vec::new(),
            unmanaged: Vec::new(),
            note: None,
            org: None,
            usage: None,
            findings: None,
            error: None,
        }
    }

    pub fn failed(region: &str, error: RegionError) -> Self {
        RegionReport { error: Some(error), ..RegionReport::new(region, Outcome::Failed) }
    }

    /// A failed or unknown outcome: the region did not reach what was asked.
    pub fn is_failure(&self) -> bool {
        matches!(self.outcome, Outcome::Failed | Outcome::Unknown)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Accounts worked in, and those of them that failed as a whole (their
    /// role could not be assumed, or their regions not listed).
    pub accounts: usize,
    pub accounts_failed: usize,
    /// Target account-regions.
    pub targets: usize,
    pub succeeded: usize,
    /// Failed regions, those with an unknown outcome included.
    pub failed: usize,
    pub skipped: usize,
    /// Regions an interruption kept from starting.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_started: usize,
    /// `status --check` only: regions that do not meet the check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_line: Option<usize>,
    /// Regions per outcome (the plain names, also on a dry run: see `dry_run`).
    pub outcomes: BTreeMap<Outcome, usize>,
    /// `gdctl usage`: the run's cost, and the budget's verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageTotals>,
    /// `gdctl findings`: the run's findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<FindingsTotals>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_some<S: serde::Serializer>(v: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(v.is_some())
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: &'static str,
    /// The caller's account (from GetCallerIdentity): the one acted on, unless
    /// other accounts were named.
    pub account: String,
    pub home_region: String,
    pub dry_run: bool,
    /// Set when SIGINT or SIGTERM stopped the run (regions in flight were
    /// finished, the others are `not-started`): the exit code it calls for,
    /// 130 or 143. In JSON, `"interrupted": true|false`.
    #[serde(rename = "interrupted", serialize_with = "is_some")]
    pub interrupted_by: Option<u8>,
    /// Each account's outcome, sorted by id.
    pub accounts: Vec<AccountReport>,
    /// Sorted by account, then region name.
    pub regions: Vec<RegionReport>,
    pub skipped: Vec<Skipped>,
    pub summary: Summary,
}

impl Report {
    pub fn new(
        command: &'static str,
        account: &str,
        home_region: &str,
        dry_run: bool,
        mut regions: Vec<RegionReport>,
        skipped: Vec<Skipped>,
        mut accounts: Vec<AccountReport>,
    ) -> Self {
        regions.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        accounts.sort_by(|a, b| a.account.cmp(&b.account));
        for a in &mut accounts {
            let mine: Vec<&RegionReport> = regions.iter().filter(|r| r.account == a.account).collect();
            a.targets = mine.len();
            a.failed = mine.iter().filter(|r| r.is_failure()).count();
            a.succeeded = mine.iter().filter(|r| !r.is_failure() && r.outcome != Outcome::NotStarted).count();
            a.skipped = skipped.iter().filter(|s| s.account == a.account).count();
            a.outcomes = BTreeMap::new();
            for r in &mine {
                *a.outcomes.entry(r.outcome).or_insert(0) += 1;
            }
            a.out_of_line = mine
                .iter()
                .any(|r| r.in_line.is_some())
                .then(|| mine.iter().filter(|r| r.in_line == Some(false)).count());
        }
        let failed = regions.iter().filter(|r| r.is_failure()).count();
        let not_started = regions.iter().filter(|r| r.outcome == Outcome::NotStarted).count();
        let checked = regions.iter().any(|r| r.in_line.is_some());
        let mut outcomes = BTreeMap::new();
        for r in &regions {
            *outcomes.entry(r.outcome).or_insert(0) += 1;
        }
        let summary = Summary {
            accounts: accounts.len(),
            accounts_failed: accounts.iter().filter(|a| a.outcome == "failed").count(),
            targets: regions.len(),
            succeeded: regions.len() - failed - not_started,
            failed,
            skipped: skipped.len(),
            not_started,
            out_of_line: checked.then(|| regions.iter().filter(|r| r.in_line == Some(false)).count()),
            outcomes,
            usage: UsageTotals::of(
                regions.iter().filter_map(|r| Some((r.account.as_str(), r.usage.as_ref()?))),
            ),
            findings: None,
        };
        Report {
            command,
            account: account.to_string(),
            home_region: home_region.to_string(),
            dry_run,
            interrupted_by: None,
            accounts,
            regions,
            skipped,
            summary,
        }
    }

    pub fn interrupted(mut self, exit: Option<u8>) -> Self {
        self.interrupted_by = exit;
        self
    }

    /// The signal's code if interrupted, else 1 if any region failed, else 3
    /// if a check (`status`, `usage`, `findings`) found one out of line, else 0.
    pub fn exit_code(&self) -> ExitCode {
        if let Some(code) = self.interrupted_by {
            ExitCode::from(code)
        } else if self.summary.failed > 0 || self.summary.accounts_failed > 0 {
            ExitCode::from(1)
        } else if self.summary.out_of_line.unwrap_or(0) > 0
            || self.summary.usage.as_ref().and_then(|u| u.over_budget) == Some(true)
        {
            ExitCode::from(3)
        } else {
            ExitCode::SUCCESS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(region: &str, outcome: Outcome) -> RegionReport {
        RegionReport::new(region, outcome)
    }

    #[test]
    fn regions_are_sorted_and_counted() {
        let r = Report::new(
            "enable",
            "123456789012",
            "us-east-1",
            false,
            vec![
                ok("us-east-1", Outcome::Created),
                ok("eu-west-1", Outcome::Unchanged),
                ok("ap-south-1", Outcome::Created),
            ],
            vec![Skipped { account: String::new(), region: "ap-east-1".into(), reason: "not opted in" }],
            vec![],
        );
        let names: Vec<_> = r.regions.iter().map(|r| r.region.as_str()).collect();
        assert_eq!(names, ["ap-south-1", "eu-west-1", "us-east-1"]);
        assert_eq!(r.summary.outcomes[&Outcome::Created], 2);
        assert_eq!(r.summary.skipped, 1);
        assert_eq!(r.exit_code(), ExitCode::SUCCESS);
    }

    #[test]
    fn a_failure_wins_over_a_check_and_a_check_over_success() {
        let failed = RegionReport::failed("eu-west-1", RegionError::new("X", "y"));
        let mut out = ok("us-east-1", Outcome::NotEnabled);
        out.in_line = Some(false);
        let r = Report::new(
            "status",
            "123456789012",
            "us-east-1",
            false,
            vec![failed, out.clone()],
            vec![],
            vec![],
        );
        assert_eq!(r.exit_code(), ExitCode::from(1));
        let r = Report::new("status", "123456789012", "us-east-1", false, vec![out], vec![], vec![]);
        assert_eq!(r.summary.out_of_line, Some(1));
        assert_eq!(r.exit_code(), ExitCode::from(3));
    }

    #[test]
    fn an_unknown_outcome_fails_and_an_interruption_wins() {
        let unknown = RegionReport::failed("eu-west-1", RegionError::new("Timeout", "x"));
        let unknown = RegionReport { outcome: Outcome::Unknown, ..unknown };
        let r = Report::new(
            "enable",
            "123456789012",
            "us-east-1",
            false,
            vec![unknown, ok("us-east-1", Outcome::Created), ok("us-west-2", Outcome::NotStarted)],
            vec![],
            vec![],
        );
        assert_eq!((r.summary.failed, r.summary.succeeded, r.summary.not_started), (1, 1, 1));
        assert_eq!(r.exit_code(), ExitCode::from(1));
        let r = r.interrupted(Some(130));
        assert_eq!(serde_json::to_value(&r).unwrap()["interrupted"], true);
        assert_eq!(r.exit_code(), ExitCode::from(130));
    }
}
