//! Jobs and runs: what the UI's server functions and the `/api/v1`
//! handlers both call. Roles are checked here; validation messages are
//! written in the caller's language and name the field.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;

use super::{
    audit_trail::{self, Event, Target},
    auth::{Access, RequestInfo},
    db::{
        jobs::{self as jobs_db, Definition, JobFilter, JobRow, WriteJobError},
        runs::{self as runs_db, RunFilter, RunRow},
        users,
    },
    events::LiveEvent,
    ingest::{self, Incoming, Recorded, StateChange},
    schedule::{Expected, ScheduleError},
    state::AppState,
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        Page,
        dashboard::{CalendarCell, CalendarRow, Dashboard, DayTotals, JobPage, JobSummary, StateCount},
        job::{
            Job, JobPatch, JobSource, JobState, NewJob, ReportOutcome, Run, RunDetail, RunReport, RunResult,
            VeeamJobComplete,
        },
        schedule::Schedule,
        user::Role,
    },
};

/// Default grace period.
pub const DEFAULT_GRACE_SECONDS: i64 = 3600;
/// The longest grace period and maximum duration.
pub const MAX_SECONDS: i64 = 7 * 24 * 3600;
/// Most tags per job.
pub const MAX_TAGS: usize = 20;

fn invalid(field: &str, message: impl ToString) -> AppError {
    AppError::validation(field, message.to_string())
}

fn ingest_error(locale: Locale, e: ingest::IngestError) -> AppError {
    match e {
        ingest::IngestError::NoJob => AppError::NotFound,
        ingest::IngestError::EndsBeforeStart => {
            invalid("ended_at", td_string!(locale, jobs.errors.times_order))
        }
        ingest::IngestError::Db(e) => e.into(),
    }
}

/// A new secret for ping URLs: 16 random bytes, base64url (22 characters).
pub fn new_ping_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Normalises tags: trimmed, lower-cased, sorted, without duplicates.
pub fn normalise_tags(tags: &[String], locale: Locale) -> Result<Vec<String>, AppError> {
    let mut out: Vec<String> =
        tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
    out.sort();
    out.dedup();
    let valid = |t: &String| {
        t.chars().count() <= 50
            && t.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
    };
    if out.len() > MAX_TAGS || !out.iter().all(valid) {
        return Err(invalid("tags", td_string!(locale, jobs.errors.tag)));
    }
    Ok(out)
}

fn schedule_error(locale: Locale, e: ScheduleError) -> AppError {
    AppError::validation(e.field(), e.message(locale))
}

/// A validated definition, owning its strings.
struct Validated {
    name: String,
    description: String,
    schedule: Schedule,
    expected: Expected,
    grace_seconds: i64,
    max_duration_seconds: Option<i64>,
    owner_id: Option<i64>,
    tags: Vec<String>,
}

impl Validated {
    fn definition(&self) -> Definition<'_> {
        Definition {
            name: &self.name,
            description: &self.description,
            schedule_kind: self.schedule.kind.as_str(),
            schedule_cron: self.schedule.cron.as_deref(),
            schedule_timezone: self.schedule.timezone.as_deref(),
            schedule_interval_seconds: self.schedule.interval_seconds,
            grace_seconds: self.grace_seconds,
            max_duration_seconds: self.max_duration_seconds,
            owner_id: self.owner_id,
        }
    }
}

async fn validate(state: &AppState, locale: Locale, input: NewJob) -> Result<Validated, AppError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(invalid("name", td_string!(locale, jobs.errors.name)));
    }
    let description = input.description.unwrap_or_default().trim().to_owned();
    if description.chars().count() > 2000 {
        return Err(invalid("description", td_string!(locale, jobs.errors.description)));
    }
    if input.source.is_some_and(|s| s != JobSource::Push) {
        return Err(invalid("source", td_string!(locale, jobs.errors.source)));
    }
    let tags = normalise_tags(&input.tags.unwrap_or_default(), locale)?;
    let expected = Expected::parse(&input.schedule.unwrap_or_default(), state.settings.timezone)
        .map_err(|e| schedule_error(locale, e))?;
    let grace_seconds = input.grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=MAX_SECONDS).contains(&grace_seconds) {
        return Err(invalid("grace_seconds", td_string!(locale, jobs.errors.grace)));
    }
    if input.max_duration_seconds.is_some_and(|m| !(60..=MAX_SECONDS).contains(&m)) {
        return Err(invalid("max_duration_seconds", td_string!(locale, jobs.errors.max_duration)));
    }
    if let Some(owner) = input.owner_id {
        if users::find_by_id(&state.db, owner).await?.is_none() {
            return Err(invalid("owner_id", td_string!(locale, jobs.errors.owner)));
        }
    }
    Ok(Validated {
        name,
        description,
        schedule: expected.to_schedule(),
        expected,
        grace_seconds,
        max_duration_seconds: input.max_duration_seconds,
        owner_id: input.owner_id,
        tags,
    })
}

