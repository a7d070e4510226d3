//! Jobs and runs: the service the UI's server functions and the `/api/v1`
//! handlers both call. Roles are checked here; validation messages are
//! written in the caller's language and name the field.
//!
//! Inside: [`schedule`] (expected runs), [`ingest`] (what a report does,
//! decided without a database), `store` (the SQL of the jobs tables,
//! applying those decisions in transactions), [`monitor`] (late, missed
//! and overdue), `query` (the list filters), `dashboard`, `views` and
//! `live` (events for open dashboards), [`ack`] (acknowledging a job's
//! problem), and [`demo`] data.

pub mod ack;
pub mod anomaly;
pub mod calendar;
pub mod calendar_service;
pub mod dashboard;
pub mod demo;
pub mod ingest;
pub mod intake;
mod live;
pub mod monitor;
pub mod query;
pub mod reporting;
pub mod schedule;
pub mod store;
mod views;

use chrono::{DateTime, Utc};

pub use ack::{
    acknowledge, active_of as acknowledgements_of, clear_acknowledgement,
    withdraw as withdraw_acknowledgement,
};
pub use dashboard::{dashboard, job_page};
pub use ingest::{Incoming, MAX_CLOCK_AHEAD_MINUTES};
pub use live::{publish, publish_change};
pub use store::{
    batch::{self, JobRef, Report},
    events::{JobEventRow, RunFacts},
    jobs::WriteJobError,
    jobs::{JobRow, LastGoodRow, new_ping_token},
    links::{
        LinkedJob, VeeamSchedule, VeeamScheduleChange, apply_veeam_schedule, counts_per_server,
        create_linked, detach_server, jobs_of_server, mark_removed, names_of_server, running_sessions,
        set_rpo_state, set_veeam_status, update_synced_job, veeam_status,
    },
    writes::{IngestError, Recorded, StateChange},
};
use store::{
    events as events_db,
    jobs::{self as jobs_db, Definition},
    runs as runs_db, writes,
};
pub use views::run as run_view;

use self::{ingest::ReportError, schedule::Expected};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        Page,
        job::{
            Job, JobPatch, JobQuery, JobSource, JobState, NewJob, ReportOutcome, Run, RunDetail, RunQuery,
            RunReport, RunResult, ScheduleFrom,
        },
        schedule::Schedule,
        user::Role,
    },
    ssr::{
        accounts::{
            self, Access, Principal, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::state::AppState,
    },
};

/// Default grace period.
pub const DEFAULT_GRACE_SECONDS: i64 = store::links::DEFAULT_GRACE_SECONDS;
/// The longest grace period and maximum duration.
pub const MAX_SECONDS: i64 = 7 * 24 * 3600;
/// Most tags per job.
pub const MAX_TAGS: usize = 20;

/// The answer to a report that could not be recorded.
pub fn ingest_error(locale: Locale, e: IngestError) -> AppError {
    match e {
        IngestError::NoJob => AppError::NotFound,
        IngestError::Report(ReportError::EndsBeforeStart) => {
            AppError::validation("ended_at", td_string!(locale, jobs.errors.times_order))
        }
        IngestError::Report(ReportError::StartsInFuture) => future_time(locale, "started_at"),
        IngestError::Report(ReportError::EndsInFuture) => future_time(locale, "ended_at"),
        IngestError::Db(e) => e.into(),
    }
}

/// A reported time too far ahead of the server's clock, naming `field`.
pub fn future_time(locale: Locale, field: &str) -> AppError {
    let minutes = ingest::MAX_CLOCK_AHEAD_MINUTES;
    AppError::validation(field, td_string!(locale, jobs.errors.future_time, minutes = minutes))
}

/// Refuses (403) an API token limited to jobs other than `job_id`.
pub async fn check_covers(state: &AppState, principal: &Principal, job_id: i64) -> Result<(), AppError> {
    if !principal.is_job_limited() {
        return Ok(());
    }
    let tags = jobs_db::tags_of(&state.db, &[job_id]).await?.remove(&job_id).unwrap_or_default();
    if principal.covers_job(job_id, &tags) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// Refuses (403) creating jobs through an API token limited to some jobs.
pub fn check_may_create(principal: &Principal) -> Result<(), AppError> {
    if principal.is_job_limited() { Err(AppError::Forbidden) } else { Ok(()) }
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
        return Err(AppError::validation("tags", td_string!(locale, jobs.errors.tag)));
    }
    Ok(out)
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
    business_days_only: bool,
}

