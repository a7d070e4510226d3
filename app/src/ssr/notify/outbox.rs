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
    channels::deliver,
    message::{EventKind, Notice},
    rules::split,
    windows::{self, WindowRow, filter_covers},
};
use crate::{
    error::AppError,
    model::{
        job::RunResult,
        notify::{Delivery, Suppression},
        user::Role,
    },
    ssr::{
        audit_trail::{self, Event, Target},
        auth::{Access, RequestInfo},
        db::notify::{self as channels_db},
        state::AppState,
    },
};
use crate::{on_db, on_tx};

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
    veeam_server_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct SystemEventRow {
    id: i64,
    kind: String,
    veeam_server_id: Option<i64>,
    repository_id: Option<i64>,
    subject_name: String,
    details: Option<String>,
    occurred_at: DateTime<Utc>,
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
    repeat_every_hours: Option<i64>,
}

impl RuleRow {
    fn wants(&self, kind: EventKind) -> bool {
        self.events.split(',').any(|e| e.trim() == kind.as_str())
    }

    fn covers(&self, job: Option<(i64, &[String])>) -> bool {
        filter_covers(&self.job_filter_kind, &self.job_filter_tags, &self.job_filter_job_ids, job)
    }
}

/// Queues one delivery ($1 dedup key, $2 channel, $3 rule, $4 event, $5 job,
/// $6 subject, $7 notice, $8 now), unless the channel is off or the key is known.
const QUEUE_SQL: &str = "insert into notification_deliveries (dedup_key, channel_id, rule_id, event, job_id, \
     subject, notice, status, attempts, next_attempt_at, created_at) \
     select $1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8 \
     where exists (select 1 from notification_channels where id = $2 and enabled) \
     on conflict (dedup_key) do nothing";

/// The newest problem ($3 is the recovery event) and recovery a rule ($1)
/// sent about a subject ($2).
const ANNOUNCED_SQL: &str = "select max(case when event <> $3 then id end), max(case when event = $3 then id end) \
     from notification_deliveries where rule_id = $1 and subject = $2";

const RULES_SQL: &str = "select id, events, channel_ids, job_filter_kind, job_filter_tags, job_filter_job_ids, \
     min_consecutive_failures, repeat_every_hours from notification_rules where enabled";

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
        "late" if from != "late" => Some(EventKind::JobLate),
        "overdue" if from != "overdue" => Some(EventKind::JobOverdue),
        // Sent only when the rule announced a problem since the last recovery.
        "ok" if from != "ok" => Some(EventKind::JobRecovered),
        _ => None,
    }
}

/// The result a run of an event kind has, for counting problems in a row.
fn streak_result(kind: EventKind) -> Option<&'static str> {
    match kind {
        EventKind::RunFailed => Some("failed"),
        EventKind::RunMissed => Some("missed"),
        EventKind::RunWarning => Some("warning"),
        _ => None,
    }
}

/// How many problem runs in a row a rule waits for: `min_consecutive_failures`
/// for failed and missed runs, one for warnings. Alerts go out when the
/// count is reached, once per streak (reminders are `repeat_every_hours`).
fn needed(rule: &RuleRow, kind: EventKind) -> usize {
    match kind {
        EventKind::RunFailed | EventKind::RunMissed => rule.min_consecutive_failures.max(1) as usize,
        _ => 1,
    }
}

/// Splits comma-separated ids.
fn split_ids(text: &str) -> Vec<i64> {
    split(text)
}

/// What the producer decided for one (event, rule).
enum Decision {
    Send,
    Maintenance(i64),
    Correlated { server_id: i64, outage_event_id: i64 },
}

/// Reads new events and queues their deliveries: job state changes, server
/// and repository events, and reminders of problems still there. Returns
/// how many deliveries were queued.
pub async fn produce(state: &AppState) -> Result<usize, sqlx::Error> {
    produce_at(state, Utc::now()).await
}

/// [`produce`] with a clock (tests move it on for reminders).
pub async fn produce_at(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    // Job events first: a missed run folded into an outage must be known
    // before the server's recovery message lists them.
    let mut queued = produce_job_events(state, now).await?;
    queued += produce_system_events(state, now).await?;
    queued += produce_reminders(state, now).await?;
    Ok(queued)
}

