//! The `jobs` and `job_tags` tables: reads, and the writes of a job's
//! definition. What runs do to a job is written by `writes`.

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::{
    model::{
        job::{JobSource, JobState, RunResult},
        schedule::{Schedule, ScheduleKind},
    },
    on_db,
    ssr::{
        infra::db::{Db, is_unique_violation, read_row, readable},
        jobs::{calendar::BusinessCalendar, ingest::JobFacts, schedule::Expected},
    },
};

/// A row of `jobs`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobRow {
    /// Primary key.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Where its runs come from.
    pub source: JobSource,
    /// How its runs are expected.
    pub schedule_kind: ScheduleKind,
    /// Cron expression.
    pub schedule_cron: Option<String>,
    /// IANA zone of the cron expression.
    pub schedule_timezone: Option<String>,
    /// Interval in seconds.
    pub schedule_interval_seconds: Option<i64>,
    /// Grace period.
    pub grace_seconds: i64,
    /// Maximum duration.
    pub max_duration_seconds: Option<i64>,
    /// Owner.
    pub owner_id: Option<i64>,
    /// Current state.
    pub state: JobState,
    /// Paused flag.
    pub paused: bool,
    /// End of a timed pause.
    pub paused_until: Option<DateTime<Utc>>,
    /// Secret of the ping URLs.
    pub ping_token: String,
    /// Veeam server.
    pub veeam_server_id: Option<i64>,
    /// Veeam job id.
    pub veeam_job_id: Option<String>,
    /// When a synced Veeam job disappeared.
    pub removed_at: Option<DateTime<Utc>>,
    /// Latest run.
    pub last_run_id: Option<i64>,
    /// Its start.
    pub last_run_at: Option<DateTime<Utc>>,
    /// Its result.
    pub last_result: Option<RunResult>,
    /// Next expected start.
    pub next_expected_at: Option<DateTime<Utc>>,
    /// Start of the run in progress.
    pub running_since: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Where the expected schedule comes from: `console` or `veeam`.
    pub schedule_from: String,
    /// The schedule read from Veeam: `none`, `cron`, `interval` or `next_run`.
    pub veeam_schedule_kind: Option<String>,
    /// Veeam's next run, remembered across syncs.
    pub veeam_next_run_at: Option<DateTime<Utc>>,
    /// Recovery point objective in hours.
    pub rpo_hours: Option<i64>,
    /// Machines outside the RPO now.
    pub rpo_machines_breached: i64,
    /// The Veeam schedule's cron.
    pub veeam_schedule_cron: Option<String>,
    /// Its zone.
    pub veeam_schedule_timezone: Option<String>,
    /// Its interval.
    pub veeam_schedule_interval_seconds: Option<i64>,
    /// What it is when it does not map.
    pub veeam_schedule_summary: Option<String>,
    /// `scheduled`, `unscheduled`, `disabled`.
    pub veeam_schedule_state: Option<String>,
    /// Expected on business days only (no run expected on a closed day).
    pub business_days_only: bool,
}

impl JobRow {
    /// Whether the job follows Veeam's own next run (a schedule that maps
    /// to neither cron nor an interval).
    pub fn follows_veeam_next_run(&self) -> bool {
        self.schedule_from == "veeam" && self.veeam_schedule_kind.as_deref() == Some("next_run")
    }