fn write_error(locale: Locale, e: WriteJobError) -> AppError {
    match e {
        WriteJobError::NameTaken => invalid("name", td_string!(locale, jobs.errors.name_taken)),
        WriteJobError::Db(e) => e.into(),
    }
}

/// The wire form of a run row.
pub fn run_from_row(row: &RunRow) -> Run {
    Run {
        id: row.id,
        job_id: row.job_id,
        started_at: row.started_at,
        ended_at: row.ended_at,
        duration_seconds: row.ended_at.map(|end| (end - row.started_at).num_seconds().max(0)),
        result: RunResult::parse(&row.result).unwrap_or(RunResult::Failed),
        message: row.message.clone(),
        bytes_processed: row.bytes_processed,
        exit_code: row.exit_code,
        external_id: row.external_id.clone(),
    }
}

/// The ping URL of a job, for callers allowed to report runs.
fn ping_url(state: &AppState, info: &RequestInfo, token: &str) -> Option<String> {
    let can_see = info.principal.as_ref().is_some_and(|p| p.role >= Role::Operator);
    can_see.then(|| format!("{}/ping/{token}", state.settings.base_url.as_str().trim_end_matches('/')))
}

/// Wire jobs from rows, with their tags and last runs (two queries in all).
async fn jobs_from_rows(
    state: &AppState,
    info: &RequestInfo,
    rows: Vec<JobRow>,
) -> Result<Vec<Job>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = jobs_db::tags_of(&state.db, &ids).await?;
    let last_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_run_id).collect();
    let last_runs: HashMap<i64, Run> =
        runs_db::by_ids(&state.db, &last_ids).await?.iter().map(|r| (r.id, run_from_row(r))).collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let schedule = Schedule {
                kind: crate::model::schedule::ScheduleKind::parse(&row.schedule_kind).unwrap_or_default(),
                cron: row.schedule_cron.clone(),
                timezone: row.schedule_timezone.clone(),
                interval_seconds: row.schedule_interval_seconds,
            };
            Job {
                id: row.id,
                tags: tags.remove(&row.id).unwrap_or_default(),
                last_run: row.last_run_id.and_then(|id| last_runs.get(&id).cloned()),
                ping_url: ping_url(state, info, &row.ping_token),
                name: row.name,
                description: row.description,
                source: JobSource::parse(&row.source).unwrap_or_default(),
                schedule,
                grace_seconds: row.grace_seconds,
                max_duration_seconds: row.max_duration_seconds,
                state: JobState::parse(&row.state).unwrap_or(JobState::New),
                paused: row.paused,
                paused_until: row.paused_until,
                next_expected_at: row.next_expected_at,
                owner_id: row.owner_id,
                veeam_job_id: row.veeam_job_id,
                removed_at: row.removed_at,
                created_at: row.created_at,
                updated_at: row.updated_at,
            }
        })
        .collect())
}

async fn job_by_id(state: &AppState, info: &RequestInfo, id: i64) -> Result<Job, AppError> {
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(jobs_from_rows(state, info, vec![row]).await?.remove(0))
}

/// Publishes what a recorded report changed.
pub fn publish(state: &AppState, recorded: &Recorded, result: RunResult) {
    if recorded.created {
        state.events.publish(LiveEvent::Run { job_id: recorded.job_id, run_id: recorded.run_id, result });
    }
    if let Some(change) = &recorded.change {
        publish_change(state, change);
    }
}

