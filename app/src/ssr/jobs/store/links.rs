//! Jobs linked to a backup server (Veeam): their link columns on `jobs`
//! (`veeam_server_id`, `veeam_job_id`, `veeam_status`, `removed_at`) and
//! the one way such a job is created, whichever path finds it first (the
//! post-job webhook or the sync).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::FromRow;

use super::jobs::{Definition, JobRow, NewJobRow, WriteJobError, create, find_veeam, new_ping_token};
use crate::{
    model::{job::JobSource, schedule::ScheduleKind},
    on_db, on_tx,
    ssr::infra::db::{Db, is_unique_violation, readable},
};

/// The grace period of jobs made from another system's jobs.
pub const DEFAULT_GRACE_SECONDS: i64 = 3600;

/// A job of another system, to be created in the console.
#[derive(Debug, Clone)]
pub struct LinkedJob<'a> {
    /// Its name there.
    pub name: &'a str,
    /// Its description there.
    pub description: &'a str,
    /// Where it comes from.
    pub source: JobSource,
    /// The server it belongs to (id and name), when known.
    pub server: Option<(i64, &'a str)>,
    /// Its id there (lower-cased Veeam job id).
    pub external_id: Option<&'a str>,
}

/// Creates the console's job for a job of another system; returns its id
/// and whether this call created it.
///
/// Its name is the job's own; when a job of that name exists, the server's
/// name (or `Veeam` when no server is known) is added, then also the
/// external id. When the name is taken because another delivery of the
/// same job created it a moment ago, that job is returned.
pub async fn create_linked(db: &Db, job: &LinkedJob<'_>) -> Result<(i64, bool), WriteJobError> {
    let label = job.server.map_or("Veeam", |(_, name)| name);
    let mut candidates = vec![job.name.to_owned(), format!("{} ({label})", job.name)];
    if let Some(external) = job.external_id {
        candidates.push(format!("{} ({label} {external})", job.name));
    }
    for candidate in &candidates {
        let def = Definition {
            name: candidate,
            description: job.description,
            schedule_kind: ScheduleKind::None,
            schedule_cron: None,
            schedule_timezone: None,
            schedule_interval_seconds: None,
            grace_seconds: DEFAULT_GRACE_SECONDS,
            max_duration_seconds: None,
            owner_id: None,
        };
        let server_id = job.server.map(|(id, _)| id);
        let row = NewJobRow {
            definition: def,
            source: job.source,
            ping_token: &new_ping_token(),
            veeam_server_id: server_id,
            veeam_job_id: job.external_id,
            tags: &[],
            next_expected_at: None,
        };
        match create(db, &row).await {
            Ok(id) => return Ok((id, true)),
            Err(WriteJobError::NameTaken) => {
                // Created meanwhile by a concurrent delivery of the same job?
                let by_name = job.external_id.is_none().then_some(candidate.as_str());
                if let Some(found) = find_veeam(db, job.external_id, by_name).await?
                    && found.source == job.source
                    && (server_id.is_none() || found.veeam_server_id == server_id)
                {
                    return Ok((found.id, false));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(WriteJobError::NameTaken)
}

/// The Veeam jobs known for a server, and webhook-created Veeam jobs not
/// tied to any server yet (the sync adopts them).
pub async fn jobs_of_server(db: &Db, server_id: i64) -> Result<Vec<JobRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "select ",
        crate::job_columns!(),
        " from jobs where veeam_job_id is not null and (veeam_server_id = $1 or (veeam_server_id is null \
         and source = 'veeam' and removed_at is null))"
    );
    on_db!(db, |pool| Ok(readable("jobs", &sqlx::query(SQL).bind(server_id).fetch_all(pool).await?)))
}

/// (id, name) of a server's jobs, by name.
pub async fn names_of_server(db: &Db, server_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as("select id, name from jobs where veeam_server_id = $1 order by name")
            .bind(server_id)
            .fetch_all(pool)
            .await
    })
}

