//! Extractors whose rejections are our JSON errors
//! (`{"error": {"code": "bad_request", "message": ...}}`) rather than
//! axum's plain-text ones.

use app::error::AppError;
use axum::extract::{
    FromRequest, FromRequestParts,
    rejection::{JsonRejection, PathRejection, QueryRejection},
};

/// `Json<T>` answering malformed bodies with a 400 that says what is wrong.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiRejection))]
pub struct ApiJson<T>(pub T);

/// `Path<T>` answering malformed path parameters with a 400.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiRejection))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` answering malformed query strings with a 400.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiRejection))]
pub struct ApiQuery<T>(pub T);

/// A rejected request part, answered as [`AppError::BadRequest`].
#[derive(Debug)]
pub struct ApiRejection(AppError);

impl axum::response::IntoResponse for ApiRejection {
    fn into_response(self) -> axum::response::Response {
        self.0.into_response()
    }
}

impl From<JsonRejection> for ApiRejection {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return Self(too_large());
        }
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}

/// The answer to a body over the limit.
pub fn too_large() -> AppError {
    AppError::PayloadTooLarge {
        message: format!("the request body is larger than {} bytes (1 MiB)", BODY_LIMIT),
    }
}

/// The largest request body accepted (run reports carry at most 10 KB of log).
pub const BODY_LIMIT: usize = 1024 * 1024;

impl From<PathRejection> for ApiRejection {
    fn from(rejection: PathRejection) -> Self {
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}

impl From<QueryRejection> for ApiRejection {
    fn from(rejection: QueryRejection) -> Self {
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}
