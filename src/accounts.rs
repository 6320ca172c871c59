//! Which accounts a run works in (the caller's own; a list, a file or the
//! organization), and how gdctl gets into each: the caller's credentials for
//! its own account, else the role, assumed with aws-config's AssumeRoleProvider.

use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_organizations::types::AccountStatus;
use serde::Serialize;

use crate::cli::AccountArgs;
use crate::error::{RegionError, SetupError};
use crate::org_plan::OrgAccount;
use crate::regions::Selection;

/// The identity gdctl runs as (STS GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: role ARNs are built in it.
    pub partition: String,
    /// The credentials are an assumed role's (`arn:…:sts::…:assumed-role/…`).
    pub assumed_role: bool,
}

impl Caller {
    pub fn from_arn(account: String, arn: Option<&str>) -> Caller {
        let partition = arn.and_then(|a| a.split(':').nth(1)).filter(|p| !p.is_empty()).unwrap_or("aws");
        let assumed_role =
            arn.and_then(|a| a.split(':').nth(5)).is_some_and(|r| r.starts_with("assumed-role/"));
        Caller { account, partition: partition.to_string(), assumed_role }
    }
}

/// The role gdctl assumes in every account but the caller's.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub duration: Duration,
    pub partition: String,
}

impl Role {
    pub fn new(args: &AccountArgs, caller: &Caller) -> Role {
        Role {
            name: args.role_name.clone().unwrap_or_else(|| AccountArgs::DEFAULT_ROLE.to_string()),
            external_id: args.external_id.clone(),
            session_name: args.role_session_name.clone().unwrap_or_else(|| "gdctl".to_string()),
            duration: Duration::from_secs(u64::from(
                args.session_duration.unwrap_or(AccountArgs::DEFAULT_SESSION_SECONDS),
            )),
            partition: caller.partition.clone(),
        }
    }

    pub fn arn(&self, account: &str) -> String {
        format!("arn:{}:iam::{account}:role/{}", self.partition, self.name)
    }

    /// What to check when the role could not be assumed.
    pub fn hint(&self, account: &str, caller: &str) -> String {
        let mut hint = format!(
            "tried {}: it must exist, and its trust policy must let account {caller} call sts:AssumeRole",
            self.arn(account)
        );
        match &self.external_id {
            Some(_) => hint.push_str(" with the external id given (sts:ExternalId)"),
            None => hint.push_str(" (pass --external-id if the policy asks for one)"),
        }
        hint
    }

    /// The account's configuration: the caller's, with credentials from the
    /// role. Every client of the account is built from it, so the SDK's
    /// identity cache assumes the role once and renews it when it runs out.
    pub async fn config_for(&self, account: &str, caller_config: &SdkConfig, sts: Option<&str>) -> SdkConfig {
        let mut base = caller_config.to_builder();
        // gdctl's own reading of where STS calls go (the flag first), and no
        // other: the SDK would let AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL
        // win over it.
        base.set_endpoint_url(sts.map(str::to_string));
        base.set_service_config(None::<NoServiceConfig>);
        let mut provider = AssumeRoleProvider::builder(self.arn(account))
            .session_name(&self.session_name)
            .session_length(self.duration)
            .configure(&base.build());
        if let Some(region) = caller_config.region() {
            // The home region's own STS endpoint: tokens from the global one
            // do not work in opt-in regions.
            provider = provider.region(Region::new(region.to_string()));
        }
        if let Some(id) = &self.external_id {
            provider = provider.external_id(id);
        }
        let provider = provider.build().await;
        caller_config.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
    }
}

/// No configuration from the environment for the role's STS client: its
/// endpoint is set, from gdctl's own reading, on the SdkConfig.
#[derive(Debug)]
struct NoServiceConfig;

