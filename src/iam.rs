//! The minimum IAM policy of each command, from the one table of the calls it
//! makes (`gdctl iam-policy`). The end-to-end tests hold every call a command
//! makes (the SDK's own operation names, from its log) against this table.

use std::collections::BTreeSet;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::json;

/// A command as `gdctl iam-policy` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyCommand {
    Enable,
    Disable,
    Status,
    Usage,
    Findings,
    FindingsSample,
    FindingsArchive,
    Apply,
    /// org enable, org status and org disable.
    Org,
    OrgEnable,
    OrgStatus,
    OrgDisable,
}

/// The names `gdctl iam-policy` takes.
pub const NAMES: &[(&str, PolicyCommand)] = &[
    ("enable", PolicyCommand::Enable),
    ("disable", PolicyCommand::Disable),
    ("status", PolicyCommand::Status),
    ("usage", PolicyCommand::Usage),
    ("findings", PolicyCommand::Findings),
    ("findings-sample", PolicyCommand::FindingsSample),
    ("findings-archive", PolicyCommand::FindingsArchive),
    ("apply", PolicyCommand::Apply),
    ("org", PolicyCommand::Org),
    ("org-enable", PolicyCommand::OrgEnable),
    ("org-status", PolicyCommand::OrgStatus),
    ("org-disable", PolicyCommand::OrgDisable),
];

/// The words given, as commands. `org enable` and `findings sample` are how
/// the commands are typed, but here `org` already means all three and
/// `enable` is a command of its own: refused, naming the one meant.
pub fn parse_names(words: &[String]) -> Result<Vec<PolicyCommand>, String> {
    let mut commands = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        match (word.as_str(), next) {
            ("org", Some(sub @ ("enable" | "status" | "disable")))
            | ("findings", Some(sub @ ("sample" | "archive"))) => {
                return Err(format!(
                    "`{word} {sub}` would be {word} and {sub} here: write `{word}-{sub}` for `gdctl {word} {sub}`"
                ));
            }
            _ => {}
        }
        match NAMES.iter().find(|(n, _)| n == word) {
            Some((_, c)) => commands.push(*c),
            None => {
                let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "no command `{word}` to print a policy for; one of: {}",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(commands)
}

/// The command this run is, as `gdctl iam-policy` names it: error hints
/// point to its policy.
static RUNNING: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

pub fn set_running(command: &crate::cli::Command) {
    use crate::cli::{Command, FindingsAction, OrgCommand};
    let name = match command {
        Command::Enable(_) => "enable",
        Command::Disable(_) => "disable",
        Command::Status(_) => "status",
        Command::Usage(_) => "usage",
        Command::Findings(f) => match &f.action {
            Some(FindingsAction::Sample(_)) => "findings-sample",
            Some(FindingsAction::Archive(_)) => "findings-archive",
            None => "findings",
        },
        Command::Apply(_) => "apply",
        Command::Org(OrgCommand::Enable(_)) => "org-enable",
        Command::Org(OrgCommand::Status(_)) => "org-status",
        Command::Org(OrgCommand::Disable(_)) => "org-disable",
        Command::IamPolicy(_) | Command::Completions { .. } | Command::Man { .. } => return,
    };
    let _ = RUNNING.set(name);
}

/// Where an AccessDenied answer points: the policy of the command run.
pub fn denied_hint() -> String {
    format!(
        "`gdctl iam-policy {}` prints the IAM policy it needs",
        RUNNING.get().copied().unwrap_or("COMMAND")
    )
}

impl PolicyCommand {
    /// What the name covers: `org` is its three commands.
    fn expand(self) -> &'static [PolicyCommand] {
        use PolicyCommand::*;
        match self {
            Org => &[OrgEnable, OrgStatus, OrgDisable],
            Enable => &[Enable],
            Disable => &[Disable],
            Status => &[Status],
            Usage => &[Usage],
            Findings => &[Findings],
            FindingsSample => &[FindingsSample],
            FindingsArchive => &[FindingsArchive],
            Apply => &[Apply],
            OrgEnable => &[OrgEnable],
            OrgStatus => &[OrgStatus],
            OrgDisable => &[OrgDisable],
        }
    }

    fn is_org(self) -> bool {
        matches!(self, PolicyCommand::OrgEnable | PolicyCommand::OrgStatus | PolicyCommand::OrgDisable)
    }
}

/// Whose credentials make the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The credentials gdctl runs with, in their own account (for `org`:
    /// the management account).
    Caller,
    /// The role gdctl assumes in each other account (for `org`: the
    /// delegated administrator's).
    Role,
}

