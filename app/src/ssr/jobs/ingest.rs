//! What a run report does to a job, decided without a database.
//!
//! Ping URLs, the run API, the Veeam webhook, the Veeam sync and the
//! monitor's missed runs all end in one of the plans here: [`plan_report`]
//! for a reported start or finish, [`plan_missed`] for an expected run that
//! did not happen, [`plan_transition`] for a state set from outside (late,
//! overdue, paused, resumed). Each takes what is stored (the job, the run
//! the report is about, the runs still in progress) and the time, and says
//! what to write: the run, the job's new state and last run, the daily
//! figures, and the event notifications are made from. `store::writes`
//! loads the inputs and applies a plan in one transaction.

use chrono::{DateTime, Duration, DurationRound, Utc};
use chrono_tz::Tz;

use super::schedule::Expected;
use crate::model::job::{JobState, RunResult};

/// The most of a tool's output that is kept.
pub const MAX_LOG_BYTES: usize = 10 * 1024;
/// The most of a message that is kept.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// Now, at the microsecond precision both databases store.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// A time at microsecond precision (what PostgreSQL keeps, and what keyset
/// cursors must match exactly on SQLite too).
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

/// The last `MAX_LOG_BYTES` of a log, cut at a character boundary.
pub fn log_tail(log: &str) -> String {
    if log.len() <= MAX_LOG_BYTES {
        return log.to_owned();
    }
    let mut start = log.len() - MAX_LOG_BYTES;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    log[start..].to_owned()
}

fn message_head(message: &str) -> String {
    message.chars().take(MAX_MESSAGE_CHARS).collect()
}

/// The day (in `tz`) a run started on, as `YYYY-MM-DD`.
pub fn day_of(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

/// The state a finished run puts its job in.
pub fn state_after(result: RunResult) -> JobState {
    match result {
        RunResult::Running => JobState::Running,
        RunResult::Success => JobState::Ok,
        RunResult::Warning => JobState::Warning,
        RunResult::Failed => JobState::Failed,
        RunResult::Missed => JobState::Missed,
    }
}

/// The duration histogram bucket of `seconds` in the daily roll-ups:
/// 0 for 0 s, else `1 + floor(8 × log2 seconds)` (each bucket spans 9 %).
pub fn duration_bucket(seconds: i64) -> i64 {
    if seconds <= 0 { 0 } else { 1 + ((seconds as f64).log2() * 8.0).floor() as i64 }
}

/// A representative duration (seconds) of a histogram bucket: the middle
/// of its span.
pub fn bucket_seconds(bucket: i64) -> i64 {
    if bucket <= 0 { 0 } else { (((bucket - 1) as f64 + 0.5) / 8.0).exp2().round() as i64 }
}

/// Whether a run that leaves its job in `state` is worth an event even
/// without a change (a failure after a failure): rules count problems in a
/// row from these.
fn repeats_problem(state: JobState) -> bool {
    matches!(state, JobState::Failed | JobState::Missed | JobState::Warning)
}

/// A report about a run of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// `Running` for a start, else how it ended.
    pub result: RunResult,
    /// Start (default: now, or the matching start).
    pub started_at: Option<DateTime<Utc>>,
    /// End (default: now, for finished runs).
    pub ended_at: Option<DateTime<Utc>>,
    /// Message.
    pub message: Option<String>,
    /// Bytes processed.
    pub bytes_processed: Option<i64>,
    /// Exit code.
    pub exit_code: Option<i64>,
    /// The source's own id of the run.
    pub external_id: Option<String>,
    /// Output of the tool.
    pub log: Option<String>,
    /// `ping`, `api`, `veeam_webhook`, `veeam_sync`.
    pub origin: &'static str,
}

/// What a plan needs to know about the job.
#[derive(Debug, Clone)]
pub struct JobFacts {
    /// Its state.
    pub state: JobState,
    /// Whether it is paused.
    pub paused: bool,
    /// Its latest run.
    pub last_run_id: Option<i64>,
    /// That run's start.
    pub last_run_at: Option<DateTime<Utc>>,
    /// That run's result.
    pub last_result: Option<RunResult>,
    /// When its next run is expected.
    pub next_expected_at: Option<DateTime<Utc>>,
    /// Whether a run is in progress (the start of the earliest).
    pub running_since: Option<DateTime<Utc>>,
    /// Its grace period.
    pub grace: Duration,
    /// Its schedule.
    pub expected: Expected,
}

