//! What GuardDuty costs, as the API reports it (pure): exact amounts, the
//! groupings, plan names as `--features` spells them, and the budget gate.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::features::Feature;

/// An amount in USD, kept exact: the API sends decimal strings, and a sum
/// through floats would be off by fractions of a cent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usd {
    /// The amount times 10^scale.
    units: i128,
    scale: u32,
}

/// Digits kept at the most: whole (a quadrillion dollars) and decimal, far
/// more than any bill; sums of them stay well inside an i128.
const MAX_WHOLE: usize = 15;
const MAX_SCALE: usize = 20;

impl Usd {
    /// `12`, `12.5`, `0.0035`, `1.5E-7` (as decimal writers put small
    /// amounts); a leading `$` allowed, for people typing a budget.
    pub fn parse(text: &str) -> Result<Usd, String> {
        let bad = || format!("`{text}` is not an amount in USD (digits, with an optional decimal point)");
        let s = text.trim().strip_prefix('$').unwrap_or(text.trim());
        let (number, exponent) = match s.split_once(['e', 'E']) {
            Some((n, e)) => (n, e.parse::<i32>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
            return Err(bad());
        }
        let mut all = format!("{whole}{fraction}").trim_start_matches('0').to_string();
        let mut scale = fraction.len() as i64 - i64::from(exponent);
        // Trailing zeros of the fraction say nothing.
        while scale > 0 && all.ends_with('0') {
            all.pop();
            scale -= 1;
        }
        if scale < 0 {
            all.extend(std::iter::repeat_n('0', (-scale) as usize));
            scale = 0;
        }
        let whole_digits = all.len().saturating_sub(scale as usize);
        if whole_digits > MAX_WHOLE || scale as usize > MAX_SCALE {
            return Err(format!(
                "`{text}` has more digits than gdctl sums exactly ({MAX_WHOLE} whole, {MAX_SCALE} decimal)"
            ));
        }
        let units = if all.is_empty() { 0 } else { all.parse::<i128>().map_err(|_| bad())? };
        Ok(Usd { units, scale: scale as u32 })
    }

    fn at_scale(self, scale: u32) -> i128 {
        // Within the digits `parse` takes this never saturates; it never panics.
        self.units.saturating_mul(10i128.pow(scale - self.scale))
    }

    pub fn is_zero(self) -> bool {
        self.units == 0
    }

    /// Rounded to the cent, half up: `$12.35`.
    pub fn cents(self) -> String {
        let c = match self.scale {
            0..=2 => self.at_scale(2),
            s => {
                let div = 10i128.pow(s - 2);
                (self.units + div / 2) / div
            }
        };
        format!("${}.{:02}", c / 100, c % 100)
    }
}

impl std::ops::Add for Usd {
    type Output = Usd;
    fn add(self, other: Usd) -> Usd {
        let scale = self.scale.max(other.scale);
        Usd { units: self.at_scale(scale).saturating_add(other.at_scale(scale)), scale }
    }
}

impl std::iter::Sum for Usd {
    fn sum<I: Iterator<Item = Usd>>(iter: I) -> Usd {
        iter.fold(Usd::default(), |a, b| a + b)
    }
}

impl PartialEq for Usd {
    fn eq(&self, other: &Usd) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Usd {}
impl PartialOrd for Usd {
    fn partial_cmp(&self, other: &Usd) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Usd {
    fn cmp(&self, other: &Usd) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.at_scale(scale).cmp(&other.at_scale(scale))
    }
}

/// Exact, without trailing zeros: `12.3456`, `0`, `10`.
impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut units, mut scale) = (self.units, self.scale);
        while scale > 0 && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        let text = units.to_string();
        match scale as usize {
            0 => f.write_str(&text),
            s if text.len() > s => write!(f, "{}.{}", &text[..text.len() - s], &text[text.len() - s..]),
            s => write!(f, "0.{}{}", "0".repeat(s - text.len()), text),
        }
    }
}

/// In JSON an amount is a string, exact.
impl Serialize for Usd {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a region's cost is broken down (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Per protection plan (SUM_BY_FEATURES).
    Plan,
    /// Per account: the caller's, and an administrator's members (SUM_BY_ACCOUNT).
    Account,
    /// The most expensive resources, with their ids (TOP_RESOURCES).
    Resource,
}