    /// The job's schedule, from its stored columns. A stored schedule that
    /// does not parse (which validation prevents) counts as none.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            kind: self.schedule_kind,
            cron: self.schedule_cron.clone(),
            timezone: self.schedule_timezone.clone(),
            interval_seconds: self.schedule_interval_seconds,
        }
    }

    /// The job's expected runs; `default_tz` for cron schedules without a
    /// zone. A stored schedule that no longer parses (validation prevents
    /// it; a newer cron dialect could cause it) is logged as an error and
    /// the job is treated as unscheduled until it is saved again.
    pub fn expected(&self, default_tz: Tz) -> Expected {
        if self.follows_veeam_next_run() {
            return Expected::NextRun(self.veeam_next_run_at);
        }
        Expected::parse(&self.schedule(), default_tz).unwrap_or_else(|error| {
            tracing::error!(
                job_id = self.id,
                ?error,
                "a stored schedule cannot be read; the job is treated as unscheduled"
            );
            Expected::None
        })
    }

    /// The job's expected runs with the business calendar: for a job
    /// expected on business days only, an occurrence on a closed day of
    /// `calendar` (its date in `default_tz`, the console's zone) is skipped.
    pub fn expected_in(&self, default_tz: Tz, calendar: &Arc<BusinessCalendar>) -> Expected {
        let expected = self.expected(default_tz);
        if self.business_days_only {
            expected.on_business_days(Arc::clone(calendar), default_tz)
        } else {
            expected
        }
    }

    /// [`JobRow::facts`] with the business calendar ([`JobRow::expected_in`]).
    pub fn facts_in(&self, default_tz: Tz, calendar: &Arc<BusinessCalendar>) -> JobFacts {
        let mut facts = self.facts(default_tz);
        if self.business_days_only {
            facts.expected = facts.expected.on_business_days(Arc::clone(calendar), default_tz);
        }
        facts
    }

    /// What the ingest plans need to know about the job.
    pub fn facts(&self, default_tz: Tz) -> JobFacts {
        JobFacts {
            state: self.state,
            paused: self.paused,
            last_run_id: self.last_run_id,
            last_run_at: self.last_run_at,
            last_result: self.last_result,
            next_expected_at: self.next_expected_at,
            running_since: self.running_since,
            grace: chrono::Duration::seconds(self.grace_seconds),
            expected: self.expected(default_tz),
        }
    }
}

/// The column list of [`JobRow`].
#[macro_export]
macro_rules! job_columns {
    () => {
        "id, name, description, source, schedule_kind, schedule_cron, schedule_timezone, \
         schedule_interval_seconds, grace_seconds, max_duration_seconds, owner_id, state, paused, \
         paused_until, ping_token, veeam_server_id, veeam_job_id, removed_at, last_run_id, last_run_at, \
         last_result, next_expected_at, running_since, created_at, updated_at, schedule_from, \
         veeam_schedule_kind, veeam_next_run_at, rpo_hours, rpo_machines_breached, veeam_schedule_cron, \
         veeam_schedule_timezone, veeam_schedule_interval_seconds, veeam_schedule_summary, veeam_schedule_state, \
         business_days_only"
    };
}

/// A job's definition: what users and the API set.
#[derive(Debug, Clone)]
pub struct Definition<'a> {
    /// Name.
    pub name: &'a str,
    /// Description.
    pub description: &'a str,
    /// How runs are expected.
    pub schedule_kind: ScheduleKind,
    /// Cron.
    pub schedule_cron: Option<&'a str>,
    /// Zone.
    pub schedule_timezone: Option<&'a str>,
    /// Interval.
    pub schedule_interval_seconds: Option<i64>,
    /// Grace.
    pub grace_seconds: i64,
    /// Maximum duration.
    pub max_duration_seconds: Option<i64>,
    /// Owner.
    pub owner_id: Option<i64>,
}

/// Why a job could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteJobError {
    /// The name is taken.
    #[error("a job with this name exists")]
    NameTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn name_conflict(e: sqlx::Error) -> WriteJobError {
    if is_unique_violation(&e) { WriteJobError::NameTaken } else { WriteJobError::Db(e) }
}

