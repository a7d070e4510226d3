//! Veeam Backup & Replication: servers (administrators), repositories
//! (everyone signed in), actions on Veeam jobs (operators) and the
//! post-job webhook. The role checks, validation and audit entries shared
//! by the JSON API and the server functions.
//!
//! Inside: [`client`] (the REST client) and [`wire`] (Veeam's types),
//! [`hub`] (a client per server), [`sync`] (jobs, sessions and
//! repositories into the console), `form` (reading a server's settings)
//! and [`store`] (the SQL of the Veeam tables).

pub mod client;
pub mod expect;
mod form;
pub mod hub;
pub mod signals;
pub mod store;
pub mod sync;
pub mod wire;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use self::{
    client::{Client, VeeamError, detect_revision, has_retry},
    hub::{SyncError, client_for, target_of},
    store::{self as db, ServerRow, SystemEventRow, WriteServerError},
    sync::{incoming_of, sync_server},
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        dashboard::VeeamJobInfo,
        job::{JobSource, ProtectedMachine, ReportOutcome, RunResult, VeeamJobComplete},
        user::Role,
        veeam::{
            ActionOutcome, ConnectionTest, Repository, SpaceSample, SyncProgress, TlsMode, VeeamServer,
            VeeamServerForm, VeeamServerInput, VeeamServerPatch, VeeamSignals,
        },
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::{input::parse_rfc3339, outbound::Policy, state::AppState},
        jobs::{self, Incoming, LinkedJob},
    },
};
pub use form::{DEFAULT_PORT, normalise_url};
pub use hub::{VeeamHub, hub};

fn split(list: &str) -> Vec<String> {
    list.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn to_model(row: &ServerRow, jobs: i64) -> VeeamServer {
    VeeamServer {
        id: row.id,
        name: row.name.clone(),
        base_url: row.base_url.clone(),
        username: row.username.clone(),
        api_version: row.api_version.clone().or_else(|| row.detected_api_version.clone()),
        api_version_pinned: row.api_version.is_some(),
        tls_mode: row.tls_mode,
        ca_pem: row.ca_pem.clone(),
        sync_interval_seconds: row.sync_interval_seconds,
        enabled: row.enabled,
        status: row.status,
        last_sync_at: row.last_sync_at,
        last_error: row.last_error.clone(),
        last_error_code: row.last_error_code.clone(),
        sync_progress: row.sync_phase.as_ref().map(|phase| SyncProgress {
            phase: phase.clone(),
            done: row.sync_done.unwrap_or(0),
            total: row.sync_total,
            started_at: row.sync_started_at,
        }),
        jobs,
        signals: VeeamSignals {
            raised: split(&row.signals_raised),
            notes: split(&row.signal_notes),
            config_backup_enabled: row.config_backup_enabled,
            config_backup_last_success: row.config_backup_last_success,
            license_status: row.license_status.clone(),
            license_expires_at: row.license_expires_at,
            time_zone: row.time_zone.clone(),
        },
    }
}

/// Plain words for a Veeam failure, in the user's language.
pub fn explain(locale: Locale, error: &VeeamError) -> String {
    let detail = error.to_string();
    match error {
        VeeamError::Unreachable(_) => {
            td_string!(locale, veeam.outcome.unreachable, detail = detail).to_string()
        }
        VeeamError::Certificate(_) => {
            td_string!(locale, veeam.outcome.certificate, detail = detail).to_string()
        }
        VeeamError::Timeout => td_string!(locale, veeam.outcome.timeout).to_string(),
        VeeamError::Credentials(_) => td_string!(locale, veeam.outcome.credentials).to_string(),
        VeeamError::UnsupportedVersion { version, .. } => {
            td_string!(locale, veeam.outcome.unsupported_version, version = version.clone()).to_string()
        }
        VeeamError::CircuitOpen { .. } => {
            td_string!(locale, veeam.outcome.circuit_open, detail = detail).to_string()
        }
        VeeamError::Api { .. } | VeeamError::Decode(_) => {
            td_string!(locale, veeam.outcome.api, detail = detail).to_string()
        }
        VeeamError::Refused(_) => td_string!(locale, veeam.outcome.address, detail = detail).to_string(),
    }
}

/// Every server (administrators).
pub async fn list(state: &AppState, info: &RequestInfo) -> Result<Vec<VeeamServer>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let counts: HashMap<i64, i64> = jobs::counts_per_server(&state.db).await?.into_iter().collect();
    let rows = db::list_servers(&state.db).await?;
    Ok(rows.iter().map(|r| to_model(r, counts.get(&r.id).copied().unwrap_or(0))).collect())
}

