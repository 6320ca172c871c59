//! Suppression rules (GuardDuty filters), pure: a rule in one normal form,
//! and what it takes to make a region's filters the file's, in its order.

use std::collections::BTreeMap;
use std::fmt;

/// The finding fields a filter's criteria may name (the API's list).
pub const FIELDS: &[&str] = &[
    "accountId",
    "id",
    "region",
    "severity",
    "type",
    "updatedAt",
    "confidence",
    "resource.accessKeyDetails.accessKeyId",
    "resource.accessKeyDetails.principalId",
    "resource.accessKeyDetails.userName",
    "resource.accessKeyDetails.userType",
    "resource.instanceDetails.iamInstanceProfile.id",
    "resource.instanceDetails.imageId",
    "resource.instanceDetails.instanceId",
    "resource.instanceDetails.tags.key",
    "resource.instanceDetails.tags.value",
    "resource.instanceDetails.networkInterfaces.ipv6Addresses",
    "resource.instanceDetails.networkInterfaces.privateIpAddresses.privateIpAddress",
    "resource.instanceDetails.networkInterfaces.publicDnsName",
    "resource.instanceDetails.networkInterfaces.publicIp",
    "resource.instanceDetails.networkInterfaces.securityGroups.groupId",
    "resource.instanceDetails.networkInterfaces.securityGroups.groupName",
    "resource.instanceDetails.networkInterfaces.subnetId",
    "resource.instanceDetails.networkInterfaces.vpcId",
    "resource.instanceDetails.outpostArn",
    "resource.resourceType",
    "resource.s3BucketDetails.publicAccess.effectivePermissions",
    "resource.s3BucketDetails.name",
    "resource.s3BucketDetails.tags.key",
    "resource.s3BucketDetails.tags.value",
    "resource.s3BucketDetails.type",
    "resource.eksClusterDetails.name",
    "resource.kubernetesDetails.kubernetesWorkloadDetails.name",
    "resource.kubernetesDetails.kubernetesWorkloadDetails.namespace",
    "resource.kubernetesDetails.kubernetesUserDetails.username",
    "resource.kubernetesDetails.kubernetesWorkloadDetails.containers.image",
    "resource.kubernetesDetails.kubernetesWorkloadDetails.containers.imagePrefix",
    "resource.ecsClusterDetails.name",
    "resource.ecsClusterDetails.taskDetails.containers.image",
    "resource.ecsClusterDetails.taskDetails.definitionArn",
    "resource.containerDetails.image",
    "resource.rdsDbInstanceDetails.dbInstanceIdentifier",
    "resource.rdsDbInstanceDetails.dbClusterIdentifier",
    "resource.rdsDbInstanceDetails.engine",
    "resource.rdsDbUserDetails.user",
    "resource.rdsDbInstanceDetails.tags.key",
    "resource.rdsDbInstanceDetails.tags.value",
    "resource.lambdaDetails.functionName",
    "resource.lambdaDetails.functionArn",
    "resource.lambdaDetails.tags.key",
    "resource.lambdaDetails.tags.value",
    "service.action.actionType",
    "service.action.awsApiCallAction.api",
    "service.action.awsApiCallAction.callerType",
    "service.action.awsApiCallAction.errorCode",
    "service.action.awsApiCallAction.remoteIpDetails.city.cityName",
    "service.action.awsApiCallAction.remoteIpDetails.country.countryName",
    "service.action.awsApiCallAction.remoteIpDetails.ipAddressV4",
    "service.action.awsApiCallAction.remoteIpDetails.ipAddressV6",
    "service.action.awsApiCallAction.remoteIpDetails.organization.asn",
    "service.action.awsApiCallAction.remoteIpDetails.organization.asnOrg",
    "service.action.awsApiCallAction.serviceName",
    "service.action.awsApiCallAction.remoteAccountDetails.affiliated",
    "service.action.dnsRequestAction.domain",
    "service.action.dnsRequestAction.domainWithSuffix",
    "service.action.networkConnectionAction.blocked",
    "service.action.networkConnectionAction.connectionDirection",
    "service.action.networkConnectionAction.localPortDetails.port",
    "service.action.networkConnectionAction.protocol",
    "service.action.networkConnectionAction.localIpDetails.ipAddressV4",
    "service.action.networkConnectionAction.localIpDetails.ipAddressV6",
    "service.action.networkConnectionAction.remoteIpDetails.city.cityName",
    "service.action.networkConnectionAction.remoteIpDetails.country.countryName",
    "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
    "service.action.networkConnectionAction.remoteIpDetails.ipAddressV6",
    "service.action.networkConnectionAction.remoteIpDetails.organization.asn",
    "service.action.networkConnectionAction.remoteIpDetails.organization.asnOrg",
    "service.action.networkConnectionAction.remotePortDetails.port",
    "service.action.kubernetesApiCallAction.remoteIpDetails.ipAddressV4",
    "service.action.kubernetesApiCallAction.requestUri",
    "service.action.kubernetesApiCallAction.namespace",
    "service.action.kubernetesApiCallAction.statusCode",
    "service.action.portProbeAction.portProbeDetails.localPortDetails.port",
    "service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4",
    "service.additionalInfo.threatListName",
    "service.additionalInfo.sample",
    "service.archived",
    "service.resourceRole",
    "service.count",
    "service.eventFirstSeen",
    "service.eventLastSeen",
    "service.featureName",
    "service.ebsVolumeScanDetails.scanId",
    "service.ebsVolumeScanDetails.scanDetections.threatDetectedByName.threatNames.name",
    "service.ebsVolumeScanDetails.scanDetections.threatDetectedByName.threatNames.severity",
    "service.ebsVolumeScanDetails.scanDetections.threatDetectedByName.threatNames.filePaths.hash",
    "service.runtimeDetails.process.executableSha256",
    "service.runtimeDetails.process.name",
    "service.runtimeDetails.process.executablePath",
];

