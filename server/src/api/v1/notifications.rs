//! `/api/v1/notifications`: channels, rules, the delivery log and held-back
//! events; `/api/v1/maintenance-windows` (administrators).

use app::{
    error::AppError,
    model::notify::{
        Channel, ChannelPatch, Delivery, MaintenanceWindow, MaintenanceWindowInput, NewChannel, Rule,
        RuleInput, SendOutcome, Suppression,
    },
    ssr::{
        accounts::RequestInfo,
        infra::state::AppState,
        notify::{channels, outbox, rules, windows},
    },
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{
    extract::{ApiJson, ApiPath, ApiQuery},
    v1::{ErrorBody, Located, located},
};

/// Every channel; secrets are never returned.
#[utoipa::path(
    get, path = "/api/v1/notifications/channels", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<Channel>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<Channel>>, AppError> {
    Ok(Json(channels::list(&state, &info).await?))
}

/// Adds a channel: e-mail `config {host, port, tls, username, password, from, to, trust_cert_pem}`,
/// Teams/Slack/Discord `{url}`, webhook `{url, secret}`.
#[utoipa::path(
    post, path = "/api/v1/notifications/channels", tag = "notifications", security(("bearer" = [])),
    request_body = NewChannel,
    responses((status = 201, body = Channel, headers(("Location" = String, description = "The channel's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<NewChannel>,
) -> Result<Located<Channel>, AppError> {
    let channel = channels::create(&state, &info, body).await?;
    Ok(located(StatusCode::CREATED, &format!("notifications/channels/{}", channel.id), channel))
}

/// One channel.
#[utoipa::path(
    get, path = "/api/v1/notifications/channels/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = Channel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Channel>, AppError> {
    Ok(Json(channels::get(&state, &info, id).await?))
}

/// Changes a channel; settings left out (secrets included) are kept.
#[utoipa::path(
    patch, path = "/api/v1/notifications/channels/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    request_body = ChannelPatch,
    responses((status = 200, body = Channel), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ChannelPatch>,
) -> Result<Json<Channel>, AppError> {
    Ok(Json(channels::update(&state, &info, id, body).await?))
}

/// Removes a channel.
#[utoipa::path(
    delete, path = "/api/v1/notifications/channels/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    channels::delete(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test message now; `ok` and the receiver's answer or the error.
#[utoipa::path(
    post, path = "/api/v1/notifications/channels/{id}/test", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = SendOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn test(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SendOutcome>, AppError> {
    Ok(Json(channels::test(&state, &info, id).await?))
}

/// Every rule.
#[utoipa::path(
    get, path = "/api/v1/notifications/rules", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<Rule>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list_rules(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<Rule>>, AppError> {
    Ok(Json(rules::list(&state, &info).await?))
}

/// Adds a rule: `{name, events, channel_ids, job_filter: {kind: all|tags|jobs, tags, job_ids},
/// min_consecutive_failures, repeat_every_hours, enabled}`.
#[utoipa::path(
    post, path = "/api/v1/notifications/rules", tag = "notifications", security(("bearer" = [])),
    request_body = RuleInput,
    responses((status = 201, body = Rule, headers(("Location" = String, description = "The rule's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_rule(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<RuleInput>,
) -> Result<Located<Rule>, AppError> {
    let rule = rules::save(&state, &info, None, body).await?;
    Ok(located(StatusCode::CREATED, &format!("notifications/rules/{}", rule.id), rule))
}

/// One rule.
#[utoipa::path(
    get, path = "/api/v1/notifications/rules/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = Rule), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get_rule(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Rule>, AppError> {
    Ok(Json(rules::get(&state, &info, id).await?))
}

/// Replaces a rule (send every field).
#[utoipa::path(
    patch, path = "/api/v1/notifications/rules/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    request_body = RuleInput,
    responses((status = 200, body = Rule), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_rule(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RuleInput>,
) -> Result<Json<Rule>, AppError> {
    Ok(Json(rules::save(&state, &info, Some(id), body).await?))
}

/// Removes a rule.
#[utoipa::path(
    delete, path = "/api/v1/notifications/rules/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_rule(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    rules::delete(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// `pending`, `sent` or `dead`.
    pub status: Option<String>,
    /// Only this channel.
    pub channel_id: Option<i64>,
    /// Only this job.
    pub job_id: Option<i64>,
    /// At most this many, newest first: taken as 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// The delivery log, newest first.
#[utoipa::path(
    get, path = "/api/v1/notifications/deliveries", tag = "notifications", security(("bearer" = [])),
    params(DeliveryParams),
    responses((status = 200, body = Vec<Delivery>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn deliveries(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> Result<Json<Vec<Delivery>>, AppError> {
    Ok(Json(
        outbox::list(&state, &info, params.status, params.channel_id, params.job_id, params.limit).await?,
    ))
}

/// Queues a sent or dead delivery again.
#[utoipa::path(
    post, path = "/api/v1/notifications/deliveries/{id}/resend", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Delivery id")),
    responses((status = 202, description = "Queued"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn resend(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    outbox::resend(&state, &info, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Filters of the held-back events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressedParams {
    /// Only this job.
    pub job_id: Option<i64>,
    /// At most this many, newest first: taken as 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// Events a rule matched but that were recorded instead of sent: in a
/// maintenance window (`maintenance`), or missed/late runs of a Veeam server
/// that was down (`correlated`; listed in the server's recovery message).
#[utoipa::path(
    get, path = "/api/v1/notifications/suppressed", tag = "notifications", security(("bearer" = [])),
    params(SuppressedParams),
    responses((status = 200, body = Vec<Suppression>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn suppressed(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(params): ApiQuery<SuppressedParams>,
) -> Result<Json<Vec<Suppression>>, AppError> {
    Ok(Json(outbox::suppressed(&state, &info, params.job_id, params.limit).await?))
}

/// Every maintenance window.
#[utoipa::path(
    get, path = "/api/v1/maintenance-windows", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<MaintenanceWindow>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list_windows(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<MaintenanceWindow>>, AppError> {
    Ok(Json(windows::list(&state, &info).await?))
}

/// Adds a maintenance window: `{name, kind: "once", starts_at, ends_at}` or
/// `{name, kind: "weekly", weekdays: ["sat", "sun"], start_time: "22:00", end_time: "06:00"}`,
/// with optional `time_zone` (default the console's), `job_filter` and `enabled`.
#[utoipa::path(
    post, path = "/api/v1/maintenance-windows", tag = "notifications", security(("bearer" = [])),
    request_body = MaintenanceWindowInput,
    responses((status = 201, body = MaintenanceWindow, headers(("Location" = String, description = "The window's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_window(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<MaintenanceWindowInput>,
) -> Result<Located<MaintenanceWindow>, AppError> {
    let window = windows::save(&state, &info, None, body).await?;
    Ok(located(StatusCode::CREATED, &format!("maintenance-windows/{}", window.id), window))
}

/// One maintenance window.
#[utoipa::path(
    get, path = "/api/v1/maintenance-windows/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Window id")),
    responses((status = 200, body = MaintenanceWindow), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get_window(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MaintenanceWindow>, AppError> {
    Ok(Json(windows::get(&state, &info, id).await?))
}

/// Replaces a maintenance window (send every field).
#[utoipa::path(
    patch, path = "/api/v1/maintenance-windows/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Window id")),
    request_body = MaintenanceWindowInput,
    responses((status = 200, body = MaintenanceWindow), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_window(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MaintenanceWindowInput>,
) -> Result<Json<MaintenanceWindow>, AppError> {
    Ok(Json(windows::save(&state, &info, Some(id), body).await?))
}

/// Removes a maintenance window.
#[utoipa::path(
    delete, path = "/api/v1/maintenance-windows/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Window id")),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_window(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    windows::delete(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
