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
use secrecy::SecretString;

use super::{
    client::{Client, Options, Target, Tls, VeeamError, detect_revision},
    wire::{JobStatus, SessionModel, SessionResult},
};
use crate::{
    model::{job::RunResult, veeam::TlsMode},
    ssr::{
        db::{
            jobs::{self as jobs_db, Definition, WriteJobError},
            veeam::{self as db, RepositoryFields, ServerRow},
        },
        ingest::{self, Incoming},
        jobs::{DEFAULT_GRACE_SECONDS, new_ping_token, publish},
        state::AppState,
    },
};

/// A sync older than this is taken to have died with its instance.
const STALE_SYNC: Duration = Duration::from_secs(3600);

/// Clients per server, rebuilt when the server's settings change.
#[derive(Default)]
pub struct VeeamHub {
    clients: Mutex<HashMap<i64, (DateTime<Utc>, String, Arc<Client>)>>,
    /// Options for new clients (tests shorten the timeouts).
    pub options: Mutex<Options>,
}

impl std::fmt::Debug for VeeamHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VeeamHub")
    }
}

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
}

/// Why a sync did not run or failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such server.
    #[error("no such Veeam server")]
    NoServer,
    /// Another sync of this server is running.
    #[error("a sync of this server is already running")]
    Busy,
    /// The stored password cannot be decrypted.
    #[error(transparent)]
    Secret(#[from] crate::ssr::secrets::DecryptError),
    /// Veeam failed.
    #[error(transparent)]
    Veeam(#[from] VeeamError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// The client settings of a server row.
pub fn target_of(state: &AppState, row: &ServerRow, api_version: &str) -> Result<Target, SyncError> {
    let password: SecretString = state.cipher.decrypt(&row.password_encrypted)?;
    let tls = match TlsMode::parse(&row.tls_mode).unwrap_or_default() {
        TlsMode::Verify => Tls::Verify,
        TlsMode::CustomCa => Tls::CustomCa(row.ca_pem.clone().unwrap_or_default()),
        TlsMode::Insecure => Tls::Insecure,
    };
    let base_url = url::Url::parse(&row.base_url)
        .map_err(|e| VeeamError::Unreachable(format!("the address is not a URL: {e}")))?;
    Ok(Target {
        base_url,
        username: row.username.clone(),
        password,
        api_version: api_version.to_owned(),
        tls,
    })
}

/// The client of a server, detecting its revision first when none is set.
pub async fn client_for(state: &AppState, row: &ServerRow) -> Result<Arc<Client>, SyncError> {
    let options = state.veeam.options.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let version = match row.api_version.clone().or_else(|| row.detected_api_version.clone()) {
        Some(version) => version,
        None => {
            let version = detect_revision(&target_of(state, row, "")?, &options).await?;
            db::set_detected_version(&state.db, row.id, &version).await?;
            version
        }
    };
    let mut clients = state.veeam.clients.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((updated, cached_version, client)) = clients.get(&row.id) {
        if *updated == row.updated_at && *cached_version == version {
            return Ok(client.clone());
        }
    }
    let client = Arc::new(Client::new(target_of(state, row, &version)?, options)?);
    clients.insert(row.id, (row.updated_at, version, client.clone()));
    Ok(client)
}

/// Forgets a server's client (after an edit or removal).
pub fn forget(state: &AppState, server_id: i64) {
    state.veeam.clients.lock().unwrap_or_else(|e| e.into_inner()).remove(&server_id);
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
    let (stop_reporter, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let reporter = {
        let db = state.db.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            let mut last = (String::new(), -1, None);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = &mut stopped => return,
                }
                let now = {
                    let p = progress.lock().unwrap_or_else(|e| e.into_inner());
                    (p.phase.to_owned(), p.done, p.total)
                };
                if now != last {
                    let _ = db::set_progress(&db, server_id, &now.0, now.1, now.2).await;
                    last = now;
                }
            }
        })
    };
    let outcome = run_sync(state, server_id, &progress).await;
    // Stop the reporter and wait for it, so no late progress write lands after the end.
    let _ = stop_reporter.send(());
    let _ = reporter.await;
    let finished = Utc::now();
    match &outcome {
        Ok((_, until)) => db::finish_sync(&state.db, server_id, finished, Ok(*until)).await?,
        Err(error) => {
            let (status, code) = match error {
                SyncError::Veeam(e) if e.is_outage() => ("unreachable", e.code()),
                SyncError::Veeam(e) => ("error", e.code()),
                SyncError::Secret(_) => ("error", "secret"),
                _ => ("error", "internal"),
            };
            tracing::warn!(server_id, error = %error, "Veeam sync failed");
            db::finish_sync(&state.db, server_id, finished, Err((status, code, &error.to_string()))).await?;
        }
    }
    outcome.map(|(report, _)| report)
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

    // Jobs.
    let states = client.job_states().await?;
    set("jobs", 0, Some(states.len() as i64));
    let known = db::jobs_of_server(&state.db, server_id).await?;
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
                if !db::update_synced_job(&state.db, id, server_id, &job.name, &description, &status).await? {
                    // The name is taken by another job: keep ours as it was.
                    let current =
                        known.iter().find(|j| j.id == id).map(|j| j.name.clone()).unwrap_or_default();
                    db::update_synced_job(&state.db, id, server_id, &current, &description, &status).await?;
                }
                seen.push(id);
            }
            None => {
                let id = create_job(state, &server, &job.name, &description, &job.id).await?;
                db::set_veeam_status(&state.db, id, &status).await?;
                by_veeam.insert(job.id.clone(), id);
                seen.push(id);
                report.jobs_created += 1;
            }
        }
        if done % 100 == 0 {
            set("jobs", done as i64 + 1, Some(states.len() as i64));
        }
    }
    let gone: Vec<i64> = known
        .iter()
        .filter(|j| j.veeam_server_id == Some(server_id) && j.removed_at.is_none() && !seen.contains(&j.id))
        .map(|j| j.id)
        .collect();
    report.jobs_removed = gone.len();
    db::mark_removed(&state.db, &gone).await?;

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
    for (_, _, session_id) in db::running_sessions(&state.db, server_id).await? {
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
    for (done, session) in sessions.iter().enumerate() {
        until = Some(until.map_or(session.creation_time, |u| u.max(session.creation_time)));
        let Some(&job_id) = by_veeam.get(&session.job_id) else {
            tracing::debug!(server_id, session = %session.id, "session of a job Veeam does not list; skipped");
            continue;
        };
        let incoming = incoming_of(session);
        let result = incoming.result;
        match ingest::record(&state.db, state.settings.timezone, job_id, incoming).await {
            Ok(recorded) => {
                if recorded.created {
                    report.runs_changed += 1;
                }
                publish(state, &recorded, result);
            }
            Err(ingest::IngestError::Db(e)) => return Err(e.into()),
            Err(e) => tracing::warn!(server_id, session = %session.id, error = %e, "session not recorded"),
        }
        if done % 200 == 0 {
            set("recording", done as i64 + 1, Some(total));
        }
    }

    // Repositories.
    let repositories = client.repository_states().await?;
    set("repositories", 0, Some(repositories.len() as i64));
    let day = ingest::day_of(Utc::now(), state.settings.timezone);
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
    tracing::info!(server_id, ?report, "Veeam sync done");
    Ok((report, until))
}

