//! Reads for reports: the daily roll-ups (`job_daily`,
//! `job_daily_durations`) summed over a period in SQL, and the period's
//! failed, missed and anomalous runs through their partial indexes. Every
//! query's cost grows with jobs × days (or with problems), never with the
//! period's runs.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    model::{
        job::{JobSource, RunResult},
        report::AnomalyKind,
    },
    on_db,
    ssr::infra::db::Db,
};

/// Which jobs a report covers (all when every field is empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Jobs with this tag.
    pub tag: Option<String>,
    /// Jobs from this source.
    pub source: Option<JobSource>,
    /// Jobs of this Veeam server.
    pub veeam_server_id: Option<i64>,
    /// Only these jobs (empty: no limit).
    pub job_ids: Vec<i64>,
}

/// The SQL condition of `filter` on the job id column `col`, with its three
/// parameters at `$first` (tag), `$first+1` (source), `$first+2` (server).
/// Chosen ids are numbers and written into the text.
fn condition(col: &str, first: usize, filter: &JobFilter) -> String {
    let (t, s, v) = (first, first + 1, first + 2);
    let mut sql = format!(
        " and (${t} is null or {col} in (select job_id from job_tags where tag = ${t})) \
         and (${s} is null or {col} in (select id from jobs where source = ${s})) \
         and (${v} is null or {col} in (select id from jobs where veeam_server_id = ${v}))"
    );
    if !filter.job_ids.is_empty() {
        let ids: Vec<String> = filter.job_ids.iter().map(i64::to_string).collect();
        sql.push_str(&format!(" and {col} in ({})", ids.join(", ")));
    }
    sql
}

/// Binds the three parameters of [`condition`].
macro_rules! bind_filter {
    ($query:expr, $filter:expr) => {
        $query
            .bind($filter.tag.as_deref())
            .bind($filter.source.map(|s| s.as_str()))
            .bind($filter.veeam_server_id)
    };
}

/// A job a report covers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportJobRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Source.
    pub source: JobSource,
    /// Target RPO, hours.
    pub rpo_hours: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The jobs matching `filter` that existed before `until`.
pub async fn jobs(
    db: &Db,
    filter: &JobFilter,
    until: DateTime<Utc>,
) -> Result<Vec<ReportJobRow>, sqlx::Error> {
    let sql = format!(
        "select id, name, source, rpo_hours, created_at from jobs where created_at < $1{} order by name",
        condition("id", 2, filter)
    );
    on_db!(db, |pool| {
        bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(until), filter)
            .fetch_all(pool)
            .await
    })
}

/// Sums of the roll-ups of one job (or one day) over a period.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct DailySums {
    /// The job (or 0 for sums by day).
    pub job_id: i64,
    /// The day (`YYYY-MM-DD`; empty for sums by job).
    pub day: String,
    /// Succeeded.
    pub success: i64,
    /// Warnings.
    pub warning: i64,
    /// Failed.
    pub failed: i64,
    /// Missed.
    pub missed: i64,
    /// Sum of durations.
    pub duration_sum: i64,
    /// Runs with a duration.
    pub duration_count: i64,
    /// Bytes.
    pub bytes: i64,
    /// Expected slots.
    pub expected: i64,
    /// Slots answered by a good run.
    pub expected_ok: i64,
    /// Longest run.
    pub duration_max: Option<i64>,
}

const SUMS: &str = "cast(sum(success) as bigint) as success, cast(sum(warning) as bigint) as warning, \
     cast(sum(failed) as bigint) as failed, cast(sum(missed) as bigint) as missed, \
     cast(sum(duration_seconds_sum) as bigint) as duration_sum, \
     cast(sum(duration_count) as bigint) as duration_count, cast(sum(bytes_sum) as bigint) as bytes, \
     cast(sum(expected) as bigint) as expected, cast(sum(expected_ok) as bigint) as expected_ok, \
     max(duration_max) as duration_max";

/// Sums per job over the days `from` to `until` (`YYYY-MM-DD`, included).
pub async fn sums_by_job(
    db: &Db,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<DailySums>, sqlx::Error> {
    let sql = format!(
        "select job_id, '' as day, {SUMS} from job_daily where day >= $1 and day <= $2{} group by job_id",
        condition("job_id", 3, filter)
    );
    on_db!(db, |pool| {
        bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(from).bind(until), filter)
            .fetch_all(pool)
            .await
    })
}

/// Sums per day over all matching jobs.
pub async fn sums_by_day(
    db: &Db,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<DailySums>, sqlx::Error> {
    let sql = format!(
        "select cast(0 as bigint) as job_id, day, {SUMS} from job_daily where day >= $1 and day <= $2{} \
         group by day order by day",
        condition("job_id", 3, filter)
    );
    on_db!(db, |pool| {
        bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(from).bind(until), filter)
            .fetch_all(pool)
            .await
    })
}

/// Periods longer than this many days read the histograms by job and bucket.
const LONG_PERIOD_DAYS: i64 = 62;

