//! Ping URLs: `/ping/{token}` (success), `/ping/{token}/start`,
//! `/ping/{token}/fail` and `/ping/{token}/{exit_code}`, by GET or POST.
//! The token is the credential. An optional text body becomes the run's
//! log excerpt; `?rid=` pairs a start with its finish.
//!
//! Answers are plain text for shell scripts: `OK` or a one-line reason.

use app::{
    error::AppError,
    ssr::{
        infra::{state::AppState, web::locale},
        jobs::{self, PingKind},
    },
};
use axum::{
    body::Bytes,
    extract::{Path, Query, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::api::extract::BODY_LIMIT;

/// Query parameters of ping URLs.
#[derive(Debug, Deserialize)]
pub struct PingQuery {
    /// Run id chosen by the caller, pairing a start with its finish.
    rid: Option<String>,
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn handle(
    state: AppState,
    headers: HeaderMap,
    token: String,
    kind: Result<PingKind, String>,
    rid: Option<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let kind = match kind {
        Ok(kind) => kind,
        Err(action) => {
            return text(
                StatusCode::NOT_FOUND,
                format!("unknown ping action `{action}`: use start, fail, or an exit code from 0 to 255\n"),
            );
        }
    };
    let body = match body {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {BODY_LIMIT} bytes (1 MiB)\n"),
            );
        }
        Err(rejection) => return text(StatusCode::BAD_REQUEST, format!("{}\n", rejection.body_text())),
    };
    let log = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    let locale = locale::from_headers(&headers);
    match jobs::ping(&state, locale, &token, kind, log, rid).await {
        // A repeat of a report already stored is as fine as the first.
        Ok(_) => text(StatusCode::OK, "OK\n".to_owned()),
        Err(AppError::NotFound) => {
            text(StatusCode::NOT_FOUND, "unknown ping token: check the URL on the job's page\n".to_owned())
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            text(status, format!("{e}\n"))
        }
    }
}

fn parse_action(action: &str) -> Result<PingKind, String> {
    match action {
        "start" => Ok(PingKind::Start),
        "fail" => Ok(PingKind::Fail),
        other => match other.parse::<i64>() {
            Ok(code) if (0..=255).contains(&code) => Ok(PingKind::ExitCode(code)),
            _ => Err(other.chars().take(40).collect()),
        },
    }
}

/// `/ping/{token}`: a successful run.
pub async fn success(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(query): Query<PingQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, headers, token, Ok(PingKind::Success), query.rid, body).await
}

/// `/ping/{token}/{action}`: `start`, `fail` or an exit code.
pub async fn action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((token, action)): Path<(String, String)>,
    Query(query): Query<PingQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(state, headers, token, parse_action(&action), query.rid, body).await
}
