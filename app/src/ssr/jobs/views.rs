//! Stored rows as the wire types the UI and the API show.

use std::collections::HashMap;

use super::store::{
    jobs::{self as jobs_db, JobRow},
    runs::{self as runs_db, RunRow},
};
use crate::{
    error::AppError,
    model::{
        dashboard::JobSummary,
        job::{Job, Run, ScheduleFrom, VeeamScheduleInfo},
        schedule::{Schedule, ScheduleKind},
        user::Role,
    },
    ssr::{
        accounts::{Access, RequestInfo},
        infra::state::AppState,
    },
};

/// The wire form of a run row.
pub fn run(row: &RunRow) -> Run {
    Run {
        id: row.id,
        job_id: row.job_id,
        started_at: row.started_at,
        ended_at: row.ended_at,
        duration_seconds: row.ended_at.map(|end| (end - row.started_at).num_seconds().max(0)),
        result: row.result,
        message: row.message.clone(),
        bytes_processed: row.bytes_processed,
        exit_code: row.exit_code,
        external_id: row.external_id.clone(),
        anomaly: match (row.anomaly, row.anomaly_median) {
            (Some(kind), Some(median)) => Some(crate::model::report::RunAnomaly {
                kind,
                value: if kind.is_bytes() {
                    row.bytes_processed.unwrap_or(0)
                } else {
                    row.ended_at.map_or(0, |end| (end - row.started_at).num_seconds().max(0))
                },
                median,
            }),
            _ => None,
        },
    }
}

/// The ping URL of job `id` tagged `tags`, for callers allowed to report its
/// runs: the URL is a credential, so a `read` API token never sees it, nor
/// a token limited to other jobs.
fn ping_url(state: &AppState, info: &RequestInfo, id: i64, tags: &[String], token: &str) -> Option<String> {
    let can_see = info
        .principal
        .as_ref()
        .is_some_and(|p| p.authorize(Role::Operator, Access::Ingest).is_ok() && p.covers_job(id, tags));
    can_see.then(|| format!("{}/ping/{token}", state.settings.base_url.as_str().trim_end_matches('/')))
}

/// Wire jobs from rows, with their tags and last runs (two queries in all).
pub async fn jobs(state: &AppState, info: &RequestInfo, rows: Vec<JobRow>) -> Result<Vec<Job>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = jobs_db::tags_of(&state.db, &ids).await?;
    let last_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_run_id).collect();
    let last_runs: HashMap<i64, Run> =
        runs_db::by_ids(&state.db, &last_ids).await?.iter().map(|r| (r.id, run(r))).collect();
    let mut problems = super::ack::problems_of(state, &ids, super::ingest::now()).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let tags = tags.remove(&row.id).unwrap_or_default();
            (ping_url(state, info, row.id, &tags, &row.ping_token), tags, row)
        })
        .map(|(ping_url, tags, row)| Job {
            id: row.id,
            tags,
            last_run: row.last_run_id.and_then(|id| last_runs.get(&id).cloned()),
            ping_url,
            schedule: row.schedule(),
            name: row.name,
            description: row.description,
            source: row.source,
            grace_seconds: row.grace_seconds,
            max_duration_seconds: row.max_duration_seconds,
            state: row.state,
            paused: row.paused,
            paused_until: row.paused_until,
            problem: problems.get(&row.id).and_then(|(p, _)| *p),
            acknowledgement: problems.remove(&row.id).and_then(|(_, a)| a),
            next_expected_at: row.next_expected_at,
            owner_id: row.owner_id,
            veeam_job_id: row.veeam_job_id,
            removed_at: row.removed_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            schedule_from: if row.schedule_from == "veeam" {
                ScheduleFrom::Veeam
            } else {
                ScheduleFrom::Console
            },
            veeam_schedule: row.veeam_schedule_state.clone().map(|state| VeeamScheduleInfo {
                state,
                kind: row.veeam_schedule_kind.clone().unwrap_or_else(|| "none".to_owned()),
                schedule: Schedule {
                    kind: match row.veeam_schedule_kind.as_deref() {
                        Some("cron") => ScheduleKind::Cron,
                        Some("interval") => ScheduleKind::Interval,
                        _ => ScheduleKind::None,
                    },
                    cron: row.veeam_schedule_cron.clone(),
                    timezone: row.veeam_schedule_timezone.clone(),
                    interval_seconds: row.veeam_schedule_interval_seconds,
                },
                summary: row.veeam_schedule_summary.clone(),
                next_run_at: row.veeam_next_run_at,
            }),
            rpo_hours: row.rpo_hours,
            business_days_only: row.business_days_only,
            rpo_machines_breached: row.rpo_machines_breached,
        })
        .collect())
}

/// A job as the dashboard's problem list shows it.
pub fn summary(
    row: &JobRow,
    tags: &HashMap<i64, Vec<String>>,
    acks: &HashMap<i64, crate::model::job::Acknowledgement>,
) -> JobSummary {
    JobSummary {
        id: row.id,
        name: row.name.clone(),
        state: row.state,
        source: row.source,
        tags: tags.get(&row.id).cloned().unwrap_or_default(),
        last_run_at: row.last_run_at,
        last_result: row.last_result,
        next_expected_at: row.next_expected_at,
        acknowledgement: acks.get(&row.id).cloned(),
    }
}