/// What a field's values are, as GuardDuty checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Boolean,
}

impl Kind {
    pub fn words(self) -> &'static str {
        match self {
            Kind::Text => "strings",
            Kind::Number => "whole numbers",
            Kind::Boolean => "true or false",
        }
    }
}

/// The most patterns in a `matches` / `not_matches` condition.
pub const MAX_PATTERNS: usize = 5;

/// Numbers: severity, confidence, counts, ports, status codes and times
/// (epoch milliseconds); true/false: the archived, sample, blocked and
/// affiliated flags; the rest are text.
pub fn kind_of(field: &str) -> Kind {
    const NUMBERS: [&str; 6] = [
        "severity",
        "confidence",
        "updatedAt",
        "service.count",
        "service.eventFirstSeen",
        "service.eventLastSeen",
    ];
    const BOOLEANS: [&str; 4] = [
        "service.archived",
        "service.additionalInfo.sample",
        "service.action.networkConnectionAction.blocked",
        "service.action.awsApiCallAction.remoteAccountDetails.affiliated",
    ];
    if NUMBERS.contains(&field) || field.ends_with(".port") || field.ends_with(".statusCode") {
        Kind::Number
    } else if BOOLEANS.contains(&field) {
        Kind::Boolean
    } else {
        Kind::Text
    }
}

/// What a rule does to the findings it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Archive them as they arrive: a suppression rule.
    Archive,
    /// Nothing: a saved filter.
    Noop,
}

impl Action {
    pub fn api_name(self) -> &'static str {
        match self {
            Action::Archive => "ARCHIVE",
            Action::Noop => "NOOP",
        }
    }

    pub fn from_api(s: &str) -> Action {
        match s {
            "ARCHIVE" => Action::Archive,
            _ => Action::Noop,
        }
    }

    fn word(self) -> &'static str {
        match self {
            Action::Archive => "archive",
            Action::Noop => "noop",
        }
    }
}

