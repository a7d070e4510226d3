//! Server functions: the typed calls the UI makes. Each is a thin shell
//! around an operation in `ssr` (where roles are checked), so the UI and
//! the `/api/v1` JSON API share one implementation. URLs are fixed:
//! `/api/fn/<endpoint>`.

pub mod audit;
pub mod auth;
pub mod calendar;
pub mod jobs;
pub mod notify;
pub mod ops;
pub mod report_schedules;
pub mod reports;
pub mod tokens;
pub mod users;
pub mod veeam;

#[cfg(feature = "ssr")]
pub(crate) use crate::ssr::infra::input::non_empty;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    //! What every server function needs on the server.

    use axum::http::{HeaderValue, header, request::Parts};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    use crate::{
        error::AppError,
        model::flash::Flash,
        ssr::{
            accounts::RequestInfo,
            infra::{state::AppState, web::flash},
        },
    };

    /// The application state and what the auth middleware learned about
    /// the request.
    pub fn ctx() -> Result<(AppState, RequestInfo), AppError> {
        let state = use_context::<AppState>().ok_or(AppError::Internal)?;
        let info = use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<RequestInfo>().cloned())
            .ok_or(AppError::Internal)?;
        Ok((state, info))
    }

    /// Adds a `Set-Cookie` header to the response.
    pub fn set_cookie(value: &str) {
        if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(value))
        {
            response.append_header(header::SET_COOKIE, value);
        }
    }

    /// Whether this call is a plain form post (no JavaScript), which is
    /// answered with a redirect rather than data.
    pub fn is_plain_form_post() -> bool {
        use_context::<Parts>().is_some_and(|parts| flash::is_plain_form_post(&parts.headers))
    }

    /// For a plain form post, carries `value` to the next page in the flash cookie.
    pub fn flash_if_form_post(state: &AppState, value: &Flash) {
        if is_plain_form_post()
            && let Some(cookie) = flash::set_cookie(&state.keys, &state.settings, value)
        {
            set_cookie(&cookie);
        }
    }
}
