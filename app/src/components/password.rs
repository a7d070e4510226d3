//! The password change form, used by the forced first-sign-in page and the
//! profile page.

use leptos::prelude::*;

use crate::{
    api::auth::ChangePassword,
    components::{
        auth::AuthEpoch,
        form::{FieldError, FormAlert, last_error},
    },
    i18n::*,
};

/// Current password, new password twice; on success the server keeps this
/// session signed in and redirects to `next`.
#[component]
pub fn PasswordForm(#[prop(into)] next: Signal<String>) -> impl IntoView {
    let i18n = use_i18n();
    let change = ServerAction::<ChangePassword>::new();
    let epoch = expect_context::<AuthEpoch>();
    Effect::new(move |_| {
        if matches!(change.value().get(), Some(Ok(()))) {
            epoch.bump();
        }
    });
    let error = last_error(change.value());
    view! {
        <ActionForm action=change attr:class="card form" attr:data-testid="password-form">
            <input type="hidden" name="next" value=next />
            <FormAlert error=error />
            <label>
                <span>{t!(i18n, auth.current_password)}</span>
                <input type="password" name="current_password" autocomplete="current-password" required />
                <FieldError error=error field="current_password" />
            </label>
            <label>
                <span>{t!(i18n, auth.new_password)}</span>
                <input type="password" name="new_password" autocomplete="new-password" minlength="12" required />
                <small class="hint">{t!(i18n, auth.password_hint)}</small>
                <FieldError error=error field="new_password" />
            </label>
            <label>
                <span>{t!(i18n, auth.confirm_password)}</span>
                <input type="password" name="confirm_password" autocomplete="new-password" minlength="12" required />
                <FieldError error=error field="confirm_password" />
            </label>
            <button type="submit" class="button" disabled=move || change.pending().get()>
                {t!(i18n, auth.change_password)}
            </button>
        </ActionForm>
    }
}