/// One server (administrators); also how a sync's progress is read.
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<VeeamServer, AppError> {
    info.require(Role::Admin, Access::Read)?;
    server_model(state, id).await
}

async fn server_model(state: &AppState, id: i64) -> Result<VeeamServer, AppError> {
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let counts: HashMap<i64, i64> = jobs::counts_per_server(&state.db).await?.into_iter().collect();
    Ok(to_model(&row, counts.get(&id).copied().unwrap_or(0)))
}

fn write_error(locale: Locale, e: WriteServerError) -> AppError {
    match e {
        WriteServerError::NameTaken => {
            AppError::validation("name", td_string!(locale, veeam.errors.name_taken))
        }
        WriteServerError::Db(e) => e.into(),
    }
}

/// Adds a server (administrators). Its first sync starts at once.
pub async fn create(
    state: &AppState,
    info: &RequestInfo,
    input: VeeamServerInput,
) -> Result<VeeamServer, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let c = form::check(info.locale, input, true, Policy::from_settings(&state.settings))?;
    let encrypted = state.cipher.encrypt(c.password.as_deref().unwrap_or_default());
    let fields = c.fields(&encrypted);
    let id = db::insert_server(&state.db, &fields).await.map_err(|e| write_error(info.locale, e))?;
    let event = Event::ok("veeam_server.create", Target::new("veeam_server", id, c.name.clone()))
        .details(format!("{} as {}, tls {}", c.base_url, c.username, c.tls_mode.as_str()));
    audit::record(state, info, Some(principal), event).await;
    server_model(state, id).await
}

/// Changes a server (administrators). An empty password keeps the stored
/// one, unless the address goes elsewhere (another scheme, host or port):
/// then the password must be entered again, so an edit cannot send the
/// stored password to a new host.
pub async fn update(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    patch: VeeamServerPatch,
) -> Result<VeeamServer, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let tls_mode = patch.tls_mode.unwrap_or(row.tls_mode);
    let input = VeeamServerInput {
        name: patch.name.unwrap_or(row.name.clone()),
        base_url: patch.base_url.unwrap_or(row.base_url.clone()),
        username: patch.username.unwrap_or(row.username.clone()),
        password: patch.password,
        api_version: match patch.api_version {
            Some(v) => Some(v),
            None => row.api_version.clone(),
        },
        tls_mode,
        ca_pem: patch.ca_pem.or(row.ca_pem.clone()),
        sync_interval_seconds: Some(patch.sync_interval_seconds.unwrap_or(row.sync_interval_seconds)),
        enabled: Some(patch.enabled.unwrap_or(row.enabled)),
    };
    let c = form::check(info.locale, input, false, Policy::from_settings(&state.settings))?;
    // A stored password goes only where, and as safely as, it was entered
    // for: a new address, certificate checks turned off, or another trusted
    // certificate (which could be an interceptor's) need it again.
    let trust_changed = c.tls_mode != row.tls_mode && c.tls_mode != TlsMode::Verify
        || c.tls_mode == TlsMode::CustomCa && c.ca_pem != row.ca_pem;
    if c.password.is_none() && (!form::same_destination(&row.base_url, &c.base_url) || trust_changed) {
        return Err(AppError::validation("password", td_string!(info.locale, veeam.errors.password_again)));
    }
    let encrypted = match &c.password {
        Some(password) => state.cipher.encrypt(password),
        None => row.password_encrypted.clone(),
    };
    let fields = c.fields(&encrypted);
    if !db::update_server(&state.db, id, &fields).await.map_err(|e| write_error(info.locale, e))? {
        return Err(AppError::NotFound);
    }
    hub::forget(state, id);
    let mut details = format!("{} as {}, tls {}", c.base_url, c.username, c.tls_mode.as_str());
    if c.password.is_some() {
        details.push_str(", password changed");
    }
    let event =
        Event::ok("veeam_server.update", Target::new("veeam_server", id, c.name.clone())).details(details);
    audit::record(state, info, Some(principal), event).await;
    server_model(state, id).await
}

