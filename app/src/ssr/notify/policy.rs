//! Who is told what, decided without a database: the notification policy.
//!
//! Given a batch of events (job state changes, server and repository
//! events) with the facts the outbox loaded for them, the enabled rules,
//! the maintenance windows and whether each rule has an unanswered problem
//! about each subject, [`decide_job_events`] and [`decide_system_events`]
//! return the deliveries to queue and the events to hold back;
//! [`decide_reminders`] does the same for problems that are still there.
//! `outbox` loads the inputs and applies the actions in one transaction
//! with its cursor. [`decide_console_events`] does the same for events
//! about the console itself (a task stalled or failing and well again, a
//! notification given up).
//!
//! The rules:
//! - a rule takes an event when it wants the event's kind and its job
//!   filter covers the job (server and repository events: rules for all
//!   jobs, or covering one of the server's jobs);
//! - failed and missed runs are told when exactly `min_consecutive_failures`
//!   runs in a row have that result, warnings at the first in a row: once
//!   per streak (reminders are `repeat_every_hours`);
//! - a recovery is told only by a rule that told the problem, once;
//! - a missed or late job whose Veeam server was down then is held back
//!   (`correlated`) and listed in the server's recovery message instead;
//! - an event in a maintenance window that covers it is held back
//!   (`maintenance`) but kept, so the delivery log can show it;
//! - console events go to every rule that wants their kind, whatever its
//!   job filter, and are never held back (a window is for the backups,
//!   not for the console); a given-up notification is told through the
//!   rule's other channels when it has any, and a given-up message about a
//!   given-up message is never told (no loop).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

pub use super::filter::JobFilter;
use super::{
    message::{EventKind, Notice},
    windows::WindowRow,
};
use crate::model::job::{JobState, RunResult};

/// An enabled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its id.
    pub id: i64,
    /// The kinds it tells.
    pub events: Vec<EventKind>,
    /// Where.
    pub channel_ids: Vec<i64>,
    /// For which jobs.
    pub filter: JobFilter,
    /// Failed or missed runs in a row before it tells.
    pub min_consecutive_failures: usize,
    /// Tell a problem that is still there again after this many hours.
    pub repeat_every_hours: Option<i64>,
}

impl Rule {
    fn wants(&self, kind: EventKind) -> bool {
        self.events.contains(&kind)
    }

    /// How many problem runs in a row the rule waits for.
    fn needed(&self, kind: EventKind) -> usize {
        match kind {
            EventKind::RunFailed | EventKind::RunMissed => self.min_consecutive_failures.max(1),
            _ => 1,
        }
    }
}

/// The kind of message a job's state change is, if any.
pub fn kind_of(from: JobState, to: JobState) -> Option<EventKind> {
    match to {
        JobState::Failed => Some(EventKind::RunFailed),
        JobState::Warning => Some(EventKind::RunWarning),
        JobState::Missed => Some(EventKind::RunMissed),
        JobState::Late if from != JobState::Late => Some(EventKind::JobLate),
        JobState::Overdue if from != JobState::Overdue => Some(EventKind::JobOverdue),
        // Told only when the rule told a problem since the last recovery.
        JobState::Ok if from != JobState::Ok => Some(EventKind::JobRecovered),
        _ => None,
    }
}

/// The result of the runs a kind counts in a row.
pub fn streak_result(kind: EventKind) -> Option<RunResult> {
    match kind {
        EventKind::RunFailed => Some(RunResult::Failed),
        EventKind::RunMissed => Some(RunResult::Missed),
        EventKind::RunWarning => Some(RunResult::Warning),
        _ => None,
    }
}

/// A job event with everything the policy needs about it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEventFacts {
    /// The event's id (dedup keys are made from it).
    pub id: i64,
    /// What it is.
    pub kind: EventKind,
    /// The job.
    pub job_id: i64,
    /// Its name.
    pub job_name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The run behind it, if any.
    pub run_id: Option<i64>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What the message tells.
    pub notice: Notice,
    /// Runs in a row with this event's result, up to its run (1 when not counted).
    pub streak: usize,
    /// The outage of its Veeam server then: (server, the `veeam_unreachable` event).
    pub outage: Option<(i64, i64)>,
}

