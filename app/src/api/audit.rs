//! The audit log page's data.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{Page, audit::AuditEntry},
};

/// Parses a date (`2026-11-22`, start of that day in UTC) or an RFC 3339 time.
pub fn parse_time(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let value = value.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    chrono::DateTime::parse_from_rfc3339(value).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// One page of the audit log, newest first (administrators only).
#[server(prefix = "/api/fn", endpoint = "audit/list")]
pub async fn list_audit(
    action: Option<String>,
    actor: Option<String>,
    since: Option<String>,
    until: Option<String>,
    outcome: Option<String>,
    cursor: Option<String>,
) -> Result<Page<AuditEntry>, AppError> {
    use super::non_empty;
    use crate::{i18n::td_string, ssr::db::audit::AuditFilter};
    let (state, info) = server::ctx()?;
    let time = |field: &str, value: Option<String>| -> Result<_, AppError> {
        match non_empty(value) {
            None => Ok(None),
            Some(v) => parse_time(&v).map(Some).ok_or_else(|| {
                AppError::validation(field, td_string!(info.locale, errors.invalid_time).to_string())
            }),
        }
    };
    let filter = AuditFilter {
        action: non_empty(action),
        actor: non_empty(actor).map(|a| a.to_lowercase()),
        since: time("since", since)?,
        until: time("until", until)?,
        success: match non_empty(outcome).as_deref() {
            Some("success") => Some(true),
            Some("failure") => Some(false),
            _ => None,
        },
        before_id: None,
    };
    crate::ssr::audit_trail::list(&state, &info, filter, non_empty(cursor).as_deref(), None).await
}

#[cfg(feature = "ssr")]
use super::server;