impl Validated {
    fn definition(&self) -> Definition<'_> {
        Definition {
            name: &self.name,
            description: &self.description,
            schedule_kind: self.schedule.kind,
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
        return Err(AppError::validation("name", td_string!(locale, jobs.errors.name)));
    }
    let description = input.description.unwrap_or_default().trim().to_owned();
    if description.chars().count() > 2000 {
        return Err(AppError::validation("description", td_string!(locale, jobs.errors.description)));
    }
    if input.source.is_some_and(|s| s != JobSource::Push) {
        return Err(AppError::validation("source", td_string!(locale, jobs.errors.source)));
    }
    let tags = normalise_tags(&input.tags.unwrap_or_default(), locale)?;
    let expected = Expected::parse(&input.schedule.unwrap_or_default(), state.settings.timezone)
        .map_err(|e| AppError::validation(e.field(), e.message(locale)))?;
    let expected = if input.business_days_only {
        let calendar = calendar_service::current(state).await?;
        expected.on_business_days(calendar, state.settings.timezone)
    } else {
        expected
    };
    let grace_seconds = input.grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=MAX_SECONDS).contains(&grace_seconds) {
        return Err(AppError::validation("grace_seconds", td_string!(locale, jobs.errors.grace)));
    }
    if input.max_duration_seconds.is_some_and(|m| !(60..=MAX_SECONDS).contains(&m)) {
        return Err(AppError::validation(
            "max_duration_seconds",
            td_string!(locale, jobs.errors.max_duration),
        ));
    }
    if let Some(owner) = input.owner_id
        && accounts::username_of(state, owner).await?.is_none()
    {
        return Err(AppError::validation("owner_id", td_string!(locale, jobs.errors.owner)));
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
        business_days_only: input.business_days_only,
    })
}

fn write_error(locale: Locale, e: WriteJobError) -> AppError {
    match e {
        WriteJobError::NameTaken => AppError::validation("name", td_string!(locale, jobs.errors.name_taken)),
        WriteJobError::Db(e) => e.into(),
    }
}

async fn job_by_id(state: &AppState, info: &RequestInfo, id: i64) -> Result<Job, AppError> {
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(views::jobs(state, info, vec![row]).await?.remove(0))
}

/// One job (viewers and up).
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<Job, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    job_by_id(state, info, id).await
}

/// Jobs by name, filtered, a page at a time (viewers and up).
pub async fn list(state: &AppState, info: &RequestInfo, query: JobQuery) -> Result<Page<Job>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let query::JobList { filter, limit } = query::jobs(info.locale, query)?;
    let mut rows = jobs_db::list(&state.db, &filter, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| query::encode_name_cursor(&r.name))
    } else {
        None
    };
    Ok(Page { items: views::jobs(state, info, rows).await?, next_cursor })
}

/// Creates a push job (operators and administrators).
pub async fn create(state: &AppState, info: &RequestInfo, input: NewJob) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::Write)?;
    check_may_create(principal)?;
    let valid = validate(state, info.locale, input).await?;
    let next = valid.expected.first_expected(ingest::now());
    let row = jobs_db::NewJobRow {
        definition: valid.definition(),
        source: JobSource::Push,
        ping_token: &new_ping_token(),
        veeam_server_id: None,
        veeam_job_id: None,
        tags: &valid.tags,
        next_expected_at: next,
    };
    let id = jobs_db::create(&state.db, &row).await.map_err(|e| write_error(info.locale, e))?;
    if valid.business_days_only {
        jobs_db::set_business_days_only(&state.db, id, true).await?;
    }
    let event = Event::ok("job.create", Target::new("job", id, valid.name.clone()));
    audit::record(state, info, Some(principal), event).await;
    job_by_id(state, info, id).await
}

