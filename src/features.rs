//! GuardDuty protection plans ("features"): the names users type, the names
//! the API uses, what `--features` asks for, and how that differs from what a
//! detector has. Pure: the calls are made in detectors.rs.

use std::collections::BTreeMap;
use std::fmt;

/// A protection plan, in the order the help lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    S3DataEvents,
    EksAuditLogs,
    EbsMalwareProtection,
    RdsLoginEvents,
    LambdaNetworkLogs,
    RuntimeMonitoring,
    /// The older EKS-only runtime monitoring; the API refuses it together
    /// with RUNTIME_MONITORING, so it is only ever sent when named.
    EksRuntimeMonitoring,
}

impl Feature {
    pub const ALL: [Feature; 7] = [
        Feature::S3DataEvents,
        Feature::EksAuditLogs,
        Feature::EbsMalwareProtection,
        Feature::RdsLoginEvents,
        Feature::LambdaNetworkLogs,
        Feature::RuntimeMonitoring,
        Feature::EksRuntimeMonitoring,
    ];

    pub fn cli_name(self) -> &'static str {
        match self {
            Feature::S3DataEvents => "s3-data-events",
            Feature::EksAuditLogs => "eks-audit-logs",
            Feature::EbsMalwareProtection => "ebs-malware-protection",
            Feature::RdsLoginEvents => "rds-login-events",
            Feature::LambdaNetworkLogs => "lambda-network-logs",
            Feature::RuntimeMonitoring => "runtime-monitoring",
            Feature::EksRuntimeMonitoring => "eks-runtime-monitoring",
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Feature::S3DataEvents => "S3_DATA_EVENTS",
            Feature::EksAuditLogs => "EKS_AUDIT_LOGS",
            Feature::EbsMalwareProtection => "EBS_MALWARE_PROTECTION",
            Feature::RdsLoginEvents => "RDS_LOGIN_EVENTS",
            Feature::LambdaNetworkLogs => "LAMBDA_NETWORK_LOGS",
            Feature::RuntimeMonitoring => "RUNTIME_MONITORING",
            Feature::EksRuntimeMonitoring => "EKS_RUNTIME_MONITORING",
        }
    }

    fn from_cli(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.cli_name() == name)
    }

    pub fn from_api(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.api_name() == name)
    }
}

/// Runtime monitoring's agent management (its "additional configuration").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Agent {
    Eks,
    EcsFargate,
    Ec2,
}

impl Agent {
    pub const ALL: [Agent; 3] = [Agent::Eks, Agent::EcsFargate, Agent::Ec2];

    pub fn cli_name(self) -> &'static str {
        match self {
            Agent::Eks => "eks",
            Agent::EcsFargate => "ecs-fargate",
            Agent::Ec2 => "ec2",
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Agent::Eks => "EKS_ADDON_MANAGEMENT",
            Agent::EcsFargate => "ECS_FARGATE_AGENT_MANAGEMENT",
            Agent::Ec2 => "EC2_AGENT_MANAGEMENT",
        }
    }

    pub fn from_api(name: &str) -> Option<Agent> {
        Agent::ALL.into_iter().find(|a| a.api_name() == name)
    }
}

/// A feature as GetDetector reports it: on or off, and its additional
/// configuration by API name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FeatureState {
    pub enabled: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional: BTreeMap<String, bool>,
}

/// A detector's features by API name.
pub type Features = BTreeMap<String, FeatureState>;

/// The complete configuration `--features` asks for: every known feature on
/// or off (so nothing is left to a default), and with runtime monitoring on,
/// every agent on or off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub features: BTreeMap<Feature, bool>,
    pub agents: BTreeMap<Agent, bool>,
}