/// Duration histograms per job: `(job, bucket) → runs`.
///
/// A short period reads its days from the day index and sorts the few rows
/// by job and bucket; a long one (a year has millions of rows) walks the
/// index by job and bucket, already in the order the sums are made in. SQLite
/// is told which (`indexed by`: without statistics it always takes the day
/// range); PostgreSQL's planner chooses from its statistics.
pub async fn durations(
    db: &Db,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    let days = match (from.parse::<chrono::NaiveDate>(), until.parse::<chrono::NaiveDate>()) {
        (Ok(from), Ok(until)) => (until - from).num_days() + 1,
        _ => 0,
    };
    let sql = |hint: &str| {
        format!(
            "select job_id, bucket, cast(sum(runs) as bigint) from job_daily_durations{hint} \
             where day >= $1 and day <= $2{} group by job_id, bucket",
            condition("job_id", 3, filter)
        )
    };
    let sqlite_hint = if days > LONG_PERIOD_DAYS {
        " indexed by job_daily_durations_job_idx"
    } else {
        " indexed by job_daily_durations_day_idx"
    };
    match db {
        Db::Sqlite(pool) => {
            bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql(sqlite_hint))).bind(from).bind(until), filter)
                .fetch_all(pool)
                .await
        }
        Db::Postgres(pool) => {
            bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql(""))).bind(from).bind(until), filter)
                .fetch_all(pool)
                .await
        }
    }
}

/// One day of good backups of a job with a target RPO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct GoodDay {
    /// The job.
    pub job_id: i64,
    /// First good backup's end (Unix seconds).
    pub good_first: i64,
    /// Last one's.
    pub good_last: i64,
    /// Longest gap between two of the day's (seconds).
    pub good_max_gap: i64,
}

/// The days with good backups of matching jobs that have a target RPO,
/// by job and day.
pub async fn good_days(
    db: &Db,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<GoodDay>, sqlx::Error> {
    let sql = format!(
        "select job_id, good_first, good_last, good_max_gap from job_daily \
         where day >= $1 and day <= $2 and good_first is not null \
         and job_id in (select id from jobs where rpo_hours is not null){} order by job_id, day",
        condition("job_id", 3, filter)
    );
    on_db!(db, |pool| {
        bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(from).bind(until), filter)
            .fetch_all(pool)
            .await
    })
}

/// The last good backup (Unix seconds) of each matching job with a target
/// RPO on the days `from` to before `before`.
pub async fn last_good_before(
    db: &Db,
    filter: &JobFilter,
    from: &str,
    before: &str,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let sql = format!(
        "select job_id, max(good_last) from job_daily where day >= $1 and day < $2 and good_last is not null \
         and job_id in (select id from jobs where rpo_hours is not null){} group by job_id",
        condition("job_id", 3, filter)
    );
    let rows: Vec<(i64, Option<i64>)> = on_db!(db, |pool| {
        bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(from).bind(before), filter)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().filter_map(|(job, last)| last.map(|l| (job, l))).collect())
}

/// A failed or missed run, or an anomaly.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProblemRow {
    /// The run.
    pub id: i64,
    /// Its job.
    pub job_id: i64,
    /// The job's name.
    pub job_name: String,
    /// Result.
    pub result: RunResult,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub ended_at: Option<DateTime<Utc>>,
    /// Message.
    pub message: Option<String>,
    /// Bytes.
    pub bytes_processed: Option<i64>,
    /// Anomaly.
    pub anomaly: Option<AnomalyKind>,
    /// Its median.
    pub anomaly_median: Option<i64>,
}

/// Failed and missed runs (`anomalies` false) or anomalies (true) started
/// in `[since, until)`, newest first, at most `limit`, with the total count.
pub async fn problems(
    db: &Db,
    filter: &JobFilter,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    anomalies: bool,
    limit: i64,
) -> Result<(Vec<ProblemRow>, i64), sqlx::Error> {
    let which = if anomalies { "r.anomaly is not null" } else { "r.result in ('failed', 'missed')" };
    let cond = condition("r.job_id", 3, filter);
    let list = format!(
        "select r.id, r.job_id, j.name as job_name, r.result, r.started_at, r.ended_at, r.message, \
         r.bytes_processed, r.anomaly, r.anomaly_median from runs r join jobs j on j.id = r.job_id \
         where {which} and r.started_at >= $1 and r.started_at < $2{cond} \
         order by r.started_at desc, r.id desc limit $6"
    );
    let count = format!(
        "select count(*) from runs r where {which} and r.started_at >= $1 and r.started_at < $2{cond}"
    );
    on_db!(db, |pool| {
        let rows =
            bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(list.clone())).bind(since).bind(until), filter)
                .bind(limit)
                .fetch_all(pool)
                .await?;
        let total: i64 = bind_filter!(
            sqlx::query_scalar(sqlx::AssertSqlSafe(count.clone())).bind(since).bind(until),
            filter
        )
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

/// Anomalies per job started in `[since, until)`.
pub async fn anomaly_counts(
    db: &Db,
    filter: &JobFilter,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    let sql = format!(
        "select r.job_id, count(*) from runs r where r.anomaly is not null and r.started_at >= $1 \
         and r.started_at < $2{} group by r.job_id",
        condition("r.job_id", 3, filter)
    );
    let rows: Vec<(i64, i64)> = on_db!(db, |pool| {
        bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(since).bind(until), filter)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().collect())
}
