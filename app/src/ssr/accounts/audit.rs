//! Writing and reading the audit log.

use chrono::{DateTime, Utc};

use super::{
    auth::{Access, Principal, RequestInfo},
    store::audit_log::{self as audit, AuditFilter, NewAuditRecord},
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        Page,
        audit::{AuditEntry, AuditQuery},
    },
    ssr::infra::{
        input::{instant_field, integer_field, non_empty},
        state::AppState,
    },
};

/// What an audited action was about.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `user`, `token`...
    pub kind: Option<&'static str>,
    /// Its id.
    pub id: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

impl Target {
    /// A target of `kind` with an id and a name.
    pub fn new(kind: &'static str, id: impl ToString, name: impl Into<String>) -> Self {
        Self { kind: Some(kind), id: Some(id.to_string()), name: Some(name.into()) }
    }
}

/// Something that happened, to be audited.
#[derive(Debug, Clone)]
pub struct Event {
    /// What, such as `user.create`.
    pub action: &'static str,
    /// What it was about.
    pub target: Target,
    /// Whether it succeeded.
    pub success: bool,
    /// More, in English.
    pub details: Option<String>,
    /// For anonymous attempts: the username that was tried.
    pub attempted_name: Option<String>,
}

impl Event {
    /// A successful action on `target`.
    pub fn ok(action: &'static str, target: Target) -> Self {
        Self { action, target, success: true, details: None, attempted_name: None }
    }

    /// Adds details.
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }
}

/// Appends a record for `actor` (the caller). A failure to write is logged,
/// never shown to the user: the action itself has already happened.
pub async fn record(state: &AppState, info: &RequestInfo, actor: Option<&Principal>, event: Event) {
    let record = NewAuditRecord {
        actor_id: actor.map(|p| p.user_id),
        actor_name: actor.map(|p| p.username.clone()).or(event.attempted_name),
        action: event.action,
        target_type: event.target.kind,
        target_id: event.target.id,
        target_name: event.target.name,
        client_ip: info.client(),
        success: event.success,
        details: event.details,
    };
    if let Err(e) = audit::append(&state.db, &record).await {
        tracing::error!(error = %e, action = event.action, "cannot write the audit log");
    }
}

/// The most records one page returns.
pub const MAX_PAGE: i64 = 200;

/// Reads the audit log's filters; a value that does not parse is a
/// validation error naming its field.
fn read_query(locale: Locale, tz: chrono_tz::Tz, query: AuditQuery) -> Result<(AuditFilter, i64), AppError> {
    // Both spellings are checked even when both are given (`success`
    // wins): a mistake is never ignored in silence.
    let outcome = match non_empty(query.outcome).as_deref() {
        None => None,
        Some("success") => Some(true),
        Some("failure") => Some(false),
        Some(_) => {
            return Err(AppError::validation(
                "outcome",
                td_string!(locale, errors.invalid_choice, allowed = "success, failure"),
            ));
        }
    };
    let success = match non_empty(query.success).as_deref() {
        None => outcome,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(AppError::validation(
                "success",
                td_string!(locale, errors.invalid_choice, allowed = "true, false"),
            ));
        }
    };
    let before_id = match non_empty(query.cursor) {
        Some(cursor) => Some(
            cursor
                .parse::<i64>()
                .map_err(|_| AppError::validation("cursor", td_string!(locale, errors.invalid_cursor)))?,
        ),
        None => None,
    };
    let filter = AuditFilter {
        action: non_empty(query.action),
        actor: non_empty(query.actor).map(|a| a.to_lowercase()),
        since: instant_field(locale, "since", query.since, tz)?,
        until: instant_field(locale, "until", query.until, tz)?,
        success,
        before_id,
    };
    let limit = integer_field("limit", query.limit, td_string!(locale, errors.not_a_number))?;
    Ok((filter, limit.unwrap_or(50).clamp(1, MAX_PAGE)))
}

/// One page of the audit log (admins only).
pub async fn list(
    state: &AppState,
    info: &RequestInfo,
    query: AuditQuery,
) -> Result<Page<AuditEntry>, AppError> {
    info.require(crate::model::user::Role::Admin, Access::Read)?;
    let (filter, limit) = read_query(info.locale, state.settings.timezone, query)?;
    // One more than asked tells whether another page exists.
    let mut rows = audit::list(&state.db, &filter, limit + 1).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id.to_string())
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            occurred_at: r.occurred_at,
            actor_id: r.actor_id,
            actor_name: r.actor_name,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            target_name: r.target_name,
            client_ip: r.client_ip,
            success: r.success,
            details: r.details,
        })
        .collect();
    Ok(Page { items, next_cursor })
}

/// An acknowledgement of a job's problem, as the audit log has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcknowledgementRecord {
    /// The job.
    pub job_id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: Option<String>,
    /// Their comment.
    pub comment: Option<String>,
}

/// Acknowledgements of jobs' problems since `since`, oldest first (for
/// reports: who acknowledged a failure).
pub async fn acknowledgements_since(
    state: &AppState,
    since: DateTime<Utc>,
) -> Result<Vec<AcknowledgementRecord>, sqlx::Error> {
    let rows = audit::acknowledgements_since(&state.db, since).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(job, at, by, details)| {
            let job_id = job.parse().ok()?;
            // Details are "problem: comment (until …)", "problem (until …)" or "problem".
            let comment = details.as_deref().and_then(|d| d.split_once(": ")).map(|(_, rest)| {
                match rest.rfind(" (until ") {
                    Some(cut) if rest.ends_with(')') => rest[..cut].to_owned(),
                    _ => rest.to_owned(),
                }
            });
            Some(AcknowledgementRecord { job_id, at, by, comment })
        })
        .collect())
}

/// Deletes the audit records older than `before` (data retention), in
/// batches. Returns how many went.
pub async fn prune(
    db: &crate::ssr::infra::db::Db,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    super::store::audit_log::prune(db, before).await
}
