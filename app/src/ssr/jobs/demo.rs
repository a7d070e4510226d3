//! Realistic demo data: jobs of a mid-sized company and their run history,
//! for demos, screenshots and measuring how the console scales. Written in
//! large multi-row inserts inside a few transactions, with the daily
//! figures computed in memory, so millions of runs take about a minute.

use std::collections::HashMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{
    ingest::{day_of, state_after},
    schedule::Expected,
    store::jobs::new_ping_token,
};
use crate::{
    model::{
        job::RunResult,
        schedule::{Schedule, ScheduleKind},
    },
    ssr::infra::db::Db,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    /// How many jobs.
    pub jobs: usize,
    /// How many days of history.
    pub days: i64,
    /// Random seed (same seed, same data).
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoOutcome {
    /// Jobs created.
    pub jobs: usize,
    /// Runs created.
    pub runs: usize,
}

struct Kind {
    what: &'static str,
    tag: &'static str,
    /// Typical duration in seconds.
    duration: i64,
    /// Typical size in bytes.
    bytes: i64,
}

const KINDS: [Kind; 6] = [
    Kind { what: "restic files", tag: "files", duration: 1500, bytes: 40 << 30 },
    Kind { what: "pg_dump", tag: "db", duration: 600, bytes: 8 << 30 },
    Kind { what: "Veeam VM backup", tag: "vm", duration: 3600, bytes: 200 << 30 },
    Kind { what: "rsync mirror", tag: "files", duration: 300, bytes: 2 << 30 },
    Kind { what: "Windows Server Backup", tag: "windows", duration: 2400, bytes: 120 << 30 },
    Kind { what: "mail archive (borg)", tag: "mail", duration: 900, bytes: 15 << 30 },
];
const SITES: [&str; 4] = ["tokyo", "osaka", "nagoya", "fukuoka"];

fn schedule_for(i: usize, rng: &mut StdRng) -> Schedule {
    // 20 % hourly, 30 % every four hours, 50 % nightly: about 7 runs a day.
    match i % 10 {
        0 | 1 => Schedule {
            kind: ScheduleKind::Cron,
            cron: Some(format!("{} * * * *", rng.random_range(0..60))),
            timezone: Some("Asia/Tokyo".into()),
            interval_seconds: None,
        },
        2..=4 => {
            Schedule { kind: ScheduleKind::Interval, interval_seconds: Some(4 * 3600), ..Default::default() }
        }
        _ => Schedule {
            kind: ScheduleKind::Cron,
            cron: Some(format!("{} {} * * *", rng.random_range(0..12) * 5, rng.random_range(0..6))),
            timezone: Some("Asia/Tokyo".into()),
            interval_seconds: None,
        },
    }
}

fn pick_result(rng: &mut StdRng, flaky: bool) -> RunResult {
    let roll: f64 = rng.random();
    let failure = if flaky { 0.12 } else { 0.015 };
    if roll < failure {
        RunResult::Failed
    } else if roll < failure + 0.01 {
        RunResult::Missed
    } else if roll < failure + 0.05 {
        RunResult::Warning
    } else {
        RunResult::Success
    }
}

struct RunRow {
    job_id: i64,
    started: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
    result: RunResult,
    bytes: Option<i64>,
    message: Option<&'static str>,
    /// A deliberately odd successful run: (anomaly kind, the usual bytes).
    anomaly: Option<(&'static str, i64)>,
}

#[derive(Default, Clone, Copy)]
struct Daily {
    success: i64,
    warning: i64,
    failed: i64,
    missed: i64,
    duration: i64,
    count: i64,
    bytes: i64,
    expected: i64,
    expected_ok: i64,
    duration_max: Option<i64>,
    good_first: Option<i64>,
    good_last: Option<i64>,
    good_max_gap: i64,
}

/// Inserts runs 500 to a statement and adds them to the daily figures,
/// in the transaction `$tx`.
macro_rules! write_runs {
    ($tx:ident, $tz:expr, $runs:expr, $pg:expr) => {{
    let (tz, runs, pg): (Tz, &[RunRow], bool) = ($tz, $runs, $pg);
    const PER_STATEMENT: usize = 500;
    let mut daily: HashMap<(i64, String), Daily> = HashMap::new();
    let mut durations: HashMap<(i64, String, i64), i64> = HashMap::new();
    for run in runs {
        let day = day_of(run.started, tz);
        let d = daily.entry((run.job_id, day.clone())).or_default();
        // Every demo run stands for a slot of its job's schedule.
        if run.result != RunResult::Running {
            d.expected += 1;
            d.expected_ok += i64::from(matches!(run.result, RunResult::Success | RunResult::Warning));
        }
        if let (Some(end), RunResult::Success | RunResult::Warning) = (run.ended, run.result) {
            let at = end.timestamp();
            match (d.good_first, d.good_last) {
                (Some(f), Some(l)) => {
                    d.good_max_gap = d.good_max_gap.max(at - l).max(f - at);
                    d.good_first = Some(f.min(at));
                    d.good_last = Some(l.max(at));
                }
                _ => (d.good_first, d.good_last) = (Some(at), Some(at)),
            }
        }
        if let Some(end) = run.ended {
            let seconds = (end - run.started).num_seconds().max(0);
            d.duration_max = Some(d.duration_max.map_or(seconds, |m| m.max(seconds)));
            *durations.entry((run.job_id, day, super::ingest::duration_bucket(seconds))).or_default() += 1;
        }
        match run.result {
            RunResult::Success => d.success += 1,
            RunResult::Warning => d.warning += 1,
            RunResult::Failed => d.failed += 1,
            RunResult::Missed => d.missed += 1,
            RunResult::Running => {}
        }
        if let Some(end) = run.ended {
            d.duration += (end - run.started).num_seconds();
            d.count += 1;
        }
        d.bytes += run.bytes.unwrap_or(0);
    }
    let now = Utc::now();
    for chunk in runs.chunks(PER_STATEMENT) {
        let sql = format!(
            "insert into runs (job_id, started_at, ended_at, result, message, bytes_processed, origin, created_at, \
             updated_at, answered_slot, anomaly, anomaly_median) values {}",
            super::store::batch::values(chunk.len(), &[""; 12], pg)
        );
        let sql = sqlx::AssertSqlSafe(sql);
        {
            let mut query = sqlx::query(sql);
            for run in chunk {
                query = query
                    .bind(run.job_id)
                    .bind(run.started)
                    .bind(run.ended)
                    .bind(run.result.as_str())
                    .bind(run.message)
                    .bind(run.bytes)
                    .bind("demo")
                    .bind(now)
                    .bind(now)
                    .bind(run.result != RunResult::Running)
                    .bind(run.anomaly.map(|(kind, _)| kind))
                    .bind(run.anomaly.map(|(_, median)| median));
            }
            query.execute(&mut *$tx).await?;
        }
    }
    let rows: Vec<((i64, String), Daily)> = daily.into_iter().collect();
    for chunk in rows.chunks(PER_STATEMENT) {
        let sql = format!(
            "insert into job_daily (job_id, day, success, warning, failed, missed, duration_seconds_sum, duration_count, \
             bytes_sum, expected, expected_ok, duration_max, good_first, good_last, good_max_gap) values {}",
            super::store::batch::values(chunk.len(), &[""; 15], pg)
        );
        let sql = sqlx::AssertSqlSafe(sql);
        {
            let mut query = sqlx::query(sql);
            for ((job_id, day), d) in chunk {
                query = query
                    .bind(*job_id)
                    .bind(day.as_str())
                    .bind(d.success)
                    .bind(d.warning)
                    .bind(d.failed)
                    .bind(d.missed)
                    .bind(d.duration)
                    .bind(d.count)
                    .bind(d.bytes)
                    .bind(d.expected)
                    .bind(d.expected_ok)
                    .bind(d.duration_max)
                    .bind(d.good_first)
                    .bind(d.good_last)
                    .bind(d.good_max_gap);
            }
            query.execute(&mut *$tx).await?;
        }
    }
    let rows: Vec<((i64, String, i64), i64)> = durations.into_iter().collect();
    for chunk in rows.chunks(PER_STATEMENT) {
        let sql = format!(
            "insert into job_daily_durations (job_id, day, bucket, runs) values {}",
            super::store::batch::values(chunk.len(), &[""; 4], pg)
        );
        let sql = sqlx::AssertSqlSafe(sql);
        {
            let mut query = sqlx::query(sql);
            for ((job_id, day, bucket), count) in chunk {
                query = query.bind(*job_id).bind(day.as_str()).bind(*bucket).bind(*count);
            }
            query.execute(&mut *$tx).await?;
        }
    }
    }};
}

/// The body of [`generate`] on one connection `$conn` (of either backend).
macro_rules! generate_on {
    ($conn:ident, $tz:expr, $spec:expr, $pg:expr) => {{
    let (tz, spec, pg): (Tz, &DemoSpec, bool) = ($tz, $spec, $pg);
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let now = Utc::now().duration_trunc(Duration::seconds(1)).unwrap_or_else(|_| Utc::now());
    let start = now - Duration::days(spec.days);
    let mut outcome = DemoOutcome::default();
    let existing: i64 = sqlx::query_scalar("select count(*) from jobs").fetch_one(&mut *$conn).await?;

    for batch_start in (0..spec.jobs).step_by(50) {
        let batch_end = (batch_start + 50).min(spec.jobs);
        let mut runs: Vec<RunRow> = Vec::new();
        let mut jobs_meta = vec![];
        let mut tx = sqlx::Connection::begin(&mut *$conn).await?;
        for i in batch_start..batch_end {
            let kind = &KINDS[i % KINDS.len()];
            let site = SITES[(i / KINDS.len()) % SITES.len()];
            let name = format!("{site}-{:04} {}", existing as usize + i + 1, kind.what);
            let schedule = schedule_for(i, &mut rng);
            let expected = Expected::parse(&schedule, tz).unwrap_or(Expected::None);
            let flaky = i % 37 == 0;
            // Every fourth job has a target RPO of a day and two hours.
            let rpo_hours = (i % 4 == 0).then_some(26_i64);
            // Every 41st job had one suspiciously small backup in the last ten days.
            let odd_from = (i % 41 == 0).then(|| now - Duration::days(10));
            let mut odd_done = false;
            let source = if kind.tag == "vm" { "veeam" } else { "push" };
            let ping = new_ping_token();
            let id: i64 = sqlx::query_scalar(
                    "insert into jobs (name, description, source, schedule_kind, schedule_cron, schedule_timezone, \
                     schedule_interval_seconds, grace_seconds, max_duration_seconds, state, paused, ping_token, \
                     created_at, updated_at, rpo_hours) values ($1, $2, $3, $4, $5, $6, $7, 3600, $8, 'new', false, $9, \
                     $10, $10, $11) returning id",
                )
                .bind(&name)
                .bind(format!("{} at the {site} site", kind.what))
                .bind(source)
                .bind(schedule.kind.as_str())
                .bind(&schedule.cron)
                .bind(&schedule.timezone)
                .bind(schedule.interval_seconds)
                .bind(kind.duration * 4)
                .bind(&ping)
                .bind(start)
                .bind(rpo_hours)
                .fetch_one(&mut *tx)
                .await?;
            for tag in [kind.tag, site] {
                sqlx::query("insert into job_tags (job_id, tag) values ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut at = expected.first_expected(start);
            let mut last: Option<(DateTime<Utc>, RunResult)> = None;
            while let Some(t) = at {
                if t > now {
                    break;
                }
                let result = pick_result(&mut rng, flaky);
                let jitter = Duration::seconds(rng.random_range(0..120));
                let started = if result == RunResult::Missed { t } else { t + jitter };
                let duration = (kind.duration as f64 * rng.random_range(0.6..1.6)) as i64;
                let ended = (result != RunResult::Missed).then(|| started + Duration::seconds(duration));
                let mut bytes = (result != RunResult::Missed)
                    .then(|| (kind.bytes as f64 * rng.random_range(0.8..1.2)) as i64);
                let mut anomaly = None;
                if result == RunResult::Success && !odd_done && odd_from.is_some_and(|from| started >= from) {
                    odd_done = true;
                    bytes = Some(kind.bytes / 50);
                    anomaly = Some(("bytes_small", kind.bytes));
                }
                let message = match result {
                    RunResult::Failed => Some("backup target unreachable"),
                    RunResult::Warning => Some("some files were skipped"),
                    RunResult::Missed => Some("no run reported within the grace period"),
                    _ => None,
                };
                // The last run may still be going.
                if ended.is_some_and(|e| e > now) {
                    runs.push(RunRow {
                        job_id: id,
                        started,
                        ended: None,
                        result: RunResult::Running,
                        bytes: None,
                        message: None,
                        anomaly: None,
                    });
                    last = Some((started, RunResult::Running));
                    break;
                }
                runs.push(RunRow { job_id: id, started, ended, result, bytes, message, anomaly });
                last = Some((started, result));
                at = expected.following(t);
            }
            jobs_meta.push((id, last, at));
        }
        outcome.runs += runs.len();
        outcome.jobs += batch_end - batch_start;
        write_runs!(tx, tz, &runs, pg);
        for (id, last, next) in jobs_meta {
            let state = last.map_or("new", |(_, r)| state_after(r).as_str());
            let last_at = last.map(|(t, _)| t);
            let last_result = last.map(|(_, r)| r.as_str());
            sqlx::query(
                    "update jobs set state = $1, last_run_at = $2, last_result = $3, next_expected_at = $4, \
                     last_run_id = (select max(id) from runs where job_id = $5), \
                     running_since = (select min(started_at) from runs where job_id = $5 and result = 'running') \
                     where id = $5",
                )
                .bind(state)
                .bind(last_at)
                .bind(last_result)
                .bind(next)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    Ok::<_, sqlx::Error>(outcome)
    }};
}

/// Generates `spec.jobs` jobs with `spec.days` of runs. Days are counted
/// in `tz` for the daily figures. Everything goes through one connection,
/// 50 jobs and their runs to a transaction (one commit each, not one per
/// statement); on SQLite with a page cache large enough for the run
/// indexes while they are written.
pub async fn generate(db: &Db, tz: Tz, spec: &DemoSpec) -> Result<DemoOutcome, sqlx::Error> {
    match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::query("pragma cache_size = -262144").execute(&mut *conn).await?;
            let outcome = generate_on!(conn, tz, spec, false);
            sqlx::query("pragma cache_size = -2000").execute(&mut *conn).await?;
            outcome
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            generate_on!(conn, tz, spec, true)
        }
    }
}
