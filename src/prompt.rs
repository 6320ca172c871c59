//! The one question gdctl asks: may these detectors, and their findings, go?

use std::io::{self, BufRead, Write};

pub fn confirm_deletion(
    account: &str,
    doomed: &[(String, String)],
    input: &mut dyn BufRead,
    err: &mut dyn Write,
) -> io::Result<bool> {
    writeln!(err, "These detectors of account {account} will be deleted, with all their findings:")?;
    for (region, id) in doomed {
        writeln!(err, "  {region:<16} {id}")?;
    }
    write!(
        err,
        "Delete {} detector{} in account {account}? (use --suspend to keep findings) [y/N] ",
        doomed.len(),
        if doomed.len() == 1 { "" } else { "s" }
    )?;
    err.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(answer: &str) -> (bool, String) {
        let mut err = Vec::new();
        let doomed = [("us-east-1".to_string(), "abc".to_string())];
        let ok = confirm_deletion("123456789012", &doomed, &mut answer.as_bytes(), &mut err).unwrap();
        (ok, String::from_utf8(err).unwrap())
    }

    #[test]
    fn only_yes_deletes() {
        assert!(ask("y\n").0);
        assert!(ask("YES\n").0);
        for no in ["\n", "n\n", "", "yep\n"] {
            assert!(!ask(no).0, "{no:?}");
        }
    }

    #[test]
    fn shows_what_will_be_deleted() {
        let (_, shown) = ask("n\n");
        assert!(shown.contains("us-east-1        abc"));
        assert!(shown.contains("of account 123456789012 will be deleted"));
        assert!(shown.contains("Delete 1 detector in account 123456789012?"));
    }
}
