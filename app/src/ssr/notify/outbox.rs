//! The durable outbox.
//!
//! The producer reads new events after its cursors (job state changes from
//! the jobs domain, server and repository events from the Veeam domain),
//! loads what the policy needs to know about them, asks [`policy`] what to
//! tell whom, and writes the deliveries (or the events held back) in one
//! transaction with the cursor's move. The worker claims due deliveries
//! (with a lease, so a delivery in flight when the process dies is sent
//! again), sends them, and retries failures with exponential back-off and
//! jitter until they are sent or dead. Deliveries of one job to one
//! channel go in order. A delivery given up becomes a `delivery_dead`
//! console event (in the transaction that marks it dead), told by the
//! rules that want it like the watchdog's `console_degraded` and
//! `console_recovered`.

use std::{collections::HashMap, future::Future, time::Duration};

use chrono::{DateTime, Utc};
use rand::Rng;

use super::{
    channels::{deliver, deliver_composed},
    email::Composed,
    message::{EventKind, Notice},
    policy::{
        self, Announced, ConsoleEventFacts, JobEventFacts, ReminderCandidate, SystemEventFacts, kind_of,
        streak_result,
    },
    rules,
    send::SendError,
    store, windows,
};
use crate::{
    error::AppError,
    model::{
        notify::{Delivery, Suppression},
        user::Role,
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::{metrics::Metrics, state::AppState},
        jobs, veeam,
    },
};

const FIRST_BACKOFF_SECONDS: f64 = 30.0;
const MAX_BACKOFF_SECONDS: f64 = 900.0;
/// Events read per pass of each producer.
const BATCH: i64 = 500;

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
    queued += produce_console_events(state, now).await?;
    queued += produce_reminders(state, now).await?;
    Ok(queued)
}

/// Facts about one job event, loaded for the rules that want its kind.
async fn job_event_facts(
    state: &AppState,
    event: &jobs::JobEventRow,
    kind: EventKind,
    tags: Vec<String>,
    longest_streak: usize,
) -> Result<JobEventFacts, sqlx::Error> {
    let run = match event.run_id {
        Some(run_id) => jobs::run_facts(state, run_id).await?,
        None => None,
    };
    // Problem runs in a row, up to and including this event's run.
    let streak = match (streak_result(kind), &run, event.run_id) {
        (Some(result), Some(facts), Some(run_id)) => {
            let limit = i64::try_from(longest_streak + 1).unwrap_or(i64::MAX);
            let recent = jobs::results_up_to(state, event.job_id, facts.started_at, run_id, limit).await?;
            recent.iter().take_while(|r| **r == result).count()
        }
        _ => 1,
    };
    // Correlation: a missed or late job of a Veeam server that was down then.
    let outage = match (kind, event.veeam_server_id) {
        (EventKind::RunMissed | EventKind::JobLate, Some(server_id)) => {
            veeam::outage_at(state, server_id, event.occurred_at).await?.map(|id| (server_id, id))
        }
        _ => None,
    };
    let notice = Notice {
        kind,
        subject_name: event.name.clone(),
        job_id: Some(event.job_id),
        result: run.as_ref().map(|r| r.result),
        at: run.as_ref().map_or(event.occurred_at, |r| r.started_at),
        duration_seconds: run
            .as_ref()
            .and_then(|r| r.ended_at.map(|end| (end - r.started_at).num_seconds().max(0))),
        excerpt: run.as_ref().and_then(|r| r.message.clone()),
        related: vec![],
        reminder: false,
        link_path: None,
    };
    Ok(JobEventFacts {
        id: event.id,
        kind,
        job_id: event.job_id,
        job_name: event.name.clone(),
        tags,
        run_id: event.run_id,
        occurred_at: event.occurred_at,
        notice,
        streak,
        outage,
    })
}

