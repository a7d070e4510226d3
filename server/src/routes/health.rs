//! `GET /health`: liveness and readiness for load balancers and monitors.
//!
//! Anyone gets the verdict, `{"status": "ok" | "degraded" | "unavailable"}`,
//! with 200 for `ok` and 503 otherwise, so a load balancer needs nothing
//! else. The details (version, database, background tasks, the
//! notification queue, uptime) are for a signed-in user or an API token
//! with the `read` scope; credentials that do not check out only make the
//! caller anonymous, never an error.

use app::ssr::{
    accounts::auth::{self, Access},
    infra::{
        cluster::{self, Instance, LeaderRow},
        state::AppState,
        supervisor::{Condition, TaskKind, TaskStatus},
    },
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The verdict: what load balancers and anonymous callers see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything works.
    Ok,
    /// A periodic task is stalled (see [`Health::degraded`]).
    Degraded,
    /// The database does not answer.
    Unavailable,
}

impl Verdict {
    /// 200 when ok, else 503.
    pub fn status_code(self) -> StatusCode {
        match self {
            Verdict::Ok => StatusCode::OK,
            Verdict::Degraded | Verdict::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// The verdict from the database's state and the stalled tasks: an
/// unreachable database comes first (nothing works without it).
pub fn verdict(db_ok: bool, stalled: &[String]) -> Verdict {
    if !db_ok {
        Verdict::Unavailable
    } else if !stalled.is_empty() {
        Verdict::Degraded
    } else {
        Verdict::Ok
    }
}

/// The anonymous `/health` body.
#[derive(Debug, Serialize)]
pub struct Status {
    /// `ok`, `degraded` or `unavailable`.
    pub status: Verdict,
}

/// The `/health` body for a signed-in caller.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok`; `degraded` when a periodic task is stalled; `unavailable`
    /// when the database does not answer.
    pub status: Verdict,
    /// The stalled periodic tasks, by name (empty when none).
    pub degraded: Vec<String>,
    /// The product version.
    pub version: &'static str,
    /// The database's state.
    pub database: DatabaseHealth,
    /// Seconds since this process started.
    pub uptime_seconds: u64,
    /// The notification worker of this instance.
    pub notifications: NotificationHealth,
    /// This instance's periodic tasks: each one's interval, last good pass,
    /// and last failure (a task that fails or panics runs again after a
    /// back-off).
    pub tasks: Vec<TaskHealth>,
    /// This instance, whether it leads the periodic work that runs once,
    /// and which instance does.
    pub cluster: ClusterHealth,
}

/// The cluster part of [`Health`].
#[derive(Debug, Serialize)]
pub struct ClusterHealth {
    /// This instance (a random id, new at each start, its host and address).
    pub instance: Instance,
    /// Whether this instance leads now (always on SQLite).
    pub leading: bool,
    /// The leader as the database records it: instance id, host, address,
    /// since when, last heartbeat and the lead's epoch.
    pub leader: Option<LeaderRow>,
    /// Instances seen in the last 30 seconds (this one included).
    pub instances_alive: usize,
}

/// A background task as `/health` shows it: when it last worked and
/// failed, not why (the log has that).
#[derive(Debug, Serialize)]
pub struct TaskHealth {
    /// The task's name.
    pub name: String,
    /// `periodic` or `follow_up`.
    pub kind: TaskKind,
    /// `healthy`, `failing` (its last pass panicked, or several in a row
    /// failed) or `stalled` (no good pass for three of its intervals).
    pub condition: Condition,
    /// Seconds between its passes.
    pub interval_seconds: Option<f64>,
    /// Seconds without a good pass after which it is stalled.
    pub stall_after_seconds: Option<f64>,
    /// Its last good pass.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Its last failed (or panicked) pass.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failed passes since the last good one.
    pub failures: u32,
    /// Passes that panicked, in all.
    pub panics: u64,
    /// Waiting: the task runs only on the leader, and another instance leads.
    pub standby: bool,
}

impl TaskHealth {
    fn of(t: TaskStatus, now: DateTime<Utc>, leading: bool) -> Self {
        Self {
            condition: t.condition(now),
            interval_seconds: t.interval.map(|d| d.as_secs_f64()),
            stall_after_seconds: t.stall_after.map(|d| d.as_secs_f64()),
            name: t.name,
            kind: t.kind,
            last_ok_at: t.last_ok_at,
            last_error_at: t.last_error_at,
            failures: t.failures,
            panics: t.panics,
            standby: t.leader_only && !leading,
        }
    }
}

/// The notification part of [`Health`].
#[derive(Debug, Serialize)]
pub struct NotificationHealth {
    /// Deliveries waiting to be sent (all instances).
    pub queue: Option<i64>,
    /// When this instance's worker last finished a pass.
    pub last_loop_at: Option<DateTime<Utc>>,
}

/// The database part of [`Health`].
#[derive(Debug, Serialize)]
pub struct DatabaseHealth {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Whether it answered a query.
    pub ok: bool,
}

/// Whether the caller may see the details: a signed-in user (session
/// cookie or bearer JWT) or an API token whose scope allows reading.
async fn may_see_details(state: &AppState, headers: &HeaderMap) -> bool {
    match auth::resolve(&state.db, &state.keys, headers).await {
        Ok(principal) => principal.authorize(app::model::user::Role::Viewer, Access::Read).is_ok(),
        Err(_) => false,
    }
}

/// `GET /health/live`: 200 while the process serves HTTP, without asking
/// the database (a liveness probe: restarting the instance would not mend
/// a database that is down, which `/health` reports).
pub async fn live() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(serde_json::json!({"status": "ok"}))).into_response()
}

