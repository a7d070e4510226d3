//! Recording runs: ping URLs, the run API, the Veeam webhook, the Veeam
//! sync and the scheduler's missed runs all end up here, in one
//! transaction per report that stores the run, moves the job's state,
//! updates the daily figures and records the state change as an event
//! (which notifications are made from).

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;

use super::{
    db::{Db, jobs::JobRow},
    schedule::Expected,
};
use crate::{
    model::{
        job::{JobState, RunResult},
        schedule::{Schedule, ScheduleKind},
    },
    on_tx,
};

/// The most of a tool's output that is kept.
pub const MAX_LOG_BYTES: usize = 10 * 1024;
/// The most of a message that is kept.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// Now, at the microsecond precision both databases store.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// A time at microsecond precision (what PostgreSQL keeps, and what keyset
/// cursors must match exactly on SQLite too).
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

/// The last `MAX_LOG_BYTES` of a log, cut at a character boundary.
pub fn log_tail(log: &str) -> String {
    if log.len() <= MAX_LOG_BYTES {
        return log.to_owned();
    }
    let mut start = log.len() - MAX_LOG_BYTES;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    log[start..].to_owned()
}

fn message_head(message: &str) -> String {
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// A report about a run of one job.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// `Running` for a start, else how it ended.
    pub result: RunResult,
    /// Start (default: now, or the matching start).
    pub started_at: Option<DateTime<Utc>>,
    /// End (default: now, for finished runs).
    pub ended_at: Option<DateTime<Utc>>,
    /// Message.
    pub message: Option<String>,
    /// Bytes processed.
    pub bytes_processed: Option<i64>,
    /// Exit code.
    pub exit_code: Option<i64>,
    /// The source's own id of the run.
    pub external_id: Option<String>,
    /// Output of the tool.
    pub log: Option<String>,
    /// `ping`, `api`, `veeam_webhook`, `veeam_sync`.
    pub origin: &'static str,
}

/// What recording a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// False for a report already stored (same external id, same outcome).
    pub created: bool,
    /// The job.
    pub job_id: i64,
    /// The run.
    pub run_id: i64,
    /// The job's state afterwards.
    pub state: JobState,
    /// The state change, if any.
    pub change: Option<StateChange>,
}

/// A change of a job's state (stored in `job_events`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The event's id.
    pub event_id: i64,
    /// The job.
    pub job_id: i64,
    /// Before.
    pub from: JobState,
    /// After.
    pub to: JobState,
    /// The run that caused it.
    pub run_id: Option<i64>,
}

/// Why a report could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// No such job.
    #[error("no such job")]
    NoJob,
    /// The end is before the start.
    #[error("the run ends before it starts")]
    EndsBeforeStart,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Whether a run that leaves its job in `state` is worth an event even
/// without a change (a failure after a failure).
fn repeats_problem(state: JobState) -> bool {
    matches!(state, JobState::Failed | JobState::Missed | JobState::Warning)
}

/// The state a finished run puts its job in.
pub fn state_after(result: RunResult) -> JobState {
    match result {
        RunResult::Running => JobState::Running,
        RunResult::Success => JobState::Ok,
        RunResult::Warning => JobState::Warning,
        RunResult::Failed => JobState::Failed,
        RunResult::Missed => JobState::Missed,
    }
}

/// The job's schedule, from its stored columns. An unparsable stored
/// schedule (which validation prevents) counts as none.
pub fn expected_of(job: &JobRow, default_tz: Tz) -> Expected {
    let schedule = Schedule {
        kind: ScheduleKind::parse(&job.schedule_kind).unwrap_or_default(),
        cron: job.schedule_cron.clone(),
        timezone: job.schedule_timezone.clone(),
        interval_seconds: job.schedule_interval_seconds,
    };
    Expected::parse(&schedule, default_tz).unwrap_or(Expected::None)
}

