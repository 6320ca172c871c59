//! The per-region decisions of `gdctl org`: what the organization's GuardDuty
//! looks like in a region, what was asked for, and what to change. Pure: the
//! calls are made in organization.rs.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::AutoEnable;
use crate::features::{Agent, Feature, Wanted};

/// An account of the organization (Organizations ListAccounts, ACTIVE only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub email: String,
}

/// What to do about the region's delegated administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminStep {
    /// The account asked for is the administrator already.
    Keep,
    /// No administrator yet: name this one.
    Enable,
}

/// Never replace another administrator silently: the region fails, naming it.
pub fn admin_step(listed: &[String], wanted: &str) -> Result<AdminStep, String> {
    if listed.iter().any(|a| a == wanted) {
        return Ok(AdminStep::Keep);
    }
    match listed.first() {
        None => Ok(AdminStep::Enable),
        Some(other) => Err(format!(
            "account {other} is this region's GuardDuty administrator, not {wanted}; gdctl does not \
             replace it (`gdctl org disable --admin-account {other}` first, if that is what you want)"
        )),
    }
}

/// A plan's auto-enable setting for members, and its agents'.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PlanSetting {
    pub auto_enable: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional: BTreeMap<String, String>,
}

/// DescribeOrganizationConfiguration, as far as gdctl reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgConfig {
    /// AutoEnableOrganizationMembers: `ALL`, `NEW` or `NONE`.
    pub auto_enable: String,
    /// Plans by API name.
    pub plans: BTreeMap<String, PlanSetting>,
    /// memberAccountLimitReached: no more members can be added.
    pub limit_reached: bool,
}

/// One plan setting to send: the plan, its value, and the agents' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanUpdate {
    pub feature: Feature,
    pub auto_enable: &'static str,
    pub agents: Vec<(Agent, &'static str)>,
}

/// The UpdateOrganizationConfiguration call, if one is needed, and its labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPlan {
    pub auto_enable: Option<&'static str>,
    pub plans: Vec<PlanUpdate>,
    /// `auto-enable NEW -> ALL`, `+s3-data-events`, `-rds-login-events`.
    pub changes: Vec<String>,
}

impl ConfigPlan {
    pub fn is_empty(&self) -> bool {
        self.auto_enable.is_none() && self.plans.is_empty()
    }
}

/// The value a plan (or agent) should have: the auto-enable level if it is
/// wanted on, NONE if not.
fn level(on: bool, auto: AutoEnable) -> &'static str {
    if on {
        auto.api_name()
    } else {
        "NONE"
    }
}

fn shift(label: &str, from: &str, to: &str) -> String {
    match (from, to) {
        ("NONE", _) => format!("+{label}"),
        (_, "NONE") => format!("-{label}"),
        _ => format!("{label} {from} -> {to}"),
    }
}

/// What must change for the organization configuration to match: auto-enable
/// always, plans only with `--features` (the complete list: a plan not named
/// goes to NONE). A plan or agent the service does not report counts as NONE.
pub fn config_plan(current: &OrgConfig, auto: AutoEnable, wanted: Option<&Wanted>) -> ConfigPlan {
    let mut plan = ConfigPlan::default();
    let now = if current.auto_enable.is_empty() { "NONE" } else { current.auto_enable.as_str() };
    if now != auto.api_name() {
        plan.auto_enable = Some(auto.api_name());
        plan.changes.push(format!("auto-enable {now} -> {}", auto.api_name()));
    }
    let Some(wanted) = wanted else { return plan };
    for (&feature, &on) in &wanted.features {
        let setting = current.plans.get(feature.api_name());
        let from = setting.map_or("NONE", |s| s.auto_enable.as_str());
        let to = level(on, auto);
        if from != to {
            plan.changes.push(shift(feature.cli_name(), from, to));
        }
        let mut agents = Vec::new();
        if feature == Feature::RuntimeMonitoring {
            for (&agent, &agent_on) in &wanted.agents {
                let was =
                    setting.and_then(|s| s.additional.get(agent.api_name())).map_or("NONE", |v| v.as_str());
                let should = level(agent_on, auto);
                if was != should {
                    agents.push((agent, should));
                    plan.changes.push(shift(
                        &format!("runtime-monitoring:{}", agent.cli_name()),
                        was,
                        should,
                    ));
                }
            }
        }
        if from != to || !agents.is_empty() {
            plan.plans.push(PlanUpdate { feature, auto_enable: to, agents });
        }
    }
    plan
}

/// The organization's accounts that are not enabled members: every ACTIVE
/// account but the administrator itself.
pub fn uncovered<'a>(org: &'a [OrgAccount], enabled_members: &[String], admin: &str) -> Vec<&'a OrgAccount> {
    org.iter().filter(|a| a.id != admin && !enabled_members.iter().any(|m| m == &a.id)).collect()
}

