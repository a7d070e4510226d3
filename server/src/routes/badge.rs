//! `GET /badge/<token>.svg`: a status badge (see `app::ssr::ops::badges`).
//! Anyone with the URL may fetch it; an unknown or revoked token is 404.

use app::ssr::{infra::state::AppState, ops};
use axum::{
    extract::{Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;

/// The badge's SVG.
pub async fn badge(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".svg").filter(|t| !t.is_empty() && t.len() <= 64) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match ops::badges::render(&state, token, Utc::now()).await {
        Ok(Some(svg)) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
                // Shown on other sites: always fetched afresh.
                (header::CACHE_CONTROL, "no-cache, max-age=0"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
            ],
            svg,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => error.into_response(),
    }
}
