//! `/api/v1/calendar`: the business calendar (closed days with their
//! reason) and the company closures administrators manage.

use app::{
    error::AppError,
    model::calendar::{CalendarClosure, CalendarQuery, CalendarYear, NewClosure},
    ssr::{accounts::RequestInfo, infra::state::AppState, jobs::calendar_service},
};
use axum::{Extension, Json, extract::State, http::StatusCode};

use crate::api::{
    extract::{ApiJson, ApiPath, ApiQuery},
    v1::{ErrorBody, Located, located},
};

/// Every closed day of a year (weekends, Japanese public holidays and
/// company closures) with its reason, and the closures.
#[utoipa::path(
    get, path = "/api/v1/calendar", tag = "calendar", security(("bearer" = [])),
    params(CalendarQuery),
    responses((status = 200, body = CalendarYear), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "A year outside 1948–2999", body = ErrorBody))
)]
pub async fn year(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(query): ApiQuery<CalendarQuery>,
) -> Result<Json<CalendarYear>, AppError> {
    Ok(Json(calendar_service::year(&state, &info, query.year).await?))
}

/// The company closures, by first day.
#[utoipa::path(
    get, path = "/api/v1/calendar/closures", tag = "calendar", security(("bearer" = [])),
    responses((status = 200, body = Vec<CalendarClosure>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list_closures(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<CalendarClosure>>, AppError> {
    Ok(Json(calendar_service::closures(&state, &info).await?))
}

/// Adds a company closure (administrators): every day from `first_day` to
/// `last_day` is closed.
#[utoipa::path(
    post, path = "/api/v1/calendar/closures", tag = "calendar", security(("bearer" = [])),
    request_body = NewClosure,
    responses((status = 201, body = CalendarClosure, headers(("Location" = String, description = "The closure's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn create_closure(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<NewClosure>,
) -> Result<Located<CalendarClosure>, AppError> {
    let closure = calendar_service::add_closure(&state, &info, body).await?;
    Ok(located(StatusCode::CREATED, &format!("calendar/closures/{}", closure.id), closure))
}

/// Removes a company closure (administrators).
#[utoipa::path(
    delete, path = "/api/v1/calendar/closures/{id}", tag = "calendar", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Closure id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_closure(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    calendar_service::delete_closure(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
