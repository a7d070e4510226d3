//! The Veeam sync: jobs and their states become `veeam` jobs, backup job
//! sessions become runs (idempotent by session id, so the post-job webhook
//! and the sync make one run of a session), repositories become space
//! figures with a daily sample.
//!
//! The first sync of a server reads every session; later ones ask only for
//! sessions created after the newest one seen (less a minute of overlap)
//! and re-read the sessions still running. Progress is written to the
//! server's row while a sync runs, so every instance can show it; the same
//! row is the lock that keeps two instances from syncing one server at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures::future::{Either, select};

use super::{
    client::VeeamError,
    expect,
    hub::{SyncError, client_for},
    signals::{self, SignalsReport},
    store::{self as db, NewSystemEvent, RepositoryFields},
    wire::{JobModel, JobStatus, SessionModel, SessionResult},
};
use crate::{
    model::job::{JobSource, RunResult},
    ssr::{
        infra::{
            db::{Db, is_unreadable},
            metrics::Metrics,
            outbound::escape_control,
            state::AppState,
        },
        jobs::{self, Incoming, IngestError, LinkedJob},
    },
};

/// A sync older than this is taken to have died with its instance.
const STALE_SYNC: Duration = Duration::from_secs(3600);

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Jobs created.
    pub jobs_created: usize,
    /// Jobs marked removed.
    pub jobs_removed: usize,
    /// Sessions read from Veeam.
    pub sessions_read: usize,
    /// Runs created or finished.
    pub runs_changed: usize,
    /// Repositories stored.
    pub repositories: usize,
    /// Veeam jobs whose schedule state changed (disabled, unscheduled, scheduled again).
    pub schedules_changed: usize,
    /// Restore points, machines and signal events.
    pub signals: SignalsReport,
}

/// A session's outcome as a run report.
pub fn incoming_of(session: &SessionModel) -> Incoming {
    let (result, message) = if !session.finished() {
        (RunResult::Running, None)
    } else {
        let model = session.result.as_ref();
        let message = model.and_then(|r| r.message.clone()).filter(|m| !m.trim().is_empty());
        let result = match model.map(|r| &r.result) {
            Some(SessionResult::Success) => RunResult::Success,
            Some(SessionResult::Warning) => RunResult::Warning,
            Some(SessionResult::Failed) => RunResult::Failed,
            // Ended without a result, or with one this version does not know.
            _ if model.and_then(|r| r.is_canceled) == Some(true) => RunResult::Failed,
            _ => RunResult::Warning,
        };
        (result, message)
    };
    Incoming {
        result,
        started_at: Some(session.creation_time),
        ended_at: if session.finished() { session.end_time.or(Some(session.creation_time)) } else { None },
        message,
        bytes_processed: session.progress.as_ref().and_then(|p| p.processed_size).filter(|b| *b >= 0),
        exit_code: None,
        external_id: Some(session.id.clone()),
        log: None,
        origin: "veeam_sync",
    }
}

/// The stored spelling of Veeam's job status.
pub fn status_name(status: &JobStatus) -> String {
    status.as_str().to_ascii_lowercase()
}

#[derive(Default)]
struct Progress {
    phase: &'static str,
    done: i64,
    total: Option<i64>,
}

/// Syncs one server now. Fails with [`SyncError::Busy`] when a sync of it
/// is running anywhere.
pub async fn sync_server(state: &AppState, server_id: i64) -> Result<SyncReport, SyncError> {
    let now = Utc::now();
    let stale = now - chrono::Duration::from_std(STALE_SYNC).unwrap_or_default();
    if db::find_server(&state.db, server_id).await?.is_none() {
        return Err(SyncError::NoServer);
    }
    if !db::claim_sync(&state.db, server_id, now, stale).await? {
        return Err(SyncError::Busy);
    }
    let progress = Arc::new(Mutex::new(Progress { phase: "jobs", ..Progress::default() }));
    // The progress writer runs beside the sync and is dropped when the sync
    // ends, so no late progress write lands after the end is recorded.
    let sync = std::pin::pin!(run_sync(state, server_id, &progress));
    let reporter = std::pin::pin!(report_progress(&state.db, server_id, &progress));
    let outcome = match select(sync, reporter).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(((), sync)) => sync.await,
    };
    let finished = Utc::now();
    let seconds = (finished - now).num_milliseconds().max(0) as f64 / 1000.0;
    match &outcome {
        Ok((_, until)) => {
            Metrics::of(state).veeam_sync(server_id, seconds, None);
            db::finish_sync(&state.db, server_id, finished, Ok(*until)).await?
        }
        Err(error) => {
            let (status, code) = match error {
                SyncError::Veeam(e) if e.is_outage() => ("unreachable", e.code()),
                SyncError::Veeam(e) => ("error", e.code()),
                SyncError::Secret(_) => ("error", "secret"),
                _ => ("error", "internal"),
            };
            Metrics::of(state).veeam_sync(server_id, seconds, Some(status));
            tracing::warn!(server_id, error = %error, "Veeam sync failed");
            db::finish_sync(&state.db, server_id, finished, Err((status, code, &error.to_string()))).await?;
        }
    }
    outcome.map(|(report, _)| report)
}

