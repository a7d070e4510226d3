//! `/metrics` on both databases: scraped with a `read` token, parsed with
//! a Prometheus text parser (the `openmetrics-parser` crate), with the named
//! series at the values known runs give; refused to anonymous callers
//! unless their address is allowed, and to tokens without `read` access.

use app::{
    model::user::Role,
    ssr::{infra::db::test_support::TestBackend, jobs::monitor},
};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, spawn_app_with},
    notify_outbox::{ping, post_json},
};

type Exposition = openmetrics_parser::MetricsExposition<
    openmetrics_parser::PrometheusType,
    openmetrics_parser::PrometheusValue,
>;

fn parse(text: &str) -> Exposition {
    openmetrics_parser::prometheus::parse_prometheus(text).expect("Prometheus text format")
}

fn labels_of(
    sample: &openmetrics_parser::Sample<openmetrics_parser::PrometheusValue>,
) -> Vec<(String, String)> {
    let set = sample.get_labelset().expect("labels");
    set.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The value of the sample of `metric` whose labels include `labels`.
fn value(scrape: &Exposition, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    use openmetrics_parser::PrometheusValue;
    scrape.families.get(metric)?.iter_samples().find_map(|sample| {
        let have = labels_of(sample);
        labels.iter().all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v)).then(|| {
            match &sample.value {
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                other => panic!("{metric} is not a single value: {other:?}"),
            }
        })
    })
}

async fn scrape(app: &TestApp, token: Option<&str>) -> Exposition {
    let response = app.api(Method::GET, "/metrics", token, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    parse(&response.text().await.unwrap())
}

async fn the_series_follow_known_runs(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let reader =
        post_json(&app, &admin, "/api/v1/tokens", json!({"name": "prometheus", "scope": "read"})).await;
    let reader = reader["secret"].as_str().unwrap().to_owned();

    let nightly = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "nightly-files"})).await;
    let hourly = post_json(
        &app,
        &admin,
        "/api/v1/jobs",
        json!({"name": "hourly-db", "schedule": {"kind": "interval", "interval_seconds": 3600}, "grace_seconds": 600}),
    )
    .await;
    let never = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "never-ran"})).await;
    let ended = Utc::now() - Duration::minutes(90);
    let report = |result: &str, ended_at: chrono::DateTime<Utc>| {
        json!({"result": result, "started_at": (ended_at - Duration::minutes(10)).to_rfc3339(),
               "ended_at": ended_at.to_rfc3339()})
    };
    for (result, at) in [
        ("success", ended - Duration::hours(3)),
        ("success", ended),
        ("failed", ended + Duration::minutes(30)),
    ] {
        let response = app
            .api(
                Method::POST,
                &format!("/api/v1/jobs/{}/runs", nightly["id"]),
                Some(&admin),
                Some(report(result, at)),
            )
            .await;
        assert!(response.status().is_success(), "{}", response.text().await.unwrap());
    }
    ping(&app, &hourly, "/fail").await;
    // The hourly job's next run does not come: missed once the grace period is over.
    let expected: chrono::DateTime<Utc> = hourly["next_expected_at"].as_str().unwrap().parse().unwrap();
    let outcome = monitor::run_once(&app.state, expected + Duration::minutes(11)).await.unwrap();
    assert_eq!(outcome.missed, 1);

    let metrics = scrape(&app, Some(&reader)).await;
    let runs = |result| value(&metrics, "bms_runs_total", &[("source", "push"), ("result", result)]);
    assert_eq!(runs("success"), Some(2.0));
    assert_eq!(runs("failed"), Some(2.0), "one reported, one pinged");
    assert_eq!(runs("missed"), Some(1.0));
    assert_eq!(value(&metrics, "bms_jobs", &[("state", "failed")]), Some(1.0));
    assert_eq!(value(&metrics, "bms_jobs", &[("state", "missed")]), Some(1.0));
    assert_eq!(value(&metrics, "bms_jobs", &[("state", "new")]), Some(1.0));
    assert_eq!(value(&metrics, "bms_jobs", &[("state", "ok")]), Some(0.0), "every state, zero included");

    // The nightly job's newest good backup ended about 90 minutes ago.
    let id = nightly["id"].to_string();
    let age =
        value(&metrics, "bms_job_last_good_backup_age_seconds", &[("job_id", &id), ("job", "nightly-files")])
            .expect("an age for the job with a good backup");
    assert!((90.0 * 60.0..95.0 * 60.0).contains(&age), "{age}");
    let never_id = never["id"].to_string();
    assert_eq!(value(&metrics, "bms_job_last_good_backup_age_seconds", &[("job_id", &never_id)]), None);
    assert_eq!(value(&metrics, "bms_job_without_good_backup", &[("job_id", &never_id)]), Some(1.0));
    assert_eq!(value(&metrics, "bms_job_without_good_backup", &[("job_id", &id)]), Some(0.0));

    // Nothing is sent without channels and rules: the queue is empty.
    assert_eq!(value(&metrics, "bms_notification_queue_depth", &[]), Some(0.0));
    assert_eq!(value(&metrics, "bms_notification_queue_oldest_age_seconds", &[]), Some(0.0));

    // Background tasks of this instance, by name.
    assert!(value(&metrics, "bms_task_stalled", &[("task", "monitor")]).is_some());
    assert!(value(&metrics, "bms_uptime_seconds", &[]).is_some());
    assert!(value(&metrics, "bms_cluster_leader", &[]).is_some());

    // Requests by matched route (the template, not the path) and status.
    let route = "/api/v1/jobs/{id}/runs";
    assert_eq!(
        value(
            &metrics,
            "bms_http_requests_total",
            &[("method", "POST"), ("route", route), ("status", "201")]
        )
        .or_else(|| value(
            &metrics,
            "bms_http_requests_total",
            &[("method", "POST"), ("route", route), ("status", "200")]
        )),
        Some(3.0),
        "three run reports"
    );
    for family in metrics.families.values() {
        for sample in family.iter_samples() {
            for (name, label) in labels_of(sample) {
                assert!(
                    name != "route" || !label.contains(&format!("/{id}")),
                    "a path as a route label: {label}"
                );
            }
        }
    }
    let second = scrape(&app, Some(&reader)).await;
    assert!(
        value(
            &second,
            "bms_http_requests_total",
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")]
        )
        .is_some_and(|n| n >= 1.0),
        "the first scrape is counted in the second"
    );
}
both_backends!(series, the_series_follow_known_runs);