/// One field's condition, in the long form AWS stores (`Gte` is kept as
/// `greaterThanOrEqual`): two conditions that mean the same compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    pub equals: Vec<String>,
    pub not_equals: Vec<String>,
    pub greater_than: Option<i64>,
    pub greater_than_or_equal: Option<i64>,
    pub less_than: Option<i64>,
    pub less_than_or_equal: Option<i64>,
    pub matches: Vec<String>,
    pub not_matches: Vec<String>,
}

impl Condition {
    pub fn is_empty(&self) -> bool {
        *self == Condition::default()
    }

    /// Values in a fixed order: the API keeps them as given, a set means the same.
    pub fn normal(mut self) -> Condition {
        for v in [&mut self.equals, &mut self.not_equals, &mut self.matches, &mut self.not_matches] {
            v.sort();
            v.dedup();
        }
        self
    }
}

pub type Criteria = BTreeMap<String, Condition>;

/// A rule as the file states it, or as a region has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub action: Action,
    pub criteria: Criteria,
}

/// A region's filter, with its rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub rule: Rule,
    pub rank: i32,
}

/// One write, in the order it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create { rule: Rule, rank: i32 },
    Update { rule: Rule, rank: i32 },
    Delete { name: String },
}

impl Call {
    pub fn api_name(&self) -> &'static str {
        match self {
            Call::Create { .. } => "CreateFilter",
            Call::Update { .. } => "UpdateFilter",
            Call::Delete { .. } => "DeleteFilter",
        }
    }
}

/// What a region needs: the calls, in order, and the words for the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub calls: Vec<Call>,
    /// `+rule a`, `~rule b: rank 2 -> 1, action noop -> archive, criteria`, `-rule c`.
    pub changes: Vec<String>,
    /// Filters the file does not name, left alone (without `prune_rules`).
    pub unmanaged: Vec<String>,
}

/// Make the region's filters the file's rules at ranks 1..n, in the file's
/// order. Without `prune`, the others stay, in their own relative order, after
/// them; with it they are deleted first. Ranks stay contiguous as the API keeps
/// them: a filter created or moved to rank r takes that place and the ones
/// from r on move down by one.
pub fn decide(wanted: &[Rule], existing: &[Existing], prune: bool) -> Plan {
    let mut plan = Plan::default();
    let mut order: Vec<&Existing> = existing.iter().collect();
    order.sort_by_key(|e| e.rank);
    // The region's filters by name, in rank order, as the calls leave them.
    let mut names: Vec<String> = order.iter().map(|e| e.rule.name.clone()).collect();
    let named = |n: &str| wanted.iter().any(|w| w.name == n);
    for e in order.iter().filter(|e| !named(&e.rule.name)) {
        if prune {
            plan.calls.push(Call::Delete { name: e.rule.name.clone() });
            plan.changes.push(format!("-rule {}", e.rule.name));
            names.retain(|n| n != &e.rule.name);
        } else {
            plan.unmanaged.push(e.rule.name.clone());
        }
    }
    for (i, rule) in wanted.iter().enumerate() {
        let rank = i as i32 + 1;
        let now = names.iter().position(|n| n == &rule.name);
        match (now, existing.iter().find(|e| e.rule.name == rule.name)) {
            (Some(at), Some(e)) => {
                let mut what = differences(&e.rule, rule);
                let at_rank = at as i32 + 1;
                if at_rank != rank {
                    what.insert(
                        0,
                        match e.rank == rank {
                            // Its rank is right, but a rule moved ahead of it pushed it down.
                            true => format!("rank {rank} kept as others move"),
                            false => format!("rank {} -> {rank}", e.rank),
                        },
                    );
                }
                if !what.is_empty() {
                    plan.calls.push(Call::Update { rule: rule.clone(), rank });
                    plan.changes.push(format!("~rule {}: {}", rule.name, what.join(", ")));
                    let name = names.remove(at);
                    names.insert(i, name);
                }
            }
            _ => {
                plan.calls.push(Call::Create { rule: rule.clone(), rank });
                plan.changes.push(format!("+rule {}", rule.name));
                names.insert(i, rule.name.clone());
            }
        }
    }
    plan
}