/// The stored run a report is about: the run with the report's external
/// id, or (for a finish without one) the newest run still in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredRun {
    /// Its id.
    pub id: i64,
    /// Its start.
    pub started_at: DateTime<Utc>,
    /// Its result so far.
    pub result: RunResult,
    /// Whether it answered an expected slot of the schedule.
    pub answered_slot: bool,
}

/// A run a plan refers to: one that exists, or the one the plan inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunRef {
    /// A stored run.
    Stored(i64),
    /// The run this plan inserts.
    New,
}

/// The run fields a report writes.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFields {
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End (none while running).
    pub ended_at: Option<DateTime<Utc>>,
    /// Result.
    pub result: RunResult,
    /// Message (kept when a finish has none).
    pub message: Option<String>,
    /// Bytes processed.
    pub bytes_processed: Option<i64>,
    /// Exit code.
    pub exit_code: Option<i64>,
    /// The end of the tool's output.
    pub log: Option<String>,
}

/// What to do with the run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunWrite {
    /// Insert a new run.
    Insert {
        /// Its fields.
        fields: RunFields,
        /// The source's id.
        external_id: Option<String>,
        /// How it arrived.
        origin: &'static str,
        /// Whether it answers the job's pending expected slot.
        answered_slot: bool,
    },
    /// Finish the stored run that was in progress.
    Finish {
        /// The run.
        id: i64,
        /// Its new fields (absent ones keep the stored value).
        fields: RunFields,
    },
}

/// The job columns a plan sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobWrite {
    /// State.
    pub state: JobState,
    /// Latest run.
    pub last_run: Option<RunRef>,
    /// Its start.
    pub last_run_at: Option<DateTime<Utc>>,
    /// Its result.
    pub last_result: Option<RunResult>,
    /// Next expected start.
    pub next_expected_at: Option<DateTime<Utc>>,
    /// Start of the earliest run in progress.
    pub running_since: Option<DateTime<Utc>>,
}

/// What to add to the job's figures of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyDelta {
    /// `YYYY-MM-DD` in the console's zone.
    pub day: String,
    /// The finished run's result (`Missed` for a missed run).
    pub result: RunResult,
    /// Its duration (none for a missed run).
    pub duration_seconds: Option<i64>,
    /// Bytes processed.
    pub bytes: i64,
    /// Whether the run stands for an expected slot (a missed run always).
    pub expected: bool,
    /// When a good backup (success or warning) became available: its end.
    pub good_at: Option<DateTime<Utc>>,
}

/// An event to record (notifications are made from these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventWrite {
    /// The state before.
    pub from: JobState,
    /// The state after (the same for a problem that repeats).
    pub to: JobState,
    /// The run that caused it.
    pub run: Option<RunRef>,
    /// Details: the run's message, or why the state changed.
    pub details: Option<String>,
}

/// What recording a report writes.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a plan lives for one transaction on the stack; boxing buys nothing"
)]
pub enum ReportPlan {
    /// The report is one already stored (the same start again, or a finish
    /// of a run that already ended): nothing changes.
    Duplicate {
        /// The stored run.
        run_id: i64,
        /// The job's state, unchanged.
        state: JobState,
    },
    /// A new or finished run.
    Write {
        /// The run.
        run: RunWrite,
        /// The job.
        job: JobWrite,
        /// The figures of the run's day, when the run finished.
        daily: Option<DailyDelta>,
        /// The event, if any.
        event: Option<EventWrite>,
    },
}

/// Why a report cannot be recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The end is before the start.
    #[error("the run ends before it starts")]
    EndsBeforeStart,
    /// The start is more than [`MAX_CLOCK_AHEAD_MINUTES`] ahead of now.
    #[error("the run starts in the future")]
    StartsInFuture,
    /// The end is more than [`MAX_CLOCK_AHEAD_MINUTES`] ahead of now.
    #[error("the run ends in the future")]
    EndsInFuture,
}

