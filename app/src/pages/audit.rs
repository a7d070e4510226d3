//! `/audit`: the audit log with filters (administrators only). The filters
//! are a GET form, so links to a filtered view can be shared and it works
//! without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::audit::list_audit,
    components::{
        auth::{LoadError, Protected},
        page::{EmptyState, PageHeader},
        time::DateTime,
    },
    i18n::*,
    model::audit::AuditQuery,
    model::user::Role,
};

/// The audit log page.
#[component]
pub fn AuditPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let entries = Resource::new(
        move || {
            (
                param("action"),
                param("actor"),
                param("since"),
                param("until"),
                param("outcome"),
                param("cursor"),
            )
        },
        |(action, actor, since, until, outcome, cursor)| {
            list_audit(AuditQuery { action, actor, since, until, outcome, cursor, ..AuditQuery::default() })
        },
    );
    let next_link = move |cursor: String| {
        let mut pairs: Vec<(String, String)> = query.with(|q| {
            ["action", "actor", "since", "until", "outcome"]
                .iter()
                .filter_map(|k| q.get(k).filter(|v| !v.is_empty()).map(|v| ((*k).to_owned(), v)))
                .collect()
        });
        pairs.push(("cursor".into(), cursor));
        let encoded: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("/audit?{encoded}")
    };
    view! {
        <Protected min=Role::Admin>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, audit.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, audit.intro).to_string())
            />
            <form method="get" action="/audit" class="card form form-grid filters">
                <label>
                    <span>{t!(i18n, audit.action)}</span>
                    <input type="text" name="action" value=move || param("action").unwrap_or_default() placeholder="auth." />
                </label>
                <label>
                    <span>{t!(i18n, audit.actor)}</span>
                    <input type="text" name="actor" value=move || param("actor").unwrap_or_default() />
                </label>
                <label>
                    <span>{t!(i18n, audit.since)}</span>
                    <input type="date" name="since" value=move || param("since").unwrap_or_default() />
                </label>
                <label>
                    <span>{t!(i18n, audit.until)}</span>
                    <input type="date" name="until" value=move || param("until").unwrap_or_default() />
                </label>
                <label>
                    <span>{t!(i18n, audit.outcome)}</span>
                    <select name="outcome">
                        <option value="">{t!(i18n, audit.any)}</option>
                        <option value="success" selected=move || param("outcome").as_deref() == Some("success")>{t!(i18n, audit.success)}</option>
                        <option value="failure" selected=move || param("outcome").as_deref() == Some("failure")>{t!(i18n, audit.failure)}</option>
                    </select>
                </label>
                <div>
                    <button type="submit" class="button">{t!(i18n, common.filter)}</button>
                    " "
                    <a href="/audit" class="button button-secondary">{t!(i18n, common.reset)}</a>
                </div>
            </form>
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match entries.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) if page.items.is_empty() => view! {
                            <EmptyState message=Signal::derive(move || t_string!(i18n, audit.empty).to_string()) />
                        }.into_any(),
                        Ok(page) => view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="audit-table">
                                    <thead>
                                        <tr>
                                            <th>{t!(i18n, audit.time)}</th>
                                            <th>{t!(i18n, audit.actor)}</th>
                                            <th>{t!(i18n, audit.action)}</th>
                                            <th>{t!(i18n, audit.target)}</th>
                                            <th>{t!(i18n, audit.client)}</th>
                                            <th>{t!(i18n, audit.outcome)}</th>
                                            <th>{t!(i18n, audit.details)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.items.into_iter().map(|e| view! {
                                            <tr class:row-failed=!e.success>
                                                <td><DateTime at=e.occurred_at /></td>
                                                <td>{e.actor_name.unwrap_or_default()}</td>
                                                <td><code>{e.action}</code></td>
                                                <td>{e.target_name.or(e.target_id).unwrap_or_default()}</td>
                                                <td>{e.client_ip.unwrap_or_default()}</td>
                                                <td>{if e.success {
                                                    view! { <span class="badge badge-ok">{t!(i18n, audit.success)}</span> }.into_any()
                                                } else {
                                                    view! { <span class="badge badge-fail">{t!(i18n, audit.failure)}</span> }.into_any()
                                                }}</td>
                                                <td class="details">{e.details.unwrap_or_default()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {page.next_cursor.map(|cursor| view! {
                                <p><a class="button button-secondary" href=next_link(cursor)>{t!(i18n, common.older)}</a></p>
                            })}
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}