/// Everything a new job's row holds.
#[derive(Debug, Clone)]
pub struct NewJobRow<'a> {
    /// What users and the API set.
    pub definition: Definition<'a>,
    /// Where its runs come from.
    pub source: JobSource,
    /// The secret of its ping URLs ([`new_ping_token`]).
    pub ping_token: &'a str,
    /// Its Veeam server, for a synced Veeam job.
    pub veeam_server_id: Option<i64>,
    /// Its Veeam job id.
    pub veeam_job_id: Option<&'a str>,
    /// Its tags, normalised.
    pub tags: &'a [String],
    /// When its first run is expected.
    pub next_expected_at: Option<DateTime<Utc>>,
}

/// Creates a job with its tags; returns its id.
#[tracing::instrument(skip_all, fields(name = %job.definition.name))]
pub async fn create(db: &Db, job: &NewJobRow<'_>) -> Result<i64, WriteJobError> {
    let now = Utc::now();
    let NewJobRow {
        definition: def,
        source,
        ping_token,
        veeam_server_id,
        veeam_job_id,
        tags,
        next_expected_at,
    } = job;
    let result: Result<i64, sqlx::Error> = async {
        crate::on_tx!(db, |tx, _lock| {
            let id: i64 = sqlx::query_scalar(
                "insert into jobs (name, description, source, schedule_kind, schedule_cron, schedule_timezone, \
                 schedule_interval_seconds, grace_seconds, max_duration_seconds, owner_id, state, paused, \
                 ping_token, veeam_server_id, veeam_job_id, next_expected_at, created_at, updated_at, \
                 schedule_from) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'new', false, $11, $12, $13, $14, $15, $15, $16) \
                 returning id",
            )
            .bind(def.name)
            .bind(def.description)
            .bind(source)
            .bind(def.schedule_kind)
            .bind(def.schedule_cron)
            .bind(def.schedule_timezone)
            .bind(def.schedule_interval_seconds)
            .bind(def.grace_seconds)
            .bind(def.max_duration_seconds)
            .bind(def.owner_id)
            .bind(ping_token)
            .bind(veeam_server_id)
            .bind(veeam_job_id)
            .bind(next_expected_at)
            .bind(now)
            // A Veeam job without a schedule of its own follows Veeam's.
            .bind(if *source == JobSource::Veeam && def.schedule_kind == ScheduleKind::None { "veeam" } else { "console" })
            .fetch_one(&mut *tx)
            .await?;
            for tag in tags.iter() {
                sqlx::query("insert into job_tags (job_id, tag) values ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            Ok(id)
        })
    }
    .await;
    result.map_err(name_conflict)
}

/// Replaces a job's definition and tags; `next_expected_at` is recomputed
/// by the caller from the new schedule. False when the job does not exist.
#[tracing::instrument(skip_all, fields(id))]
pub async fn update_definition(
    db: &Db,
    id: i64,
    def: &Definition<'_>,
    tags: &[String],
    next_expected_at: Option<DateTime<Utc>>,
) -> Result<bool, WriteJobError> {
    let now = Utc::now();
    let result: Result<bool, sqlx::Error> = async {
        crate::on_tx!(db, |tx, _lock| {
            let changed = sqlx::query(
                "update jobs set name = $1, description = $2, schedule_kind = $3, schedule_cron = $4, \
                 schedule_timezone = $5, schedule_interval_seconds = $6, grace_seconds = $7, \
                 max_duration_seconds = $8, owner_id = $9, next_expected_at = $10, updated_at = $11 \
                 where id = $12",
            )
            .bind(def.name)
            .bind(def.description)
            .bind(def.schedule_kind)
            .bind(def.schedule_cron)
            .bind(def.schedule_timezone)
            .bind(def.schedule_interval_seconds)
            .bind(def.grace_seconds)
            .bind(def.max_duration_seconds)
            .bind(def.owner_id)
            .bind(next_expected_at)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if changed {
                sqlx::query("delete from job_tags where job_id = $1").bind(id).execute(&mut *tx).await?;
                for tag in tags {
                    sqlx::query("insert into job_tags (job_id, tag) values ($1, $2)")
                        .bind(id)
                        .bind(tag)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            Ok(changed)
        })
    }
    .await;
    result.map_err(name_conflict)
}

/// Sets whether a job is expected on business days only.
#[tracing::instrument(skip_all, fields(id))]
pub async fn set_business_days_only(db: &Db, id: i64, business_days_only: bool) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update jobs set business_days_only = $1 where id = $2 and business_days_only <> $1")
            .bind(business_days_only)
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Moves a job's next expected run from `from` to `to`, unless something
/// else changed it meanwhile; true when it moved.
#[tracing::instrument(skip_all, fields(id))]
pub async fn move_next_expected(
    db: &Db,
    id: i64,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        let done = sqlx::query(
            "update jobs set next_expected_at = $1, updated_at = $2 where id = $3 and next_expected_at = $4",
        )
        .bind(to)
        .bind(Utc::now())
        .bind(id)
        .bind(from)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// One job.
#[tracing::instrument(skip_all, fields(id))]
pub async fn find(db: &Db, id: i64) -> Result<Option<JobRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", job_columns!(), " from jobs where id = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("jobs", r)).transpose()
    })
}

/// The job with this ping token.
#[tracing::instrument(skip_all)]
pub async fn find_by_token(db: &Db, token: &str) -> Result<Option<JobRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", job_columns!(), " from jobs where ping_token = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(token).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("jobs", r)).transpose()
    })
}

