//! The `runs` and `job_daily` tables (reads and pruning; writes are in `writes`).

use chrono::{DateTime, Utc};

use crate::{
    model::{job::RunResult, report::AnomalyKind},
    on_db,
    ssr::infra::db::{Db, delete_batched, read_row, readable},
};

/// A row of `runs`, with its job's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RunRow {
    /// Primary key.
    pub id: i64,
    /// The job.
    pub job_id: i64,
    /// The job's name.
    pub job_name: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended (or `running`).
    pub result: RunResult,
    /// Message.
    pub message: Option<String>,
    /// Bytes.
    pub bytes_processed: Option<i64>,
    /// Exit code.
    pub exit_code: Option<i64>,
    /// Source id.
    pub external_id: Option<String>,
    /// How it arrived.
    pub origin: String,
    /// Anomaly kind, if flagged.
    pub anomaly: Option<AnomalyKind>,
    /// The median it was compared with.
    pub anomaly_median: Option<i64>,
}

/// The column list of [`RunRow`] (runs `r` joined with jobs `j`).
#[macro_export]
macro_rules! run_columns {
    () => {
        "r.id, r.job_id, j.name as job_name, r.started_at, r.ended_at, r.result, r.message, \
         r.bytes_processed, r.exit_code, r.external_id, r.origin, r.anomaly, r.anomaly_median"
    };
}

/// Filters of run lists; all optional.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    /// One job.
    pub job_id: Option<i64>,
    /// One result.
    pub result: Option<RunResult>,
    /// Jobs with this tag.
    pub tag: Option<String>,
    /// Started at or after.
    pub since: Option<DateTime<Utc>>,
    /// Started before.
    pub until: Option<DateTime<Utc>>,
    /// Keyset cursor: runs older than this (started_at, id).
    pub before: Option<(DateTime<Utc>, i64)>,
}

enum Bind {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

/// Runs matching `filter`, newest first (by start, then id).
///
/// Keyset pagination: the next page continues strictly after the last
/// (started_at, id) seen, so runs arriving meanwhile (at the top) neither
/// shift nor repeat the pages, whatever the depth. The SQL is built from
/// the filters given so each combination uses its index.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, filter: &RunFilter, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    let mut sql = format!("select {} from runs r join jobs j on j.id = r.job_id where 1 = 1", run_columns!());
    let mut binds: Vec<Bind> = vec![];
    let param = |bind: Bind, binds: &mut Vec<Bind>| {
        binds.push(bind);
        format!("${}", binds.len())
    };
    if let Some(job_id) = filter.job_id {
        let p = param(Bind::Int(job_id), &mut binds);
        sql.push_str(&format!(" and r.job_id = {p}"));
    }
    if let Some(result) = filter.result {
        let p = param(Bind::Text(result.as_str().to_owned()), &mut binds);
        sql.push_str(&format!(" and r.result = {p}"));
    }
    if let Some(tag) = &filter.tag {
        let p = param(Bind::Text(tag.clone()), &mut binds);
        sql.push_str(&format!(
            " and exists (select 1 from job_tags t where t.job_id = r.job_id and t.tag = {p})"
        ));
    }
    if let Some(since) = filter.since {
        let p = param(Bind::Time(since), &mut binds);
        sql.push_str(&format!(" and r.started_at >= {p}"));
    }
    if let Some(until) = filter.until {
        let p = param(Bind::Time(until), &mut binds);
        sql.push_str(&format!(" and r.started_at < {p}"));
    }
    if let Some((at, id)) = filter.before {
        let t = param(Bind::Time(at), &mut binds);
        let i = param(Bind::Int(id), &mut binds);
        sql.push_str(&format!(" and (r.started_at < {t} or (r.started_at = {t} and r.id < {i}))"));
    }
    sql.push_str(&format!(" order by r.started_at desc, r.id desc limit {}", limit.clamp(1, 1000)));
    let sql = sqlx::AssertSqlSafe(sql);
    on_db!(db, |pool| {
        let mut query = sqlx::query(sql);
        for bind in &binds {
            query = match bind {
                Bind::Int(v) => query.bind(*v),
                Bind::Text(v) => query.bind(v.as_str()),
                Bind::Time(v) => query.bind(*v),
            };
        }
        Ok(readable("runs", &query.fetch_all(pool).await?))
    })
}

/// One run with its log excerpt.
#[tracing::instrument(skip_all, fields(id))]
pub async fn find(db: &Db, id: i64) -> Result<Option<(RunRow, Option<String>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        run: RunRow,
        log_excerpt: Option<String>,
    }
    const SQL: &str = concat!(
        "select ",
        run_columns!(),
        ", r.log_excerpt from runs r join jobs j on j.id = r.job_id where r.id = $1"
    );
    let row: Option<Row> = on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("runs", r)).transpose()
    })?;
    Ok(row.map(|r| (r.run, r.log_excerpt)))
}

