//! `/notifications`: the delivery log: every message to every channel,
//! its status, tries and last error, with a resend button, and the
//! worker's health.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::notify::{ResendDelivery, delivery_log},
    components::{
        auth::{LoadError, Protected},
        form::{FormAlert, last_error},
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    i18n::*,
    model::user::Role,
    pages::notify_settings::event_name,
};

/// The delivery log page.
#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let status = move || query.with(|q| q.get("status")).unwrap_or_default();
    let resend = ServerAction::<ResendDelivery>::new();
    let log =
        Resource::new(move || (status(), resend.version().get()), |(status, _)| delivery_log(Some(status)));
    let error = last_error(resend.value());
    view! {
        <Protected min=Role::Admin>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, deliveries.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, deliveries.intro).to_string())
            />
            <form method="get" action="/notifications" class="form inline-form filters">
                <label>
                    <span>{t!(i18n, deliveries.status)}</span>
                    <select name="status">
                        {["", "pending", "sent", "dead"].into_iter().map(|s| view! {
                            <option value=s selected=move || status() == s>{move || status_text(i18n.get_locale(), s)}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button button-secondary">{t!(i18n, common.filter)}</button>
            </form>
            <FormAlert error=error />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(log) => {
                            let name_of = |id: i64| log.channels.iter().find(|c| c.0 == id).map(|c| format!("{} ({})", c.1, c.2)).unwrap_or_else(|| format!("#{id}"));
                            let rows = log.deliveries.iter().map(|d| {
                                let id = d.id;
                                let can_resend = d.status != "pending";
                                view! {
                                    <tr data-testid="delivery-row" data-status=d.status.clone()>
                                        <td><DateTime at=d.created_at /></td>
                                        <td>{name_of(d.channel_id)}</td>
                                        <td>{let e = d.event.clone(); move || event_name(i18n.get_locale(), &e)}</td>
                                        <td>{match d.job_id {
                                            Some(job) => view! { <a href=format!("/jobs/{job}")>{d.subject.clone()}</a> }.into_any(),
                                            None => view! { <span>{d.subject.clone()}</span> }.into_any(),
                                        }}</td>
                                        <td><span class=format!("badge badge-{}", match d.status.as_str() { "sent" => "ok", "dead" => "failed", _ => "warning" })>
                                            {let s = d.status.clone(); move || status_text(i18n.get_locale(), &s)}
                                        </span></td>
                                        <td>{d.attempts}</td>
                                        <td class="message">{d.last_error.clone().unwrap_or_default()}</td>
                                        <td>{can_resend.then(|| view! {
                                            <ActionForm action=resend attr:class="inline">
                                                <input type="hidden" name="id" value=id />
                                                <button type="submit" class="button button-secondary button-small">{t!(i18n, deliveries.resend)}</button>
                                            </ActionForm>
                                        })}</td>
                                    </tr>
                                }
                            }).collect_view();
                            view! {
                                <p class="hint" data-testid="worker-health">
                                    {t!(i18n, deliveries.queue, count = log.queue)} " · " {t!(i18n, deliveries.last_loop)} " "
                                    {match log.last_loop_at {
                                        Some(at) => view! { <DateTime at=at /> }.into_any(),
                                        None => view! { <span>"—"</span> }.into_any(),
                                    }}
                                </p>
                                {if log.deliveries.is_empty() {
                                    view! { <EmptyState message=Signal::derive(move || t_string!(i18n, deliveries.empty).to_string()) /> }.into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="table" data-testid="deliveries-table">
                                                <thead><tr>
                                                    <th>{t!(i18n, deliveries.time)}</th>
                                                    <th>{t!(i18n, deliveries.channel)}</th>
                                                    <th>{t!(i18n, deliveries.event)}</th>
                                                    <th>{t!(i18n, deliveries.subject)}</th>
                                                    <th>{t!(i18n, deliveries.status)}</th>
                                                    <th>{t!(i18n, deliveries.attempts)}</th>
                                                    <th>{t!(i18n, deliveries.last_error)}</th>
                                                    <th>{t!(i18n, common.actions)}</th>
                                                </tr></thead>
                                                <tbody>{rows}</tbody>
                                            </table>
                                        </div>
                                    }.into_any()
                                }}
                                {(!log.suppressed.is_empty()).then(|| {
                                    let count = log.suppressed.len();
                                    view! {
                                        <details class="card" data-testid="suppressed">
                                            <summary>{t!(i18n, deliveries.held_back, count = count)}</summary>
                                            <p class="hint">{t!(i18n, deliveries.held_back_intro)}</p>
                                            <ul>
                                                {log.suppressed.iter().map(|h| {
                                                    let event = h.event.clone();
                                                    let reason = h.reason.clone();
                                                    view! {
                                                        <li>
                                                            <DateTime at=h.occurred_at /> " · " {move || event_name(i18n.get_locale(), &event)} " · "
                                                            {h.subject.clone()} " · "
                                                            {move || if reason == "maintenance" { t_string!(i18n, deliveries.reason_maintenance).to_string() } else { t_string!(i18n, deliveries.reason_correlated).to_string() }}
                                                        </li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                        </details>
                                    }
                                })}
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </Protected>
    }
}

fn status_text(locale: Locale, status: &str) -> String {
    match status {
        "pending" => td_string!(locale, deliveries.pending).to_string(),
        "sent" => td_string!(locale, deliveries.sent).to_string(),
        "dead" => td_string!(locale, deliveries.dead).to_string(),
        _ => td_string!(locale, deliveries.any).to_string(),
    }
}