/// Removes a server (administrators); its jobs and their history stay, marked removed.
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    // Its jobs stay, with their history, marked removed.
    jobs::detach_server(&state.db, id).await?;
    db::delete_server(&state.db, id).await?;
    hub::forget(state, id);
    audit::record(
        state,
        info,
        Some(principal),
        Event::ok("veeam_server.delete", Target::new("veeam_server", id, row.name)),
    )
    .await;
    Ok(())
}

/// Signs in to the server and reads its info, with a fresh client (so an
/// open circuit does not hide a fixed problem), reporting in plain words.
pub async fn test(state: &AppState, info: &RequestInfo, id: i64) -> Result<ConnectionTest, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let locale = info.locale;
    let options = client::Options { attempts: 1, ..hub::options(state) };
    let outcome: Result<(String, String), SyncError> = async {
        let version = match &row.api_version {
            Some(version) => version.clone(),
            None => detect_revision(&target_of(state, &row, "")?, &options).await?,
        };
        let client = Client::new(target_of(state, &row, &version)?, options)?;
        let server = client.check().await?;
        Ok((version, server.build_version))
    }
    .await;
    let result = match outcome {
        Ok((version, build)) => {
            if row.api_version.is_none() {
                db::set_detected_version(&state.db, id, &version).await?;
                hub::forget(state, id);
            }
            ConnectionTest {
                ok: true,
                code: None,
                message: td_string!(
                    locale,
                    veeam.outcome.ok,
                    build = build.clone(),
                    version = version.clone()
                )
                .to_string(),
                api_version: Some(version),
                build_version: Some(build),
            }
        }
        Err(SyncError::Veeam(e)) => ConnectionTest {
            ok: false,
            code: Some(e.code().to_owned()),
            message: explain(locale, &e),
            api_version: None,
            build_version: None,
        },
        Err(SyncError::Secret(_)) => ConnectionTest {
            ok: false,
            code: Some("secret".into()),
            message: td_string!(locale, veeam.outcome.secret).to_string(),
            api_version: None,
            build_version: None,
        },
        Err(other) => return Err(AppError::internal(other)),
    };
    let event = Event::ok("veeam_server.test", Target::new("veeam_server", id, row.name))
        .details(result.code.clone().unwrap_or_else(|| "ok".into()));
    audit::record(state, info, Some(principal), event).await;
    Ok(result)
}

