//! `/settings`: administrators' settings: Veeam servers (add, edit, test,
//! sync now, remove) with each server's status and sync progress, and
//! notifications (channels, rules, maintenance windows), and a link to
//! the business calendar ([`calendar`]).

pub mod backups;
pub mod calendar;
pub mod cluster;

use leptos::prelude::*;

use crate::{
    api::veeam::{CreateServer, DeleteServer, SyncServer, TestServer, UpdateServer, list_servers},
    components::{
        auth::{LoadError, Protected},
        form::{FieldError, FormAlert, last_error},
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    error::AppError,
    i18n::*,
    model::{
        user::Role,
        veeam::{ServerStatus, SyncProgress, TlsMode, VeeamServer},
    },
};

/// The settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Protected min=Role::Admin>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, pages.settings.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, pages.settings.intro).to_string())
            />
            <p class="card" data-testid="calendar-link">
                <a href="/settings/calendar">{t!(i18n, calendar.link)}</a>
                " · "
                <a href="/settings/backups" data-testid="backups-link">{t!(i18n, backups.link)}</a>
                " · "
                <a href="/settings/cluster" data-testid="cluster-link">{t!(i18n, cluster.link)}</a>
            </p>
            <VeeamServers />
            <super::notify_settings::NotificationSettings />
        </Protected>
    }
}

