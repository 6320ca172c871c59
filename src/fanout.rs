//! Run one future per region, at most `concurrency` at a time, each cut at
//! `timeout`, and hand every report over the moment its region finishes. On
//! an interruption no further region starts, and the ones in flight finish.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use futures::future;
use futures::stream::{Stream, StreamExt};

use crate::error::RegionError;
use crate::interrupt::Signals;
use crate::plan::Outcome;
use crate::report::RegionReport;

/// A region's journal of writes: those sent and not yet answered (when the
/// deadline cuts the region then, its outcome is unknown, not merely failed;
/// concurrent writes each count until answered), the changes the answered
/// ones made, and the detector seen. A region that fails keeps in its report
/// every change that was made before the failure, from here.
#[derive(Debug, Default)]
struct Journal {
    in_flight: Cell<u32>,
    last: Cell<Option<&'static str>>,
    made: RefCell<Vec<String>>,
    detector: RefCell<Option<String>>,
}

/// A handle on the region's journal; `scoped` ones word their changes for
/// one part of the work (`admin detector +s3-data-events`).
#[derive(Debug, Default, Clone)]
pub struct WriteSent {
    journal: Rc<Journal>,
    scope: &'static str,
}

impl WriteSent {
    pub fn mark(&self, call: &'static str) {
        let j = &self.journal;
        j.in_flight.set(j.in_flight.get() + 1);
        j.last.set(Some(call));
    }

    /// A write's answer came: it was made, whatever happens next, and it
    /// changed `made` (in the report's words).
    pub fn answered<I: IntoIterator<Item = String>>(&self, made: I) {
        let j = &self.journal;
        j.in_flight.set(j.in_flight.get().saturating_sub(1));
        let mut all = j.made.borrow_mut();
        for change in made {
            all.push(match self.scope {
                "" => change,
                scope => format!("{scope} {change}"),
            });
        }
    }

    /// The same journal, its changes worded for `scope`.
    pub fn scoped(&self, scope: &'static str) -> WriteSent {
        WriteSent { journal: self.journal.clone(), scope }
    }

    /// The last write sent, while any is unanswered.
    pub fn call(&self) -> Option<&'static str> {
        if self.journal.in_flight.get() > 0 {
            self.journal.last.get()
        } else {
            None
        }
    }

    /// Every change made so far.
    pub fn made(&self) -> Vec<String> {
        self.journal.made.borrow().clone()
    }

    /// The region's detector, as first seen or created.
    pub fn saw_detector(&self, id: &str) {
        self.journal.detector.borrow_mut().get_or_insert_with(|| id.to_string());
    }

    fn detector(&self) -> Option<String> {
        self.journal.detector.borrow().clone()
    }

    /// A failed region's report says what was made before the failure, and
    /// keeps the detector that was known.
    fn keep_in(&self, report: &mut RegionReport) {
        if report.is_failure() {
            report.changes = self.made();
            if report.detector_id.is_none() {
                report.detector_id = self.detector();
            }
        }
    }
}

/// What the fan-out works on: a region of an account.
pub trait Place {
    fn account(&self) -> &str;
    fn region(&self) -> &str;
}

/// The reports, in the order the places finished, and the exit code of the
/// signal that interrupted the run (the places it never started are the
/// caller's to report: it knows which it meant to start).
pub struct FanOut {
    pub reports: Vec<RegionReport>,
    pub interrupted: Option<u8>,
}