/// Publishes a state change.
pub fn publish_change(state: &AppState, change: &StateChange) {
    state.events.publish(LiveEvent::Job { job_id: change.job_id, state: change.to });
}

/// One job (viewers and up).
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<Job, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    job_by_id(state, info, id).await
}

/// Parses a job-list cursor (the last name of the previous page, base64url).
fn decode_name_cursor(cursor: Option<&str>, locale: Locale) -> Result<Option<String>, AppError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else { return Ok(None) };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| invalid("cursor", td_string!(locale, errors.invalid_cursor)))
}

/// Jobs by name, filtered, a page at a time (viewers and up).
pub async fn list(
    state: &AppState,
    info: &RequestInfo,
    mut filter: JobFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Job>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    filter.after_name = decode_name_cursor(cursor, info.locale)?;
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let mut rows = jobs_db::list(&state.db, &filter, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&r.name))
    } else {
        None
    };
    Ok(Page { items: jobs_from_rows(state, info, rows).await?, next_cursor })
}

/// Creates a push job (operators and administrators).
pub async fn create(state: &AppState, info: &RequestInfo, input: NewJob) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    let valid = validate(state, info.locale, input).await?;
    let next = valid.expected.first_expected(ingest::now());
    let id = jobs_db::create(
        &state.db,
        &valid.definition(),
        JobSource::Push.as_str(),
        &new_ping_token(),
        None,
        None,
        &valid.tags,
        next,
    )
    .await
    .map_err(|e| write_error(info.locale, e))?;
    let event = Event::ok("job.create", Target::new("job", id, valid.name.clone()));
    audit_trail::record(state, info, Some(principal), event).await;
    job_by_id(state, info, id).await
}

/// Changes a job's definition (operators and administrators). A changed
/// schedule counts from now: no run is declared missed for the past.
pub async fn update(state: &AppState, info: &RequestInfo, id: i64, patch: JobPatch) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let current = jobs_from_rows(state, info, vec![row.clone()]).await?.remove(0);
    let schedule_changed = patch.schedule.as_ref().is_some_and(|s| *s != current.schedule);
    let merged = NewJob {
        name: patch.name.unwrap_or(current.name.clone()),
        description: Some(patch.description.unwrap_or(current.description.clone())),
        source: None,
        tags: Some(patch.tags.unwrap_or(current.tags.clone())),
        schedule: Some(patch.schedule.unwrap_or(current.schedule.clone())),
        grace_seconds: Some(patch.grace_seconds.unwrap_or(current.grace_seconds)),
        max_duration_seconds: patch.max_duration_seconds.unwrap_or(current.max_duration_seconds),
        owner_id: patch.owner_id.unwrap_or(current.owner_id),
    };
    let valid = validate(state, info.locale, merged).await?;
    let next = if schedule_changed || valid.grace_seconds != current.grace_seconds {
        valid.expected.first_expected(ingest::now())
    } else {
        row.next_expected_at
    };
    let next = if row.paused { row.next_expected_at } else { next };
    if !jobs_db::update_definition(&state.db, id, &valid.definition(), &valid.tags, next)
        .await
        .map_err(|e| write_error(info.locale, e))?
    {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("job.update", Target::new("job", id, valid.name.clone()));
    audit_trail::record(state, info, Some(principal), event).await;
    job_by_id(state, info, id).await
}

/// Deletes a job with its history (operators and administrators).
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if !jobs_db::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("job.delete", Target::new("job", id, row.name));
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(())
}

/// Pauses a job, optionally until a time (operators and administrators).
pub async fn pause(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    until: Option<DateTime<Utc>>,
) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    if until.is_some_and(|u| u <= Utc::now()) {
        return Err(invalid("until", td_string!(info.locale, jobs.errors.paused_until)));
    }
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let change = ingest::transition(
        &state.db,
        id,
        &[],
        JobState::Paused,
        Some((true, until)),
        Some(None),
        Some("paused"),
    )
    .await
    .map_err(|e| ingest_error(info.locale, e))?;
    if let Some(change) = &change {
        publish_change(state, change);
    }
    let details = until.map_or_else(|| "until resumed".to_owned(), |u| format!("until {}", u.to_rfc3339()));
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("job.pause", Target::new("job", id, row.name)).details(details),
    )
    .await;
    job_by_id(state, info, id).await
}

