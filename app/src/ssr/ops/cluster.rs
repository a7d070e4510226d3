//! Settings → Cluster: the instances that share the database, which one
//! leads the periodic work that runs once, and since when (see
//! `infra::cluster`).

use chrono::Utc;

use crate::{
    error::AppError,
    model::{
        ops::{ClusterInstance, ClusterPage},
        user::Role,
    },
    ssr::{
        accounts::{Access, RequestInfo},
        infra::{cluster, state::AppState},
    },
};

/// The page's data (administrators).
pub async fn page(state: &AppState, info: &RequestInfo) -> Result<ClusterPage, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let failed = |e: sqlx::Error| {
        tracing::error!(error = %e, "cannot read the cluster's state");
        AppError::Internal
    };
    let now = Utc::now();
    let leader = cluster::leader(&state.db).await.map_err(failed)?;
    let rows = cluster::instances(&state.db).await.map_err(failed)?;
    let me = state.cluster.me();
    // A leader row whose heartbeat stopped names nobody: the lead is being
    // taken over.
    let leader = leader.filter(|l| l.heartbeat_at > now - cluster::INSTANCE_GONE_AFTER);
    let leader_id = leader.as_ref().map(|l| l.instance_id.clone());
    let instances = rows
        .into_iter()
        .map(|row| {
            let alive = row.last_seen_at > now - cluster::INSTANCE_GONE_AFTER;
            ClusterInstance {
                leading: alive && leader_id.as_deref() == Some(row.id.as_str()),
                this_one: row.id == me.id,
                alive,
                id: row.id,
                hostname: row.hostname,
                address: row.address,
                version: row.version,
                started_at: row.started_at,
                last_seen_at: row.last_seen_at,
            }
        })
        .collect();
    let leading = state.cluster.is_leading();
    let standby_tasks =
        state.tasks.status().into_iter().filter(|t| t.leader_only && !leading).map(|t| t.name).collect();
    Ok(ClusterPage {
        backend: state.db.backend().as_str().to_owned(),
        leader_since: leader.as_ref().map(|l| l.since),
        leader_heartbeat_at: leader.as_ref().map(|l| l.heartbeat_at),
        epoch: leader.as_ref().map_or(0, |l| l.epoch),
        leader_id,
        instances,
        standby_tasks,
    })
}