async fn produce_job_events(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    const CURSOR: &str = "job_events";
    let from = store::cursor(&state.db, CURSOR).await?;
    let events = jobs::events_after(state, from, BATCH).await?;
    let Some(to) = events.last().map(|e| e.id) else { return Ok(0) };
    let rules = rules::enabled(&state.db).await?;
    let windows = windows::enabled(&state.db).await?;
    let enabled = store::enabled_channels(&state.db).await?;
    let wanted: Vec<(&jobs::JobEventRow, EventKind)> = events
        .iter()
        .filter_map(|e| kind_of(e.from_state, e.to_state).map(|k| (e, k)))
        .filter(|(_, kind)| rules.iter().any(|r| r.events.contains(kind)))
        .collect();
    let job_ids: Vec<i64> = wanted.iter().map(|(e, _)| e.job_id).collect();
    let mut tags = jobs::tags_of(state, &job_ids).await?;
    let longest = rules.iter().map(|r| r.min_consecutive_failures).max().unwrap_or(1);
    let mut facts = Vec::with_capacity(wanted.len());
    for (event, kind) in wanted {
        let job_tags = tags.get(&event.job_id).cloned().unwrap_or_default();
        facts.push(job_event_facts(state, event, kind, job_tags, longest).await?);
    }
    tags.clear();
    // Whether each rule told a problem about each job that recovers here.
    let mut announced = Announced::default();
    for fact in facts.iter().filter(|f| f.kind == EventKind::JobRecovered) {
        let subject = policy::job_subject(fact.job_id);
        for rule in &rules {
            let open = store::open_problem(&state.db, rule.id, &subject, EventKind::JobRecovered).await?;
            announced.set(rule.id, &subject, open);
        }
    }
    // Problems told earlier in this batch count too: the policy keeps
    // `announced` up to date, so only the log's state is loaded up front.
    // (A recovery's subject may also be told about in this same batch.)
    let actions = policy::decide_job_events(&facts, &rules, &windows, &enabled, &mut announced);
    Ok(store::apply(&state.db, Some((CURSOR, from, to)), &actions, now).await?.unwrap_or(0))
}

async fn produce_system_events(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    const CURSOR: &str = "system_events";
    let tz = state.settings.timezone;
    let from = store::cursor(&state.db, CURSOR).await?;
    let events = veeam::events_after(state, from, BATCH).await?;
    let Some(to) = events.last().map(|e| e.id) else { return Ok(0) };
    let rules = rules::enabled(&state.db).await?;
    let windows = windows::enabled(&state.db).await?;
    let enabled = store::enabled_channels(&state.db).await?;
    let mut facts = Vec::new();
    let mut announced = Announced::default();
    for event in &events {
        let Some(kind) = EventKind::ALL.into_iter().find(|k| k.as_str() == event.kind) else { continue };
        if !rules.iter().any(|r| r.events.contains(&kind)) {
            continue;
        }
        // A server's jobs (rules for chosen jobs or tags get their server's
        // messages); an event about one job goes by that job alone.
        let server_jobs: Vec<(i64, String)> = match (event.job_id, event.veeam_server_id) {
            (Some(job_id), _) => vec![(job_id, event.subject_name.clone())],
            (None, Some(server_id)) => jobs::names_of_server(&state.db, server_id).await?,
            (None, None) => vec![],
        };
        let ids: Vec<i64> = server_jobs.iter().map(|(id, _)| *id).collect();
        let mut tags = if rules.iter().any(|r| r.events.contains(&kind) && r.filter != policy::JobFilter::All)
        {
            jobs::tags_of(state, &ids).await?
        } else {
            HashMap::new()
        };
        let (subject, link_path) = match (event.repository_id, event.veeam_server_id) {
            (Some(id), _) => (format!("repository:{id}"), "repositories"),
            (None, Some(id)) => (format!("veeam:{id}"), "settings/veeam"),
            (None, None) => (format!("system:{}", event.id), ""),
        };
        let subject = event.subject.clone().unwrap_or(subject);
        let related: Vec<String> = match (kind, event.veeam_server_id) {
            (EventKind::VeeamUnreachable, _) => server_jobs.iter().map(|(_, name)| name.clone()).collect(),
            (EventKind::VeeamRecovered, Some(server_id)) => {
                // The runs missed while it was down, told here once.
                match veeam::outage_before(state, server_id, event.id).await? {
                    Some(outage) => store::missed_during(&state.db, outage)
                        .await?
                        .into_iter()
                        .map(|(name, at)| format!("{name} ({})", at.with_timezone(&tz).format("%m-%d %H:%M")))
                        .collect(),
                    None => vec![],
                }
            }
            _ => vec![],
        };
        if policy::is_recovery(kind) {
            for rule in &rules {
                let open = store::open_problem(&state.db, rule.id, &subject, kind).await?;
                announced.set(rule.id, &subject, open);
            }
        }
        facts.push(SystemEventFacts {
            id: event.id,
            kind,
            subject,
            subject_name: event.subject_name.clone(),
            veeam_server_id: event.veeam_server_id,
            jobs: ids.iter().map(|id| (*id, tags.remove(id).unwrap_or_default())).collect(),
            occurred_at: event.occurred_at,
            notice: Notice {
                kind,
                subject_name: event.subject_name.clone(),
                job_id: event.job_id,
                result: None,
                at: event.occurred_at,
                duration_seconds: None,
                excerpt: event.details.clone(),
                related,
                reminder: false,
                link_path: Some(link_path.to_owned()).filter(|p| !p.is_empty()),
            },
        });
    }
    let actions = policy::decide_system_events(&facts, &rules, &windows, &enabled, &mut announced);
    Ok(store::apply(&state.db, Some((CURSOR, from, to)), &actions, now).await?.unwrap_or(0))
}