/// The state a job returns to when it stops being paused.
pub fn state_on_resume(row: &JobRow) -> JobState {
    if row.running_since.is_some() {
        return JobState::Running;
    }
    row.last_result.as_deref().and_then(RunResult::parse).map_or(JobState::New, ingest::state_after)
}

/// Resumes a paused job (operators and administrators); it is next expected
/// by its schedule counted from now.
pub async fn resume(state: &AppState, info: &RequestInfo, id: i64) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    resume_row(state, &row, "resumed", ingest::now()).await.map_err(|e| ingest_error(info.locale, e))?;
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("job.resume", Target::new("job", id, row.name)),
    )
    .await;
    job_by_id(state, info, id).await
}

/// Resumes a job at `now` (also used when a timed pause ends).
pub async fn resume_row(
    state: &AppState,
    row: &JobRow,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), ingest::IngestError> {
    let next = ingest::expected_of(row, state.settings.timezone).first_expected(now);
    let change = ingest::transition(
        &state.db,
        row.id,
        &[JobState::Paused],
        state_on_resume(row),
        Some((false, None)),
        Some(next),
        Some(details),
    )
    .await?;
    if let Some(change) = &change {
        publish_change(state, change);
    }
    Ok(())
}

/// Keyset cursor of run lists: the last (started_at, id) seen.
pub fn encode_run_cursor(row: &RunRow) -> String {
    let raw = format!("{}|{}", row.started_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), row.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_run_cursor(cursor: &str, locale: Locale) -> Result<(DateTime<Utc>, i64), AppError> {
    let bad = || invalid("cursor", td_string!(locale, errors.invalid_cursor));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = raw.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| bad())?.with_timezone(&Utc);
    Ok((at, id.parse().map_err(|_| bad())?))
}

/// Runs across jobs or of one job, newest first, a page at a time (viewers and up).
pub async fn list_runs(
    state: &AppState,
    info: &RequestInfo,
    mut filter: RunFilter,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<Run>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
        filter.before = Some(decode_run_cursor(cursor, info.locale)?);
    }
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let mut rows = runs_db::list(&state.db, &filter, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(encode_run_cursor)
    } else {
        None
    };
    Ok(Page { items: rows.iter().map(run_from_row).collect(), next_cursor })
}

/// Runs with their job names (for pages).
pub async fn list_runs_with_names(
    state: &AppState,
    info: &RequestInfo,
    mut filter: RunFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<(Vec<(Run, String)>, Option<String>), AppError> {
    info.require(Role::Viewer, Access::Read)?;
    if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
        filter.before = Some(decode_run_cursor(cursor, info.locale)?);
    }
    let mut rows = runs_db::list(&state.db, &filter, limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(encode_run_cursor)
    } else {
        None
    };
    Ok((rows.iter().map(|r| (run_from_row(r), r.job_name.clone())).collect(), next))
}

/// One run with its log (viewers and up).
pub async fn get_run(state: &AppState, info: &RequestInfo, id: i64) -> Result<RunDetail, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let (row, log_excerpt) = runs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(RunDetail { run: run_from_row(&row), job_name: row.job_name.clone(), log_excerpt, origin: row.origin })
}

fn outcome(recorded: &Recorded) -> ReportOutcome {
    ReportOutcome {
        created: recorded.created,
        job_id: recorded.job_id,
        run_id: recorded.run_id,
        state: recorded.state,
    }
}

/// Records a run reported through the API (ingest or write access).
pub async fn report(
    state: &AppState,
    info: &RequestInfo,
    job_id: i64,
    report: RunReport,
) -> Result<ReportOutcome, AppError> {
    info.require(Role::Operator, Access::Ingest)?;
    if report.result == RunResult::Missed {
        return Err(invalid("result", td_string!(info.locale, jobs.errors.result)));
    }
    if report.bytes_processed.is_some_and(|b| b < 0) {
        return Err(invalid("bytes_processed", td_string!(info.locale, jobs.errors.bytes)));
    }
    let incoming = Incoming {
        result: report.result,
        started_at: report.started_at,
        ended_at: report.ended_at,
        message: report.message,
        bytes_processed: report.bytes_processed,
        exit_code: report.exit_code,
        external_id: report.external_id.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()),
        log: report.log,
        origin: "api",
    };
    let recorded = ingest::record(&state.db, state.settings.timezone, job_id, incoming)
        .await
        .map_err(|e| ingest_error(info.locale, e))?;
    publish(state, &recorded, report.result);
    Ok(outcome(&recorded))
}

