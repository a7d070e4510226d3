//! Data retention: history older than the settings' `retention_*` days
//! is deleted, a little at a time, by a periodic task (one pass an hour).
//!
//! Runs go only when their days are in the daily roll-ups (every finished
//! run is), so reports over old periods read the same figures from the
//! roll-ups; the incidents those reports list (failed and missed runs,
//! anomalies) stay as long as the audit log. Each statement deletes a
//! batch of at most `PRUNE_BATCH` rows and the pass pauses between
//! batches, so a run being reported waits milliseconds, not the whole pass.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::ssr::{
    accounts::audit,
    infra::{settings::Retention, state::AppState},
    jobs, notify, veeam,
};

/// The name of the periodic task.
pub const TASK: &str = "retention";

/// How often the task prunes.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// What one pass deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// When the pass ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// How long it took, in milliseconds.
    pub took_ms: u64,
    /// Runs deleted.
    pub runs: u64,
    /// Job events deleted.
    pub job_events: u64,
    /// Deliveries, held-back events and console events deleted.
    pub notifications: u64,
    /// System events and repository samples deleted.
    pub veeam: u64,
    /// Audit records deleted.
    pub audit: u64,
}

/// The last pass of this process, for the settings page.
#[derive(Debug, Default)]
struct LastPass(Mutex<Option<PruneReport>>);

fn before(now: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
    (days > 0).then(|| now - Duration::days(i64::from(days)))
}

/// Deletes what `retention` says is too old at `now`.
pub async fn prune_at(
    state: &AppState,
    retention: Retention,
    now: DateTime<Utc>,
) -> Result<PruneReport, sqlx::Error> {
    let started = std::time::Instant::now();
    let db = &state.db;
    let events_before = before(now, retention.events_days);
    let job_events = match events_before {
        Some(at) => Some((at, notify::read_up_to(db, "job_events").await?)),
        None => None,
    };
    let (runs, job_events) = jobs::prune_history(
        db,
        before(now, retention.runs_days),
        before(now, retention.problem_runs_days()),
        job_events,
    )
    .await?;
    let mut report = PruneReport { runs, job_events, ..PruneReport::default() };
    if let Some(at) = events_before {
        report.notifications = notify::prune_history(db, at).await?;
        let read = notify::read_up_to(db, "system_events").await?;
        let first_day = at.with_timezone(&state.settings.timezone).date_naive().to_string();
        report.veeam = veeam::prune_history(db, at, read, &first_day).await?;
    }
    if let Some(at) = before(now, retention.audit_days) {
        report.audit = audit::prune(db, at).await?;
    }
    report.finished_at = Some(Utc::now());
    report.took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if report.runs + report.job_events + report.notifications + report.veeam + report.audit > 0 {
        tracing::info!(?report, "data retention: deleted old history");
    }
    *state.slots.get::<LastPass>().0.lock().unwrap_or_else(|e| e.into_inner()) = Some(report.clone());
    Ok(report)
}

/// One pass of the periodic task, with the configured retention.
pub async fn prune(state: &AppState) -> Result<PruneReport, sqlx::Error> {
    prune_at(state, state.settings.retention, Utc::now()).await
}

/// This process's last pass, if it has made one.
pub fn last_pass(state: &AppState) -> Option<PruneReport> {
    state.slots.get::<LastPass>().0.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
