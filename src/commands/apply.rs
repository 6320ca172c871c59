//! `gdctl apply FILE`: converge the settings file in every target region —
//! the detector first, then its suppression rules, lists and export side by
//! side; `--dry-run` says what it would change, `--check` gates on it.

use aws_sdk_guardduty::Client;

use crate::cli::ApplyArgs;
use crate::converge::{converge, mark_unknown};
use crate::detectors::observe;
use crate::error::RegionError;
use crate::export;
use crate::fanout::WriteSent;
use crate::filters;
use crate::lists::{self, plan::Kind};
use crate::output::Printer;
use crate::plan::Outcome;
use crate::report::{RegionReport, Report};
use crate::settings_file::Settings;

use super::{Context, Job};

/// How far a run goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Apply,
    DryRun,
    Check,
}

pub async fn run(
    ctx: &Context<'_>,
    settings: &Settings,
    args: &ApplyArgs,
    printer: &mut Printer<'_>,
) -> Report {
    let mode = match (args.dry_run, args.check) {
        (_, true) => Mode::Check,
        (true, false) => Mode::DryRun,
        (false, false) => Mode::Apply,
    };
    let reload = args.reload_lists;
    ctx.each_region("apply", mode != Mode::Apply, Some(printer), |job: Job| async move {
        let mut r = region(&job, settings, mode, reload).await;
        mark_unknown(&mut r, &job.sent);
        r
    })
    .await
}

/// What one section found to change, and what it leaves alone.
#[derive(Default)]
struct Section {
    changes: Vec<String>,
    unmanaged: Vec<String>,
    /// `--check`: why the section is out of line beyond its changes.
    broken: Vec<String>,
}

async fn region(job: &Job, s: &Settings, mode: Mode, reload: bool) -> RegionReport {
    let (client, region) = (&job.client, job.region.as_str());
    let read_only = mode != Mode::Apply;
    // The detector first: everything else hangs on it.
    let mut r = match &s.detector {
        Some(desired) => {
            let r = converge(client, region, desired, read_only, &job.sent).await;
            if r.is_failure() {
                return r;
            }
            r
        }
        None => match observe(client, false).await {
            Err(e) => return RegionReport::failed(region, e),
            Ok(d) => match d.into_iter().next() {
                Some(d) => {
                    let mut r = RegionReport::new(region, Outcome::Unchanged);
                    r.detector_id = Some(d.id);
                    r
                }
                None => {
                    return RegionReport::failed(
                        region,
                        RegionError::new(
                            "NoDetector",
                            "no detector here, and the file has no [detector] section to make one",
                        ),
                    )
                }
            },
        },
    };
    let detector = r.detector_id.clone();
    let detector_changed = r.outcome.is_change();
    // Without [detector] the file says nothing of it, but a suspended one
    // watches nothing: read beside the rest, and said.
    let status: futures::future::OptionFuture<_> = match (&s.detector, detector.as_deref()) {
        (None, Some(id)) => Some(async move {
            client.get_detector().detector_id(id).send().await.map_err(|e| RegionError::from_sdk(&e))
        }),
        _ => None,
    }
    .into();
    let (status, rules, trusted, threats, export) = futures::join!(
        status,
        rules(client, detector.as_deref(), s, mode, &job.sent),
        lists(
            client,
            detector.as_deref(),
            Kind::Trusted,
            s.trusted_ips.as_ref().map(std::slice::from_ref),
            mode,
            reload,
            &job.sent
        ),
        lists(client, detector.as_deref(), Kind::Threat, s.threat_lists.as_deref(), mode, reload, &job.sent),
        export(client, detector.as_deref(), s, mode, &job.sent),
    );
    let mut suspended = false;
    match status {
        Some(Ok(d)) => {
            suspended = d.status() != Some(&aws_sdk_guardduty::types::DetectorStatus::Enabled);
            r.status =
                Some(if suspended { crate::report::State::Suspended } else { crate::report::State::Enabled });
            r.frequency = d.finding_publishing_frequency().map(|f| f.as_str().to_string());
        }
        Some(Err(e)) => {
            let mut failed = RegionReport::failed(region, e);
            failed.detector_id = detector.clone();
            return failed;
        }
        None => {}
    }
    let mut changes = std::mem::take(&mut r.changes);
    let detector_words = changes.len();
    let mut notes: Vec<String> = r.note.take().into_iter().collect();
    let mut broken = Vec::new();
    if suspended {
        match mode {
            Mode::Check => broken.push("the detector is suspended: GuardDuty watches nothing here".into()),
            _ => notes.push("the detector is suspended: GuardDuty watches nothing here".into()),
        }
    }
    for section in [rules, trusted, threats, export] {
        match section {
            Ok(sec) => {
                changes.extend(sec.changes);
                // Said on every run; with --check as what is out of line.
                if mode != Mode::Check {
                    notes.extend(sec.broken.iter().cloned());
                }
                broken.extend(sec.broken);
                if !sec.unmanaged.is_empty() {
                    notes.push(format!("unmanaged: {}", sec.unmanaged.join(", ")));
                }
                r.unmanaged.extend(sec.unmanaged);
            }
            Err(e) => {
                let mut failed = RegionReport::failed(region, e);
                failed.detector_id = detector.clone();
                return failed;
            }
        }
    }
    if !detector_changed && changes.len() > detector_words {
        r.outcome = Outcome::Updated;
    }
    if mode == Mode::Check {
        let mut out = Vec::new();
        if detector_changed {
            out.push(format!("detector would be {}", r.outcome.label(false)));
        }
        out.extend(changes.iter().cloned());
        out.extend(broken);
        r.in_line = Some(out.is_empty());
        r.out_of_line = out;
    }
    r.changes = changes;
    r.note = (!notes.is_empty()).then(|| notes.join("; "));
    r
}