/// What a ping URL reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingKind {
    /// `/ping/{token}/start`.
    Start,
    /// `/ping/{token}`.
    Success,
    /// `/ping/{token}/fail`.
    Fail,
    /// `/ping/{token}/{exit_code}`: 0 is success.
    ExitCode(i64),
}

/// Records a ping. The token is the credential; an unknown one is 404.
pub async fn ping(
    state: &AppState,
    locale: Locale,
    token: &str,
    kind: PingKind,
    body: Option<String>,
    rid: Option<String>,
) -> Result<ReportOutcome, AppError> {
    let job = jobs_db::find_by_token(&state.db, token).await?.ok_or(AppError::NotFound)?;
    let (result, exit_code, message) = match kind {
        PingKind::Start => (RunResult::Running, None, None),
        PingKind::Success => (RunResult::Success, None, None),
        PingKind::Fail => (RunResult::Failed, None, None),
        PingKind::ExitCode(0) => (RunResult::Success, Some(0), None),
        PingKind::ExitCode(code) => (RunResult::Failed, Some(code), Some(format!("exit code {code}"))),
    };
    let log = body.filter(|b| !b.trim().is_empty());
    let message = message.or_else(|| {
        log.as_deref().and_then(|l| l.lines().rev().find(|line| !line.trim().is_empty())).map(str::to_owned)
    });
    let incoming = Incoming {
        result,
        started_at: None,
        ended_at: None,
        message,
        bytes_processed: None,
        exit_code,
        external_id: rid.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
        log,
        origin: "ping",
    };
    let recorded = ingest::record(&state.db, state.settings.timezone, job.id, incoming)
        .await
        .map_err(|e| ingest_error(locale, e))?;
    publish(state, &recorded, result);
    Ok(outcome(&recorded))
}

/// Parses a Veeam time: RFC 3339 with 0–9 fractional digits.
pub fn parse_veeam_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// Records a finished Veeam session from the post-job webhook (ingest or
/// write access). An unknown Veeam job is created; the same session
/// delivered twice is stored once.
pub async fn veeam_job_complete(
    state: &AppState,
    info: &RequestInfo,
    body: VeeamJobComplete,
) -> Result<ReportOutcome, AppError> {
    let principal = info.require(Role::Operator, Access::Ingest)?;
    let locale = info.locale;
    let veeam_id =
        body.veeam_job_id.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    let name = body.job_name.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if veeam_id.is_none() && name.is_none() {
        return Err(invalid("veeam_job_id", td_string!(locale, jobs.errors.veeam_job)));
    }
    let result = match body.result.trim().to_ascii_lowercase().as_str() {
        "success" => RunResult::Success,
        "warning" => RunResult::Warning,
        "failed" | "failure" => RunResult::Failed,
        _ => return Err(invalid("result", td_string!(locale, jobs.errors.result))),
    };
    let time = |field: &str, value: &Option<String>| -> Result<Option<DateTime<Utc>>, AppError> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => parse_veeam_time(v)
                .map(Some)
                .ok_or_else(|| invalid(field, td_string!(locale, jobs.errors.time))),
        }
    };
    let started_at = time("start_time", &body.start_time)?;
    let ended_at = time("end_time", &body.end_time)?;
    if body.bytes_processed.is_some_and(|b| b < 0) {
        return Err(invalid("bytes_processed", td_string!(locale, jobs.errors.bytes)));
    }
    let job = match jobs_db::find_veeam(&state.db, veeam_id.as_deref(), name.as_deref()).await? {
        Some(job) if job.source == "veeam" => job,
        found => {
            // A push job may already carry the name: keep the two apart.
            let base =
                name.clone().unwrap_or_else(|| format!("Veeam {}", veeam_id.clone().unwrap_or_default()));
            let job_name = if found.is_some() { format!("{base} (Veeam)") } else { base };
            let def = Definition {
                name: &job_name,
                description: "",
                schedule_kind: "none",
                schedule_cron: None,
                schedule_timezone: None,
                schedule_interval_seconds: None,
                grace_seconds: DEFAULT_GRACE_SECONDS,
                max_duration_seconds: None,
                owner_id: None,
            };
            let id = match jobs_db::create(
                &state.db,
                &def,
                JobSource::Veeam.as_str(),
                &new_ping_token(),
                None,
                veeam_id.as_deref(),
                &[],
                None,
            )
            .await
            {
                Ok(id) => id,
                // Created meanwhile by a concurrent delivery.
                Err(WriteJobError::NameTaken) => {
                    jobs_db::find_veeam(&state.db, veeam_id.as_deref(), Some(&job_name))
                        .await?
                        .map(|j| j.id)
                        .ok_or(AppError::Internal)?
                }
                Err(WriteJobError::Db(e)) => return Err(e.into()),
            };
            let event = Event::ok("job.create", Target::new("job", id, job_name.clone()))
                .details("created by the Veeam job-complete webhook");
            audit_trail::record(state, info, Some(principal), event).await;
            jobs_db::find(&state.db, id).await?.ok_or(AppError::Internal)?
        }
    };
    let incoming = Incoming {
        result,
        started_at,
        ended_at,
        message: body.message,
        bytes_processed: body.bytes_processed,
        exit_code: None,
        external_id: body.session_id.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
        log: None,
        origin: "veeam_webhook",
    };
    let recorded = ingest::record(&state.db, state.settings.timezone, job.id, incoming)
        .await
        .map_err(|e| ingest_error(locale, e))?;
    publish(state, &recorded, result);
    Ok(outcome(&recorded))
}

