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
        Self(AppError::BadRequest { message: rejection.body_text() })
    }
}

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