/// What differs between a region's rule and the file's, in words.
fn differences(now: &Rule, wanted: &Rule) -> Vec<String> {
    let mut what = Vec::new();
    if now.action != wanted.action {
        what.push(format!("action {} -> {}", now.action.word(), wanted.action.word()));
    }
    if now.description != wanted.description {
        what.push("description".to_string());
    }
    let normal =
        |c: &Criteria| -> Criteria { c.iter().map(|(k, v)| (k.clone(), v.clone().normal())).collect() };
    let (a, b) = (normal(&now.criteria), normal(&wanted.criteria));
    if a != b {
        // Which fields: those added, dropped or changed.
        let mut fields: Vec<&str> =
            a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).map(String::as_str).collect();
        fields.sort_unstable();
        fields.dedup();
        what.push(format!("criteria {}", fields.join(" ")));
    }
    what
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str) -> Rule {
        let mut criteria = Criteria::new();
        criteria.insert(
            "type".into(),
            Condition { equals: vec!["Recon:EC2/Portscan".into()], ..Condition::default() },
        );
        Rule { name: name.into(), description: String::new(), action: Action::Archive, criteria }
    }

    fn at(rule: Rule, rank: i32) -> Existing {
        Existing { rule, rank }
    }

    #[test]
    fn an_empty_region_gets_every_rule_in_the_files_order() {
        let plan = decide(&[rule("a"), rule("b")], &[], false);
        assert_eq!(
            plan.calls,
            [Call::Create { rule: rule("a"), rank: 1 }, Call::Create { rule: rule("b"), rank: 2 }]
        );
        assert_eq!(plan.changes, ["+rule a", "+rule b"]);
    }

    #[test]
    fn the_same_rules_in_the_same_order_need_nothing_whatever_the_value_order() {
        let mut shuffled = rule("a");
        let c = shuffled.criteria.get_mut("type").unwrap();
        c.equals = vec!["Recon:EC2/Portscan".into(), "Recon:EC2/Portscan".into()];
        let plan = decide(&[rule("a"), rule("b")], &[at(shuffled, 1), at(rule("b"), 2)], false);
        assert_eq!(plan, Plan::default());
    }

    #[test]
    fn a_changed_rule_is_updated_and_says_how() {
        let mut old = rule("a");
        old.action = Action::Noop;
        old.criteria.get_mut("type").unwrap().equals = vec!["Recon:EC2/PortProbeUnprotectedPort".into()];
        let plan = decide(&[rule("a")], &[at(old, 1)], false);
        assert_eq!(plan.calls, [Call::Update { rule: rule("a"), rank: 1 }]);
        assert_eq!(plan.changes, ["~rule a: action noop -> archive, criteria type"]);
    }

    #[test]
    fn order_is_the_files_and_unmanaged_filters_follow_in_their_own_order() {
        // Region: x(1) b(2) y(3) a(4); file: a, b.
        let existing = [at(rule("x"), 1), at(rule("b"), 2), at(rule("y"), 3), at(rule("a"), 4)];
        let plan = decide(&[rule("a"), rule("b")], &existing, false);
        assert_eq!(plan.unmanaged, ["x", "y"]);
        // a moves to 1 (x, b, y shift down); b is at 3 and moves to 2.
        assert_eq!(
            plan.calls,
            [Call::Update { rule: rule("a"), rank: 1 }, Call::Update { rule: rule("b"), rank: 2 }]
        );
        assert_eq!(plan.changes, ["~rule a: rank 4 -> 1", "~rule b: rank 2 kept as others move"]);
    }

    #[test]
    fn prune_deletes_only_the_filters_the_file_does_not_name_first() {
        let existing = [at(rule("old"), 1), at(rule("a"), 2)];
        let plan = decide(&[rule("a")], &existing, true);
        assert_eq!(
            plan.calls,
            [Call::Delete { name: "old".into() }],
            "after the deletion a is at rank 1 already"
        );
        assert_eq!(plan.changes, ["-rule old"]);
        assert!(plan.unmanaged.is_empty());
    }
}
