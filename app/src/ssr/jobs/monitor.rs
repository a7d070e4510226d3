//! The watch on expectations: one pass finds jobs whose expected run is
//! late (past its time) or missed (past its grace period, recorded as a
//! `missed` run), runs that take longer than their maximum duration
//! (`overdue`), and timed pauses that have ended. The scheduler calls
//! [`run_once`] every few seconds; tests call it directly with a clock.
//!
//! A job expected on business days only is never late or missed on a
//! closed day of the business calendar: its occurrences there are skipped
//! (`schedule::Expected::BusinessDays`), and a next expected time that
//! still falls on one (set before the option was chosen or the closure
//! added, or by a report, whose plan does not know the calendar) is moved
//! to the first business-day occurrence instead. Each pass reloads the
//! calendar when it is older than a minute, so closures changed on another
//! instance take effect here too.

use chrono::{DateTime, Duration, Utc};

use super::{
    calendar_service::{self, RELOAD_AFTER},
    ingest::{self, Transition},
    live::{publish, publish_change},
    store::{
        jobs::{self as jobs_db, JobRow},
        writes::{self, IngestError},
    },
};
use crate::{
    model::job::{JobState, RunResult},
    ssr::infra::{metrics::Metrics, state::AppState},
};

/// The most missed occurrences one job gets per pass (after a long outage
/// of the console itself, a frequent job would otherwise add thousands).
pub const MAX_MISSED_PER_PASS: usize = 100;

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Missed runs recorded.
    pub missed: usize,
    /// Jobs that became late.
    pub late: usize,
    /// Jobs that became overdue.
    pub overdue: usize,
    /// Paused jobs resumed.
    pub resumed: usize,
}

/// One pass at `now`.
#[tracing::instrument(skip_all)]
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<Outcome, IngestError> {
    let mut outcome = Outcome::default();
    let tz = state.settings.timezone;
    let calendar = calendar_service::fresh(state, RELOAD_AFTER).await?;

    for job in jobs_db::pause_ended(&state.db, now).await? {
        resume_row(state, &job, "pause ended", now).await?;
        outcome.resumed += 1;
    }

    for job in jobs_db::due(&state.db, now, 1000).await? {
        let Some(mut occurrence) = job.next_expected_at else { continue };
        let grace = Duration::seconds(job.grace_seconds);
        let expected = job.expected_in(tz, &calendar);
        let settled = expected.skip_closed(occurrence);
        if settled != Some(occurrence) {
            // Not expected on a closed day: expected on the next business day instead.
            if !jobs_db::move_next_expected(&state.db, job.id, occurrence, settled).await? {
                continue;
            }
            match settled {
                Some(next) if next <= now => occurrence = next,
                _ => continue,
            }
        }
        if now < occurrence + grace {
            // Past its time but within the grace period: late, unless
            // something worse (or a run) is already showing.
            let late = Transition {
                from: vec![JobState::Ok, JobState::Warning, JobState::New],
                to: JobState::Late,
                pause: None,
                next_expected_at: None,
                details: Some("expected run not yet reported".to_owned()),
            };
            let change = writes::transition(&state.db, tz, job.id, &late).await?;
            if let Some(change) = change {
                publish_change(state, &change);
                outcome.late += 1;
            }
            continue;
        }
        for _ in 0..MAX_MISSED_PER_PASS {
            let next = expected.following(occurrence);
            let message = format!(
                "no run reported for {} within the grace period of {} minutes",
                occurrence.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                job.grace_seconds / 60
            );
            match writes::record_missed(&state.db, tz, job.id, occurrence, next, &message).await? {
                Some(recorded) => {
                    publish(state, &recorded, RunResult::Missed);
                    Metrics::of(state).run(job.source.as_str(), RunResult::Missed.as_str());
                    outcome.missed += 1;
                }
                // A run arrived meanwhile.
                None => break,
            }
            match next {
                Some(n) if now >= n + grace => occurrence = n,
                _ => break,
            }
        }
    }

    for job in jobs_db::running_with_limit(&state.db).await? {
        let (Some(since), Some(limit)) = (job.running_since, job.max_duration_seconds) else { continue };
        if now - since > Duration::seconds(limit) {
            let details =
                format!("running since {}", since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let overdue = Transition {
                from: vec![JobState::Running],
                to: JobState::Overdue,
                pause: None,
                next_expected_at: None,
                details: Some(details),
            };
            let change = writes::transition(&state.db, tz, job.id, &overdue).await?;
            if let Some(change) = change {
                publish_change(state, &change);
                outcome.overdue += 1;
            }
        }
    }
    Ok(outcome)
}

/// Resumes a paused job at `now` (by hand, or when a timed pause ends): it
/// returns to the state its runs give it and is next expected by its
/// schedule counted from now.
pub async fn resume_row(
    state: &AppState,
    row: &JobRow,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), IngestError> {
    let tz = state.settings.timezone;
    let calendar = calendar_service::current(state).await?;
    let facts = row.facts_in(tz, &calendar);
    let resume = Transition {
        from: vec![JobState::Paused],
        to: ingest::state_on_resume(&facts),
        pause: Some((false, None)),
        next_expected_at: Some(facts.expected.first_expected(now)),
        details: Some(details.to_owned()),
    };
    if let Some(change) = writes::transition(&state.db, tz, row.id, &resume).await? {
        publish_change(state, &change);
    }
    Ok(())
}