async fn produce_job_events(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
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
            "select e.id, e.job_id, e.from_state, e.to_state, e.run_id, e.occurred_at, j.name, j.veeam_server_id \
             from job_events e join jobs j on j.id = e.job_id where e.id > $1 order by e.id limit 500",
        )
        .bind(cursor)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = events.last().map(|e| e.id) else { return Ok::<_, sqlx::Error>(0) };
        let rules: Vec<RuleRow> = sqlx::query_as(RULES_SQL).fetch_all(&mut *tx).await?;
        let windows: Vec<WindowRow> = sqlx::query_as(windows::ENABLED_SQL).fetch_all(&mut *tx).await?;
        let mut queued = 0;
        for event in &events {
            let Some(kind) = kind_of(&event.from_state, &event.to_state) else { continue };
            if !rules.iter().any(|r| r.wants(kind)) {
                continue;
            }
            let tags: Vec<String> = sqlx::query_scalar("select tag from job_tags where job_id = $1")
                .bind(event.job_id)
                .fetch_all(&mut *tx)
                .await?;
            let job = Some((event.job_id, tags.as_slice()));
            let run: Option<RunFacts> = match event.run_id {
                Some(run_id) => {
                    sqlx::query_as("select started_at, ended_at, result, message from runs where id = $1")
                        .bind(run_id)
                        .fetch_optional(&mut *tx)
                        .await?
                }
                None => None,
            };
            // Problem runs in a row, up to and including this event's run.
            let streak = match (streak_result(kind), &run) {
                (Some(result), Some(facts)) => {
                    let longest = rules.iter().map(|r| needed(r, kind)).max().unwrap_or(1) as i64;
                    let recent: Vec<String> = sqlx::query_scalar(
                        "select result from runs where job_id = $1 and result <> 'running' \
                         and (started_at < $2 or (started_at = $2 and id <= $3)) \
                         order by started_at desc, id desc limit $4",
                    )
                    .bind(event.job_id)
                    .bind(facts.started_at)
                    .bind(event.run_id)
                    .bind(longest + 1)
                    .fetch_all(&mut *tx)
                    .await?;
                    recent.iter().take_while(|r| r.as_str() == result).count()
                }
                _ => 1,
            };
            // Correlation: a missed or late job of a Veeam server that was down then.
            let outage: Option<(i64, i64)> = match (kind, event.veeam_server_id) {
                (EventKind::RunMissed | EventKind::JobLate, Some(server_id)) => {
                    let latest: Option<(i64, String)> = sqlx::query_as(
                        "select id, kind from system_events where veeam_server_id = $1 \
                         and kind in ('veeam_unreachable', 'veeam_recovered') and occurred_at <= $2 \
                         order by occurred_at desc, id desc limit 1",
                    )
                    .bind(server_id)
                    .bind(event.occurred_at)
                    .fetch_optional(&mut *tx)
                    .await?;
                    latest.filter(|(_, k)| k == "veeam_unreachable").map(|(id, _)| (server_id, id))
                }
                _ => None,
            };
            let window =
                windows.iter().find(|w| w.in_force(event.occurred_at) && w.covers(job)).map(|w| w.id());
            let subject = format!("job:{}", event.job_id);
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
                reminder: false,
                link_path: None,
            };
            let notice_json = serde_json::to_string(&notice).unwrap_or_default();
            for rule in rules.iter().filter(|r| r.wants(kind) && r.covers(job)) {
                // Every missed run of a server's outage is kept for its recovery message;
                // otherwise problems count in a row.
                if outage.is_none() && streak_result(kind).is_some() && streak != needed(rule, kind) {
                    continue;
                }
                if kind == EventKind::JobRecovered {
                    let (announced, recovered): (Option<i64>, Option<i64>) = sqlx::query_as(ANNOUNCED_SQL)
                        .bind(rule.id)
                        .bind(&subject)
                        .bind("job_recovered")
                        .fetch_one(&mut *tx)
                        .await?;
                    if announced.is_none_or(|a| recovered.is_some_and(|r| r > a)) {
                        continue;
                    }
                }
                let decision = match (outage, window) {
                    (Some((server_id, outage_event_id)), _) => {
                        Decision::Correlated { server_id, outage_event_id }
                    }
                    (None, Some(window_id)) => Decision::Maintenance(window_id),
                    (None, None) => Decision::Send,
                };
                match decision {
                    Decision::Send => {
                        for channel_id in split_ids(&rule.channel_ids) {
                            let inserted = sqlx::query(QUEUE_SQL)
                                .bind(format!("job_event:{}:{channel_id}", event.id))
                                .bind(channel_id)
                                .bind(rule.id)
                                .bind(kind.as_str())
                                .bind(event.job_id)
                                .bind(&subject)
                                .bind(&notice_json)
                                .bind(now)
                                .execute(&mut *tx)
                                .await?;
                            queued += inserted.rows_affected() as usize;
                        }
                    }
                    Decision::Maintenance(window_id) => {
                        sqlx::query(
                            "insert into notification_suppressions (rule_id, event, job_id, run_id, subject_name, \
                             reason, maintenance_window_id, occurred_at, created_at) \
                             values ($1, $2, $3, $4, $5, 'maintenance', $6, $7, $8)",
                        )
                        .bind(rule.id)
                        .bind(kind.as_str())
                        .bind(event.job_id)
                        .bind(event.run_id)
                        .bind(&event.name)
                        .bind(window_id)
                        .bind(event.occurred_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Decision::Correlated { server_id, outage_event_id } => {
                        sqlx::query(
                            "insert into notification_suppressions (rule_id, event, job_id, run_id, subject_name, \
                             reason, veeam_server_id, outage_event_id, occurred_at, created_at) \
                             values ($1, $2, $3, $4, $5, 'correlated', $6, $7, $8, $9)",
                        )
                        .bind(rule.id)
                        .bind(kind.as_str())
                        .bind(event.job_id)
                        .bind(event.run_id)
                        .bind(&event.name)
                        .bind(server_id)
                        .bind(outage_event_id)
                        .bind(notice.at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
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

async fn produce_system_events(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let tz = state.settings.timezone;
    on_tx!(&state.db, |tx, lock| {
        sqlx::query(
            "insert into notifier_cursors (name, position) values ('system_events', 0) on conflict (name) do nothing",
        )
        .execute(&mut *tx)
        .await?;
        let cursor: i64 = sqlx::query_scalar(if lock {
            "select position from notifier_cursors where name = 'system_events' for update"
        } else {
            "select position from notifier_cursors where name = 'system_events'"
        })
        .fetch_one(&mut *tx)
        .await?;
        let events: Vec<SystemEventRow> = sqlx::query_as(
            "select id, kind, veeam_server_id, repository_id, subject_name, details, occurred_at \
             from system_events where id > $1 order by id limit 500",
        )
        .bind(cursor)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = events.last().map(|e| e.id) else { return Ok::<_, sqlx::Error>(0) };
        let rules: Vec<RuleRow> = sqlx::query_as(RULES_SQL).fetch_all(&mut *tx).await?;
        let windows: Vec<WindowRow> = sqlx::query_as(windows::ENABLED_SQL).fetch_all(&mut *tx).await?;
        let mut queued = 0;
        for event in &events {
            let Some(kind) = EventKind::ALL.into_iter().find(|k| k.as_str() == event.kind) else { continue };
            if !rules.iter().any(|r| r.wants(kind)) {
                continue;
            }
            // A server's jobs (rules for chosen jobs or tags get their server's messages).
            let server_jobs: Vec<(i64, String)> = match event.veeam_server_id {
                Some(server_id) => {
                    sqlx::query_as("select id, name from jobs where veeam_server_id = $1 order by name")
                        .bind(server_id)
                        .fetch_all(&mut *tx)
                        .await?
                }
                None => vec![],
            };
            let mut job_tags: Vec<(i64, Vec<String>)> = Vec::new();
            if rules.iter().any(|r| r.wants(kind) && r.job_filter_kind != "all") {
                for (id, _) in &server_jobs {
                    let tags: Vec<String> = sqlx::query_scalar("select tag from job_tags where job_id = $1")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                    job_tags.push((*id, tags));
                }
            }
            let (subject, link_path) = match (event.repository_id, event.veeam_server_id) {
                (Some(id), _) => (format!("repository:{id}"), "repositories"),
                (None, Some(id)) => (format!("veeam:{id}"), "settings/veeam"),
                (None, None) => (format!("system:{}", event.id), ""),
            };
            let related: Vec<String> = match kind {
                EventKind::VeeamUnreachable => server_jobs.iter().map(|(_, name)| name.clone()).collect(),
                EventKind::VeeamRecovered => {
                    // The runs missed while it was down, told here once.
                    let missed: Vec<(String, DateTime<Utc>)> = sqlx::query_as(
                        "select subject_name, min(occurred_at) from notification_suppressions \
                         where reason = 'correlated' and outage_event_id = (select max(id) from system_events \
                         where veeam_server_id = $1 and kind = 'veeam_unreachable' and id < $2) \
                         group by subject_name, run_id order by min(occurred_at), subject_name",
                    )
                    .bind(event.veeam_server_id)
                    .bind(event.id)
                    .fetch_all(&mut *tx)
                    .await?;
                    missed
                        .into_iter()
                        .map(|(name, at)| format!("{name} ({})", at.with_timezone(&tz).format("%m-%d %H:%M")))
                        .collect()
                }
                _ => vec![],
            };
            let notice = Notice {
                kind,
                subject_name: event.subject_name.clone(),
                job_id: None,
                result: None,
                at: event.occurred_at,
                duration_seconds: None,
                excerpt: event.details.clone(),
                related,
                reminder: false,
                link_path: Some(link_path.to_owned()).filter(|p| !p.is_empty()),
            };
            let notice_json = serde_json::to_string(&notice).unwrap_or_default();
            let window =
                windows.iter().find(|w| w.in_force(event.occurred_at) && w.covers(None)).map(|w| w.id());
            for rule in rules.iter().filter(|r| r.wants(kind)) {
                let covered = rule.covers(None)
                    || job_tags.iter().any(|(id, tags)| rule.covers(Some((*id, tags.as_slice()))));
                if !covered {
                    continue;
                }
                if kind == EventKind::VeeamRecovered {
                    let (announced, recovered): (Option<i64>, Option<i64>) = sqlx::query_as(ANNOUNCED_SQL)
                        .bind(rule.id)
                        .bind(&subject)
                        .bind("veeam_recovered")
                        .fetch_one(&mut *tx)
                        .await?;
                    if announced.is_none_or(|a| recovered.is_some_and(|r| r > a)) {
                        continue;
                    }
                }
                if let Some(window_id) = window {
                    sqlx::query(
                        "insert into notification_suppressions (rule_id, event, subject_name, reason, \
                         maintenance_window_id, veeam_server_id, occurred_at, created_at) \
                         values ($1, $2, $3, 'maintenance', $4, $5, $6, $7)",
                    )
                    .bind(rule.id)
                    .bind(kind.as_str())
                    .bind(&event.subject_name)
                    .bind(window_id)
                    .bind(event.veeam_server_id)
                    .bind(event.occurred_at)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    continue;
                }
                for channel_id in split_ids(&rule.channel_ids) {
                    let inserted = sqlx::query(QUEUE_SQL)
                        .bind(format!("system_event:{}:{channel_id}", event.id))
                        .bind(channel_id)
                        .bind(rule.id)
                        .bind(kind.as_str())
                        .bind(None::<i64>)
                        .bind(&subject)
                        .bind(&notice_json)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    queued += inserted.rows_affected() as usize;
                }
            }
        }
        sqlx::query("update notifier_cursors set position = $1 where name = 'system_events'")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        Ok(queued)
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Announced {
    job_id: i64,
    state: String,
    last_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct LastDelivery {
    event: String,
    notice: String,
    created_at: DateTime<Utc>,
}

/// Reminders: for rules with `repeat_every_hours`, a job still in trouble
/// whose last message from the rule is that old gets the message again.
async fn produce_reminders(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    on_tx!(&state.db, |tx, _lock| {
        let rules: Vec<RuleRow> = sqlx::query_as(RULES_SQL).fetch_all(&mut *tx).await?;
        let windows: Vec<WindowRow> = sqlx::query_as(windows::ENABLED_SQL).fetch_all(&mut *tx).await?;
        let mut queued = 0;
        for rule in rules.iter().filter(|r| r.repeat_every_hours.is_some()) {
            let every = chrono::Duration::hours(rule.repeat_every_hours.unwrap_or(24));
            let candidates: Vec<Announced> = sqlx::query_as(
                "select j.id as job_id, j.state, max(d.id) as last_id from notification_deliveries d \
                 join jobs j on j.id = d.job_id where d.rule_id = $1 \
                 and j.state in ('failed', 'missed', 'late', 'overdue', 'warning') \
                 group by j.id, j.state",
            )
            .bind(rule.id)
            .fetch_all(&mut *tx)
            .await?;
            for candidate in candidates {
                let last: LastDelivery = sqlx::query_as(
                    "select event, notice, created_at from notification_deliveries where id = $1",
                )
                .bind(candidate.last_id)
                .fetch_one(&mut *tx)
                .await?;
                if last.event == EventKind::JobRecovered.as_str() || last.created_at + every > now {
                    continue;
                }
                let Ok(mut notice) = serde_json::from_str::<Notice>(&last.notice) else { continue };
                let tags: Vec<String> = sqlx::query_scalar("select tag from job_tags where job_id = $1")
                    .bind(candidate.job_id)
                    .fetch_all(&mut *tx)
                    .await?;
                let job = Some((candidate.job_id, tags.as_slice()));
                if !rule.covers(job) || windows.iter().any(|w| w.in_force(now) && w.covers(job)) {
                    continue;
                }
                notice.reminder = true;
                if let Some(current) = kind_of("", &candidate.state) {
                    notice.kind = current;
                }
                let notice_json = serde_json::to_string(&notice).unwrap_or_default();
                for channel_id in split_ids(&rule.channel_ids) {
                    let inserted = sqlx::query(QUEUE_SQL)
                        .bind(format!(
                            "reminder:{}:{}:{}:{channel_id}",
                            rule.id, candidate.job_id, candidate.last_id
                        ))
                        .bind(channel_id)
                        .bind(rule.id)
                        .bind(notice.kind.as_str())
                        .bind(candidate.job_id)
                        .bind(format!("job:{}", candidate.job_id))
                        .bind(&notice_json)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    queued += inserted.rows_affected() as usize;
                }
            }
        }
        Ok::<_, sqlx::Error>(queued)
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
    let max_attempts = i64::from(state.settings.notify_max_attempts);
    let lease = chrono::Duration::from_std(state.settings.notify_timeout * 3).unwrap_or_default();
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
            Err(SendError::RetryAfter(wait)) if attempt < max_attempts => (
                "pending",
                Some(now + chrono::Duration::from_std(wait).unwrap_or_default()),
                Some("rate limited".to_owned()),
            ),
            Err(SendError::Temporary(e)) if attempt < max_attempts => (
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

#[derive(Debug, Clone, sqlx::FromRow)]
struct SuppressionRow {
    id: i64,
    rule_id: Option<i64>,
    event: String,
    job_id: Option<i64>,
    subject_name: String,
    reason: String,
    maintenance_window_id: Option<i64>,
    veeam_server_id: Option<i64>,
    occurred_at: DateTime<Utc>,
}

/// Events recorded but not sent, newest first (administrators).
pub async fn suppressed(
    state: &AppState,
    info: &RequestInfo,
    job_id: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<Suppression>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let limit = limit.unwrap_or(100).clamp(1, 500);
    let rows: Vec<SuppressionRow> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "select id, rule_id, event, job_id, subject_name, reason, maintenance_window_id, veeam_server_id, \
             occurred_at from notification_suppressions where ($1 is null or job_id = $1) \
             order by id desc limit $2",
        )
        .bind(job_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| Suppression {
            id: r.id,
            rule_id: r.rule_id,
            event: r.event,
            job_id: r.job_id,
            subject: r.subject_name,
            reason: r.reason,
            maintenance_window_id: r.maintenance_window_id,
            veeam_server_id: r.veeam_server_id,
            occurred_at: r.occurred_at,
        })
        .collect())
}