/// `org status --check`: why a region is out of line (none: in line).
pub fn out_of_line(
    admin: Option<&str>,
    expected_admin: Option<&str>,
    config: Option<&OrgConfig>,
    auto: AutoEnable,
    wanted: Option<&Wanted>,
    uncovered: usize,
    plans_differ: usize,
) -> Vec<String> {
    let mut reasons = Vec::new();
    match (admin, expected_admin) {
        (None, _) => reasons.push("no delegated administrator".to_string()),
        (Some(a), Some(e)) if a != e => reasons.push(format!("administrator {a}, not {e}")),
        _ => {}
    }
    if let Some(config) = config {
        let plan = config_plan(config, auto, wanted);
        reasons.extend(plan.changes.iter().map(|c| format!("needs {c}")));
        if config.limit_reached {
            reasons.push("member account limit reached".to_string());
        }
    }
    if uncovered > 0 {
        let s = if uncovered == 1 { "" } else { "s" };
        reasons.push(format!("{uncovered} account{s} not an enabled member"));
    }
    if plans_differ > 0 {
        let s = if plans_differ == 1 { "'s" } else { "s'" };
        reasons.push(format!("{plans_differ} member{s} plans differ"));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::parse;

    fn config(auto: &str, plans: &[(&str, &str)]) -> OrgConfig {
        OrgConfig {
            auto_enable: auto.into(),
            plans: plans
                .iter()
                .map(|(n, v)| {
                    (n.to_string(), PlanSetting { auto_enable: v.to_string(), ..Default::default() })
                })
                .collect(),
            limit_reached: false,
        }
    }

    fn wanted(names: &[&str], agents: &[&str]) -> Wanted {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        parse(&s(names), &s(agents)).unwrap()
    }

    #[test]
    fn an_administrator_is_named_kept_or_never_replaced() {
        assert_eq!(admin_step(&[], "111111111111"), Ok(AdminStep::Enable));
        assert_eq!(admin_step(&["111111111111".into()], "111111111111"), Ok(AdminStep::Keep));
        let err = admin_step(&["222222222222".into()], "111111111111").unwrap_err();
        assert!(err
            .starts_with("account 222222222222 is this region's GuardDuty administrator, not 111111111111"));
    }

    #[test]
    fn auto_enable_changes_alone_without_features() {
        let plan = config_plan(&config("NEW", &[("S3_DATA_EVENTS", "NONE")]), AutoEnable::All, None);
        assert_eq!(plan.auto_enable, Some("ALL"));
        assert!(plan.plans.is_empty());
        assert_eq!(plan.changes, ["auto-enable NEW -> ALL"]);
        assert!(config_plan(&config("ALL", &[]), AutoEnable::All, None).is_empty());
        // Unset reads as NONE.
        assert_eq!(config_plan(&config("", &[]), AutoEnable::None, None), ConfigPlan::default());
    }

    #[test]
    fn features_are_the_complete_list_at_the_auto_enable_level() {
        let current = config(
            "ALL",
            &[("S3_DATA_EVENTS", "NONE"), ("RDS_LOGIN_EVENTS", "ALL"), ("EKS_AUDIT_LOGS", "NEW")],
        );
        let plan =
            config_plan(&current, AutoEnable::All, Some(&wanted(&["s3-data-events", "eks-audit-logs"], &[])));
        assert_eq!(plan.auto_enable, None);
        assert_eq!(plan.changes, ["+s3-data-events", "eks-audit-logs NEW -> ALL", "-rds-login-events"]);
        let sent: Vec<_> = plan.plans.iter().map(|p| (p.feature.api_name(), p.auto_enable)).collect();
        assert_eq!(
            sent,
            [("S3_DATA_EVENTS", "ALL"), ("EKS_AUDIT_LOGS", "ALL"), ("RDS_LOGIN_EVENTS", "NONE")]
        );
        // Unreported plans count as NONE: nothing to send to keep them off.
        let again = config_plan(&config("ALL", &[]), AutoEnable::All, Some(&wanted(&["none"], &[])));
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn runtime_agents_follow_the_plan() {
        let plan = config_plan(
            &config("ALL", &[]),
            AutoEnable::All,
            Some(&wanted(&["runtime-monitoring"], &["eks"])),
        );
        assert_eq!(
            plan.changes[..2],
            ["+runtime-monitoring", "+runtime-monitoring:eks"],
            "the plan, then its agents"
        );
        let mut current = config("NEW", &[("RUNTIME_MONITORING", "NEW")]);
        current
            .plans
            .get_mut("RUNTIME_MONITORING")
            .unwrap()
            .additional
            .insert("EKS_ADDON_MANAGEMENT".into(), "NEW".into());
        let plan =
            config_plan(&current, AutoEnable::New, Some(&wanted(&["runtime-monitoring"], &["eks", "ec2"])));
        assert_eq!(plan.changes, ["+runtime-monitoring:ec2"]);
        assert_eq!(plan.plans.len(), 1);
        assert_eq!(plan.plans[0].agents, [(Agent::Ec2, "NEW")]);
    }

    #[test]
    fn uncovered_accounts_leave_out_members_and_the_administrator() {
        let org: Vec<OrgAccount> = ["1", "2", "3"]
            .iter()
            .map(|i| OrgAccount { id: i.repeat(12), email: format!("{i}@example.com") })
            .collect();
        let left = uncovered(&org, &["222222222222".into()], "111111111111");
        assert_eq!(left.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["333333333333"]);
    }

    #[test]
    fn the_check_says_why() {
        let ok = config("ALL", &[]);
        assert!(out_of_line(Some("1"), Some("1"), Some(&ok), AutoEnable::All, None, 0, 0).is_empty());
        assert_eq!(
            out_of_line(None, None, None, AutoEnable::All, None, 0, 0),
            ["no delegated administrator"]
        );
        assert_eq!(
            out_of_line(Some("2"), Some("1"), Some(&config("NEW", &[])), AutoEnable::All, None, 2, 1),
            [
                "administrator 2, not 1",
                "needs auto-enable NEW -> ALL",
                "2 accounts not an enabled member",
                "1 member's plans differ"
            ]
        );
    }
}
