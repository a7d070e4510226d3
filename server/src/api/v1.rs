//! `/api/v1`: the router and its OpenAPI document.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod events;
pub mod jobs;
pub mod notifications;
pub mod report_schedules;
pub mod reports;
pub mod tokens;
pub mod users;
pub mod veeam;

use app::{
    error::AppError,
    ssr::{accounts::RequestInfo, infra::state::AppState},
};
use axum::{
    Json, Router,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// An answer with the resource's address in `Location` (`201 Created`, or
/// `200` for a report that was already recorded), and the resource.
pub type Located<T> = (StatusCode, [(header::HeaderName, String); 1], Json<T>);

/// Answers `status` with `body` and its address, `/api/v1/{location}`.
pub fn located<T>(status: StatusCode, location: &str, body: T) -> Located<T> {
    (status, [(header::LOCATION, format!("/api/v1/{location}"))], Json(body))
}

/// The body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `bad_request`, `validation`, `unauthorized`,
    /// `invalid_credentials`, `forbidden`, `password_change_required`,
    /// `not_found`, `conflict`, `rate_limited`, `csrf`, `internal`.
    pub code: String,
    /// For people, in the caller's language where it helps.
    pub message: String,
    /// The offending field, for validation errors.
    pub field: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A JWT from POST /api/v1/auth/login, or an API token (bms_...) created on the profile page.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the answers every operation can give for reasons outside its
/// handler, so the document lists each status an operation can answer
/// without repeating them on every handler: 400 (a path parameter, query
/// string or body that does not parse), 401 and 403 (no or a refused
/// credential, the role or token scope, a cross-site request), 404 (no such
/// `{id}`), 413 (a body over the limit) and 429 (the per-address API rate
/// limit, `BMS_API_RATE_PER_MINUTE`). A handler's own entry for a status
/// (with its more specific description) is kept.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_input = operation.request_body.is_some()
                    || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let common = [
                    (
                        has_input,
                        "400",
                        "Malformed request: a path parameter, query string or body that does not parse, \
                         or a query parameter the operation does not take",
                    ),
                    (secured, "401", "No credential, or one that is not valid (any more)"),
                    (secured, "403", "The role or token scope does not allow this, or a cross-site request"),
                    (path.contains('{'), "404", "No such resource"),
                    (operation.request_body.is_some(), "413", "The body is larger than 1 MiB"),
                    (true, "429", "Too many requests from this address; see Retry-After"),
                ];
                for (applies, status, description) in common {
                    if applies && !operation.responses.responses.contains_key(status) {
                        operation.responses.responses.insert(status.to_owned(), error_response(description));
                    }
                }
            }
        }
    }
}

/// A documented error answer: [`ErrorBody`] as JSON.
fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Backup Management System API",
        description = "Scripts and other systems use this API with a bearer token: a JWT from \
                       `POST /api/v1/auth/login`, or an API token. Errors are \
                       `{\"error\": {\"code\", \"message\", \"field\"?}}`. Anonymous calls get 401, \
                       calls the role or token scope does not allow get 403."
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "auth", description = "Signing in and the caller's own account"),
        (name = "users", description = "User management (administrators)"),
        (name = "tokens", description = "API tokens"),
        (name = "audit", description = "The audit log (administrators)"),
        (name = "jobs", description = "Backup jobs (also at the design's /api/jobs and /api/jobs/{id})"),
        (name = "runs", description = "Runs and run reports (also at /api/history and /api/veeam/job-complete)"),
        (name = "veeam", description = "Veeam servers, job actions and repositories"),
        (name = "notifications", description = "Notification channels, rules and the delivery log (administrators)"),
        (name = "reports", description = "Reports: success rate, SLA, RPO compliance, failures; JSON, CSV and PDF; scheduled report e-mails"),
        (name = "calendar", description = "The business calendar: weekends, Japanese public holidays and company closures")
    )
)]
struct ApiDoc;

