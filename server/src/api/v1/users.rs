//! `/api/v1/users` (administrators only).

use app::{
    error::AppError,
    model::user::{NewUser, User, UserPatch, UserWithPassword},
    ssr::{
        accounts::{self, RequestInfo},
        infra::state::AppState,
    },
};
use axum::{Extension, Json, extract::State, http::StatusCode};

use crate::api::{
    extract::{ApiJson, ApiPath},
    v1::{ErrorBody, Located, located},
};

/// Every user.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<User>>, AppError> {
    Ok(Json(accounts::list_users(&state, &info).await?))
}

/// Creates a user. Without `password`, a one-time password is generated
/// and returned in `one_time_password` this once.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, body = UserWithPassword, headers(("Location" = String, description = "The user's address"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "Invalid or taken username, invalid e-mail, short password", body = ErrorBody)
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<Located<UserWithPassword>, AppError> {
    let created = accounts::create_user(&state, &info, body).await?;
    Ok(located(StatusCode::CREATED, &format!("users/{}", created.user.id), created))
}

/// One user.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = User), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<User>, AppError> {
    Ok(Json(accounts::get_user(&state, &info, id).await?))
}

/// Changes e-mail, role, language or the disabled flag. A role change or
/// disabling ends the user's sessions and API tokens. The last active
/// administrator cannot be demoted or disabled.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = UserPatch,
    responses(
        (status = 200, body = User), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Would leave no active administrator", body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<Json<User>, AppError> {
    Ok(Json(accounts::update_user(&state, &info, id, body).await?))
}

/// Deletes a user and their API tokens; never oneself or the last active administrator.
#[utoipa::path(
    delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    accounts::delete_user(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces a user's password with a one-time password, returned this
/// once; the user must change it at next sign-in. Ends their sessions and tokens.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/reset-password", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, body = UserWithPassword), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "One's own password (change it at /api/v1/me/password)", body = ErrorBody)
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UserWithPassword>, AppError> {
    Ok(Json(accounts::reset_password(&state, &info, id).await?))
}