/// Writes a sync's progress to its server's row twice a second, when it
/// changed. Runs until dropped.
async fn report_progress(db: &Db, server_id: i64, progress: &Mutex<Progress>) {
    let mut last = (String::new(), -1, None);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = {
            let p = progress.lock().unwrap_or_else(|e| e.into_inner());
            (p.phase.to_owned(), p.done, p.total)
        };
        if now != last {
            if let Err(e) = db::set_progress(db, server_id, &now.0, now.1, now.2).await {
                tracing::debug!(server_id, error = %e, "cannot record the sync's progress");
            }
            last = now;
        }
    }
}

async fn run_sync(
    state: &AppState,
    server_id: i64,
    progress: &Arc<Mutex<Progress>>,
) -> Result<(SyncReport, Option<DateTime<Utc>>), SyncError> {
    let set = |phase: &'static str, done: i64, total: Option<i64>| {
        let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
        *p = Progress { phase, done, total };
    };
    let server = db::find_server(&state.db, server_id).await?.ok_or(SyncError::NoServer)?;
    let client = client_for(state, &server).await?;
    let mut report = SyncReport::default();

    // Jobs: their states, definitions (schedules) and the server's time zone.
    let states = client.job_states().await?;
    // Restore point ages are measured on the VBR server's clock.
    let (zone, server_now) = match client.server_time().await {
        Ok(time) => (expect::server_zone(&time, state.settings.timezone), time.server_time),
        Err(e) if e.is_outage() => return Err(e.into()),
        Err(_) => (state.settings.timezone, Utc::now()),
    };
    let definitions: HashMap<String, JobModel> = match client.jobs().await {
        Ok(list) => list.into_iter().map(|j| (j.id.to_lowercase(), j)).collect(),
        Err(e) if e.is_outage() => return Err(e.into()),
        Err(e) => {
            // Without definitions every job keeps to Veeam's next run.
            tracing::warn!(server_id, error = %e, "cannot read Veeam's job definitions; using nextRun only");
            HashMap::new()
        }
    };
    let mut schedule_changes = Vec::new();
    set("jobs", 0, Some(states.len() as i64));
    let known = jobs::jobs_of_server(&state.db, server_id).await?;
    let mut by_veeam: HashMap<String, i64> = HashMap::new();
    for job in &known {
        if let Some(veeam_id) = &job.veeam_job_id {
            // A job of this server wins over an unattached webhook-made one.
            if job.veeam_server_id == Some(server_id) || !by_veeam.contains_key(&veeam_id.to_lowercase()) {
                by_veeam.insert(veeam_id.to_lowercase(), job.id);
            }
        }
    }
    let mut seen = Vec::with_capacity(states.len());
    for (done, job) in states.iter().enumerate() {
        let status = status_name(&job.status);
        let description = job.description.clone().unwrap_or_default();
        match by_veeam.get(&job.id) {
            Some(&id) => {
                if !jobs::update_synced_job(&state.db, id, server_id, &job.name, &description, &status)
                    .await?
                {
                    // The name is taken by another job: keep ours as it was.
                    let current =
                        known.iter().find(|j| j.id == id).map(|j| j.name.clone()).unwrap_or_default();
                    jobs::update_synced_job(&state.db, id, server_id, &current, &description, &status)
                        .await?;
                }
                seen.push(id);
            }
            None => {
                let linked = LinkedJob {
                    name: &job.name,
                    description: &description,
                    source: JobSource::Veeam,
                    server: Some((server.id, &server.name)),
                    external_id: Some(&job.id),
                };
                let (id, created) = jobs::create_linked(&state.db, &linked).await.map_err(|e| match e {
                    jobs::WriteJobError::Db(e) => SyncError::Db(e),
                    jobs::WriteJobError::NameTaken => {
                        SyncError::Db(sqlx::Error::Protocol(format!("no free name for Veeam job {}", job.id)))
                    }
                })?;
                jobs::set_veeam_status(&state.db, id, &status).await?;
                by_veeam.insert(job.id.clone(), id);
                seen.push(id);
                report.jobs_created += usize::from(created);
            }
        }
        if let Some(&id) = by_veeam.get(&job.id) {
            let expected = expect::expectation(definitions.get(&job.id.to_lowercase()), job, zone);
            let now = Utc::now();
            if let Some(change) =
                jobs::apply_veeam_schedule(&state.db, state.settings.timezone, id, &expected, now).await?
            {
                schedule_changes.push((id, job.name.clone(), change));
            }
        }
        if done % 100 == 0 {
            set("jobs", done as i64 + 1, Some(states.len() as i64));
        }
    }
    for (job_id, name, change) in &schedule_changes {
        let subject = format!("veeam-job:{job_id}");
        let (kind, details) = match (change.before.as_deref(), change.after.as_str()) {
            // A job already disabled when first seen is shown, not announced.
            (Some(_), "disabled") => ("veeam_job_disabled", "the job is disabled in Veeam: it will not run"),
            (_, "unscheduled") => (
                "veeam_job_unscheduled",
                "the job is enabled in Veeam but its schedule is off: it will never run by itself",
            ),
            (Some("disabled" | "unscheduled"), _) => {
                ("veeam_signal_cleared", "the job is scheduled in Veeam again")
            }
            _ => continue,
        };
        let event = NewSystemEvent {
            kind,
            veeam_server_id: Some(server_id),
            job_id: Some(*job_id),
            subject: &subject,
            subject_name: name,
            details: Some(details),
            occurred_at: Utc::now(),
        };
        db::record_event(&state.db, &event).await?;
        report.schedules_changed += 1;
    }
    let gone: Vec<i64> = known
        .iter()
        .filter(|j| j.veeam_server_id == Some(server_id) && j.removed_at.is_none() && !seen.contains(&j.id))
        .map(|j| j.id)
        .collect();
    report.jobs_removed = gone.len();
    jobs::mark_removed(&state.db, &gone).await?;

    // Sessions: new ones since the cursor (all on the first sync).
    let after = server.sessions_synced_until.map(|t| t - chrono::Duration::minutes(1));
    set("sessions", 0, None);
    let fetched = {
        let progress = progress.clone();
        client
            .sessions(after, &mut move |so_far, total| {
                let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
                *p = Progress { phase: "sessions", done: so_far as i64, total: Some(total) };
            })
            .await?
    };
    report.sessions_read = fetched.len();
    let mut until = server.sessions_synced_until;
    let fetched_ids: std::collections::HashSet<String> = fetched.iter().map(|s| s.id.clone()).collect();
    // Sessions that were running at the last sync and are older than the window.
    let mut sessions = fetched;
    for (_, _, session_id) in jobs::running_sessions(&state.db, server_id).await? {
        if !fetched_ids.contains(&session_id) {
            match client.session(&session_id).await {
                Ok(session) => sessions.push(session),
                Err(VeeamError::Api { status: 404, .. }) => {
                    tracing::info!(server_id, session_id, "a running session is gone from Veeam");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let total = sessions.len() as i64;
    set("recording", 0, Some(total));
    // Recorded in batches: one transaction per batch, progress after each.
    let mut done = 0;
    for chunk in sessions.chunks(jobs::batch::MAX_BATCH) {
        let mut reports = Vec::with_capacity(chunk.len());
        let mut ids = Vec::with_capacity(chunk.len());
        for session in chunk {
            until = Some(until.map_or(session.creation_time, |u| u.max(session.creation_time)));
            let Some(&job_id) = by_veeam.get(&session.job_id) else {
                tracing::debug!(server_id, session = %escape_control(&session.id), "session of a job Veeam does not list; skipped");
                continue;
            };
            reports.push(jobs::Report { job: jobs::JobRef::Id(job_id), incoming: incoming_of(session) });
            ids.push(&session.id);
        }
        for (outcome, session_id) in jobs::record_many(state, &reports).await.into_iter().zip(ids) {
            match outcome {
                Ok(recorded) => {
                    if recorded.created {
                        report.runs_changed += 1;
                    }
                }
                // One job whose row cannot be read (logged) does not stop the sync.
                Err(IngestError::Db(e)) if !is_unreadable(&e) => return Err(e.into()),
                Err(e) => {
                    // Veeam's text goes into the log escaped, so it cannot forge a line.
                    tracing::warn!(server_id, session = %escape_control(session_id), error = %e, "session not recorded");
                }
            }
        }
        done += chunk.len();
        set("recording", done as i64, Some(total));
    }

    // Repositories.
    let repositories = client.repository_states().await?;
    set("repositories", 0, Some(repositories.len() as i64));
    let day = jobs::ingest::day_of(Utc::now(), state.settings.timezone);
    let mut kept = Vec::new();
    for r in &repositories {
        let fields = RepositoryFields {
            external_id: &r.id,
            name: &r.name,
            kind: &r.repository_type,
            host_name: r.host_name.as_deref(),
            path: r.path.as_deref(),
            capacity_gb: r.capacity_gb,
            free_gb: r.free_gb,
            used_gb: r.used_space_gb,
            online: r.is_online,
        };
        kept.push(db::upsert_repository(&state.db, server_id, &day, &fields).await?);
    }
    db::mark_repositories_removed(&state.db, server_id, &kept).await?;
    report.repositories = kept.len();

    // Restore points per machine, RPO, and Veeam's own signals.
    let running_since = sessions.iter().filter(|s| !s.finished()).map(|s| s.creation_time).min();
    set("restore_points", 0, None);
    let read_points;
    {
        let progress = progress.clone();
        let mut hear = move |so_far: usize, total: i64| {
            let mut p = progress.lock().unwrap_or_else(|e| e.into_inner());
            *p = Progress { phase: "restore_points", done: so_far as i64, total: Some(total) };
        };
        read_points = signals::sync_restore_points(
            state,
            &client,
            server_id,
            &by_veeam,
            running_since,
            &mut hear,
            &mut report.signals,
        )
        .await?;
    }
    set("signals", 0, None);
    // Without this sync's restore points, ages would only grow: no verdict.
    if read_points {
        signals::check_rpo(state, server_id, server_now, &mut report.signals).await?;
    }
    signals::sync_signals(state, &client, server_id, &server.name, zone.name(), &mut report.signals).await?;
    tracing::info!(server_id, ?report, "Veeam sync done");
    Ok((report, until))
}

/// Follows a session started from the console until it ends (at most 12
/// hours), so its run finishes on screen without waiting for the next sync:
/// every 2 seconds for the first two minutes, then every 15. Runs under the
/// supervisor (see `follow`), which stops it at shutdown.
pub async fn follow_session(
    state: AppState,
    server_id: i64,
    job_id: i64,
    session_id: String,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let stopping = state.tasks.stopping();
    while started.elapsed() < Duration::from_secs(12 * 3600) {
        let pause = if started.elapsed() < Duration::from_secs(120) { 2 } else { 15 };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(pause)) => {}
            // Shutdown: the next sync picks the session up.
            _ = stopping.cancelled() => return Ok(()),
        }
        let Some(row) = db::find_server(&state.db, server_id).await? else { return Ok(()) };
        let Ok(client) = client_for(&state, &row).await else { continue };
        match client.session(&session_id).await {
            Ok(session) if session.finished() => {
                jobs::record(&state, job_id, incoming_of(&session)).await?;
                return Ok(());
            }
            Ok(_) => {}
            Err(VeeamError::Api { status: 404, .. }) => return Ok(()),
            Err(e) => {
                tracing::debug!(server_id, session_id, error = %e, "following a session failed; trying again")
            }
        }
    }
    Ok(())
}

/// Follows a session under the supervisor (a panic or a database error
/// starts it again).
pub fn follow(state: &AppState, server_id: i64, job_id: i64, session_id: String) {
    let task_state = state.clone();
    let name = format!("veeam-follow:{session_id}");
    state
        .tasks
        .spawn(name, 3, move || follow_session(task_state.clone(), server_id, job_id, session_id.clone()));
}