#[component]
fn VeeamServers() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateServer>::new();
    let update = ServerAction::<UpdateServer>::new();
    let delete = ServerAction::<DeleteServer>::new();
    let test = ServerAction::<TestServer>::new();
    let sync = ServerAction::<SyncServer>::new();
    let tick = RwSignal::new(0u32);
    let servers = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
                sync.version().get(),
                test.version().get(),
                tick.get(),
            )
        },
        |_| list_servers(),
    );
    // While a sync runs, read the list every two seconds for its progress.
    let syncing = Memo::new(move |_| {
        servers.get().and_then(Result::ok).is_some_and(|list| list.iter().any(|s| s.sync_progress.is_some()))
    });
    Effect::new(move |_| {
        if syncing.get()
            && let Ok(handle) = set_interval_with_handle(
                move || tick.update(|t| *t = t.wrapping_add(1)),
                std::time::Duration::from_secs(2),
            )
        {
            on_cleanup(move || handle.clear());
        }
    });
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
            .or_else(|| last_error(delete.value()).get())
            .or_else(|| last_error(sync.value()).get())
            .or_else(|| last_error(test.value()).get())
    });
    view! {
        <section class="card" data-testid="veeam-servers">
            <h2>{t!(i18n, veeam.servers.title)}</h2>
            <p class="hint">{t!(i18n, veeam.servers.intro)}</p>
            {move || match test.value().get() {
                Some(Ok(outcome)) => Some(view! {
                    <p class=if outcome.ok { "alert alert-ok" } else { "alert alert-error" } role="status" data-testid="test-outcome">
                        {outcome.message.clone()}
                    </p>
                }),
                _ => None,
            }}
            {move || matches!(create.value().get(), Some(Ok(_))).then(|| view! {
                <p class="alert alert-ok" role="status">{t!(i18n, veeam.servers.created)}</p>
            })}
            <FormAlert error=row_error />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match servers.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState message=Signal::derive(move || t_string!(i18n, veeam.servers.empty).to_string()) />
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="server-list">
                                {list.into_iter().map(|server| view! {
                                    <ServerCard server=server update=update delete=delete test=test sync=sync />
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>{t!(i18n, veeam.servers.add)}</h2>
            <ActionForm action=create node_ref=create_form attr:class="form form-grid" attr:data-testid="add-veeam-server">
                <FormAlert error=create_error />
                <ServerFields server=None error=create_error prefix="new".to_owned() />
                <div class="span-2">
                    <button type="submit" class="button" disabled=move || create.pending().get()>
                        {t!(i18n, veeam.servers.add)}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
}

/// The fields of the add and edit forms.
#[component]
fn ServerFields(
    server: Option<VeeamServer>,
    error: Signal<Option<AppError>>,
    prefix: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = |field: &str| format!("{prefix}-{field}");
    let editing = server.is_some();
    let s = server.unwrap_or(VeeamServer {
        id: 0,
        name: String::new(),
        base_url: String::new(),
        username: String::new(),
        api_version: None,
        api_version_pinned: false,
        tls_mode: TlsMode::Verify,
        ca_pem: None,
        sync_interval_seconds: 300,
        enabled: true,
        status: ServerStatus::New,
        last_sync_at: None,
        last_error: None,
        last_error_code: None,
        sync_progress: None,
        jobs: 0,
        signals: Default::default(),
    });
    let pinned = if s.api_version_pinned { s.api_version.clone().unwrap_or_default() } else { String::new() };
    view! {
        <div class="field">
            <label for=id("name")>{t!(i18n, veeam.servers.name)}</label>
            <input id=id("name") type="text" name="name" required maxlength="200" value=s.name.clone() />
            <FieldError error=error field="name" />
        </div>
        <div class="field">
            <label for=id("base-url")>{t!(i18n, veeam.servers.base_url)}</label>
            <input id=id("base-url") type="text" name="base_url" required value=s.base_url.clone()
                placeholder=move || t_string!(i18n, veeam.servers.base_url_hint).to_string() autocapitalize="none" spellcheck="false" />
            <FieldError error=error field="base_url" />
        </div>
        <div class="field">
            <label for=id("username")>{t!(i18n, veeam.servers.username)}</label>
            <input id=id("username") type="text" name="username" required value=s.username.clone() autocomplete="off" autocapitalize="none" spellcheck="false" />
            <FieldError error=error field="username" />
        </div>
        <div class="field">
            <label for=id("password")>{t!(i18n, veeam.servers.password)}</label>
            <input id=id("password") type="password" name="password" required=!editing autocomplete="new-password" />
            {editing.then(|| view! { <small class="hint">{t!(i18n, veeam.servers.password_keep)}</small> })}
            <FieldError error=error field="password" />
        </div>
        <div class="field">
            <label for=id("api-version")>{t!(i18n, veeam.servers.api_version)}</label>
            <select id=id("api-version") name="api_version">
                <option value="" selected=pinned.is_empty()>{t!(i18n, veeam.servers.api_auto)}</option>
                {["1.3-rev2", "1.3-rev1", "1.3-rev0", "1.2-rev1", "1.2-rev0"].into_iter().map(|v| view! {
                    <option value=v selected=pinned == v>{v}</option>
                }).collect_view()}
            </select>
            <FieldError error=error field="api_version" />
        </div>
        <div class="field">
            <label for=id("interval")>{t!(i18n, veeam.servers.interval)}</label>
            <input id=id("interval") type="number" name="sync_interval_seconds" min="60" max="86400" value=s.sync_interval_seconds />
            <FieldError error=error field="sync_interval_seconds" />
        </div>
        <fieldset class="field span-2">
            <legend>{t!(i18n, veeam.servers.tls_mode)}</legend>
            {[
                (TlsMode::Verify, "verify"),
                (TlsMode::CustomCa, "custom_ca"),
                (TlsMode::Insecure, "insecure"),
            ].into_iter().map(|(mode, value)| view! {
                <label class="choice">
                    <input type="radio" name="tls_mode" value=value checked=s.tls_mode == mode />
                    <span>{move || match mode {
                        TlsMode::Verify => t_string!(i18n, veeam.servers.tls_verify).to_string(),
                        TlsMode::CustomCa => t_string!(i18n, veeam.servers.tls_custom_ca).to_string(),
                        TlsMode::Insecure => t_string!(i18n, veeam.servers.tls_insecure).to_string(),
                    }}</span>
                </label>
            }).collect_view()}
            <p class="hint warning-text insecure-warning">
                {t!(i18n, veeam.servers.tls_insecure_warning)}
            </p>
            <FieldError error=error field="tls_mode" />
        </fieldset>
        <div class="field span-2">
            <label for=id("ca-pem")>{t!(i18n, veeam.servers.ca_pem)}</label>
            <textarea id=id("ca-pem") name="ca_pem" rows="4" class="mono" spellcheck="false"
                placeholder="-----BEGIN CERTIFICATE-----">{s.ca_pem.clone().unwrap_or_default()}</textarea>
            <FieldError error=error field="ca_pem" />
        </div>
        <label class="choice span-2">
            <input type="checkbox" name="enabled" value="true" checked=s.enabled />
            <span>{t!(i18n, veeam.servers.enabled)}</span>
        </label>
    }
}

fn status_text(locale: Locale, status: ServerStatus) -> String {
    match status {
        ServerStatus::New => td_string!(locale, veeam.servers.state.new).to_string(),
        ServerStatus::Ok => td_string!(locale, veeam.servers.state.ok).to_string(),
        ServerStatus::Unreachable => td_string!(locale, veeam.servers.state.unreachable).to_string(),
        ServerStatus::Error => td_string!(locale, veeam.servers.state.error).to_string(),
    }
}

fn phase_text(locale: Locale, phase: &str) -> String {
    match phase {
        "jobs" => td_string!(locale, veeam.servers.phase.jobs).to_string(),
        "sessions" => td_string!(locale, veeam.servers.phase.sessions).to_string(),
        "recording" => td_string!(locale, veeam.servers.phase.recording).to_string(),
        "repositories" => td_string!(locale, veeam.servers.phase.repositories).to_string(),
        _ => td_string!(locale, veeam.servers.phase.starting).to_string(),
    }
}

#[component]
fn Progress(progress: SyncProgress) -> impl IntoView {
    let i18n = use_i18n();
    let phase = progress.phase.clone();
    let count = match progress.total {
        Some(total) => format!("{} / {}", progress.done, total),
        None => progress.done.to_string(),
    };
    view! {
        <div class="sync-progress" data-testid="sync-progress" aria-live="polite">
            <span>{t!(i18n, veeam.servers.syncing)} " " {move || phase_text(i18n.get_locale(), &phase)} " " {count}</span>
            {match progress.total.filter(|t| *t > 0) {
                Some(total) => view! { <progress max=total value=progress.done.min(total)></progress> }.into_any(),
                None => view! { <progress></progress> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn ServerCard(
    server: VeeamServer,
    update: ServerAction<UpdateServer>,
    delete: ServerAction<DeleteServer>,
    test: ServerAction<TestServer>,
    sync: ServerAction<SyncServer>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = server.id;
    let update_error = last_error(update.value());
    let status = server.status;
    let syncing = server.sync_progress.is_some();
    let for_edit = server.clone();
    let status_class = match status {
        ServerStatus::Ok => "badge badge-ok",
        ServerStatus::New => "badge",
        ServerStatus::Unreachable | ServerStatus::Error => "badge badge-failed",
    };
    view! {
        <li class="server-card" data-testid="veeam-server" data-name=server.name.clone()>
            <div class="server-head">
                <h3>{server.name.clone()}</h3>
                <span class=status_class data-testid="server-status">{move || status_text(i18n.get_locale(), status)}</span>
                {(server.tls_mode == TlsMode::Insecure).then(|| view! {
                    <span class="badge badge-warning">{t!(i18n, veeam.servers.insecure_badge)}</span>
                })}
            </div>
            <dl class="facts">
                <dt>{t!(i18n, veeam.servers.base_url)}</dt>
                <dd><code>{server.base_url.clone()}</code></dd>
                <dt>{t!(i18n, veeam.servers.username)}</dt>
                <dd>{server.username.clone()}</dd>
                <dt>{t!(i18n, veeam.servers.api_version)}</dt>
                <dd>{server.api_version.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>{t!(i18n, veeam.servers.last_sync)}</dt>
                <dd>{match server.last_sync_at {
                    Some(at) => view! { <DateTime at=at /> }.into_any(),
                    None => t!(i18n, veeam.servers.never).into_any(),
                }}</dd>
                <dt>{t!(i18n, veeam.servers.jobs)}</dt>
                <dd data-testid="server-jobs">{server.jobs}</dd>
                <dt>{t!(i18n, veeam.signals.config_backup)}</dt>
                <dd data-testid="signal-config-backup">{match (server.signals.config_backup_enabled, server.signals.config_backup_last_success) {
                    (None, _) => view! { <span class="muted">"—"</span> }.into_any(),
                    (Some(false), _) => view! { <span class="badge badge-warning">{t!(i18n, veeam.signals.disabled)}</span> }.into_any(),
                    (Some(true), Some(at)) => view! { <DateTime at=at /> }.into_any(),
                    (Some(true), None) => view! { <span class="badge badge-warning">{t!(i18n, veeam.signals.never)}</span> }.into_any(),
                }}
                {server.signals.raised.iter().any(|s| s == "config_backup_stale").then(|| view! {
                    " " <span class="badge badge-failed">{t!(i18n, veeam.signals.stale)}</span>
                })}</dd>
                <dt>{t!(i18n, veeam.signals.license)}</dt>
                <dd data-testid="signal-license">{server.signals.license_status.clone().unwrap_or_else(|| "—".into())}
                {server.signals.license_expires_at.map(|at| view! { " · " {t!(i18n, veeam.signals.until)} " " <DateTime at=at /> })}
                {server.signals.raised.iter().any(|s| s == "license_expiring").then(|| view! {
                    " " <span class="badge badge-failed">{t!(i18n, veeam.signals.expiring)}</span>
                })}</dd>
                <dt>{t!(i18n, veeam.signals.malware)}</dt>
                <dd data-testid="signal-malware">{
                    let machines: Vec<String> = server.signals.raised.iter().filter_map(|s| s.strip_prefix("malware:")).map(str::to_owned).collect();
                    if machines.is_empty() {
                        t!(i18n, veeam.signals.none).into_any()
                    } else {
                        view! { <span class="badge badge-failed">{machines.join(", ")}</span> }.into_any()
                    }
                }</dd>
            </dl>
            {(!server.signals.notes.is_empty()).then(|| {
                let notes = server.signals.notes.clone();
                view! {
                    <ul class="alert alert-warning" data-testid="signal-notes">
                        {notes.into_iter().map(|n| view! { <li>{move || signal_note(i18n.get_locale(), &n)}</li> }).collect_view()}
                    </ul>
                }
            })}
            {server.last_error.clone().filter(|_| status != ServerStatus::Ok).map(|e| view! {
                <p class="alert alert-error" data-testid="server-error">{e}</p>
            })}
            {server.sync_progress.clone().map(|p| view! { <Progress progress=p /> })}
            <div class="actions">
                <ActionForm action=test attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button button-secondary" data-testid="test-server" disabled=move || test.pending().get()>
                        {move || if test.pending().get() { t_string!(i18n, veeam.servers.testing).to_string() } else { t_string!(i18n, veeam.servers.test).to_string() }}
                    </button>
                </ActionForm>
                <ActionForm action=sync attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button" data-testid="sync-server" disabled=syncing>
                        {t!(i18n, veeam.servers.sync)}
                    </button>
                </ActionForm>
                <details class="confirm">
                    <summary class="button button-secondary">{t!(i18n, veeam.servers.edit)}</summary>
                    <ActionForm action=update attr:class="form form-grid">
                        <input type="hidden" name="id" value=id />
                        <ServerFields server=Some(for_edit) error=update_error prefix=format!("edit-{id}") />
                        <div class="span-2">
                            <button type="submit" class="button">{t!(i18n, veeam.servers.save)}</button>
                        </div>
                    </ActionForm>
                </details>
                <details class="confirm">
                    <summary class="button button-danger">{t!(i18n, veeam.servers.delete)}</summary>
                    <ActionForm action=delete attr:class="form">
                        <input type="hidden" name="id" value=id />
                        <p>{t!(i18n, veeam.servers.delete_confirm)}</p>
                        <button type="submit" class="button button-danger">{t!(i18n, veeam.servers.delete)}</button>
                    </ActionForm>
                </details>
            </div>
        </li>
    }
}

/// What a signal the account could not read means, in words.
fn signal_note(locale: Locale, note: &str) -> String {
    match note {
        "license_forbidden" => td_string!(locale, veeam.signals.license_forbidden).to_string(),
        "config_backup_forbidden" => td_string!(locale, veeam.signals.config_backup_forbidden).to_string(),
        "malware_forbidden" => td_string!(locale, veeam.signals.malware_forbidden).to_string(),
        other => td_string!(
            locale,
            veeam.signals.unavailable,
            what = other.trim_end_matches("_unavailable").to_owned()
        )
        .to_string(),
    }
}
