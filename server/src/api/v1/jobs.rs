//! `/api/v1/jobs` and `/api/v1/runs`: jobs, their runs and run reports.

use app::{
    error::AppError,
    model::{
        Page,
        job::{
            AcknowledgeRequest, Acknowledgement, Job, JobPatch, JobQuery, NewJob, PauseRequest,
            ReportOutcome, Run, RunDetail, RunQuery, RunReport, VeeamJobComplete,
        },
    },
    ssr::{accounts::RequestInfo, infra::state::AppState, jobs, notify, veeam},
};
use axum::{Extension, Json, extract::State, http::StatusCode};

use crate::api::{
    extract::{ApiJson, ApiPath, ApiQuery},
    v1::{ErrorBody, Located, located},
};

/// Jobs by name, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(JobQuery),
    responses((status = 200, body = Page<Job>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<Json<Page<Job>>, AppError> {
    Ok(Json(jobs::list(&state, &info, query).await?))
}

/// Creates a job that reports through the push API. Only `name` is required.
#[utoipa::path(
    post, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])),
    request_body = NewJob,
    responses((status = 201, body = Job, headers(("Location" = String, description = "The job's address"))), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<NewJob>,
) -> Result<Located<Job>, AppError> {
    let job = jobs::create(&state, &info, body).await?;
    Ok(located(StatusCode::CREATED, &format!("jobs/{}", job.id), job))
}

/// One job.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Job>, AppError> {
    Ok(Json(jobs::get(&state, &info, id).await?))
}

/// Changes a job. A new schedule counts from now.
#[utoipa::path(
    patch, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body = JobPatch,
    responses((status = 200, body = Job), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<JobPatch>,
) -> Result<Json<Job>, AppError> {
    Ok(Json(jobs::update(&state, &info, id, body).await?))
}

/// Deletes a job and its whole history.
#[utoipa::path(
    delete, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    jobs::delete(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pauses a job (no run is expected while paused), optionally until a time.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/pause", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body(content = Option<PauseRequest>, description = "Optional: `{\"until\": \"2026-12-01T09:00:00+09:00\"}`"),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn pause(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<Json<Job>, AppError> {
    // The body is optional: an empty one (or `null`) pauses until resumed.
    let until = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<Option<PauseRequest>>(&body)
            .map_err(|e| AppError::BadRequest { message: format!("invalid JSON body: {e}") })?
            .and_then(|request| request.until)
    };
    Ok(Json(jobs::pause(&state, &info, id, until).await?))
}

/// Resumes a paused job; its next run is expected by its schedule from now.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/resume", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn resume(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Job>, AppError> {
    Ok(Json(jobs::resume(&state, &info, id).await?))
}

/// Acknowledges the job's current problem (failed, missed, late, overdue,
/// warning, RPO breached, not scheduled): reminders of it stop until the
/// job's state changes, or until `until`. 422 when the job has no problem.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/acknowledge", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body(content = Option<AcknowledgeRequest>, description = "Optional: `{\"comment\": \"disk replaced on Tuesday\", \"until\": \"2026-12-01T09:00:00+09:00\"}`"),
    responses((status = 200, body = Acknowledgement), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "Invalid field, or the job has no problem to acknowledge", body = ErrorBody))
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> Result<Json<Acknowledgement>, AppError> {
    // The body is optional: an empty one (or `null`) acknowledges without a comment.
    let request = if body.iter().all(u8::is_ascii_whitespace) {
        AcknowledgeRequest::default()
    } else {
        serde_json::from_slice::<Option<AcknowledgeRequest>>(&body)
            .map_err(|e| AppError::BadRequest { message: format!("invalid JSON body: {e}") })?
            .unwrap_or_default()
    };
    Ok(Json(notify::ack::acknowledge(&state, &info, id, request).await?))
}

/// Withdraws the acknowledgement of the job's problem.
#[utoipa::path(
    delete, path = "/api/v1/jobs/{id}/acknowledge", tag = "jobs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 204, description = "Withdrawn"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, description = "No such job, or it has no acknowledgement", body = ErrorBody))
)]
pub async fn withdraw_acknowledgement(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    notify::ack::withdraw(&state, &info, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reports a run of a job (an API token with the `ingest` or `write` scope).
/// `result: running` reports a start; a later report with the same
/// `external_id` (or, without one, the next finish) completes it.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/runs", tag = "runs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Job id")),
    request_body = RunReport,
    responses(
        (status = 201, description = "Recorded", body = ReportOutcome, headers(("Location" = String, description = "The run's address"))),
        (status = 200, description = "Already recorded (same external_id)", body = ReportOutcome, headers(("Location" = String, description = "The run's address"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn report(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RunReport>,
) -> Result<Located<ReportOutcome>, AppError> {
    let outcome = jobs::report(&state, &info, id, body).await?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(located(status, &format!("runs/{}", outcome.run_id), outcome))
}

/// Runs across jobs (or of one job), newest first, keyset-paginated.
#[utoipa::path(
    get, path = "/api/v1/runs", tag = "runs", security(("bearer" = [])),
    params(RunQuery),
    responses((status = 200, body = Page<Run>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_runs(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<Json<Page<Run>>, AppError> {
    Ok(Json(jobs::list_runs(&state, &info, query).await?))
}

/// One run, with the end of its log.
#[utoipa::path(
    get, path = "/api/v1/runs/{id}", tag = "runs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, body = RunDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get_run(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RunDetail>, AppError> {
    Ok(Json(jobs::get_run(&state, &info, id).await?))
}

/// Veeam's post-job webhook (also at `/api/veeam/job-complete`): records a
/// finished session. An unknown Veeam job is created; the same
/// `session_id` delivered twice is stored once (`created: false`).
#[utoipa::path(
    post, path = "/api/v1/veeam/job-complete", tag = "runs", security(("bearer" = [])),
    request_body = VeeamJobComplete,
    responses(
        (status = 201, description = "Recorded", body = ReportOutcome, headers(("Location" = String, description = "The run's address"))),
        (status = 200, description = "This session was already recorded", body = ReportOutcome, headers(("Location" = String, description = "The run's address"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn veeam_job_complete(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiJson(body): ApiJson<VeeamJobComplete>,
) -> Result<Located<ReportOutcome>, AppError> {
    let outcome = veeam::job_complete(&state, &info, body).await?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(located(status, &format!("runs/{}", outcome.run_id), outcome))
}