/// Everything but the per-command calls: the region discovery every command
/// makes in each account it works in. STS GetCallerIdentity needs no permission.
const DISCOVERY: &[&str] = &["ec2:DescribeRegions"];

const DETECTOR_READ: &[&str] = &["guardduty:ListDetectors", "guardduty:GetDetector"];
const DETECTOR_WRITE: &[&str] =
    &["guardduty:CreateDetector", "guardduty:UpdateDetector", "guardduty:TagResource"];
/// `org enable` converges detectors as `enable` does, but tags none.
const ORG_DETECTOR_WRITE: &[&str] = &["guardduty:CreateDetector", "guardduty:UpdateDetector"];

/// The calls each command makes on each side, every flag's included (`--tag`,
/// `--by account`, `--list`, ...). The caller's account and every other account
/// take the same calls for the commands that are not `org`.
fn calls(command: PolicyCommand, side: Side) -> Vec<&'static [&'static str]> {
    use PolicyCommand::*;
    match (command, side) {
        (Enable, _) => vec![DISCOVERY, DETECTOR_READ, DETECTOR_WRITE],
        (Disable, _) => {
            vec![DISCOVERY, DETECTOR_READ, &["guardduty:UpdateDetector", "guardduty:DeleteDetector"]]
        }
        (Status, _) => vec![DISCOVERY, DETECTOR_READ],
        (Usage, _) => vec![
            DISCOVERY,
            DETECTOR_READ,
            &["guardduty:GetUsageStatistics", "guardduty:GetRemainingFreeTrialDays", "guardduty:ListMembers"],
        ],
        (Findings, _) => vec![
            DISCOVERY,
            DETECTOR_READ,
            &[
                "guardduty:GetFindingsStatistics",
                "guardduty:ListFindings",
                "guardduty:GetFindings",
                "guardduty:ListMembers",
            ],
        ],
        (FindingsSample, _) => vec![DISCOVERY, DETECTOR_READ, &["guardduty:CreateSampleFindings"]],
        (FindingsArchive, _) => vec![
            DISCOVERY,
            DETECTOR_READ,
            &["guardduty:ListFindings", "guardduty:GetFindings", "guardduty:ArchiveFindings"],
        ],
        (Apply, _) => vec![
            DISCOVERY,
            DETECTOR_READ,
            DETECTOR_WRITE,
            &[
                "guardduty:ListFilters",
                "guardduty:GetFilter",
                "guardduty:CreateFilter",
                "guardduty:UpdateFilter",
                "guardduty:DeleteFilter",
                "guardduty:ListIPSets",
                "guardduty:GetIPSet",
                "guardduty:CreateIPSet",
                "guardduty:UpdateIPSet",
                "guardduty:DeleteIPSet",
                "guardduty:ListThreatIntelSets",
                "guardduty:GetThreatIntelSet",
                "guardduty:CreateThreatIntelSet",
                "guardduty:UpdateThreatIntelSet",
                "guardduty:DeleteThreatIntelSet",
                "guardduty:ListPublishingDestinations",
                "guardduty:DescribePublishingDestination",
                "guardduty:CreatePublishingDestination",
                "guardduty:UpdatePublishingDestination",
            ],
        ],
        // The management account: the administrator named, and its own
        // detector (it is a member too).
        (OrgEnable, Side::Caller) => vec![
            DISCOVERY,
            ORG_MANAGEMENT_READ,
            DETECTOR_READ,
            ORG_DETECTOR_WRITE,
            &["guardduty:EnableOrganizationAdminAccount"],
            GUARDDUTY_ON_ORGANIZATIONS,
        ],
        (OrgStatus, Side::Caller) => vec![DISCOVERY, ORG_MANAGEMENT_READ],
        (OrgDisable, Side::Caller) => {
            vec![DISCOVERY, ORG_MANAGEMENT_READ, &["guardduty:DisableOrganizationAdminAccount"]]
        }
        // The delegated administrator.
        (OrgEnable, Side::Role) => vec![
            DETECTOR_READ,
            ORG_DETECTOR_WRITE,
            ORG_ADMIN_READ,
            &["guardduty:UpdateOrganizationConfiguration", "guardduty:CreateMembers"],
            ADMIN_ON_ORGANIZATIONS,
        ],
        (OrgStatus, Side::Role) => vec![DETECTOR_READ, ORG_ADMIN_READ],
        (OrgDisable, Side::Role) => vec![
            DETECTOR_READ,
            ORG_ADMIN_READ,
            &["guardduty:UpdateOrganizationConfiguration", "guardduty:DisassociateMembers"],
        ],
        (Org, side) => Org.expand().iter().flat_map(|c| calls(*c, side)).collect(),
    }
}