impl aws_types::service_config::LoadServiceConfig for NoServiceConfig {
    fn load_config(&self, _: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

/// One line per account in the file: ids, `#` comments, blank lines.
pub fn parse_list(text: &str, origin: &str) -> Result<Vec<String>, SetupError> {
    let mut ids = Vec::new();
    // Editors on Windows start a UTF-8 file with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (n, line) in text.lines().enumerate() {
        let id = line.split('#').next().unwrap_or("").trim();
        if id.is_empty() {
            continue;
        }
        match crate::cli::parse_account(id) {
            Ok(id) => ids.push(id),
            Err(e) => return Err(SetupError::Invalid(format!("{origin}, line {}: {e}", n + 1))),
        }
    }
    Ok(ids)
}

/// The accounts to work in: sorted, each once, without the excluded ones.
/// An excluded id that is not among them is refused: a typo there must not
/// leave the account meant to be excluded in.
pub fn finish(mut ids: Vec<String>, exclude: &[String], origin: &str) -> Result<Vec<String>, SetupError> {
    if ids.is_empty() {
        return Err(SetupError::Invalid(format!("{origin} named no account to work on")));
    }
    not_among(exclude, |x| ids.contains(x), origin)?;
    ids.sort();
    ids.dedup();
    ids.retain(|id| !exclude.contains(id));
    if ids.is_empty() {
        return Err(SetupError::Invalid(format!(
            "no account left to work on ({origin}, less --exclude-accounts)"
        )));
    }
    Ok(ids)
}

/// `--exclude-accounts` ids that are not among the accounts selected.
fn not_among(exclude: &[String], known: impl Fn(&String) -> bool, origin: &str) -> Result<(), SetupError> {
    let unknown: Vec<&str> = exclude.iter().filter(|x| !known(x)).map(String::as_str).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(SetupError::Invalid(format!(
        "--exclude-accounts {}: not among the accounts of {origin}, so it would leave nothing out \
         (a typo?); nothing was changed",
        unknown.join(",")
    )))
}

/// `--accounts-file`: a path, or `-` for standard input.
pub fn read_list(path: &std::path::Path) -> Result<Vec<String>, SetupError> {
    use std::io::{IsTerminal, Read};
    let (text, origin) = if path.as_os_str() == "-" {
        if std::io::stdin().is_terminal() {
            eprintln!("gdctl: reading account ids from standard input, one per line (end with Ctrl-D)");
        }
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            SetupError::Invalid(format!("--accounts-file -: could not read standard input: {e}"))
        })?;
        (text, "standard input".to_string())
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SetupError::Invalid(format!(
                "--accounts-file {}: {}",
                path.display(),
                crate::error::plain_chain(&e)
            ))
        })?;
        (text, path.display().to_string())
    };
    parse_list(&text, &origin)
}

/// Every ACTIVE account of the organization, or of one OU's subtree.
pub async fn organization(
    client: &aws_sdk_organizations::Client,
    ou: Option<&str>,
) -> Result<Vec<String>, SetupError> {
    let failed = |call: &str, e: RegionError| SetupError::Invalid(org_error("--org", call, ou, e));
    let active = |a: &aws_sdk_organizations::types::Account| {
        (a.status() == Some(&AccountStatus::Active)).then(|| a.id().map(str::to_string)).flatten()
    };
    let Some(root) = ou else {
        let all = list_accounts(client).await.map_err(|e| failed("ListAccounts", e))?;
        return Ok(all.iter().filter_map(active).collect());
    };
    // The subtree, breadth first: each OU's accounts, then its child OUs.
    let mut ids = Vec::new();
    let mut parents = vec![root.to_string()];
    while let Some(parent) = parents.pop() {
        let pages: Vec<_> = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| failed("ListAccountsForParent", RegionError::from_sdk(&e)))?;
        ids.extend(pages.iter().flat_map(|p| p.accounts()).filter_map(active));
        let pages: Vec<_> = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| failed("ListOrganizationalUnitsForParent", RegionError::from_sdk(&e)))?;
        let children = pages.iter().flat_map(|p| p.organizational_units());
        parents.extend(children.filter_map(|c| c.id().map(str::to_string)));
    }
    Ok(ids)
}

/// Organizations ListAccounts, every page.
async fn list_accounts(
    client: &aws_sdk_organizations::Client,
) -> Result<Vec<aws_sdk_organizations::types::Account>, RegionError> {
    let pages: Vec<_> = client
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| RegionError::from_sdk(&e))?;
    Ok(pages.iter().flat_map(|p| p.accounts()).cloned().collect())
}

/// `gdctl org`: every ACTIVE account of the organization, with the email
/// CreateMembers needs; those in `exclude` left out.
pub async fn organization_accounts(
    client: &aws_sdk_organizations::Client,
    exclude: &[String],
) -> Result<Vec<OrgAccount>, SetupError> {
    let all = list_accounts(client)
        .await
        .map_err(|e| SetupError::Invalid(org_error("gdctl org", "ListAccounts", None, e)))?;
    let mut accounts: Vec<OrgAccount> = all
        .iter()
        .filter(|a| a.status() == Some(&AccountStatus::Active))
        .filter_map(|a| {
            Some(OrgAccount { id: a.id()?.to_string(), email: a.email().unwrap_or_default().to_string() })
        })
        .collect();
    not_among(exclude, |x| accounts.iter().any(|a| &a.id == x), "the organization (ACTIVE ones)")?;
    accounts.retain(|a| !exclude.contains(&a.id));
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    if accounts.is_empty() {
        return Err(SetupError::Invalid(
            "gdctl org: the organization has no ACTIVE account to work with (is the caller's account in an \
             AWS Organization, and its management account?)"
                .into(),
        ));
    }
    Ok(accounts)
}