/// Starts a sync in the background (administrators); answers at once.
pub async fn sync_now(state: &AppState, info: &RequestInfo, id: i64) -> Result<VeeamServer, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if row.sync_phase.is_some() && row.sync_started_at.is_some_and(|t| t > Utc::now() - Duration::hours(1)) {
        return Err(AppError::Conflict { message: td_string!(info.locale, veeam.errors.busy).to_string() });
    }
    // The sync runs under the supervisor; the answer waits a moment so it
    // already shows the sync as running.
    let task_state = state.clone();
    state.tasks.spawn(format!("veeam-sync-now:{id}"), 1, move || {
        let state = task_state.clone();
        async move {
            match sync_server(&state, id).await {
                Ok(_) | Err(SyncError::Busy) => {}
                Err(e) => tracing::info!(server_id = id, error = %e, "manual Veeam sync failed"),
            }
            Ok(())
        }
    });
    audit::record(
        state,
        info,
        Some(principal),
        Event::ok("veeam_server.sync", Target::new("veeam_server", id, row.name)),
    )
    .await;
    // Give the task a moment to mark the server as syncing.
    for _ in 0..20 {
        let model = server_model(state, id).await?;
        if model.sync_progress.is_some() || model.last_sync_at != row.last_sync_at {
            return Ok(model);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    server_model(state, id).await
}

/// The actions on a Veeam job.
pub const ACTIONS: &[&str] = &["start", "stop", "retry", "enable", "disable"];

/// Runs `action` on a Veeam job (operators and administrators), audit-logged.
pub async fn job_action(
    state: &AppState,
    info: &RequestInfo,
    job_id: i64,
    action: &str,
) -> Result<ActionOutcome, AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    let locale = info.locale;
    if !ACTIONS.contains(&action) {
        return Err(AppError::NotFound);
    }
    jobs::check_covers(state, principal, job_id).await?;
    let job = jobs::find(state, job_id).await?.ok_or(AppError::NotFound)?;
    let (Some(server_id), Some(veeam_id)) = (job.veeam_server_id, job.veeam_job_id.clone()) else {
        return Err(AppError::Conflict { message: td_string!(locale, veeam.errors.not_veeam).to_string() });
    };
    if job.removed_at.is_some() {
        return Err(AppError::Conflict { message: td_string!(locale, veeam.errors.removed).to_string() });
    }
    let row = db::find_server(&state.db, server_id).await?.ok_or(AppError::NotFound)?;
    let client = match client_for(state, &row).await {
        Ok(client) => client,
        Err(SyncError::Veeam(e)) => return Err(AppError::Upstream { message: explain(locale, &e) }),
        Err(e) => return Err(AppError::internal(e)),
    };
    if action == "retry" && !has_retry(client.api_version()) {
        return Err(AppError::Conflict {
            message: td_string!(locale, veeam.errors.no_retry, version = client.api_version().to_owned())
                .to_string(),
        });
    }
    let answer = match action {
        "start" => client.start_job(&veeam_id).await.map(Some),
        "stop" => client.stop_job(&veeam_id).await.map(Some),
        "retry" => client.retry_job(&veeam_id).await.map(Some),
        "enable" => client.set_job_enabled(&veeam_id, true).await.map(|()| None),
        _ => client.set_job_enabled(&veeam_id, false).await.map(|()| None),
    };
    let target = Target::new("job", job_id, job.name.clone());
    let session = match answer {
        Ok(session) => session,
        Err(e) => {
            let message = match &e {
                VeeamError::Api { message, .. } => {
                    td_string!(locale, veeam.outcome.refused, detail = message.clone()).to_string()
                }
                other => explain(locale, other),
            };
            let event = Event::ok("job.veeam_action", target).details(format!("{action} failed: {e}"));
            audit::record(state, info, Some(principal), event).await;
            return Err(AppError::Upstream { message });
        }
    };
    // The answer carries the session: record it now rather than on the next poll.
    let mut run_id = None;
    if let Some(session) = &session {
        match jobs::record(state, job_id, incoming_of(session)).await {
            Ok(recorded) => run_id = Some(recorded.run_id),
            Err(e) => tracing::warn!(job_id, error = %e, "the started session was not recorded"),
        }
    }
    if matches!(action, "enable" | "disable") {
        let status = if action == "enable" { "inactive" } else { "disabled" };
        jobs::set_veeam_status(&state.db, job_id, status).await?;
    }
    let message = match action {
        "start" => td_string!(locale, veeam.actions.started).to_string(),
        "stop" => td_string!(locale, veeam.actions.stopped).to_string(),
        "retry" => td_string!(locale, veeam.actions.retried).to_string(),
        "enable" => td_string!(locale, veeam.actions.enabled).to_string(),
        _ => td_string!(locale, veeam.actions.disabled).to_string(),
    };
    if let Some(session) = session.as_ref().filter(|s| !s.finished()) {
        sync::follow(state, server_id, job_id, session.id.clone());
    }
    let session_id = session.map(|s| s.id);
    let event = Event::ok("job.veeam_action", target).details(format!(
        "{action}{}",
        session_id.as_ref().map(|s| format!(", session {s}")).unwrap_or_default()
    ));
    audit::record(state, info, Some(principal), event).await;
    Ok(ActionOutcome { action: action.to_owned(), message, session_id, run_id })
}

