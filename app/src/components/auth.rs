//! The signed-in user across the app: a context holding who it is, a guard
//! for pages that need a role, and the header's user menu.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};

use crate::{
    api::auth::{Logout, current_user},
    components::form::error_text,
    error::AppError,
    i18n::*,
    model::user::{Me, Role},
};

/// The current user, loaded once per page (blocking, so the server can
/// redirect or set a status before sending anything) and reloaded when
/// [`AuthEpoch`] moves.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, AppError>>);

/// Bumped after sign-in, sign-out or a password change so [`CurrentUser`]
/// reloads without a full page load.
#[derive(Clone, Copy)]
pub struct AuthEpoch(pub RwSignal<u32>);

impl AuthEpoch {
    /// Marks the current user as changed.
    pub fn bump(self) {
        self.0.update(|n| *n += 1);
    }
}

/// Provides [`CurrentUser`] and [`AuthEpoch`]; call once in `App`.
pub fn provide_current_user() {
    let epoch = AuthEpoch(RwSignal::new(0));
    let user = Resource::new_blocking(move || epoch.0.get(), |_| current_user());
    provide_context(epoch);
    provide_context(CurrentUser(user));
}

/// The current user's resource.
pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}

/// `/login?next=<current path>`.
fn login_url(path: &str) -> String {
    let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
    format!("/login?next={next}")
}

/// A function that sends the browser elsewhere: a redirect during SSR, a
/// client-side navigation after hydration.
fn redirector() -> impl Fn(String) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    move |url: String| {
        // A page request is answered with a real redirect whatever the
        // client asked for (leptos_axum::redirect only does so for clients
        // that accept HTML).
        #[cfg(feature = "ssr")]
        {
            let _ = &navigate;
            if let (Some(response), Ok(location)) =
                (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(&url))
            {
                response.set_status(http::StatusCode::FOUND);
                response.insert_header(http::header::LOCATION, location);
            }
        }
        #[cfg(not(feature = "ssr"))]
        {
            let navigate = navigate.clone();
            request_animation_frame(move || navigate(&url, Default::default()));
        }
    }
}

/// Renders `children` for users with at least `min` role. Anonymous
/// visitors are sent to the sign-in page (and back afterwards), users with
/// a pending password change to the password page, and everyone else gets
/// a 403 page.
#[component]
pub fn Protected(min: Role, children: ChildrenFn) -> impl IntoView {
    let user = use_current_user().0;
    let location = use_location();
    let children = StoredValue::new(children);
    let go_to = redirector();
    view! {
        <Transition fallback=|| view! { <p class="loading" aria-busy="true"></p> }>
            {move || {
                let go_to = go_to.clone();
                Suspend::new(async move {
                let path = location.pathname.get_untracked();
                match user.await {
                    Ok(Some(me)) if me.user.must_change_password && path != "/change-password" => {
                        let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
                        go_to(format!("/change-password?next={next}"));
                        ().into_any()
                    }
                    Ok(Some(me)) if me.user.role >= min => children.read_value()().into_any(),
                    Ok(Some(_)) => view! { <Forbidden /> }.into_any(),
                    Ok(None) => {
                        go_to(login_url(&path));
                        ().into_any()
                    }
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                }
            })
            }}
        </Transition>
    }
}

/// The page shown when the role does not allow a page (status 403).
#[component]
pub fn Forbidden() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    let i18n = use_i18n();
    view! {
        <div class="forbidden" data-testid="forbidden">
            <crate::components::page::PageHeader title=Signal::derive(move || {
                t_string!(i18n, auth.forbidden_title).to_string()
            }) />
            <p>{t!(i18n, auth.forbidden_body)}</p>
            <p>
                <a class="button" href="/">
                    {t!(i18n, pages.not_found.home)}
                </a>
            </p>
        </div>
    }
}

/// A failed load, in words.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="alert alert-error" role="alert">
            {move || error_text(i18n.get_locale(), &error)}
        </p>
    }
}

/// The header's account area: who is signed in, their profile and a
/// sign-out button; or a sign-in link.
#[component]
pub fn UserMenu() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user().0;
    let epoch = expect_context::<AuthEpoch>();
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if logout.version().get() > 0 {
            epoch.bump();
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(me)) => {
                        let role = me.user.role;
                        view! {
                            <div class="user-menu" data-testid="user-menu">
                                <a href="/profile" class="user-name" title=move || role_name(i18n.get_locale(), role)>
                                    <svg class="user-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                                        <circle cx="12" cy="8" r="4" fill="none" stroke="currentColor" stroke-width="2" />
                                        <path d="M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7" fill="none" stroke="currentColor" stroke-width="2" />
                                    </svg>
                                    <span class="user-label">{me.user.username.clone()}</span>
                                </a>
                                <ActionForm action=logout attr:class="pref-form">
                                    <button type="submit" class="pref-button" data-testid="logout">
                                        <span class="pref-icon" aria-hidden="true">"⎋"</span>
                                        <span class="pref-label">{t!(i18n, auth.sign_out)}</span>
                                    </button>
                                </ActionForm>
                            </div>
                        }
                            .into_any()
                    }
                    _ => view! {
                        <a class="pref-button" href="/login" data-testid="sign-in-link">
                            {t!(i18n, auth.sign_in)}
                        </a>
                    }
                        .into_any(),
                }
            })}
        </Transition>
    }
}

/// A role's name in the user's language.
pub fn role_name(locale: Locale, role: Role) -> String {
    match role {
        Role::Admin => td_string!(locale, roles.admin).to_string(),
        Role::Operator => td_string!(locale, roles.operator).to_string(),
        Role::Viewer => td_string!(locale, roles.viewer).to_string(),
    }
}