impl By {
    pub fn name(self) -> &'static str {
        match self {
            By::Plan => "plan",
            By::Account => "account",
            By::Resource => "resource",
        }
    }
}

/// A usage feature as `--features` spells it; the foundational sources and
/// the runtime agents, which have no flag of their own, in the same style.
pub fn plan_name(api: &str) -> String {
    if let Some(f) = Feature::from_api(api) {
        return f.cli_name().to_string();
    }
    match api {
        "EC2_RUNTIME_MONITORING" => "runtime-monitoring:ec2".into(),
        "FARGATE_RUNTIME_MONITORING" => "runtime-monitoring:ecs-fargate".into(),
        "CLOUD_TRAIL" => "cloudtrail".into(),
        other => other.to_ascii_lowercase().replace('_', "-"),
    }
}

/// One line of a breakdown: a plan, an account or a resource, and its cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub name: String,
    pub usd: Usd,
}

/// A region's cost over GuardDuty's last 30 days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionUsage {
    /// `plan`, `account` or `resource`.
    pub by: &'static str,
    pub total: Usd,
    /// Most expensive first.
    pub items: Vec<Item>,
    /// Plans still in their free trial: the days left.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub free_trial_days: BTreeMap<String, i32>,
}

impl RegionUsage {
    /// The breakdown, most expensive first (then by name), and its total;
    /// `total` when the breakdown is not the whole (the top resources).
    pub fn new(by: By, items: Vec<(String, Usd)>, total: Option<Usd>) -> RegionUsage {
        let mut merged: BTreeMap<String, Usd> = BTreeMap::new();
        for (name, usd) in items {
            let e = merged.entry(name).or_default();
            *e = *e + usd;
        }
        let mut items: Vec<Item> = merged.into_iter().map(|(name, usd)| Item { name, usd }).collect();
        items.sort_by(|a, b| b.usd.cmp(&a.usd).then_with(|| a.name.cmp(&b.name)));
        let total = total.unwrap_or_else(|| items.iter().map(|i| i.usd).sum());
        RegionUsage { by: by.name(), total, items, free_trial_days: BTreeMap::new() }
    }
}

/// The run's cost: the total, per account, per line of the breakdown across
/// regions (most expensive first), and the budget's verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    pub total: Usd,
    pub accounts: BTreeMap<String, Usd>,
    pub items: Vec<Item>,
    /// Whether every target region was read: false when one failed or was
    /// not started, so the total leaves it out.
    pub complete: bool,
    /// `--max-usd`, and whether it was passed (over the whole run, or with
    /// `--per-region` in any one region).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_usd: Option<Usd>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_budget: Option<bool>,
    /// `--per-region`: the budget held each region, not the total.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub per_region: bool,
}

impl UsageTotals {
    /// From each region's (account, usage); None when no region has any.
    pub fn of<'a>(regions: impl Iterator<Item = (&'a str, &'a RegionUsage)>) -> Option<UsageTotals> {
        let mut accounts: BTreeMap<String, Usd> = BTreeMap::new();
        let mut lines: Vec<(String, Usd)> = Vec::new();
        let mut by = None;
        for (account, u) in regions {
            // By account, each line is an account's own cost (an
            // administrator's region holds its members' too).
            let own: Vec<(&str, Usd)> = match u.by {
                "account" => u.items.iter().map(|i| (i.name.as_str(), i.usd)).collect(),
                _ => vec![(account, u.total)],
            };
            for (id, usd) in own {
                let e = accounts.entry(id.to_string()).or_default();
                *e = *e + usd;
            }
            lines.extend(u.items.iter().map(|i| (i.name.clone(), i.usd)));
            by = Some(u.by);
        }
        by?;
        let merged = RegionUsage::new(By::Plan, lines, None);
        Some(UsageTotals {
            total: accounts.values().copied().sum(),
            accounts,
            items: merged.items,
            complete: true,
            max_usd: None,
            over_budget: None,
            per_region: false,
        })
    }
}

