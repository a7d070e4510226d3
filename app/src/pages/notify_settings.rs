//! Settings → Notifications (administrators): channels (with "send
//! test"), rules and maintenance windows. Plain forms: they work before
//! the WASM has loaded; CSS shows only the fields of the chosen kind.

use leptos::prelude::*;

use crate::{
    api::notify::{
        DeleteChannel, DeleteRule, DeleteWindow, NotifySettingsPage, SaveChannel, SaveRule, SaveWindow,
        TestChannel, notify_settings,
    },
    components::{
        auth::LoadError,
        form::{FieldError, FormAlert, last_error},
        page::EmptyState,
    },
    error::AppError,
    i18n::*,
    model::notify::{Channel, ChannelKind, JobFilter, MaintenanceWindow, Rule},
};

const EVENTS: [&str; 15] = [
    "run_failed",
    "run_warning",
    "run_missed",
    "job_late",
    "job_overdue",
    "job_recovered",
    "veeam_unreachable",
    "veeam_recovered",
    "repository_low_space",
    "console_degraded",
    "console_recovered",
    "delivery_dead",
    "console_backup_failed",
    "console_disk_low",
    "console_error_rate",
];

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// An event kind in words.
pub fn event_name(locale: Locale, event: &str) -> String {
    match event {
        "run_failed" => td_string!(locale, deliveries.events.run_failed).to_string(),
        "run_warning" => td_string!(locale, deliveries.events.run_warning).to_string(),
        "run_missed" => td_string!(locale, deliveries.events.run_missed).to_string(),
        "job_late" => td_string!(locale, deliveries.events.job_late).to_string(),
        "job_overdue" => td_string!(locale, deliveries.events.job_overdue).to_string(),
        "job_recovered" => td_string!(locale, deliveries.events.job_recovered).to_string(),
        "veeam_unreachable" => td_string!(locale, deliveries.events.veeam_unreachable).to_string(),
        "veeam_recovered" => td_string!(locale, deliveries.events.veeam_recovered).to_string(),
        "repository_low_space" => td_string!(locale, deliveries.events.repository_low_space).to_string(),
        "console_degraded" => td_string!(locale, deliveries.events.console_degraded).to_string(),
        "console_recovered" => td_string!(locale, deliveries.events.console_recovered).to_string(),
        "console_backup_failed" => td_string!(locale, deliveries.events.console_backup_failed).to_string(),
        "console_disk_low" => td_string!(locale, deliveries.events.console_disk_low).to_string(),
        "console_error_rate" => td_string!(locale, deliveries.events.console_error_rate).to_string(),
        "delivery_dead" => td_string!(locale, deliveries.events.delivery_dead).to_string(),
        "veeam_job_disabled" => td_string!(locale, deliveries.events.veeam_job_disabled).to_string(),
        "veeam_job_unscheduled" => td_string!(locale, deliveries.events.veeam_job_unscheduled).to_string(),
        "rpo_breached" => td_string!(locale, deliveries.events.rpo_breached).to_string(),
        "rpo_met" => td_string!(locale, deliveries.events.rpo_met).to_string(),
        "veeam_malware_detected" => td_string!(locale, deliveries.events.veeam_malware_detected).to_string(),
        "veeam_config_backup_stale" => {
            td_string!(locale, deliveries.events.veeam_config_backup_stale).to_string()
        }
        "veeam_license_expiring" => td_string!(locale, deliveries.events.veeam_license_expiring).to_string(),
        "veeam_signal_cleared" => td_string!(locale, deliveries.events.veeam_signal_cleared).to_string(),
        "job_acknowledged" => td_string!(locale, deliveries.events.job_acknowledged).to_string(),
        "run_anomaly" => td_string!(locale, deliveries.events.run_anomaly).to_string(),
        other => other.to_owned(),
    }
}

fn day_name(locale: Locale, day: &str) -> String {
    match day {
        "mon" => td_string!(locale, maintenance.days.mon).to_string(),
        "tue" => td_string!(locale, maintenance.days.tue).to_string(),
        "wed" => td_string!(locale, maintenance.days.wed).to_string(),
        "thu" => td_string!(locale, maintenance.days.thu).to_string(),
        "fri" => td_string!(locale, maintenance.days.fri).to_string(),
        "sat" => td_string!(locale, maintenance.days.sat).to_string(),
        _ => td_string!(locale, maintenance.days.sun).to_string(),
    }
}