fn summary(row: &JobRow, tags: &HashMap<i64, Vec<String>>) -> JobSummary {
    JobSummary {
        id: row.id,
        name: row.name.clone(),
        state: JobState::parse(&row.state).unwrap_or(JobState::New),
        source: JobSource::parse(&row.source).unwrap_or_default(),
        tags: tags.get(&row.id).cloned().unwrap_or_default(),
        last_run_at: row.last_run_at,
        last_result: row.last_result.as_deref().and_then(RunResult::parse),
        next_expected_at: row.next_expected_at,
    }
}

/// The last `days` days (in `tz`), oldest first, as `YYYY-MM-DD`.
pub fn last_days(tz: chrono_tz::Tz, days: i64) -> Vec<String> {
    let today = Utc::now().with_timezone(&tz).date_naive();
    (0..days).rev().map(|n| (today - Duration::days(n)).format("%Y-%m-%d").to_string()).collect()
}

fn cell_of(row: Option<&runs_db::DailyRow>) -> CalendarCell {
    match row {
        None => CalendarCell::None,
        Some(d) if d.failed > 0 => CalendarCell::Failed,
        Some(d) if d.missed > 0 => CalendarCell::Missed,
        Some(d) if d.warning > 0 => CalendarCell::Warning,
        Some(d) if d.success > 0 => CalendarCell::Success,
        Some(_) => CalendarCell::None,
    }
}

/// Calendar rows for these jobs over `days`.
async fn calendar(state: &AppState, rows: &[JobRow], days: &[String]) -> Result<Vec<CalendarRow>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let first = days.first().cloned().unwrap_or_default();
    let daily = runs_db::daily_since(&state.db, &first, Some(&ids)).await?;
    let by_job_day: HashMap<(i64, &str), &runs_db::DailyRow> =
        daily.iter().map(|d| ((d.job_id, d.day.as_str()), d)).collect();
    Ok(rows
        .iter()
        .map(|row| CalendarRow {
            job_id: row.id,
            job_name: row.name.clone(),
            state: JobState::parse(&row.state).unwrap_or(JobState::New),
            cells: days.iter().map(|day| cell_of(by_job_day.get(&(row.id, day.as_str())).copied())).collect(),
        })
        .collect())
}

