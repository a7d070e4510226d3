//! `GET /metrics`: the Prometheus text exposition (see `app::ssr::ops::metrics`).
//!
//! For a caller with `read` access (an API token with the `read` scope, or
//! a signed-in user), or without credentials from an address in
//! `metrics_allow`; anyone else gets 401 (403 for credentials without
//! `read` access).

use app::{
    error::AppError,
    ssr::{
        accounts::RequestInfo,
        infra::{metrics::CONTENT_TYPE, state::AppState},
        ops,
    },
};
use axum::{
    Extension,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

/// The metrics, or why not.
pub async fn metrics(State(state): State<AppState>, Extension(info): Extension<RequestInfo>) -> Response {
    if let Err(error) = ops::metrics::check_access(&state.settings, &info) {
        let unauthorized = matches!(error, AppError::Unauthorized);
        let mut response = error.into_response();
        if unauthorized {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return response;
    }
    match ops::metrics::scrape(&state).await {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")], text)
            .into_response(),
        Err(error) => error.into_response(),
    }
}
