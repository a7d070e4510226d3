//! `/metrics`: the process's counters (see [`infra::metrics`]) plus the
//! console's state read from the database at each scrape: jobs by state,
//! each job's age of its newest good backup, the notification queue, and
//! the background tasks' last good pass.
//!
//! Who may read it is decided here too: a caller with `read` access (an
//! API token with the `read` scope, or anyone signed in), or, without
//! credentials, an address in `metrics_allow`.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::{
    error::AppError,
    model::user::Role,
    ssr::{
        accounts::{Access, RequestInfo},
        infra::{
            metrics::{Labels, Metrics, Scrape},
            settings::Settings,
            state::AppState,
            supervisor::TaskKind,
        },
        jobs, notify,
    },
};

/// Whether this caller may read the metrics: `read` access, or no
/// credentials from an allowed address. A caller with credentials that do
/// not give `read` access is refused even from an allowed address (403).
pub fn check_access(settings: &Settings, info: &RequestInfo) -> Result<(), AppError> {
    if info.principal.is_some() {
        return info.require(Role::Viewer, Access::Read).map(|_| ());
    }
    if info.client_ip.is_some_and(|ip| allowed(settings, ip)) {
        return Ok(());
    }
    Err(AppError::Unauthorized)
}

fn allowed(settings: &Settings, ip: IpAddr) -> bool {
    // An IPv4 client reached over an IPv6 socket (`::ffff:10.0.0.5`) is that IPv4 address.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    settings.metrics_allow.iter().any(|net| net.contains(&ip))
}

fn seconds_since(at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    (now - at).num_milliseconds().max(0) as f64 / 1000.0
}

fn timestamp(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// The text exposition for a caller [`check_access`] let in.
pub async fn scrape(state: &AppState) -> Result<String, AppError> {
    let now = Utc::now();
    let mut scrape = Scrape::new(&Metrics::of(state));

    let counts = jobs::state_counts(state).await?;
    scrape.gauge(
        "jobs",
        "Jobs by state",
        counts.into_iter().map(|(s, n)| (vec![("state", s.as_str().to_owned())], n as f64)),
    );

    let jobs = jobs::last_good(state).await?;
    scrape.gauge(
        "job_last_good_backup_age_seconds",
        "Seconds since the end of each job's newest successful or warning run (jobs with one)",
        jobs.iter().filter_map(|job| job.last_good_at.map(|at| (job_labels(job), seconds_since(at, now)))),
    );
    scrape.gauge(
        "job_without_good_backup",
        "1 for a job that has never had a successful or warning run",
        jobs.iter().map(|job| (job_labels(job), if job.last_good_at.is_none() { 1.0 } else { 0.0 })),
    );

    let (queued, oldest) = notify::outbox::queue_facts(state).await?;
    scrape.gauge(
        "notification_queue_depth",
        "Notifications waiting to be sent (first tries and retries)",
        [(Labels::new(), queued as f64)],
    );
    scrape.gauge(
        "notification_queue_oldest_age_seconds",
        "Seconds since the oldest waiting notification was queued (0 when none waits)",
        [(Labels::new(), oldest.map_or(0.0, |at| seconds_since(at, now)))],
    );

    let tasks: Vec<_> =
        state.tasks.status().into_iter().filter(|task| task.kind == TaskKind::Periodic).collect();
    scrape.gauge(
        "task_last_pass_timestamp_seconds",
        "When each background task of this instance last finished a good pass (Unix time)",
        tasks
            .iter()
            .filter_map(|task| task.last_ok_at.map(|at| (vec![("task", task.name.clone())], timestamp(at)))),
    );
    scrape.gauge(
        "task_stalled",
        "1 when a background task of this instance has not finished a good pass in time",
        tasks
            .iter()
            .map(|task| (vec![("task", task.name.clone())], if task.stalled(now) { 1.0 } else { 0.0 })),
    );
    scrape.gauge(
        "task_failures",
        "Failed passes in a row of each background task of this instance",
        tasks.iter().map(|task| (vec![("task", task.name.clone())], f64::from(task.failures))),
    );
    scrape.gauge(
        "cluster_leader",
        "1 while this instance leads the work that runs once (always on SQLite)",
        [(Labels::new(), if state.cluster.is_leading() { 1.0 } else { 0.0 })],
    );
    scrape.gauge(
        "uptime_seconds",
        "Seconds since this instance started",
        [(Labels::new(), state.started_at.elapsed().as_secs_f64())],
    );

    scrape.encode().map_err(|e| AppError::internal(anyhow::anyhow!("cannot encode the metrics: {e}")))
}

fn job_labels(job: &jobs::LastGoodRow) -> Labels {
    vec![("job_id", job.id.to_string()), ("job", job.name.clone()), ("source", job.source.clone())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_addresses_and_networks() {
        let mut settings = Settings::for_tests(std::env::temp_dir(), None);
        assert!(!allowed(&settings, "127.0.0.1".parse().expect("address")), "nobody by default");
        settings.metrics_allow =
            vec!["10.1.0.0/24".parse().expect("address"), "127.0.0.1/32".parse().expect("address")];
        assert!(allowed(&settings, "10.1.0.77".parse().expect("address")));
        assert!(allowed(&settings, "127.0.0.1".parse().expect("address")));
        assert!(allowed(&settings, "::ffff:10.1.0.5".parse().expect("address")), "IPv4 over an IPv6 socket");
        assert!(!allowed(&settings, "10.1.1.1".parse().expect("address")));
        assert!(!allowed(&settings, "::1".parse().expect("address")));
    }
}
