//! `POST /api/v1/auth/login`, `POST /api/v1/auth/logout`, `GET /api/v1/me`,
//! `POST /api/v1/me/password`.

use app::{
    error::AppError,
    model::user::{Me, PasswordChange},
    ssr::{
        accounts::{self, RequestInfo, auth::TokenKind},
        infra::state::AppState,
    },
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::{extract::ApiJson, v1::ErrorBody};

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// Exchanges a username and password for a bearer token (a JWT valid for
/// `BMS_SESSION_HOURS`). Rate limited per address and per username.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong username or password, or disabled account", body = ErrorBody),
        (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody)
    )
)]
pub async fn login(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let signed_in =
        accounts::sign_in(&state, &info, &body.username, SecretString::from(body.password), TokenKind::Api)
            .await?;
    Ok(Json(LoginResponse { token: signed_in.token, token_type: "Bearer", expires_at: signed_in.expires_at }))
}

/// Signs out: the bearer token's session ends on the server, so the token
/// (and any copy of it) stops working at once. An API token is not ended
/// by this: revoke it with `DELETE /api/v1/tokens/{id}`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<StatusCode, AppError> {
    info.principal()?;
    accounts::sign_out(&state, &info).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller: their account, how they authenticated, and the token scope.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, body = ErrorBody)
    )
)]
pub async fn me(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Me>, AppError> {
    Ok(Json(accounts::me(&state, &info).await?))
}

/// Changes the caller's password. Every session and token of the caller
/// ends, this bearer token included: sign in again afterwards. Not
/// possible with an API token.
#[utoipa::path(
    post,
    path = "/api/v1/me/password",
    tag = "auth",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not possible with an API token", body = ErrorBody),
        (status = 422, description = "Wrong current password, or the new one is too short", body = ErrorBody)
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, AppError> {
    accounts::change_own_password(&state, &info, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
