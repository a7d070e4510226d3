//! Several instances on one PostgreSQL database.
//!
//! Every instance serves HTTP and sends notifications (the outbox leases
//! its rows). The periodic work that must not run twice (the monitor's
//! missed/late detection, Veeam syncs, scheduled reports, the console's
//! backups, retention) runs on the *leader* only:
//!
//! - **Leadership** is a PostgreSQL session advisory lock ([`LOCK_KEY`])
//!   held on a dedicated connection, outside the pool. Every
//!   [`HEARTBEAT`] the leader runs `select 1` on that connection; when it
//!   fails or takes longer than [`HEARTBEAT_TIMEOUT`] the leader gives up
//!   at once: its leader-only passes are cancelled (their transactions roll
//!   back) and it campaigns again. The others try the lock every
//!   [`HEARTBEAT`]; PostgreSQL frees it as soon as the holder's connection
//!   ends (a `kill -9`, a terminated backend), so a new leader takes over
//!   within a few seconds. The row in `cluster_leader` only tells who
//!   leads, since when and the lead's epoch.
//! - Even when two instances briefly both believe they lead (the old
//!   leader has not yet noticed its connection is gone), the database
//!   keeps one missed run per expected slot (`runs_missed_slot_key`), so
//!   one notification.
//! - **Live updates** cross instances through `LISTEN`/`NOTIFY` on
//!   [`LIVE_CHANNEL`]: each instance forwards the events published here
//!   (ids and states, never rows) after their transaction committed, and
//!   one listener connection per instance hands the others' events to its
//!   own subscribers. After the listener's connection was lost (and so
//!   notifications may have been), browsers get a `resync` event and
//!   reload.
//!
//! On SQLite there is one instance, always the leader.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool,
    postgres::{PgConnectOptions, PgListener},
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    db::Db,
    events::{EventHub, LiveEvent},
};
use crate::on_db;

/// The advisory lock of the lead ("bms_lead").
pub const LOCK_KEY: i64 = 0x626d_735f_6c65_6164;
/// How often the leader checks its lock connection, and the others try the lock.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// An instance that lost the lead waits this long before it tries again,
/// so that another (whose connection is sound) takes over.
pub const STAND_BACK: Duration = Duration::from_secs(5);
/// A heartbeat that takes longer counts as a lost connection.
pub const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(3);
/// An instance not seen for this long is listed as gone.
pub const INSTANCE_GONE_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// The `NOTIFY` channel of live events.
pub const LIVE_CHANNEL: &str = "bms_live";
/// PostgreSQL refuses payloads of 8,000 bytes and more.
const MAX_PAYLOAD: usize = 7_500;

/// This instance, as the others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// Random, new at each start.
    pub id: String,
    /// The host (a pod's name on Kubernetes).
    pub hostname: String,
    /// The address it listens on.
    pub address: String,
    /// The product version.
    pub version: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

/// Whether this instance leads, since when, and the lead's epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    /// Whether this instance runs the leader-only work now.
    pub leading: bool,
    /// Since when (when leading).
    pub since: Option<DateTime<Utc>>,
    /// The lead's number (counts up with each new leader; 0 on SQLite).
    pub epoch: i64,
}

/// The leader as the database records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct LeaderRow {
    /// The leading instance.
    pub instance_id: String,
    /// Its host.
    pub hostname: String,
    /// Its address.
    pub address: String,
    /// Since when it leads.
    pub since: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
    /// The lead's number.
    pub epoch: i64,
}

/// An instance as the database records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct InstanceRow {
    /// Its id.
    pub id: String,
    /// Its host.
    pub hostname: String,
    /// Its address.
    pub address: String,
    /// Its version.
    pub version: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub last_seen_at: DateTime<Utc>,
}

#[derive(Debug)]
struct Inner {
    me: Instance,
    /// Several instances may share the database (PostgreSQL).
    shared: bool,
    lead: Mutex<LeadState>,
}

#[derive(Debug, Default)]
struct LeadState {
    lead: Option<(DateTime<Utc>, i64, CancellationToken)>,
    /// When this instance last lost the lead: it lets the others try first.
    lost_at: Option<std::time::Instant>,
}

