//! Recording many run reports in one transaction (group commit).
//!
//! Each report is decided by the same pure function as always
//! ([`ingest::plan_report`]), in the order the reports arrived, against
//! what is stored *and* what the reports before it in the batch did: the
//! job rows, the runs in progress and the runs with the reports' external
//! ids are read once for the whole batch, each plan is applied to those
//! copies, and everything is written at the end with a handful of
//! statements (multi-row inserts, `update … from (values …)`). So a batch
//! writes exactly what the same reports recorded one at a time would have
//! written, at the cost of one commit.
//!
//! A report that cannot be recorded (unknown job, bad times) gets its own
//! error and writes nothing; the others are written. A database error
//! fails the whole batch (nothing is written): the caller records each
//! report alone then, so every report gets its own answer.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
// Every dynamic statement here is built from fixed text and numbered
// parameters (`list`, `values`): no value is ever part of the SQL.
use sqlx::{AssertSqlSafe, Row};

use super::{
    ack::CLEAR_SQL as CLEAR_ACK_SQL,
    jobs::JobRow,
    writes::{IngestError, Recorded, StateChange},
};
use crate::{
    model::{
        job::{JobProblem, JobState, RunResult},
        report::RunAnomaly,
    },
    on_tx,
    ssr::{
        infra::db::{Db, read_row},
        jobs::{
            ack, anomaly,
            calendar::BusinessCalendar,
            ingest::{self, DailyDelta, Incoming, ReportPlan, RunFields, RunRef, RunWrite, StoredRun},
        },
    },
};

/// The job a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobRef {
    /// By id (the API, Veeam).
    Id(i64),
    /// By ping token (ping URLs).
    Token(String),
}

/// One report of a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Its job.
    pub job: JobRef,
    /// What it says.
    pub incoming: Incoming,
}

/// What became of one report.
pub type Outcome = Result<Recorded, IngestError>;

/// The most reports written by one transaction.
pub const MAX_BATCH: usize = 512;

const JOB_COLUMNS: &str = crate::job_columns!();