/// Everything the dashboard shows (viewers and up): counts per state,
/// problems, the latest runs, a 14-day calendar and daily totals. Reads
/// only the jobs table, the newest runs and the daily figures, so its cost
/// follows the number of jobs, not the years of history.
pub async fn dashboard(state: &AppState, info: &RequestInfo) -> Result<Dashboard, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let tz = state.settings.timezone;
    let counts = jobs_db::count_by_state(&state.db).await?;
    let total_jobs = counts.iter().map(|(_, n)| n).sum();
    let mut state_counts: BTreeMap<JobState, i64> = BTreeMap::new();
    for (s, n) in counts {
        if let Some(s) = JobState::parse(&s) {
            state_counts.insert(s, n);
        }
    }
    let problems = jobs_db::problems(&state.db, 20).await?;
    // The calendar shows the problem jobs, then others by name.
    let mut calendar_rows = problems.clone();
    if calendar_rows.len() < 30 {
        let others = jobs_db::list(&state.db, &JobFilter::default(), 30).await?;
        for row in others {
            if calendar_rows.len() >= 30 {
                break;
            }
            if !calendar_rows.iter().any(|r| r.id == row.id) {
                calendar_rows.push(row);
            }
        }
    }
    let ids: Vec<i64> = problems.iter().map(|r| r.id).collect();
    let tags = jobs_db::tags_of(&state.db, &ids).await?;
    let days = last_days(tz, 14);
    let calendar = calendar(state, &calendar_rows, &days).await?;
    let totals =
        runs_db::totals_per_day(&state.db, days.first().map(String::as_str).unwrap_or_default()).await?;
    let by_day: HashMap<&str, &runs_db::DailyRow> = totals.iter().map(|t| (t.day.as_str(), t)).collect();
    let daily = days
        .iter()
        .map(|day| {
            let t = by_day.get(day.as_str());
            DayTotals {
                day: day.clone(),
                success: t.map_or(0, |t| t.success),
                warning: t.map_or(0, |t| t.warning),
                failed: t.map_or(0, |t| t.failed),
                missed: t.map_or(0, |t| t.missed),
                average_duration_seconds: t
                    .and_then(|t| (t.duration_count > 0).then(|| t.duration_seconds_sum / t.duration_count)),
                bytes: t.map_or(0, |t| t.bytes_sum),
            }
        })
        .collect();
    let latest = runs_db::list(&state.db, &RunFilter::default(), 15).await?;
    Ok(Dashboard {
        counts: JobState::ALL
            .into_iter()
            .map(|s| StateCount { state: s, count: *state_counts.get(&s).unwrap_or(&0) })
            .collect(),
        total_jobs,
        problems: problems.iter().map(|r| summary(r, &tags)).collect(),
        latest_runs: latest.iter().map(|r| (run_from_row(r), r.job_name.clone())).collect(),
        days,
        calendar,
        daily,
        generated_at: Utc::now(),
    })
}

/// The job page (viewers and up): the job, its schedule in words, a 30-day
/// calendar and its recent runs for the charts.
pub async fn job_page(state: &AppState, info: &RequestInfo, id: i64) -> Result<JobPage, AppError> {
    let principal = info.require(Role::Viewer, Access::Read)?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let expected = ingest::expected_of(&row, state.settings.timezone);
    let owner_name = match row.owner_id {
        Some(owner) => users::find_by_id(&state.db, owner).await?.map(|u| u.username),
        None => None,
    };
    let days = last_days(state.settings.timezone, 30);
    let calendar =
        calendar(state, std::slice::from_ref(&row), &days).await?.pop().map(|r| r.cells).unwrap_or_default();
    let recent = runs_db::recent_of_job(&state.db, id, 30).await?;
    let job = jobs_from_rows(state, info, vec![row]).await?.remove(0);
    let veeam = crate::ssr::veeam::servers::job_controls(state, id)
        .await?
        .map(|(status, retry)| crate::model::dashboard::VeeamJobInfo { status, retry });
    Ok(JobPage {
        veeam,
        schedule_text: expected.describe(info.locale),
        owner_name,
        days,
        calendar,
        recent: recent.iter().map(run_from_row).collect(),
        can_operate: principal.role >= Role::Operator,
        job,
    })
}

/// Every tag in use (for filters).
pub async fn tags(state: &AppState, info: &RequestInfo) -> Result<Vec<(String, i64)>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    Ok(jobs_db::all_tags(&state.db).await?)
}
