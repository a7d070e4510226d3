//! The one error type every server function and API handler returns.
//!
//! Variants are named by what they mean to the user. Causes are logged once,
//! where an internal error is created, and never sent to the client.

use serde::{Deserialize, Serialize};

/// An error as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AppError {
    /// The thing asked for does not exist (or the caller may not know it does).
    #[error("not found")]
    NotFound,
    /// No valid credentials came with the request.
    #[error("sign-in required")]
    Unauthorized,
    /// Sign-in failed: unknown user, wrong password or disabled account
    /// (deliberately indistinguishable).
    #[error("{message}")]
    InvalidCredentials {
        /// What to tell the user, in their language.
        message: String,
    },
    /// The request itself is malformed (bad JSON, a wrong type, a bad path).
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
    },
    /// The request body is too large.
    #[error("{message}")]
    PayloadTooLarge {
        /// What the limit is.
        message: String,
    },
    /// The caller is signed in but their role (or token scope) does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The account must choose a new password before doing anything else.
    #[error("a new password must be chosen first")]
    PasswordChangeRequired,
    /// The input is wrong; `field` names the offending field when there is one.
    #[error("{message}")]
    Validation {
        /// The field the message is about.
        field: Option<String>,
        /// What is wrong, in the caller's language.
        message: String,
    },
    /// The request conflicts with the current state (a duplicate name, say).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
    /// Too many requests; try again after `retry_after_seconds`.
    #[error("too many requests")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after_seconds: u64,
    },
    /// A backup server (Veeam) refused or failed what was asked of it.
    #[error("{message}")]
    Upstream {
        /// What it said, or why it could not be reached.
        message: String,
    },
    /// The server could not be reached (seen by the browser only).
    #[error("the server cannot be reached")]
    Unavailable,
    /// Something failed on the server. The details are in the server log.
    #[error("internal error")]
    Internal,
}

impl AppError {
    /// A validation error about one field; `message` is anything that
    /// displays (a translated string, say).
    pub fn validation(field: impl Into<String>, message: impl ToString) -> Self {
        Self::Validation { field: Some(field.into()), message: message.to_string() }
    }

    /// The HTTP status this error maps to.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Unauthorized | Self::InvalidCredentials { .. } => 401,
            Self::Forbidden | Self::PasswordChangeRequired => 403,
            Self::Validation { .. } => 422,
            Self::BadRequest { .. } => 400,
            Self::PayloadTooLarge { .. } => 413,
            Self::Conflict { .. } => 409,
            Self::Upstream { .. } => 502,
            Self::RateLimited { .. } => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// The stable machine-readable code used in API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials { .. } => "invalid_credentials",
            Self::Forbidden => "forbidden",
            Self::PasswordChangeRequired => "password_change_required",
            Self::Validation { .. } => "validation",
            Self::BadRequest { .. } => "bad_request",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Conflict { .. } => "conflict",
            Self::Upstream { .. } => "upstream",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }
}

/// Server functions return `AppError` as JSON; errors raised by the
/// server-function machinery itself (malformed arguments, an unreachable
/// server) are mapped onto it so the UI has one error type to show.
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            E::Args(message) | E::MissingArg(message) => {
                Self::BadRequest { message: format!("malformed request: {message}") }
            }
            E::Request(_) => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr_impls {
    use axum::{
        Json,
        http::{HeaderValue, StatusCode, header},
        response::{IntoResponse, Response},
    };
    use serde_json::json;

    use super::AppError;

    impl AppError {
        /// Turns any error into [`AppError::Internal`], logging its cause chain once.
        pub fn internal(error: impl Into<anyhow::Error>) -> Self {
            let error: anyhow::Error = error.into();
            tracing::error!(error.cause_chain = ?error, "internal error");
            Self::Internal
        }
    }

    /// API errors are `{"error": {"code", "message", "field"?}}`.
    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let status =
                StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut error = json!({ "code": self.code(), "message": self.to_string() });
            if let AppError::Validation { field: Some(field), .. } = &self {
                error["field"] = json!(field);
            }
            let mut response = (status, Json(json!({ "error": error }))).into_response();
            if let AppError::RateLimited { retry_after_seconds } = self
                && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(error: sqlx::Error) -> Self {
            match error {
                sqlx::Error::RowNotFound => AppError::NotFound,
                other => AppError::internal(other),
            }
        }
    }
}