/// This instance's place in the cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl Cluster {
    /// An instance listening on `address`; on SQLite (`shared` false) it
    /// leads from the start.
    pub fn new(address: String, shared: bool) -> Self {
        let now = Utc::now();
        let me = Instance {
            id: format!("{:012x}", rand::random::<u64>() >> 16),
            hostname: hostname(),
            address,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: now,
        };
        let lead = if shared { None } else { Some((now, 0, CancellationToken::new())) };
        Self { inner: Arc::new(Inner { me, shared, lead: Mutex::new(LeadState { lead, lost_at: None }) }) }
    }

    /// This instance.
    pub fn me(&self) -> &Instance {
        &self.inner.me
    }

    /// Whether other instances may share the database.
    pub fn shared(&self) -> bool {
        self.inner.shared
    }

    /// While this instance leads: a token cancelled the moment it stops
    /// leading. `None` when it does not lead.
    pub fn leading(&self) -> Option<CancellationToken> {
        self.state().lead.as_ref().map(|(_, _, token)| token.clone())
    }

    /// Whether this instance leads now.
    pub fn is_leading(&self) -> bool {
        self.state().lead.is_some()
    }

    /// This instance's lead.
    pub fn lead(&self) -> Lead {
        match &self.state().lead {
            Some((since, epoch, _)) => Lead { leading: true, since: Some(*since), epoch: *epoch },
            None => Lead { leading: false, since: None, epoch: 0 },
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LeadState> {
        self.inner.lead.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn gain(&self, since: DateTime<Utc>, epoch: i64) {
        tracing::warn!(instance = %self.me().id, epoch, "this instance now leads the periodic work");
        self.state().lead = Some((since, epoch, CancellationToken::new()));
    }

    /// Stops leading: leader-only passes in flight are cancelled.
    fn lose(&self, why: &str) {
        let mut state = self.state();
        state.lost_at = Some(std::time::Instant::now());
        if let Some((_, epoch, token)) = state.lead.take() {
            token.cancel();
            tracing::warn!(instance = %self.me().id, epoch, why, "this instance stopped leading");
        }
    }
}

fn hostname() -> String {
    let from_env = ["HOSTNAME", "COMPUTERNAME"].iter().find_map(|key| std::env::var(key).ok());
    from_env
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().chars().take(253).collect::<String>())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The options of this instance's own connections (the lock, the
/// listener): the pool's, with TCP keepalives short enough that PostgreSQL
/// notices a vanished host (a crashed node, a network split) in about 11
/// seconds and frees its lock, instead of the system's two hours.
pub fn own_connection_options(pool: &PgPool) -> PgConnectOptions {
    pool.connect_options().as_ref().clone().options([
        ("tcp_keepalives_idle", "5"),
        ("tcp_keepalives_interval", "2"),
        ("tcp_keepalives_count", "3"),
    ])
}

/// The campaign for the lead, one pass every [`HEARTBEAT`]: the leader
/// checks its lock connection (and records its heartbeat on it), the
/// others try the lock. `conn` is the dedicated connection kept between
/// passes. Every statement has [`HEARTBEAT_TIMEOUT`].
pub async fn campaign(
    cluster: &Cluster,
    options: &PgConnectOptions,
    conn: &mut Option<PgConnection>,
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    if cluster.is_leading() {
        let beat = match conn.as_mut() {
            Some(c) => tokio::time::timeout(
                HEARTBEAT_TIMEOUT,
                sqlx::query("update cluster_leader set heartbeat_at = $1 where id = 1 and instance_id = $2")
                    .bind(now)
                    .bind(&cluster.me().id)
                    .execute(&mut *c),
            )
            .await
            .ok()
            .and_then(Result::ok),
            None => None,
        };
        match beat {
            Some(done) if done.rows_affected() == 1 => {}
            Some(_) => {
                // The row names another instance: never expected while the
                // lock is held, but it must not go on unnoticed.
                cluster.lose("another instance is recorded as the leader");
                drop_connection(conn);
            }
            None => {
                cluster.lose("its lock connection is gone");
                drop_connection(conn);
            }
        }
        return Ok(());
    }
    if cluster.state().lost_at.is_some_and(|at| at.elapsed() < STAND_BACK) {
        return Ok(());
    }
    if conn.is_none() {
        match tokio::time::timeout(HEARTBEAT_TIMEOUT, options.clone().connect()).await {
            Ok(Ok(c)) => *conn = Some(c),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(sqlx::Error::PoolTimedOut),
        }
    }
    let Some(c) = conn.as_mut() else { return Ok(()) };
    let got = tokio::time::timeout(
        HEARTBEAT_TIMEOUT,
        sqlx::query_scalar::<_, bool>("select pg_try_advisory_lock($1)").bind(LOCK_KEY).fetch_one(&mut *c),
    )
    .await;
    match got {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => return Ok(()),
        Ok(Err(e)) => {
            drop_connection(conn);
            return Err(e);
        }
        Err(_) => {
            drop_connection(conn);
            return Err(sqlx::Error::PoolTimedOut);
        }
    }
    // Holding the lock: record the lead on the same connection. If that
    // fails, the connection (and with it the lock) goes, so nobody is
    // locked out by a lock without a leader.
    let me = cluster.me();
    let epoch = tokio::time::timeout(
        HEARTBEAT_TIMEOUT,
        sqlx::query_scalar::<_, i64>(
            "insert into cluster_leader (id, instance_id, hostname, address, since, heartbeat_at, epoch) \
             values (1, $1, $2, $3, $4, $4, 1) \
             on conflict (id) do update set instance_id = excluded.instance_id, hostname = excluded.hostname, \
             address = excluded.address, since = excluded.since, heartbeat_at = excluded.heartbeat_at, \
             epoch = cluster_leader.epoch + 1 returning epoch",
        )
        .bind(&me.id)
        .bind(&me.hostname)
        .bind(&me.address)
        .bind(now)
        .fetch_one(&mut *c),
    )
    .await;
    match epoch {
        Ok(Ok(epoch)) => {
            cluster.gain(now, epoch);
            Ok(())
        }
        Ok(Err(e)) => {
            drop_connection(conn);
            Err(e)
        }
        Err(_) => {
            drop_connection(conn);
            Err(sqlx::Error::PoolTimedOut)
        }
    }
}

fn drop_connection(conn: &mut Option<PgConnection>) {
    if let Some(c) = conn.take() {
        // Closing politely may wait on a dead peer: let it go in the background.
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(1), c.close()).await;
        });
    }
}