/// 200 when the database answers and no periodic task is stalled, else
/// 503; the details only for a signed-in caller.
pub async fn health(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let db_ok = state.db.ping().await;
    let now = Utc::now();
    let degraded = state.tasks.stalled(now);
    let status = verdict(db_ok, &degraded);
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    if !(db_ok && may_see_details(&state, &headers).await) {
        // Without a database no caller can be checked: the verdict only.
        return (status.status_code(), no_store, Json(Status { status })).into_response();
    }
    let body = Health {
        status,
        degraded,
        version: app::VERSION,
        database: DatabaseHealth { backend: state.db.backend().as_str(), ok: db_ok },
        uptime_seconds: state.started_at.elapsed().as_secs(),
        notifications: NotificationHealth {
            queue: app::ssr::notify::outbox::queue_length(&state).await.ok(),
            last_loop_at: state.tasks.task(app::ssr::notify::NOTIFIER_TASK).and_then(|t| t.last_ok_at),
        },
        // Periodic tasks only: follow-ups are named after servers and sessions.
        tasks: state
            .tasks
            .status()
            .into_iter()
            .filter(|t| t.kind == TaskKind::Periodic)
            .map(|t| TaskHealth::of(t, now, state.cluster.is_leading()))
            .collect(),
        cluster: ClusterHealth {
            instance: state.cluster.me().clone(),
            leading: state.cluster.is_leading(),
            leader: cluster::leader(&state.db).await.ok().flatten(),
            instances_alive: cluster::instances(&state.db)
                .await
                .map(|all| all.iter().filter(|i| i.last_seen_at > now - cluster::INSTANCE_GONE_AFTER).count())
                .unwrap_or_default(),
        },
    };
    (status.status_code(), no_store, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_comes_before_stalled_tasks() {
        let stalled = vec!["notifier".to_owned()];
        assert_eq!(verdict(false, &stalled), Verdict::Unavailable);
        assert_eq!(verdict(true, &stalled), Verdict::Degraded);
        assert_eq!(verdict(true, &[]), Verdict::Ok);
        assert_eq!(verdict(false, &[]).status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(verdict(true, &stalled).status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(verdict(true, &[]).status_code(), StatusCode::OK);
    }
}
