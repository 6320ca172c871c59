//! SIGINT, SIGTERM and SIGHUP during the work: the first stops new regions from
//! starting and lets the ones in flight finish, so the report says everything
//! that was done; a second one exits at once.

use std::time::Duration;

use tokio::signal::unix::{signal, Signal, SignalKind};

pub struct Signals {
    int: Signal,
    term: Signal,
    hup: Signal,
}

impl Signals {
    /// Take SIGINT and SIGTERM over from here on (until then they end the
    /// process as usual, which is right while nothing has been changed).
    pub fn listen() -> std::io::Result<Signals> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    /// The next signal, as the exit code it calls for: 130 for SIGINT, 143 for
    /// SIGTERM, 129 for SIGHUP.
    pub async fn next(&mut self) -> u8 {
        tokio::select! {
            _ = self.int.recv() => 130,
            _ = self.term.recv() => 143,
            // The terminal closed: the same as SIGTERM, so the report (to a
            // file, say) still says what was done.
            _ = self.hup.recv() => 129,
        }
    }

    /// Say what happens now; on a second signal, exit.
    pub fn interrupted(&self, exit: u8, again: bool, timeout: Duration) {
        if again {
            eprintln!("gdctl: interrupted again: exiting now; changes in flight may be unreported");
            std::process::exit(i32::from(exit));
        }
        eprintln!(
            "gdctl: interrupted: starting no more regions, finishing those in flight (at most {} s); \
             interrupt again to exit at once",
            timeout.as_secs_f64()
        );
    }
}