/// The Veeam job with this id (on any server), or else the job with this name.
#[tracing::instrument(skip_all)]
pub async fn find_veeam(
    db: &Db,
    veeam_job_id: Option<&str>,
    name: Option<&str>,
) -> Result<Option<JobRow>, sqlx::Error> {
    if let Some(veeam_id) = veeam_job_id {
        const SQL: &str = concat!(
            "select ",
            job_columns!(),
            " from jobs where lower(veeam_job_id) = lower($1) order by id limit 1"
        );
        let found = on_db!(db, |pool| {
            let row = sqlx::query(SQL).bind(veeam_id).fetch_optional(pool).await?;
            row.as_ref().map(|r| read_row("jobs", r)).transpose()
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match name {
        Some(name) => {
            const SQL: &str = concat!("select ", job_columns!(), " from jobs where name = $1");
            on_db!(db, |pool| {
                let row = sqlx::query(SQL).bind(name).fetch_optional(pool).await?;
                row.as_ref().map(|r| read_row("jobs", r)).transpose()
            })
        }
        None => Ok(None),
    }
}

/// Filters of the job list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this state.
    pub state: Option<JobState>,
    /// Only jobs with this tag.
    pub tag: Option<String>,
    /// Only this source.
    pub source: Option<JobSource>,
    /// Name contains this (case-insensitive).
    pub search: Option<String>,
    /// Keyset cursor: names after this one.
    pub after_name: Option<String>,
}

/// Jobs by name, a page at a time (keyset on the unique name).
///
/// The SQL is assembled from the filters actually given, so each query
/// uses its index instead of `($1 is null or ...)` conditions the SQLite
/// planner cannot see through.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, filter: &JobFilter, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    let mut sql = format!("select {} from jobs where 1 = 1", job_columns!());
    let mut binds: Vec<String> = vec![];
    let mut push = |clause: &str, value: String, sql: &mut String| {
        binds.push(value);
        sql.push_str(&clause.replace("$?", &format!("${}", binds.len())));
    };
    if let Some(state) = filter.state {
        push(" and state = $?", state.as_str().to_owned(), &mut sql);
    }
    if let Some(source) = filter.source {
        push(" and source = $?", source.as_str().to_owned(), &mut sql);
    }
    if let Some(tag) = &filter.tag {
        push(
            " and exists (select 1 from job_tags t where t.job_id = jobs.id and t.tag = $?)",
            tag.clone(),
            &mut sql,
        );
    }
    if let Some(search) = &filter.search {
        let escaped = search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        push(" and lower(name) like $? escape '\\'", format!("%{escaped}%"), &mut sql);
    }
    if let Some(after) = &filter.after_name {
        push(" and name > $?", after.clone(), &mut sql);
    }
    sql.push_str(&format!(" order by name limit {}", limit.clamp(1, 500)));
    let sql = sqlx::AssertSqlSafe(sql);
    on_db!(db, |pool| {
        let mut query = sqlx::query(sql);
        for value in &binds {
            query = query.bind(value);
        }
        Ok(readable("jobs", &query.fetch_all(pool).await?))
    })
}

/// Jobs that need attention, worst first: the dashboard's list.
#[tracing::instrument(skip_all)]
pub async fn problems(db: &Db, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "select ",
        job_columns!(),
        " from jobs where (state in ('failed', 'missed', 'overdue', 'late', 'warning') \
         or (rpo_breached_since is not null and removed_at is null) \
         or (veeam_schedule_state = 'unscheduled' and removed_at is null)) \
         order by case state when 'failed' then 0 when 'missed' then 1 when 'overdue' then 2 \
         when 'late' then 3 when 'warning' then 5 else 4 end, last_run_at desc, name limit $1"
    );
    on_db!(db, |pool| Ok(readable("jobs", &sqlx::query(SQL).bind(limit).fetch_all(pool).await?)))
}