/// A server or repository event with what the policy needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemEventFacts {
    /// The event's id.
    pub id: i64,
    /// What it is.
    pub kind: EventKind,
    /// `veeam:<id>`, `repository:<id>`.
    pub subject: String,
    /// The server's (or repository's) name.
    pub subject_name: String,
    /// The server.
    pub veeam_server_id: Option<i64>,
    /// The server's jobs and their tags (rules for chosen jobs or tags get
    /// their server's messages).
    pub jobs: Vec<(i64, Vec<String>)>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What the message tells.
    pub notice: Notice,
}

/// An event about the console itself, with what the policy needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleEventFacts {
    /// The event's id.
    pub id: i64,
    /// `console_degraded`, `console_recovered` or `delivery_dead`.
    pub kind: EventKind,
    /// `task:<name>`, `delivery:<id>`.
    pub subject: String,
    /// `delivery_dead`: the channel that failed.
    pub failed_channel: Option<i64>,
    /// What the message tells.
    pub notice: Notice,
}

/// Why an event was held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// In a maintenance window.
    Maintenance {
        /// The window.
        window_id: i64,
    },
    /// Its Veeam server was down: told in the server's recovery message.
    Correlated {
        /// The server.
        server_id: i64,
        /// Its `veeam_unreachable` event.
        outage_event_id: i64,
    },
}

/// What to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Queue a delivery.
    Queue {
        /// Unique per (event, channel): the same event is never queued twice.
        dedup_key: String,
        /// Where.
        channel_id: i64,
        /// Which rule.
        rule_id: i64,
        /// What kind.
        event: EventKind,
        /// The job, if about one.
        job_id: Option<i64>,
        /// `job:<id>`, `veeam:<id>`, `repository:<id>`.
        subject: String,
        /// The message.
        notice: Notice,
    },
    /// Record an event held back.
    Hold {
        /// Which rule would have told it.
        rule_id: i64,
        /// What kind.
        event: EventKind,
        /// The job, if about one.
        job_id: Option<i64>,
        /// The run, if any.
        run_id: Option<i64>,
        /// The server, for server events.
        veeam_server_id: Option<i64>,
        /// Its name.
        subject_name: String,
        /// Why.
        why: Held,
        /// When it happened.
        occurred_at: DateTime<Utc>,
    },
}

/// Whether each (rule, subject) has a problem told and not yet answered by
/// a recovery. Loaded from the delivery log, then kept up to date as the
/// policy queues messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Announced(HashMap<(i64, String), bool>);

impl Announced {
    /// Records what the log says for a rule and subject.
    pub fn set(&mut self, rule_id: i64, subject: &str, open_problem: bool) {
        self.0.insert((rule_id, subject.to_owned()), open_problem);
    }

    /// Whether the rule told a problem about the subject since its last recovery.
    pub fn open(&self, rule_id: i64, subject: &str) -> bool {
        self.0.get(&(rule_id, subject.to_owned())).copied().unwrap_or(false)
    }
}

/// The subject a job's messages are about.
pub fn job_subject(job_id: i64) -> String {
    format!("job:{job_id}")
}

/// The enabled channels of `rule`, without `avoid` (a channel that just
/// failed) unless it is the only one.
pub fn channels_of(rule: &Rule, enabled: &HashSet<i64>, avoid: Option<i64>) -> Vec<i64> {
    let all: Vec<i64> = rule.channel_ids.iter().copied().filter(|c| enabled.contains(c)).collect();
    let others: Vec<i64> = all.iter().copied().filter(|c| Some(*c) != avoid).collect();
    if others.is_empty() { all } else { others }
}

/// Whether a delivery of this kind that is given up becomes a
/// `delivery_dead` event: every kind but `delivery_dead` itself, so a
/// channel that fails cannot make messages about its own failures forever.
pub fn reports_dead_delivery(event: &str) -> bool {
    event != EventKind::DeliveryDead.as_str()
}

/// Queues `notice` (its kind is the event's) to each enabled channel of
/// `rule`; whether anything was queued.
fn queue_all(
    rule: &Rule,
    enabled: &HashSet<i64>,
    key: impl Fn(i64) -> String,
    job_id: Option<i64>,
    subject: &str,
    notice: &Notice,
    out: &mut Vec<Action>,
) -> bool {
    queue_to(rule, &channels_of(rule, enabled, None), key, job_id, subject, notice, out)
}

