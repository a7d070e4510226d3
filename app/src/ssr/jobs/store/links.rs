//! Jobs linked to a backup server (Veeam): their link columns on `jobs`
//! (`veeam_server_id`, `veeam_job_id`, `veeam_status`, `removed_at`) and
//! the one way such a job is created, whichever path finds it first (the
//! post-job webhook or the sync).

use chrono::Utc;

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