pub async fn fan_out<T, S, F, Fut>(
    places: S,
    concurrency: usize,
    timeout: Duration,
    mut signals: Option<&mut Signals>,
    work: F,
    mut on_done: impl FnMut(&mut RegionReport),
) -> FanOut
where
    T: Place,
    S: Stream<Item = T>,
    F: Fn(&T, Rc<WriteSent>) -> Fut,
    Fut: Future<Output = RegionReport>,
{
    let interrupted: Cell<Option<u8>> = Cell::new(None);
    // Checked each time a new place would start.
    let to_start = places.take_while(|_| future::ready(interrupted.get().is_none()));
    let finished = to_start
        .map(|place| {
            let sent = Rc::new(WriteSent::default());
            // Boxed where it is made: a place's work is a large state machine
            // (the SDK's calls inline), which would otherwise be copied into the
            // deadline's future and again into the set of futures in flight.
            let job = Box::pin(work(&place, sent.clone()));
            async move {
                let mut report = match tokio::time::timeout(timeout, job).await {
                    Ok(report) => report,
                    Err(_) => cut(place.region(), timeout, sent.call()),
                };
                sent.keep_in(&mut report);
                report.account = place.account().to_string();
                report
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut finished = std::pin::pin!(finished);
    let mut reports = Vec::new();
    loop {
        let report = match signals.as_deref_mut() {
            None => finished.next().await,
            Some(signals) => tokio::select! {
                report = finished.next() => report,
                exit = signals.next() => {
                    signals.interrupted(exit, interrupted.get().is_some(), timeout);
                    interrupted.set(Some(exit));
                    continue;
                }
            },
        };
        let Some(mut report) = report else { break };
        on_done(&mut report);
        reports.push(report);
    }
    FanOut { reports, interrupted: interrupted.get() }
}

/// A region the deadline cut: failed, or unknown if a write had been sent.
fn cut(region: &str, timeout: Duration, sent: Option<&'static str>) -> RegionReport {
    let mut report = RegionReport::failed(region, RegionError::timed_out(timeout));
    if let Some(call) = sent {
        report.outcome = Outcome::Unknown;
        report.error = Some(RegionError::unknown_outcome(call, timeout));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Outcome;
    use std::sync::atomic::{AtomicUsize, Ordering};

    impl Place for String {
        fn account(&self) -> &str {
            "123456789012"
        }
        fn region(&self) -> &str {
            self
        }
    }

    fn names(n: usize) -> futures::stream::Iter<std::vec::IntoIter<String>> {
        futures::stream::iter((0..n).map(|i| format!("r-{i}")).collect::<Vec<_>>())
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_region_times_out_alone() {
        let regions = names(3);
        let reports = fan_out(
            regions,
            8,
            Duration::from_secs(5),
            None,
            |r: &String, _| {
                let r = r.clone();
                async move {
                    if r == "r-1" {
                        std::future::pending::<()>().await;
                    }
                    RegionReport::new(&r, Outcome::Unchanged)
                }
            },
            |_| {},
        )
        .await
        .reports;
        let failed: Vec<_> = reports.iter().filter(|r| r.outcome == Outcome::Failed).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].region, "r-1");
        assert_eq!(failed[0].error.as_ref().unwrap().message, "no answer within 5 s (--timeout)");
        assert_eq!(reports.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let regions = names(10);
        fan_out(
            regions,
            3,
            Duration::from_secs(60),
            None,
            |r: &String, _| {
                let r = r.clone();
                let (in_flight, peak) = (&in_flight, &peak);
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    RegionReport::new(&r, Outcome::Unchanged)
                }
            },
            |_| {},
        )
        .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn reports_arrive_as_regions_finish_not_in_input_order() {
        let regions = names(3);
        let mut order = Vec::new();
        fan_out(
            regions,
            8,
            Duration::from_secs(60),
            None,
            |r: &String, _| {
                let r = r.clone();
                async move {
                    // r-0 slowest, r-2 fastest (virtual time: no real waiting).
                    let ms = 30 - 10 * r[2..].parse::<u64>().unwrap();
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    RegionReport::new(&r, Outcome::Unchanged)
                }
            },
            |rep| order.push(rep.region.clone()),
        )
        .await;
        assert_eq!(order, ["r-2", "r-1", "r-0"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_region_cut_after_a_write_was_sent_has_an_unknown_outcome() {
        let regions = names(2);
        let reports = fan_out(
            regions,
            8,
            Duration::from_secs(5),
            None,
            |r: &String, sent| {
                let r = r.clone();
                async move {
                    if r == "r-1" {
                        sent.mark("CreateDetector");
                    }
                    std::future::pending::<RegionReport>().await
                }
            },
            |_| {},
        )
        .await
        .reports;
        let by = |name: &str| reports.iter().find(|r| r.region == name).unwrap().clone();
        assert_eq!(by("r-0").outcome, Outcome::Failed);
        let unknown = by("r-1");
        assert_eq!(unknown.outcome, Outcome::Unknown);
        let e = unknown.error.unwrap();
        assert_eq!(e.code, "Timeout");
        assert!(e.message.contains("CreateDetector") && e.message.contains("run again"), "{}", e.message);
    }
}
