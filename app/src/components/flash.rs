//! Shows once what a no-JavaScript form post created (a one-time password,
//! a token secret). With JavaScript, pages show the server function's
//! answer instead; this component then finds nothing.

use leptos::prelude::*;

use crate::{api::auth::take_flash, i18n::*, model::flash::Flash};

/// Reads and clears the flash cookie; renders the secret it carried.
#[component]
pub fn FlashNotice() -> impl IntoView {
    let flash = Resource::new_blocking(|| (), |_| take_flash());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                flash.await.ok().flatten().map(|f| view! { <SecretNotice flash=f /> })
            })}
        </Transition>
    }
}

/// A secret to copy now, because it will not be shown again.
#[component]
pub fn SecretNotice(flash: Flash) -> impl IntoView {
    let i18n = use_i18n();
    let (title, secret) = match flash {
        Flash::OneTimePassword { username, password } => (
            Signal::derive(move || {
                t_string!(i18n, secrets.one_time_password_for, name = username.clone()).to_string()
            }),
            password,
        ),
        Flash::TokenSecret { name, secret } => (
            Signal::derive(move || {
                t_string!(i18n, secrets.token_secret_for, name = name.clone()).to_string()
            }),
            secret,
        ),
    };
    view! {
        <section class="alert alert-secret" role="status" data-testid="secret-notice">
            <p class="secret-title">{move || title.get()}</p>
            <code class="secret" data-testid="secret-value">{secret}</code>
            <p class="hint">{t!(i18n, secrets.shown_once)}</p>
        </section>
    }
}