async fn create_job(
    state: &AppState,
    server: &ServerRow,
    name: &str,
    description: &str,
    veeam_id: &str,
) -> Result<i64, SyncError> {
    let mut candidate = name.to_owned();
    for attempt in 0..3 {
        let def = Definition {
            name: &candidate,
            description,
            schedule_kind: "none",
            schedule_cron: None,
            schedule_timezone: None,
            schedule_interval_seconds: None,
            grace_seconds: DEFAULT_GRACE_SECONDS,
            max_duration_seconds: None,
            owner_id: None,
        };
        match jobs_db::create(
            &state.db,
            &def,
            "veeam",
            &new_ping_token(),
            Some(server.id),
            Some(veeam_id),
            &[],
            None,
        )
        .await
        {
            Ok(id) => return Ok(id),
            Err(WriteJobError::NameTaken) => {
                candidate = if attempt == 0 {
                    format!("{name} ({})", server.name)
                } else {
                    format!("{name} ({} {veeam_id})", server.name)
                };
            }
            Err(WriteJobError::Db(e)) => return Err(e.into()),
        }
    }
    Err(SyncError::Db(sqlx::Error::Protocol(format!("no free name for Veeam job {veeam_id}"))))
}

/// Follows a session started from the console until it ends (at most 12
/// hours), so its run finishes on screen without waiting for the next sync:
/// every 2 seconds for the first two minutes, then every 15.
pub async fn follow_session(state: AppState, server_id: i64, job_id: i64, session_id: String) {
    let started = std::time::Instant::now();
    let mut stopping = state.stopping.clone();
    while started.elapsed() < Duration::from_secs(12 * 3600) {
        let pause = if started.elapsed() < Duration::from_secs(120) { 2 } else { 15 };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(pause)) => {}
            _ = stopping.changed() => return,
        }
        let Ok(Some(row)) = db::find_server(&state.db, server_id).await else { return };
        let Ok(client) = client_for(&state, &row).await else { continue };
        match client.session(&session_id).await {
            Ok(session) if session.finished() => {
                let incoming = incoming_of(&session);
                let result = incoming.result;
                if let Ok(recorded) =
                    ingest::record(&state.db, state.settings.timezone, job_id, incoming).await
                {
                    publish(&state, &recorded, result);
                }
                return;
            }
            Ok(_) => {}
            Err(VeeamError::Api { status: 404, .. }) => return,
            Err(e) => {
                tracing::debug!(server_id, session_id, error = %e, "following a session failed; trying again")
            }
        }
    }
}
