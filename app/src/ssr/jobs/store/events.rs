//! Reading `job_events` (and the runs behind them) for notifications.
//! Events are written with the state change that caused them, in
//! `writes`; this side only reads, after an id cursor.

use chrono::{DateTime, Utc};

use crate::{
    model::job::{JobState, RunResult},
    on_db,
    ssr::infra::db::{Db, delete_batched, read_row, readable},
};

/// A job event with the job's name and server.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobEventRow {
    /// The event's id (the notifier's cursor).
    pub id: i64,
    /// The job.
    pub job_id: i64,
    /// The state before.
    pub from_state: JobState,
    /// The state after.
    pub to_state: JobState,
    /// The run that caused it.
    pub run_id: Option<i64>,
    /// When it was recorded.
    pub occurred_at: DateTime<Utc>,
    /// The job's name.
    pub name: String,
    /// The job's Veeam server, if any.
    pub veeam_server_id: Option<i64>,
}

/// The facts of a run a message tells.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunFacts {
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// Result.
    pub result: RunResult,
    /// Message.
    pub message: Option<String>,
}

/// Up to `limit` events after id `after`, oldest first. An event whose row
/// cannot be read is logged and skipped.
pub async fn after(db: &Db, after: i64, limit: i64) -> Result<Vec<JobEventRow>, sqlx::Error> {
    const SQL: &str = "select e.id, e.job_id, e.from_state, e.to_state, e.run_id, e.occurred_at, j.name, \
         j.veeam_server_id from job_events e join jobs j on j.id = e.job_id where e.id > $1 order by e.id limit $2";
    on_db!(db, |pool| Ok(readable(
        "job_events",
        &sqlx::query(SQL).bind(after).bind(limit).fetch_all(pool).await?
    )))
}

/// The newest event id (where a new notifier cursor starts).
pub async fn last_id(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("select coalesce(max(id), 0) from job_events").fetch_one(pool).await)
}

/// A run's facts; a run whose row cannot be read (logged) counts as none,
/// so one bad row never holds up the notifications of every other event.
pub async fn run_facts(db: &Db, run_id: i64) -> Result<Option<RunFacts>, sqlx::Error> {
    const SQL: &str = "select id, started_at, ended_at, result, message from runs where id = $1";
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(run_id).fetch_optional(pool).await?;
        Ok(row.as_ref().and_then(|r| read_row("runs", r).ok()))
    })
}

/// The results of a job's finished runs up to and including run `run_id`
/// (started at `started_at`), newest first, at most `limit`: how many
/// problems in a row a run ends.
pub async fn results_up_to(
    db: &Db,
    job_id: i64,
    started_at: DateTime<Utc>,
    run_id: i64,
    limit: i64,
) -> Result<Vec<RunResult>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        result: RunResult,
    }
    let rows: Vec<Row> = on_db!(db, |pool| {
        let rows = sqlx::query(
            "select id, result from runs where job_id = $1 and result <> 'running' \
             and (started_at < $2 or (started_at = $2 and id <= $3)) \
             order by started_at desc, id desc limit $4",
        )
        .bind(job_id)
        .bind(started_at)
        .bind(run_id)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        Ok::<_, sqlx::Error>(readable("runs", &rows))
    })?;
    Ok(rows.into_iter().map(|r| r.result).collect())
}

/// Deletes job events recorded before `before` that the notifier has
/// read (ids up to `read_up_to`), in batches. Returns how many went.
pub async fn prune(db: &Db, before: DateTime<Utc>, read_up_to: i64) -> Result<u64, sqlx::Error> {
    let condition = format!("t.occurred_at < $1 and t.id <= {read_up_to}");
    delete_batched(db, "job_events", &condition, before).await
}