/// The link of a console event's message: the delivery log for a
/// notification given up, the console's home otherwise.
fn console_link(kind: EventKind) -> Option<String> {
    (kind == EventKind::DeliveryDead).then(|| "notifications".to_owned())
}

async fn produce_console_events(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    const CURSOR: &str = "console_events";
    let from = store::cursor(&state.db, CURSOR).await?;
    let events = store::console_events_after(&state.db, from, BATCH).await?;
    let Some(to) = events.last().map(|e| e.id) else { return Ok(0) };
    let rules = rules::enabled(&state.db).await?;
    let enabled = store::enabled_channels(&state.db).await?;
    let mut facts = Vec::new();
    let mut announced = Announced::default();
    for event in &events {
        let Some(kind) = EventKind::ALL.into_iter().find(|k| k.as_str() == event.kind) else { continue };
        if !rules.iter().any(|r| r.events.contains(&kind)) {
            continue;
        }
        if kind == EventKind::ConsoleRecovered {
            for rule in &rules {
                let open =
                    store::open_problem(&state.db, rule.id, &event.subject, EventKind::ConsoleRecovered)
                        .await?;
                announced.set(rule.id, &event.subject, open);
            }
        }
        // A notification given up: what it was about.
        let related = match event.delivery_id {
            Some(id) => match store::delivery_notice(&state.db, id).await? {
                Some((kind, notice, _)) => {
                    let subject = subject_of(&notice);
                    vec![format!("{subject} ({kind})")]
                }
                None => vec![],
            },
            None => vec![],
        };
        facts.push(ConsoleEventFacts {
            id: event.id,
            kind,
            subject: event.subject.clone(),
            failed_channel: event.channel_id,
            notice: Notice {
                kind,
                subject_name: event.subject_name.clone(),
                job_id: None,
                result: None,
                at: event.occurred_at,
                duration_seconds: None,
                excerpt: event.details.clone(),
                related,
                reminder: false,
                link_path: console_link(kind),
            },
        });
    }
    let actions = policy::decide_console_events(&facts, &rules, &enabled, &mut announced);
    Ok(store::apply(&state.db, Some((CURSOR, from, to)), &actions, now).await?.unwrap_or(0))
}

/// Records an event about the console (the watchdog's `console_degraded`
/// and `console_recovered`); the notifier tells it by the rules.
pub async fn record_console_event(
    state: &AppState,
    event: &store::NewConsoleEvent,
) -> Result<(), sqlx::Error> {
    store::record_console_event(&state.db, event).await
}

