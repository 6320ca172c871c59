//! Which regions to work on: DescribeRegions(AllRegions) in the home region,
//! then the user's --regions / --exclude-regions. Selection is pure.

use serde::Serialize;

use crate::error::{RegionError, SetupError};

/// A region as DescribeRegions reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub name: String,
    pub opt_in_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
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
        return Err(SetupError::UnknownRegions { names: unknown, home: home.to_string() });
    }

    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for d in described {
        let wanted = (include.is_empty() || include.contains(&d.name)) && !exclude.contains(&d.name);
        if !wanted {
            continue;
        }
        if !matches!(d.opt_in_status.as_str(), "opt-in-not-required" | "opted-in") {
            skipped.push(Skipped { region: d.name.clone(), reason: "not opted in" });
        } else if partition(&d.name) != partition(home) {
            skipped.push(Skipped { region: d.name.clone(), reason: "other partition" });
        } else {
            targets.push(d.name.clone());
        }
    }
    targets.sort();
    targets.dedup();
    skipped.sort_by(|a, b| a.region.cmp(&b.region));
    skipped.dedup();
    if targets.is_empty() && skipped.is_empty() {
        return Err(SetupError::NoTargets);
    }
    Ok(Selection { targets, skipped })
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
                Skipped { region: "ap-east-1".into(), reason: "not opted in" },
                Skipped { region: "cn-north-1".into(), reason: "other partition" },
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
        let s = select(&described(), "us-east-1", &strings(&["ap-east-1"]), &[]).unwrap();
        assert!(s.targets.is_empty());
        assert_eq!(s.skipped[0].region, "ap-east-1");
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
        assert!(matches!(select(&described(), "us-east-1", &[], &all), Err(SetupError::NoTargets)));
    }
}