/// Every repository with its space and the last 30 days (everyone signed in).
pub async fn repositories(state: &AppState, info: &RequestInfo) -> Result<Vec<Repository>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let tz = state.settings.timezone;
    let since = jobs::ingest::day_of(Utc::now() - Duration::days(29), tz);
    let mut samples: HashMap<i64, Vec<SpaceSample>> = HashMap::new();
    for (id, day, capacity_gb, free_gb) in db::samples_since(&state.db, &since).await? {
        samples.entry(id).or_default().push(SpaceSample { day, free_gb, capacity_gb });
    }
    Ok(db::list_repositories(&state.db)
        .await?
        .into_iter()
        .map(|r| {
            let free_percent = if r.capacity_gb > 0.0 { r.free_gb / r.capacity_gb * 100.0 } else { 0.0 };
            Repository {
                id: r.id,
                server_id: r.veeam_server_id,
                server_name: r.server_name,
                name: r.name,
                kind: r.kind,
                host_name: r.host_name,
                path: r.path,
                capacity_gb: r.capacity_gb,
                free_gb: r.free_gb,
                used_gb: r.used_gb,
                free_percent,
                warning_free_percent: r.warning_free_percent,
                low_space: free_percent < r.warning_free_percent as f64,
                online: r.online,
                updated_at: r.updated_at,
                history: samples.remove(&r.id).unwrap_or_default(),
            }
        })
        .collect())
}

/// Sets the free-space percentage below which a repository is flagged
/// (operators; 1–90).
pub async fn set_repository_threshold(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    percent: i64,
) -> Result<Repository, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    if !(1..=90).contains(&percent) {
        return Err(AppError::validation(
            "warning_free_percent",
            td_string!(info.locale, veeam.errors.threshold),
        ));
    }
    let name = db::repository_name(&state.db, id).await?.ok_or(AppError::NotFound)?;
    db::set_threshold(&state.db, id, percent).await?;
    let event = Event::ok("repository.threshold", Target::new("repository", id, name))
        .details(format!("{percent} % free"));
    audit::record(state, info, Some(principal), event).await;
    repositories(state, info).await?.into_iter().find(|r| r.id == id).ok_or(AppError::NotFound)
}

/// For a Veeam job with a live server: its Veeam status and whether retry
/// is available (the job page's Veeam actions). `None` for other jobs.
pub async fn job_info(state: &AppState, job_id: i64) -> Result<Option<VeeamJobInfo>, AppError> {
    let Some(job) = jobs::find(state, job_id).await? else { return Ok(None) };
    let Some(server_id) = job.veeam_server_id.filter(|_| job.removed_at.is_none()) else { return Ok(None) };
    let Some(row) = db::find_server(&state.db, server_id).await? else { return Ok(None) };
    let version = row.api_version.or(row.detected_api_version).unwrap_or_default();
    let status = jobs::veeam_status(&state.db, job_id).await?.unwrap_or_default();
    let machines = machines_of(state, job_id, job.rpo_hours).await?;
    Ok(Some(VeeamJobInfo { status, retry: has_retry(&version), machines }))
}

async fn machines_of(
    state: &AppState,
    job_id: i64,
    rpo_hours: Option<i64>,
) -> Result<Vec<ProtectedMachine>, sqlx::Error> {
    let limit = rpo_hours.map(|h| Utc::now() - Duration::hours(h));
    Ok(db::machines_of_job(&state.db, job_id)
        .await?
        .into_iter()
        .map(|m| ProtectedMachine {
            outside_rpo: limit.is_some_and(|l| m.newest_point_at < l),
            name: m.name,
            newest_point_at: m.newest_point_at,
            malware_status: m.malware_status,
        })
        .collect())
}

