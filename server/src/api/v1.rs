//! `/api/v1`: the router and its OpenAPI document.

pub mod audit;
pub mod auth;
pub mod tokens;
pub mod users;

use app::ssr::state::AppState;
use axum::{Json, Router, http::StatusCode, response::IntoResponse, routing::get};
use serde::Serialize;
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::{router::OpenApiRouter, routes};

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
        (name = "audit", description = "The audit log (administrators)")
    )
)]
struct ApiDoc;

/// Every `/api/v1` route with its documentation, before the state is attached.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::me))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::reset_password))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
}

/// The OpenAPI document of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// The `/api/v1` router: the documented routes, `openapi.json`, and JSON
/// 404s for everything else under the prefix.
pub fn router() -> Router<AppState> {
    let (router, document) = routes().split_for_parts();
    let document = std::sync::Arc::new(document);
    router
        .route("/api/v1/openapi.json", get(move || async move { Json(document.as_ref().clone()) }))
        .route("/api/v1", get(not_found))
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
}

async fn not_found() -> impl IntoResponse {
    let body = serde_json::json!({ "error": { "code": "not_found", "message": "no such API route" } });
    (StatusCode::NOT_FOUND, Json(body))
}