const ORG_MANAGEMENT_READ: &[&str] =
    &["organizations:ListAccounts", "guardduty:ListOrganizationAdminAccounts"];
const ORG_ADMIN_READ: &[&str] =
    &["guardduty:DescribeOrganizationConfiguration", "guardduty:ListMembers", "guardduty:GetMemberDetectors"];

/// Not gdctl's calls: what GuardDuty itself calls in Organizations, on the
/// caller's behalf, when EnableOrganizationAdminAccount is called (AWS's
/// "Permissions required to designate a delegated GuardDuty administrator").
const GUARDDUTY_ON_ORGANIZATIONS: &[&str] = &[
    "organizations:DescribeOrganization",
    "organizations:EnableAWSServiceAccess",
    "organizations:RegisterDelegatedAdministrator",
    "organizations:ListDelegatedAdministrators",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:DescribeOrganizationalUnit",
    "organizations:DescribeAccount",
];

/// What GuardDuty reads of the organization for its administrator (members
/// and auto-enable).
const ADMIN_ON_ORGANIZATIONS: &[&str] = &["organizations:DescribeOrganization", "organizations:ListAccounts"];

/// The caller of a run across accounts (`--accounts`, `--org`, `--org-unit`):
/// the organization listed, and the role assumed in each account.
const ACROSS_ACCOUNTS: &[&str] = &[
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
];

const SERVICE_LINKED_ROLE: &str =
    "arn:aws:iam::*:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty";

/// What was asked: the commands, the side, and the role's name.
#[derive(Debug, Clone)]
pub struct Request {
    pub commands: Vec<PolicyCommand>,
    pub side: Side,
    /// The caller of a run across accounts.
    pub accounts: bool,
    pub role_name: String,
    /// For org: the one account whose role is assumed (else any).
    pub admin_account: Option<String>,
}

/// An IAM policy document, its keys in the order AWS's own examples use.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policy {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub sid: &'static str,
    pub effect: &'static str,
    pub action: Actions,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

/// One action is written as a string, as AWS writes it; more as a list.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Actions {
    One(&'static str),
    Many(Vec<&'static str>),
}

impl Actions {
    #[cfg(test)]
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Actions::One(a) => vec![a],
            Actions::Many(a) => a.clone(),
        }
    }
}

fn allow(sid: &'static str, action: Actions, resource: impl Into<String>) -> Statement {
    Statement { sid, effect: "Allow", action, resource: resource.into(), condition: None }
}