/// Updates a synced job from Veeam. False when the new name is taken.
pub async fn update_synced_job(
    db: &Db,
    job_id: i64,
    server_id: i64,
    name: &str,
    description: &str,
    veeam_status: &str,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let result = on_db!(db, |pool| {
        sqlx::query(
            "update jobs set name = $2, description = $3, veeam_server_id = $4, veeam_status = $5, \
             removed_at = null, updated_at = $6 where id = $1 and (name <> $2 or description <> $3 \
             or veeam_server_id is distinct from $4 or veeam_status is distinct from $5 or removed_at is not null)",
        )
        .bind(job_id)
        .bind(name)
        .bind(description)
        .bind(server_id)
        .bind(veeam_status)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    });
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Sets the Veeam state of a job (after an enable/disable).
pub async fn set_veeam_status(db: &Db, job_id: i64, veeam_status: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update jobs set veeam_status = $2, updated_at = $3 where id = $1")
            .bind(job_id)
            .bind(veeam_status)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// The Veeam state of a job.
pub async fn veeam_status(db: &Db, job_id: i64) -> Result<Option<String>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar("select veeam_status from jobs where id = $1")
            .bind(job_id)
            .fetch_optional(pool)
            .await
    })
    .map(Option::flatten)
}

/// Marks jobs removed from Veeam.
pub async fn mark_removed(db: &Db, job_ids: &[i64]) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    for id in job_ids {
        on_db!(db, |pool| {
            sqlx::query(
                "update jobs set removed_at = $2, updated_at = $2 where id = $1 and removed_at is null",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
    }
    Ok(())
}

/// Unties a server's jobs from it (before the server is removed): they stay,
/// with their history, marked removed.
pub async fn detach_server(db: &Db, server_id: i64) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    on_tx!(db, |tx, _lock| {
        sqlx::query(
            "update jobs set veeam_server_id = null, removed_at = coalesce(removed_at, $2), updated_at = $2 \
             where veeam_server_id = $1",
        )
        .bind(server_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Ok::<_, sqlx::Error>(())
    })
}

/// Jobs per server (not removed).
pub async fn counts_per_server(db: &Db) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select veeam_server_id, count(*) from jobs where veeam_server_id is not null and removed_at is null \
             group by veeam_server_id",
        )
        .fetch_all(pool)
        .await
    })
}

/// Runs still in progress of a server's jobs: (run id, job id, session id).
pub async fn running_sessions(db: &Db, server_id: i64) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select r.id, r.job_id, r.external_id from runs r join jobs j on j.id = r.job_id \
             where j.veeam_server_id = $1 and r.result = 'running' and r.external_id is not null",
        )
        .bind(server_id)
        .fetch_all(pool)
        .await
    })
}

/// A Veeam job's schedule as the sync read it.
#[derive(Debug, Clone, PartialEq)]
pub struct VeeamSchedule {
    /// `none`, `cron`, `interval` or `next_run`.
    pub kind: &'static str,
    /// Cron expression (kind `cron`).
    pub cron: Option<String>,
    /// Its IANA zone (the VBR server's).
    pub timezone: Option<String>,
    /// Interval (kind `interval`).
    pub interval_seconds: Option<i64>,
    /// What the schedule is when it maps to neither (`after:<job>`,
    /// `continuous`, `window`, `seconds:<n>`), for the job page.
    pub summary: Option<String>,
    /// Veeam's nextRun now (`None`: not given this time; the remembered one stays).
    pub next_run_at: Option<DateTime<Utc>>,
    /// `scheduled`, `unscheduled` or `disabled`.
    pub state: &'static str,
}

/// What applying a Veeam schedule changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VeeamScheduleChange {
    /// The Veeam schedule state before (`None` on the first sync).
    pub before: Option<String>,
    /// The state now.
    pub after: String,
}

