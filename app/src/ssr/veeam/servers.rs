//! Veeam servers (administrators), repositories (everyone signed in) and
//! actions on Veeam jobs (operators): the role checks, validation and
//! audit entries shared by the JSON API and the server functions.

use std::collections::HashMap;

use chrono::{Duration, Utc};

use super::{
    client::{Client, Options, SUPPORTED_REVISIONS, VeeamError, detect_revision, has_retry},
    sync::{self, SyncError, client_for, incoming_of, sync_server, target_of},
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        user::Role,
        veeam::{
            ActionOutcome, ConnectionTest, Repository, ServerStatus, SpaceSample, SyncProgress, TlsMode,
            VeeamServer, VeeamServerInput, VeeamServerPatch,
        },
    },
    ssr::{
        audit_trail::{self, Event, Target},
        auth::{Access, RequestInfo},
        db::{
            jobs as jobs_db,
            veeam::{self as db, ServerFields, ServerRow, WriteServerError},
        },
        ingest,
        jobs::publish,
        state::AppState,
    },
};

/// Veeam's REST port.
pub const DEFAULT_PORT: u16 = 9419;

fn invalid(field: &str, message: impl ToString) -> AppError {
    AppError::validation(field, message.to_string())
}

fn to_model(row: &ServerRow, jobs: i64) -> VeeamServer {
    VeeamServer {
        id: row.id,
        name: row.name.clone(),
        base_url: row.base_url.clone(),
        username: row.username.clone(),
        api_version: row.api_version.clone().or_else(|| row.detected_api_version.clone()),
        api_version_pinned: row.api_version.is_some(),
        tls_mode: TlsMode::parse(&row.tls_mode).unwrap_or_default(),
        ca_pem: row.ca_pem.clone(),
        sync_interval_seconds: row.sync_interval_seconds,
        enabled: row.enabled,
        status: ServerStatus::parse(&row.status).unwrap_or_default(),
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
    }
}

/// Every server (administrators).
pub async fn list(state: &AppState, info: &RequestInfo) -> Result<Vec<VeeamServer>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let counts: HashMap<i64, i64> = db::job_counts(&state.db).await?.into_iter().collect();
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
    let counts: HashMap<i64, i64> = db::job_counts(&state.db).await?.into_iter().collect();
    Ok(to_model(&row, counts.get(&id).copied().unwrap_or(0)))
}

/// Normalises an address: `https://` when no scheme is given, port 9419 when none.
pub fn normalise_url(input: &str) -> Option<String> {
    let text = input.trim();
    if text.is_empty() {
        return None;
    }
    let with_scheme = if text.contains("://") { text.to_owned() } else { format!("https://{text}") };
    let mut url = url::Url::parse(&with_scheme).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    if url::Url::parse(&with_scheme).ok()?.port().is_none() && !has_explicit_port(&with_scheme) {
        url.set_port(Some(DEFAULT_PORT)).ok()?;
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url.to_string())
}

fn has_explicit_port(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
        && !authority.ends_with(']')
}

struct Checked {
    name: String,
    base_url: String,
    username: String,
    password: Option<String>,
    api_version: Option<String>,
    tls_mode: TlsMode,
    ca_pem: Option<String>,
    sync_interval_seconds: i64,
    enabled: bool,
}