/// Records `reports` in one transaction; `tz` is the zone of daily
/// figures, `calendar` settles next expected times of business-day jobs.
/// `Ok` holds one outcome per report, in order; `Err` means nothing was
/// written.
#[tracing::instrument(skip_all, fields(reports = reports.len()))]
pub async fn record(
    db: &Db,
    tz: Tz,
    calendar: &Arc<BusinessCalendar>,
    reports: &[Report],
) -> Result<Vec<Outcome>, sqlx::Error> {
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    on_tx!(db, |tx, pg| {
        let now = ingest::now();
        let json = |values: Vec<serde_json::Value>| serde_json::Value::Array(values).to_string();

        // The jobs, by id and by ping token, in one statement; locked in id
        // order on PostgreSQL (SQLite's `begin immediate` holds the write
        // lock already).
        let named = |by_token: bool| {
            json(
                unique(reports.iter().filter_map(|r| match (&r.job, by_token) {
                    (JobRef::Id(id), false) => Some(serde_json::Value::from(*id)),
                    (JobRef::Token(token), true) => Some(serde_json::Value::String(token.clone())),
                    _ => None,
                }))
                .into_iter()
                .collect(),
            )
        };
        let sql = format!(
            "select {JOB_COLUMNS}, ack_problem from jobs where id in ({}) or ping_token in ({}) order by id{}",
            list(pg, 1, "bigint"),
            list(pg, 2, "text"),
            if pg { " for update" } else { "" }
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(named(false)).bind(named(true)).fetch_all(&mut *tx).await?;
        let mut jobs: HashMap<i64, JobCopy> = HashMap::new();
        let mut by_token: HashMap<String, i64> = HashMap::new();
        for row in rows {
            let job: JobRow = read_row("jobs", &row)?;
            let ack: Option<String> = row.try_get("ack_problem")?;
            by_token.insert(job.ping_token.clone(), job.id);
            jobs.insert(
                job.id,
                JobCopy { row: job, ack, runs: Vec::new(), written: false, clear_ack: false },
            );
        }
        let targets: Vec<Option<i64>> = reports
            .iter()
            .map(|r| match &r.job {
                JobRef::Id(id) => jobs.contains_key(id).then_some(*id),
                JobRef::Token(token) => by_token.get(token).copied(),
            })
            .collect();
        if jobs.is_empty() {
            return Ok(reports.iter().map(|_| Err(IngestError::NoJob)).collect());
        }
        let ids_json = json(unique(targets.iter().flatten().copied()).into_iter().map(Into::into).collect());

        // The runs the reports may be about: those in progress and those
        // with the reports' external ids.
        let externals = json(
            unique(
                reports
                    .iter()
                    .zip(&targets)
                    .filter_map(|(r, job)| Some(((*job)?, r.incoming.external_id.clone()?))),
            )
            .into_iter()
            .map(|(job, external)| serde_json::json!([job, external]))
            .collect(),
        );
        let sql = format!(
            "select id, job_id, started_at, result, answered_slot, external_id, bytes_processed from runs \
             where job_id in ({jobs}) and result = 'running' \
             union all select r.id, r.job_id, r.started_at, r.result, r.answered_slot, r.external_id, r.bytes_processed \
             from {pairs} join runs r on r.job_id = {job} and r.external_id = {external}",
            jobs = list(pg, 1, "bigint"),
            pairs = pairs(pg, 2),
            job = pair_item(pg, 0, "bigint"),
            external = pair_item(pg, 1, "text"),
        );
        let rows: Vec<RunOfInterest> =
            sqlx::query_as(AssertSqlSafe(sql)).bind(&ids_json).bind(&externals).fetch_all(&mut *tx).await?;
        for (id, job_id, started_at, result, answered_slot, external_id, bytes) in rows {
            if let Some(job) = jobs.get_mut(&job_id)
                && !job.runs.iter().any(|r| r.id == id)
            {
                job.runs.push(RunCopy { id, started_at, result, answered_slot, external_id, bytes });
            }
        }

        // Ids for new runs, in the order the reports came.
        let ids: Vec<i64> = if pg {
            sqlx::query_scalar(
                "select nextval(pg_get_serial_sequence('runs', 'id')) from generate_series(1, $1)",
            )
            .bind(reports.len() as i64)
            .fetch_all(&mut *tx)
            .await?
        } else {
            let max: i64 =
                sqlx::query_scalar("select coalesce(max(id), 0) from runs").fetch_one(&mut *tx).await?;
            (1..=reports.len() as i64).map(|i| max + i).collect()
        };

        // Every plan, in order.
        let mut batch = Batch { tz, calendar, now, jobs, ids: ids.into_iter(), writes: Writes::default() };
        let mut outcomes: Vec<Outcome> = reports
            .iter()
            .zip(&targets)
            .enumerate()
            .map(|(i, (r, target))| batch.plan(i, *target, &r.incoming))
            .collect();
        let Batch { jobs, mut writes, .. } = batch;

        // Anomalies: each successful run against the job's recent
        // successful runs (stored, and earlier in this batch).
        let judged =
            json(unique(writes.successes.iter().map(|s| s.job_id)).into_iter().map(Into::into).collect());
        if !writes.successes.is_empty() {
            // One row of JSON, not a row per run: each row is a round trip
            // between the driver's thread and this task.
            let sql = if pg {
                "select coalesce(json_agg(json_build_array(j.id, (select json_agg(json_build_array(x.id, x.started_at, \
                 x.ended_at, x.bytes_processed)) from (select id, started_at, ended_at, bytes_processed from runs \
                 where job_id = j.id and result = 'success' order by started_at desc, id desc limit $2) x))), '[]')::text \
                 from (select (jsonb_array_elements_text($1::jsonb))::bigint as id) j"
            } else {
                "select coalesce(json_group_array(json_array(j.value, json((select json_group_array(json_array(x.id, \
                 x.started_at, x.ended_at, x.bytes_processed)) from (select id, started_at, ended_at, bytes_processed \
                 from runs where job_id = j.value and result = 'success' order by started_at desc, id desc limit $2) x)))), \
                 '[]') from json_each($1) j"
            };
            let found: String = sqlx::query_scalar(sql)
                .bind(&judged)
                .bind(anomaly::HISTORY as i64)
                .fetch_one(&mut *tx)
                .await?;
            let rows = past_successes(&found).map_err(|e| sqlx::Error::Decode(e.into()))?;
            writes.judge(rows);
        }

        // The daily figures as they are, for the days the batch adds to.
        let mut daily: BTreeMap<(i64, String), DailyRow> = BTreeMap::new();
        if !writes.daily.is_empty() {
            let keys = json(
                unique(writes.daily.iter().map(|(job, d)| (*job, d.day.clone())))
                    .into_iter()
                    .map(|(job, day)| serde_json::json!([job, day]))
                    .collect(),
            );
            let sql = format!(
                "select d.job_id, d.day, d.good_first, d.good_last, d.good_max_gap \
                 from {} join job_daily d on d.job_id = {} and d.day = {}",
                pairs(pg, 1),
                pair_item(pg, 0, "bigint"),
                pair_item(pg, 1, "text")
            );
            let rows: Vec<DailyGood> =
                sqlx::query_as(AssertSqlSafe(sql)).bind(&keys).fetch_all(&mut *tx).await?;
            for (job_id, day, first, last, gap) in rows {
                daily.insert((job_id, day), DailyRow { good: (first, last, gap), ..DailyRow::default() });
            }
        }
        let durations = writes.add_daily(&mut daily);

        // Runs: new ones, then the ones that finished.
        for chunk in chunks(&writes.inserts) {
            let sql = format!(
                "insert into runs (id, job_id, started_at, ended_at, result, message, bytes_processed, exit_code, \
                 log_excerpt, external_id, origin, created_at, updated_at, answered_slot, anomaly, anomaly_median) \
                 {}values {}",
                if pg { "overriding system value " } else { "" },
                values(chunk.len(), &[""; 16], pg)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for run in chunk {
                query = query
                    .bind(run.id)
                    .bind(run.job_id)
                    .bind(run.fields.started_at)
                    .bind(run.fields.ended_at)
                    .bind(run.fields.result)
                    .bind(run.fields.message.clone())
                    .bind(run.fields.bytes_processed)
                    .bind(run.fields.exit_code)
                    .bind(run.fields.log.clone())
                    .bind(run.external_id.clone())
                    .bind(run.origin)
                    .bind(run.created_at)
                    .bind(now)
                    .bind(run.answered_slot)
                    .bind(run.anomaly.map(|a| a.kind))
                    .bind(run.anomaly.map(|a| a.median));
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in chunks(&writes.finishes) {
            let sql = format!(
                "update runs set started_at = v.column2, ended_at = v.column3, result = v.column4, \
                 message = coalesce(v.column5, runs.message), bytes_processed = coalesce(v.column6, runs.bytes_processed), \
                 exit_code = coalesce(v.column7, runs.exit_code), log_excerpt = coalesce(v.column8, runs.log_excerpt), \
                 updated_at = v.column9, anomaly = coalesce(v.column10, runs.anomaly), \
                 anomaly_median = coalesce(v.column11, runs.anomaly_median) \
                 from (values {}) as v where runs.id = v.column1",
                values(
                    chunk.len(),
                    &[
                        "bigint",
                        "timestamptz",
                        "timestamptz",
                        "text",
                        "text",
                        "bigint",
                        "bigint",
                        "text",
                        "timestamptz",
                        "text",
                        "bigint"
                    ],
                    pg
                )
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for run in chunk {
                query = query
                    .bind(run.id)
                    .bind(run.fields.started_at)
                    .bind(run.fields.ended_at)
                    .bind(run.fields.result)
                    .bind(run.fields.message.clone())
                    .bind(run.fields.bytes_processed)
                    .bind(run.fields.exit_code)
                    .bind(run.fields.log.clone())
                    .bind(now)
                    .bind(run.anomaly.map(|a| a.kind))
                    .bind(run.anomaly.map(|a| a.median));
            }
            query.execute(&mut *tx).await?;
        }

        // The jobs the batch moved.
        let written: Vec<&JobRow> = {
            let mut rows: Vec<&JobRow> = jobs.values().filter(|j| j.written).map(|j| &j.row).collect();
            rows.sort_by_key(|j| j.id);
            rows
        };
        for chunk in chunks(&written) {
            let sql = format!(
                "update jobs set state = v.column2, last_run_id = v.column3, last_run_at = v.column4, \
                 last_result = v.column5, next_expected_at = v.column6, running_since = v.column7, \
                 updated_at = v.column8 from (values {}) as v where jobs.id = v.column1",
                values(
                    chunk.len(),
                    &[
                        "bigint",
                        "text",
                        "bigint",
                        "timestamptz",
                        "text",
                        "timestamptz",
                        "timestamptz",
                        "timestamptz"
                    ],
                    pg
                )
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for job in chunk {
                query = query
                    .bind(job.id)
                    .bind(job.state)
                    .bind(job.last_run_id)
                    .bind(job.last_run_at)
                    .bind(job.last_result)
                    .bind(job.next_expected_at)
                    .bind(job.running_since)
                    .bind(now);
            }
            query.execute(&mut *tx).await?;
        }

        // Daily figures.
        let rows: Vec<(&(i64, String), &DailyRow)> = daily.iter().filter(|(_, d)| d.touched).collect();
        for chunk in chunks(&rows) {
            let sql = format!(
                "insert into job_daily (job_id, day, success, warning, failed, missed, duration_seconds_sum, \
                 duration_count, bytes_sum, expected, expected_ok, duration_max, good_first, good_last, good_max_gap) \
                 values {} \
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
                values(chunk.len(), &[""; 15], pg)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for ((job_id, day), d) in chunk {
                query = query
                    .bind(*job_id)
                    .bind(day.clone())
                    .bind(d.success)
                    .bind(d.warning)
                    .bind(d.failed)
                    .bind(d.missed)
                    .bind(d.duration_sum)
                    .bind(d.duration_count)
                    .bind(d.bytes)
                    .bind(d.expected)
                    .bind(d.expected_ok)
                    .bind(d.duration_max)
                    .bind(d.good.0)
                    .bind(d.good.1)
                    .bind(d.good.2);
            }
            query.execute(&mut *tx).await?;
        }
        let durations: Vec<(&(i64, String, i64), &i64)> = durations.iter().collect();
        for chunk in chunks(&durations) {
            let sql = format!(
                "insert into job_daily_durations (job_id, day, bucket, runs) values {} \
                 on conflict (job_id, day, bucket) do update set runs = job_daily_durations.runs + excluded.runs",
                values(chunk.len(), &[""; 4], pg)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for ((job_id, day, bucket), runs) in chunk {
                query = query.bind(*job_id).bind(day.clone()).bind(*bucket).bind(**runs);
            }
            query.execute(&mut *tx).await?;
        }

        // Anomalies and state changes, in order (rare: a statement each).
        for found in &writes.anomalies {
            sqlx::query(
                "insert into system_events (kind, job_id, subject, subject_name, details, occurred_at) \
                 values ('run_anomaly', $1, $2, $3, $4, $5)",
            )
            .bind(found.job_id)
            .bind(format!("run:{}", found.run_id))
            .bind(&found.job_name)
            .bind(&found.details)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for event in &writes.events {
            let event_id: i64 = sqlx::query_scalar(
                "insert into job_events (job_id, occurred_at, from_state, to_state, run_id, details) \
                 values ($1, $2, $3, $4, $5, $6) returning id",
            )
            .bind(event.job_id)
            .bind(now)
            .bind(event.from)
            .bind(event.to)
            .bind(event.run_id)
            .bind(&event.details)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(Ok(recorded)) = outcomes.get_mut(event.report) {
                recorded.change = Some(StateChange {
                    event_id,
                    job_id: event.job_id,
                    from: event.from,
                    to: event.to,
                    run_id: event.run_id,
                });
            }
        }
        for job in jobs.values().filter(|j| j.clear_ack) {
            sqlx::query(CLEAR_ACK_SQL).bind(job.row.id).execute(&mut *tx).await?;
        }
        Ok::<_, sqlx::Error>(outcomes)
    })
}

/// A run a report may be about: id, job, start, result, whether it
/// answered a slot, external id, bytes.
type RunOfInterest = (i64, i64, DateTime<Utc>, RunResult, bool, Option<String>, Option<i64>);

/// A stored successful run: job, id, start, end, bytes.
type PastSuccess = (i64, i64, DateTime<Utc>, Option<DateTime<Utc>>, Option<i64>);

/// A day's good-backup span: job, day, first, last, longest gap.
type DailyGood = (i64, String, Option<i64>, Option<i64>, i64);

/// A successful run in a job's history, as anomalies are judged on it.
struct Past {
    started_at: DateTime<Utc>,
    id: i64,
    bytes: Option<i64>,
    duration: Option<i64>,
}

/// A job as the batch has left it so far.
struct JobCopy {
    row: JobRow,
    ack: Option<String>,
    /// Its runs in progress and its runs with the batch's external ids
    /// (stored or new).
    runs: Vec<RunCopy>,
    written: bool,
    clear_ack: bool,
}

#[derive(Debug, Clone)]
struct RunCopy {
    id: i64,
    started_at: DateTime<Utc>,
    result: RunResult,
    answered_slot: bool,
    external_id: Option<String>,
    bytes: Option<i64>,
}

/// A run to insert.
struct NewRun {
    id: i64,
    job_id: i64,
    fields: RunFields,
    external_id: Option<String>,
    origin: &'static str,
    answered_slot: bool,
    created_at: DateTime<Utc>,
    anomaly: Option<RunAnomaly>,
}

/// A stored run that finished.
struct Finished {
    id: i64,
    fields: RunFields,
    anomaly: Option<RunAnomaly>,
}

/// Where a run of the batch is written.
#[derive(Clone, Copy)]
enum Slot {
    Insert(usize),
    Finish(usize),
}

/// A successful run to judge.
struct Success {
    job_id: i64,
    job_name: String,
    run_id: i64,
    slot: Slot,
    started_at: DateTime<Utc>,
    bytes: Option<i64>,
    duration: Option<i64>,
}

struct Found {
    job_id: i64,
    run_id: i64,
    job_name: String,
    details: String,
}

struct Event {
    report: usize,
    job_id: i64,
    from: JobState,
    to: JobState,
    run_id: Option<i64>,
    details: Option<String>,
}

#[derive(Default)]
struct Writes {
    inserts: Vec<NewRun>,
    finishes: Vec<Finished>,
    /// Run id → where it is written.
    slots: HashMap<i64, Slot>,
    daily: Vec<(i64, DailyDelta)>,
    successes: Vec<Success>,
    anomalies: Vec<Found>,
    events: Vec<Event>,
}

/// A day's figures of a job: what the batch adds, and the good-backup
/// span as it will be.
#[derive(Default)]
struct DailyRow {
    touched: bool,
    success: i64,
    warning: i64,
    failed: i64,
    missed: i64,
    duration_sum: i64,
    duration_count: i64,
    bytes: i64,
    expected: i64,
    expected_ok: i64,
    duration_max: Option<i64>,
    good: (Option<i64>, Option<i64>, i64),
}

struct Batch<'a> {
    tz: Tz,
    calendar: &'a Arc<BusinessCalendar>,
    now: DateTime<Utc>,
    jobs: HashMap<i64, JobCopy>,
    ids: std::vec::IntoIter<i64>,
    writes: Writes,
}

impl Batch<'_> {
    /// Plans one report and applies it to the batch's copies.
    fn plan(&mut self, report: usize, target: Option<i64>, incoming: &Incoming) -> Outcome {
        let job_id = target.ok_or(IngestError::NoJob)?;
        let job = self.jobs.get_mut(&job_id).ok_or(IngestError::NoJob)?;
        let finished = incoming.result != RunResult::Running;
        let stored = match (&incoming.external_id, finished) {
            (Some(external), _) => job.runs.iter().find(|r| r.external_id.as_ref() == Some(external)),
            (None, true) => job
                .runs
                .iter()
                .filter(|r| r.result == RunResult::Running)
                .max_by_key(|r| (r.started_at, r.id)),
            (None, false) => None,
        }
        .map(|r| StoredRun {
            id: r.id,
            started_at: r.started_at,
            result: r.result,
            answered_slot: r.answered_slot,
        });
        let others_running_since = job
            .runs
            .iter()
            .filter(|r| r.result == RunResult::Running && Some(r.id) != stored.map(|s| s.id))
            .map(|r| r.started_at)
            .min();
        let plan = ingest::plan_report(
            &job.row.facts(self.tz),
            stored,
            others_running_since,
            incoming,
            self.now,
            self.tz,
        )?;
        let (run, job_write, daily, event) = match plan {
            ReportPlan::Duplicate { run_id, state } => {
                return Ok(Recorded { created: false, job_id, run_id, state, change: None });
            }
            ReportPlan::Write { run, job, daily, event } => (run, job, daily, event),
        };

        // The run.
        let (run_id, bytes) = match run {
            RunWrite::Insert { fields, external_id, origin, answered_slot } => {
                // One id per report was set aside: never short.
                let id = self.ids.next().unwrap_or_default();
                let bytes = fields.bytes_processed;
                job.runs.push(RunCopy {
                    id,
                    started_at: fields.started_at,
                    result: fields.result,
                    answered_slot,
                    external_id: external_id.clone(),
                    bytes,
                });
                self.writes.slots.insert(id, Slot::Insert(self.writes.inserts.len()));
                self.writes.inserts.push(NewRun {
                    id,
                    job_id,
                    fields,
                    external_id,
                    origin,
                    answered_slot,
                    created_at: self.now,
                    anomaly: None,
                });
                (id, bytes)
            }
            RunWrite::Finish { id, fields } => {
                let mut bytes = fields.bytes_processed;
                if let Some(copy) = job.runs.iter_mut().find(|r| r.id == id) {
                    copy.started_at = fields.started_at;
                    copy.result = fields.result;
                    copy.bytes = fields.bytes_processed.or(copy.bytes);
                    bytes = copy.bytes;
                }
                match self.writes.slots.get(&id) {
                    // Started earlier in this batch: the insert carries the end.
                    Some(Slot::Insert(i)) => {
                        let new = &mut self.writes.inserts[*i];
                        new.fields = RunFields {
                            message: fields.message.or(new.fields.message.take()),
                            bytes_processed: fields.bytes_processed.or(new.fields.bytes_processed),
                            exit_code: fields.exit_code.or(new.fields.exit_code),
                            log: fields.log.or(new.fields.log.take()),
                            ..fields
                        };
                    }
                    // A stored run finishes once: afterwards it is no longer running.
                    _ => {
                        self.writes.slots.insert(id, Slot::Finish(self.writes.finishes.len()));
                        self.writes.finishes.push(Finished { id, fields, anomaly: None });
                    }
                }
                (id, bytes)
            }
        };
        let resolve = |r: RunRef| match r {
            RunRef::Stored(id) => id,
            RunRef::New => run_id,
        };

        // The job.
        let row = &mut job.row;
        row.state = job_write.state;
        row.last_run_id = job_write.last_run.map(resolve);
        row.last_run_at = job_write.last_run_at;
        row.last_result = job_write.last_result;
        row.next_expected_at = job_write.next_expected_at;
        row.running_since = job_write.running_since;
        // A business-day job's next expected time, computed without the
        // calendar, moves to the first business day.
        if row.business_days_only
            && let Some(next) = row.next_expected_at
        {
            row.next_expected_at = row.expected_in(self.tz, self.calendar).skip_closed(next);
        }
        job.written = true;

        if let Some(delta) = daily {
            if delta.result == RunResult::Success {
                self.writes.successes.push(Success {
                    job_id,
                    job_name: job.row.name.clone(),
                    run_id,
                    slot: self.writes.slots.get(&run_id).copied().unwrap_or(Slot::Insert(0)),
                    started_at: job.runs.iter().find(|r| r.id == run_id).map_or(self.now, |r| r.started_at),
                    bytes,
                    duration: delta.duration_seconds,
                });
            }
            self.writes.daily.push((job_id, delta));
        }
        let recorded = Recorded { created: true, job_id, run_id, state: job_write.state, change: None };
        if let Some(event) = event {
            let run_id = event.run.map(resolve);
            if job
                .ack
                .as_deref()
                .and_then(JobProblem::parse)
                .is_some_and(|p| ack::ends(p, event.from, event.to))
            {
                job.ack = None;
                job.clear_ack = true;
            }
            self.writes.events.push(Event {
                report,
                job_id,
                from: event.from,
                to: event.to,
                run_id,
                details: event.details,
            });
        }
        // The change is filled in once its event is stored (see `record`).
        Ok(recorded)
    }
}

impl Writes {
    /// Judges each successful run against the job's recent successful
    /// runs: the stored ones (`stored`: job, run, start, end, bytes) and
    /// those earlier in this batch.
    fn judge(&mut self, stored: Vec<PastSuccess>) {
        let mut past: HashMap<i64, Vec<Past>> = HashMap::new();
        for (job_id, id, started_at, ended, bytes) in stored {
            let duration = ended.map(|e| (e - started_at).num_seconds().max(0));
            past.entry(job_id).or_default().push(Past { started_at, id, bytes, duration });
        }
        for success in &self.successes {
            let runs = past.entry(success.job_id).or_default();
            let mut history: Vec<&Past> = runs.iter().filter(|r| r.id != success.run_id).collect();
            history.sort_by_key(|r| std::cmp::Reverse((r.started_at, r.id)));
            let history: Vec<(Option<i64>, Option<i64>)> =
                history.into_iter().take(anomaly::HISTORY).map(|r| (r.bytes, r.duration)).collect();
            if let Some(found) = anomaly::detect(success.bytes, success.duration, &history) {
                match success.slot {
                    Slot::Insert(i) => self.inserts[i].anomaly = Some(found),
                    Slot::Finish(i) => self.finishes[i].anomaly = Some(found),
                }
                self.anomalies.push(Found {
                    job_id: success.job_id,
                    run_id: success.run_id,
                    job_name: success.job_name.clone(),
                    details: anomaly::describe(&found),
                });
            }
            runs.push(Past {
                started_at: success.started_at,
                id: success.run_id,
                bytes: success.bytes,
                duration: success.duration,
            });
        }
    }

    /// Adds the batch's finished runs to the daily figures (`daily` holds
    /// the stored good-backup spans); returns the duration histogram
    /// increments.
    fn add_daily(&self, daily: &mut BTreeMap<(i64, String), DailyRow>) -> BTreeMap<(i64, String, i64), i64> {
        let mut durations = BTreeMap::new();
        for (job_id, delta) in &self.daily {
            let row = daily.entry((*job_id, delta.day.clone())).or_default();
            row.touched = true;
            let count = |r: RunResult| i64::from(delta.result == r);
            row.success += count(RunResult::Success);
            row.warning += count(RunResult::Warning);
            row.failed += i64::from(matches!(delta.result, RunResult::Failed | RunResult::Running));
            row.missed += count(RunResult::Missed);
            row.duration_sum += delta.duration_seconds.unwrap_or(0);
            row.duration_count += i64::from(delta.duration_seconds.is_some());
            row.bytes += delta.bytes;
            row.expected += i64::from(delta.expected);
            row.expected_ok +=
                i64::from(delta.expected && matches!(delta.result, RunResult::Success | RunResult::Warning));
            row.duration_max = row.duration_max.max(delta.duration_seconds);
            row.good = next_good(row.good, delta.good_at);
            if let Some(seconds) = delta.duration_seconds {
                *durations
                    .entry((*job_id, delta.day.clone(), ingest::duration_bucket(seconds)))
                    .or_insert(0) += 1;
            }
        }
        durations
    }
}

/// When good backups became available that day: first, last and the
/// longest gap between two, after one more at `at` (a run reported out of
/// order that falls inside the day's span keeps the gap it may have split:
/// an upper bound, as RPO compliance wants).
pub fn next_good(
    (first, last, gap): (Option<i64>, Option<i64>, i64),
    at: Option<DateTime<Utc>>,
) -> (Option<i64>, Option<i64>, i64) {
    match at.map(|t| t.timestamp()) {
        None => (first, last, gap),
        Some(at) => match (first, last) {
            (Some(f), Some(l)) => (Some(f.min(at)), Some(l.max(at)), gap.max(at - l).max(f - at)),
            _ => (Some(at), Some(at), gap),
        },
    }
}

/// The stored successful runs of [`record`]'s history statement: a JSON
/// array of `[job, [[id, start, end, bytes], ...] | null]`.
fn past_successes(found: &str) -> Result<Vec<PastSuccess>, String> {
    type Job = (i64, Option<Vec<(i64, String, Option<String>, Option<i64>)>>);
    let time = |t: &str| {
        DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)).map_err(|e| format!("{t}: {e}"))
    };
    let jobs: Vec<Job> = serde_json::from_str(found).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (job_id, runs) in jobs {
        for (id, started, ended, bytes) in runs.unwrap_or_default() {
            out.push((job_id, id, time(&started)?, ended.as_deref().map(time).transpose()?, bytes));
        }
    }
    Ok(out)
}

/// The distinct values, in first-seen order.
fn unique<T: Eq + std::hash::Hash + Clone>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    values.filter(|v| seen.insert(v.clone())).collect()
}

/// A list of values passed as one JSON array in parameter `$n`.
fn list(pg: bool, n: usize, ty: &str) -> String {
    if pg {
        format!("select (jsonb_array_elements_text(${n}::jsonb))::{ty}")
    } else {
        format!("select value from json_each(${n})")
    }
}

/// Pairs (`[a, b]` JSON arrays) passed as one JSON array in parameter
/// `$n`, as a `from` item named `p`.
fn pairs(pg: bool, n: usize) -> String {
    if pg { format!("jsonb_array_elements(${n}::jsonb) p") } else { format!("json_each(${n}) p") }
}

/// Item `i` of a pair of [`pairs`], as `ty`.
fn pair_item(pg: bool, i: usize, ty: &str) -> String {
    if pg { format!("(p.value ->> {i})::{ty}") } else { format!("(p.value ->> {i})") }
}

/// `rows` rows of `types.len()` parameters for `values (…)`. On
/// PostgreSQL (`pg`) they are numbered and the first row names the types
/// given (the other rows follow); on SQLite they are plain `?`: the driver
/// looks each numbered parameter's name up, which SQLite does by walking
/// the statement's list of names (quadratic in the count: seconds for a
/// statement of thousands).
pub(crate) fn values(rows: usize, types: &[&str], pg: bool) -> String {
    let cols = types.len();
    let mut sql = String::with_capacity(rows * cols * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (col, ty) in types.iter().enumerate() {
            if col > 0 {
                sql.push_str(", ");
            }
            if !pg {
                sql.push('?');
                continue;
            }
            sql.push('$');
            sql.push_str(&(row * cols + col + 1).to_string());
            if row == 0 && !ty.is_empty() {
                sql.push_str("::");
                sql.push_str(ty);
            }
        }
        sql.push(')');
    }
    sql
}

/// Splits `items` into chunks of a few fixed sizes (256, 64, 16, 4, 1), so
/// multi-row statements come in a few shapes the statement cache keeps.
fn chunks<T>(items: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let size = [256, 64, 16, 4, 1].into_iter().find(|s| *s <= rest.len()).unwrap_or(1);
        let (head, tail) = rest.split_at(size);
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use chrono::{Duration, DurationRound};

    use super::*;
    use crate::{
        db_test,
        model::{job::JobSource, schedule::ScheduleKind},
        on_db,
        ssr::jobs::{ingest::ReportError, store::jobs as jobs_db},
    };

    async fn new_job(db: &Db, name: &str, interval: Option<i64>) -> i64 {
        let job = jobs_db::NewJobRow {
            definition: jobs_db::Definition {
                name,
                description: "",
                schedule_kind: if interval.is_some() { ScheduleKind::Interval } else { ScheduleKind::None },
                schedule_cron: None,
                schedule_timezone: None,
                schedule_interval_seconds: interval,
                grace_seconds: 600,
                max_duration_seconds: None,
                owner_id: None,
            },
            source: JobSource::Push,
            ping_token: &format!("token-{name}"),
            veeam_server_id: None,
            veeam_job_id: None,
            tags: &[],
            next_expected_at: None,
        };
        jobs_db::create(db, &job).await.unwrap()
    }

    /// A mixed day of reports for `jobs` jobs (index, by id or by token):
    /// plain results, start/finish pairs with and without run ids (some
    /// sent twice), steady byte counts then a tiny one (an anomaly), bad
    /// times, unknown jobs.
    fn reports(jobs: usize) -> Vec<(usize, bool, Incoming)> {
        let base = Utc::now().duration_trunc(Duration::hours(1)).unwrap() - Duration::days(2);
        let at = |i: usize| base + Duration::minutes(7 * i as i64);
        let plain = |result, i: usize, bytes| Incoming {
            result,
            started_at: Some(at(i)),
            ended_at: Some(at(i) + Duration::seconds(300 + (i % 7) as i64)),
            message: Some(format!("report {i}")),
            bytes_processed: bytes,
            exit_code: None,
            external_id: None,
            log: Some(format!("log {i}")),
            origin: "api",
        };
        let mut out = Vec::new();
        for i in 0..240 {
            let job = i % jobs;
            let by_token = i % 3 == 0;
            let incoming = match i % 12 {
                0 | 1 | 2 | 5 => plain(RunResult::Success, i, Some(1_000_000 + (i as i64 % 5) * 1000)),
                3 => plain(RunResult::Failed, i, None),
                4 => plain(RunResult::Warning, i, Some(900_000)),
                6 => Incoming {
                    result: RunResult::Running,
                    ended_at: None,
                    external_id: Some(format!("rid-{}", i / 12)),
                    ..plain(RunResult::Running, i, None)
                },
                7 => Incoming {
                    started_at: None,
                    external_id: Some(format!("rid-{}", (i - 1) / 12)),
                    ..plain(
                        if i % 5 == 0 { RunResult::Failed } else { RunResult::Success },
                        i,
                        Some(1_000_500),
                    )
                },
                8 => Incoming {
                    result: RunResult::Running,
                    ended_at: None,
                    ..plain(RunResult::Running, i, None)
                },
                9 => Incoming { started_at: None, ..plain(RunResult::Success, i, None) },
                // Bad times: refused, nothing written.
                10 => Incoming {
                    ended_at: Some(at(i) - Duration::hours(1)),
                    ..plain(RunResult::Success, i, None)
                },
                _ => plain(RunResult::Success, i, Some(if i > 200 { 10 } else { 1_001_000 })),
            };
            out.push((job, by_token, incoming.clone()));
            // The same finish (or start) sent again.
            if matches!(i % 12, 6 | 7) && i % 24 < 12 {
                out.push((job, by_token, incoming));
            }
        }
        // An unknown job, by id and by token.
        out.insert(17, (usize::MAX, false, plain(RunResult::Success, 17, None)));
        out.insert(42, (usize::MAX, true, plain(RunResult::Success, 42, None)));
        out
    }

    fn report(ids: &[i64], prefix: &str, (job, by_token, incoming): &(usize, bool, Incoming)) -> Report {
        let job = match (ids.get(*job), by_token) {
            (Some(id), false) => JobRef::Id(*id),
            (Some(_), true) => JobRef::Token(format!("token-{prefix}{job}")),
            (None, false) => JobRef::Id(-5),
            (None, true) => JobRef::Token("no such token".into()),
        };
        Report { job, incoming: incoming.clone() }
    }

    /// What a job ended up with, without ids and times of writing.
    async fn written(db: &Db, id: i64) -> String {
        let job = jobs_db::find(db, id).await.unwrap().unwrap();
        let (runs, events, anomalies, daily, durations): (String, String, i64, String, String) = on_db!(db, |pool| {
            sqlx::query_as(
                "select \
                 (select coalesce(string_agg(result || ',' || coalesce(external_id, '-') || ',' || coalesce(message, '-') \
                   || ',' || coalesce(cast(bytes_processed as text), '-') || ',' || coalesce(log_excerpt, '-') \
                   || ',' || cast(answered_slot as text) || ',' || coalesce(anomaly, '-'), ';' order by started_at, id), '') \
                   from runs where job_id = $1), \
                 (select coalesce(string_agg(from_state || '>' || to_state || ':' || coalesce(details, '-'), ';' order by id), '') \
                   from job_events where job_id = $1), \
                 (select count(*) from system_events where job_id = $1 and kind = 'run_anomaly'), \
                 (select coalesce(string_agg(day || ',' || success || ',' || warning || ',' || failed || ',' || missed \
                   || ',' || bytes_sum || ',' || expected || ',' || expected_ok || ',' || duration_count, ';' order by day), '') \
                   from job_daily where job_id = $1), \
                 (select coalesce(string_agg(day || ',' || bucket || ',' || runs, ';' order by day, bucket), '') \
                   from job_daily_durations where job_id = $1)",
            )
            .bind(id)
            .fetch_one(pool)
            .await
        })
        .unwrap();
        format!(
            "{:?} {:?} {} {:?}\nruns {runs}\nevents {events}\nanomalies {anomalies}\ndaily {daily}\ndurations {durations}",
            job.state,
            job.last_result,
            job.running_since.is_some(),
            job.next_expected_at
        )
    }

    fn summary(outcome: &Outcome) -> String {
        match outcome {
            Ok(r) => format!("{} {:?} {:?}", r.created, r.state, r.change.as_ref().map(|c| (c.from, c.to))),
            Err(IngestError::NoJob) => "no job".into(),
            Err(IngestError::Report(e)) => format!("{e:?}"),
            Err(IngestError::Db(e)) => format!("db {e}"),
        }
    }

    /// One batch writes exactly what the same reports recorded one at a
    /// time write: runs, job states, events, anomalies, daily figures, and
    /// each report's answer.
    async fn a_batch_writes_what_reports_one_at_a_time_write(db: &Db) {
        const JOBS: usize = 5;
        let mut batched = Vec::new();
        let mut single = Vec::new();
        for j in 0..JOBS {
            let interval = (j % 2 == 0).then_some(3600);
            batched.push(new_job(db, &format!("a{j}"), interval).await);
            single.push(new_job(db, &format!("b{j}"), interval).await);
        }
        let calendar = Arc::new(BusinessCalendar::new(false, Vec::new()));
        let reports = reports(JOBS);
        assert!(reports.len() <= MAX_BATCH);
        let batch: Vec<Report> = reports.iter().map(|r| report(&batched, "a", r)).collect();
        let outcomes = record(db, chrono_tz::Asia::Tokyo, &calendar, &batch).await.unwrap();
        let mut one_by_one = Vec::new();
        for r in &reports {
            let one =
                record(db, chrono_tz::Asia::Tokyo, &calendar, &[report(&single, "b", r)]).await.unwrap();
            one_by_one.extend(one);
        }
        let a: Vec<String> = outcomes.iter().map(summary).collect();
        let b: Vec<String> = one_by_one.iter().map(summary).collect();
        assert_eq!(a, b);
        assert!(a.iter().filter(|s| *s == "no job").count() == 2, "{a:?}");
        assert!(a.iter().any(|s| s == &format!("{:?}", ReportError::EndsBeforeStart)));
        assert!(a.iter().any(|s| s.starts_with("false")), "duplicates are answered as such");
        let mut anomalies = 0;
        for (x, y) in batched.iter().zip(&single) {
            let (x, y) = (written(db, *x).await, written(db, *y).await);
            assert_eq!(x, y);
            anomalies += i64::from(!x.contains("anomalies 0"));
        }
        assert!(anomalies > 0, "the tiny late backups are anomalies");
        // The events name the runs of their own job.
        let stray: i64 = on_db!(db, |pool| {
            sqlx::query_scalar(
                "select count(*) from job_events e join runs r on r.id = e.run_id where r.job_id <> e.job_id",
            )
            .fetch_one(pool)
            .await
        })
        .unwrap();
        assert_eq!(stray, 0);
    }
    db_test!(batch_is_one_at_a_time_on, a_batch_writes_what_reports_one_at_a_time_write);

    #[test]
    fn chunks_come_in_few_sizes() {
        let items: Vec<u32> = (0..345).collect();
        let sizes: Vec<usize> = chunks(&items).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![256, 64, 16, 4, 4, 1]);
        assert_eq!(sizes.iter().sum::<usize>(), 345);
        assert!(chunks::<u32>(&[]).is_empty());
    }

    #[test]
    fn values_cast_the_first_row_only() {
        assert_eq!(values(2, &["bigint", "text"], true), "($1::bigint, $2::text), ($3, $4)");
        assert_eq!(values(2, &["", ""], true), "($1, $2), ($3, $4)");
        assert_eq!(values(2, &["bigint", "text"], false), "(?, ?), (?, ?)");
    }
}
