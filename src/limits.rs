//! How many connections the process may hold: every account-region in
//! flight holds one. The open-file soft limit (often 1024) is raised towards
//! the hard limit at start; if it is still short, the fan-out narrows rather
//! than failing on "too many open files". And how many role assumptions may
//! start in a second.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most `rate` starts in any one second: the n-th start comes no sooner
/// than a second after the (n - rate)-th. A whole second's worth may start at
/// once; the rest follow as the window moves on.
pub struct RateCeiling {
    rate: usize,
    /// The last `rate` starts handed out, oldest first (never decreasing).
    starts: VecDeque<Instant>,
}

impl RateCeiling {
    pub fn new(rate: u32) -> Self {
        RateCeiling { rate: rate.max(1) as usize, starts: VecDeque::new() }
    }

    /// When the next start may be, asked at `now`.
    pub fn next(&mut self, now: Instant) -> Instant {
        let start = match self.starts.len() >= self.rate {
            true => self.starts.pop_front().map_or(now, |oldest| now.max(oldest + Duration::from_secs(1))),
            false => now,
        };
        self.starts.push_back(start);
        start
    }
}

use std::sync::OnceLock;

/// File descriptors kept for everything else: stdio, the runtime, TLS roots, logs.
const RESERVED: u64 = 64;

static SOFT_LIMIT: OnceLock<Option<u64>> = OnceLock::new();

/// Raise the soft limit on open files to the hard limit (once).
pub fn raise_open_files() -> Option<u64> {
    *SOFT_LIMIT.get_or_init(|| {
        #[cfg(unix)]
        unsafe {
            let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim.rlim_cur = lim.rlim_max;
                }
            }
            Some(lim.rlim_cur)
        }
        #[cfg(not(unix))]
        None
    })
}

/// The fan-out's width: what was asked, narrowed to what the open-file limit allows.
pub fn concurrency(asked: u16) -> usize {
    narrowed(u64::from(asked), raise_open_files())
}

fn narrowed(asked: u64, soft_limit: Option<u64>) -> usize {
    let allowed = soft_limit.map_or(asked, |limit| limit.saturating_sub(RESERVED).max(1));
    asked.min(allowed) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fan_out_narrows_to_the_open_file_limit() {
        assert_eq!(narrowed(4096, Some(1024)), 960);
        assert_eq!(narrowed(64, Some(1024)), 64);
        assert_eq!(narrowed(4096, Some(10)), 1);
        assert_eq!(narrowed(4096, None), 4096);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let soft = raise_open_files().unwrap();
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!((soft, lim.rlim_cur), (lim.rlim_max, lim.rlim_max));
    }
}

#[cfg(test)]
mod rate_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_rate_in_any_second() {
        let t0 = Instant::now();
        let mut ceiling = RateCeiling::new(10);
        // 35 asked at once, then 5 more late (2.5 s in).
        let mut starts: Vec<Instant> = (0..35).map(|_| ceiling.next(t0)).collect();
        starts.extend((0..5).map(|_| ceiling.next(t0 + Duration::from_millis(2500))));
        for (i, &a) in starts.iter().enumerate() {
            let within = starts[i..].iter().filter(|&&b| b < a + Duration::from_secs(1)).count();
            assert!(within <= 10, "{within} starts within a second of start {i}");
        }
        // A second's worth at once, not half of it: no start later than needed.
        assert_eq!(starts[9], t0);
        assert_eq!(starts[10], t0 + Duration::from_secs(1));
        assert_eq!(starts[34], t0 + Duration::from_secs(3));
        assert_eq!(starts[35], t0 + Duration::from_secs(3), "the late ones wait for the window too");
    }
}