fn kind_name(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Email => "E-mail",
        ChannelKind::Teams => "Microsoft Teams",
        ChannelKind::Slack => "Slack",
        ChannelKind::Discord => "Discord",
        ChannelKind::Webhook => "Webhook",
    }
}

/// The notification settings: three sections.
#[component]
pub fn NotificationSettings() -> impl IntoView {
    let i18n = use_i18n();
    let save_channel = ServerAction::<SaveChannel>::new();
    let delete_channel = ServerAction::<DeleteChannel>::new();
    let test_channel = ServerAction::<TestChannel>::new();
    let save_rule = ServerAction::<SaveRule>::new();
    let delete_rule = ServerAction::<DeleteRule>::new();
    let save_window = ServerAction::<SaveWindow>::new();
    let delete_window = ServerAction::<DeleteWindow>::new();
    let data = Resource::new(
        move || {
            (
                save_channel.version().get(),
                delete_channel.version().get(),
                save_rule.version().get(),
                delete_rule.version().get(),
                save_window.version().get(),
                delete_window.version().get(),
            )
        },
        |_| notify_settings(),
    );
    let actions = Actions {
        save_channel,
        delete_channel,
        test_channel,
        save_rule,
        delete_rule,
        save_window,
        delete_window,
    };
    view! {
        <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(page) => view! {
                        <Channels page=page.clone() actions=actions />
                        <Rules page=page.clone() actions=actions />
                        <Windows page=page actions=actions />
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    save_channel: ServerAction<SaveChannel>,
    delete_channel: ServerAction<DeleteChannel>,
    test_channel: ServerAction<TestChannel>,
    save_rule: ServerAction<SaveRule>,
    delete_rule: ServerAction<DeleteRule>,
    save_window: ServerAction<SaveWindow>,
    delete_window: ServerAction<DeleteWindow>,
}

/// "Saved." after a save, the error otherwise.
#[component]
fn Outcome(saved: Signal<bool>, error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        {move || saved.get().then(|| view! {
            <p class="alert alert-ok" role="status" data-testid="saved">{t!(i18n, notify.ui.saved)}</p>
        })}
        <FormAlert error=error />
    }
}

#[component]
fn Channels(page: NotifySettingsPage, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let test = actions.test_channel;
    let channels = page.channels.clone();
    view! {
        <section class="card" id="channels" data-testid="notification-channels">
            <h2>{t!(i18n, notify.ui.channels)}</h2>
            <p class="hint">{t!(i18n, notify.ui.channels_intro)}</p>
            {move || match test.value().get() {
                Some(Ok(outcome)) => Some(view! {
                    <p class=if outcome.ok { "alert alert-ok" } else { "alert alert-error" } role="status" data-testid="channel-test-outcome">
                        {outcome.message.clone()}
                    </p>
                }),
                _ => None,
            }}
            <FormAlert error=last_error(test.value()) />
            <FormAlert error=last_error(actions.delete_channel.value()) />
            {if channels.is_empty() {
                view! { <EmptyState message=Signal::derive(move || t_string!(i18n, notify.ui.channels_empty).to_string()) /> }.into_any()
            } else {
                view! {
                    <ul class="server-list">
                        {channels.into_iter().map(|c| view! { <ChannelCard channel=c actions=actions /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <details class="confirm" open=page.channels.is_empty()>
                <summary class="button">{t!(i18n, notify.ui.add_channel)}</summary>
                <ActionForm action=actions.save_channel attr:class="form form-grid channel-form" attr:data-testid="add-channel">
                    <Outcome saved=Signal::derive(move || matches!(actions.save_channel.value().get(), Some(Ok(_)))) error=last_error(actions.save_channel.value()) />
                    <ChannelFields channel=None error=last_error(actions.save_channel.value()) prefix="new-channel".to_owned() />
                    <div class="span-2">
                        <button type="submit" class="button" disabled=move || actions.save_channel.pending().get()>
                            {t!(i18n, notify.ui.add_channel)}
                        </button>
                    </div>
                </ActionForm>
            </details>
        </section>
    }
}

#[component]
fn ChannelCard(channel: Channel, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let id = channel.id;
    let test = actions.test_channel;
    let summary = match channel.kind {
        ChannelKind::Email => format!(
            "{} → {}",
            channel.config.host.clone().unwrap_or_default(),
            channel.config.to.clone().unwrap_or_default().join(", ")
        ),
        _ => channel.config.url_host.clone().unwrap_or_default(),
    };
    let for_edit = channel.clone();
    view! {
        <li class="server-card" data-testid="channel" data-name=channel.name.clone()>
            <div class="server-head">
                <h3>{channel.name.clone()}</h3>
                <span class="badge">{kind_name(channel.kind)}</span>
                <span class="badge">{channel.locale.to_uppercase()}</span>
                {(!channel.enabled).then(|| view! { <span class="badge badge-warning">{t!(i18n, notify.ui.disabled)}</span> })}
            </div>
            <p class="hint"><code>{summary}</code></p>
            <div class="actions">
                <ActionForm action=test attr:class="inline">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button button-secondary" data-testid="test-channel" disabled=move || test.pending().get()>
                        {move || if test.pending().get() { t_string!(i18n, notify.ui.testing).to_string() } else { t_string!(i18n, notify.ui.test).to_string() }}
                    </button>
                </ActionForm>
                <details class="confirm">
                    <summary class="button button-secondary">{t!(i18n, notify.ui.edit)}</summary>
                    <ActionForm action=actions.save_channel attr:class="form form-grid channel-form">
                        <input type="hidden" name="form[id]" value=id />
                        <input type="hidden" name="form[kind]" value=for_edit.kind.as_str() />
                        <ChannelFields channel=Some(for_edit) error=last_error(actions.save_channel.value()) prefix=format!("channel-{id}") />
                        <div class="span-2"><button type="submit" class="button">{t!(i18n, notify.ui.save)}</button></div>
                    </ActionForm>
                </details>
                <details class="confirm">
                    <summary class="button button-danger">{t!(i18n, notify.ui.delete)}</summary>
                    <ActionForm action=actions.delete_channel attr:class="form">
                        <input type="hidden" name="id" value=id />
                        <p>{t!(i18n, notify.ui.delete_channel_confirm)}</p>
                        <button type="submit" class="button button-danger">{t!(i18n, notify.ui.delete)}</button>
                    </ActionForm>
                </details>
            </div>
        </li>
    }
}

#[component]
fn ChannelFields(channel: Option<Channel>, error: Signal<Option<AppError>>, prefix: String) -> impl IntoView {
    let i18n = use_i18n();
    let id = move |field: &str| format!("{prefix}-{field}");
    let editing = channel.is_some();
    let kind = channel.as_ref().map(|c| c.kind);
    let name = channel.as_ref().map(|c| c.name.clone()).unwrap_or_default();
    let locale =
        channel.as_ref().map_or_else(|| i18n.get_locale_untracked().to_string(), |c| c.locale.clone());
    let enabled = channel.as_ref().is_none_or(|c| c.enabled);
    let config = channel.map(|c| c.config).unwrap_or_default();
    let show_email = kind.is_none_or(|k| k == ChannelKind::Email);
    let show_hook = kind.is_none_or(|k| k != ChannelKind::Email);
    view! {
        <div class="field">
            <label for=id("name")>{t!(i18n, notify.ui.name)}</label>
            <input id=id("name") type="text" name="form[name]" required maxlength="200" value=name />
            <FieldError error=error field="name" />
        </div>
        {(!editing).then(|| view! {
            <div class="field">
                <label for=id("kind")>{t!(i18n, notify.ui.kind)}</label>
                <select id=id("kind") name="form[kind]" class="channel-kind">
                    {[ChannelKind::Email, ChannelKind::Teams, ChannelKind::Slack, ChannelKind::Discord, ChannelKind::Webhook]
                        .into_iter()
                        .map(|k| view! { <option value=k.as_str()>{kind_name(k)}</option> })
                        .collect_view()}
                </select>
                <FieldError error=error field="kind" />
            </div>
        })}
        <div class="field">
            <label for=id("locale")>{t!(i18n, notify.ui.locale)}</label>
            <select id=id("locale") name="form[locale]">
                <option value="ja" selected=locale == "ja">"日本語"</option>
                <option value="en" selected=locale == "en">"English"</option>
            </select>
        </div>
        {show_email.then(|| view! {
            <fieldset class="field span-2 email-fields form-grid">
                <legend>{t!(i18n, notify.ui.email_settings)}</legend>
                <div class="field">
                    <label for=id("host")>{t!(i18n, notify.ui.host)}</label>
                    <input id=id("host") type="text" name="form[host]" value=config.host.clone() autocapitalize="none" spellcheck="false" placeholder="smtp.example.co.jp" />
                    <FieldError error=error field="config.host" />
                </div>
                <div class="field">
                    <label for=id("port")>{t!(i18n, notify.ui.port)}</label>
                    <input id=id("port") type="number" name="form[port]" min="1" max="65535" value=config.port.unwrap_or(587) />
                    <FieldError error=error field="config.port" />
                </div>
                <div class="field">
                    <label for=id("tls")>{t!(i18n, notify.ui.tls)}</label>
                    <select id=id("tls") name="form[tls]">
                        {[("starttls", "STARTTLS (587)"), ("tls", "TLS (465)"), ("none", "—")].into_iter().map(|(v, label)| view! {
                            <option value=v selected=config.tls.as_deref().unwrap_or("starttls") == v>{label}</option>
                        }).collect_view()}
                    </select>
                    <FieldError error=error field="config.tls" />
                </div>
                <div class="field">
                    <label for=id("username")>{t!(i18n, notify.ui.username)}</label>
                    <input id=id("username") type="text" name="form[username]" value=config.username.clone() autocomplete="off" autocapitalize="none" />
                </div>
                <div class="field">
                    <label for=id("password")>{t!(i18n, notify.ui.password)}</label>
                    <input id=id("password") type="password" name="form[password]" autocomplete="new-password" />
                    {config.password_set.then(|| view! { <small class="hint">{t!(i18n, notify.ui.secret_keep)}</small> })}
                </div>
                <div class="field">
                    <label for=id("from")>{t!(i18n, notify.ui.from)}</label>
                    <input id=id("from") type="text" name="form[from]" value=config.from.clone() placeholder="backup@example.co.jp" />
                    <FieldError error=error field="config.from" />
                </div>
                <div class="field span-2">
                    <label for=id("to")>{t!(i18n, notify.ui.to)}</label>
                    <input id=id("to") type="text" name="form[to]" value=config.to.clone().unwrap_or_default().join(", ") placeholder="ops@example.co.jp, dba@example.co.jp" />
                    <FieldError error=error field="config.to" />
                </div>
                <div class="field span-2">
                    <label for=id("pem")>{t!(i18n, notify.ui.trust_cert)}</label>
                    <textarea id=id("pem") name="form[trust_cert_pem]" rows="3" class="mono" spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----">
                        {config.trust_cert_pem.clone().unwrap_or_default()}
                    </textarea>
                    <FieldError error=error field="config.trust_cert_pem" />
                </div>
            </fieldset>
        })}
        {show_hook.then(|| view! {
            <fieldset class="field span-2 hook-fields form-grid">
                <legend>{t!(i18n, notify.ui.webhook_settings)}</legend>
                <div class="field span-2">
                    <label for=id("url")>{t!(i18n, notify.ui.url)}</label>
                    <input id=id("url") type="text" name="form[url]" autocapitalize="none" spellcheck="false" placeholder="https://…" />
                    {config.url_host.clone().map(|host| view! { <small class="hint">{t!(i18n, notify.ui.url_keep)} " (" {host} ")"</small> })}
                    <FieldError error=error field="config.url" />
                </div>
                <div class="field span-2 secret-field">
                    <label for=id("secret")>{t!(i18n, notify.ui.secret)}</label>
                    <input id=id("secret") type="password" name="form[secret]" autocomplete="new-password" />
                    <small class="hint">{t!(i18n, notify.ui.secret_hint)}</small>
                </div>
            </fieldset>
        })}
        <label class="choice span-2">
            <input type="checkbox" name="form[enabled]" value="true" checked=enabled />
            <span>{t!(i18n, notify.ui.enabled)}</span>
        </label>
    }
}

/// The jobs-covered fieldset of rules and windows.
#[component]
fn FilterFields(
    filter: JobFilter,
    jobs: Vec<(i64, String)>,
    error: Signal<Option<AppError>>,
    prefix: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let tags = filter.tags.join(", ");
    let chosen = filter.job_ids.clone();
    let kind = filter.kind.clone();
    view! {
        <fieldset class="field span-2 job-filter">
            <legend>{t!(i18n, notify.ui.jobs_covered)}</legend>
            {[("all", 0), ("tags", 1), ("jobs", 2)].into_iter().map(|(value, n)| {
                let label = move || match n {
                    0 => t_string!(i18n, notify.ui.filter_all).to_string(),
                    1 => t_string!(i18n, notify.ui.filter_tags).to_string(),
                    _ => t_string!(i18n, notify.ui.filter_jobs).to_string(),
                };
                view! {
                    <label class="choice">
                        <input type="radio" name="form[filter]" value=value checked=kind == value || (kind.is_empty() && value == "all") />
                        <span>{label}</span>
                    </label>
                }
            }).collect_view()}
            <div class="field">
                <label for=format!("{prefix}-tags")>{t!(i18n, notify.ui.tags)}</label>
                <input id=format!("{prefix}-tags") type="text" name="form[tags]" value=tags placeholder="tokyo, sql" />
            </div>
            <details>
                <summary>{t!(i18n, notify.ui.choose_jobs)} " (" {chosen.len()} ")"</summary>
                <div class="checks job-checks">
                    {jobs.into_iter().map(|(id, name)| view! {
                        <label class="choice">
                            <input type="checkbox" name=format!("form[job_{id}]") value="on" checked=chosen.contains(&id) />
                            <span>{name}</span>
                        </label>
                    }).collect_view()}
                </div>
            </details>
            <FieldError error=error field="job_filter" />
        </fieldset>
    }
}

#[component]
fn Rules(page: NotifySettingsPage, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let rules = page.rules.clone();
    let channel_names: Vec<(i64, String)> = page.channels.iter().map(|c| (c.id, c.name.clone())).collect();
    let names = channel_names.clone();
    let page_rows = page.clone();
    let no_rules = page.rules.is_empty();
    view! {
        <section class="card" id="rules" data-testid="notification-rules">
            <h2>{t!(i18n, notify.ui.rules)}</h2>
            <p class="hint">{t!(i18n, notify.ui.rules_intro)}</p>
            <FormAlert error=last_error(actions.delete_rule.value()) />
            {if rules.is_empty() {
                view! { <EmptyState message=Signal::derive(move || t_string!(i18n, notify.ui.rules_empty).to_string()) /> }.into_any()
            } else {
                view! {
                    <ul class="server-list">
                        {rules.into_iter().map(|rule| {
                            let page = page_rows.clone();
                            let id = rule.id;
                            let events = rule.events.clone();
                            let sends_to: Vec<String> = rule.channel_ids.iter()
                                .filter_map(|cid| names.iter().find(|(i, _)| i == cid).map(|(_, n)| n.clone()))
                                .collect();
                            let for_edit = rule.clone();
                            view! {
                                <li class="server-card" data-testid="rule" data-name=rule.name.clone()>
                                    <div class="server-head">
                                        <h3>{rule.name.clone()}</h3>
                                        {(!rule.enabled).then(|| view! { <span class="badge badge-warning">{t!(i18n, notify.ui.disabled)}</span> })}
                                    </div>
                                    <p>{move || events.iter().map(|e| event_name(i18n.get_locale(), e)).collect::<Vec<_>>().join(", ")}
                                        " → " {sends_to.join(", ")}</p>
                                    <div class="actions">
                                        <details class="confirm">
                                            <summary class="button button-secondary">{t!(i18n, notify.ui.edit)}</summary>
                                            <ActionForm action=actions.save_rule attr:class="form form-grid">
                                                <input type="hidden" name="form[id]" value=id />
                                                <RuleFields rule=Some(for_edit) page=page.clone() error=last_error(actions.save_rule.value()) prefix=format!("rule-{id}") />
                                                <div class="span-2"><button type="submit" class="button">{t!(i18n, notify.ui.save)}</button></div>
                                            </ActionForm>
                                        </details>
                                        <details class="confirm">
                                            <summary class="button button-danger">{t!(i18n, notify.ui.delete)}</summary>
                                            <ActionForm action=actions.delete_rule attr:class="form">
                                                <input type="hidden" name="id" value=id />
                                                <button type="submit" class="button button-danger">{t!(i18n, notify.ui.delete)}</button>
                                            </ActionForm>
                                        </details>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {if channel_names.is_empty() {
                view! { <p class="hint">{t!(i18n, notify.ui.rules_need_channel)}</p> }.into_any()
            } else {
                view! {
                    <details class="confirm" open=no_rules>
                        <summary class="button">{t!(i18n, notify.ui.add_rule)}</summary>
                        <ActionForm action=actions.save_rule attr:class="form form-grid" attr:data-testid="add-rule">
                            <Outcome saved=Signal::derive(move || matches!(actions.save_rule.value().get(), Some(Ok(_)))) error=last_error(actions.save_rule.value()) />
                            <RuleFields rule=None page=page.clone() error=last_error(actions.save_rule.value()) prefix="new-rule".to_owned() />
                            <div class="span-2">
                                <button type="submit" class="button" disabled=move || actions.save_rule.pending().get()>{t!(i18n, notify.ui.add_rule)}</button>
                            </div>
                        </ActionForm>
                    </details>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RuleFields(
    rule: Option<Rule>,
    page: NotifySettingsPage,
    error: Signal<Option<AppError>>,
    prefix: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let r = rule.unwrap_or(Rule {
        id: 0,
        name: String::new(),
        events: vec!["run_failed".into(), "run_missed".into(), "job_recovered".into()],
        channel_ids: vec![],
        job_filter: JobFilter { kind: "all".into(), ..JobFilter::default() },
        min_consecutive_failures: 1,
        repeat_every_hours: None,
        enabled: true,
    });
    let events = r.events.clone();
    let channel_ids = r.channel_ids.clone();
    view! {
        <div class="field span-2">
            <label for=format!("{prefix}-name")>{t!(i18n, notify.ui.name)}</label>
            <input id=format!("{prefix}-name") type="text" name="form[name]" required maxlength="200" value=r.name.clone() />
            <FieldError error=error field="name" />
        </div>
        <fieldset class="field span-2">
            <legend>{t!(i18n, notify.ui.events)}</legend>
            <div class="checks">
                {EVENTS.into_iter().map(|e| view! {
                    <label class="choice">
                        <input type="checkbox" name=format!("form[event_{e}]") value="on" checked=events.iter().any(|x| x == e) />
                        <span>{move || event_name(i18n.get_locale(), e)}</span>
                    </label>
                }).collect_view()}
            </div>
            <FieldError error=error field="events" />
        </fieldset>
        <fieldset class="field span-2">
            <legend>{t!(i18n, notify.ui.send_to)}</legend>
            <div class="checks">
                {page.channels.iter().map(|c| view! {
                    <label class="choice">
                        <input type="checkbox" name=format!("form[channel_{}]", c.id) value="on"
                            checked=channel_ids.contains(&c.id) || (channel_ids.is_empty() && page.channels.len() == 1) />
                        <span>{c.name.clone()}</span>
                    </label>
                }).collect_view()}
            </div>
            <FieldError error=error field="channel_ids" />
        </fieldset>
        <FilterFields filter=r.job_filter.clone() jobs=page.jobs.clone() error=error prefix=prefix.clone() />
        <div class="field">
            <label for=format!("{prefix}-min")>{t!(i18n, notify.ui.min_consecutive)}</label>
            <input id=format!("{prefix}-min") type="number" name="form[min_consecutive_failures]" min="1" max="100" value=r.min_consecutive_failures />
            <FieldError error=error field="min_consecutive_failures" />
        </div>
        <div class="field">
            <label for=format!("{prefix}-repeat")>{t!(i18n, notify.ui.repeat)}</label>
            <input id=format!("{prefix}-repeat") type="number" name="form[repeat_every_hours]" min="0" max="168"
                value=r.repeat_every_hours.map(|h| h.to_string()).unwrap_or_default() placeholder="—" />
            <small class="hint">{t!(i18n, notify.ui.repeat_hint)}</small>
            <FieldError error=error field="repeat_every_hours" />
        </div>
        <label class="choice span-2">
            <input type="checkbox" name="form[enabled]" value="true" checked=r.enabled />
            <span>{t!(i18n, notify.ui.enabled)}</span>
        </label>
    }
}

#[component]
fn Windows(page: NotifySettingsPage, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let windows = page.windows.clone();
    let page_rows = page.clone();
    view! {
        <section class="card" id="maintenance" data-testid="maintenance-windows">
            <h2>{t!(i18n, maintenance.title)}</h2>
            <p class="hint">{t!(i18n, maintenance.intro)}</p>
            <FormAlert error=last_error(actions.delete_window.value()) />
            {if windows.is_empty() {
                view! { <EmptyState message=Signal::derive(move || t_string!(i18n, maintenance.empty).to_string()) /> }.into_any()
            } else {
                view! {
                    <ul class="server-list">
                        {windows.into_iter().map(|w| {
                            let page = page_rows.clone();
                            let id = w.id;
                            let when = window_summary(&w);
                            let for_edit = w.clone();
                            view! {
                                <li class="server-card" data-testid="maintenance-window" data-name=w.name.clone()>
                                    <div class="server-head">
                                        <h3>{w.name.clone()}</h3>
                                        {w.active_now.then(|| view! { <span class="badge badge-warning">{t!(i18n, maintenance.active)}</span> })}
                                        {(!w.enabled).then(|| view! { <span class="badge">{t!(i18n, notify.ui.disabled)}</span> })}
                                    </div>
                                    <p>{move || when(i18n.get_locale())}</p>
                                    <div class="actions">
                                        <details class="confirm">
                                            <summary class="button button-secondary">{t!(i18n, notify.ui.edit)}</summary>
                                            <ActionForm action=actions.save_window attr:class="form form-grid">
                                                <input type="hidden" name="form[id]" value=id />
                                                <WindowFields window=Some(for_edit) page=page.clone() error=last_error(actions.save_window.value()) prefix=format!("window-{id}") />
                                                <div class="span-2"><button type="submit" class="button">{t!(i18n, notify.ui.save)}</button></div>
                                            </ActionForm>
                                        </details>
                                        <details class="confirm">
                                            <summary class="button button-danger">{t!(i18n, notify.ui.delete)}</summary>
                                            <ActionForm action=actions.delete_window attr:class="form">
                                                <input type="hidden" name="id" value=id />
                                                <button type="submit" class="button button-danger">{t!(i18n, notify.ui.delete)}</button>
                                            </ActionForm>
                                        </details>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <details class="confirm">
                <summary class="button">{t!(i18n, maintenance.add)}</summary>
                <ActionForm action=actions.save_window attr:class="form form-grid window-form" attr:data-testid="add-window">
                    <Outcome saved=Signal::derive(move || matches!(actions.save_window.value().get(), Some(Ok(_)))) error=last_error(actions.save_window.value()) />
                    <WindowFields window=None page=page.clone() error=last_error(actions.save_window.value()) prefix="new-window".to_owned() />
                    <div class="span-2">
                        <button type="submit" class="button" disabled=move || actions.save_window.pending().get()>{t!(i18n, maintenance.add)}</button>
                    </div>
                </ActionForm>
            </details>
        </section>
    }
}

/// When a window is, in words (in its own zone).
fn window_summary(w: &MaintenanceWindow) -> impl Fn(Locale) -> String + use<> {
    let w = w.clone();
    move |locale| match (w.kind.as_str(), &w.starts_local, &w.ends_local) {
        ("once", Some(start), Some(end)) => {
            format!("{} – {} ({})", start.replace('T', " "), end.replace('T', " "), w.time_zone)
        }
        _ => format!(
            "{} {}–{} ({})",
            w.weekdays.iter().map(|d| day_name(locale, d)).collect::<Vec<_>>().join(", "),
            w.start_time.clone().unwrap_or_default(),
            w.end_time.clone().unwrap_or_default(),
            w.time_zone
        ),
    }
}

#[component]
fn WindowFields(
    window: Option<MaintenanceWindow>,
    page: NotifySettingsPage,
    error: Signal<Option<AppError>>,
    prefix: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let w = window.unwrap_or(MaintenanceWindow {
        id: 0,
        name: String::new(),
        kind: "weekly".into(),
        starts_at: None,
        ends_at: None,
        weekdays: vec![],
        start_time: None,
        end_time: None,
        time_zone: page.default_timezone.clone(),
        job_filter: JobFilter { kind: "all".into(), ..JobFilter::default() },
        enabled: true,
        active_now: false,
        starts_local: None,
        ends_local: None,
    });
    let id = {
        let prefix = prefix.clone();
        move |f: &str| format!("{prefix}-{f}")
    };
    view! {
        <div class="field span-2">
            <label for=id("name")>{t!(i18n, notify.ui.name)}</label>
            <input id=id("name") type="text" name="form[name]" required maxlength="200" value=w.name.clone() />
            <FieldError error=error field="name" />
        </div>
        <fieldset class="field span-2 window-kind">
            <legend>{t!(i18n, maintenance.kind)}</legend>
            <label class="choice">
                <input type="radio" name="form[kind]" value="weekly" checked=w.kind == "weekly" />
                <span>{t!(i18n, maintenance.weekly)}</span>
            </label>
            <label class="choice">
                <input type="radio" name="form[kind]" value="once" checked=w.kind == "once" />
                <span>{t!(i18n, maintenance.once)}</span>
            </label>
            <FieldError error=error field="kind" />
        </fieldset>
        <fieldset class="field span-2 weekly-fields form-grid">
            <legend>{t!(i18n, maintenance.weekly)}</legend>
            <div class="checks span-2">
                {DAYS.into_iter().map(|d| view! {
                    <label class="choice">
                        <input type="checkbox" name=format!("form[day_{d}]") value="on" checked=w.weekdays.iter().any(|x| x == d) />
                        <span>{move || day_name(i18n.get_locale(), d)}</span>
                    </label>
                }).collect_view()}
            </div>
            <FieldError error=error field="weekdays" />
            <div class="field">
                <label for=id("start-time")>{t!(i18n, maintenance.start_time)}</label>
                <input id=id("start-time") type="time" name="form[start_time]" value=w.start_time.clone().unwrap_or_default() />
                <FieldError error=error field="start_time" />
            </div>
            <div class="field">
                <label for=id("end-time")>{t!(i18n, maintenance.end_time)}</label>
                <input id=id("end-time") type="time" name="form[end_time]" value=w.end_time.clone().unwrap_or_default() />
                <small class="hint">{t!(i18n, maintenance.overnight)}</small>
                <FieldError error=error field="end_time" />
            </div>
        </fieldset>
        <fieldset class="field span-2 once-fields form-grid">
            <legend>{t!(i18n, maintenance.once)}</legend>
            <div class="field">
                <label for=id("starts")>{t!(i18n, maintenance.starts_at)}</label>
                <input id=id("starts") type="datetime-local" name="form[starts_at]" value=w.starts_local.clone().unwrap_or_default() />
                <FieldError error=error field="starts_at" />
            </div>
            <div class="field">
                <label for=id("ends")>{t!(i18n, maintenance.ends_at)}</label>
                <input id=id("ends") type="datetime-local" name="form[ends_at]" value=w.ends_local.clone().unwrap_or_default() />
                <FieldError error=error field="ends_at" />
            </div>
        </fieldset>
        <div class="field">
            <label for=id("zone")>{t!(i18n, maintenance.time_zone)}</label>
            <input id=id("zone") type="text" name="form[time_zone]" value=w.time_zone.clone() autocapitalize="none" spellcheck="false" />
            <FieldError error=error field="time_zone" />
        </div>
        <FilterFields filter=w.job_filter.clone() jobs=page.jobs.clone() error=error prefix=prefix.clone() />
        <label class="choice span-2">
            <input type="checkbox" name="form[enabled]" value="true" checked=w.enabled />
            <span>{t!(i18n, notify.ui.enabled)}</span>
        </label>
    }
}