/// The suppression rules: read, decide, write.
async fn rules(
    client: &Client,
    detector: Option<&str>,
    s: &Settings,
    mode: Mode,
    sent: &WriteSent,
) -> Result<Section, RegionError> {
    let Some(wanted) = &s.rules else { return Ok(Section::default()) };
    let existing = match detector {
        Some(d) => filters::calls::read(client, d).await?,
        None => Vec::new(),
    };
    let plan = filters::plan::decide(wanted, &existing, s.prune_rules);
    // Over the quota, the calls would fail part way: refused before any.
    let total = wanted.len() + plan.unmanaged.len();
    if total > crate::settings_file::MAX_RULES {
        return Err(RegionError::new(
            "QuotaExceeded",
            format!(
                "the file's {} rules and the region's {} unmanaged filters make {total}, over GuardDuty's {} a \
                 region: no rule was written (prune_rules = true deletes the unmanaged ones)",
                wanted.len(),
                plan.unmanaged.len(),
                crate::settings_file::MAX_RULES
            ),
        ));
    }
    if let (Mode::Apply, Some(d)) = (mode, detector) {
        filters::calls::execute(client, d, &plan.calls, &plan.changes, sent).await?;
    }
    Ok(Section {
        changes: plan.changes,
        unmanaged: plan.unmanaged.iter().map(|n| format!("rule {n}")).collect(),
        broken: Vec::new(),
    })
}

async fn lists(
    client: &Client,
    detector: Option<&str>,
    kind: Kind,
    wanted: Option<&[lists::plan::List]>,
    mode: Mode,
    reload: bool,
    sent: &WriteSent,
) -> Result<Section, RegionError> {
    let Some(wanted) = wanted else { return Ok(Section::default()) };
    let existing = match detector {
        Some(d) => lists::calls::read(client, d, kind).await?,
        None => Vec::new(),
    };
    let plan = lists::plan::decide(kind, wanted, &existing, reload);
    let total = wanted.len() + plan.unmanaged.len();
    if kind == Kind::Threat && total > crate::settings_file::MAX_THREAT_LISTS {
        return Err(RegionError::new(
            "QuotaExceeded",
            format!(
                "the file's {} threat lists and the region's {} others ({}) make {total}, over GuardDuty's {} a \
                 region: no list was written",
                wanted.len(),
                plan.unmanaged.len(),
                plan.unmanaged.join(", "),
                crate::settings_file::MAX_THREAT_LISTS
            ),
        ));
    }
    if let (Mode::Apply, Some(d)) = (mode, detector) {
        lists::calls::execute(client, d, kind, &plan.calls, sent).await?;
    }
    Ok(Section {
        changes: plan.calls.into_iter().map(|(_, w)| w).collect(),
        unmanaged: plan.unmanaged.iter().map(|n| format!("{} {n}", kind.word())).collect(),
        broken: Vec::new(),
    })
}

async fn export(
    client: &Client,
    detector: Option<&str>,
    s: &Settings,
    mode: Mode,
    sent: &WriteSent,
) -> Result<Section, RegionError> {
    let Some(wanted) = &s.export else { return Ok(Section::default()) };
    let existing = match detector {
        Some(d) => export::calls::read(client, d).await?,
        None => None,
    };
    let mut section = Section::default();
    if let Some(why) = existing.as_ref().and_then(export::plan::not_publishing) {
        section.broken.push(why);
    }
    if let Some((call, words)) = export::plan::decide(wanted, existing.as_ref()) {
        if let (Mode::Apply, Some(d)) = (mode, detector) {
            export::calls::execute(client, d, &call, &words, sent).await?;
        }
        section.changes.push(words);
    }
    Ok(section)
}