/// The policy document.
pub fn policy(request: &Request) -> Policy {
    let commands: BTreeSet<PolicyCommand> = if request.commands.is_empty() {
        NAMES.iter().map(|(_, c)| c).flat_map(|c| c.expand()).copied().collect()
    } else {
        request.commands.iter().flat_map(|c| c.expand()).copied().collect()
    };
    let mut actions = BTreeSet::new();
    for command in &commands {
        for group in calls(*command, request.side) {
            actions.extend(group.iter().copied());
        }
    }
    let caller = request.side == Side::Caller;
    if caller && request.accounts {
        actions.extend(ACROSS_ACCOUNTS.iter().copied());
    }
    let mut statements = vec![allow("GdctlCalls", Actions::Many(actions.into_iter().collect()), "*")];
    if caller && (request.accounts || commands.iter().any(|c| c.is_org())) {
        // Across accounts: the role in any of them. For org alone: the
        // administrator's, when named.
        let account = match (&request.admin_account, request.accounts) {
            (Some(id), false) => id.as_str(),
            _ => "*",
        };
        let role = format!("arn:aws:iam::{account}:role/{}", request.role_name);
        statements.push(allow("AssumeTheRole", Actions::One("sts:AssumeRole"), role));
    }
    // GuardDuty makes its service-linked role with the first detector of an
    // account, as the caller.
    if commands
        .iter()
        .any(|c| matches!(c, PolicyCommand::Enable | PolicyCommand::Apply | PolicyCommand::OrgEnable))
    {
        let mut slr = allow(
            "GuardDutyServiceLinkedRole",
            Actions::One("iam:CreateServiceLinkedRole"),
            SERVICE_LINKED_ROLE,
        );
        slr.condition = Some(json!({ "StringLike": { "iam:AWSServiceName": "guardduty.amazonaws.com" } }));
        statements.push(slr);
    }
    // Trusted IP and threat lists: GuardDuty gives its role the read of the
    // list's object, as the caller (AWS's page on trusted IP and threat lists).
    if commands.contains(&PolicyCommand::Apply) {
        statements.push(allow(
            "GuardDutyListsRolePolicy",
            Actions::Many(vec!["iam:PutRolePolicy", "iam:DeleteRolePolicy"]),
            SERVICE_LINKED_ROLE,
        ));
    }
    Policy { version: "2012-10-17", statement: statements }
}

/// The request as the flags give it, or what is wrong with it (exit 2).
pub fn request(args: &crate::cli::IamPolicyArgs) -> Result<Request, String> {
    let commands = parse_names(&args.commands)?;
    let side = if args.role { Side::Role } else { Side::Caller };
    let all: Vec<PolicyCommand> = if commands.is_empty() {
        NAMES.iter().flat_map(|(_, c)| c.expand()).copied().collect()
    } else {
        commands.iter().flat_map(|c| c.expand()).copied().collect()
    };
    let any_org = all.iter().any(|c| c.is_org());
    if args.accounts && all.iter().all(|c| c.is_org()) {
        return Err("--accounts is for the commands that work across accounts; `gdctl org` \
                    reaches the administrator with --role-name instead: drop --accounts"
            .into());
    }
    if args.role_name.is_some() && (args.role || !(args.accounts || any_org)) {
        return Err("--role-name names the role the caller assumes: it goes with --accounts or an org \
                    command, without --role"
            .into());
    }
    if args.admin_account.is_some() && (args.role || !any_org || args.accounts) {
        return Err("--admin-account names the account whose role the management account assumes: it goes \
                    with an org command alone, without --role or --accounts"
            .into());
    }
    Ok(Request {
        commands,
        side,
        accounts: args.accounts,
        role_name: args
            .role_name
            .clone()
            .unwrap_or_else(|| crate::cli::AccountArgs::DEFAULT_ROLE.to_string()),
        admin_account: args.admin_account.clone(),
    })
}

