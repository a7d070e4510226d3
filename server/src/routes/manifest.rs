//! `GET /manifest.webmanifest`: the PWA manifest, in the visitor's language.

use app::ssr::infra::web::{locale, manifest};
use axum::{
    Json,
    http::{HeaderMap, header},
    response::IntoResponse,
};

/// The web app manifest for the request's language.
pub async fn manifest(headers: HeaderMap) -> impl IntoResponse {
    let body = manifest::manifest(locale::from_headers(&headers));
    (
        [(header::CONTENT_TYPE, "application/manifest+json"), (header::VARY, "Accept-Language, Cookie")],
        Json(body),
    )
}