/// The sample Grafana dashboard (`deploy/grafana/`) names only series the
/// console exposes.
#[tokio::test]
async fn the_grafana_dashboard_names_exposed_series() {
    let app = crate::helpers::spawn_app(TestBackend::Sqlite).await.unwrap();
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    // Something in every family: a job with a good run, a Veeam sync and a
    // notification send (counted where they end; no Veeam server or
    // channel here).
    let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "files"})).await;
    ping(&app, &job, "").await;
    let counters = app::ssr::infra::metrics::Metrics::of(&app.state);
    counters.veeam_sync(1, 3.0, Some("unreachable"));
    counters.delivery("sent");
    let metrics = scrape(&app, Some(&admin)).await;
    let known: std::collections::BTreeSet<&str> = metrics.families.keys().map(String::as_str).collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/grafana/backup-mgmt-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut named = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for (start, _) in expr.match_indices("bms_") {
                let name: String =
                    expr[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix))
                    .unwrap_or(&name);
                assert!(
                    known.contains(base) || known.contains(name.as_str()),
                    "panel {}: {name} is not exposed",
                    panel["title"]
                );
                named += 1;
            }
        }
    }
    assert!(named >= 10, "{named}");
}

async fn only_readers_and_allowed_addresses_may_scrape(app: TestApp) {
    let anonymous = app.api(Method::GET, "/metrics", None, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()[header::WWW_AUTHENTICATE], "Bearer");
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let ingest = post_json(&app, &admin, "/api/v1/tokens", json!({"name": "agent", "scope": "ingest"})).await;
    let ingest = ingest["secret"].as_str().unwrap();
    let refused = app.api(Method::GET, "/metrics", Some(ingest), None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "an ingest token cannot read");

    let bad = app.api(Method::GET, "/metrics", Some("not-a-token"), None).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    // A signed-in user may look at them in the browser.
    let viewer = app.add_user(Role::Viewer).await;
    let browser = app.browser_as(&viewer).await;
    let response = browser.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
both_backends!(access, only_readers_and_allowed_addresses_may_scrape);

#[tokio::test]
async fn an_allowed_address_scrapes_without_credentials() {
    let app = spawn_app_with(TestBackend::Sqlite, |settings| {
        settings.metrics_allow = vec!["127.0.0.0/8".parse().unwrap()];
    })
    .await
    .unwrap();
    let metrics = scrape(&app, None).await;
    assert_eq!(value(&metrics, "bms_jobs", &[("state", "new")]), Some(0.0));

    // An allowed address does not excuse credentials without `read` access.
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let ingest = post_json(&app, &admin, "/api/v1/tokens", json!({"name": "agent", "scope": "ingest"})).await;
    let refused = app.api(Method::GET, "/metrics", ingest["secret"].as_str(), None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Another network is not allowed.
    let other = spawn_app_with(TestBackend::Sqlite, |settings| {
        settings.metrics_allow = vec!["10.0.0.0/8".parse().unwrap()];
    })
    .await
    .unwrap();
    assert_eq!(other.api(Method::GET, "/metrics", None, None).await.status(), StatusCode::UNAUTHORIZED);
}