/// Parse `--features` and `--runtime-agents`, refusing before any call what
/// the API would refuse.
pub fn parse(features: &[String], agents: &[String]) -> Result<Wanted, String> {
    let valid = || Feature::ALL.map(|f| f.cli_name()).join(", ");
    // A name given twice is one name: `none,none` is `none`.
    let mut names: Vec<&str> = Vec::new();
    for name in features.iter().map(|n| n.trim()) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    let mut named = Vec::new();
    if names != ["none"] {
        for name in names {
            match Feature::from_cli(name) {
                Some(f) => named.push(f),
                None if name.trim() == "none" => {
                    return Err("`none` cannot be combined with other features".into())
                }
                None => return Err(format!("unknown feature `{name}`; valid: {}, or none", valid())),
            }
        }
    }
    if named.contains(&Feature::RuntimeMonitoring) && named.contains(&Feature::EksRuntimeMonitoring) {
        return Err("runtime-monitoring and eks-runtime-monitoring cannot both be enabled \
                    (runtime-monitoring includes EKS)"
            .into());
    }
    // Send one of the two runtime-monitoring features, never both.
    let left_out = if named.contains(&Feature::EksRuntimeMonitoring) {
        Feature::RuntimeMonitoring
    } else {
        Feature::EksRuntimeMonitoring
    };
    let features: BTreeMap<Feature, bool> =
        Feature::ALL.into_iter().filter(|f| *f != left_out).map(|f| (f, named.contains(&f))).collect();

    let mut wanted_agents = Vec::new();
    for name in agents {
        match Agent::ALL.into_iter().find(|a| a.cli_name() == name.trim()) {
            Some(a) => wanted_agents.push(a),
            None => {
                return Err(format!(
                    "unknown runtime agent `{name}`; valid: {}",
                    Agent::ALL.map(|a| a.cli_name()).join(", ")
                ))
            }
        }
    }
    let runtime_on = features.get(&Feature::RuntimeMonitoring) == Some(&true);
    if !wanted_agents.is_empty() && !runtime_on {
        return Err("--runtime-agents needs runtime-monitoring in --features".into());
    }
    let agents = if runtime_on {
        Agent::ALL.into_iter().map(|a| (a, wanted_agents.contains(&a))).collect()
    } else {
        BTreeMap::new()
    };
    Ok(Wanted { features, agents })
}

/// `--features` and `--runtime-agents` as given: none without `--features`.
pub fn requested(features: Option<&Vec<String>>, agents: &[String]) -> Result<Option<Wanted>, String> {
    features.map(|names| parse(names, agents)).transpose()
}

/// One difference between a detector and what was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub name: String,
    pub enable: bool,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.enable { '+' } else { '-' }, self.name)
    }
}

/// What must change for `current` to match `wanted`. A feature the detector
/// does not report counts as off.
pub fn diff(wanted: &Wanted, current: &Features) -> Vec<Change> {
    let mut changes = Vec::new();
    for (&f, &on) in &wanted.features {
        let now = current.get(f.api_name());
        if now.is_some_and(|s| s.enabled) != on {
            changes.push(Change { name: f.cli_name().to_string(), enable: on });
        }
    }
    let runtime = current.get(Feature::RuntimeMonitoring.api_name());
    for (&a, &on) in &wanted.agents {
        let now = runtime.and_then(|s| s.additional.get(a.api_name())).copied().unwrap_or(false);
        if now != on {
            changes.push(Change { name: format!("runtime-monitoring:{}", a.cli_name()), enable: on });
        }
    }
    changes
}

