//! Which regions to work on: DescribeRegions(AllRegions) in the home region,
//! then the user's --regions / --exclude-regions. Selection is pure.

use serde::Serialize;

use crate::error::{RegionError, SetupError};

/// The regions AWS had at the end of 2026, for shell completion only: a
/// run's regions are always DescribeRegions' answer.
pub const KNOWN: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// A region as DescribeRegions reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub name: String,
    pub opt_in_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Set once the account is known (selection is per account).
    pub account: String,
    pub region: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Sorted by name.
    pub targets: Vec<String>,
    pub skipped: Vec<Skipped>,
}

pub async fn describe(client: &aws_sdk_ec2::Client) -> Result<Vec<Described>, RegionError> {
    let out =
        client.describe_regions().all_regions(true).send().await.map_err(|e| RegionError::from_sdk(&e))?;
    Ok(out
        .regions()
        .iter()
        .filter_map(|r| {
            Some(Described {
                name: r.region_name()?.to_string(),
                opt_in_status: r.opt_in_status().unwrap_or_default().to_string(),
            })
        })
        .collect())
}

/// The partition a region belongs to; a call from one partition's credentials
/// to another's regions cannot succeed.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso") || region.starts_with("eu-isoe") {
        "aws-iso"
    } else {
        "aws"
    }
}

pub fn select(
    described: &[Described],
    home: &str,
    include: &[String],
    exclude: &[String],
) -> Result<Selection, SetupError> {
    let known = |name: &String| described.iter().any(|d| &d.name == name);
    let mut unknown: Vec<String> = include.iter().chain(exclude).filter(|n| !known(n)).cloned().collect();
    if !unknown.is_empty() {
        unknown.sort();
        unknown.dedup();
        let suggestions = unknown
            .iter()
            .filter_map(|n| nearest(n, described).map(|near| (n.clone(), near.to_string())))
            .collect();
        return Err(SetupError::UnknownRegions { names: unknown, home: home.to_string(), suggestions });
    }

    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for d in described {
        let wanted = (include.is_empty() || include.contains(&d.name)) && !exclude.contains(&d.name);
        if !wanted {
            continue;
        }
        if !matches!(d.opt_in_status.as_str(), "opt-in-not-required" | "opted-in") {
            skipped.push(Skipped { account: String::new(), region: d.name.clone(), reason: "not opted in" });
        } else if partition(&d.name) != partition(home) {
            skipped.push(Skipped {
                account: String::new(),
                region: d.name.clone(),
                reason: "other partition",
            });
        } else {
            targets.push(d.name.clone());
        }
    }
    targets.sort();
    targets.dedup();
    skipped.sort_by(|a, b| a.region.cmp(&b.region));
    skipped.dedup();
    Ok(Selection { targets, skipped })
}

impl Selection {
    /// The selection of one account: its skipped regions say whose they are.
    pub fn of_account(mut self, account: &str) -> Selection {
        for s in &mut self.skipped {
            s.account = account.to_string();
        }
        self
    }

    /// Nothing to do is never a success: a gate that checked nothing must not pass.
    pub fn nonempty(self) -> Result<Selection, SetupError> {
        if !self.targets.is_empty() {
            return Ok(self);
        }
        let why = if self.skipped.is_empty() {
            " after --regions / --exclude-regions".to_string()
        } else {
            let names: Vec<String> =
                self.skipped.iter().map(|s| format!("{} ({})", s.region, s.reason)).collect();
            format!(": skipped {}", names.join(", "))
        };
        Err(SetupError::NoTargets(why))
    }
}

/// The known region a mistyped name most likely meant: the same name in
/// another case, or one or two letters off.
fn nearest<'a>(name: &str, described: &'a [Described]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    described
        .iter()
        .map(|d| (strsim::levenshtein(&lower, &d.name), d.name.as_str()))
        .filter(|(distance, _)| *distance <= 2)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described() -> Vec<Described> {
        [
            ("us-east-1", "opt-in-not-required"),
            ("eu-west-1", "opt-in-not-required"),
            ("af-south-1", "opted-in"),
            ("ap-east-1", "not-opted-in"),
            ("cn-north-1", "opt-in-not-required"),
        ]
        .into_iter()
        .map(|(n, s)| Described { name: n.into(), opt_in_status: s.into() })
        .collect()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn targets_are_opted_in_regions_of_the_home_partition_sorted() {
        let s = select(&described(), "us-east-1", &[], &[]).unwrap();
        assert_eq!(s.targets, ["af-south-1", "eu-west-1", "us-east-1"]);
        assert_eq!(
            s.skipped,
            [
                Skipped { account: String::new(), region: "ap-east-1".into(), reason: "not opted in" },
                Skipped { account: String::new(), region: "cn-north-1".into(), reason: "other partition" },
            ]
        );
    }

    #[test]
    fn include_and_exclude_narrow_the_targets() {
        let s = select(&described(), "us-east-1", &strings(&["us-east-1", "eu-west-1"]), &[]).unwrap();
        assert_eq!(s.targets, ["eu-west-1", "us-east-1"]);
        assert!(s.skipped.is_empty());
        let s = select(&described(), "us-east-1", &[], &strings(&["us-east-1", "ap-east-1"])).unwrap();
        assert_eq!(s.targets, ["af-south-1", "eu-west-1"]);
        assert_eq!(s.skipped.len(), 1);
    }

    #[test]
    fn a_named_region_that_is_not_opted_in_is_skipped_not_called() {
        let s = select(&described(), "us-east-1", &strings(&["ap-east-1", "eu-west-1"]), &[]).unwrap();
        assert_eq!(s.targets, ["eu-west-1"]);
        assert_eq!(s.skipped[0].region, "ap-east-1");
    }

    #[test]
    fn only_skipped_regions_left_is_an_error_saying_why() {
        let err = select(&described(), "us-east-1", &strings(&["ap-east-1"]), &[])
            .and_then(Selection::nonempty)
            .unwrap_err();
        assert_eq!(err.to_string(), "no target region left to work on: skipped ap-east-1 (not opted in)");
    }

    #[test]
    fn unknown_names_get_the_nearest_known_name() {
        let err = select(&described(), "us-east-1", &strings(&["US-EAST-1", "eu-wset-1", "zz-top-9"]), &[])
            .unwrap_err();
        match err {
            SetupError::UnknownRegions { suggestions, .. } => assert_eq!(
                suggestions,
                [("US-EAST-1".into(), "us-east-1".into()), ("eu-wset-1".into(), "eu-west-1".into())]
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_names_are_an_error_naming_them_all() {
        let err =
            select(&described(), "us-east-1", &strings(&["us-east-1", "mars-1"]), &strings(&["eu-moon-2"]))
                .unwrap_err();
        match err {
            SetupError::UnknownRegions { names, .. } => assert_eq!(names, ["eu-moon-2", "mars-1"]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn excluding_everything_is_an_error() {
        let all: Vec<String> = described().into_iter().map(|d| d.name).collect();
        let s = select(&described(), "us-east-1", &[], &all).unwrap();
        assert!(matches!(s.nonempty(), Err(SetupError::NoTargets(_))));
    }
}
