//! `/settings/backups`: the console's own backups (administrators): the
//! newest backups and attempts with their size, checksum and state, the
//! backup settings, a "Back up now" button (a plain post, so it works
//! without JavaScript), and data retention.

use leptos::prelude::*;

use crate::{
    api::ops::{CreateBackup, backups_overview},
    components::{
        auth::{LoadError, Protected},
        form::{FormAlert, last_error},
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    i18n::*,
    model::{format::format_bytes, ops::BackupsPage, user::Role},
};

/// The backups page.
#[component]
pub fn BackupsSettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateBackup>::new();
    let data = Resource::new(move || create.version().get(), |_| backups_overview());
    view! {
        <Protected min=Role::Admin>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, backups.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, backups.intro).to_string())
            />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) => view! { <Backups page=page create=create /> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

fn days(locale: Locale, days: u32) -> String {
    if days == 0 {
        td_string!(locale, backups.forever).to_string()
    } else {
        td_string!(locale, backups.days, n = days).to_string()
    }
}

#[component]
fn Backups(page: BackupsPage, create: ServerAction<CreateBackup>) -> impl IntoView {
    let i18n = use_i18n();
    let error = last_error(create.value());
    let BackupsPage { backups, recipient, refused, .. } = page.clone();
    let (runs, events, audit) =
        (page.retention_runs_days, page.retention_events_days, page.retention_audit_days);
    view! {
        <section class="card" data-testid="backups">
            <h2>{t!(i18n, backups.list)}</h2>
            {refused.then(|| view! { <p class="alert alert-error" role="alert" data-testid="backups-refused">{t!(i18n, backups.refused)}</p> })}
            {(recipient.is_none() && !refused).then(|| view! { <p class="alert alert-warning" data-testid="backups-unencrypted">{t!(i18n, backups.unencrypted)}</p> })}
            {move || matches!(create.value().get(), Some(Ok(_))).then(|| view! {
                <p class="alert alert-ok" role="status" data-testid="backup-done">{t!(i18n, backups.done)}</p>
            })}
            <FormAlert error=error />
            <ActionForm action=create attr:class="inline">
                <button type="submit" class="button" data-testid="back-up-now" disabled=move || create.pending().get()>
                    {move || if create.pending().get() { t_string!(i18n, backups.running).to_string() } else { t_string!(i18n, backups.now).to_string() }}
                </button>
            </ActionForm>
            {if backups.is_empty() {
                view! { <EmptyState message=Signal::derive(move || t_string!(i18n, backups.empty).to_string()) /> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, backups.when)}</th>
                                    <th scope="col">{t!(i18n, backups.state)}</th>
                                    <th scope="col">{t!(i18n, backups.file)}</th>
                                    <th scope="col" class="num">{t!(i18n, backups.size)}</th>
                                    <th scope="col">"SHA-256"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {backups.into_iter().map(|b| {
                                    let ok = b.status == "ok";
                                    let scheduled = b.trigger == "scheduled";
                                    view! {
                                        <tr data-testid="backup" data-status=b.status.clone()>
                                            <td><DateTime at=b.started_at /> " "
                                                <span class="muted">{move || if scheduled { t_string!(i18n, backups.scheduled).to_string() } else { t_string!(i18n, backups.manual).to_string() }}</span>
                                            </td>
                                            <td>{if ok {
                                                view! { <span class="badge badge-ok">{t!(i18n, backups.ok)}</span> }.into_any()
                                            } else {
                                                view! { <span class="badge badge-failed">{t!(i18n, backups.failed)}</span> " " <small>{b.error.clone().unwrap_or_default()}</small> }.into_any()
                                            }}
                                            {(!b.encrypted && ok).then(|| view! { " " <span class="badge badge-warning">{t!(i18n, backups.not_encrypted)}</span> })}
                                            {(ok && !b.present).then(|| view! { " " <span class="badge">{t!(i18n, backups.removed)}</span> })}
                                            </td>
                                            <td><code>{b.file_name.clone().unwrap_or_else(|| "—".into())}</code></td>
                                            <td class="num">{b.size_bytes.map(format_bytes).unwrap_or_else(|| "—".into())}</td>
                                            <td><code title=b.sha256.clone().unwrap_or_default()>{b.sha256.as_deref().map(|s| s.chars().take(12).collect::<String>()).unwrap_or_else(|| "—".into())}</code></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section class="card" data-testid="backup-settings">
            <h2>{t!(i18n, backups.settings)}</h2>
            <dl class="facts">
                <dt><code>"backup_dir"</code></dt>
                <dd><code>{page.dir.clone()}</code></dd>
                <dt><code>"backup_recipient"</code></dt>
                <dd>{match page.recipient.clone() {
                    Some(key) => view! { <code class="wrap">{key}</code> }.into_any(),
                    None => view! { <span class="badge badge-warning">{t!(i18n, backups.no_recipient)}</span> }.into_any(),
                }}</dd>
                <dt><code>"backup_time"</code></dt>
                <dd>{format!("{} ({})", page.time, page.timezone)}</dd>
                <dt><code>"backup_keep_days"</code></dt>
                <dd>{move || days(i18n.get_locale(), page.keep_days)}</dd>
            </dl>
            <p class="hint">{t!(i18n, backups.restore_hint)}</p>
        </section>
        <section class="card" data-testid="retention">
            <h2>{t!(i18n, backups.retention)}</h2>
            <p class="hint">{t!(i18n, backups.retention_intro)}</p>
            <dl class="facts">
                <dt>{t!(i18n, backups.retention_runs)} " " <code>"retention_runs_days"</code></dt>
                <dd data-testid="retention-runs">{move || days(i18n.get_locale(), runs)}</dd>
                <dt>{t!(i18n, backups.retention_events)} " " <code>"retention_events_days"</code></dt>
                <dd>{move || days(i18n.get_locale(), events)}</dd>
                <dt>{t!(i18n, backups.retention_audit)} " " <code>"retention_audit_days"</code></dt>
                <dd>{move || days(i18n.get_locale(), audit)}</dd>
                <dt>{t!(i18n, backups.last_prune)}</dt>
                <dd>{match page.last_prune_at {
                    Some(at) => view! { <DateTime at=at /> " · " {move || td_string!(i18n.get_locale(), backups.deleted, n = page.last_prune_deleted).to_string()} }.into_any(),
                    None => t!(i18n, backups.no_prune_yet).into_any(),
                }}</dd>
            </dl>
        </section>
    }
}
