//! `/api/v1/veeam/servers`, job actions and `/api/v1/repositories`.

use app::{
    error::AppError,
    model::job::ProtectedMachine,
    model::veeam::{
        ActionOutcome, ConnectionTest, Repository, VeeamServer, VeeamServerInput, VeeamServerPatch,
    },
    ssr::{
        accounts::RequestInfo,
        infra::state::AppState,
        veeam::{self as servers},
    },
};
use axum::{Extension, Json, extract::State, http::StatusCode};
use serde::Deserialize;

use crate::api::{
    extract::{ApiJson, ApiPath},
    v1::{ErrorBody, Located, located},
};

/// Every Veeam server (administrators). Passwords are never returned.
#[utoipa::path(
    get, path = "/api/v1/veeam/servers", tag = "veeam", security(("bearer" = [])),
    responses((status = 200, body = Vec<VeeamServer>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<VeeamServer>>, AppError> {
    Ok(Json(servers::list(&state, &info).await?))
}

/// Adds a Veeam server (administrators); its first sync starts within seconds.
#[utoipa::path(
    post, path = "/api/v1/veeam/servers", tag = "veeam", security(("bearer" = [])),
    request_body = VeeamServerInput,
    responses((status = 201, body = VeeamServer, headers(("Location" = String, description = "The server's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<VeeamServerInput>,
) -> Result<Located<VeeamServer>, AppError> {
    let server = servers::create(&state, &info, body).await?;
    Ok(located(StatusCode::CREATED, &format!("veeam/servers/{}", server.id), server))
}

/// One Veeam server, with the progress of a running sync in `sync_progress`.
#[utoipa::path(
    get, path = "/api/v1/veeam/servers/{id}", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Server id")),
    responses((status = 200, body = VeeamServer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<VeeamServer>, AppError> {
    Ok(Json(servers::get(&state, &info, id).await?))
}

/// Changes some fields of a Veeam server (administrators).
#[utoipa::path(
    patch, path = "/api/v1/veeam/servers/{id}", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Server id")),
    request_body = VeeamServerPatch,
    responses((status = 200, body = VeeamServer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<VeeamServerPatch>,
) -> Result<Json<VeeamServer>, AppError> {
    Ok(Json(servers::update(&state, &info, id, body).await?))
}

/// Removes a Veeam server (administrators); its jobs stay with their history, marked removed.
#[utoipa::path(
    delete, path = "/api/v1/veeam/servers/{id}", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Server id")),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    servers::delete(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Signs in to the server and reads its version; says what went wrong in plain words.
#[utoipa::path(
    post, path = "/api/v1/veeam/servers/{id}/test", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Server id")),
    responses((status = 200, body = ConnectionTest), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn test(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ConnectionTest>, AppError> {
    Ok(Json(servers::test(&state, &info, id).await?))
}

/// Starts a sync now and answers at once; follow it at `GET /api/v1/veeam/servers/{id}`.
#[utoipa::path(
    post, path = "/api/v1/veeam/servers/{id}/sync", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Server id")),
    responses((status = 202, body = VeeamServer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "A sync is already running", body = ErrorBody))
)]
pub async fn sync(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<VeeamServer>), AppError> {
    Ok((StatusCode::ACCEPTED, Json(servers::sync_now(&state, &info, id).await?)))
}

/// Starts, stops, retries (API revision 1.3 and later), enables or disables a Veeam job (operators).
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/actions/{action}", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id"), ("action" = String, Path, description = "start, stop, retry, enable or disable")),
    responses((status = 200, body = ActionOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "Not a Veeam job, removed, or retry unsupported", body = ErrorBody), (status = 502, description = "Veeam refused or is unreachable", body = ErrorBody))
)]
pub async fn action(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath((id, action)): ApiPath<(i64, String)>,
) -> Result<Json<ActionOutcome>, AppError> {
    Ok(Json(servers::job_action(&state, &info, id, &action).await?))
}

/// A Veeam job's protected machines with their newest restore point, worst first.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}/machines", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Vec<ProtectedMachine>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn machines(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<ProtectedMachine>>, AppError> {
    Ok(Json(servers::machines(&state, &info, id).await?))
}

/// Every backup repository with capacity, free space and the last 30 days.
#[utoipa::path(
    get, path = "/api/v1/repositories", tag = "veeam", security(("bearer" = [])),
    responses((status = 200, body = Vec<Repository>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
pub async fn repositories(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Json<Vec<Repository>>, AppError> {
    Ok(Json(servers::repositories(&state, &info).await?))
}

/// A repository's low-space threshold.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryPatch {
    /// Warn below this share of free space, 1–90 (default 15).
    #[schema(minimum = 1, maximum = 90)]
    pub warning_free_percent: i64,
}

/// Changes a repository's low-space threshold (operators).
#[utoipa::path(
    patch, path = "/api/v1/repositories/{id}", tag = "veeam", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Repository id")),
    request_body = RepositoryPatch,
    responses((status = 200, body = Repository), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_repository(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RepositoryPatch>,
) -> Result<Json<Repository>, AppError> {
    Ok(Json(servers::set_repository_threshold(&state, &info, id, body.warning_free_percent).await?))
}
