//! A live line on stderr while many accounts are worked on, for a person at a
//! terminal only: accounts and account-regions done of those known, failures
//! so far, time elapsed. Never on stdout, never without a terminal.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    accounts: u64,
    accounts_done: Cell<u64>,
    /// Regions not yet finished, per account opened: an account is done
    /// when its last region is.
    pending: RefCell<HashMap<String, usize>>,
    failed: Cell<u64>,
}

impl Progress {
    pub fn at_terminal(accounts: usize) -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        Progress::drawn_to(accounts, ProgressDrawTarget::stderr())
    }

    fn drawn_to(accounts: usize, target: ProgressDrawTarget) -> Option<Progress> {
        let bar = ProgressBar::with_draw_target(Some(0), target);
        bar.set_style(ProgressStyle::with_template("{elapsed:>4} {msg}").ok()?);
        let p = Progress {
            bar,
            accounts: accounts as u64,
            accounts_done: Cell::new(0),
            pending: RefCell::new(HashMap::new()),
            failed: Cell::new(0),
        };
        p.show();
        Some(p)
    }

    pub fn account_opened(&self, account: &str, regions: usize) {
        match regions {
            0 => self.accounts_done.set(self.accounts_done.get() + 1),
            n => {
                self.pending.borrow_mut().insert(account.to_string(), n);
            }
        }
        self.bar.inc_length(regions as u64);
        self.show();
    }

    pub fn account_failed(&self) {
        self.accounts_done.set(self.accounts_done.get() + 1);
        self.failed.set(self.failed.get() + 1);
        self.show();
    }

    pub fn region_done(&self, account: &str, failed: bool) {
        if failed {
            self.failed.set(self.failed.get() + 1);
        }
        if let Some(left) = self.pending.borrow_mut().get_mut(account) {
            *left -= 1;
            if *left == 0 {
                self.accounts_done.set(self.accounts_done.get() + 1);
            }
        }
        self.bar.inc(1);
        self.show();
    }

    fn show(&self) {
        self.bar.set_message(self.message());
    }

    fn message(&self) -> String {
        format!(
            "accounts {}/{}, account-regions {}/{}, {} failed",
            self.accounts_done.get(),
            self.accounts,
            self.bar.position(),
            self.bar.length().unwrap_or(0),
            self.failed.get()
        )
    }

    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_done_when_its_last_region_is() {
        let p = Progress::drawn_to(2, ProgressDrawTarget::hidden()).unwrap();
        p.account_opened("111111111111", 2);
        p.account_opened("222222222222", 1);
        assert!(p.message().starts_with("accounts 0/2, account-regions 0/3"), "{}", p.message());
        p.region_done("111111111111", false);
        p.region_done("222222222222", true);
        assert!(p.message().starts_with("accounts 1/2, account-regions 2/3, 1 failed"), "{}", p.message());
        p.region_done("111111111111", false);
        assert!(p.message().starts_with("accounts 2/2, account-regions 3/3"), "{}", p.message());
        p.account_failed();
        assert!(p.message().ends_with("2 failed"), "{}", p.message());
    }
}
