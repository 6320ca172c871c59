//! The questions gdctl asks before it destroys (may these detectors, and their
//! findings, go? may the administrator go?), and the terminal they are asked at.
//!
//! A person may be at a terminal whatever standard input is (`printf ids |
//! gdctl disable --accounts-file -`): the question goes to the controlling
//! terminal and the answer is read from it, as sudo, ssh and git do. End of
//! input is no. With a terminal attached but no way to ask on it, or no answer
//! in time (a container started with a terminal and no input), gdctl refuses
//! rather than proceed or wait forever.

use std::fmt::Write as _;
#[cfg(any(test, not(unix)))]
use std::io::BufRead;
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use crate::error::SetupError;
use crate::report::RegionReport;

/// How long a question waits for its answer, unless GDCTL_CONFIRM_TIMEOUT says.
const ANSWER_WAIT: Duration = Duration::from_secs(300);

/// A question: its text, ending in `[y/N] `, and what a no leaves undone.
pub struct Question {
    pub text: String,
    /// `nothing was deleted`, `nothing was removed`.
    pub declined: &'static str,
}

/// May these detectors, with their findings, be deleted?
pub fn deletion(doomed: &[&RegionReport], unread: &[&RegionReport]) -> Question {
    let mut accounts: Vec<&str> = doomed.iter().map(|d| d.account.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let n = doomed.len();
    let s = if n == 1 { "" } else { "s" };
    let id = |d: &RegionReport| d.detector_id.clone().unwrap_or_default();
    let mut text = String::new();
    if let [account] = accounts[..] {
        let _ =
            writeln!(text, "These detectors of account {account} will be deleted, with all their findings:");
        for d in doomed {
            let _ = writeln!(text, "  {:<16} {}", d.region, id(d));
        }
        unread_lines(&mut text, unread, false);
        let _ = write!(
            text,
            "Delete {n} detector{s} in account {account}? (use --suspend to keep findings) [y/N] "
        );
    } else {
        let _ = writeln!(text, "These detectors will be deleted, with all their findings:");
        for d in doomed {
            let _ = writeln!(text, "  {}  {:<16} {}", d.account, d.region, id(d));
        }
        unread_lines(&mut text, unread, true);
        let _ = write!(
            text,
            "Delete {n} detector{s} in {} accounts ({})? (use --suspend to keep findings) [y/N] ",
            accounts.len(),
            accounts.join(", ")
        );
    }
    Question { text, declined: "nothing was deleted" }
}

/// `org disable`: may the administrator go in these regions?
pub fn admin_removal(admin: &str, regions: &[&RegionReport], unread: &[&RegionReport]) -> Question {
    let n = regions.len();
    let s = if n == 1 { "" } else { "s" };
    let names: Vec<&str> = regions.iter().map(|r| r.region.as_str()).collect();
    let mut text = String::new();
    let _ =
        writeln!(text, "Account {admin} stops being GuardDuty's delegated administrator in {n} region{s}:");
    let _ = writeln!(text, "  {}", names.join(", "));
    let _ = writeln!(
        text,
        "Auto-enable goes to NONE and the members are disassociated; their detectors stay enabled."
    );
    unread_lines(&mut text, unread, false);
    let _ = write!(text, "Remove the administrator in {n} region{s}? [y/N] ");
    Question { text, declined: "nothing was removed" }
}

/// The places that could not be read: the question does not cover them, so
/// the run leaves them alone, and says so first.
fn unread_lines(text: &mut String, unread: &[&RegionReport], many: bool) {
    if unread.is_empty() {
        return;
    }
    let _ = writeln!(text, "Not read, so left alone (run again for these):");
    let many = many || unread.iter().any(|r| r.region == "(the account)");
    for r in unread {
        let why = r.error.as_ref().map(|e| e.code.as_str()).unwrap_or("failed");
        match many {
            true => {
                let _ = writeln!(text, "  {}  {:<16} {why}", r.account, r.region);
            }
            false => {
                let _ = writeln!(text, "  {:<16} {why}", r.region);
            }
        }
    }
}

/// Where a question can be asked.
pub enum Terminal {
    /// The controlling terminal, opened for the question and its answer.
    #[cfg(unix)]
    Tty(std::fs::File),
    /// No controlling terminal to open, but standard input is one (not unix).
    #[cfg(not(unix))]
    Stdin,
    /// A terminal is attached, but gdctl cannot ask on it: why.
    Unusable(String),
}

impl Terminal {
    /// The terminal a person may be at; None where there is none at all (CI).
    pub fn find() -> Option<Terminal> {
        let attached = io::stdin().is_terminal() || io::stdout().is_terminal() || io::stderr().is_terminal();
        #[cfg(unix)]
        {
            match std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty") {
                Ok(tty) => Some(Terminal::Tty(tty)),
                Err(e) if attached => Some(Terminal::Unusable(format!(
                    "a terminal is attached, but the controlling terminal cannot be opened to ask (/dev/tty: {})",
                    crate::error::plain_chain(&e)
                ))),
                Err(_) => None,
            }
        }
        #[cfg(not(unix))]
        {
            match (io::stdin().is_terminal(), attached) {
                (true, _) => Some(Terminal::Stdin),
                (false, true) => Some(Terminal::Unusable("standard input is not the terminal".into())),
                (false, false) => None,
            }
        }
    }

    /// Ask; only y or yes is yes. No answer in time, or none to be had, is a refusal.
    pub fn confirm(&mut self, q: &Question) -> Result<bool, SetupError> {
        let cannot = |why: String| SetupError::CannotAsk(why);
        let wait = answer_wait()?;
        let answer = match self {
            Terminal::Unusable(why) => return Err(cannot(why.clone())),
            #[cfg(unix)]
            Terminal::Tty(tty) => {
                // Only what is typed after the question answers it: a `y`
                // typed ahead (before the list of what goes was shown) is dropped.
                {
                    use std::os::fd::AsRawFd;
                    // SAFETY: a valid descriptor of ours; failure only keeps the typed-ahead input.
                    unsafe { libc::tcflush(tty.as_raw_fd(), libc::TCIFLUSH) };
                }
                tty.write_all(q.text.as_bytes()).and_then(|_| tty.flush()).map_err(SetupError::Prompt)?;
                let answer = read_answer(tty, wait).map_err(SetupError::Prompt)?;
                if answer.is_none() {
                    let _ = writeln!(tty);
                }
                answer
            }
            #[cfg(not(unix))]
            Terminal::Stdin => {
                let mut err = io::stderr();
                err.write_all(q.text.as_bytes()).and_then(|_| err.flush()).map_err(SetupError::Prompt)?;
                let mut line = String::new();
                io::stdin().lock().read_line(&mut line).map_err(SetupError::Prompt)?;
                Some(line)
            }
        };
        match answer {
            Some(text) => Ok(is_yes(&text)),
            None => Err(cannot(format!("no answer within {} s (GDCTL_CONFIRM_TIMEOUT)", wait.as_secs_f64()))),
        }
    }
}

