//! Acknowledging a job's problem: an operator says they know, reminders of
//! that problem stop, and the acknowledgement ends by itself at the job's
//! next state change (a recovery or a different problem) or at its `until`.
//!
//! What a job's problem is and whether an acknowledgement still holds is
//! decided here without a database ([`current_problem`], [`active`],
//! [`ends`]); `store::ack` reads and writes the columns, and
//! `store::writes` clears them in the transaction of every state change
//! that [`ends`] them. The `job_acknowledged` event is recorded by the
//! notify domain, which calls [`acknowledge`].

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::{
    check_covers, ingest,
    store::ack::{self as ack_db, AckRow, NewAck},
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        job::{AcknowledgeRequest, Acknowledgement, JobProblem, JobState},
        user::Role,
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::{events::LiveEvent, state::AppState},
    },
};

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;
/// How far ahead `until` may be.
pub const MAX_UNTIL_DAYS: i64 = 30;

/// The problem a job has now: its state's, else a machine outside the RPO,
/// else a Veeam job that will never run by itself.
pub fn current_problem(
    state: JobState,
    rpo_breached: bool,
    veeam_schedule_state: Option<&str>,
) -> Option<JobProblem> {
    JobProblem::of_state(state)
        .or_else(|| rpo_breached.then_some(JobProblem::RpoBreached))
        .or_else(|| (veeam_schedule_state == Some("unscheduled")).then_some(JobProblem::Unscheduled))
}

impl AckRow {
    /// The job's problem now.
    pub fn problem(&self) -> Option<JobProblem> {
        current_problem(self.state, self.rpo_breached_since.is_some(), self.veeam_schedule_state.as_deref())
    }
}

/// The acknowledgement stored in `row` if it still holds at `now`: its
/// `until` has not passed and the job still has the problem acknowledged
/// (a change the state-change transaction did not see, such as an RPO met
/// again, ends it here too).
pub fn active(row: &AckRow, now: DateTime<Utc>) -> Option<Acknowledgement> {
    let problem = JobProblem::parse(row.ack_problem.as_deref()?)?;
    let at = row.ack_at?;
    if row.ack_until.is_some_and(|until| until <= now) || row.problem() != Some(problem) {
        return None;
    }
    Some(Acknowledgement {
        job_id: row.id,
        problem,
        by: row.ack_by.clone().unwrap_or_default(),
        at,
        comment: row.ack_comment.clone(),
        until: row.ack_until,
    })
}

/// Whether a job's change from `from` to `to` ends an acknowledgement of
/// `problem`. The same problem again (a failure after a failure, or after a
/// retry that was running) keeps it; any other state ends one of a state's
/// problem; an RPO or schedule problem ends when the job gets a problem of
/// its own (its own end is the Veeam sync's, through
/// [`clear_acknowledgement`]).
pub fn ends(problem: JobProblem, from: JobState, to: JobState) -> bool {
    if from == to || to == JobState::Running {
        return false;
    }
    match problem {
        JobProblem::RpoBreached | JobProblem::Unscheduled => JobProblem::of_state(to).is_some(),
        problem => JobProblem::of_state(to) != Some(problem),
    }
}

