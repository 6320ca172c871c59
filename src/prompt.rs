//! The one question gdctl asks: may these detectors, and their findings, go?

use std::io::{self, BufRead, Write};

/// A detector that will be deleted.
pub struct Doomed {
    pub account: String,
    pub region: String,
    pub detector: String,
}

pub fn confirm_deletion(doomed: &[Doomed], input: &mut dyn BufRead, err: &mut dyn Write) -> io::Result<bool> {
    let mut accounts: Vec<&str> = doomed.iter().map(|d| d.account.as_str()).collect();
    accounts.dedup();
    accounts.sort_unstable();
    accounts.dedup();
    let n = doomed.len();
    let s = if n == 1 { "" } else { "s" };
    if let [account] = accounts[..] {
        writeln!(err, "These detectors of account {account} will be deleted, with all their findings:")?;
        for d in doomed {
            writeln!(err, "  {:<16} {}", d.region, d.detector)?;
        }
        write!(err, "Delete {n} detector{s} in account {account}? (use --suspend to keep findings) [y/N] ")?;
    } else {
        writeln!(err, "These detectors will be deleted, with all their findings:")?;
        for d in doomed {
            writeln!(err, "  {}  {:<16} {}", d.account, d.region, d.detector)?;
        }
        write!(
            err,
            "Delete {n} detector{s} in {} accounts ({})? (use --suspend to keep findings) [y/N] ",
            accounts.len(),
            accounts.join(", ")
        )?;
    }
    err.flush()?;
    yes(input)
}

/// `org disable`: may the administrator go in these regions?
pub fn confirm_admin_removal(
    admin: &str,
    regions: &[String],
    input: &mut dyn BufRead,
    err: &mut dyn Write,
) -> io::Result<bool> {
    let n = regions.len();
    let s = if n == 1 { "" } else { "s" };
    writeln!(err, "Account {admin} stops being GuardDuty's delegated administrator in {n} region{s}:")?;
    writeln!(err, "  {}", regions.join(", "))?;
    writeln!(
        err,
        "Auto-enable goes to NONE and the members are disassociated; their detectors stay enabled."
    )?;
    write!(err, "Remove the administrator in {n} region{s}? [y/N] ")?;
    err.flush()?;
    yes(input)
}

fn yes(input: &mut dyn BufRead) -> io::Result<bool> {
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doomed(account: &str, region: &str) -> Doomed {
        Doomed { account: account.into(), region: region.into(), detector: "abc".into() }
    }

    fn ask(doomed: &[Doomed], answer: &str) -> (bool, String) {
        let mut err = Vec::new();
        let ok = confirm_deletion(doomed, &mut answer.as_bytes(), &mut err).unwrap();
        (ok, String::from_utf8(err).unwrap())
    }

    #[test]
    fn only_yes_deletes() {
        let one = [doomed("123456789012", "us-east-1")];
        assert!(ask(&one, "y\n").0);
        assert!(ask(&one, "YES\n").0);
        for no in ["\n", "n\n", "", "yep\n"] {
            assert!(!ask(&one, no).0, "{no:?}");
        }
    }

    #[test]
    fn shows_what_will_be_deleted_and_in_which_accounts() {
        let (_, shown) = ask(&[doomed("123456789012", "us-east-1")], "n\n");
        assert!(shown.contains("us-east-1        abc"));
        assert!(shown.contains("of account 123456789012 will be deleted"));
        assert!(shown.contains("Delete 1 detector in account 123456789012?"));

        let many = [doomed("222222222222", "eu-west-1"), doomed("111111111111", "us-east-1")];
        let (_, shown) = ask(&many, "n\n");
        assert!(shown.contains("  222222222222  eu-west-1        abc"), "{shown}");
        assert!(shown.contains("Delete 2 detectors in 2 accounts (111111111111, 222222222222)?"), "{shown}");
    }

    #[test]
    fn an_administrator_goes_only_on_yes_and_the_members_keep_their_detectors() {
        let regions = ["eu-west-1".to_string(), "us-east-1".to_string()];
        let mut err = Vec::new();
        assert!(confirm_admin_removal("111111111111", &regions, &mut "y\n".as_bytes(), &mut err).unwrap());
        let shown = String::from_utf8(err).unwrap();
        assert!(shown.contains("delegated administrator in 2 regions:\n  eu-west-1, us-east-1"), "{shown}");
        assert!(shown.contains("their detectors stay enabled"));
        assert!(
            !confirm_admin_removal("111111111111", &regions, &mut "\n".as_bytes(), &mut Vec::new()).unwrap()
        );
    }
}
