//! Run one future per region, at most `concurrency` at a time, each cut at
//! `timeout`, and hand every report over the moment its region finishes.

use std::future::Future;
use std::time::Duration;

use futures::stream::{self, StreamExt};

use crate::error::RegionError;
use crate::report::RegionReport;

pub async fn fan_out<F, Fut>(
    regions: &[String],
    concurrency: usize,
    timeout: Duration,
    work: F,
    mut on_done: impl FnMut(&RegionReport),
) -> Vec<RegionReport>
where
    F: Fn(&str) -> Fut,
    Fut: Future<Output = RegionReport>,
{
    let mut finished = stream::iter(regions)
        .map(|region| {
            let job = work(region);
            async move {
                tokio::time::timeout(timeout, job)
                    .await
                    .unwrap_or_else(|_| RegionReport::failed(region, RegionError::timed_out(timeout)))
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut reports = Vec::with_capacity(regions.len());
    while let Some(report) = finished.next().await {
        on_done(&report);
        reports.push(report);
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Outcome;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("r-{i}")).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_region_times_out_alone() {
        let regions = names(3);
        let reports = fan_out(
            &regions,
            8,
            Duration::from_secs(5),
            |r| {
                let r = r.to_string();
                async move {
                    if r == "r-1" {
                        std::future::pending::<()>().await;
                    }
                    RegionReport::new(&r, Outcome::Unchanged)
                }
            },
            |_| {},
        )
        .await;
        let failed: Vec<_> = reports.iter().filter(|r| r.outcome == Outcome::Failed).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].region, "r-1");
        assert_eq!(failed[0].error.as_ref().unwrap().message, "timed out after 5 s");
        assert_eq!(reports.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_the_limit_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let regions = names(10);
        fan_out(
            &regions,
            3,
            Duration::from_secs(60),
            |r| {
                let r = r.to_string();
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
            &regions,
            8,
            Duration::from_secs(60),
            |r| {
                let r = r.to_string();
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
}