/// Changes a job's definition (operators and administrators). A changed
/// schedule counts from now: no run is declared missed for the past.
pub async fn update(state: &AppState, info: &RequestInfo, id: i64, patch: JobPatch) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    check_covers(state, principal, id).await?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let current = views::jobs(state, info, vec![row.clone()]).await?.remove(0);
    // A job that follows Veeam keeps Veeam's schedule unless the operator
    // takes it over (a different schedule, or `schedule_from: console`).
    let schedule_changed = patch.schedule.as_ref().is_some_and(|s| *s != current.schedule);
    let follow_veeam = match patch.schedule_from {
        Some(ScheduleFrom::Veeam) => true,
        Some(ScheduleFrom::Console) => false,
        None => row.schedule_from == "veeam" && !schedule_changed,
    };
    let (patch, schedule_changed) =
        if follow_veeam { (JobPatch { schedule: None, ..patch }, false) } else { (patch, schedule_changed) };
    let merged = NewJob {
        name: patch.name.unwrap_or(current.name.clone()),
        description: Some(patch.description.unwrap_or(current.description.clone())),
        source: None,
        tags: Some(patch.tags.unwrap_or(current.tags.clone())),
        schedule: Some(patch.schedule.unwrap_or(current.schedule.clone())),
        grace_seconds: Some(patch.grace_seconds.unwrap_or(current.grace_seconds)),
        max_duration_seconds: patch.max_duration_seconds.unwrap_or(current.max_duration_seconds),
        owner_id: patch.owner_id.unwrap_or(current.owner_id),
        business_days_only: patch.business_days_only.unwrap_or(current.business_days_only),
    };
    if let Some(Some(hours)) = patch.rpo_hours
        && !(1..=8760).contains(&hours)
    {
        return Err(AppError::validation("rpo_hours", td_string!(info.locale, jobs.errors.rpo_hours)));
    }
    if follow_veeam && (row.source != JobSource::Veeam || row.veeam_server_id.is_none()) {
        return Err(AppError::validation(
            "schedule_from",
            td_string!(info.locale, jobs.errors.schedule_from),
        ));
    }
    let valid = validate(state, info.locale, merged).await?;
    let next = if follow_veeam {
        // The sync sets it from Veeam.
        row.next_expected_at
    } else if schedule_changed
        || valid.grace_seconds != current.grace_seconds
        || valid.business_days_only != current.business_days_only
    {
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
    // A new schedule is the operator's; asking for Veeam's again hands it
    // back to the next sync (which sets the next expected run).
    let schedule_from = match (follow_veeam, row.schedule_from == "veeam") {
        (true, false) => Some("veeam"),
        (false, true) => Some("console"),
        _ => None,
    };
    jobs_db::set_expectation_source(&state.db, id, schedule_from, patch.rpo_hours).await?;
    jobs_db::set_business_days_only(&state.db, id, valid.business_days_only).await?;
    let event = Event::ok("job.update", Target::new("job", id, valid.name.clone()));
    audit::record(state, info, Some(principal), event).await;
    job_by_id(state, info, id).await
}

/// Deletes a job with its history (operators and administrators).
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    check_covers(state, principal, id).await?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if !jobs_db::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("job.delete", Target::new("job", id, row.name));
    audit::record(state, info, Some(principal), event).await;
    Ok(())
}

/// Pauses a job, optionally until a time (operators and administrators).
pub async fn pause(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    until: Option<DateTime<Utc>>,
) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    check_covers(state, principal, id).await?;
    if until.is_some_and(|u| u <= Utc::now()) {
        return Err(AppError::validation("until", td_string!(info.locale, jobs.errors.paused_until)));
    }
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let transition = ingest::Transition {
        from: vec![],
        to: JobState::Paused,
        pause: Some((true, until)),
        next_expected_at: Some(None),
        details: Some("paused".to_owned()),
    };
    let change = writes::transition(&state.db, state.settings.timezone, id, &transition)
        .await
        .map_err(|e| ingest_error(info.locale, e))?;
    if let Some(change) = &change {
        publish_change(state, change);
    }
    let details = until.map_or_else(|| "until resumed".to_owned(), |u| format!("until {}", u.to_rfc3339()));
    audit::record(
        state,
        info,
        Some(principal),
        Event::ok("job.pause", Target::new("job", id, row.name)).details(details),
    )
    .await;
    job_by_id(state, info, id).await
}

