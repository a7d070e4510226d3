//! `GET /api/v1/audit` (administrators only).

use app::{
    error::AppError,
    model::{
        Page,
        audit::{AuditEntry, AuditQuery},
    },
    ssr::{
        accounts::{RequestInfo, audit as audit_trail},
        infra::state::AppState,
    },
};
use axum::{Extension, Json, extract::State};

use crate::api::{extract::ApiQuery, v1::ErrorBody};

/// The audit log, newest first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, body = Page<AuditEntry>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Page<AuditEntry>>, AppError> {
    Ok(Json(audit_trail::list(&state, &info, query).await?))
}