/// How far ahead of the server's clock a reported time may be: clocks of
/// reporting machines drift a little. Anything later is refused, so a
/// report dated in the future can never push a job's expectations out of
/// reach (and so silence it); times within the allowance count as now.
pub const MAX_CLOCK_AHEAD_MINUTES: i64 = 5;

/// Decides what a report does. `stored` is the run the report is about
/// (see [`StoredRun`]); `others_running_since` is the earliest start of
/// the job's other runs in progress; `tz` is the zone of daily figures.
///
/// The job's state follows its newest run. A late report of an older run
/// only adds to the history: the job's last run stays the newer one.
pub fn plan_report(
    job: &JobFacts,
    stored: Option<StoredRun>,
    others_running_since: Option<DateTime<Utc>>,
    incoming: &Incoming,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<ReportPlan, ReportError> {
    if let (Some(start), Some(end)) = (incoming.started_at, incoming.ended_at)
        && end < start
    {
        return Err(ReportError::EndsBeforeStart);
    }
    let latest = now + Duration::minutes(MAX_CLOCK_AHEAD_MINUTES);
    if incoming.started_at.is_some_and(|t| t > latest) {
        return Err(ReportError::StartsInFuture);
    }
    if incoming.ended_at.is_some_and(|t| t > latest) {
        return Err(ReportError::EndsInFuture);
    }
    // A job's last run is never in the future.
    let started_in = incoming.started_at.map(|t| truncate(t.min(now)));
    let ended_in = incoming.ended_at.map(|t| truncate(t.min(now)));
    let finished = incoming.result != RunResult::Running;
    let fields = |started_at, ended_at| RunFields {
        started_at,
        ended_at,
        result: incoming.result,
        message: incoming.message.as_deref().map(message_head),
        bytes_processed: incoming.bytes_processed,
        exit_code: incoming.exit_code,
        log: incoming.log.as_deref().map(log_tail),
    };

    // The run: a duplicate, a finish of the stored run, or a new one.
    let mut answered_slot = false;
    let (mut run, run_ref, started, just_finished) = match stored {
        // A start we already have, or a finish of a run that already ended.
        Some(run) if !finished || run.result != RunResult::Running => {
            return Ok(ReportPlan::Duplicate { run_id: run.id, state: job.state });
        }
        Some(run) => {
            answered_slot = run.answered_slot;
            let started = started_in.unwrap_or(run.started_at);
            let ended = ended_in.unwrap_or(now).max(started);
            (
                RunWrite::Finish { id: run.id, fields: fields(started, Some(ended)) },
                RunRef::Stored(run.id),
                started,
                true,
            )
        }
        None => {
            let ended = finished.then(|| ended_in.unwrap_or(now));
            let started = started_in.or(ended).unwrap_or(now);
            let run = RunWrite::Insert {
                fields: fields(started, ended),
                external_id: incoming.external_id.clone(),
                origin: incoming.origin,
                answered_slot: false,
            };
            (run, RunRef::New, started, finished)
        }
    };

    // Runs still in progress after this write.
    let running_since = match (others_running_since, finished) {
        (others, true) => others,
        (Some(others), false) => Some(others.min(started)),
        (None, false) => Some(started),
    };

    let is_last_run = matches!(run_ref, RunRef::Stored(id) if job.last_run_id == Some(id));
    let newest = is_last_run || job.last_run_at.is_none_or(|last| started >= last);
    let job_write = if newest {
        JobWrite {
            state: JobState::New,
            last_run: Some(run_ref),
            last_run_at: Some(started),
            last_result: Some(incoming.result),
            next_expected_at: job.expected.next_after_run(started, job.grace).or(job.next_expected_at),
            running_since,
        }
    } else {
        JobWrite {
            state: JobState::New,
            last_run: job.last_run_id.map(RunRef::Stored),
            last_run_at: job.last_run_at,
            last_result: job.last_result,
            next_expected_at: job.next_expected_at,
            running_since,
        }
    };
    // A new run answers the pending expected slot when it starts no earlier
    // than the grace period before it and moves the expectation past it (a
    // run between slots, such as a retry after a failure, answers none).
    if let RunWrite::Insert { answered_slot: answers, .. } = &mut run
        && newest
        && job.next_expected_at.is_some_and(|slot| started >= slot - job.grace)
        && job_write.next_expected_at != job.next_expected_at
    {
        *answers = true;
        answered_slot = true;
    }
    let state = if job.paused {
        JobState::Paused
    } else if newest {
        if running_since.is_some() && finished { JobState::Running } else { state_after(incoming.result) }
    } else if matches!(job.state, JobState::Running | JobState::Overdue) && running_since.is_none() {
        job_write.last_result.map_or(JobState::New, state_after)
    } else {
        job.state
    };

    let daily = just_finished.then(|| {
        let ended = ended_in.unwrap_or(now).max(started);
        DailyDelta {
            day: day_of(started, tz),
            result: incoming.result,
            duration_seconds: Some((ended - started).num_seconds().max(0)),
            bytes: incoming.bytes_processed.unwrap_or(0).max(0),
            expected: answered_slot,
            good_at: matches!(incoming.result, RunResult::Success | RunResult::Warning).then_some(ended),
        }
    });
    let event = (state != job.state || (newest && repeats_problem(state))).then(|| EventWrite {
        from: job.state,
        to: state,
        run: Some(run_ref),
        details: incoming.message.as_deref().map(message_head),
    });
    Ok(ReportPlan::Write { run, job: JobWrite { state, ..job_write }, daily, event })
}

/// What recording a missed run writes.
#[derive(Debug, Clone, PartialEq)]
pub struct MissedPlan {
    /// The missed run (inserted; started at the occurrence, no end).
    pub run: RunFields,
    /// The job.
    pub job: JobWrite,
    /// One more missed run on the occurrence's day.
    pub daily: DailyDelta,
    /// The event, if any.
    pub event: Option<EventWrite>,
}

/// Decides what the run expected at `occurrence` not happening does:
/// `None` when the job is paused or a report arrived meanwhile (its next
/// expected time is no longer `occurrence`). `next` is the following
/// occurrence.
pub fn plan_missed(
    job: &JobFacts,
    occurrence: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    message: &str,
    tz: Tz,
) -> Option<MissedPlan> {
    if job.paused || job.next_expected_at != Some(occurrence) {
        return None;
    }
    let newest = job.last_run_at.is_none_or(|last| occurrence >= last);
    // A run in progress keeps the job running (or overdue); the missed run
    // still shows in the history and the figures.
    let state = if job.running_since.is_some() { job.state } else { JobState::Missed };
    let job_write = JobWrite {
        state,
        last_run: if newest { Some(RunRef::New) } else { job.last_run_id.map(RunRef::Stored) },
        last_run_at: if newest { Some(occurrence) } else { job.last_run_at },
        last_result: if newest { Some(RunResult::Missed) } else { job.last_result },
        next_expected_at: next,
        running_since: job.running_since,
    };
    Some(MissedPlan {
        run: RunFields {
            started_at: occurrence,
            ended_at: None,
            result: RunResult::Missed,
            message: Some(message.to_owned()),
            bytes_processed: None,
            exit_code: None,
            log: None,
        },
        job: job_write,
        daily: DailyDelta {
            day: day_of(occurrence, tz),
            result: RunResult::Missed,
            duration_seconds: None,
            bytes: 0,
            expected: true,
            good_at: None,
        },
        event: (state != job.state || repeats_problem(state)).then(|| EventWrite {
            from: job.state,
            to: state,
            run: Some(RunRef::New),
            details: Some(message.to_owned()),
        }),
    })
}

/// A state set from outside a run: late, overdue, paused, resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// Only from one of these states (any when empty).
    pub from: Vec<JobState>,
    /// The new state.
    pub to: JobState,
    /// Pause or unpause (with the pause's end).
    pub pause: Option<(bool, Option<DateTime<Utc>>)>,
    /// A new next expected time.
    pub next_expected_at: Option<Option<DateTime<Utc>>>,
    /// Why, for the event.
    pub details: Option<String>,
}