/// Gives the lead up at shutdown, so another instance takes over at once:
/// leader-only passes in flight stop now (their transactions roll back;
/// the next leader does the work again), then the lock is released.
pub async fn resign(cluster: &Cluster, conn: &tokio::sync::Mutex<Option<PgConnection>>) {
    cluster.lose("the instance is stopping");
    let Ok(mut conn) = tokio::time::timeout(HEARTBEAT_TIMEOUT, conn.lock()).await else { return };
    if let Some(mut c) = conn.take() {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            sqlx::query("select pg_advisory_unlock($1)").bind(LOCK_KEY).execute(&mut c),
        )
        .await;
        let _ = tokio::time::timeout(Duration::from_secs(1), c.close()).await;
    }
}

/// Records that this instance is alive (and, on SQLite, that it leads).
pub async fn heartbeat(db: &Db, cluster: &Cluster) -> Result<(), sqlx::Error> {
    let me = cluster.me();
    let now = Utc::now();
    on_db!(db, |pool| {
        sqlx::query(
            "insert into cluster_instances (id, hostname, address, version, started_at, last_seen_at) \
             values ($1, $2, $3, $4, $5, $6) on conflict (id) do update set last_seen_at = excluded.last_seen_at",
        )
        .bind(&me.id)
        .bind(&me.hostname)
        .bind(&me.address)
        .bind(&me.version)
        .bind(me.started_at)
        .bind(now)
        .execute(pool)
        .await?;
        sqlx::query("delete from cluster_instances where last_seen_at < $1")
            .bind(now - chrono::TimeDelta::days(1))
            .execute(pool)
            .await?;
        if !cluster.shared() {
            sqlx::query(
                "insert into cluster_leader (id, instance_id, hostname, address, since, heartbeat_at, epoch) \
                 values (1, $1, $2, $3, $4, $5, 0) \
                 on conflict (id) do update set instance_id = excluded.instance_id, hostname = excluded.hostname, \
                 address = excluded.address, since = excluded.since, heartbeat_at = excluded.heartbeat_at",
            )
            .bind(&me.id)
            .bind(&me.hostname)
            .bind(&me.address)
            .bind(me.started_at)
            .bind(now)
            .execute(pool)
            .await?;
        }
        Ok(())
    })
}

