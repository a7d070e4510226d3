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
            <div class="field">
                <label for="current_password">{t!(i18n, auth.current_password)}</label>
                <input id="current_password" type="password" name="current_password" autocomplete="current-password" required />
                <FieldError error=error field="current_password" />
            </div>
            <div class="field">
                <label for="new_password">{t!(i18n, auth.new_password)}</label>
                <input
                    id="new_password"
                    type="password"
                    name="new_password"
                    autocomplete="new-password"
                    minlength="12"
                    required
                    aria-describedby="new_password_hint"
                />
                <small id="new_password_hint" class="hint">{t!(i18n, auth.password_hint)}</small>
                <FieldError error=error field="new_password" />
            </div>
            <div class="field">
                <label for="confirm_password">{t!(i18n, auth.confirm_password)}</label>
                <input id="confirm_password" type="password" name="confirm_password" autocomplete="new-password" minlength="12" required />
                <FieldError error=error field="confirm_password" />
            </div>
            <button type="submit" class="button" disabled=move || change.pending().get()>
                {t!(i18n, auth.change_password)}
            </button>
        </ActionForm>
    }
}
