//! `/api/v1/tokens`: the caller's API tokens.

use app::{
    error::AppError,
    model::token::{ApiToken, CreatedApiToken, NewApiToken},
    ssr::{
        accounts::{RequestInfo, tokens},
        infra::state::AppState,
    },
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::{
    extract::{ApiJson, ApiPath, ApiQuery},
    v1::ErrorBody,
};

/// Options of the token list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `true`: every user's tokens (administrators only).
    #[serde(default)]
    pub all: bool,
}

/// The caller's tokens (secrets are never listed).
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = Vec<ApiToken>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Vec<ApiToken>>, AppError> {
    Ok(Json(tokens::list(&state, &info, params.all).await?))
}

/// Creates a token for the caller; the secret is in the answer this once.
/// Needs a bearer JWT: API tokens cannot create tokens.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    request_body = NewApiToken,
    responses(
        (status = 201, body = CreatedApiToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<NewApiToken>,
) -> Result<(StatusCode, Json<CreatedApiToken>), AppError> {
    Ok((StatusCode::CREATED, Json(tokens::create(&state, &info, body).await?)))
}

/// Revokes a token: one's own, or anyone's for an administrator.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 200, body = ApiToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ApiToken>, AppError> {
    Ok(Json(tokens::revoke(&state, &info, id).await?))
}
