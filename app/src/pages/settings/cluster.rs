//! `/settings/cluster`: the instances that share the database
//! (administrators): which one leads the periodic work that runs once
//! (the monitor, Veeam syncs, scheduled reports, backups, retention),
//! since when, and when each was last seen. On SQLite there is one.

use leptos::prelude::*;

use crate::{
    api::ops::cluster_overview,
    components::{
        auth::{LoadError, Protected},
        page::PageHeader,
        time::DateTime,
    },
    i18n::*,
    model::{ops::ClusterPage, user::Role},
};

/// The cluster page.
#[component]
pub fn ClusterSettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    let data = Resource::new(|| (), |_| cluster_overview());
    view! {
        <Protected min=Role::Admin>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, cluster.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, cluster.intro).to_string())
            />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) => view! { <Cluster page=page /> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Cluster(page: ClusterPage) -> impl IntoView {
    let i18n = use_i18n();
    let single = page.backend == "sqlite";
    let standby = page.standby_tasks.join(", ");
    view! {
        <section class="card" data-testid="cluster-leader">
            <h2>{t!(i18n, cluster.leader)}</h2>
            {single.then(|| view! { <p class="hint" data-testid="cluster-single">{t!(i18n, cluster.single)}</p> })}
            <dl class="facts">
                <dt>{t!(i18n, cluster.leader)}</dt>
                <dd data-testid="cluster-leader-id">{match page.leader_id.clone() {
                    Some(id) => view! { <code>{id}</code> }.into_any(),
                    None => t!(i18n, cluster.no_leader).into_any(),
                }}</dd>
                <dt>{t!(i18n, cluster.since)}</dt>
                <dd>{page.leader_since.map(|at| view! { <DateTime at=at /> })}</dd>
                <dt>{t!(i18n, cluster.heartbeat)}</dt>
                <dd>{page.leader_heartbeat_at.map(|at| view! { <DateTime at=at /> })}</dd>
                <dt>{t!(i18n, cluster.epoch)}</dt>
                <dd>{page.epoch}</dd>
                <dt>{t!(i18n, cluster.standby)}</dt>
                <dd data-testid="cluster-standby">{if standby.is_empty() { "—".to_owned() } else { standby }}</dd>
            </dl>
            <p class="hint">{t!(i18n, cluster.hint)}</p>
        </section>
        <section class="card" data-testid="cluster-instances">
            <h2>{t!(i18n, cluster.instances)}</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, cluster.instance)}</th>
                            <th scope="col">{t!(i18n, cluster.host)}</th>
                            <th scope="col">{t!(i18n, cluster.state)}</th>
                            <th scope="col">{t!(i18n, cluster.started)}</th>
                            <th scope="col">{t!(i18n, cluster.last_seen)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.instances.into_iter().map(|i| view! {
                            <tr data-testid="cluster-instance" data-leading=i.leading.to_string() data-alive=i.alive.to_string()>
                                <td><code>{i.id.clone()}</code>
                                    {i.this_one.then(|| view! { " " <span class="muted">{t!(i18n, cluster.this_one)}</span> })}
                                </td>
                                <td>{i.hostname.clone()} " " <small class="muted">{i.address.clone()} " · " {i.version.clone()}</small></td>
                                <td>{if i.leading {
                                    view! { <span class="badge badge-ok">{t!(i18n, cluster.leading)}</span> }.into_any()
                                } else if i.alive {
                                    view! { <span class="badge">{t!(i18n, cluster.following)}</span> }.into_any()
                                } else {
                                    view! { <span class="badge badge-warning">{t!(i18n, cluster.gone)}</span> }.into_any()
                                }}</td>
                                <td><DateTime at=i.started_at /></td>
                                <td><DateTime at=i.last_seen_at /></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}