/// Resumes a paused job (operators and administrators); it is next expected
/// by its schedule counted from now.
pub async fn resume(state: &AppState, info: &RequestInfo, id: i64) -> Result<Job, AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    check_covers(state, principal, id).await?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    monitor::resume_row(state, &row, "resumed", ingest::now())
        .await
        .map_err(|e| ingest_error(info.locale, e))?;
    audit::record(state, info, Some(principal), Event::ok("job.resume", Target::new("job", id, row.name)))
        .await;
    job_by_id(state, info, id).await
}

/// Runs across jobs or of one job, newest first, a page at a time (viewers and up).
pub async fn list_runs(state: &AppState, info: &RequestInfo, query: RunQuery) -> Result<Page<Run>, AppError> {
    let (rows, next_cursor) = run_rows(state, info, query).await?;
    Ok(Page { items: rows.iter().map(views::run).collect(), next_cursor })
}

/// Runs with their job names (for pages).
pub async fn list_runs_with_names(
    state: &AppState,
    info: &RequestInfo,
    query: RunQuery,
) -> Result<(Vec<(Run, String)>, Option<String>), AppError> {
    let (rows, next_cursor) = run_rows(state, info, query).await?;
    Ok((rows.iter().map(|r| (views::run(r), r.job_name.clone())).collect(), next_cursor))
}

async fn run_rows(
    state: &AppState,
    info: &RequestInfo,
    query: RunQuery,
) -> Result<(Vec<runs_db::RunRow>, Option<String>), AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let query::RunList { filter, limit } = query::runs(info.locale, state.settings.timezone, query)?;
    let mut rows = runs_db::list(&state.db, &filter, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(query::encode_run_cursor)
    } else {
        None
    };
    Ok((rows, next_cursor))
}

/// One run with its log (viewers and up).
pub async fn get_run(state: &AppState, info: &RequestInfo, id: i64) -> Result<RunDetail, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let (row, log_excerpt) = runs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(RunDetail { run: views::run(&row), job_name: row.job_name.clone(), log_excerpt, origin: row.origin })
}

/// The answer to a recorded report.
pub fn outcome(recorded: &Recorded) -> ReportOutcome {
    ReportOutcome {
        created: recorded.created,
        job_id: recorded.job_id,
        run_id: recorded.run_id,
        state: recorded.state,
    }
}

/// Records a report for a job and tells open dashboards: the one way every
/// source (ping, API, Veeam webhook) records a run. The report goes to the
/// process's writer ([`intake`]), which commits it with whatever else came
/// in meanwhile; the answer comes after the commit.
pub async fn record(state: &AppState, job_id: i64, incoming: Incoming) -> Result<Recorded, IngestError> {
    intake::submit(state, Report { job: JobRef::Id(job_id), incoming }).await
}

/// Records many reports (a Veeam sync) in transactions of up to
/// [`batch::MAX_BATCH`], directly (not through the shared writer: a sync
/// is a batch already). One outcome per report, in order.
pub async fn record_many(state: &AppState, reports: &[Report]) -> Vec<Result<Recorded, IngestError>> {
    let mut outcomes = Vec::with_capacity(reports.len());
    for chunk in reports.chunks(batch::MAX_BATCH) {
        outcomes.extend(intake::record_all(state, chunk).await);
    }
    outcomes
}

/// Records a run reported through the API (ingest or write access).
pub async fn report(
    state: &AppState,
    info: &RequestInfo,
    job_id: i64,
    report: RunReport,
) -> Result<ReportOutcome, AppError> {
    let principal = info.require(Role::Operator, Access::Ingest)?;
    check_covers(state, principal, job_id).await?;
    if report.result == RunResult::Missed {
        return Err(AppError::validation("result", td_string!(info.locale, jobs.errors.result)));
    }
    if report.bytes_processed.is_some_and(|b| b < 0) {
        return Err(AppError::validation("bytes_processed", td_string!(info.locale, jobs.errors.bytes)));
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
    let recorded = record(state, job_id, incoming).await.map_err(|e| ingest_error(info.locale, e))?;
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
    let report = Report { job: JobRef::Token(token.to_owned()), incoming };
    let recorded = intake::submit(state, report).await.map_err(|e| ingest_error(locale, e))?;
    Ok(outcome(&recorded))
}

/// How many jobs are in each state (every state, zero included).
pub async fn state_counts(state: &AppState) -> Result<Vec<(JobState, i64)>, sqlx::Error> {
    let counts = jobs_db::count_by_state(&state.db).await?;
    Ok(JobState::ALL
        .into_iter()
        .map(|s| (s, counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n)))
        .collect())
}