/// What a transition writes: the job's state, pause and next expected
/// time, and an event when the state changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionPlan {
    /// New state.
    pub state: JobState,
    /// Paused flag.
    pub paused: bool,
    /// End of a timed pause.
    pub paused_until: Option<DateTime<Utc>>,
    /// Next expected start.
    pub next_expected_at: Option<DateTime<Utc>>,
    /// The event, when the state changed.
    pub event: Option<EventWrite>,
}

/// Decides a transition: `None` when the job is not in a `from` state.
pub fn plan_transition(
    job: &JobFacts,
    paused_until: Option<DateTime<Utc>>,
    transition: &Transition,
) -> Option<TransitionPlan> {
    if !transition.from.is_empty() && !transition.from.contains(&job.state) {
        return None;
    }
    let (paused, paused_until) = transition.pause.unwrap_or((job.paused, paused_until));
    Some(TransitionPlan {
        state: transition.to,
        paused,
        paused_until,
        next_expected_at: transition.next_expected_at.unwrap_or(job.next_expected_at),
        event: (transition.to != job.state).then(|| EventWrite {
            from: job.state,
            to: transition.to,
            run: None,
            details: transition.details.clone(),
        }),
    })
}

/// The state a job returns to when it stops being paused.
pub fn state_on_resume(job: &JobFacts) -> JobState {
    if job.running_since.is_some() {
        return JobState::Running;
    }
    job.last_result.map_or(JobState::New, state_after)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T00:00:00Z").unwrap().with_timezone(&Utc)
            + Duration::minutes(minutes)
    }

    fn job() -> JobFacts {
        JobFacts {
            state: JobState::New,
            paused: false,
            last_run_id: None,
            last_run_at: None,
            last_result: None,
            next_expected_at: None,
            running_since: None,
            grace: Duration::hours(1),
            expected: Expected::Interval(Duration::hours(24)),
        }
    }

    fn report(result: RunResult) -> Incoming {
        Incoming {
            result,
            started_at: None,
            ended_at: None,
            message: None,
            bytes_processed: None,
            exit_code: None,
            external_id: None,
            log: None,
            origin: "api",
        }
    }

    /// A job with its runs in memory, applying plans the way the store does.
    #[derive(Debug, Clone)]
    struct Sim {
        job: JobFacts,
        runs: Vec<(i64, DateTime<Utc>, RunResult, Option<String>)>,
        events: Vec<(JobState, JobState)>,
    }

    impl Sim {
        fn new() -> Self {
            Self { job: job(), runs: vec![], events: vec![] }
        }

        fn apply(&mut self, incoming: &Incoming, now: DateTime<Utc>) -> Result<(), ReportError> {
            let stored = match (&incoming.external_id, incoming.result != RunResult::Running) {
                (Some(ext), _) => self.runs.iter().find(|r| r.3.as_ref() == Some(ext)),
                (None, true) => {
                    self.runs.iter().filter(|r| r.2 == RunResult::Running).max_by_key(|r| (r.1, r.0))
                }
                (None, false) => None,
            }
            .map(|r| StoredRun { id: r.0, started_at: r.1, result: r.2, answered_slot: false });
            let others = self
                .runs
                .iter()
                .filter(|r| r.2 == RunResult::Running && stored.is_none_or(|s| s.id != r.0))
                .map(|r| r.1)
                .min();
            let plan = plan_report(&self.job, stored, others, incoming, now, chrono_tz::UTC)?;
            let ReportPlan::Write { run, job, event, .. } = plan else { return Ok(()) };
            let new_id = self.runs.len() as i64 + 1;
            match run {
                RunWrite::Insert { fields, external_id, .. } => {
                    self.runs.push((new_id, fields.started_at, fields.result, external_id));
                }
                RunWrite::Finish { id, fields } => {
                    let run = self.runs.iter_mut().find(|r| r.0 == id).unwrap();
                    run.1 = fields.started_at;
                    run.2 = fields.result;
                }
            }
            let resolve = |r: RunRef| match r {
                RunRef::Stored(id) => id,
                RunRef::New => new_id,
            };
            if let Some(event) = event {
                self.events.push((event.from, event.to));
            }
            self.job.state = job.state;
            self.job.last_run_id = job.last_run.map(resolve);
            self.job.last_run_at = job.last_run_at;
            self.job.last_result = job.last_result;
            self.job.next_expected_at = job.next_expected_at;
            self.job.running_since = job.running_since;
            Ok(())
        }
    }

    fn daily_delta(plan: &ReportPlan) -> DailyDelta {
        match plan {
            ReportPlan::Write { daily: Some(daily), .. } => daily.clone(),
            other => panic!("no daily figures in {other:?}"),
        }
    }

    #[test]
    fn a_run_answers_its_slot_and_a_retry_or_an_extra_run_answers_none() {
        // A daily job expected at 22:00 (minute 1320) with an hour of grace.
        let cron = Expected::parse(
            &crate::model::schedule::Schedule {
                kind: crate::model::schedule::ScheduleKind::Cron,
                cron: Some("0 22 * * *".into()),
                timezone: Some("UTC".into()),
                interval_seconds: None,
            },
            chrono_tz::UTC,
        )
        .unwrap();
        let pending = JobFacts { expected: cron, next_expected_at: Some(at(1320)), ..job() };
        let run_at = |start: i64, result: RunResult| {
            let mut r = report(result);
            r.started_at = Some(at(start));
            r.ended_at = Some(at(start + 20));
            r
        };
        // On time: it answers the slot; a failure answers it too (not met).
        let on_time =
            plan_report(&pending, None, None, &run_at(1325, RunResult::Failed), at(1400), chrono_tz::UTC)
                .unwrap();
        let delta = daily_delta(&on_time);
        assert!(delta.expected && delta.good_at.is_none());
        // Early within the grace period: it answers the coming slot.
        let early =
            plan_report(&pending, None, None, &run_at(1290, RunResult::Success), at(1320), chrono_tz::UTC)
                .unwrap();
        assert!(daily_delta(&early).expected);
        assert_eq!(daily_delta(&early).good_at, Some(at(1310)));
        // An extra run in the afternoon leaves the slot pending.
        let extra =
            plan_report(&pending, None, None, &run_at(840, RunResult::Success), at(900), chrono_tz::UTC)
                .unwrap();
        assert!(!daily_delta(&extra).expected);
        // The retry after the failure: the slot already moved to tomorrow.
        let after = JobFacts {
            next_expected_at: Some(at(1320 + 1440)),
            last_run_at: Some(at(1325)),
            last_result: Some(RunResult::Failed),
            state: JobState::Failed,
            ..pending.clone()
        };
        let retry =
            plan_report(&after, None, None, &run_at(1380, RunResult::Success), at(1410), chrono_tz::UTC)
                .unwrap();
        assert!(!daily_delta(&retry).expected, "a retry answers no slot");
        // A missed slot is an expected run.
        let missed = plan_missed(&pending, at(1320), Some(at(2760)), "missed", chrono_tz::UTC).unwrap();
        assert!(missed.daily.expected);
        // A run without a pending slot (a new job) answers none.
        let fresh =
            plan_report(&job(), None, None, &run_at(0, RunResult::Success), at(30), chrono_tz::UTC).unwrap();
        assert!(!daily_delta(&fresh).expected);
    }

    #[test]
    fn duration_buckets_are_within_five_per_cent() {
        assert_eq!(duration_bucket(0), 0);
        for seconds in [1, 59, 600, 3_600, 86_400, 700_000] {
            let back = bucket_seconds(duration_bucket(seconds)) as f64;
            assert!((back / seconds as f64 - 1.0).abs() < 0.05, "{seconds} -> {back}");
        }
    }

    #[test]
    fn logs_keep_their_last_ten_kilobytes_on_a_character_boundary() {
        assert_eq!(log_tail("short"), "short");
        let long = format!("{}終わり", "あ".repeat(5000));
        let tail = log_tail(&long);
        assert!(tail.len() <= MAX_LOG_BYTES && tail.len() > MAX_LOG_BYTES - 4);
        assert!(tail.ends_with("終わり"));
    }

    #[test]
    fn days_are_counted_in_the_configured_time_zone() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T16:30:00Z").unwrap_or_default().with_timezone(&Utc);
        assert_eq!(day_of(t, chrono_tz::Asia::Tokyo), "2026-11-23");
        assert_eq!(day_of(t, chrono_tz::UTC), "2026-11-22");
    }

    #[test]
    fn a_start_then_a_finish_make_one_run_and_the_job_follows_it() {
        let mut sim = Sim::new();
        sim.apply(&report(RunResult::Running), at(0)).unwrap();
        assert_eq!(sim.job.state, JobState::Running);
        assert_eq!(sim.job.running_since, Some(at(0)));
        sim.apply(&report(RunResult::Success), at(5)).unwrap();
        assert_eq!(sim.runs.len(), 1, "the finish completed the start");
        assert_eq!(sim.job.state, JobState::Ok);
        assert_eq!(sim.job.running_since, None);
        assert_eq!(sim.job.next_expected_at, Some(at(24 * 60)), "interval counted from the start");
        assert_eq!(sim.events, vec![(JobState::New, JobState::Running), (JobState::Running, JobState::Ok)]);
    }

    #[test]
    fn the_same_report_twice_is_a_duplicate() {
        let mut sim = Sim::new();
        let mut finished = report(RunResult::Failed);
        finished.external_id = Some("session-1".into());
        sim.apply(&finished, at(0)).unwrap();
        let stored = StoredRun { id: 1, started_at: at(0), result: RunResult::Failed, answered_slot: false };
        let plan = plan_report(&sim.job, Some(stored), None, &finished, at(1), chrono_tz::UTC).unwrap();
        assert_eq!(plan, ReportPlan::Duplicate { run_id: 1, state: JobState::Failed });
    }

    #[test]
    fn a_late_report_of_an_older_run_only_adds_to_the_history() {
        let mut sim = Sim::new();
        sim.apply(&report(RunResult::Success), at(60)).unwrap();
        let mut old = report(RunResult::Failed);
        old.started_at = Some(at(0));
        old.ended_at = Some(at(10));
        sim.apply(&old, at(61)).unwrap();
        assert_eq!(sim.job.state, JobState::Ok, "the newer success still decides");
        assert_eq!(sim.job.last_run_id, Some(1));
        assert_eq!(sim.runs.len(), 2);
    }

    #[test]
    fn a_report_that_ends_before_it_starts_is_refused() {
        let mut bad = report(RunResult::Success);
        bad.started_at = Some(at(10));
        bad.ended_at = Some(at(5));
        assert_eq!(
            plan_report(&job(), None, None, &bad, at(20), chrono_tz::UTC),
            Err(ReportError::EndsBeforeStart)
        );
    }

    #[test]
    fn a_paused_job_records_runs_but_stays_paused() {
        let mut paused = job();
        paused.paused = true;
        paused.state = JobState::Paused;
        let plan =
            plan_report(&paused, None, None, &report(RunResult::Failed), at(0), chrono_tz::UTC).unwrap();
        let ReportPlan::Write { job, event, daily, .. } = plan else { panic!("expected a write") };
        assert_eq!(job.state, JobState::Paused);
        assert_eq!(event, None);
        assert_eq!(daily.map(|d| d.result), Some(RunResult::Failed));
    }

    #[test]
    fn a_missed_run_is_recorded_only_while_the_occurrence_is_still_expected() {
        let mut expecting = job();
        expecting.state = JobState::Ok;
        expecting.next_expected_at = Some(at(0));
        let plan = plan_missed(&expecting, at(0), Some(at(24 * 60)), "none", chrono_tz::UTC).unwrap();
        assert_eq!(plan.job.state, JobState::Missed);
        assert_eq!(plan.job.last_run, Some(RunRef::New));
        assert_eq!(plan.job.next_expected_at, Some(at(24 * 60)));
        assert_eq!(plan.event.map(|e| (e.from, e.to)), Some((JobState::Ok, JobState::Missed)));
        // A report arrived meanwhile and moved the expectation.
        assert_eq!(plan_missed(&expecting, at(-60), None, "none", chrono_tz::UTC), None);
        expecting.paused = true;
        assert_eq!(plan_missed(&expecting, at(0), None, "none", chrono_tz::UTC), None);
    }

    #[test]
    fn a_transition_applies_only_from_its_states_and_records_changes() {
        let mut ok = job();
        ok.state = JobState::Ok;
        let late = Transition {
            from: vec![JobState::Ok, JobState::Warning, JobState::New],
            to: JobState::Late,
            pause: None,
            next_expected_at: None,
            details: Some("expected run not yet reported".into()),
        };
        let plan = plan_transition(&ok, None, &late).unwrap();
        assert_eq!(plan.state, JobState::Late);
        assert_eq!(plan.event.map(|e| e.to), Some(JobState::Late));
        ok.state = JobState::Failed;
        assert_eq!(plan_transition(&ok, None, &late), None, "a failed job does not become late");
    }

    fn any_result() -> impl Strategy<Value = RunResult> {
        prop_oneof![
            Just(RunResult::Running),
            Just(RunResult::Success),
            Just(RunResult::Warning),
            Just(RunResult::Failed),
        ]
    }

    /// A report: result, start offset (minutes from the report's time, in
    /// the past), whether it gives its start, and an external id from a
    /// small pool (so some reports repeat or finish others).
    fn any_report() -> impl Strategy<Value = (RunResult, i64, bool, Option<u8>)> {
        (any_result(), 0..600i64, any::<bool>(), proptest::option::of(0..4u8))
    }

    proptest! {
        #[test]
        fn a_report_never_moves_a_jobs_last_run_backwards_in_time(
            reports in proptest::collection::vec(any_report(), 1..25),
        ) {
            let mut sim = Sim::new();
            for (i, (result, back, gives_start, ext)) in reports.into_iter().enumerate() {
                let now = at(i as i64 * 30);
                let mut incoming = report(result);
                incoming.started_at = gives_start.then(|| now - Duration::minutes(back));
                incoming.external_id = ext.map(|n| format!("run-{n}"));
                let before = (sim.job.last_run_id, sim.job.last_run_at);
                sim.apply(&incoming, now).unwrap();
                let after = (sim.job.last_run_id, sim.job.last_run_at);
                if let (Some(old_at), Some(new_at)) = (before.1, after.1) {
                    prop_assert!(
                        after.0 == before.0 || new_at >= old_at,
                        "the last run moved from {before:?} to an older run {after:?}"
                    );
                }
                prop_assert!(before.1.is_none() || after.1.is_some(), "a job never forgets its last run");
            }
        }

        #[test]
        fn a_success_after_failures_is_one_recovery(
            failures in 1..8usize,
            with_starts in any::<bool>(),
            repeats in 0..3usize,
        ) {
            let mut sim = Sim::new();
            let mut minute = 0;
            let mut step = |sim: &mut Sim, result| {
                if with_starts {
                    sim.apply(&report(RunResult::Running), at(minute)).unwrap();
                    minute += 1;
                }
                sim.apply(&report(result), at(minute)).unwrap();
                minute += 60;
            };
            for _ in 0..failures {
                step(&mut sim, RunResult::Failed);
            }
            for _ in 0..=repeats {
                step(&mut sim, RunResult::Success);
            }
            // A recovery: the first `ok` after a problem (through a start or not).
            let mut in_problem = false;
            let mut recoveries = 0;
            for (_, to) in &sim.events {
                match to {
                    JobState::Failed | JobState::Missed | JobState::Warning => in_problem = true,
                    JobState::Ok if in_problem => {
                        recoveries += 1;
                        in_problem = false;
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(recoveries, 1);
            let failed_events = sim.events.iter().filter(|(_, to)| *to == JobState::Failed).count();
            prop_assert_eq!(failed_events, failures, "each failure is an event (rules count them in a row)");
            prop_assert_eq!(sim.job.state, JobState::Ok);
        }

        #[test]
        fn a_finished_newest_run_decides_the_state(result in any_result().prop_filter("finished", |r| *r != RunResult::Running)) {
            let plan = plan_report(&job(), None, None, &report(result), at(0), chrono_tz::UTC).unwrap();
            let ReportPlan::Write { job, daily, .. } = plan else { panic!("expected a write") };
            prop_assert_eq!(job.state, state_after(result));
            prop_assert_eq!(daily.map(|d| d.result), Some(result));
        }
    }
}