/// An Organizations failure, for the flag or command (`what`) that needed it.
fn org_error(what: &str, call: &str, ou: Option<&str>, e: RegionError) -> String {
    let why = match e.code.as_str() {
        "AWSOrganizationsNotInUseException" => {
            "the caller's account is not in an AWS Organization".to_string()
        }
        "AccessDeniedException" => format!(
            "{e} (run it with the management account's credentials, or a delegated administrator's, \
             allowed organizations:{call})"
        ),
        "ParentNotFoundException" => format!("organizational unit {} not found", ou.unwrap_or("?")),
        _ => e.to_string(),
    };
    format!("{what}: {call} failed: {why}")
}

/// How one account's part of the run went, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    pub account: String,
    /// `ok`, `failed` (nothing was attempted in it) or `not-started`.
    pub outcome: &'static str,
    /// The role assumed, where one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub targets: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_of_line: Option<usize>,
    /// Regions per outcome.
    pub outcomes: std::collections::BTreeMap<crate::plan::Outcome, usize>,
    pub error: Option<RegionError>,
}

/// An account, once gdctl got into it: its configuration and its regions.
pub struct Opened {
    pub id: String,
    /// The account's credentials (the caller's, or its role's), for the
    /// shared regional clients.
    pub credentials: aws_smithy_runtime_api::client::identity::SharedIdentityResolver,
    pub role_arn: Option<String>,
    pub selection: Selection,
}

impl Opened {
    pub fn new(id: String, config: &SdkConfig, role_arn: Option<String>, selection: Selection) -> Opened {
        let provider = config
            .credentials_provider()
            .unwrap_or_else(|| SharedCredentialsProvider::new(crate::identity::NoAccount));
        let credentials = aws_smithy_runtime_api::client::identity::SharedIdentityResolver::new(provider);
        Opened { id, credentials, role_arn, selection }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_files_take_ids_comments_and_blank_lines() {
        let text = "# prod\n111111111111\n\n  222222222222  # payments\n111111111111\n";
        assert_eq!(parse_list(text, "a.txt").unwrap(), ["111111111111", "222222222222", "111111111111"]);
        let err = parse_list("111111111111\n12345\n", "a.txt").unwrap_err().to_string();
        assert_eq!(err, "a.txt, line 2: `12345` is not a 12-digit AWS account id");
    }

    #[test]
    fn the_list_is_sorted_once_each_less_the_excluded_and_never_empty() {
        let ids = vec!["222222222222".into(), "111111111111".into(), "222222222222".into()];
        assert_eq!(finish(ids.clone(), &[], "--accounts").unwrap(), ["111111111111", "222222222222"]);
        assert_eq!(finish(ids.clone(), &["111111111111".into()], "--accounts").unwrap(), ["222222222222"]);
        let all = ["111111111111".to_string(), "222222222222".to_string()];
        assert!(finish(ids, &all, "--accounts").unwrap_err().to_string().contains("no account left"));
        assert_eq!(
            finish(vec![], &[], "--org").unwrap_err().to_string(),
            "--org named no account to work on"
        );
    }

    #[test]
    fn organization_errors_say_what_to_do() {
        let e = |code: &str| {
            org_error("--org", "ListAccounts", Some("ou-ab12-cdef3456"), RegionError::new(code, "m"))
        };
        assert_eq!(
            e("AWSOrganizationsNotInUseException"),
            "--org: ListAccounts failed: the caller's account is not in an AWS Organization"
        );
        assert!(e("AccessDeniedException").contains("management account"));
        assert!(e("ParentNotFoundException").ends_with("organizational unit ou-ab12-cdef3456 not found"));
    }

    #[test]
    fn role_arns_are_built_in_the_callers_partition() {
        let caller =
            Caller::from_arn("123456789012".into(), Some("arn:aws-cn:sts::123456789012:assumed-role/x/y"));
        assert_eq!(caller.partition, "aws-cn");
        let role = Role {
            name: "security/gdctl".into(),
            external_id: None,
            session_name: "gdctl".into(),
            duration: Duration::from_secs(3600),
            partition: caller.partition,
        };
        assert_eq!(role.arn("111111111111"), "arn:aws-cn:iam::111111111111:role/security/gdctl");
        assert!(role
            .hint("111111111111", "123456789012")
            .contains("let account 123456789012 call sts:AssumeRole"));
        assert_eq!(Caller::from_arn("1".into(), None).partition, "aws");
    }
}