/// Queues `notice` to `channels` for `rule`; whether anything was queued.
fn queue_to(
    rule: &Rule,
    channels: &[i64],
    key: impl Fn(i64) -> String,
    job_id: Option<i64>,
    subject: &str,
    notice: &Notice,
    out: &mut Vec<Action>,
) -> bool {
    let mut queued = false;
    for channel_id in channels.iter().copied() {
        out.push(Action::Queue {
            dedup_key: key(channel_id),
            channel_id,
            rule_id: rule.id,
            event: notice.kind,
            job_id,
            subject: subject.to_owned(),
            notice: notice.clone(),
        });
        queued = true;
    }
    queued
}

/// Whether `kind` answers a problem (told only by a rule that told the problem).
pub fn is_recovery(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::JobRecovered
            | EventKind::VeeamRecovered
            | EventKind::ConsoleRecovered
            | EventKind::RpoMet
            | EventKind::VeeamSignalCleared
    )
}

fn record_told(announced: &mut Announced, rule_id: i64, subject: &str, kind: EventKind) {
    if matches!(kind, EventKind::JobAcknowledged | EventKind::RunAnomaly) {
        // Neither a problem nor its answer (an anomaly is told once, by run).
        return;
    }
    announced.set(rule_id, subject, !is_recovery(kind));
}

/// Decides a batch of job events, oldest first. `enabled` is the set of
/// enabled channels; `announced` is updated with what this batch tells.
pub fn decide_job_events(
    events: &[JobEventFacts],
    rules: &[Rule],
    windows: &[WindowRow],
    enabled: &HashSet<i64>,
    announced: &mut Announced,
) -> Vec<Action> {
    let mut out = Vec::new();
    for event in events {
        let kind = event.kind;
        let job = Some((event.job_id, event.tags.as_slice()));
        let subject = job_subject(event.job_id);
        let window = windows.iter().find(|w| w.in_force(event.occurred_at) && w.covers(job)).map(|w| w.id());
        for rule in rules.iter().filter(|r| r.wants(kind) && r.filter.covers(job)) {
            // Every missed run of a server's outage is kept for its recovery
            // message; otherwise problems count in a row.
            if event.outage.is_none() && streak_result(kind).is_some() && event.streak != rule.needed(kind) {
                continue;
            }
            if kind == EventKind::JobRecovered && !announced.open(rule.id, &subject) {
                continue;
            }
            let held = match (event.outage, window) {
                (Some((server_id, outage_event_id)), _) => {
                    Some(Held::Correlated { server_id, outage_event_id })
                }
                (None, Some(window_id)) => Some(Held::Maintenance { window_id }),
                (None, None) => None,
            };
            match held {
                Some(why) => out.push(Action::Hold {
                    rule_id: rule.id,
                    event: kind,
                    job_id: Some(event.job_id),
                    run_id: event.run_id,
                    veeam_server_id: match why {
                        Held::Correlated { server_id, .. } => Some(server_id),
                        Held::Maintenance { .. } => None,
                    },
                    subject_name: event.job_name.clone(),
                    why,
                    // A held-back missed run is listed later by when it was expected.
                    occurred_at: match why {
                        Held::Correlated { .. } => event.notice.at,
                        Held::Maintenance { .. } => event.occurred_at,
                    },
                }),
                None => {
                    let key = |channel: i64| format!("job_event:{}:{channel}", event.id);
                    if queue_all(rule, enabled, key, Some(event.job_id), &subject, &event.notice, &mut out) {
                        record_told(announced, rule.id, &subject, kind);
                    }
                }
            }
        }
    }
    out
}

/// Decides a batch of server and repository events, oldest first.
pub fn decide_system_events(
    events: &[SystemEventFacts],
    rules: &[Rule],
    windows: &[WindowRow],
    enabled: &HashSet<i64>,
    announced: &mut Announced,
) -> Vec<Action> {
    let mut out = Vec::new();
    for event in events {
        let kind = event.kind;
        let window = windows.iter().find(|w| w.in_force(event.occurred_at) && w.covers(None)).map(|w| w.id());
        for rule in rules.iter().filter(|r| r.wants(kind)) {
            let covered = rule.filter.covers(None)
                || event.jobs.iter().any(|(id, tags)| rule.filter.covers(Some((*id, tags.as_slice()))));
            if !covered {
                continue;
            }
            if is_recovery(kind) && !announced.open(rule.id, &event.subject) {
                continue;
            }
            if let Some(window_id) = window {
                out.push(Action::Hold {
                    rule_id: rule.id,
                    event: kind,
                    job_id: None,
                    run_id: None,
                    veeam_server_id: event.veeam_server_id,
                    subject_name: event.subject_name.clone(),
                    why: Held::Maintenance { window_id },
                    occurred_at: event.occurred_at,
                });
                continue;
            }
            let key = |channel: i64| format!("system_event:{}:{channel}", event.id);
            if queue_all(rule, enabled, key, None, &event.subject, &event.notice, &mut out) {
                record_told(announced, rule.id, &event.subject, kind);
            }
        }
    }
    out
}

