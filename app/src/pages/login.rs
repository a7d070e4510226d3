//! `/login`: the sign-in form. Works without JavaScript: the form posts to
//! the server function, which sets the session cookie and redirects.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::Login,
    components::{
        auth::{AuthEpoch, use_current_user},
        form::{FormAlert, last_error},
        page::PageHeader,
    },
    i18n::*,
};

/// The sign-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next")).unwrap_or_else(|| "/".to_owned());
    let login = ServerAction::<Login>::new();
    let epoch = expect_context::<AuthEpoch>();
    Effect::new(move |_| {
        if matches!(login.value().get(), Some(Ok(()))) {
            epoch.bump();
        }
    });
    let error = last_error(login.value());
    let user = use_current_user().0;

    view! {
        <div class="narrow">
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, auth.sign_in_title).to_string())
                intro=Signal::derive(move || t_string!(i18n, auth.sign_in_intro).to_string())
            />
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|me| {
                        view! {
                            <p class="alert alert-ok" role="status">
                                {t!(i18n, auth.already_signed_in, name = me.user.username.clone())}
                                " "
                                <a href="/">{t!(i18n, pages.not_found.home)}</a>
                            </p>
                        }
                    })
                })}
            </Transition>
            <ActionForm action=login attr:class="card form" attr:data-testid="login-form">
                <input type="hidden" name="next" value=next />
                <FormAlert error=error />
                <label>
                    <span>{t!(i18n, auth.username)}</span>
                    <input
                        type="text"
                        name="username"
                        autocomplete="username"
                        autocapitalize="none"
                        spellcheck="false"
                        required
                        autofocus
                    />
                </label>
                <label>
                    <span>{t!(i18n, auth.password)}</span>
                    <input type="password" name="password" autocomplete="current-password" required />
                </label>
                <button type="submit" class="button" disabled=move || login.pending().get()>
                    {move || {
                        if login.pending().get() {
                            t_string!(i18n, auth.signing_in).to_string()
                        } else {
                            t_string!(i18n, auth.sign_in).to_string()
                        }
                    }}
                </button>
            </ActionForm>
        </div>
    }
}