/// A job's protected machines with the age of their newest restore point,
/// worst first (viewers and up).
pub async fn machines(
    state: &AppState,
    info: &RequestInfo,
    job_id: i64,
) -> Result<Vec<ProtectedMachine>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let job = jobs::find(state, job_id).await?.ok_or(AppError::NotFound)?;
    Ok(machines_of(state, job_id, job.rpo_hours).await?)
}

/// Reads a server's settings from the settings page's form.
pub fn read_form(locale: Locale, form: VeeamServerForm) -> Result<VeeamServerInput, AppError> {
    form::input(locale, form)
}

/// Reads the edit form as a patch (every field set; an empty password
/// keeps the stored one).
pub fn read_patch_form(locale: Locale, form: VeeamServerForm) -> Result<VeeamServerPatch, AppError> {
    form::patch(locale, form)
}

/// Records a finished Veeam session from the post-job webhook (ingest or
/// write access). An unknown Veeam job is created (the same way the sync
/// creates one); the same session delivered twice is stored once.
pub async fn job_complete(
    state: &AppState,
    info: &RequestInfo,
    body: VeeamJobComplete,
) -> Result<ReportOutcome, AppError> {
    let principal = info.require(Role::Operator, Access::Ingest)?;
    let locale = info.locale;
    // Names and ids arrive from a script: bounded and printable, like the job API's.
    let text = |field: &str, value: &Option<String>, max: usize| -> Result<Option<String>, AppError> {
        match value.as_deref() {
            Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => {
                Err(AppError::validation(field, td_string!(locale, jobs.errors.webhook_text, max = max)))
            }
            other => Ok(other.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)),
        }
    };
    let veeam_id = text("veeam_job_id", &body.veeam_job_id, 100)?.map(|v| v.to_lowercase());
    let name = text("job_name", &body.job_name, 200)?;
    let session_id = text("session_id", &body.session_id, 100)?.map(|v| v.to_lowercase());
    if veeam_id.is_none() && name.is_none() {
        return Err(AppError::validation("veeam_job_id", td_string!(locale, jobs.errors.veeam_job)));
    }
    let result = match body.result.trim().to_ascii_lowercase().as_str() {
        "success" => RunResult::Success,
        "warning" => RunResult::Warning,
        "failed" | "failure" => RunResult::Failed,
        _ => return Err(AppError::validation("result", td_string!(locale, jobs.errors.result))),
    };
    let time = |field: &str, value: &Option<String>| -> Result<Option<DateTime<Utc>>, AppError> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => parse_rfc3339(v)
                .map(Some)
                .ok_or_else(|| AppError::validation(field, td_string!(locale, jobs.errors.time))),
        }
    };
    let started_at = time("start_time", &body.start_time)?;
    let ended_at = time("end_time", &body.end_time)?;
    let latest = Utc::now() + Duration::minutes(jobs::MAX_CLOCK_AHEAD_MINUTES);
    for (field, at) in [("start_time", started_at), ("end_time", ended_at)] {
        if at.is_some_and(|at| at > latest) {
            return Err(jobs::future_time(locale, field));
        }
    }
    if body.bytes_processed.is_some_and(|b| b < 0) {
        return Err(AppError::validation("bytes_processed", td_string!(locale, jobs.errors.bytes)));
    }
    let job_id = match jobs::find_veeam(state, veeam_id.as_deref(), name.as_deref()).await? {
        Some(job) if job.source == JobSource::Veeam => {
            jobs::check_covers(state, principal, job.id).await?;
            job.id
        }
        _ => {
            jobs::check_may_create(principal)?;
            let base =
                name.clone().unwrap_or_else(|| format!("Veeam {}", veeam_id.clone().unwrap_or_default()));
            let linked = LinkedJob {
                name: &base,
                description: "",
                source: JobSource::Veeam,
                server: None,
                external_id: veeam_id.as_deref(),
            };
            let (id, created) = jobs::create_linked(&state.db, &linked).await.map_err(|e| match e {
                jobs::WriteJobError::Db(e) => AppError::from(e),
                jobs::WriteJobError::NameTaken => {
                    AppError::Conflict { message: td_string!(locale, jobs.errors.name_taken).to_string() }
                }
            })?;
            if created {
                let job_name = jobs::find(state, id).await?.map(|j| j.name).unwrap_or(base);
                let event = Event::ok("job.create", Target::new("job", id, job_name))
                    .details("created by the Veeam job-complete webhook");
                audit::record(state, info, Some(principal), event).await;
            }
            id
        }
    };
    let incoming = Incoming {
        result,
        started_at,
        ended_at,
        message: body.message,
        bytes_processed: body.bytes_processed,
        exit_code: None,
        external_id: session_id,
        log: None,
        origin: "veeam_webhook",
    };
    let recorded = jobs::record(state, job_id, incoming).await.map_err(|e| jobs::ingest_error(locale, e))?;
    Ok(jobs::outcome(&recorded))
}