/// Decides a batch of console events, oldest first: each goes to every
/// rule that wants its kind (whatever its job filter; never held back by a
/// maintenance window); a recovery only from a rule that told the problem;
/// a given-up notification through the rule's channels other than the one
/// that failed, when it has any.
pub fn decide_console_events(
    events: &[ConsoleEventFacts],
    rules: &[Rule],
    enabled: &HashSet<i64>,
    announced: &mut Announced,
) -> Vec<Action> {
    let mut out = Vec::new();
    for event in events {
        let kind = event.kind;
        for rule in rules.iter().filter(|r| r.wants(kind)) {
            if kind == EventKind::ConsoleRecovered && !announced.open(rule.id, &event.subject) {
                continue;
            }
            let channels = channels_of(rule, enabled, event.failed_channel);
            let key = |channel: i64| format!("console_event:{}:{channel}", event.id);
            if queue_to(rule, &channels, key, None, &event.subject, &event.notice, &mut out) {
                record_told(announced, rule.id, &event.subject, kind);
            }
        }
    }
    out
}

/// Whether a job in `state` still has a problem a reminder would repeat.
pub fn still_a_problem(state: JobState) -> bool {
    matches!(
        state,
        JobState::Failed | JobState::Missed | JobState::Late | JobState::Overdue | JobState::Warning
    )
}

/// A job a rule told about that may need a reminder: its state now and the
/// rule's newest delivery about it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReminderCandidate {
    /// The rule.
    pub rule_id: i64,
    /// The job.
    pub job_id: i64,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its state now.
    pub state: JobState,
    /// Whether an operator acknowledged its problem (and it still holds).
    pub acknowledged: bool,
    /// The rule's newest delivery about it: id, kind, message, when.
    pub last: (i64, EventKind, Notice, DateTime<Utc>),
}