/// Every `/api/v1` route with its documentation, before the state is attached.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::reset_password))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(jobs::list, jobs::create))
        .routes(routes!(jobs::get, jobs::update, jobs::delete))
        .routes(routes!(jobs::pause))
        .routes(routes!(jobs::resume))
        .routes(routes!(jobs::acknowledge, jobs::withdraw_acknowledgement))
        .routes(routes!(jobs::report))
        .routes(routes!(jobs::list_runs))
        .routes(routes!(jobs::get_run))
        .routes(routes!(jobs::veeam_job_complete))
        .routes(routes!(calendar::year))
        .routes(routes!(calendar::list_closures, calendar::create_closure))
        .routes(routes!(calendar::delete_closure))
        .routes(routes!(events::events))
        .routes(routes!(veeam::list, veeam::create))
        .routes(routes!(veeam::get, veeam::update, veeam::delete))
        .routes(routes!(veeam::test))
        .routes(routes!(veeam::sync))
        .routes(routes!(veeam::action))
        .routes(routes!(veeam::machines))
        .routes(routes!(veeam::repositories))
        .routes(routes!(veeam::update_repository))
        .routes(routes!(notifications::list, notifications::create))
        .routes(routes!(notifications::get, notifications::update, notifications::delete))
        .routes(routes!(notifications::test))
        .routes(routes!(notifications::list_rules, notifications::create_rule))
        .routes(routes!(notifications::get_rule, notifications::update_rule, notifications::delete_rule))
        .routes(routes!(notifications::deliveries))
        .routes(routes!(notifications::resend))
        .routes(routes!(notifications::suppressed))
        .routes(routes!(notifications::list_windows, notifications::create_window))
        .routes(routes!(
            notifications::get_window,
            notifications::update_window,
            notifications::delete_window
        ))
        .routes(routes!(reports::summary))
        .routes(routes!(report_schedules::list, report_schedules::create))
        .routes(routes!(report_schedules::get, report_schedules::update, report_schedules::delete))
        .routes(routes!(report_schedules::send_now))
}

/// The design's original paths, served by the same handlers (and checked
/// by the same role rules) as their `/api/v1` twins.
pub const ALIASES: &[(&str, &str, &str)] = &[
    ("GET", "/api/jobs", "/api/v1/jobs"),
    ("POST", "/api/jobs", "/api/v1/jobs"),
    ("GET", "/api/jobs/{id}", "/api/v1/jobs/{id}"),
    ("DELETE", "/api/jobs/{id}", "/api/v1/jobs/{id}"),
    ("GET", "/api/history", "/api/v1/runs"),
    ("POST", "/api/veeam/job-complete", "/api/v1/veeam/job-complete"),
];

/// The OpenAPI document of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    split().1
}

/// The router and the finished document (the common answers are added once
/// every route is in: `ApiDoc`'s own modifiers run before that).
fn split() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = routes().split_for_parts();
    CommonResponses.modify(&mut document);
    (router, document)
}

/// The `/api/v1` router: the documented routes, `openapi.json`, and JSON
/// 404s for everything else under the prefix.
pub fn router() -> Router<AppState> {
    let (router, document) = split();
    let document = std::sync::Arc::new(document);
    router
        .route("/api/jobs", get(jobs::list).post(jobs::create))
        .route("/api/jobs/{id}", get(jobs::get).delete(jobs::delete))
        .route("/api/history", get(jobs::list_runs))
        .route("/api/veeam/job-complete", post(jobs::veeam_job_complete))
        .route_layer(axum::middleware::from_fn(require_caller))
        .route("/api/v1/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .route("/api/v1", get(not_found))
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
}

/// Answers an anonymous call to any route but sign-in with 401 before its
/// handler runs, so a missing credential is reported as such rather than
/// as whatever is wrong with the body or the path.
async fn require_caller(request: Request, next: Next) -> Response {
    let anonymous = request.extensions().get::<RequestInfo>().is_none_or(|info| info.principal.is_none());
    if anonymous && request.uri().path() != LOGIN_PATH {
        let mut response = AppError::Unauthorized.into_response();
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    next.run(request).await
}

/// The one route that takes no credential.
const LOGIN_PATH: &str = "/api/v1/auth/login";

async fn not_found() -> impl IntoResponse {
    let body = serde_json::json!({ "error": { "code": "not_found", "message": "no such API route" } });
    (StatusCode::NOT_FOUND, Json(body))
}