/// Every job's newest good backup (for `/metrics`).
pub async fn last_good(state: &AppState) -> Result<Vec<LastGoodRow>, sqlx::Error> {
    jobs_db::last_good(&state.db).await
}

/// The states and last run times of the jobs carrying `tag` (for badges).
pub async fn states_with_tag(
    state: &AppState,
    tag: &str,
) -> Result<Vec<(JobState, Option<DateTime<Utc>>)>, sqlx::Error> {
    jobs_db::states_with_tag(&state.db, tag).await
}

/// Every tag in use (for filters).
pub async fn tags(state: &AppState, info: &RequestInfo) -> Result<Vec<(String, i64)>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    Ok(jobs_db::all_tags(&state.db).await?)
}

/// One job's row (for other domains: the Veeam actions need its links).
pub async fn find(state: &AppState, id: i64) -> Result<Option<JobRow>, AppError> {
    Ok(jobs_db::find(&state.db, id).await?)
}

/// The Veeam job with this id, or else the job with this name.
pub async fn find_veeam(
    state: &AppState,
    veeam_job_id: Option<&str>,
    name: Option<&str>,
) -> Result<Option<JobRow>, AppError> {
    Ok(jobs_db::find_veeam(&state.db, veeam_job_id, name).await?)
}

/// (id, name) of up to `limit` jobs by name, for forms that choose jobs.
pub async fn choices(state: &AppState, limit: i64) -> Result<Vec<(i64, String)>, AppError> {
    Ok(jobs_db::choices(&state.db, limit).await?)
}

/// Tags of these jobs.
pub async fn tags_of(
    state: &AppState,
    job_ids: &[i64],
) -> Result<std::collections::HashMap<i64, Vec<String>>, sqlx::Error> {
    jobs_db::tags_of(&state.db, job_ids).await
}

/// States of these jobs.
pub async fn states_of(
    state: &AppState,
    job_ids: &[i64],
) -> Result<std::collections::HashMap<i64, JobState>, sqlx::Error> {
    jobs_db::states_of(&state.db, job_ids).await
}

/// Job events after id `after` (oldest first), for notifications.
pub async fn events_after(state: &AppState, after: i64, limit: i64) -> Result<Vec<JobEventRow>, sqlx::Error> {
    events_db::after(&state.db, after, limit).await
}

/// The facts of a run, for notifications.
pub async fn run_facts(state: &AppState, run_id: i64) -> Result<Option<RunFacts>, sqlx::Error> {
    events_db::run_facts(&state.db, run_id).await
}

/// The results of a job's finished runs up to and including a run, newest
/// first (how many problems in a row it ends).
pub async fn results_up_to(
    state: &AppState,
    job_id: i64,
    started_at: DateTime<Utc>,
    run_id: i64,
    limit: i64,
) -> Result<Vec<RunResult>, sqlx::Error> {
    events_db::results_up_to(&state.db, job_id, started_at, run_id, limit).await
}

/// Deletes old runs and job events (data retention; see
/// `store::runs::prune` for which runs stay). Events go only when the
/// notifier has read them (ids up to `events_read_up_to`). Returns the
/// runs and the events deleted.
pub async fn prune_history(
    db: &crate::ssr::infra::db::Db,
    runs_before: Option<DateTime<Utc>>,
    problem_runs_before: Option<DateTime<Utc>>,
    events_before: Option<(DateTime<Utc>, i64)>,
) -> Result<(u64, u64), sqlx::Error> {
    let runs = runs_db::prune(db, runs_before, problem_runs_before).await?;
    let events = match events_before {
        Some((before, read_up_to)) => events_db::prune(db, before, read_up_to).await?,
        None => 0,
    };
    Ok((runs, events))
}