pub fn print(args: &crate::cli::IamPolicyArgs) -> ExitCode {
    let request = match request(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gdctl: error: {e}");
            return ExitCode::from(2);
        }
    };
    let policy = policy(&request);
    let wide = policy.statement.iter().any(|s| s.sid == "AssumeTheRole" && s.resource.contains("::*:"));
    if wide && !request.accounts {
        eprintln!(
            "gdctl: note: sts:AssumeRole is allowed on {} in every account; --admin-account ID allows only \
             the administrator's",
            request.role_name
        );
    }
    let mut text = serde_json::to_string_pretty(&policy).unwrap_or_default();
    text.push('\n');
    crate::docs::write_out(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_taken_as_typed_and_two_word_commands_are_refused_naming_the_one_meant() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_names(&words(&["status", "org-enable"])),
            Ok(vec![PolicyCommand::Status, PolicyCommand::OrgEnable])
        );
        let e = parse_names(&words(&["org", "enable"])).unwrap_err();
        assert!(e.contains("`org-enable`"), "{e}");
        let e = parse_names(&words(&["findings", "sample"])).unwrap_err();
        assert!(e.contains("`findings-sample`"), "{e}");
        let e = parse_names(&words(&["bogus"])).unwrap_err();
        assert!(e.contains("org-disable"), "{e}");
        // `enable org` is two commands, in that order.
        assert_eq!(
            parse_names(&words(&["enable", "org"])),
            Ok(vec![PolicyCommand::Enable, PolicyCommand::Org])
        );
    }

    #[test]
    fn the_administrator_named_is_the_only_role_org_may_assume() {
        let request = Request {
            commands: vec![PolicyCommand::OrgStatus],
            side: Side::Caller,
            accounts: false,
            role_name: "OrganizationAccountAccessRole".into(),
            admin_account: Some("111111111111".into()),
        };
        let text = serde_json::to_string(&policy(&request)).unwrap();
        assert!(text.contains("arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"), "{text}");
    }

    fn actions(commands: &[PolicyCommand], side: Side, accounts: bool) -> Vec<&'static str> {
        let request = Request {
            commands: commands.to_vec(),
            side,
            accounts,
            role_name: "gdctl".into(),
            admin_account: None,
        };
        policy(&request).statement.iter().flat_map(|s| s.action.names()).collect()
    }

    #[test]
    fn status_reads_only() {
        assert_eq!(
            actions(&[PolicyCommand::Status], Side::Caller, false),
            ["ec2:DescribeRegions", "guardduty:GetDetector", "guardduty:ListDetectors"]
        );
    }

    #[test]
    fn across_accounts_the_caller_assumes_the_named_role_and_lists_the_organization() {
        let request = Request {
            commands: vec![PolicyCommand::Status],
            side: Side::Caller,
            accounts: true,
            role_name: "security/gdctl".into(),
            admin_account: None,
        };
        let text = serde_json::to_string(&policy(&request)).unwrap();
        assert!(text.contains("arn:aws:iam::*:role/security/gdctl"), "{text}");
        assert!(text.contains("organizations:ListAccountsForParent"), "{text}");
        assert!(!actions(&[PolicyCommand::Status], Side::Role, false).contains(&"sts:AssumeRole"));
    }

    #[test]
    fn org_has_two_sides_and_every_name_is_covered() {
        let management = actions(&[PolicyCommand::Org], Side::Caller, false);
        let administrator = actions(&[PolicyCommand::Org], Side::Role, false);
        assert!(management.contains(&"guardduty:EnableOrganizationAdminAccount"));
        assert!(management.contains(&"sts:AssumeRole"));
        assert!(!administrator.contains(&"guardduty:EnableOrganizationAdminAccount"));
        assert!(administrator.contains(&"guardduty:CreateMembers"));
        // All commands: everything every command needs, once each.
        let all = actions(&[], Side::Caller, false);
        let unique: BTreeSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
        for (_, c) in NAMES {
            for a in actions(&[*c], Side::Caller, false) {
                assert!(all.contains(&a), "{a} of {c:?}");
            }
        }
    }

    #[test]
    fn only_what_a_command_needs() {
        let findings = actions(&[PolicyCommand::Findings], Side::Caller, false);
        assert!(!findings
            .iter()
            .any(|a| a.contains("Create") || a.contains("Archive") || a.starts_with("iam:")));
        let apply = actions(&[PolicyCommand::Apply], Side::Caller, false);
        assert!(apply.contains(&"iam:PutRolePolicy"));
        assert!(apply.contains(&"iam:CreateServiceLinkedRole"));
    }
}
