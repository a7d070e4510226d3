//! The acknowledgement columns of `jobs` (`ack_*`): reading them with what
//! decides a job's current problem, setting and clearing them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    model::job::JobState,
    on_db,
    ssr::infra::db::{Db, readable},
};

/// What decides a job's problem and its acknowledgement.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AckRow {
    /// The job.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its Veeam server, for a Veeam job.
    pub veeam_server_id: Option<i64>,
    /// Its state.
    pub state: JobState,
    /// Since when a machine of the job is outside its RPO.
    pub rpo_breached_since: Option<DateTime<Utc>>,
    /// `scheduled`, `unscheduled` or `disabled` (Veeam jobs).
    pub veeam_schedule_state: Option<String>,
    /// Who acknowledged.
    pub ack_by: Option<String>,
    /// When.
    pub ack_at: Option<DateTime<Utc>>,
    /// Why.
    pub ack_comment: Option<String>,
    /// When it ends by itself.
    pub ack_until: Option<DateTime<Utc>>,
    /// The problem acknowledged.
    pub ack_problem: Option<String>,
}

const COLUMNS: &str = "id, name, veeam_server_id, state, rpo_breached_since, veeam_schedule_state, ack_by, \
                       ack_at, ack_comment, ack_until, ack_problem";

/// The statement that clears a job's acknowledgement (`$1`: the job).
pub const CLEAR_SQL: &str = "update jobs set ack_user_id = null, ack_by = null, ack_at = null, \
                             ack_comment = null, ack_until = null, ack_problem = null \
                             where id = $1 and ack_at is not null";

/// Ends an acknowledgement of one problem (`rpo_breached`, `unscheduled`)
/// when that problem starts or ends; `$1` the job, `$2` the problem.
pub const CLEAR_PROBLEM_SQL: &str = "update jobs set ack_user_id = null, ack_by = null, ack_at = null, \
                                     ack_comment = null, ack_until = null, ack_problem = null \
                                     where id = $1 and ack_at is not null and ack_problem = $2";

/// The rows of these jobs, by id.
pub async fn of_jobs(db: &Db, job_ids: &[i64]) -> Result<HashMap<i64, AckRow>, sqlx::Error> {
    let mut out = HashMap::new();
    for chunk in job_ids.chunks(200) {
        if chunk.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "select {COLUMNS} from jobs where id in ({})",
            placeholders.join(", ")
        ));
        let rows: Vec<AckRow> = on_db!(db, |pool| {
            let mut query = sqlx::query(sql);
            for id in chunk {
                query = query.bind(*id);
            }
            Ok::<_, sqlx::Error>(readable("jobs", &query.fetch_all(pool).await?))
        })?;
        out.extend(rows.into_iter().map(|r| (r.id, r)));
    }
    Ok(out)
}

/// One job's row.
pub async fn of_job(db: &Db, job_id: i64) -> Result<Option<AckRow>, sqlx::Error> {
    Ok(of_jobs(db, &[job_id]).await?.remove(&job_id))
}

/// An acknowledgement to store.
#[derive(Debug, Clone)]
pub struct NewAck<'a> {
    /// The job.
    pub job_id: i64,
    /// The job's state it was given for: nothing is written when the job
    /// has moved on meanwhile.
    pub state: JobState,
    /// The problem (`failed`, …, `rpo_breached`, `unscheduled`).
    pub problem: &'a str,
    /// Who.
    pub user_id: i64,
    /// Their name.
    pub by: &'a str,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub comment: Option<&'a str>,
    /// Until when.
    pub until: Option<DateTime<Utc>>,
}

/// Stores an acknowledgement; `false` when the job is gone or its state is
/// no longer `ack.state`.
pub async fn set(db: &Db, ack: &NewAck<'_>) -> Result<bool, sqlx::Error> {
    let done = on_db!(db, |pool| {
        sqlx::query(
            "update jobs set ack_user_id = $1, ack_by = $2, ack_at = $3, ack_comment = $4, ack_until = $5, \
             ack_problem = $6 where id = $7 and state = $8",
        )
        .bind(ack.user_id)
        .bind(ack.by)
        .bind(ack.at)
        .bind(ack.comment)
        .bind(ack.until)
        .bind(ack.problem)
        .bind(ack.job_id)
        .bind(ack.state)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

/// Clears a job's acknowledgement; `true` when there was one.
pub async fn clear(db: &Db, job_id: i64) -> Result<bool, sqlx::Error> {
    let done = on_db!(db, |pool| {
        sqlx::query(CLEAR_SQL).bind(job_id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}