/// The enabled features in a line: `s3-data-events,runtime-monitoring(eks,ec2)`.
pub fn compact(current: &Features) -> String {
    let mut on: Vec<String> = Vec::new();
    for (name, state) in current.iter().filter(|(_, s)| s.enabled) {
        let label = Feature::from_api(name).map_or(name.to_lowercase(), |f| f.cli_name().to_string());
        let agents: Vec<&str> = state
            .additional
            .iter()
            .filter(|(_, on)| **on)
            .map(|(a, _)| Agent::from_api(a).map_or(a.as_str(), |a| a.cli_name()))
            .collect();
        on.push(if agents.is_empty() { label } else { format!("{label}({})", agents.join(",")) });
    }
    if on.is_empty() {
        "none".into()
    } else {
        on.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn state(on: &[&str]) -> Features {
        on.iter()
            .map(|n| (n.to_string(), FeatureState { enabled: true, additional: BTreeMap::new() }))
            .collect()
    }

    #[test]
    fn named_features_are_on_and_every_other_known_one_off() {
        let w = parse(&strings(&["s3-data-events", "rds-login-events"]), &[]).unwrap();
        assert_eq!(w.features.len(), 6, "one of the two runtime features is left out");
        assert!(w.features[&Feature::S3DataEvents]);
        assert!(w.features[&Feature::RdsLoginEvents]);
        assert!(!w.features[&Feature::EbsMalwareProtection]);
        assert!(!w.features[&Feature::RuntimeMonitoring]);
        assert!(!w.features.contains_key(&Feature::EksRuntimeMonitoring));
        assert!(w.agents.is_empty());
    }

    #[test]
    fn none_turns_everything_off() {
        let w = parse(&strings(&["none"]), &[]).unwrap();
        assert!(w.features.values().all(|on| !on));
        assert!(parse(&strings(&["none", "s3-data-events"]), &[]).is_err());
    }

    #[test]
    fn a_name_given_twice_is_one_name() {
        let none = parse(&strings(&["none"]), &[]).unwrap();
        assert_eq!(parse(&strings(&["none", "none"]), &[]).unwrap(), none);
        assert_eq!(parse(&strings(&["none", " none "]), &[]).unwrap(), none);
        let s3 = parse(&strings(&["s3-data-events"]), &[]).unwrap();
        assert_eq!(parse(&strings(&["s3-data-events", "s3-data-events"]), &[]).unwrap(), s3);
        let e = parse(&strings(&["none", "none", "s3-data-events"]), &[]).unwrap_err();
        assert!(e.contains("cannot be combined"), "{e}");
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let e = parse(&strings(&["s3"]), &[]).unwrap_err();
        assert!(e.contains("unknown feature `s3`") && e.contains("lambda-network-logs"), "{e}");
        let e = parse(&strings(&["runtime-monitoring"]), &strings(&["lambda"])).unwrap_err();
        assert!(e.contains("ecs-fargate"), "{e}");
    }

    #[test]
    fn the_two_runtime_monitorings_are_refused_together() {
        assert!(parse(&strings(&["runtime-monitoring", "eks-runtime-monitoring"]), &[]).is_err());
        let w = parse(&strings(&["eks-runtime-monitoring"]), &[]).unwrap();
        assert!(w.features[&Feature::EksRuntimeMonitoring]);
        assert!(!w.features.contains_key(&Feature::RuntimeMonitoring));
    }

    #[test]
    fn runtime_agents_need_runtime_monitoring_and_are_all_sent() {
        assert!(parse(&strings(&["s3-data-events"]), &strings(&["ec2"])).is_err());
        let w = parse(&strings(&["runtime-monitoring"]), &strings(&["eks", "ec2"])).unwrap();
        assert_eq!(
            w.agents,
            BTreeMap::from([(Agent::Eks, true), (Agent::EcsFargate, false), (Agent::Ec2, true)])
        );
    }

    #[test]
    fn diff_names_what_turns_on_and_off() {
        let w = parse(&strings(&["s3-data-events"]), &[]).unwrap();
        let changes = diff(&w, &state(&["RDS_LOGIN_EVENTS"]));
        let shown: Vec<String> = changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(shown, ["+s3-data-events", "-rds-login-events"]);
        assert!(diff(&w, &state(&["S3_DATA_EVENTS"])).is_empty());
        // A feature the region does not report is off: asking for it off is no change.
        assert!(diff(&parse(&strings(&["none"]), &[]).unwrap(), &Features::new()).is_empty());
    }

    #[test]
    fn diff_covers_runtime_agents() {
        let w = parse(&strings(&["runtime-monitoring"]), &strings(&["ec2"])).unwrap();
        let mut current = state(&["RUNTIME_MONITORING"]);
        current.get_mut("RUNTIME_MONITORING").unwrap().additional.insert("EKS_ADDON_MANAGEMENT".into(), true);
        let shown: Vec<String> = diff(&w, &current).iter().map(|c| c.to_string()).collect();
        assert_eq!(shown, ["-runtime-monitoring:eks", "+runtime-monitoring:ec2"]);
    }

    #[test]
    fn compact_lists_enabled_features_and_agents() {
        let mut current = state(&["S3_DATA_EVENTS", "RUNTIME_MONITORING"]);
        current.insert("RDS_LOGIN_EVENTS".into(), FeatureState::default());
        current.get_mut("RUNTIME_MONITORING").unwrap().additional.insert("EC2_AGENT_MANAGEMENT".into(), true);
        assert_eq!(compact(&current), "runtime-monitoring(ec2),s3-data-events");
        assert_eq!(compact(&Features::new()), "none");
    }
}