/// Several runs by id (for the jobs' last runs).
#[tracing::instrument(skip_all)]
pub async fn by_ids(db: &Db, ids: &[i64]) -> Result<Vec<RunRow>, sqlx::Error> {
    let mut out = vec![];
    for chunk in ids.chunks(200) {
        if chunk.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "select {} from runs r join jobs j on j.id = r.job_id where r.id in ({})",
            run_columns!(),
            placeholders.join(", ")
        ));
        let rows: Vec<RunRow> = on_db!(db, |pool| {
            let mut query = sqlx::query(sql);
            for id in chunk {
                query = query.bind(*id);
            }
            Ok::<_, sqlx::Error>(readable("runs", &query.fetch_all(pool).await?))
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// A row of `job_daily`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyRow {
    /// The job.
    pub job_id: i64,
    /// `YYYY-MM-DD` in the configured time zone.
    pub day: String,
    /// Successful runs.
    pub success: i64,
    /// Runs with warnings.
    pub warning: i64,
    /// Failed runs.
    pub failed: i64,
    /// Missed runs.
    pub missed: i64,
    /// Sum of durations of finished runs with a known duration.
    pub duration_seconds_sum: i64,
    /// How many durations are summed.
    pub duration_count: i64,
    /// Bytes processed.
    pub bytes_sum: i64,
}

/// Daily figures of every job from `first_day` on (inclusive).
#[tracing::instrument(skip_all)]
pub async fn daily_since(
    db: &Db,
    first_day: &str,
    job_ids: Option<&[i64]>,
) -> Result<Vec<DailyRow>, sqlx::Error> {
    const COLUMNS: &str =
        "job_id, day, success, warning, failed, missed, duration_seconds_sum, duration_count, bytes_sum";
    match job_ids {
        None => {
            const SQL: &str = "select job_id, day, success, warning, failed, missed, duration_seconds_sum, \
                               duration_count, bytes_sum from job_daily where day >= $1";
            on_db!(db, |pool| sqlx::query_as(SQL).bind(first_day).fetch_all(pool).await)
        }
        Some(ids) => {
            let mut out = vec![];
            for chunk in ids.chunks(200) {
                if chunk.is_empty() {
                    continue;
                }
                let placeholders: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
                let sql = sqlx::AssertSqlSafe(format!(
                    "select {COLUMNS} from job_daily where day >= $1 and job_id in ({})",
                    placeholders.join(", ")
                ));
                let rows: Vec<DailyRow> = on_db!(db, |pool| {
                    let mut query = sqlx::query_as(sql).bind(first_day);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.fetch_all(pool).await
                })?;
                out.extend(rows);
            }
            Ok(out)
        }
    }
}

/// Totals per day over all jobs from `first_day` on.
#[tracing::instrument(skip_all)]
pub async fn totals_per_day(db: &Db, first_day: &str) -> Result<Vec<DailyRow>, sqlx::Error> {
    const SQL: &str = "select cast(0 as bigint) as job_id, day, cast(sum(success) as bigint) as success, \
         cast(sum(warning) as bigint) as warning, cast(sum(failed) as bigint) as failed, \
         cast(sum(missed) as bigint) as missed, cast(sum(duration_seconds_sum) as bigint) as duration_seconds_sum, \
         cast(sum(duration_count) as bigint) as duration_count, cast(sum(bytes_sum) as bigint) as bytes_sum \
         from job_daily where day >= $1 group by day order by day";
    on_db!(db, |pool| sqlx::query_as(SQL).bind(first_day).fetch_all(pool).await)
}

/// The most recent runs of a job with their durations and sizes, oldest
/// first (for the job page's charts).
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn recent_of_job(db: &Db, job_id: i64, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    let mut rows = list(db, &RunFilter { job_id: Some(job_id), ..Default::default() }, limit).await?;
    rows.reverse();
    Ok(rows)
}

/// A newer good run of the same job exists (so this one is not the job's
/// newest good backup).
const NEWER_GOOD: &str = "exists (select 1 from runs n where n.job_id = t.job_id and n.result in ('success', 'warning') \
     and (n.started_at > t.started_at or (n.started_at = t.started_at and n.id > t.id)))";

/// A job's last run (what its state shows) is never pruned.
const NOT_LAST_RUN: &str = "t.id not in (select last_run_id from jobs where last_run_id is not null)";

/// Deletes finished runs whose days are in the daily roll-ups (every
/// finished run is: they are added as the run finishes): successful and
/// warning runs without an anomaly started before `ordinary_before`,
/// except each job's newest good run (the age of its last good backup);
/// failed and missed runs and anomalies (the lists of reports over old
/// periods) started before `problems_before`, except an anomaly that is
/// its job's newest good run. A job's last run stays.
/// In batches ([`delete_batched`]). Returns the runs deleted.
pub async fn prune(
    db: &Db,
    ordinary_before: Option<DateTime<Utc>>,
    problems_before: Option<DateTime<Utc>>,
) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    if let Some(before) = ordinary_before {
        let condition = format!(
            "t.started_at < $1 and t.result in ('success', 'warning') and t.anomaly is null and {NOT_LAST_RUN} \
             and {NEWER_GOOD}"
        );
        deleted += delete_batched(db, "runs", &condition, before).await?;
    }
    if let Some(before) = problems_before {
        let condition = format!(
            "t.started_at < $1 and (t.result in ('failed', 'missed') or t.anomaly is not null) and {NOT_LAST_RUN} \
             and (t.result in ('failed', 'missed') or {NEWER_GOOD})"
        );
        deleted += delete_batched(db, "runs", &condition, before).await?;
    }
    Ok(deleted)
}
