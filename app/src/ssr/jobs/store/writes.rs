//! Applying the ingest plans for missed runs and transitions: each is one
//! transaction that loads what the plan needs (the job under a row lock on
//! PostgreSQL; SQLite's `begin immediate` holds the write lock), asks
//! `ingest` what to do, and writes exactly that: the run, the job, the
//! daily figures and the event. Run reports are written in batches by
//! `batch`; the outcome types are shared.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{ack::CLEAR_SQL as CLEAR_ACK_SQL, jobs::JobRow};
use crate::{
    model::job::{JobProblem, JobState, RunResult},
    on_tx,
    ssr::jobs::{
        ack,
        ingest::{self, DailyDelta, EventWrite, JobWrite, ReportError, RunRef, Transition},
    },
};

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
    /// The report itself is wrong.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const SELECT_JOB: &str = concat!("select ", crate::job_columns!(), " from jobs where id = $1");
const SELECT_JOB_FOR_UPDATE: &str =
    concat!("select ", crate::job_columns!(), " from jobs where id = $1 for update");

/// Runs `$body` with the job `$job_id` read (and locked) in a write
/// transaction as `$job`; a job that does not exist is [`IngestError::NoJob`],
/// one whose row cannot be read an error naming it in the log.
macro_rules! with_job {
    ($db:expr, $job_id:expr, |$tx:ident, $job:ident| $body:expr) => {
        on_tx!($db, |$tx, lock| {
            let row = sqlx::query(if lock { SELECT_JOB_FOR_UPDATE } else { SELECT_JOB })
                .bind($job_id)
                .fetch_optional(&mut *$tx)
                .await?
                .ok_or(IngestError::NoJob)?;
            let $job: JobRow = crate::ssr::infra::db::read_row("jobs", &row)?;
            $body
        })
    };
}

/// Applies a plan's job columns, events and daily figures. `run_id` is the
/// id of the plan's new run, when it inserted one.
macro_rules! apply_job {
    ($tx:ident, $job_id:expr, $write:expr, $run_id:expr, $now:expr) => {{
        let write: &JobWrite = $write;
        let resolve = |r: RunRef| match r {
            RunRef::Stored(id) => id,
            RunRef::New => $run_id,
        };
        sqlx::query(
            "update jobs set state = $1, last_run_id = $2, last_run_at = $3, last_result = $4, \
             next_expected_at = $5, running_since = $6, updated_at = $7 where id = $8",
        )
        .bind(write.state)
        .bind(write.last_run.map(resolve))
        .bind(write.last_run_at)
        .bind(write.last_result)
        .bind(write.next_expected_at)
        .bind(write.running_since)
        .bind($now)
        .bind($job_id)
        .execute(&mut *$tx)
        .await?;
    }};
}