fn check(locale: Locale, input: VeeamServerInput, creating: bool) -> Result<Checked, AppError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", td_string!(locale, veeam.errors.name)));
    }
    let base_url = normalise_url(&input.base_url)
        .ok_or_else(|| invalid("base_url", td_string!(locale, veeam.errors.base_url)))?;
    let username = input.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > 200 {
        return Err(invalid("username", td_string!(locale, veeam.errors.username)));
    }
    let password = input.password.filter(|p| !p.is_empty());
    if creating && password.is_none() {
        return Err(invalid("password", td_string!(locale, veeam.errors.password)));
    }
    if password.as_ref().is_some_and(|p| p.len() > 1000) {
        return Err(invalid("password", td_string!(locale, veeam.errors.password)));
    }
    let api_version =
        input.api_version.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty() && v != "auto");
    if let Some(version) = &api_version {
        if !SUPPORTED_REVISIONS.contains(&version.as_str()) {
            let supported = SUPPORTED_REVISIONS.join(", ");
            return Err(invalid(
                "api_version",
                td_string!(locale, veeam.errors.api_version, supported = supported),
            ));
        }
    }
    let ca_pem = input.ca_pem.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
    if input.tls_mode == TlsMode::CustomCa {
        let readable = ca_pem
            .as_deref()
            .and_then(|pem| reqwest::Certificate::from_pem_bundle(pem.as_bytes()).ok())
            .is_some_and(|certs| !certs.is_empty());
        if !readable {
            return Err(invalid("ca_pem", td_string!(locale, veeam.errors.ca_pem)));
        }
    }
    let sync_interval_seconds = input.sync_interval_seconds.unwrap_or(300);
    if !(60..=86_400).contains(&sync_interval_seconds) {
        return Err(invalid("sync_interval_seconds", td_string!(locale, veeam.errors.interval)));
    }
    Ok(Checked {
        name,
        base_url,
        username,
        password,
        api_version,
        tls_mode: input.tls_mode,
        ca_pem: if input.tls_mode == TlsMode::CustomCa { ca_pem } else { None },
        sync_interval_seconds,
        enabled: input.enabled.unwrap_or(true),
    })
}

fn write_error(locale: Locale, e: WriteServerError) -> AppError {
    match e {
        WriteServerError::NameTaken => invalid("name", td_string!(locale, veeam.errors.name_taken)),
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
    let c = check(info.locale, input, true)?;
    let encrypted = state.cipher.encrypt(c.password.as_deref().unwrap_or_default());
    let fields = ServerFields {
        name: &c.name,
        base_url: &c.base_url,
        username: &c.username,
        password_encrypted: &encrypted,
        api_version: c.api_version.as_deref(),
        tls_mode: c.tls_mode.as_str(),
        ca_pem: c.ca_pem.as_deref(),
        sync_interval_seconds: c.sync_interval_seconds,
        enabled: c.enabled,
    };
    let id = db::insert_server(&state.db, &fields).await.map_err(|e| write_error(info.locale, e))?;
    let event = Event::ok("veeam_server.create", Target::new("veeam_server", id, c.name.clone()))
        .details(format!("{} as {}, tls {}", c.base_url, c.username, c.tls_mode.as_str()));
    audit_trail::record(state, info, Some(principal), event).await;
    server_model(state, id).await
}

/// Changes a server (administrators). An empty password keeps the stored one.
pub async fn update(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    patch: VeeamServerPatch,
) -> Result<VeeamServer, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let tls_mode = patch.tls_mode.unwrap_or(TlsMode::parse(&row.tls_mode).unwrap_or_default());
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
    let c = check(info.locale, input, false)?;
    let encrypted = match &c.password {
        Some(password) => state.cipher.encrypt(password),
        None => row.password_encrypted.clone(),
    };
    let fields = ServerFields {
        name: &c.name,
        base_url: &c.base_url,
        username: &c.username,
        password_encrypted: &encrypted,
        api_version: c.api_version.as_deref(),
        tls_mode: c.tls_mode.as_str(),
        ca_pem: c.ca_pem.as_deref(),
        sync_interval_seconds: c.sync_interval_seconds,
        enabled: c.enabled,
    };
    if !db::update_server(&state.db, id, &fields).await.map_err(|e| write_error(info.locale, e))? {
        return Err(AppError::NotFound);
    }
    sync::forget(state, id);
    let mut details = format!("{} as {}, tls {}", c.base_url, c.username, c.tls_mode.as_str());
    if c.password.is_some() {
        details.push_str(", password changed");
    }
    let event =
        Event::ok("veeam_server.update", Target::new("veeam_server", id, c.name.clone())).details(details);
    audit_trail::record(state, info, Some(principal), event).await;
    server_model(state, id).await
}

/// Removes a server (administrators); its jobs and their history stay, marked removed.
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    db::delete_server(&state.db, id).await?;
    sync::forget(state, id);
    audit_trail::record(
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
    let options =
        Options { attempts: 1, ..state.veeam.options.lock().unwrap_or_else(|e| e.into_inner()).clone() };
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
                sync::forget(state, id);
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
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(result)
}

