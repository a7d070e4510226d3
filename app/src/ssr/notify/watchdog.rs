//! The watchdog: the console watching its own background tasks.
//!
//! Each pass reads the supervisor's view of this instance's periodic tasks
//! and records a `console_degraded` event when one becomes stalled (no good
//! pass for three of its intervals) or failing (a panic, or several failed
//! passes in a row), and a `console_recovered` event when it is healthy
//! again: once per change, not once per pass ([`transitions`] decides,
//! without a database). Notification rules tell them like any event.
//!
//! The watchdog is a task of its own, so it records the event even when the
//! stalled task is the notifier. This instance's notifier then cannot send
//! the message until it recovers (on PostgreSQL another instance's notifier
//! sends it); `/health` answers `503 degraded` meanwhile.
//!
//! What was told is kept in memory, per instance: after a restart a task
//! still in trouble is told again, and each instance tells about its own
//! tasks (the subject, `task:<name>`, does not name the instance).

use std::{collections::BTreeSet, sync::Mutex, time::Duration};

use chrono::{DateTime, Utc};

use super::{message::EventKind, outbox, store::NewConsoleEvent};
use crate::ssr::infra::{
    state::AppState,
    supervisor::{Condition, TaskKind, TaskStatus},
};

/// The watchdog's task name.
pub const WATCHDOG_TASK: &str = "watchdog";

/// How often the watchdog looks (the settings' `watchdog_interval`).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// A change of a task's condition worth an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The task became stalled or failing.
    Degraded {
        /// Its name.
        task: String,
        /// What is wrong, in a line.
        why: String,
    },
    /// It is healthy again.
    Recovered {
        /// Its name.
        task: String,
    },
}

fn seconds(d: Option<Duration>) -> String {
    d.map_or_else(|| "?".to_owned(), |d| format!("{}", d.as_secs_f64()))
}

/// What is wrong with a task, in a line (the notification's excerpt).
fn why(task: &TaskStatus, condition: Condition) -> String {
    let last_ok = task.last_ok_at.map_or_else(|| "none since start".to_owned(), |at| at.to_rfc3339());
    match condition {
        Condition::Stalled => format!(
            "stalled: no pass finished for more than {} s (it runs every {} s); last good pass: {last_ok}",
            seconds(task.stall_after),
            seconds(task.interval),
        ),
        _ => {
            let error: String = task.last_error.as_deref().unwrap_or("").chars().take(300).collect();
            format!(
                "failing: {} failed passes in a row; last good pass: {last_ok}; last error: {error}",
                task.failures
            )
        }
    }
}

/// The changes since the last look: periodic tasks that are stalled or
/// failing at `now` and were not `told` become [`Transition::Degraded`];
/// `told` tasks that are healthy again become [`Transition::Recovered`].
/// The watchdog's own task is left out (it cannot watch itself).
pub fn transitions(told: &BTreeSet<String>, tasks: &[TaskStatus], now: DateTime<Utc>) -> Vec<Transition> {
    tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Periodic && t.name != WATCHDOG_TASK)
        .filter_map(|task| match (task.condition(now), told.contains(&task.name)) {
            (Condition::Healthy, true) => Some(Transition::Recovered { task: task.name.clone() }),
            (Condition::Healthy, false) | (_, true) => None,
            (condition, false) => {
                Some(Transition::Degraded { task: task.name.clone(), why: why(task, condition) })
            }
        })
        .collect()
}

/// The tasks this instance has told as degraded and not yet as recovered.
#[derive(Debug, Default)]
pub struct Watchdog {
    told: Mutex<BTreeSet<String>>,
}

impl Watchdog {
    fn told(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.told.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One look: records an event for each change. A change whose event could
/// not be written is tried again at the next pass. Returns how many events
/// were recorded.
pub async fn run_once(
    state: &AppState,
    watchdog: &Watchdog,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let told = watchdog.told().clone();
    let changes = transitions(&told, &state.tasks.status(), now);
    for change in &changes {
        let (kind, task, details) = match change {
            Transition::Degraded { task, why } => (EventKind::ConsoleDegraded, task, Some(why.clone())),
            Transition::Recovered { task } => (EventKind::ConsoleRecovered, task, None),
        };
        let event = NewConsoleEvent {
            kind,
            subject: format!("task:{task}"),
            subject_name: task.clone(),
            details,
            channel_id: None,
            delivery_id: None,
            occurred_at: now,
        };
        outbox::record_console_event(state, &event).await?;
        match change {
            Transition::Degraded { task, why } => {
                tracing::error!(task = %task, %why, "a background task is not working");
                watchdog.told().insert(task.clone());
            }
            Transition::Recovered { task } => {
                tracing::info!(task = %task, "a background task works again");
                watchdog.told().remove(task);
            }
        }
    }
    Ok(changes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str) -> TaskStatus {
        let start = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap_or_default().to_utc();
        TaskStatus {
            name: name.to_owned(),
            kind: TaskKind::Periodic,
            started_at: start,
            interval: Some(Duration::from_secs(1)),
            stall_after: Some(Duration::from_secs(3)),
            last_ok_at: Some(start),
            last_error_at: None,
            last_error: None,
            failures: 0,
            panics: 0,
            panicking: false,
            leader_only: false,
        }
    }

    fn at(t: &TaskStatus, seconds: i64) -> DateTime<Utc> {
        t.started_at + chrono::Duration::seconds(seconds)
    }

    #[test]
    fn a_stall_is_told_once_and_its_end_once() {
        let stuck = task("notifier");
        let mut told = BTreeSet::new();
        assert!(transitions(&told, std::slice::from_ref(&stuck), at(&stuck, 2)).is_empty());
        let changes = transitions(&told, std::slice::from_ref(&stuck), at(&stuck, 10));
        assert!(
            matches!(changes.as_slice(), [Transition::Degraded { task, why }] if task == "notifier" && why.starts_with("stalled")),
            "{changes:?}"
        );
        told.insert("notifier".to_owned());
        assert!(
            transitions(&told, std::slice::from_ref(&stuck), at(&stuck, 20)).is_empty(),
            "not every pass"
        );
        let mut back = stuck.clone();
        back.last_ok_at = Some(at(&stuck, 21));
        assert_eq!(
            transitions(&told, &[back.clone()], at(&stuck, 22)),
            vec![Transition::Recovered { task: "notifier".into() }]
        );
        told.clear();
        assert!(transitions(&told, &[back], at(&stuck, 22)).is_empty(), "a healthy task is not news");
    }

    #[test]
    fn a_panic_degrades_with_its_message_and_follow_ups_and_the_watchdog_are_left_out() {
        let mut panicking = task("prune-rate-limits");
        panicking.panicking = true;
        panicking.failures = 1;
        panicking.last_error = Some("panicked: index out of bounds".into());
        let mut follow_up = task("veeam-sync:3");
        follow_up.kind = TaskKind::FollowUp;
        follow_up.panicking = true;
        let mut own = task(WATCHDOG_TASK);
        own.panicking = true;
        let now = at(&panicking, 1);
        let changes = transitions(&BTreeSet::new(), &[panicking, follow_up, own], now);
        match changes.as_slice() {
            [Transition::Degraded { task, why }] => {
                assert_eq!(task, "prune-rate-limits");
                assert!(why.contains("index out of bounds"), "{why}");
            }
            other => panic!("one change expected: {other:?}"),
        }
    }
}
