//! `/api/v1/notifications/channels`: where notifications go (administrators).

use app::{
    error::AppError,
    model::notify::{Channel, ChannelPatch, NewChannel, SendOutcome},
    ssr::{auth::RequestInfo, notify::channels, state::AppState},
};
use axum::{Extension, Json, extract::State, http::StatusCode};

use crate::api::{
    extract::{ApiJson, ApiPath},
    v1::ErrorBody,
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
    responses((status = 201, body = Channel), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<NewChannel>,
) -> Result<(StatusCode, Json<Channel>), AppError> {
    Ok((StatusCode::CREATED, Json(channels::create(&state, &info, body).await?)))
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
