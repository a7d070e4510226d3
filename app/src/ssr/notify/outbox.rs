//! The durable outbox: the producer turns job state changes into one
//! delivery row per (event, channel) with a dedup key, in one transaction
//! with its cursor; the worker claims due rows (with a lease, so a
//! delivery in flight when the process dies is sent again), sends them,
//! and retries failures with exponential back-off and jitter until they
//! are sent or dead. Deliveries of one job to one channel go in order.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use super::{
    SendError,
    channels::{SEND_TIMEOUT, deliver},
    message::{EventKind, Notice},
};
use crate::{
    error::AppError,
    model::{job::RunResult, notify::Delivery, user::Role},
    ssr::{
        audit_trail::{self, Event, Target},
        auth::{Access, RequestInfo},
        db::notify::{self as channels_db},
        state::AppState,
    },
};
use crate::{on_db, on_tx};

/// Tries before a delivery is dead: 30 s doubling to 15 min keeps trying
/// for about 2.7 hours.
pub const MAX_ATTEMPTS: i64 = 12;
const FIRST_BACKOFF_SECONDS: f64 = 30.0;
const MAX_BACKOFF_SECONDS: f64 = 900.0;

#[derive(Debug, Clone, sqlx::FromRow)]
struct JobEventRow {
    id: i64,
    job_id: i64,
    from_state: String,
    to_state: String,
    run_id: Option<i64>,
    occurred_at: DateTime<Utc>,
    name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct RuleRow {
    id: i64,
    events: String,
    channel_ids: String,
    job_filter_kind: String,
    job_filter_tags: String,
    job_filter_job_ids: String,
    min_consecutive_failures: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct RunFacts {
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    result: String,
    message: Option<String>,
}

fn kind_of(from: &str, to: &str) -> Option<EventKind> {
    match to {
        "failed" => Some(EventKind::RunFailed),
        "warning" => Some(EventKind::RunWarning),
        "missed" => Some(EventKind::RunMissed),
        "late" => Some(EventKind::JobLate),
        "overdue" => Some(EventKind::JobOverdue),
        "ok" if matches!(from, "failed" | "missed" | "overdue" | "late" | "warning") => {
            Some(EventKind::JobRecovered)
        }
        _ => None,
    }
}

fn split_ids(text: &str) -> Vec<i64> {
    text.split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

/// Reads new job state changes and queues their deliveries. Returns how
/// many deliveries were queued.
pub async fn produce(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = Utc::now();
    on_tx!(&state.db, |tx, lock| {
        sqlx::query("insert into notifier_cursors (name, position) values ('job_events', 0) on conflict (name) do nothing")
            .execute(&mut *tx)
            .await?;
        let cursor: i64 = sqlx::query_scalar(if lock {
            "select position from notifier_cursors where name = 'job_events' for update"
        } else {
            "select position from notifier_cursors where name = 'job_events'"
        })
        .fetch_one(&mut *tx)
        .await?;
        let events: Vec<JobEventRow> = sqlx::query_as(
            "select e.id, e.job_id, e.from_state, e.to_state, e.run_id, e.occurred_at, j.name from job_events e \
             join jobs j on j.id = e.job_id where e.id > $1 order by e.id limit 500",
        )
        .bind(cursor)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = events.last().map(|e| e.id) else { return Ok::<_, sqlx::Error>(0) };
        let rules: Vec<RuleRow> = sqlx::query_as(
            "select id, events, channel_ids, job_filter_kind, job_filter_tags, job_filter_job_ids, \
             min_consecutive_failures from notification_rules where enabled",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut queued = 0;
        for event in &events {
            let Some(kind) = kind_of(&event.from_state, &event.to_state) else { continue };
            let tags: Vec<String> = sqlx::query_scalar("select tag from job_tags where job_id = $1")
                .bind(event.job_id)
                .fetch_all(&mut *tx)
                .await?;
            let run: Option<RunFacts> = match event.run_id {
                Some(run_id) => {
                    sqlx::query_as("select started_at, ended_at, result, message from runs where id = $1")
                        .bind(run_id)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => None,
            };
            for rule in &rules {
                if !rule.events.split(',').any(|e| e.trim() == kind.as_str()) {
                    continue;
                }
                let covered = match rule.job_filter_kind.as_str() {
                    "tags" => rule.job_filter_tags.split(',').any(|t| tags.iter().any(|jt| jt == t.trim())),
                    "jobs" => split_ids(&rule.job_filter_job_ids).contains(&event.job_id),
                    _ => true,
                };
                if !covered {
                    continue;
                }
                if kind == EventKind::RunFailed && rule.min_consecutive_failures > 1 {
                    let recent: Vec<String> = sqlx::query_scalar(
                        "select result from runs where job_id = $1 and result <> 'running' \
                         order by started_at desc, id desc limit $2",
                    )
                    .bind(event.job_id)
                    .bind(rule.min_consecutive_failures)
                    .fetch_all(&mut *tx)
                    .await?;
                    let in_a_row =
                        recent.iter().take_while(|r| matches!(r.as_str(), "failed" | "missed")).count()
                            as i64;
                    if in_a_row < rule.min_consecutive_failures {
                        continue;
                    }
                }
                if kind == EventKind::JobRecovered {
                    // Only when this rule announced a problem of the job since its last recovery.
                    let announced: Option<i64> = sqlx::query_scalar(
                        "select max(id) from notification_deliveries where rule_id = $1 and job_id = $2 \
                         and event <> 'job_recovered'",
                    )
                    .bind(rule.id)
                    .bind(event.job_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    let recovered: Option<i64> = sqlx::query_scalar(
                        "select max(id) from notification_deliveries where rule_id = $1 and job_id = $2 \
                         and event = 'job_recovered'",
                    )
                    .bind(rule.id)
                    .bind(event.job_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if announced.is_none_or(|a| recovered.is_some_and(|r| r > a)) {
                        continue;
                    }
                }
                let notice = Notice {
                    kind,
                    subject_name: event.name.clone(),
                    job_id: Some(event.job_id),
                    result: run.as_ref().and_then(|r| RunResult::parse(&r.result)),
                    at: run.as_ref().map_or(event.occurred_at, |r| r.started_at),
                    duration_seconds: run
                        .as_ref()
                        .and_then(|r| r.ended_at.map(|end| (end - r.started_at).num_seconds().max(0))),
                    excerpt: run.as_ref().and_then(|r| r.message.clone()),
                    related: vec![],
                };
                let notice_json = serde_json::to_string(&notice).unwrap_or_default();
                for channel_id in split_ids(&rule.channel_ids) {
                    let inserted = sqlx::query(
                        "insert into notification_deliveries (dedup_key, channel_id, rule_id, event, job_id, notice, \
                         status, attempts, next_attempt_at, created_at) \
                         select $1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7 \
                         where exists (select 1 from notification_channels where id = $2 and enabled) \
                         on conflict (dedup_key) do nothing",
                    )
                    .bind(format!("job_event:{}:{channel_id}", event.id))
                    .bind(channel_id)
                    .bind(rule.id)
                    .bind(kind.as_str())
                    .bind(event.job_id)
                    .bind(&notice_json)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    queued += inserted.rows_affected() as usize;
                }
            }
        }
        sqlx::query("update notifier_cursors set position = $1 where name = 'job_events'")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        Ok(queued)
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Due {
    id: i64,
    channel_id: i64,
    notice: String,
    attempts: i64,
}

/// The back-off before try `attempt + 1`, with ±20 % jitter.
pub fn backoff(attempt: i64) -> Duration {
    let base =
        (FIRST_BACKOFF_SECONDS * 2f64.powi((attempt - 1).clamp(0, 20) as i32)).min(MAX_BACKOFF_SECONDS);
    Duration::from_secs_f64(base * rand::rng().random_range(0.8..1.2))
}

/// What one pass of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkOutcome {
    /// Delivered.
    pub sent: usize,
    /// To be tried again.
    pub retried: usize,
    /// Given up.
    pub dead: usize,
}

/// Sends what is due; `now` decides what is due (tests move it on).
pub async fn work_once(state: &AppState, now: DateTime<Utc>) -> Result<WorkOutcome, sqlx::Error> {
    let due: Vec<Due> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "select d.id, d.channel_id, d.notice, d.attempts from notification_deliveries d \
             where d.status = 'pending' and d.next_attempt_at <= $1 and (d.locked_until is null or d.locked_until < $1) \
             and not exists (select 1 from notification_deliveries e where e.status = 'pending' \
             and e.channel_id = d.channel_id and e.job_id = d.job_id and e.id < d.id) \
             order by d.id limit 20",
        )
        .bind(now)
        .fetch_all(pool)
        .await
    })?;
    let mut outcome = WorkOutcome::default();
    let lease = chrono::Duration::from_std(SEND_TIMEOUT * 3).unwrap_or_default();
    for delivery in due {
        let claimed = on_db!(&state.db, |pool| {
            sqlx::query(
                "update notification_deliveries set locked_until = $2, attempts = attempts + 1 \
                 where id = $1 and status = 'pending' and (locked_until is null or locked_until < $3)",
            )
            .bind(delivery.id)
            .bind(now + lease)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
        })?;
        if !claimed {
            continue;
        }
        let attempt = delivery.attempts + 1;
        let result = match (
            channels_db::find(&state.db, delivery.channel_id).await?,
            serde_json::from_str::<Notice>(&delivery.notice),
        ) {
            (Some(channel), Ok(notice)) => deliver(state, &channel, &notice, None, Some(delivery.id)).await,
            (None, _) => Err(SendError::Permanent("the channel was removed".into())),
            (_, Err(e)) => Err(SendError::Permanent(format!("unreadable notice: {e}"))),
        };
        let (status, next, error) = match result {
            Ok(_) => ("sent", None, None),
            Err(SendError::RetryAfter(wait)) if attempt < MAX_ATTEMPTS => (
                "pending",
                Some(now + chrono::Duration::from_std(wait).unwrap_or_default()),
                Some("rate limited".to_owned()),
            ),
            Err(SendError::Temporary(e)) if attempt < MAX_ATTEMPTS => (
                "pending",
                Some(now + chrono::Duration::from_std(backoff(attempt)).unwrap_or_default()),
                Some(e),
            ),
            Err(e) => ("dead", None, Some(e.to_string())),
        };
        match status {
            "sent" => outcome.sent += 1,
            "pending" => outcome.retried += 1,
            _ => outcome.dead += 1,
        }
        on_db!(&state.db, |pool| {
            sqlx::query(
                "update notification_deliveries set status = $2, next_attempt_at = coalesce($3, next_attempt_at), \
                 locked_until = null, last_error = coalesce($4, last_error), \
                 sent_at = case when $2 = 'sent' then $5 else sent_at end where id = $1",
            )
            .bind(delivery.id)
            .bind(status)
            .bind(next)
            .bind(&error)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|_| ())
        })?;
    }
    Ok(outcome)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    channel_id: i64,
    event: String,
    job_id: Option<i64>,
    notice: String,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
    next_attempt_at: DateTime<Utc>,
}

/// The newest deliveries, filtered by status, channel and job (administrators).
pub async fn list(
    state: &AppState,
    info: &RequestInfo,
    status: Option<String>,
    channel_id: Option<i64>,
    job_id: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<Delivery>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let limit = limit.unwrap_or(100).clamp(1, 500);
    let rows: Vec<DeliveryRow> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "select id, channel_id, event, job_id, notice, status, attempts, last_error, created_at, sent_at, \
             next_attempt_at from notification_deliveries where ($1 is null or status = $1) \
             and ($2 is null or channel_id = $2) and ($3 is null or job_id = $3) \
             order by created_at desc, id desc limit $4",
        )
        .bind(&status)
        .bind(channel_id)
        .bind(job_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            id: r.id,
            channel_id: r.channel_id,
            subject: serde_json::from_str::<Notice>(&r.notice).map(|n| n.subject_name).unwrap_or_default(),
            event: r.event,
            job_id: r.job_id,
            next_attempt_at: (r.status == "pending").then_some(r.next_attempt_at),
            status: r.status,
            attempts: r.attempts,
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        })
        .collect())
}

/// Queues a delivery again, now (administrators; dead or sent ones).
pub async fn resend(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let changed = on_db!(&state.db, |pool| {
        sqlx::query(
            "update notification_deliveries set status = 'pending', attempts = 0, next_attempt_at = $2, \
             locked_until = null where id = $1 and status <> 'pending'",
        )
        .bind(id)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("delivery.resend", Target::new("delivery", id, id.to_string())),
    )
    .await;
    Ok(())
}

/// Deliveries waiting to be sent.
pub async fn queue_length(state: &AppState) -> Result<i64, sqlx::Error> {
    on_db!(&state.db, |pool| {
        sqlx::query_scalar("select count(*) from notification_deliveries where status = 'pending'")
            .fetch_one(pool)
            .await
    })
}