/// The acknowledgements that hold at `now` of these jobs, by job.
pub async fn active_of(
    state: &AppState,
    job_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, Acknowledgement>, sqlx::Error> {
    let rows = ack_db::of_jobs(&state.db, job_ids).await?;
    Ok(rows.values().filter_map(|row| active(row, now).map(|a| (row.id, a))).collect())
}

/// The problems and acknowledgements of these jobs, by job.
pub(super) async fn problems_of(
    state: &AppState,
    job_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, (Option<JobProblem>, Option<Acknowledgement>)>, sqlx::Error> {
    let rows = ack_db::of_jobs(&state.db, job_ids).await?;
    Ok(rows.values().map(|row| (row.id, (row.problem(), active(row, now)))).collect())
}

/// A valid acknowledgement request: the comment trimmed (none when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckInput {
    /// Why.
    pub comment: Option<String>,
    /// Until when.
    pub until: Option<DateTime<Utc>>,
}

impl AckInput {
    /// Checks a request: a comment of at most 1,000 characters without
    /// control characters but line breaks and tabs, an `until` in the
    /// future and at most 30 days ahead of `now`.
    pub fn parse(locale: Locale, request: AcknowledgeRequest, now: DateTime<Utc>) -> Result<Self, AppError> {
        let comment = request.comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if comment.as_deref().is_some_and(|c| {
            c.chars().count() > MAX_COMMENT_CHARS
                || c.chars().any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
        }) {
            return Err(AppError::validation(
                "comment",
                td_string!(locale, ack.errors.comment, max = MAX_COMMENT_CHARS),
            ));
        }
        if request.until.is_some_and(|u| u <= now || u > now + Duration::days(MAX_UNTIL_DAYS)) {
            return Err(AppError::validation(
                "until",
                td_string!(locale, ack.errors.until, days = MAX_UNTIL_DAYS),
            ));
        }
        Ok(AckInput { comment, until: request.until })
    }
}

/// What [`acknowledge`] did: the acknowledgement, and the job's name and
/// Veeam server for the event the notify domain records.
#[derive(Debug, Clone)]
pub struct Acknowledged {
    /// The acknowledgement.
    pub ack: Acknowledgement,
    /// The job's name.
    pub job_name: String,
    /// Its Veeam server.
    pub veeam_server_id: Option<i64>,
}

/// Acknowledges job `id`'s current problem (operators and administrators;
/// an API token limited to jobs only its own). 422 when the job has no
/// problem, or its state changed while acknowledging.
pub async fn acknowledge(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    request: AcknowledgeRequest,
) -> Result<Acknowledged, AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    check_covers(state, principal, id).await?;
    let row = ack_db::of_job(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let now = ingest::now();
    let input = AckInput::parse(info.locale, request, now)?;
    let no_problem = || AppError::validation("job", td_string!(info.locale, ack.errors.no_problem));
    let problem = row.problem().ok_or_else(no_problem)?;
    let new = NewAck {
        job_id: id,
        state: row.state,
        problem: problem.as_str(),
        user_id: principal.user_id,
        by: &principal.username,
        at: now,
        comment: input.comment.as_deref(),
        until: input.until,
    };
    if !ack_db::set(&state.db, &new).await? {
        return Err(no_problem());
    }
    let details = match (&input.comment, input.until) {
        (Some(c), Some(u)) => format!("{}: {c} (until {})", problem.as_str(), u.to_rfc3339()),
        (Some(c), None) => format!("{}: {c}", problem.as_str()),
        (None, Some(u)) => format!("{} (until {})", problem.as_str(), u.to_rfc3339()),
        (None, None) => problem.as_str().to_owned(),
    };
    let event = Event::ok("job.acknowledge", Target::new("job", id, row.name.clone())).details(details);
    audit::record(state, info, Some(principal), event).await;
    redraw(state, &row);
    Ok(Acknowledged {
        ack: Acknowledgement {
            job_id: id,
            problem,
            by: principal.username.clone(),
            at: now,
            comment: input.comment,
            until: input.until,
        },
        job_name: row.name,
        veeam_server_id: row.veeam_server_id,
    })
}

/// Withdraws job `id`'s acknowledgement (operators and administrators);
/// 404 when it has none that holds.
pub async fn withdraw(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Operator, Access::WriteJob)?;
    check_covers(state, principal, id).await?;
    let row = ack_db::of_job(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let held = active(&row, ingest::now()).is_some();
    // A lapsed one is cleared too, but withdrawing it is still a 404.
    if !ack_db::clear(&state.db, id).await? || !held {
        return Err(AppError::NotFound);
    }
    redraw(state, &row);
    audit::record(
        state,
        info,
        Some(principal),
        Event::ok("job.unacknowledge", Target::new("job", id, row.name)),
    )
    .await;
    Ok(())
}

/// Tells open pages to redraw the job.
fn redraw(state: &AppState, row: &AckRow) {
    state.events.publish(LiveEvent::Job { job_id: row.id, state: row.state });
}

/// Clears job `id`'s acknowledgement, in a transaction or on a pool of
/// either backend. The Veeam sync calls it when the condition acknowledged
/// ends (`rpo_breached_since` or `veeam_schedule_state = 'unscheduled'`
/// cleared); job state changes clear it themselves.
pub async fn clear_acknowledgement<'c, E, DB>(executor: E, job_id: i64) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query(ack_db::CLEAR_SQL).bind(job_id).execute(executor).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    fn row(state: JobState, problem: Option<&str>, until: Option<DateTime<Utc>>) -> AckRow {
        AckRow {
            id: 1,
            name: "nightly".into(),
            veeam_server_id: None,
            state,
            rpo_breached_since: None,
            veeam_schedule_state: None,
            ack_by: problem.map(|_| "operator".into()),
            ack_at: problem.map(|_| Utc::now()),
            ack_comment: None,
            ack_until: until,
            ack_problem: problem.map(str::to_owned),
        }
    }

    #[test]
    fn a_job_state_problem_comes_before_the_rpo_and_the_schedule() {
        assert_eq!(current_problem(JobState::Failed, true, Some("unscheduled")), Some(JobProblem::Failed));
        assert_eq!(current_problem(JobState::Ok, true, Some("unscheduled")), Some(JobProblem::RpoBreached));
        assert_eq!(current_problem(JobState::Ok, false, Some("unscheduled")), Some(JobProblem::Unscheduled));
        assert_eq!(current_problem(JobState::Ok, false, Some("disabled")), None);
        assert_eq!(current_problem(JobState::Paused, false, None), None);
    }

    #[test]
    fn an_acknowledgement_holds_until_its_time_or_until_the_problem_changes() {
        let now = Utc::now();
        assert!(active(&row(JobState::Failed, Some("failed"), None), now).is_some());
        assert!(
            active(&row(JobState::Failed, Some("failed"), Some(now + Duration::hours(1))), now).is_some()
        );
        assert!(active(&row(JobState::Failed, Some("failed"), Some(now)), now).is_none(), "until passed");
        assert!(active(&row(JobState::Missed, Some("failed"), None), now).is_none(), "another problem");
        assert!(active(&row(JobState::Ok, Some("failed"), None), now).is_none(), "recovered");
        assert!(active(&row(JobState::Failed, None, None), now).is_none());
    }

    #[test]
    fn a_recovery_or_another_problem_ends_it_and_the_same_problem_again_does_not() {
        use JobState::*;
        assert!(ends(JobProblem::Failed, Failed, Ok));
        assert!(ends(JobProblem::Failed, Failed, Missed));
        assert!(ends(JobProblem::Failed, Failed, Paused));
        assert!(!ends(JobProblem::Failed, Failed, Failed));
        assert!(!ends(JobProblem::Failed, Failed, Running));
        assert!(!ends(JobProblem::Failed, Running, Failed));
        assert!(!ends(JobProblem::Late, Late, Running) && ends(JobProblem::Late, Running, Ok));
        assert!(!ends(JobProblem::RpoBreached, Running, Ok), "a good run does not meet the RPO by itself");
        assert!(ends(JobProblem::RpoBreached, Ok, Failed));
        assert!(ends(JobProblem::Unscheduled, Ok, Missed));
    }

    #[test]
    fn a_comment_and_an_until_are_checked() {
        let now = Utc::now();
        let parse = |comment: Option<&str>, until: Option<DateTime<Utc>>| {
            AckInput::parse(
                Locale::en,
                AcknowledgeRequest { comment: comment.map(str::to_owned), until },
                now,
            )
        };
        assert_eq!(parse(Some("  "), None).unwrap(), AckInput { comment: None, until: None });
        assert_eq!(
            parse(Some(" disk swap\nTuesday "), None).unwrap().comment.as_deref(),
            Some("disk swap\nTuesday")
        );
        assert!(parse(Some("bell\u{7}"), None).is_err());
        assert!(parse(Some(&"x".repeat(1001)), None).is_err());
        assert!(parse(Some(&"x".repeat(1000)), None).is_ok());
        assert!(parse(None, Some(now - Duration::minutes(1))).is_err());
        assert!(parse(None, Some(now + Duration::days(31))).is_err());
        assert!(parse(None, Some(now + Duration::days(2))).is_ok());
    }
}