/// Server and repository events after id `after`, oldest first (for notifications).
pub async fn events_after(
    state: &AppState,
    after: i64,
    limit: i64,
) -> Result<Vec<SystemEventRow>, sqlx::Error> {
    db::events_after(&state.db, after, limit).await
}

/// Records a server event, possibly about one job (`rpo_breached`,
/// `job_acknowledged`, …); the notifier tells it by the rules.
pub async fn record_event(state: &AppState, event: &db::NewSystemEvent<'_>) -> Result<(), sqlx::Error> {
    db::record_event(&state.db, event).await
}

/// The `veeam_unreachable` event in force for a server at `at`, if it was down then.
pub async fn outage_at(
    state: &AppState,
    server_id: i64,
    at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    db::outage_at(&state.db, server_id, at).await
}

/// The `veeam_unreachable` event a `veeam_recovered` event ends.
pub async fn outage_before(
    state: &AppState,
    server_id: i64,
    recovered: i64,
) -> Result<Option<i64>, sqlx::Error> {
    db::outage_before(&state.db, server_id, recovered).await
}

/// Every server with its sync state (for the scheduler's look for servers due a sync).
pub async fn servers_for_sync(state: &AppState) -> Result<Vec<ServerRow>, sqlx::Error> {
    db::list_servers(&state.db).await
}

/// Adds the demo's simulator as a server, or points the one of that name at
/// it again (`backup-mgmt demo`): no user, so no role check or audit entry.
pub async fn attach_demo_server(
    state: &AppState,
    name: &str,
    base_url: &str,
    username: &str,
    password: &str,
    ca_pem: Option<&str>,
) -> Result<i64, AppError> {
    let encrypted = state.cipher.encrypt(password);
    let fields = db::ServerFields {
        name,
        base_url,
        username,
        password_encrypted: &encrypted,
        api_version: None,
        tls_mode: TlsMode::CustomCa.as_str(),
        ca_pem,
        sync_interval_seconds: 60,
        enabled: true,
    };
    match db::list_servers(&state.db).await?.into_iter().find(|s| s.name == name) {
        Some(server) => {
            db::update_server(&state.db, server.id, &fields).await.map_err(|e| write_error(Locale::en, e))?;
            hub::forget(state, server.id);
            Ok(server.id)
        }
        None => Ok(db::insert_server(&state.db, &fields).await.map_err(|e| write_error(Locale::en, e))?),
    }
}

/// Deletes old Veeam history (data retention): system events recorded
/// before `before` the notifier has read (up to id `read_up_to`), except
/// each server's newest, and repository samples before `first_day_kept`.
pub async fn prune_history(
    db: &crate::ssr::infra::db::Db,
    before: DateTime<Utc>,
    read_up_to: i64,
    first_day_kept: &str,
) -> Result<u64, sqlx::Error> {
    store::prune(db, before, read_up_to, first_day_kept).await
}
