//! `/profile`: one's own account: language, password and API tokens.

use leptos::prelude::*;

use crate::{
    api::{
        auth::SetMyLocale,
        tokens::{CreateToken, RevokeToken, list_my_tokens},
    },
    components::{
        auth::{LoadError, Protected, role_name, use_current_user},
        flash::{FlashNotice, SecretNotice},
        form::{FieldError, FormAlert, Notice, last_error},
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    i18n::*,
    model::{flash::Flash, token::TokenScope, user::Role},
};

/// The profile page.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Protected min=Role::Viewer>
            <PageHeader title=Signal::derive(move || t_string!(i18n, profile.title).to_string()) />
            <FlashNotice />
            <div class="grid-2">
                <AccountCard />
                <section class="card">
                    <h2>{t!(i18n, auth.change_password)}</h2>
                    <crate::components::password::PasswordForm next="/profile" />
                </section>
            </div>
            <TokensSection />
        </Protected>
    }
}

#[component]
fn AccountCard() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user().0;
    let set_locale = ServerAction::<SetMyLocale>::new();
    let error = last_error(set_locale.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = set_locale.value().get()
            && let Some(input) = set_locale.input().get_untracked()
            && let Some(locale) = Locale::get_all().iter().find(|l| l.as_str() == input.locale)
        {
            i18n.set_locale(*locale);
        }
    });
    view! {
        <section class="card">
            <h2>{t!(i18n, profile.account)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    user.await.ok().flatten().map(|me| {
                        let role = me.user.role;
                        let current = me.user.locale.as_str();
                        view! {
                            <dl class="facts">
                                <dt>{t!(i18n, auth.username)}</dt>
                                <dd data-testid="profile-username">{me.user.username.clone()}</dd>
                                <dt>{t!(i18n, users.email)}</dt>
                                <dd>{me.user.email.clone()}</dd>
                                <dt>{t!(i18n, users.role)}</dt>
                                <dd>{move || role_name(i18n.get_locale(), role)}</dd>
                            </dl>
                            <ActionForm action=set_locale attr:class="form inline-form">
                                <label>
                                    <span>{t!(i18n, profile.language)}</span>
                                    <select name="locale">
                                        <option value="en" selected=current == "en">{td_string!(Locale::en, lang.en)}</option>
                                        <option value="ja" selected=current == "ja">{td_string!(Locale::ja, lang.ja)}</option>
                                    </select>
                                </label>
                                <button type="submit" class="button button-secondary">{t!(i18n, common.save)}</button>
                            </ActionForm>
                        }
                    })
                })}
            </Transition>
            <FormAlert error=error />
            {move || matches!(set_locale.value().get(), Some(Ok(()))).then(|| view! {
                <Notice text=Signal::derive(move || t_string!(i18n, common.saved).to_string()) />
            })}
        </section>
    }
}