macro_rules! add_daily {
    ($tx:ident, $job_id:expr, $delta:expr) => {{
        let delta: &DailyDelta = $delta;
        let count = |r: RunResult| i64::from(delta.result == r);
        let failed = i64::from(matches!(delta.result, RunResult::Failed | RunResult::Running));
        let ok = matches!(delta.result, RunResult::Success | RunResult::Warning);
        // When good backups became available that day (`batch::next_good`).
        let good: Option<(Option<i64>, Option<i64>, i64)> =
            sqlx::query_as("select good_first, good_last, good_max_gap from job_daily where job_id = $1 and day = $2")
                .bind($job_id)
                .bind(&delta.day)
                .fetch_optional(&mut *$tx)
                .await?;
        let (first, last, gap) = super::batch::next_good(good.unwrap_or((None, None, 0)), delta.good_at);
        sqlx::query(
            "insert into job_daily (job_id, day, success, warning, failed, missed, duration_seconds_sum, \
             duration_count, bytes_sum, expected, expected_ok, duration_max, good_first, good_last, good_max_gap) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             on conflict (job_id, day) do update set success = job_daily.success + excluded.success, \
             warning = job_daily.warning + excluded.warning, failed = job_daily.failed + excluded.failed, \
             missed = job_daily.missed + excluded.missed, \
             duration_seconds_sum = job_daily.duration_seconds_sum + excluded.duration_seconds_sum, \
             duration_count = job_daily.duration_count + excluded.duration_count, \
             bytes_sum = job_daily.bytes_sum + excluded.bytes_sum, \
             expected = job_daily.expected + excluded.expected, \
             expected_ok = job_daily.expected_ok + excluded.expected_ok, \
             duration_max = case when job_daily.duration_max is null or excluded.duration_max > job_daily.duration_max \
             then excluded.duration_max else job_daily.duration_max end, \
             good_first = excluded.good_first, good_last = excluded.good_last, good_max_gap = excluded.good_max_gap",
        )
        .bind($job_id)
        .bind(&delta.day)
        .bind(count(RunResult::Success))
        .bind(count(RunResult::Warning))
        .bind(failed)
        .bind(count(RunResult::Missed))
        .bind(delta.duration_seconds.unwrap_or(0))
        .bind(i64::from(delta.duration_seconds.is_some()))
        .bind(delta.bytes)
        .bind(i64::from(delta.expected))
        .bind(i64::from(delta.expected && ok))
        .bind(delta.duration_seconds)
        .bind(first)
        .bind(last)
        .bind(gap)
        .execute(&mut *$tx)
        .await?;
        if let Some(seconds) = delta.duration_seconds {
            sqlx::query(
                "insert into job_daily_durations (job_id, day, bucket, runs) values ($1, $2, $3, 1) \
                 on conflict (job_id, day, bucket) do update set runs = job_daily_durations.runs + 1",
            )
            .bind($job_id)
            .bind(&delta.day)
            .bind(crate::ssr::jobs::ingest::duration_bucket(seconds))
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Ends the job's acknowledgement when the change from `$from` to `$to`
/// ends its problem ([`ack::ends`]), in the change's transaction.
macro_rules! end_ack {
    ($tx:ident, $job_id:expr, $from:expr, $to:expr) => {{
        let acknowledged: Option<String> = sqlx::query_scalar("select ack_problem from jobs where id = $1")
            .bind($job_id)
            .fetch_one(&mut *$tx)
            .await?;
        if acknowledged
            .as_deref()
            .and_then(JobProblem::parse)
            .is_some_and(|problem| ack::ends(problem, $from, $to))
        {
            sqlx::query(CLEAR_ACK_SQL).bind($job_id).execute(&mut *$tx).await?;
        }
    }};
}

macro_rules! add_event {
    ($tx:ident, $job_id:expr, $event:expr, $run_id:expr, $now:expr) => {{
        let event: &EventWrite = $event;
        let run_id = event.run.map(|r| match r {
            RunRef::Stored(id) => id,
            RunRef::New => $run_id,
        });
        let event_id: i64 = sqlx::query_scalar(
            "insert into job_events (job_id, occurred_at, from_state, to_state, run_id, details) \
             values ($1, $2, $3, $4, $5, $6) returning id",
        )
        .bind($job_id)
        .bind($now)
        .bind(event.from)
        .bind(event.to)
        .bind(run_id)
        .bind(&event.details)
        .fetch_one(&mut *$tx)
        .await?;
        end_ack!($tx, $job_id, event.from, event.to);
        StateChange { event_id, job_id: $job_id, from: event.from, to: event.to, run_id }
    }};
}

/// Records that the run expected at `occurrence` did not happen, moves the
/// job to `missed` and its next expected time to `next`. Does nothing (and
/// returns `None`) when a report arrived meanwhile (the job's next expected
/// time is no longer `occurrence`) or the job was paused.
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn record_missed(
    db: &crate::ssr::infra::db::Db,
    tz: Tz,
    job_id: i64,
    occurrence: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    message: &str,
) -> Result<Option<Recorded>, IngestError> {
    let now = ingest::now();
    with_job!(db, job_id, |tx, job| {
        let Some(plan) = ingest::plan_missed(&job.facts(tz), occurrence, next, message, tz) else {
            return Ok(None);
        };
        // One missed run per slot (`runs_missed_slot_key`): when another
        // instance recorded this slot already, nothing changes here.
        let run_id: Option<i64> = sqlx::query_scalar(
            "insert into runs (job_id, started_at, ended_at, result, message, origin, created_at, updated_at, \
             answered_slot) values ($1, $2, null, $3, $4, 'scheduler', $5, $5, true) \
             on conflict do nothing returning id",
        )
        .bind(job_id)
        .bind(plan.run.started_at)
        .bind(plan.run.result)
        .bind(&plan.run.message)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(run_id) = run_id else {
            // Recorded already: the job still moves on to its next slot, so
            // the monitor does not come back to this one.
            tracing::info!(job_id, slot = %plan.run.started_at, "missed slot already recorded");
            sqlx::query("update jobs set next_expected_at = $1, updated_at = $2 where id = $3")
                .bind(plan.job.next_expected_at)
                .bind(now)
                .bind(job_id)
                .execute(&mut *tx)
                .await?;
            return Ok(None);
        };
        apply_job!(tx, job_id, &plan.job, run_id, now);
        add_daily!(tx, job_id, &plan.daily);
        let change = match &plan.event {
            Some(event) => Some(add_event!(tx, job_id, event, run_id, now)),
            None => None,
        };
        Ok::<_, IngestError>(Some(Recorded { created: true, job_id, run_id, state: plan.job.state, change }))
    })
}

/// Moves a job by `transition` (late, overdue, paused, resumed...). Returns
/// the change, or `None` when the job was not in a `from` state or its
/// state stayed the same.
#[tracing::instrument(skip_all, fields(job_id, to = transition.to.as_str()))]
pub async fn transition(
    db: &crate::ssr::infra::db::Db,
    tz: Tz,
    job_id: i64,
    transition: &Transition,
) -> Result<Option<StateChange>, IngestError> {
    let now = ingest::now();
    with_job!(db, job_id, |tx, job| {
        let Some(plan) = ingest::plan_transition(&job.facts(tz), job.paused_until, transition) else {
            return Ok(None);
        };
        sqlx::query(
            "update jobs set state = $1, paused = $2, paused_until = $3, next_expected_at = $4, updated_at = $5 \
             where id = $6",
        )
        .bind(plan.state)
        .bind(plan.paused)
        .bind(plan.paused_until)
        .bind(plan.next_expected_at)
        .bind(now)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        let change = match &plan.event {
            Some(event) => Some(add_event!(tx, job_id, event, 0, now)),
            None => None,
        };
        Ok::<_, IngestError>(change)
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::{
        db_test,
        model::{job::JobSource, schedule::ScheduleKind},
        on_db,
        ssr::{
            infra::db::Db,
            jobs::{
                calendar::BusinessCalendar,
                ingest::Incoming,
                store::{
                    batch::{self, JobRef, Report},
                    jobs as jobs_db,
                },
            },
        },
    };

    async fn new_job(db: &Db) -> i64 {
        let def = jobs_db::Definition {
            name: "nightly",
            description: "",
            schedule_kind: ScheduleKind::None,
            schedule_cron: None,
            schedule_timezone: None,
            schedule_interval_seconds: None,
            grace_seconds: 3600,
            max_duration_seconds: None,
            owner_id: None,
        };
        let job = jobs_db::NewJobRow {
            definition: def,
            source: JobSource::Push,
            ping_token: "token",
            veeam_server_id: None,
            veeam_job_id: None,
            tags: &[],
            next_expected_at: None,
        };
        jobs_db::create(db, &job).await.unwrap()
    }

    /// One report through the batch writer.
    async fn record(db: &Db, tz: Tz, job_id: i64, incoming: &Incoming) -> Result<Recorded, IngestError> {
        let calendar = std::sync::Arc::new(BusinessCalendar::new(false, Vec::new()));
        let report = Report { job: JobRef::Id(job_id), incoming: incoming.clone() };
        batch::record(db, tz, &calendar, &[report]).await?.pop().unwrap()
    }

    fn report(result: RunResult) -> Incoming {
        Incoming {
            result,
            started_at: None,
            ended_at: None,
            message: Some("done".into()),
            bytes_processed: Some(10),
            exit_code: None,
            external_id: None,
            log: None,
            origin: "api",
        }
    }

    async fn a_report_writes_the_run_the_job_the_figures_and_the_event(db: &Db) {
        let id = new_job(db).await;
        let recorded = record(db, chrono_tz::UTC, id, &report(RunResult::Failed)).await.unwrap();
        assert!(recorded.created);
        assert_eq!(recorded.state, JobState::Failed);
        let change = recorded.change.unwrap();
        assert_eq!(
            (change.from, change.to, change.run_id),
            (JobState::New, JobState::Failed, Some(recorded.run_id))
        );
        let job = jobs_db::find(db, id).await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.last_run_id, job.last_result),
            (JobState::Failed, Some(recorded.run_id), Some(RunResult::Failed))
        );
        let failed: i64 = on_db!(db, |pool| {
            sqlx::query_scalar("select failed from job_daily where job_id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
        })
        .unwrap();
        assert_eq!(failed, 1);
        assert!(matches!(
            record(db, chrono_tz::UTC, id + 100, &report(RunResult::Success)).await,
            Err(IngestError::NoJob)
        ));
    }
    db_test!(report_writes_on, a_report_writes_the_run_the_job_the_figures_and_the_event);

    async fn a_transition_that_does_not_apply_commits_nothing_and_one_that_does_commits(db: &Db) {
        let id = new_job(db).await;
        let late = Transition {
            from: vec![JobState::Ok],
            to: JobState::Late,
            pause: None,
            next_expected_at: None,
            details: None,
        };
        assert_eq!(transition(db, chrono_tz::UTC, id, &late).await.unwrap(), None, "a new job is not late");
        let pause = Transition { from: vec![], to: JobState::Paused, pause: Some((true, None)), ..late };
        let change = transition(db, chrono_tz::UTC, id, &pause).await.unwrap().unwrap();
        assert_eq!((change.from, change.to), (JobState::New, JobState::Paused));
        let job = jobs_db::find(db, id).await.unwrap().unwrap();
        assert!(job.paused && job.state == JobState::Paused, "the early return path of the body committed");
    }
    db_test!(
        transition_commits_on,
        a_transition_that_does_not_apply_commits_nothing_and_one_that_does_commits
    );

    /// Two instances that both believe they lead read the same expected
    /// slot: the database keeps one missed run (and so one event).
    async fn a_missed_slot_is_stored_once_even_when_read_twice(db: &Db) {
        let id = new_job(db).await;
        use chrono::DurationRound;
        let slot = chrono::Utc::now().duration_trunc(chrono::TimeDelta::minutes(1)).unwrap()
            - chrono::TimeDelta::hours(2);
        let next = slot + chrono::TimeDelta::hours(1);
        let set_expected = async |at| {
            on_db!(db, |pool| {
                sqlx::query("update jobs set next_expected_at = $1 where id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|_| ())
            })
            .unwrap();
        };
        set_expected(slot).await;
        let first = record_missed(db, chrono_tz::UTC, id, slot, Some(next), "missed").await.unwrap();
        assert!(first.is_some_and(|r| r.created && r.change.is_some()));
        // The second instance read the job before the first one's commit.
        set_expected(slot).await;
        let second = record_missed(db, chrono_tz::UTC, id, slot, Some(next), "missed").await.unwrap();
        assert!(second.is_none(), "the slot is recorded already");
        let job = jobs_db::find(db, id).await.unwrap().unwrap();
        assert_eq!(job.next_expected_at, Some(next), "the job moves on to its next slot");
        let (runs, events): (i64, i64) = on_db!(db, |pool| {
            sqlx::query_as(
                "select (select count(*) from runs where job_id = $1 and result = 'missed'), \
                 (select count(*) from job_events where job_id = $1 and to_state = 'missed')",
            )
            .bind(id)
            .fetch_one(pool)
            .await
        })
        .unwrap();
        assert_eq!((runs, events), (1, 1));
    }
    db_test!(missed_slot_once_on, a_missed_slot_is_stored_once_even_when_read_twice);
}