/// The day (in `tz`) a run started on, as `YYYY-MM-DD`.
pub fn day_of(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct RunCore {
    id: i64,
    started_at: DateTime<Utc>,
    result: String,
}

const SELECT_JOB: &str = concat!("select ", crate::job_columns!(), " from jobs where id = $1");
const SELECT_JOB_FOR_UPDATE: &str =
    concat!("select ", crate::job_columns!(), " from jobs where id = $1 for update");

/// Records a report for job `job_id`. `tz` is the time zone of daily figures.
#[tracing::instrument(skip_all, fields(job_id, result = incoming.result.as_str(), origin = incoming.origin))]
pub async fn record(db: &Db, tz: Tz, job_id: i64, incoming: Incoming) -> Result<Recorded, IngestError> {
    if let (Some(start), Some(end)) = (incoming.started_at, incoming.ended_at) {
        if end < start {
            return Err(IngestError::EndsBeforeStart);
        }
    }
    let now = now();
    let started_in = incoming.started_at.map(truncate);
    let ended_in = incoming.ended_at.map(truncate);
    let log = incoming.log.as_deref().map(log_tail);
    let message = incoming.message.as_deref().map(message_head);
    let finished = incoming.result != RunResult::Running;

    on_tx!(db, |tx, lock| {
        let job: JobRow = sqlx::query_as(if lock { SELECT_JOB_FOR_UPDATE } else { SELECT_JOB })
            .bind(job_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(IngestError::NoJob)?;

        let existing: Option<RunCore> = match (&incoming.external_id, finished) {
            (Some(external), _) => {
                sqlx::query_as(
                    "select id, started_at, result from runs where job_id = $1 and external_id = $2",
                )
                .bind(job_id)
                .bind(external)
                .fetch_optional(&mut *tx)
                .await?
            }
            (None, true) => {
                sqlx::query_as(
                    "select id, started_at, result from runs where job_id = $1 and result = 'running' \
                     order by started_at desc, id desc limit 1",
                )
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?
            }
            (None, false) => None,
        };

        // (run id, its start, whether it just finished)
        let outcome: Option<(i64, DateTime<Utc>, bool)> = match (existing, finished) {
            // A start we already have, or a finish of a run that already ended: a duplicate.
            (Some(run), false) => {
                let _ = run;
                None
            }
            (Some(run), true) if run.result != "running" => {
                let _ = run;
                None
            }
            (Some(run), true) => {
                let started = started_in.unwrap_or(run.started_at);
                let ended = ended_in.unwrap_or(now).max(started);
                sqlx::query(
                    "update runs set started_at = $1, ended_at = $2, result = $3, \
                     message = coalesce($4, message), bytes_processed = coalesce($5, bytes_processed), \
                     exit_code = coalesce($6, exit_code), log_excerpt = coalesce($7, log_excerpt), \
                     updated_at = $8 where id = $9",
                )
                .bind(started)
                .bind(ended)
                .bind(incoming.result.as_str())
                .bind(&message)
                .bind(incoming.bytes_processed)
                .bind(incoming.exit_code)
                .bind(&log)
                .bind(now)
                .bind(run.id)
                .execute(&mut *tx)
                .await?;
                Some((run.id, started, true))
            }
            (None, _) => {
                let ended = if finished { Some(ended_in.unwrap_or(now)) } else { None };
                let started = started_in.or(ended).unwrap_or(now);
                let id: i64 = sqlx::query_scalar(
                    "insert into runs (job_id, started_at, ended_at, result, message, bytes_processed, exit_code, \
                     log_excerpt, external_id, origin, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning id",
                )
                .bind(job_id)
                .bind(started)
                .bind(ended)
                .bind(incoming.result.as_str())
                .bind(&message)
                .bind(incoming.bytes_processed)
                .bind(incoming.exit_code)
                .bind(&log)
                .bind(&incoming.external_id)
                .bind(incoming.origin)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                Some((id, started, finished))
            }
        };

        let current = JobState::parse(&job.state).unwrap_or(JobState::New);
        let Some((run_id, started, just_finished)) = outcome else {
            // Nothing changed: answer with the stored run.
            let id: i64 = match &incoming.external_id {
                Some(external) => {
                    sqlx::query_scalar("select id from runs where job_id = $1 and external_id = $2")
                        .bind(job_id)
                        .bind(external)
                        .fetch_one(&mut *tx)
                        .await?
                }
                None => job.last_run_id.unwrap_or_default(),
            };
            return Ok(Recorded { created: false, job_id, run_id: id, state: current, change: None });
        };

        // Runs still in progress decide `running_since`.
        let running_since: Option<DateTime<Utc>> =
            sqlx::query_scalar("select min(started_at) from runs where job_id = $1 and result = 'running'")
                .bind(job_id)
                .fetch_one(&mut *tx)
                .await?;

        // The state follows the newest run; a late report of an older run
        // only adds to the history.
        let newest = job.last_run_id == Some(run_id) || job.last_run_at.is_none_or(|last| started >= last);
        let (last_run_id, last_run_at, last_result, next_expected_at) = if newest {
            let expected = expected_of(&job, tz);
            let next = expected
                .next_after_run(started, Duration::seconds(job.grace_seconds))
                .or(job.next_expected_at);
            (Some(run_id), Some(started), Some(incoming.result.as_str().to_owned()), next)
        } else {
            (job.last_run_id, job.last_run_at, job.last_result.clone(), job.next_expected_at)
        };
        let state = if job.paused {
            JobState::Paused
        } else if newest {
            if running_since.is_some() && finished { JobState::Running } else { state_after(incoming.result) }
        } else if matches!(current, JobState::Running | JobState::Overdue) && running_since.is_none() {
            last_result.as_deref().and_then(RunResult::parse).map_or(JobState::New, state_after)
        } else {
            current
        };

        sqlx::query(
            "update jobs set state = $1, last_run_id = $2, last_run_at = $3, last_result = $4, \
             next_expected_at = $5, running_since = $6, updated_at = $7 where id = $8",
        )
        .bind(state.as_str())
        .bind(last_run_id)
        .bind(last_run_at)
        .bind(&last_result)
        .bind(next_expected_at)
        .bind(running_since)
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;

        if just_finished {
            let ended = ended_in.unwrap_or(now).max(started);
            let duration = (ended - started).num_seconds().max(0);
            let (success, warning, failed) = match incoming.result {
                RunResult::Success => (1, 0, 0),
                RunResult::Warning => (0, 1, 0),
                _ => (0, 0, 1),
            };
            sqlx::query(
                "insert into job_daily (job_id, day, success, warning, failed, missed, duration_seconds_sum, \
                 duration_count, bytes_sum) values ($1, $2, $3, $4, $5, 0, $6, 1, $7) \
                 on conflict (job_id, day) do update set success = job_daily.success + excluded.success, \
                 warning = job_daily.warning + excluded.warning, failed = job_daily.failed + excluded.failed, \
                 duration_seconds_sum = job_daily.duration_seconds_sum + excluded.duration_seconds_sum, \
                 duration_count = job_daily.duration_count + excluded.duration_count, \
                 bytes_sum = job_daily.bytes_sum + excluded.bytes_sum",
            )
            .bind(job_id)
            .bind(day_of(started, tz))
            .bind(success)
            .bind(warning)
            .bind(failed)
            .bind(duration)
            .bind(incoming.bytes_processed.unwrap_or(0).max(0))
            .execute(&mut *tx)
            .await?;
        }

        // A problem run that keeps the state (failed after failed) is an event
        // too: rules count problems in a row from these.
        let change = if state != current || (newest && repeats_problem(state)) {
            let event_id: i64 = sqlx::query_scalar(
                "insert into job_events (job_id, occurred_at, from_state, to_state, run_id, details) \
                 values ($1, $2, $3, $4, $5, $6) returning id",
            )
            .bind(job_id)
            .bind(now)
            .bind(current.as_str())
            .bind(state.as_str())
            .bind(run_id)
            .bind(&message)
            .fetch_one(&mut *tx)
            .await?;
            Some(StateChange { event_id, job_id, from: current, to: state, run_id: Some(run_id) })
        } else {
            None
        };

        Ok::<_, IngestError>(Recorded { created: true, job_id, run_id, state, change })
    })
}

/// Records that the run expected at `occurrence` did not happen, moves the
/// job to `missed` and its next expected time to `next`. Does nothing (and
/// returns `None`) when a report arrived meanwhile (the job's next expected
/// time is no longer `occurrence`).
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn record_missed(
    db: &Db,
    tz: Tz,
    job_id: i64,
    occurrence: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    message: &str,
) -> Result<Option<Recorded>, IngestError> {
    let now = now();
    on_tx!(db, |tx, lock| {
        let job: JobRow = sqlx::query_as(if lock { SELECT_JOB_FOR_UPDATE } else { SELECT_JOB })
            .bind(job_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(IngestError::NoJob)?;
        if job.paused || job.next_expected_at != Some(occurrence) {
            return Ok(None);
        }
        let run_id: i64 = sqlx::query_scalar(
            "insert into runs (job_id, started_at, ended_at, result, message, origin, created_at, updated_at) \
             values ($1, $2, null, 'missed', $3, 'scheduler', $4, $4) returning id",
        )
        .bind(job_id)
        .bind(occurrence)
        .bind(message)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let newest = job.last_run_at.is_none_or(|last| occurrence >= last);
        let current = JobState::parse(&job.state).unwrap_or(JobState::New);
        // A run in progress keeps the job running (or overdue); the missed
        // run still shows in the history and the figures.
        let state = if job.running_since.is_some() { current } else { JobState::Missed };
        sqlx::query(
            "update jobs set state = $1, last_run_id = case when $2 then $3 else last_run_id end, \
             last_run_at = case when $2 then $4 else last_run_at end, \
             last_result = case when $2 then 'missed' else last_result end, \
             next_expected_at = $5, updated_at = $6 where id = $7",
        )
        .bind(state.as_str())
        .bind(newest)
        .bind(run_id)
        .bind(occurrence)
        .bind(next)
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into job_daily (job_id, day, missed) values ($1, $2, 1) \
             on conflict (job_id, day) do update set missed = job_daily.missed + 1",
        )
        .bind(job_id)
        .bind(day_of(occurrence, tz))
        .execute(&mut *tx)
        .await?;
        let change = if state != current || repeats_problem(state) {
            let event_id: i64 = sqlx::query_scalar(
                "insert into job_events (job_id, occurred_at, from_state, to_state, run_id, details) \
                 values ($1, $2, $3, $4, $5, $6) returning id",
            )
            .bind(job_id)
            .bind(now)
            .bind(current.as_str())
            .bind(state.as_str())
            .bind(run_id)
            .bind(message)
            .fetch_one(&mut *tx)
            .await?;
            Some(StateChange { event_id, job_id, from: current, to: state, run_id: Some(run_id) })
        } else {
            None
        };
        Ok::<_, IngestError>(Some(Recorded { created: true, job_id, run_id, state, change }))
    })
}

/// Moves a job to `to` (late, overdue, paused, resumed...) if it is in one
/// of `from` states, optionally setting its pause and next expected time.
/// Returns the change, or `None` when the job was not in a `from` state.
#[tracing::instrument(skip_all, fields(job_id, to = to.as_str()))]
pub async fn transition(
    db: &Db,
    job_id: i64,
    from: &[JobState],
    to: JobState,
    pause: Option<(bool, Option<DateTime<Utc>>)>,
    next_expected_at: Option<Option<DateTime<Utc>>>,
    details: Option<&str>,
) -> Result<Option<StateChange>, IngestError> {
    let now = now();
    on_tx!(db, |tx, lock| {
        let job: JobRow = sqlx::query_as(if lock { SELECT_JOB_FOR_UPDATE } else { SELECT_JOB })
            .bind(job_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(IngestError::NoJob)?;
        let current = JobState::parse(&job.state).unwrap_or(JobState::New);
        if !from.is_empty() && !from.contains(&current) {
            return Ok(None);
        }
        let (paused, paused_until) = pause.unwrap_or((job.paused, job.paused_until));
        let next = next_expected_at.unwrap_or(job.next_expected_at);
        sqlx::query(
            "update jobs set state = $1, paused = $2, paused_until = $3, next_expected_at = $4, updated_at = $5 \
             where id = $6",
        )
        .bind(to.as_str())
        .bind(paused)
        .bind(paused_until)
        .bind(next)
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        // No early return past this point: it would skip the commit.
        let change = if to == current {
            None
        } else {
            let event_id: i64 = sqlx::query_scalar(
                "insert into job_events (job_id, occurred_at, from_state, to_state, run_id, details) \
                 values ($1, $2, $3, $4, null, $5) returning id",
            )
            .bind(job_id)
            .bind(now)
            .bind(current.as_str())
            .bind(to.as_str())
            .bind(details)
            .fetch_one(&mut *tx)
            .await?;
            Some(StateChange { event_id, job_id, from: current, to, run_id: None })
        };
        Ok::<_, IngestError>(change)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_keep_their_last_ten_kilobytes_on_a_character_boundary() {
        assert_eq!(log_tail("short"), "short");
        let long = format!("{}終わり", "あ".repeat(5000));
        let tail = log_tail(&long);
        assert!(tail.len() <= MAX_LOG_BYTES && tail.len() > MAX_LOG_BYTES - 4);
        assert!(tail.ends_with("終わり"));
    }

    #[test]
    fn days_are_counted_in_the_configured_time_zone() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T16:30:00Z").unwrap_or_default().with_timezone(&Utc);
        assert_eq!(day_of(t, chrono_tz::Asia::Tokyo), "2026-11-23");
        assert_eq!(day_of(t, chrono_tz::UTC), "2026-11-22");
    }
}