#[component]
fn TokensSection() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens =
        Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_my_tokens());
    let create_error = last_error(create.value());
    let revoke_error = last_error(revoke.value());
    let create_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(form) = create_form.get_untracked()
        {
            form.reset();
        }
    });
    view! {
        <section class="card" data-testid="tokens">
            <h2>{t!(i18n, tokens.title)}</h2>
            <p class="hint">{t!(i18n, tokens.intro)}</p>
            {move || match create.value().get() {
                Some(Ok(created)) => Some(view! {
                    <SecretNotice flash=Flash::TokenSecret { name: created.token.name.clone(), secret: created.secret.clone() } />
                }),
                _ => None,
            }}
            <ActionForm action=create node_ref=create_form attr:class="form inline-form" attr:data-testid="token-form">
                <FormAlert error=create_error />
                <div class="field">
                    <label for="token-name">{t!(i18n, tokens.name)}</label>
                    <input id="token-name" type="text" name="name" maxlength="100" required placeholder=move || t_string!(i18n, tokens.name_placeholder).to_string() />
                    <FieldError error=create_error field="name" />
                </div>
                <label>
                    <span>{t!(i18n, tokens.scope)}</span>
                    <select name="scope">
                        {TokenScope::ALL.into_iter().map(|scope| view! {
                            <option value=scope.as_str()>{move || scope_name(i18n.get_locale(), scope)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <div class="field">
                    <label for="token-expiry">{t!(i18n, tokens.expires_in_days)}</label>
                    <input id="token-expiry" type="number" name="expires_in_days" min="1" max="3650" inputmode="numeric" />
                    <FieldError error=create_error field="expires_in_days" />
                </div>
                <div class="field">
                    <label for="token-tags">{t!(i18n, tokens.limit_tags)}</label>
                    <input id="token-tags" type="text" name="tags" maxlength="1100" placeholder=move || t_string!(i18n, tokens.limit_tags_placeholder).to_string() />
                    <FieldError error=create_error field="tags" />
                </div>
                <button type="submit" class="button">{t!(i18n, tokens.create)}</button>
            </ActionForm>
            <FormAlert error=revoke_error />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState message=Signal::derive(move || t_string!(i18n, tokens.empty).to_string()) />
                        }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap">
                                <table class="table">
                                    <thead>
                                        <tr>
                                            <th>{t!(i18n, tokens.name)}</th>
                                            <th>{t!(i18n, tokens.scope)}</th>
                                            <th>{t!(i18n, tokens.prefix)}</th>
                                            <th>{t!(i18n, tokens.created)}</th>
                                            <th>{t!(i18n, tokens.last_used)}</th>
                                            <th>{t!(i18n, tokens.expires)}</th>
                                            <th>{t!(i18n, common.actions)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {list.into_iter().map(|token| {
                                            let revoked = token.revoked_at.is_some();
                                            let scope = token.scope;
                                            view! {
                                                <tr class:muted=revoked data-testid="token-row">
                                                    <td>{token.name.clone()}</td>
                                                    <td>{move || scope_name(i18n.get_locale(), scope)}</td>
                                                    <td><code>{format!("{}…", token.prefix)}</code></td>
                                                    <td><DateTime at=token.created_at /></td>
                                                    <td>{match token.last_used_at {
                                                        Some(at) => view! { <DateTime at=at /> }.into_any(),
                                                        None => view! { <span class="muted">{t!(i18n, tokens.never)}</span> }.into_any(),
                                                    }}</td>
                                                    <td>{match token.expires_at {
                                                        Some(at) => view! { <DateTime at=at /> }.into_any(),
                                                        // A token that never expires works until someone
                                                        // remembers to revoke it: say so where it is listed.
                                                        None if !revoked => view! {
                                                            <span class="badge badge-warning" data-testid="token-no-expiry" title=move || t_string!(i18n, tokens.no_expiry_hint).to_string()>{t!(i18n, tokens.no_expiry)}</span>
                                                        }.into_any(),
                                                        None => view! { <span class="muted">{t!(i18n, tokens.no_expiry)}</span> }.into_any(),
                                                    }}</td>
                                                    <td>
                                                        {if revoked {
                                                            view! { <span class="badge">{t!(i18n, tokens.revoked)}</span> }.into_any()
                                                        } else {
                                                            view! {
                                                                <ActionForm action=revoke attr:class="inline">
                                                                    <input type="hidden" name="id" value=token.id />
                                                                    <button type="submit" class="button button-danger button-small">{t!(i18n, tokens.revoke)}</button>
                                                                </ActionForm>
                                                            }.into_any()
                                                        }}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// A scope's name and meaning in the user's language.
pub fn scope_name(locale: Locale, scope: TokenScope) -> String {
    match scope {
        TokenScope::Read => td_string!(locale, tokens.scope_read).to_string(),
        TokenScope::Write => td_string!(locale, tokens.scope_write).to_string(),
        TokenScope::Ingest => td_string!(locale, tokens.scope_ingest).to_string(),
    }
}
