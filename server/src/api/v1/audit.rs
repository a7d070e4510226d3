//! `GET /api/v1/audit` (administrators only).

use app::{
    error::AppError,
    model::{Page, audit::AuditEntry},
    ssr::{audit_trail, auth::RequestInfo, db::audit::AuditFilter, state::AppState},
};
use axum::{Extension, Json, extract::State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{extract::ApiQuery, v1::ErrorBody};

/// Filters of the audit log; all optional.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditParams {
    /// An action (`auth.login`) or a prefix ending in a dot (`auth.`).
    pub action: Option<String>,
    /// The acting user's username.
    pub actor: Option<String>,
    /// From this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Until this time (RFC 3339, exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Only successes (`true`) or failures (`false`).
    pub success: Option<bool>,
    /// At most this many records (1–200, default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses(
        (status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<Page<AuditEntry>>, AppError> {
    let filter = AuditFilter {
        action: params.action.filter(|a| !a.is_empty()),
        actor: params.actor.filter(|a| !a.is_empty()).map(|a| a.to_lowercase()),
        since: params.since,
        until: params.until,
        success: params.success,
        before_id: None,
    };
    Ok(Json(audit_trail::list(&state, &info, filter, params.cursor.as_deref(), params.limit).await?))
}