/// `--check --max-usd`: the regions' costs against the budget, over the run
/// or (`per_region`) region by region. The regions over it, when per region.
pub fn over_budget(max: Usd, per_region: bool, totals: &[Usd]) -> (bool, Vec<usize>) {
    if per_region {
        let over: Vec<usize> = totals.iter().enumerate().filter(|(_, t)| **t > max).map(|(i, _)| i).collect();
        (!over.is_empty(), over)
    } else {
        (totals.iter().copied().sum::<Usd>() > max, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    #[test]
    fn amounts_add_exactly_and_print_as_given() {
        let sum: Usd = ["0.1", "0.2", "1.005", "10"].iter().map(|s| usd(s)).sum();
        assert_eq!(sum.to_string(), "11.305");
        assert_eq!(usd("0.0035").to_string(), "0.0035");
        assert_eq!(usd("12.3400").to_string(), "12.34");
        assert_eq!(usd("0").to_string(), "0");
        assert_eq!(usd("$7").to_string(), "7");
        assert_eq!(serde_json::to_value(usd("1.50")).unwrap(), "1.5");
    }

    #[test]
    fn cents_round_half_up() {
        assert_eq!(usd("12.345").cents(), "$12.35");
        assert_eq!(usd("12.344999").cents(), "$12.34");
        assert_eq!(usd("0.004").cents(), "$0.00");
        assert_eq!(usd("3").cents(), "$3.00");
        assert_eq!(usd("0.5").cents(), "$0.50");
    }

    #[test]
    fn comparison_ignores_the_scale() {
        assert_eq!(usd("1.50"), usd("1.5"));
        assert!(usd("10.01") > usd("10"));
        assert!(usd("9.999") < usd("10"));
    }

    #[test]
    fn exponents_and_long_amounts_are_exact() {
        assert_eq!(usd("1E-7").to_string(), "0.0000001");
        assert_eq!(usd("1.5e-7").to_string(), "0.00000015");
        assert_eq!(usd("2.5E+2").to_string(), "250");
        assert_eq!(usd("1.2345678901234567890").to_string(), "1.234567890123456789");
        assert_eq!(usd("123456789012345.5").to_string(), "123456789012345.5");
        assert_eq!(usd("0.000").to_string(), "0");
        assert!(Usd::parse(&"9".repeat(40)).unwrap_err().contains("more digits"));
    }

    #[test]
    fn bad_amounts_are_refused() {
        for bad in ["", ".", "-1", "1e", "12,50", "abc", "1.2.3", "$", "1 000", "NaN", "e5"] {
            assert!(Usd::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn plans_are_named_as_features_spells_them() {
        assert_eq!(plan_name("S3_DATA_EVENTS"), "s3-data-events");
        assert_eq!(plan_name("EKS_RUNTIME_MONITORING"), "eks-runtime-monitoring");
        assert_eq!(plan_name("EC2_RUNTIME_MONITORING"), "runtime-monitoring:ec2");
        assert_eq!(plan_name("FLOW_LOGS"), "flow-logs");
        assert_eq!(plan_name("RDS_DBI_PROTECTION_SERVERLESS"), "rds-dbi-protection-serverless");
    }

    #[test]
    fn a_breakdown_is_most_expensive_first_and_sums_to_its_total() {
        let u = RegionUsage::new(
            By::Plan,
            vec![
                ("flow-logs".into(), usd("1")),
                ("s3-data-events".into(), usd("2.5")),
                ("flow-logs".into(), usd("2")),
            ],
            None,
        );
        let names: Vec<&str> = u.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["flow-logs", "s3-data-events"]);
        assert_eq!(u.total, usd("5.5"));
        let top = RegionUsage::new(By::Resource, vec![("i-1".into(), usd("1"))], Some(usd("9")));
        assert_eq!(top.total, usd("9"), "the top resources are not the whole");
    }

    #[test]
    fn the_budget_is_over_the_run_or_per_region() {
        let regions = [usd("6"), usd("5")];
        assert_eq!(over_budget(usd("10"), false, &regions), (true, vec![]));
        assert_eq!(over_budget(usd("11"), false, &regions), (false, vec![]));
        assert_eq!(over_budget(usd("5.5"), true, &regions), (true, vec![0]));
        assert_eq!(over_budget(usd("6"), true, &regions), (false, vec![]), "at the budget is within it");
    }
}
