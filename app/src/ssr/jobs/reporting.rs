//! What reports read about jobs and runs: the daily roll-ups over a period
//! and the period's problems (see [`store::reporting`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

pub use super::store::reporting::{DailySums, GoodDay, JobFilter, ProblemRow, ReportJobRow};
use super::store::{self, reporting as db};
use crate::ssr::infra::state::AppState;

/// The jobs matching `filter` created before `until`, by name.
pub async fn jobs(
    state: &AppState,
    filter: &JobFilter,
    until: DateTime<Utc>,
) -> Result<Vec<ReportJobRow>, sqlx::Error> {
    db::jobs(&state.db, filter, until).await
}

/// Tags of these jobs.
pub async fn tags(state: &AppState, job_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, sqlx::Error> {
    store::jobs::tags_of(&state.db, job_ids).await
}

/// Roll-up sums per job over the days `from` to `until` (included).
pub async fn sums_by_job(
    state: &AppState,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<DailySums>, sqlx::Error> {
    db::sums_by_job(&state.db, filter, from, until).await
}

/// Roll-up sums per day.
pub async fn sums_by_day(
    state: &AppState,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<DailySums>, sqlx::Error> {
    db::sums_by_day(&state.db, filter, from, until).await
}

/// Duration histograms: (job, bucket, runs).
pub async fn durations(
    state: &AppState,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    db::durations(&state.db, filter, from, until).await
}

/// Good-backup days of jobs with a target RPO, by job and day.
pub async fn good_days(
    state: &AppState,
    filter: &JobFilter,
    from: &str,
    until: &str,
) -> Result<Vec<GoodDay>, sqlx::Error> {
    db::good_days(&state.db, filter, from, until).await
}

/// The last good backup of each job with a target RPO on days `from` to before `before`.
pub async fn last_good_before(
    state: &AppState,
    filter: &JobFilter,
    from: &str,
    before: &str,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    db::last_good_before(&state.db, filter, from, before).await
}

/// Failed and missed runs (or anomalies) in `[since, until)`, newest first, with the total.
pub async fn problems(
    state: &AppState,
    filter: &JobFilter,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    anomalies: bool,
    limit: i64,
) -> Result<(Vec<ProblemRow>, i64), sqlx::Error> {
    db::problems(&state.db, filter, since, until, anomalies, limit).await
}

/// Anomalies per job in `[since, until)`.
pub async fn anomaly_counts(
    state: &AppState,
    filter: &JobFilter,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<HashMap<i64, i64>, sqlx::Error> {
    db::anomaly_counts(&state.db, filter, since, until).await
}
