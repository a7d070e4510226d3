//! `/api/v1/reports/schedules`: scheduled report e-mails. Anyone signed in
//! (a `read` token included) lists and reads them; administrators add,
//! change, remove and send them now.

use app::{
    error::AppError,
    model::report::{ReportSchedule, ReportScheduleInput, ReportSchedulePatch, ReportSendOutcome},
    ssr::{accounts::RequestInfo, infra::state::AppState, reports::schedules},
};
use axum::{Extension, Json, extract::State, http::StatusCode};

use crate::api::{
    extract::{ApiJson, ApiPath},
    v1::{ErrorBody, Located, located},
};

/// Every scheduled report.
#[utoipa::path(
    get, path = "/api/v1/reports/schedules", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Vec<ReportSchedule>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<ReportSchedule>>, AppError> {
    Ok(Json(schedules::list(&state, &info).await?))
}

/// Adds a scheduled report (administrators): `{name, cadence, weekday (weekly), month_day
/// (monthly: 1–28 or last), time_of_day "HH:MM", time_zone, period, group_by, tag, source,
/// veeam_server_id, job_ids, lang, channel_ids (e-mail channels), enabled}`.
#[utoipa::path(
    post, path = "/api/v1/reports/schedules", tag = "reports", security(("bearer" = [])),
    request_body = ReportScheduleInput,
    responses((status = 201, body = ReportSchedule, headers(("Location" = String, description = "The scheduled report's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<ReportScheduleInput>,
) -> Result<Located<ReportSchedule>, AppError> {
    let schedule = schedules::create(&state, &info, body).await?;
    Ok(located(StatusCode::CREATED, &format!("reports/schedules/{}", schedule.id), schedule))
}

/// One scheduled report.
#[utoipa::path(
    get, path = "/api/v1/reports/schedules/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Scheduled report id")),
    responses((status = 200, body = ReportSchedule), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReportSchedule>, AppError> {
    Ok(Json(schedules::get(&state, &info, id).await?))
}

/// Changes a scheduled report (administrators); fields left out are kept and the next
/// occurrence is worked out again.
#[utoipa::path(
    patch, path = "/api/v1/reports/schedules/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Scheduled report id")),
    request_body = ReportSchedulePatch,
    responses((status = 200, body = ReportSchedule), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReportSchedulePatch>,
) -> Result<Json<ReportSchedule>, AppError> {
    Ok(Json(schedules::update(&state, &info, id, body).await?))
}

/// Removes a scheduled report (administrators).
#[utoipa::path(
    delete, path = "/api/v1/reports/schedules/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Scheduled report id")),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    schedules::delete(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queues the report for its current period now, one e-mail per enabled channel
/// (administrators); the schedule's next occurrence stays as it is.
#[utoipa::path(
    post, path = "/api/v1/reports/schedules/{id}/send-now", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Scheduled report id")),
    responses((status = 202, body = ReportSendOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn send_now(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<ReportSendOutcome>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(schedules::send_now(&state, &info, id).await?)))
}