/// Keeps a Veeam job's expectation in step with Veeam: stores what Veeam
/// says, and for a job that follows Veeam's schedule (`schedule_from =
/// 'veeam'`) writes it as the job's schedule and moves its next expected
/// run: to Veeam's nextRun when that changed (kind `next_run`), to the
/// schedule's next occurrence when the schedule changed, to none while the
/// job is disabled or unscheduled. A paused job keeps its next expected run
/// (none). Returns the schedule state's change, if any.
pub async fn apply_veeam_schedule(
    db: &Db,
    tz: Tz,
    job_id: i64,
    schedule: &VeeamSchedule,
    now: DateTime<Utc>,
) -> Result<Option<VeeamScheduleChange>, sqlx::Error> {
    const SELECT: &str = concat!("select ", crate::job_columns!(), " from jobs where id = $1");
    on_tx!(db, |tx, _lock| {
        let Some(row) = sqlx::query(SELECT).bind(job_id).fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let job = JobRow::from_row(&row)?;
        let before = job.veeam_schedule_state.clone();
        let stored = (
            job.veeam_schedule_kind.clone(),
            job.veeam_schedule_cron.clone(),
            job.veeam_schedule_timezone.clone(),
            job.veeam_schedule_interval_seconds,
            job.veeam_schedule_summary.clone(),
        );
        let wanted = (
            Some(schedule.kind.to_owned()),
            schedule.cron.clone(),
            schedule.timezone.clone(),
            schedule.interval_seconds,
            schedule.summary.clone(),
        );
        let scheduled = schedule.state == "scheduled";
        // Remembered across syncs; forgotten while nothing is expected.
        let next_run = if scheduled { schedule.next_run_at.or(job.veeam_next_run_at) } else { None };
        let definition_changed = stored != wanted || before.as_deref() != Some(schedule.state);
        let mut next_expected = job.next_expected_at;
        let mut effective = (
            job.schedule_kind,
            job.schedule_cron.clone(),
            job.schedule_timezone.clone(),
            job.schedule_interval_seconds,
        );
        if job.schedule_from == "veeam" {
            effective = match schedule.kind {
                "cron" if scheduled => {
                    (ScheduleKind::Cron, schedule.cron.clone(), schedule.timezone.clone(), None)
                }
                "interval" if scheduled => (ScheduleKind::Interval, None, None, schedule.interval_seconds),
                _ => (ScheduleKind::None, None, None, None),
            };
            if !job.paused {
                if !scheduled {
                    next_expected = None;
                } else if schedule.kind == "next_run" {
                    if next_run != job.veeam_next_run_at || definition_changed {
                        next_expected = next_run.filter(|t| job.last_run_at.is_none_or(|last| *t > last));
                    }
                } else if definition_changed || job.next_expected_at.is_none() {
                    let mut probe = job.clone();
                    probe.schedule_kind = effective.0;
                    probe.schedule_cron = effective.1.clone();
                    probe.schedule_timezone = effective.2.clone();
                    probe.schedule_interval_seconds = effective.3;
                    probe.veeam_schedule_kind = Some(schedule.kind.to_owned());
                    let expected = probe.expected(tz);
                    next_expected = match job.last_run_at {
                        Some(last) => expected
                            .next_after_run(last, chrono::Duration::seconds(job.grace_seconds))
                            .filter(|t| *t > now)
                            .or_else(|| expected.first_expected(now)),
                        None => expected.first_expected(now),
                    };
                }
            }
        }
        sqlx::query(
            "update jobs set veeam_schedule_kind = $2, veeam_schedule_cron = $3, veeam_schedule_timezone = $4, \
             veeam_schedule_interval_seconds = $5, veeam_schedule_summary = $6, veeam_next_run_at = $7, \
             veeam_schedule_state = $8, schedule_kind = $9, schedule_cron = $10, schedule_timezone = $11, \
             schedule_interval_seconds = $12, next_expected_at = $13 where id = $1",
        )
        .bind(job_id)
        .bind(schedule.kind)
        .bind(&schedule.cron)
        .bind(&schedule.timezone)
        .bind(schedule.interval_seconds)
        .bind(&schedule.summary)
        .bind(next_run)
        .bind(schedule.state)
        .bind(effective.0)
        .bind(&effective.1)
        .bind(&effective.2)
        .bind(effective.3)
        .bind(next_expected)
        .execute(&mut *tx)
        .await?;
        if before.as_deref() != Some(schedule.state) {
            sqlx::query(super::ack::CLEAR_PROBLEM_SQL)
                .bind(job_id)
                .bind("unscheduled")
                .execute(&mut *tx)
                .await?;
        }
        Ok((before.as_deref() != Some(schedule.state))
            .then(|| VeeamScheduleChange { before, after: schedule.state.to_owned() }))
    })
}

/// Records a job's RPO state: how many machines are outside it, and since
/// when (kept while it stays breached). Returns the breach's start before.
pub async fn set_rpo_state(
    db: &Db,
    job_id: i64,
    machines_breached: i64,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    on_tx!(db, |tx, _lock| {
        let before: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("select rpo_breached_since from jobs where id = $1")
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?;
        let before = before.flatten();
        let since = if machines_breached > 0 { Some(before.unwrap_or(now)) } else { None };
        sqlx::query("update jobs set rpo_machines_breached = $2, rpo_breached_since = $3 where id = $1")
            .bind(job_id)
            .bind(machines_breached)
            .bind(since)
            .execute(&mut *tx)
            .await?;
        if before.is_some() != since.is_some() {
            // The breach started or ended: an acknowledgement of it ends.
            sqlx::query(super::ack::CLEAR_PROBLEM_SQL)
                .bind(job_id)
                .bind("rpo_breached")
                .execute(&mut *tx)
                .await?;
        }
        Ok::<_, sqlx::Error>(before)
    })
}