fn answer_wait() -> Result<Duration, SetupError> {
    let Some(v) = std::env::var_os("GDCTL_CONFIRM_TIMEOUT") else { return Ok(ANSWER_WAIT) };
    let v = v.to_string_lossy();
    match v.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 86_400.0 => Ok(Duration::from_secs_f64(secs)),
        _ => Err(SetupError::Invalid(format!(
            "GDCTL_CONFIRM_TIMEOUT (environment) is `{v}`: it must be a number of seconds from more than 0 to 86400"
        ))),
    }
}

/// A line from the terminal, or what came before its end (end of input is
/// an answer: no); None if nothing ended the line within `wait`.
#[cfg(unix)]
fn read_answer(tty: &mut std::fs::File, wait: Duration) -> io::Result<Option<String>> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let deadline = std::time::Instant::now() + wait;
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let mut fd = libc::pollfd { fd: tty.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd, for the length given.
        if unsafe { libc::poll(&mut fd, 1, ms) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fd.revents == 0 {
            continue;
        }
        let mut buf = [0u8; 256];
        let got = match tty.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        line.extend_from_slice(&buf[..got]);
        if got == 0 || line.contains(&b'\n') {
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
    }
}

fn is_yes(answer: &str) -> bool {
    let first = answer.lines().next().unwrap_or("");
    matches!(first.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// Read a line of `input` as the answer (tests).
#[cfg(test)]
fn answer_from(input: &mut dyn BufRead) -> bool {
    let mut line = String::new();
    input.read_line(&mut line).is_ok() && is_yes(&line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RegionError;
    use crate::plan::Outcome;

    fn doomed(account: &str, region: &str) -> RegionReport {
        let mut r = RegionReport::new(region, Outcome::Deleted);
        r.account = account.into();
        r.detector_id = Some("abc".into());
        r
    }

    #[test]
    fn only_yes_is_yes() {
        for yes in ["y\n", "YES\n", " y \n"] {
            assert!(answer_from(&mut yes.as_bytes()), "{yes:?}");
        }
        for no in ["\n", "n\n", "", "yep\n", "no\ny\n"] {
            assert!(!answer_from(&mut no.as_bytes()), "{no:?}");
        }
        assert!(!is_yes("n\ny\n"), "only the first line answers");
    }

    #[test]
    fn shows_what_will_be_deleted_and_in_which_accounts() {
        let one = doomed("123456789012", "us-east-1");
        let q = deletion(&[&one], &[]);
        assert!(q.text.contains("us-east-1        abc"));
        assert!(q.text.contains("of account 123456789012 will be deleted"));
        assert!(q
            .text
            .ends_with("Delete 1 detector in account 123456789012? (use --suspend to keep findings) [y/N] "));
        assert_eq!(q.declined, "nothing was deleted");

        let (a, b) = (doomed("222222222222", "eu-west-1"), doomed("111111111111", "us-east-1"));
        let q = deletion(&[&a, &b], &[]);
        assert!(q.text.contains("  222222222222  eu-west-1        abc"), "{}", q.text);
        assert!(
            q.text.contains("Delete 2 detectors in 2 accounts (111111111111, 222222222222)?"),
            "{}",
            q.text
        );
    }

    #[test]
    fn regions_that_could_not_be_read_are_named_as_left_alone() {
        let one = doomed("123456789012", "us-east-2");
        let mut unread =
            RegionReport::failed("us-west-2", RegionError::new("ThrottlingException", "Rate exceeded"));
        unread.account = "123456789012".into();
        let q = deletion(&[&one], &[&unread]);
        assert!(
            q.text.contains(
                "Not read, so left alone (run again for these):\n  us-west-2        ThrottlingException"
            ),
            "{}",
            q.text
        );
        assert!(q.text.contains("Delete 1 detector"), "{}", q.text);
    }

    #[test]
    fn an_administrator_goes_only_in_the_regions_shown_and_the_members_keep_their_detectors() {
        let (a, b) = (
            RegionReport::new("eu-west-1", Outcome::Updated),
            RegionReport::new("us-east-1", Outcome::Updated),
        );
        let q = admin_removal("111111111111", &[&a, &b], &[]);
        assert!(
            q.text.contains("delegated administrator in 2 regions:\n  eu-west-1, us-east-1"),
            "{}",
            q.text
        );
        assert!(q.text.contains("their detectors stay enabled"));
        assert_eq!(q.declined, "nothing was removed");
    }
}