/// Starts a sync in the background (administrators); answers at once.
pub async fn sync_now(state: &AppState, info: &RequestInfo, id: i64) -> Result<VeeamServer, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find_server(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if row.sync_phase.is_some() && row.sync_started_at.is_some_and(|t| t > Utc::now() - Duration::hours(1)) {
        return Err(AppError::Conflict { message: td_string!(info.locale, veeam.errors.busy).to_string() });
    }
    // Claim here so the answer already shows the sync as running.
    let task_state = state.clone();
    let (claimed_tx, claimed_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _ = claimed_tx.send(());
        match sync_server(&task_state, id).await {
            Ok(_) | Err(SyncError::Busy) => {}
            Err(e) => tracing::info!(server_id = id, error = %e, "manual Veeam sync failed"),
        }
    });
    let _ = claimed_rx.await;
    audit_trail::record(
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
    let principal = info.require(Role::Operator, Access::Write)?;
    let locale = info.locale;
    if !ACTIONS.contains(&action) {
        return Err(AppError::NotFound);
    }
    let job = jobs_db::find(&state.db, job_id).await?.ok_or(AppError::NotFound)?;
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
            audit_trail::record(state, info, Some(principal), event).await;
            return Err(AppError::Upstream { message });
        }
    };
    // The answer carries the session: record it now rather than on the next poll.
    let mut run_id = None;
    if let Some(session) = &session {
        let incoming = incoming_of(session);
        let result = incoming.result;
        match ingest::record(&state.db, state.settings.timezone, job_id, incoming).await {
            Ok(recorded) => {
                publish(state, &recorded, result);
                run_id = Some(recorded.run_id);
            }
            Err(e) => tracing::warn!(job_id, error = %e, "the started session was not recorded"),
        }
    }
    if matches!(action, "enable" | "disable") {
        let status = if action == "enable" { "inactive" } else { "disabled" };
        db::set_veeam_status(&state.db, job_id, status).await?;
    }
    let message = match action {
        "start" => td_string!(locale, veeam.actions.started).to_string(),
        "stop" => td_string!(locale, veeam.actions.stopped).to_string(),
        "retry" => td_string!(locale, veeam.actions.retried).to_string(),
        "enable" => td_string!(locale, veeam.actions.enabled).to_string(),
        _ => td_string!(locale, veeam.actions.disabled).to_string(),
    };
    if let Some(session) = session.as_ref().filter(|s| !s.finished()) {
        tokio::spawn(sync::follow_session(state.clone(), server_id, job_id, session.id.clone()));
    }
    let session_id = session.map(|s| s.id);
    let event = Event::ok("job.veeam_action", target).details(format!(
        "{action}{}",
        session_id.as_ref().map(|s| format!(", session {s}")).unwrap_or_default()
    ));
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(ActionOutcome { action: action.to_owned(), message, session_id, run_id })
}

/// Every repository with its space and the last 30 days (everyone signed in).
pub async fn repositories(state: &AppState, info: &RequestInfo) -> Result<Vec<Repository>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let tz = state.settings.timezone;
    let since = ingest::day_of(Utc::now() - Duration::days(29), tz);
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
        return Err(invalid("warning_free_percent", td_string!(info.locale, veeam.errors.threshold)));
    }
    let name = db::repository_name(&state.db, id).await?.ok_or(AppError::NotFound)?;
    db::set_threshold(&state.db, id, percent).await?;
    let event = Event::ok("repository.threshold", Target::new("repository", id, name))
        .details(format!("{percent} % free"));
    audit_trail::record(state, info, Some(principal), event).await;
    repositories(state, info).await?.into_iter().find(|r| r.id == id).ok_or(AppError::NotFound)
}

/// Whether a job is a Veeam job with a live server, its Veeam status, and
/// whether retry is available (for the job page).
pub async fn job_controls(state: &AppState, job_id: i64) -> Result<Option<(String, bool)>, AppError> {
    let Some(job) = jobs_db::find(&state.db, job_id).await? else { return Ok(None) };
    let Some(server_id) = job.veeam_server_id.filter(|_| job.removed_at.is_none()) else { return Ok(None) };
    let Some(row) = db::find_server(&state.db, server_id).await? else { return Ok(None) };
    let version = row.api_version.or(row.detected_api_version).unwrap_or_default();
    let status = db::veeam_status(&state.db, job_id).await?.unwrap_or_default();
    Ok(Some((status, has_retry(&version))))
}
