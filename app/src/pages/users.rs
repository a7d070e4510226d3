//! `/users`: accounts and roles (administrators only).

use leptos::prelude::*;

use crate::{
    api::users::{CreateUser, DeleteUser, ResetUserPassword, UpdateUser, list_users},
    components::{
        auth::{LoadError, Protected, role_name, use_current_user},
        flash::{FlashNotice, SecretNotice},
        form::{FieldError, FormAlert, last_error},
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    i18n::*,
    model::{
        flash::Flash,
        user::{Role, User},
    },
};

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Protected min=Role::Admin>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, pages.users.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, pages.users.intro).to_string())
            />
            <UsersAdmin />
        </Protected>
    }
}

#[component]
fn UsersAdmin() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let users = Resource::new(
        move || {
            (create.version().get(), update.version().get(), reset.version().get(), delete.version().get())
        },
        |_| list_users(),
    );
    let create_error = last_error(create.value());
    let create_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_)))
            && let Some(form) = create_form.get_untracked()
        {
            form.reset();
        }
    });
    let row_error = Signal::derive(move || {
        last_error(update.value())
            .get()
            .or_else(|| last_error(reset.value()).get())
            .or_else(|| last_error(delete.value()).get())
    });
    let me = use_current_user().0;
    let my_id = Signal::derive(move || me.get().and_then(|r| r.ok().flatten()).map(|m| m.user.id));

    view! {
        <FlashNotice />
        {move || match create.value().get() {
            Some(Ok(created)) => created.one_time_password.map(|password| view! {
                <SecretNotice flash=Flash::OneTimePassword { username: created.user.username.clone(), password } />
            }),
            _ => None,
        }}
        {move || match reset.value().get() {
            Some(Ok(reset)) => reset.one_time_password.map(|password| view! {
                <SecretNotice flash=Flash::OneTimePassword { username: reset.user.username.clone(), password } />
            }),
            _ => None,
        }}
        <section class="card">
            <h2>{t!(i18n, users.create_title)}</h2>
            <ActionForm action=create node_ref=create_form attr:class="form form-grid" attr:data-testid="create-user-form">
                <FormAlert error=create_error />
                <div class="field">
                    <label for="new-username">{t!(i18n, auth.username)}</label>
                    <input id="new-username" type="text" name="username" required maxlength="64" autocapitalize="none" spellcheck="false" />
                    <FieldError error=create_error field="username" />
                </div>
                <div class="field">
                    <label for="new-email">{t!(i18n, users.email)}</label>
                    <input id="new-email" type="email" name="email" required />
                    <FieldError error=create_error field="email" />
                </div>
                <label>
                    <span>{t!(i18n, users.role)}</span>
                    <RoleSelect selected=Role::Viewer />
                </label>
                <label>
                    <span>{t!(i18n, profile.language)}</span>
                    <select name="locale">
                        <option value="ja">{td_string!(Locale::ja, lang.ja)}</option>
                        <option value="en">{td_string!(Locale::en, lang.en)}</option>
                    </select>
                </label>
                <div class="field span-2">
                    <label for="new-password">{t!(i18n, users.initial_password)}</label>
                    <input
                        id="new-password"
                        type="password"
                        name="password"
                        autocomplete="new-password"
                        minlength="12"
                        aria-describedby="new-password-hint"
                    />
                    <small id="new-password-hint" class="hint">{t!(i18n, users.initial_password_hint)}</small>
                    <FieldError error=create_error field="password" />
                </div>
                <div class="span-2">
                    <button type="submit" class="button" disabled=move || create.pending().get()>
                        {t!(i18n, users.create)}
                    </button>
                </div>
            </ActionForm>
        </section>
        <FormAlert error=row_error />
        <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState message=Signal::derive(move || t_string!(i18n, users.empty).to_string()) />
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="users-table">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, auth.username)}</th>
                                        <th>{t!(i18n, users.email)}</th>
                                        <th>{t!(i18n, users.role)}</th>
                                        <th>{t!(i18n, users.status)}</th>
                                        <th>{t!(i18n, users.created)}</th>
                                        <th>{t!(i18n, common.actions)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|user| view! {
                                        <UserRow user=user update=update reset=reset delete=delete my_id=my_id />
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn RoleSelect(selected: Role) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <select name="role">
            {Role::ALL.into_iter().rev().map(|role| view! {
                <option value=role.as_str() selected=role == selected>{move || role_name(i18n.get_locale(), role)}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
fn UserRow(
    user: User,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetUserPassword>,
    delete: ServerAction<DeleteUser>,
    my_id: Signal<Option<i64>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = user.id;
    let is_me = move || my_id.get() == Some(id);
    let disabled = user.disabled;
    let username = user.username.clone();
    view! {
        <tr class:muted=disabled data-testid="user-row" data-username=user.username.clone()>
            <td>
                <strong>{user.username.clone()}</strong>
                {user.must_change_password.then(|| view! { <span class="badge">{t!(i18n, users.must_change)}</span> })}
            </td>
            <td>{user.email.clone()}</td>
            <td>
                <ActionForm action=update attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <RoleSelect selected=user.role />
                    <button type="submit" class="button button-secondary button-small">{t!(i18n, common.save)}</button>
                </ActionForm>
            </td>
            <td>
                {if disabled {
                    view! { <span class="badge badge-muted">{t!(i18n, users.disabled)}</span> }.into_any()
                } else {
                    view! { <span class="badge badge-ok">{t!(i18n, users.active)}</span> }.into_any()
                }}
            </td>
            <td><DateTime at=user.created_at /></td>
            <td><div class="actions">
                <ActionForm action=update attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="disabled" value=if disabled { "false" } else { "true" } />
                    <button type="submit" class="button button-secondary button-small" disabled=is_me>
                        {if disabled { t!(i18n, users.enable).into_any() } else { t!(i18n, users.disable).into_any() }}
                    </button>
                </ActionForm>
                <ActionForm action=reset attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button button-secondary button-small">{t!(i18n, users.reset_password)}</button>
                </ActionForm>
                <details class="confirm" class:hidden=is_me>
                    <summary class="button button-danger button-small">{t!(i18n, users.delete)}</summary>
                    <ActionForm action=delete attr:class="inline">
                        <input type="hidden" name="id" value=id />
                        <span>{t!(i18n, users.delete_confirm, name = username.clone())}</span>
                        <button type="submit" class="button button-danger button-small" data-testid="confirm-delete">
                            {t!(i18n, users.delete_yes)}
                        </button>
                    </ActionForm>
                </details>
            </div></td>
        </tr>
    }
}