/// Leaves the list of instances (at shutdown).
pub async fn leave(db: &Db, cluster: &Cluster) {
    let id = cluster.me().id.clone();
    let left = on_db!(db, |pool| {
        sqlx::query("delete from cluster_instances where id = $1").bind(&id).execute(pool).await.map(|_| ())
    });
    if let Err(e) = left {
        tracing::debug!(error = %e, "could not leave the list of instances");
    }
}

/// The recorded leader, if any.
pub async fn leader(db: &Db) -> Result<Option<LeaderRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as::<_, LeaderRow>(
            "select instance_id, hostname, address, since, heartbeat_at, epoch from cluster_leader where id = 1",
        )
        .fetch_optional(pool)
        .await
    })
}

/// The instances seen in the last day, newest first.
pub async fn instances(db: &Db) -> Result<Vec<InstanceRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as::<_, InstanceRow>(
            "select id, hostname, address, version, started_at, last_seen_at from cluster_instances \
             order by started_at desc, id",
        )
        .fetch_all(pool)
        .await
    })
}

/// What one `NOTIFY` carries: the sender, its events, and whether some of
/// its events could not be sent (the receivers' browsers reload).
#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    from: String,
    events: Vec<LiveEvent>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    resync: bool,
}

/// How often each instance sends an empty notice when it has nothing to
/// say: its own listener hearing nothing for [`LISTENER_SILENCE`] means
/// the listener's connection is dead (half-open), and it reconnects.
pub const LIVE_HEARTBEAT: Duration = Duration::from_secs(10);
/// See [`LIVE_HEARTBEAT`].
pub const LISTENER_SILENCE: Duration = Duration::from_secs(35);

/// Payloads of at most [`MAX_PAYLOAD`] bytes for `events` from `from` (one
/// empty notice when there are none).
fn payloads(from: &str, events: &[LiveEvent], resync: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut batch: Vec<LiveEvent> = Vec::new();
    let mut size = 0;
    for event in events {
        let len = serde_json::to_string(event).map_or(0, |s| s.len()) + 1;
        if !batch.is_empty() && size + len > MAX_PAYLOAD - 64 {
            out.extend(encode(from, std::mem::take(&mut batch), resync));
            size = 0;
        }
        size += len;
        batch.push(event.clone());
    }
    if !batch.is_empty() || out.is_empty() {
        out.extend(encode(from, batch, resync));
    }
    out
}

fn encode(from: &str, events: Vec<LiveEvent>, resync: bool) -> Option<String> {
    serde_json::to_string(&Notice { from: from.to_owned(), events, resync }).ok()
}

/// Forwards the events published here to the other instances, batching
/// what is queued into as few `NOTIFY`s as fit, and an empty notice every
/// [`LIVE_HEARTBEAT`] when there is nothing to send. Events that could not
/// be sent (a failed `NOTIFY`, a full queue: `hub`'s drop flag) make the
/// next notice that goes through ask the others to resync. Ends when
/// `outbox` closes.
pub async fn forward(pool: PgPool, from: String, hub: EventHub, mut outbox: mpsc::Receiver<LiveEvent>) {
    let mut queued = Vec::new();
    let mut lost = false;
    loop {
        // Nothing for a while: an empty notice keeps the listeners' watch.
        if let Ok(0) = tokio::time::timeout(LIVE_HEARTBEAT, outbox.recv_many(&mut queued, 512)).await {
            return;
        }
        lost |= hub.take_dropped();
        for payload in payloads(&from, &queued, lost) {
            match sqlx::query("select pg_notify($1, $2)")
                .bind(LIVE_CHANNEL)
                .bind(&payload)
                .execute(&pool)
                .await
            {
                Ok(_) => lost = false,
                Err(e) => {
                    // The others' browsers resync with the next notice that gets through.
                    tracing::warn!(error = %e, "live events not forwarded to the other instances");
                    lost = true;
                }
            }
        }
        queued.clear();
    }
}