/// Reminders: for rules with `repeat_every_hours`, a job still in trouble
/// whose last message from the rule is that old gets the message again.
async fn produce_reminders(state: &AppState, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
    let rules = rules::enabled(&state.db).await?;
    if rules.iter().all(|r| r.repeat_every_hours.is_none()) {
        return Ok(0);
    }
    let windows = windows::enabled(&state.db).await?;
    let enabled = store::enabled_channels(&state.db).await?;
    let mut candidates = Vec::new();
    for rule in rules.iter().filter(|r| r.repeat_every_hours.is_some()) {
        let told = store::told_jobs(&state.db, rule.id).await?;
        let ids: Vec<i64> = told.iter().map(|(job, _)| *job).collect();
        let states = jobs::states_of(state, &ids).await?;
        let acknowledged = jobs::acknowledgements_of(state, &ids, now).await?;
        let mut tags = jobs::tags_of(state, &ids).await?;
        for (job_id, last_id) in told {
            let Some(job_state) = states.get(&job_id).copied() else { continue };
            if !policy::still_a_problem(job_state) {
                continue;
            }
            let Some((event, notice, created_at)) = store::delivery_notice(&state.db, last_id).await? else {
                continue;
            };
            let Some(kind) = EventKind::ALL.into_iter().find(|k| k.as_str() == event) else { continue };
            let Ok(notice) = serde_json::from_str::<Notice>(&notice) else { continue };
            candidates.push(ReminderCandidate {
                rule_id: rule.id,
                job_id,
                tags: tags.remove(&job_id).unwrap_or_default(),
                state: job_state,
                acknowledged: acknowledged.contains_key(&job_id),
                last: (last_id, kind, notice, created_at),
            });
        }
    }
    let actions = policy::decide_reminders(&candidates, &rules, &windows, &enabled, now);
    if actions.is_empty() {
        return Ok(0);
    }
    Ok(store::apply(&state.db, None, &actions, now).await?.unwrap_or(0))
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

/// The event of a scheduled report's deliveries. Their message is not
/// stored: the payload (the report's period, fixed when queued, and its
/// filters) is composed into an e-mail when sent, by the reports domain
/// (see [`work_composed`]), so the alerts' worker leaves them alone.
pub const SCHEDULED_REPORT: &str = "scheduled_report";

/// The statement that queues one delivery, for a domain that queues its own
/// in a transaction of its own (a scheduled report moving on): $1 dedup
/// key, $2 channel, $3 rule, $4 event, $5 job, $6 subject, $7 message or
/// payload, $8 now. Nothing is queued for a channel that is off, or twice
/// for one key.
pub const QUEUE_SQL: &str = store::QUEUE_SQL;

/// What a delivery is about: the `subject_name` of its stored message (a
/// [`Notice`], or a scheduled report's payload).
fn subject_of(notice: &str) -> String {
    serde_json::from_str::<serde_json::Value>(notice)
        .ok()
        .and_then(|v| v.get("subject_name").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Sends what is due; `now` decides what is due (tests move it on).
/// Scheduled reports are left to [`work_composed`].
pub async fn work_once(state: &AppState, now: DateTime<Utc>) -> Result<WorkOutcome, sqlx::Error> {
    type Never = fn(String) -> std::future::Ready<Result<Composed, SendError>>;
    work(state, now, None::<&Never>).await
}

/// Sends the due deliveries of scheduled reports: `compose` makes each
/// e-mail from the payload stored when it was queued (an e-mail channel's
/// settings, and the same retries, back-off and dead letters as alerts).
pub async fn work_composed<F, Fut>(
    state: &AppState,
    now: DateTime<Utc>,
    compose: &F,
) -> Result<WorkOutcome, sqlx::Error>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Composed, SendError>>,
{
    work(state, now, Some(compose)).await
}

async fn work<F, Fut>(
    state: &AppState,
    now: DateTime<Utc>,
    compose: Option<&F>,
) -> Result<WorkOutcome, sqlx::Error>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Composed, SendError>>,
{
    let mut outcome = WorkOutcome::default();
    let max_attempts = i64::from(state.settings.notify_max_attempts);
    let mut lease = chrono::Duration::from_std(state.settings.notify_timeout * 3).unwrap_or_default();
    if compose.is_some() {
        // Computing a report and its PDF takes a while on top of the send:
        // the lease must outlast both, or another worker sends it again.
        lease += chrono::Duration::minutes(10);
    }
    for delivery in store::due(&state.db, now, compose.is_some(), SCHEDULED_REPORT).await? {
        if !store::claim(&state.db, delivery.id, now, now + lease).await? {
            continue;
        }
        let attempt = delivery.attempts + 1;
        let channel = store::find(&state.db, delivery.channel_id).await?;
        let result = match (compose, &channel) {
            (_, None) => Err(SendError::Permanent("the channel was removed".into())),
            (Some(compose), Some(channel)) => match compose(delivery.notice.clone()).await {
                Ok(composed) => deliver_composed(state, channel, &composed).await,
                Err(e) => Err(e),
            },
            (None, Some(channel)) => match serde_json::from_str::<Notice>(&delivery.notice) {
                Ok(notice) => deliver(state, channel, &notice, None, Some(delivery.id)).await,
                Err(e) => Err(SendError::Permanent(format!("unreadable notice: {e}"))),
            },
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
        let metrics = Metrics::of(state);
        match status {
            "sent" => {
                outcome.sent += 1;
                metrics.delivery("sent");
            }
            "pending" => {
                outcome.retried += 1;
                metrics.delivery("retry");
            }
            _ => {
                outcome.dead += 1;
                metrics.delivery("dead");
            }
        }
        if status == "dead" {
            // Told through the rules' other channels; never about a
            // `delivery_dead` message itself (a failing channel cannot loop).
            let report = policy::reports_dead_delivery(&delivery.event).then(|| store::NewConsoleEvent {
                kind: EventKind::DeliveryDead,
                subject: format!("delivery:{}", delivery.id),
                subject_name: channel
                    .as_ref()
                    .map_or_else(|| format!("#{}", delivery.channel_id), |c| c.name.clone()),
                details: error.clone(),
                channel_id: channel.as_ref().map(|c| c.id),
                delivery_id: Some(delivery.id),
                occurred_at: Utc::now(),
            });
            store::finish_dead(&state.db, delivery.id, error.as_deref(), report.as_ref()).await?;
        } else {
            store::finish(&state.db, delivery.id, status, next, error.as_deref()).await?;
        }
    }
    Ok(outcome)
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
    let rows = store::deliveries(&state.db, status.as_deref(), channel_id, job_id, limit).await?;
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            id: r.id,
            channel_id: r.channel_id,
            subject: subject_of(&r.notice),
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
    if !store::resend(&state.db, id, Utc::now()).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
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
    store::queue_length(&state.db).await
}

/// The deliveries waiting to be sent and when the oldest was queued.
pub async fn queue_facts(state: &AppState) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    store::queue_facts(&state.db).await
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
    Ok(store::suppressions(&state.db, job_id, limit)
        .await?
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
