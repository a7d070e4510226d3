//! Showing the outcome of a form: an alert for the whole form, a message
//! under the field that is wrong, and error texts in the user's language.

use leptos::prelude::*;

use crate::{error::AppError, i18n::*};

/// The user-facing text of an error. Validation and conflict messages were
/// written in the caller's language by the server; the others come from the
/// catalogue.
pub fn error_text(locale: Locale, error: &AppError) -> String {
    match error {
        AppError::Validation { message, .. }
        | AppError::BadRequest { message }
        | AppError::PayloadTooLarge { message }
        | AppError::Conflict { message }
        | AppError::Upstream { message }
        | AppError::InvalidCredentials { message } => message.clone(),
        AppError::NotFound => td_string!(locale, errors.not_found).to_string(),
        AppError::Unauthorized => td_string!(locale, errors.unauthorized).to_string(),
        AppError::Forbidden => td_string!(locale, errors.forbidden).to_string(),
        AppError::PasswordChangeRequired => td_string!(locale, errors.password_change_required).to_string(),
        AppError::RateLimited { retry_after_seconds } => {
            td_string!(locale, errors.rate_limited, seconds = *retry_after_seconds).to_string()
        }
        AppError::Unavailable => td_string!(locale, errors.unavailable).to_string(),
        AppError::Internal => td_string!(locale, errors.internal).to_string(),
    }
}

/// The error in an action's last result, if it failed.
pub fn last_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    S: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    T: Send + Sync + 'static,
{
    Signal::derive(move || value.with(|v| v.as_ref().and_then(|r| r.as_ref().err().cloned())))
}

/// An alert with the form's error, if any.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        error.get().map(|e| {
            view! {
                <p class="alert alert-error" role="alert" data-testid="form-error">
                    {error_text(i18n.get_locale(), &e)}
                </p>
            }
        })
    }
}

/// The message for one field, when the error is about it.
#[component]
pub fn FieldError(#[prop(into)] error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || match error.get() {
        Some(AppError::Validation { field: Some(f), message }) if f == field => {
            Some(view! { <span class="field-error" data-field=field>{message}</span> })
        }
        _ => None,
    }
}

/// A success notice.
#[component]
pub fn Notice(#[prop(into)] text: Signal<String>) -> impl IntoView {
    view! {
        <p class="alert alert-ok" role="status">
            {move || text.get()}
        </p>
    }
}