/// How many jobs are in each state. A state the code does not know is
/// logged and left out (those jobs are not counted as anything).
#[tracing::instrument(skip_all)]
pub async fn count_by_state(db: &Db) -> Result<Vec<(JobState, i64)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Count {
        state: JobState,
        count: i64,
    }
    let counts: Vec<Count> = on_db!(db, |pool| {
        let rows =
            sqlx::query("select state, count(*) as count from jobs group by state").fetch_all(pool).await?;
        Ok::<_, sqlx::Error>(readable("jobs (count by state)", &rows))
    })?;
    Ok(counts.into_iter().map(|c| (c.state, c.count)).collect())
}

/// A job's newest good backup, for `/metrics`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LastGoodRow {
    /// The job.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// `push` or `veeam`.
    pub source: String,
    /// When its newest successful (or warning) run ended; `None` before the first.
    pub last_good_at: Option<DateTime<Utc>>,
}

/// Every job's newest good backup (jobs removed from Veeam left out): one
/// walk down each job's run index from its newest run, so the cost grows
/// with the jobs, not with their runs.
#[tracing::instrument(skip_all)]
pub async fn last_good(db: &Db) -> Result<Vec<LastGoodRow>, sqlx::Error> {
    const SQL: &str = "select j.id, j.name, j.source, \
         (select r.ended_at from runs r where r.job_id = j.id and r.result in ('success', 'warning') \
          and r.ended_at is not null order by r.started_at desc, r.id desc limit 1) as last_good_at \
         from jobs j where j.removed_at is null order by j.id";
    on_db!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
}

/// The tags of these jobs.
#[tracing::instrument(skip_all)]
pub async fn tags_of(db: &Db, job_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>, sqlx::Error> {
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    // In chunks, so a page of jobs is one or two queries whatever its size.
    for chunk in job_ids.chunks(200) {
        if chunk.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "select job_id, tag from job_tags where job_id in ({}) order by tag",
            placeholders.join(", ")
        ));
        let rows: Vec<(i64, String)> = on_db!(db, |pool| {
            let mut query = sqlx::query_as(sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        for (job_id, tag) in rows {
            tags.entry(job_id).or_default().push(tag);
        }
    }
    Ok(tags)
}

/// Every tag in use, with how many jobs carry it.
#[tracing::instrument(skip_all)]
pub async fn all_tags(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as("select tag, count(*) from job_tags group by tag order by tag").fetch_all(pool).await
    })
}