/// Listens for the other instances' events until `stop`, handing them to
/// `hub`'s subscribers, on a connection of its own (`options`). After the
/// connection was lost, or went silent for [`LISTENER_SILENCE`] (this
/// instance's own heartbeat notices stopped arriving), it connects again
/// (with a back-off) and tells browsers to resync. Returns an error only
/// if the first connection cannot be made.
pub async fn listen(
    options: PgConnectOptions,
    me: String,
    hub: EventHub,
    stop: CancellationToken,
) -> Result<(), sqlx::Error> {
    // A pool of one for the listener: it never takes one of the pool's
    // connections, and it reconnects through this one.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(HEARTBEAT_TIMEOUT)
        .connect_lazy_with(options);
    let mut listener = subscribe(&pool).await?;
    let mut wait = Duration::from_millis(250);
    loop {
        let received = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            received = tokio::time::timeout(LISTENER_SILENCE, listener.try_recv()) => received,
        };
        match received {
            Ok(Ok(Some(notification))) => {
                wait = Duration::from_millis(250);
                match serde_json::from_str::<Notice>(notification.payload()) {
                    Ok(notice) if notice.from != me => {
                        notice.events.into_iter().for_each(|e| hub.publish_here(e));
                        if notice.resync {
                            hub.publish_here(LiveEvent::Resync);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "an unreadable live notification was ignored"),
                }
            }
            // The connection was lost; sqlx has connected again and listens.
            Ok(Ok(None)) => {
                tracing::warn!("the live-update listener lost its connection and reconnected");
                hub.publish_here(LiveEvent::Resync);
            }
            Ok(Err(_)) | Err(_) => {
                tracing::warn!("the live-update listener failed or went silent; reconnecting");
                drop(listener);
                listener = loop {
                    tokio::select! {
                        _ = stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    match subscribe(&pool).await {
                        Ok(listener) => break listener,
                        Err(e) => {
                            tracing::debug!(error = %e, "the live-update listener could not reconnect yet");
                            wait = (wait * 2).min(Duration::from_secs(10));
                        }
                    }
                };
                // What was sent while it was away is gone: browsers reload.
                hub.publish_here(LiveEvent::Resync);
            }
        }
    }
}

async fn subscribe(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(LIVE_CHANNEL).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::model::job::RunResult;

    #[test]
    fn payloads_stay_under_postgresql_s_limit_and_keep_every_event() {
        let events: Vec<LiveEvent> = (0..2_000)
            .map(|i| LiveEvent::Run { job_id: i, run_id: i * 1_000_003, result: RunResult::Success })
            .collect();
        let payloads = payloads("abc", &events, false);
        assert!(payloads.len() > 1);
        let mut back = Vec::new();
        for p in &payloads {
            assert!(p.len() < MAX_PAYLOAD, "{}", p.len());
            let notice: Notice = serde_json::from_str(p).unwrap();
            assert_eq!(notice.from, "abc");
            back.extend(notice.events);
        }
        assert_eq!(back, events);
        assert!(payloads_of_nothing_are_none());
    }

    fn payloads_of_nothing_are_none() -> bool {
        let heartbeat = payloads("abc", &[], true);
        heartbeat.len() == 1 && heartbeat[0] == r#"{"from":"abc","events":[],"resync":true}"#
    }

    #[test]
    fn sqlite_instances_lead_from_the_start_and_postgres_ones_campaign() {
        let alone = Cluster::new("127.0.0.1:5000".into(), false);
        assert!(alone.is_leading() && alone.lead().epoch == 0);
        let shared = Cluster::new("127.0.0.1:5001".into(), true);
        assert!(!shared.is_leading() && shared.leading().is_none());
        shared.gain(Utc::now(), 7);
        let token = shared.leading().unwrap();
        assert_eq!(shared.lead().epoch, 7);
        shared.lose("test");
        assert!(token.is_cancelled() && !shared.is_leading());
        assert_ne!(alone.me().id, shared.me().id);
    }
}
