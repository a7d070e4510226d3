//! Prometheus metrics: what this process counts as it works (HTTP
//! requests, runs recorded, Veeam syncs, notification sends), and a
//! [`Scrape`] that adds the gauges read from the database when `/metrics`
//! is asked, in the Prometheus text format (0.0.4).
//!
//! The counters live in the state's [`Slots`](super::state::Slots), one
//! set per console: every console a test starts counts its own. Every
//! label has a bounded set of values (route templates, not paths; result
//! and outcome names; ids of Veeam servers and jobs, which an
//! administrator creates).

use std::sync::{Arc, atomic::AtomicU64};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

use super::state::AppState;

/// The `Content-Type` of the Prometheus text format.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every metric's name starts with this (`bms_runs_total`...).
pub const PREFIX: &str = "bms";

/// An HTTP request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`... (`other` for anything unusual).
    pub method: String,
    /// The matched route's template (`/api/v1/jobs/{id}`), `static` for
    /// files, `unmatched` for the rest.
    pub route: String,
    /// The answer's status code.
    pub status: String,
}

/// An HTTP request's labels without the status (durations).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// As in [`RequestLabels`].
    pub method: String,
    /// As in [`RequestLabels`].
    pub route: String,
}

/// A recorded run's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// `push` or `veeam`.
    pub source: String,
    /// `success`, `warning`, `failed` or `missed`.
    pub result: String,
}

/// A Veeam server's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServerLabels {
    /// The server's id in the console.
    pub server_id: String,
}

/// A failed Veeam sync's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncErrorLabels {
    /// The server's id in the console.
    pub server_id: String,
    /// `unreachable` or `error`.
    pub status: String,
}

/// A notification send's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `sent`, `retry` (failed, tried again later) or `dead`.
    pub outcome: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_buckets() -> Histogram {
    Histogram::new([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

fn sync_buckets() -> Histogram {
    Histogram::new([0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0])
}

/// What this process counts.
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    runs: Family<RunLabels, Counter>,
    sync_seconds: Histograms<ServerLabels>,
    sync_errors: Family<SyncErrorLabels, Counter>,
    deliveries: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(request_buckets),
            runs: Family::default(),
            sync_seconds: Family::new_with_constructor(sync_buckets),
            sync_errors: Family::default(),
            deliveries: Family::default(),
        }
    }
}

impl Metrics {
    /// The console's metrics.
    pub fn of(state: &AppState) -> Arc<Metrics> {
        state.slots.get::<Metrics>()
    }

    /// An answered HTTP request.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.request_seconds
            .get_or_create(&RouteLabels { method: method.clone(), route: route.clone() })
            .observe(seconds);
        self.requests.get_or_create(&RequestLabels { method, route, status: status.to_string() }).inc();
    }

    /// A finished run stored (a new report, or a running run that ended;
    /// not a report delivered twice).
    pub fn run(&self, source: &str, result: &str) {
        self.runs.get_or_create(&RunLabels { source: source.to_owned(), result: result.to_owned() }).inc();
    }

    /// A Veeam sync that ended, with its status when it failed.
    pub fn veeam_sync(&self, server_id: i64, seconds: f64, failed: Option<&str>) {
        let server = ServerLabels { server_id: server_id.to_string() };
        self.sync_seconds.get_or_create(&server).observe(seconds);
        if let Some(status) = failed {
            self.sync_errors
                .get_or_create(&SyncErrorLabels { server_id: server.server_id, status: status.to_owned() })
                .inc();
        }
    }

    /// A notification send: `sent`, `retry` or `dead`.
    pub fn delivery(&self, outcome: &str) {
        self.deliveries.get_or_create(&OutcomeLabels { outcome: outcome.to_owned() }).inc();
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            self.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method and matched route",
            self.request_seconds.clone(),
        );
        registry.register(
            "runs",
            "Finished runs recorded by this instance, by the job's source and the result (missed runs included)",
            self.runs.clone(),
        );
        registry.register(
            "veeam_sync_duration_seconds",
            "Duration of the Veeam syncs this instance ran, by server",
            self.sync_seconds.clone(),
        );
        registry.register(
            "veeam_sync_errors",
            "Veeam syncs that failed on this instance, by server and status (unreachable or error)",
            self.sync_errors.clone(),
        );
        registry.register(
            "notification_deliveries",
            "Notification sends by this instance, by outcome (sent, retry, dead)",
            self.deliveries.clone(),
        );
    }
}

/// Labels of a gauge read at scrape time: name and value pairs.
pub type Labels = Vec<(&'static str, String)>;

/// One answer to `/metrics`: the process's counters plus gauges read now.
pub struct Scrape {
    registry: Registry,
}

impl Scrape {
    /// A scrape starting from the console's counters.
    pub fn new(metrics: &Metrics) -> Self {
        let mut registry = Registry::with_prefix(PREFIX);
        metrics.register(&mut registry);
        Self { registry }
    }

    /// Adds a gauge family with these samples.
    pub fn gauge(&mut self, name: &str, help: &str, samples: impl IntoIterator<Item = (Labels, f64)>) {
        let family = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        for (labels, value) in samples {
            family.get_or_create(&labels).set(value);
        }
        self.registry.register(name, help, family);
    }

    /// The text exposition.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_are_encoded_with_their_labels() {
        let metrics = Metrics::default();
        metrics.run("push", "success");
        metrics.run("push", "success");
        metrics.run("veeam", "missed");
        metrics.request("GET", "/api/v1/jobs", 200, 0.02);
        metrics.veeam_sync(3, 4.0, Some("unreachable"));
        metrics.delivery("sent");
        let mut scrape = Scrape::new(&metrics);
        scrape.gauge("jobs", "Jobs by state", [(vec![("state", "ok".to_owned())], 4.0)]);
        let text = scrape.encode().expect("encodes");
        assert!(text.contains("bms_runs_total{source=\"push\",result=\"success\"} 2"), "{text}");
        assert!(text.contains("bms_runs_total{source=\"veeam\",result=\"missed\"} 1"), "{text}");
        assert!(text.contains("bms_jobs{state=\"ok\"} 4"), "{text}");
        assert!(
            text.contains("bms_http_requests_total{method=\"GET\",route=\"/api/v1/jobs\",status=\"200\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bms_veeam_sync_errors_total{server_id=\"3\",status=\"unreachable\"} 1"),
            "{text}"
        );
        assert!(text.contains("bms_notification_deliveries_total{outcome=\"sent\"} 1"), "{text}");
        assert!(text.contains("bms_http_request_duration_seconds_bucket"), "{text}");
    }
}