/// Reminders: a job still in trouble whose rule's last message about it is
/// `repeat_every_hours` old gets the message again (marked a reminder, with
/// the problem it has now), unless a maintenance window covers it now or
/// an operator acknowledged the problem.
pub fn decide_reminders(
    candidates: &[ReminderCandidate],
    rules: &[Rule],
    windows: &[WindowRow],
    enabled: &HashSet<i64>,
    now: DateTime<Utc>,
) -> Vec<Action> {
    let mut out = Vec::new();
    for candidate in candidates {
        let Some(rule) = rules.iter().find(|r| r.id == candidate.rule_id) else { continue };
        let Some(hours) = rule.repeat_every_hours else { continue };
        let (last_id, last_kind, notice, last_at) = &candidate.last;
        if !still_a_problem(candidate.state)
            || candidate.acknowledged
            || *last_kind == EventKind::JobRecovered
            || *last_at + Duration::hours(hours) > now
        {
            continue;
        }
        let job = Some((candidate.job_id, candidate.tags.as_slice()));
        if !rule.filter.covers(job) || windows.iter().any(|w| w.in_force(now) && w.covers(job)) {
            continue;
        }
        let mut notice = notice.clone();
        notice.reminder = true;
        if let Some(current) = kind_of(JobState::New, candidate.state) {
            notice.kind = current;
        }
        let key = |channel: i64| format!("reminder:{}:{}:{last_id}:{channel}", rule.id, candidate.job_id);
        let subject = job_subject(candidate.job_id);
        queue_all(rule, enabled, key, Some(candidate.job_id), &subject, &notice, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap_or_default().with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    fn rule(id: i64, min: usize) -> Rule {
        Rule {
            id,
            events: vec![EventKind::RunFailed, EventKind::RunMissed, EventKind::JobRecovered],
            channel_ids: vec![10],
            filter: JobFilter::All,
            min_consecutive_failures: min,
            repeat_every_hours: None,
        }
    }

    fn notice(kind: EventKind) -> Notice {
        Notice {
            kind,
            subject_name: "nightly".into(),
            job_id: Some(1),
            result: None,
            at: at(0),
            duration_seconds: None,
            excerpt: None,
            related: vec![],
            reminder: false,
            link_path: None,
        }
    }

    /// The events a sequence of finished runs of one job makes (as ingest
    /// records them: one per failure, and one per state change), with the
    /// streak of each.
    fn events_of(results: &[RunResult]) -> Vec<JobEventFacts> {
        let mut state = JobState::New;
        let mut out = vec![];
        let mut streak = 0;
        let mut previous = None;
        for (i, result) in results.iter().enumerate() {
            streak = if previous == Some(*result) { streak + 1 } else { 1 };
            previous = Some(*result);
            let to = match result {
                RunResult::Success => JobState::Ok,
                RunResult::Warning => JobState::Warning,
                RunResult::Missed => JobState::Missed,
                _ => JobState::Failed,
            };
            let repeats = matches!(to, JobState::Failed | JobState::Missed | JobState::Warning);
            if (to != state || repeats)
                && let Some(kind) = kind_of(state, to)
            {
                out.push(JobEventFacts {
                    id: i as i64 + 1,
                    kind,
                    job_id: 1,
                    job_name: "nightly".into(),
                    tags: vec!["tokyo".into()],
                    run_id: Some(i as i64 + 1),
                    occurred_at: at(i as i64 * 60),
                    notice: notice(kind),
                    streak: if streak_result(kind).is_some() { streak } else { 1 },
                    outage: None,
                });
            }
            state = to;
        }
        out
    }

    fn queued(actions: &[Action], kind: EventKind) -> usize {
        actions.iter().filter(|a| matches!(a, Action::Queue { event, .. } if *event == kind)).count()
    }

    fn enabled() -> HashSet<i64> {
        [10].into()
    }

    /// Maximal runs of failures of at least `n`.
    fn streaks_of_at_least(results: &[RunResult], n: usize) -> usize {
        let mut count = 0;
        let mut run = 0;
        for r in results.iter().chain(std::iter::once(&RunResult::Success)) {
            if *r == RunResult::Failed {
                run += 1;
            } else {
                if run >= n {
                    count += 1;
                }
                run = 0;
            }
        }
        count
    }

    fn weekly_window(days: &str) -> WindowRow {
        WindowRow::weekly_for_tests(days, "00:00", "23:59", "UTC")
    }

    #[test]
    fn a_recovery_is_told_only_by_a_rule_that_told_the_problem() {
        use RunResult::*;
        let events = events_of(&[Failed, Failed, Success]);
        let rules = [rule(1, 1), rule(2, 3)];
        let actions = decide_job_events(&events, &rules, &[], &enabled(), &mut Announced::default());
        let told: Vec<(i64, EventKind)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Queue { rule_id, event, .. } => Some((*rule_id, *event)),
                Action::Hold { .. } => None,
            })
            .collect();
        assert_eq!(told, vec![(1, EventKind::RunFailed), (1, EventKind::JobRecovered)]);
    }

    #[test]
    fn a_disabled_channel_tells_nobody_and_announces_nothing() {
        use RunResult::*;
        let events = events_of(&[Failed, Success]);
        let actions =
            decide_job_events(&events, &[rule(1, 1)], &[], &HashSet::new(), &mut Announced::default());
        assert!(actions.is_empty());
    }

    #[test]
    fn an_outage_holds_back_missed_runs_for_the_servers_message() {
        let mut events = events_of(&[RunResult::Missed, RunResult::Missed]);
        for e in &mut events {
            e.outage = Some((7, 99));
        }
        let actions = decide_job_events(&events, &[rule(1, 3)], &[], &enabled(), &mut Announced::default());
        assert_eq!(actions.len(), 2, "each missed run is kept, whatever the streak");
        assert!(actions.iter().all(|a| matches!(
            a,
            Action::Hold { why: Held::Correlated { server_id: 7, outage_event_id: 99 }, .. }
        )));
    }

    #[test]
    fn system_events_reach_rules_covering_one_of_the_servers_jobs() {
        let event = SystemEventFacts {
            id: 5,
            kind: EventKind::VeeamUnreachable,
            subject: "veeam:7".into(),
            subject_name: "vbr".into(),
            veeam_server_id: Some(7),
            jobs: vec![(3, vec!["osaka".into()])],
            occurred_at: at(0),
            notice: notice(EventKind::VeeamUnreachable),
        };
        let mut osaka = rule(1, 1);
        osaka.events = vec![EventKind::VeeamUnreachable, EventKind::VeeamRecovered];
        osaka.filter = JobFilter::Tags(vec!["osaka".into()]);
        let mut tokyo = osaka.clone();
        tokyo.id = 2;
        tokyo.filter = JobFilter::Tags(vec!["tokyo".into()]);
        let mut announced = Announced::default();
        let actions = decide_system_events(
            std::slice::from_ref(&event),
            &[osaka.clone(), tokyo],
            &[],
            &enabled(),
            &mut announced,
        );
        assert_eq!(actions.len(), 1);
        assert!(announced.open(1, "veeam:7"));
        let recovered = SystemEventFacts {
            id: 6,
            kind: EventKind::VeeamRecovered,
            notice: notice(EventKind::VeeamRecovered),
            ..event
        };
        let actions = decide_system_events(&[recovered], &[osaka], &[], &enabled(), &mut announced);
        assert_eq!(queued(&actions, EventKind::VeeamRecovered), 1);
        assert!(!announced.open(1, "veeam:7"));
    }

    #[test]
    fn reminders_come_after_their_hours_while_the_problem_lasts() {
        let mut r = rule(1, 1);
        r.repeat_every_hours = Some(2);
        let candidate = ReminderCandidate {
            rule_id: 1,
            job_id: 1,
            tags: vec![],
            state: JobState::Failed,
            acknowledged: false,
            last: (40, EventKind::RunFailed, notice(EventKind::RunFailed), at(0)),
        };
        let rules = [r];
        assert!(
            decide_reminders(std::slice::from_ref(&candidate), &rules, &[], &enabled(), at(119)).is_empty()
        );
        let actions = decide_reminders(std::slice::from_ref(&candidate), &rules, &[], &enabled(), at(120));
        match actions.as_slice() {
            [Action::Queue { dedup_key, notice, .. }] => {
                assert_eq!(dedup_key, "reminder:1:1:40:10");
                assert!(notice.reminder);
            }
            other => panic!("expected one reminder, got {other:?}"),
        }
        let acknowledged = ReminderCandidate { acknowledged: true, ..candidate.clone() };
        assert!(
            decide_reminders(&[acknowledged], &rules, &[], &enabled(), at(600)).is_empty(),
            "an acknowledged problem gets no reminder"
        );
        let fixed = ReminderCandidate { state: JobState::Ok, ..candidate };
        assert!(decide_reminders(&[fixed], &rules, &[], &enabled(), at(600)).is_empty());
    }

    fn console_event(
        id: i64,
        kind: EventKind,
        subject: &str,
        failed_channel: Option<i64>,
    ) -> ConsoleEventFacts {
        ConsoleEventFacts {
            id,
            kind,
            subject: subject.into(),
            failed_channel,
            notice: Notice { job_id: None, ..notice(kind) },
        }
    }

    fn console_rule(id: i64, channels: &[i64]) -> Rule {
        Rule {
            id,
            events: vec![EventKind::ConsoleDegraded, EventKind::ConsoleRecovered, EventKind::DeliveryDead],
            channel_ids: channels.to_vec(),
            filter: JobFilter::Tags(vec!["tokyo".into()]),
            min_consecutive_failures: 1,
            repeat_every_hours: None,
        }
    }

    fn channels_queued(actions: &[Action]) -> Vec<(i64, EventKind)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Queue { channel_id, event, .. } => Some((*channel_id, *event)),
                Action::Hold { .. } => None,
            })
            .collect()
    }

    #[test]
    fn a_given_up_notification_is_told_through_the_other_channels() {
        let enabled: HashSet<i64> = [10, 11, 12].into();
        let dead = console_event(1, EventKind::DeliveryDead, "delivery:5", Some(10));
        let actions = decide_console_events(
            std::slice::from_ref(&dead),
            &[console_rule(1, &[10, 11])],
            &enabled,
            &mut Announced::default(),
        );
        assert_eq!(
            channels_queued(&actions),
            vec![(11, EventKind::DeliveryDead)],
            "not through the channel that failed"
        );
        // The failed channel is the rule's only one: it is still tried.
        let actions =
            decide_console_events(&[dead], &[console_rule(2, &[10])], &enabled, &mut Announced::default());
        assert_eq!(channels_queued(&actions), vec![(10, EventKind::DeliveryDead)]);
        // Another channel that is disabled does not count.
        let off: HashSet<i64> = [10].into();
        let again = console_event(2, EventKind::DeliveryDead, "delivery:6", Some(10));
        let actions =
            decide_console_events(&[again], &[console_rule(3, &[10, 11])], &off, &mut Announced::default());
        assert_eq!(channels_queued(&actions), vec![(10, EventKind::DeliveryDead)]);
    }

    #[test]
    fn a_given_up_message_about_a_given_up_message_is_never_reported() {
        assert!(reports_dead_delivery("run_failed"));
        assert!(reports_dead_delivery("console_degraded"));
        assert!(!reports_dead_delivery("delivery_dead"));
    }

    #[test]
    fn console_events_reach_rules_for_chosen_jobs_and_recover_once_told() {
        let rules = [
            console_rule(1, &[10]),
            Rule { events: vec![EventKind::ConsoleRecovered], ..console_rule(2, &[10]) },
        ];
        let mut announced = Announced::default();
        let degraded = console_event(1, EventKind::ConsoleDegraded, "task:notifier", None);
        let recovered = console_event(2, EventKind::ConsoleRecovered, "task:notifier", None);
        let actions =
            decide_console_events(&[degraded, recovered.clone()], &rules, &enabled(), &mut announced);
        let told: Vec<(i64, EventKind)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Queue { rule_id, event, .. } => Some((*rule_id, *event)),
                Action::Hold { .. } => None,
            })
            .collect();
        assert_eq!(
            told,
            vec![(1, EventKind::ConsoleDegraded), (1, EventKind::ConsoleRecovered)],
            "the recoveries-only rule told no problem, so no recovery"
        );
        assert!(!announced.open(1, "task:notifier"));
        let again = decide_console_events(&[recovered], &rules, &enabled(), &mut announced);
        assert!(again.is_empty(), "a recovery is told once");
    }

    fn any_results() -> impl Strategy<Value = Vec<RunResult>> {
        proptest::collection::vec(
            prop_oneof![Just(RunResult::Failed), Just(RunResult::Success), Just(RunResult::Warning)],
            1..40,
        )
    }

    proptest! {
        #[test]
        fn n_in_a_row_fires_once_per_streak(results in any_results(), n in 1..5usize) {
            let events = events_of(&results);
            let actions = decide_job_events(&events, &[rule(1, n)], &[], &enabled(), &mut Announced::default());
            prop_assert_eq!(queued(&actions, EventKind::RunFailed), streaks_of_at_least(&results, n));
        }

        #[test]
        fn a_success_after_failures_is_one_recovery(failures in 1..10usize, successes in 1..5usize, n in 1..4usize) {
            let mut results = vec![RunResult::Failed; failures];
            results.extend(vec![RunResult::Success; successes]);
            let events = events_of(&results);
            let actions = decide_job_events(&events, &[rule(1, n)], &[], &enabled(), &mut Announced::default());
            let expected = usize::from(failures >= n);
            prop_assert_eq!(queued(&actions, EventKind::JobRecovered), expected, "one recovery, and only after a told problem");
        }

        #[test]
        fn a_maintenance_window_suppresses_but_keeps_the_event(results in any_results()) {
            let events = events_of(&results);
            let window = weekly_window("mon,tue,wed,thu,fri,sat,sun");
            let rules = [rule(1, 1)];
            let held = decide_job_events(&events, &rules, &[window], &enabled(), &mut Announced::default());
            let open = decide_job_events(&events, &rules, &[], &enabled(), &mut Announced::default());
            prop_assert!(held.iter().all(|a| matches!(a, Action::Hold { why: Held::Maintenance { .. }, .. })), "nothing is sent");
            // Every failure the rule would have told is kept as held back.
            let held_failures = held.iter().filter(|a| matches!(a, Action::Hold { event: EventKind::RunFailed, .. })).count();
            prop_assert_eq!(held_failures, queued(&open, EventKind::RunFailed));
        }
    }
}