/// The states and last run times of the jobs that carry `tag`.
pub async fn states_with_tag(
    db: &Db,
    tag: &str,
) -> Result<Vec<(JobState, Option<DateTime<Utc>>)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select j.state, j.last_run_at from jobs j join job_tags t on t.job_id = j.id \
             where t.tag = $1 and j.removed_at is null",
        )
        .bind(tag)
        .fetch_all(pool)
        .await
    })
}

/// Deletes a job with its runs, tags and events. False when absent.
#[tracing::instrument(skip_all, fields(id))]
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let affected = on_db!(db, |pool| {
        sqlx::query("delete from jobs where id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    Ok(affected == 1)
}

/// Jobs whose next expected run is due (at or before `now`), not paused.
#[tracing::instrument(skip_all)]
pub async fn due(db: &Db, now: DateTime<Utc>, limit: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "select ",
        job_columns!(),
        " from jobs where next_expected_at <= $1 and not paused and removed_at is null \
         order by next_expected_at limit $2"
    );
    on_db!(db, |pool| Ok(readable("jobs", &sqlx::query(SQL).bind(now).bind(limit).fetch_all(pool).await?)))
}

/// Paused jobs whose pause has ended.
#[tracing::instrument(skip_all)]
pub async fn pause_ended(db: &Db, now: DateTime<Utc>) -> Result<Vec<JobRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", job_columns!(), " from jobs where paused and paused_until <= $1");
    on_db!(db, |pool| Ok(readable("jobs", &sqlx::query(SQL).bind(now).fetch_all(pool).await?)))
}

/// Jobs with a run in progress and a maximum duration.
#[tracing::instrument(skip_all)]
pub async fn running_with_limit(db: &Db) -> Result<Vec<JobRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "select ",
        job_columns!(),
        " from jobs where running_since is not null and max_duration_seconds is not null and state = 'running'"
    );
    on_db!(db, |pool| Ok(readable("jobs", &sqlx::query(SQL).fetch_all(pool).await?)))
}

/// A job's state changes, oldest first: (from, to).
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn events_of(db: &Db, job_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as("select from_state, to_state from job_events where job_id = $1 and from_state <> to_state order by id")
            .bind(job_id)
            .fetch_all(pool)
            .await
    })
}

/// Sets a job's next expected time (tests and the demo data use it to
/// place jobs in time).
pub async fn set_next_expected(db: &Db, job_id: i64, at: Option<DateTime<Utc>>) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update jobs set next_expected_at = $1 where id = $2")
            .bind(at)
            .bind(job_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// A new secret for ping URLs: 16 random bytes, base64url (22 characters).
pub fn new_ping_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// (id, name) of up to `limit` jobs by name, for choosing jobs in forms.
pub async fn choices(db: &Db, limit: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as("select id, name from jobs order by name limit $1").bind(limit).fetch_all(pool).await
    })
}

/// The states of these jobs (a state that cannot be read is left out).
pub async fn states_of(db: &Db, job_ids: &[i64]) -> Result<HashMap<i64, JobState>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        state: JobState,
    }
    let mut out = HashMap::new();
    for chunk in job_ids.chunks(200) {
        if chunk.is_empty() {
            continue;
        }
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "select id, state from jobs where id in ({})",
            placeholders.join(", ")
        ));
        let rows: Vec<Row> = on_db!(db, |pool| {
            let mut query = sqlx::query(sql);
            for id in chunk {
                query = query.bind(*id);
            }
            Ok::<_, sqlx::Error>(readable("jobs", &query.fetch_all(pool).await?))
        })?;
        out.extend(rows.into_iter().map(|r| (r.id, r.state)));
    }
    Ok(out)
}

/// Sets where a job's schedule comes from (`veeam`: the next sync writes
/// Veeam's schedule and next expected run) and its RPO (`Some(None)`
/// removes it, which also ends a breach).
pub async fn set_expectation_source(
    db: &Db,
    job_id: i64,
    schedule_from: Option<&str>,
    rpo_hours: Option<Option<i64>>,
) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        if let Some(from) = schedule_from {
            sqlx::query(
                "update jobs set schedule_from = $2, \
                 next_expected_at = case when $2 = 'veeam' and schedule_from <> 'veeam' then null else next_expected_at end, \
                 veeam_schedule_kind = case when $2 = 'veeam' and schedule_from <> 'veeam' then null else veeam_schedule_kind end \
                 where id = $1",
            )
            .bind(job_id)
            .bind(from)
            .execute(pool)
            .await?;
        }
        if let Some(hours) = rpo_hours {
            sqlx::query(
                "update jobs set rpo_hours = $2, rpo_machines_breached = case when $2 is null then 0 else rpo_machines_breached end, \
                 rpo_breached_since = case when $2 is null then null else rpo_breached_since end where id = $1",
            )
            .bind(job_id)
            .bind(hours)
            .execute(pool)
            .await?;
        }
        Ok(())
    })
}

/// Protected machines outside their job's RPO, over every job.
pub async fn machines_outside_rpo(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "select cast(coalesce(sum(rpo_machines_breached), 0) as bigint) from jobs \
             where rpo_hours is not null and removed_at is null",
        )
        .fetch_one(pool)
        .await
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::db_test;

    /// Log lines written while it is the thread's default subscriber.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Logs {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
    }

    async fn job(db: &Db, name: &str) -> i64 {
        let def = Definition {
            name,
            description: "",
            schedule_kind: ScheduleKind::None,
            schedule_cron: None,
            schedule_timezone: None,
            schedule_interval_seconds: None,
            grace_seconds: 3600,
            max_duration_seconds: None,
            owner_id: None,
        };
        let job = NewJobRow {
            definition: def,
            source: JobSource::Push,
            ping_token: &new_ping_token(),
            veeam_server_id: None,
            veeam_job_id: None,
            tags: &[],
            next_expected_at: None,
        };
        create(db, &job).await.unwrap()
    }

    /// Stores a state this version does not know (as a newer version, or a
    /// hand edit, could), getting past the check constraint.
    async fn store_unknown_state(db: &Db, id: i64) {
        const UPDATE: &str = "update jobs set state = 'exploded' where id = $1";
        match db {
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.unwrap();
                sqlx::query("pragma ignore_check_constraints = on").execute(&mut *conn).await.unwrap();
                sqlx::query(UPDATE).bind(id).execute(&mut *conn).await.unwrap();
                sqlx::query("pragma ignore_check_constraints = off").execute(&mut *conn).await.unwrap();
            }
            Db::Postgres(pool) => {
                sqlx::query("alter table jobs drop constraint jobs_state_check").execute(pool).await.unwrap();
                sqlx::query(UPDATE).bind(id).execute(pool).await.unwrap();
            }
        }
    }

    async fn a_stored_unknown_state_is_a_logged_error_for_that_row_never_new(db: &Db) {
        let good = job(db, "good").await;
        let bad = job(db, "bad").await;
        store_unknown_state(db, bad).await;
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber =
            tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let listed = list(db, &JobFilter::default(), 50).await.unwrap();
        assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), [good], "the unreadable job is left out");
        assert!(
            find(db, bad).await.is_err(),
            "reading it alone is an error, not a job in some default state"
        );
        let counts = count_by_state(db).await.unwrap();
        assert_eq!(counts, [(JobState::New, 1)], "only the good job is counted (as new)");

        let text = logs.text();
        let line = text
            .lines()
            .find(|l| l.contains(&format!("id={bad}")))
            .unwrap_or_else(|| panic!("no log line names row {bad}:\n{text}"));
        assert!(line.contains("ERROR") && line.contains("table=\"jobs\""), "{line}");
        assert!(line.contains("unknown job state `exploded`"), "{line}");
        assert!(!text.contains(&format!("id={good}")), "the good row is not reported");
    }
    db_test!(unknown_state_on, a_stored_unknown_state_is_a_logged_error_for_that_row_never_new);
}
