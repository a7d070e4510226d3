//! The outbox end to end on both databases: job state changes become
//! deliveries by rule, are sent to a real HTTP receiver, survive an outage
//! of the receiver (each alert exactly once, in order per job), and give up
//! (dead, resendable) on permanent errors.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use app::{
    model::user::Role,
    ssr::{notify::outbox, veeam::sync},
};
use axum::{Router, body::Bytes, http::StatusCode as AxumStatus, routing::post};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use server::veeam_sim::{SimConfig, Simulator};

use crate::{both_backends, helpers::TestApp};

/// A webhook receiver on loopback: keeps each JSON body; answers 503
/// while `down`, 400 while `refuse`.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub(crate) down: Arc<AtomicBool>,
    pub(crate) refuse: Arc<AtomicBool>,
    pub(crate) got: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    /// Starts it; its URL.
    pub(crate) async fn start(&self) -> String {
        let this = self.clone();
        let app = Router::new().route(
            "/hook",
            post(move |body: Bytes| {
                let this = this.clone();
                async move {
                    if this.refuse.load(Ordering::SeqCst) {
                        return (AxumStatus::BAD_REQUEST, "unknown channel");
                    }
                    if this.down.load(Ordering::SeqCst) {
                        return (AxumStatus::SERVICE_UNAVAILABLE, "down for maintenance");
                    }
                    this.got.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                    (AxumStatus::OK, "ok")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    /// (event, subject) of each body received, in order.
    pub(crate) fn events(&self) -> Vec<(String, String)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|v| (v["event"].as_str().unwrap().to_owned(), v["subject"].as_str().unwrap().to_owned()))
            .collect()
    }
}

pub(crate) async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app.api(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

pub(crate) async fn ping(app: &TestApp, job: &Value, suffix: &str) {
    let url = job["ping_url"].as_str().unwrap();
    let path = &url[url.find("/ping/").unwrap()..];
    let response = app.client.post(format!("{}{path}{suffix}", app.address)).send().await.unwrap();
    assert!(response.status().is_success());
}

async fn wait_for(receiver: &Receiver, count: usize) {
    for _ in 0..100 {
        if receiver.events().len() >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("only {:?} arrived", receiver.events());
}

async fn failures_and_recoveries_arrive_once_in_order_through_an_outage(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let channel = post_json(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "hook", "kind": "webhook", "locale": "en", "config": {"url": url}}),
    )
    .await;
    post_json(&app, &admin, "/api/v1/notifications/rules", json!({
        "name": "failures", "events": ["run_failed", "run_missed", "job_recovered"], "channel_ids": [channel["id"]],
    }))
    .await;
    // A rule that never announced a problem sends no recovery.
    let quiet = post_json(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "quiet", "kind": "webhook", "config": {"url": url}}),
    )
    .await;
    post_json(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "recoveries only", "events": ["job_recovered"], "channel_ids": [quiet["id"]]}),
    )
    .await;

    let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "fileserver"})).await;
    ping(&app, &job, "/fail").await;
    wait_for(&receiver, 1).await;
    ping(&app, &job, "").await;
    wait_for(&receiver, 2).await;
    assert_eq!(
        receiver.events(),
        vec![
            ("run_failed".to_owned(), "fileserver".to_owned()),
            ("job_recovered".to_owned(), "fileserver".to_owned())
        ]
    );

    // The receiver goes down while a second job fails, recovers and fails again.
    receiver.down.store(true, Ordering::SeqCst);
    let other = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "database"})).await;
    ping(&app, &other, "/fail").await;
    ping(&app, &other, "").await;
    ping(&app, &other, "/1").await;
    outbox::produce(&app.state).await.unwrap();
    // Two hours of retries against a dead receiver (the worker is driven with a clock an hour on each pass).
    let mut now = Utc::now();
    for _ in 0..6 {
        now += Duration::minutes(20);
        outbox::work_once(&app.state, now).await.unwrap();
    }
    let pending: Value = app
        .api(Method::GET, "/api/v1/notifications/deliveries?status=pending", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 3, "{pending:?}");
    let first = pending.iter().min_by_key(|d| d["id"].as_i64().unwrap()).unwrap();
    assert!(
        first["attempts"].as_i64().unwrap() >= 3,
        "the first of the job was tried again and again: {first}"
    );
    assert!(first["last_error"].as_str().unwrap().contains("503"));
    assert!(
        pending.iter().filter(|d| d["id"] != first["id"]).all(|d| d["attempts"] == 0),
        "later ones wait their turn"
    );

    receiver.down.store(false, Ordering::SeqCst);
    for _ in 0..10 {
        now += Duration::hours(1);
        outbox::work_once(&app.state, now).await.unwrap();
    }
    wait_for(&receiver, 5).await;
    let events = receiver.events();
    assert_eq!(
        events[2..].to_vec(),
        vec![
            ("run_failed".to_owned(), "database".to_owned()),
            ("job_recovered".to_owned(), "database".to_owned()),
            ("run_failed".to_owned(), "database".to_owned()),
        ],
        "each exactly once, in order"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(receiver.events().len(), 5, "nothing sent twice");
    let sent: Value = app
        .api(Method::GET, "/api/v1/notifications/deliveries?status=sent", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sent.as_array().unwrap().len(), 5);
    assert!(
        sent.as_array().unwrap().iter().all(|d| d["channel_id"] == channel["id"]),
        "the recoveries-only rule stayed quiet"
    );

    // Permanent refusals are dead at once, with the reason, and can be resent.
    receiver.refuse.store(true, Ordering::SeqCst);
    ping(&app, &job, "/fail").await;
    outbox::produce(&app.state).await.unwrap();
    outbox::work_once(&app.state, Utc::now() + Duration::hours(30)).await.unwrap();
    let dead: Value = app
        .api(Method::GET, "/api/v1/notifications/deliveries?status=dead", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let dead = &dead.as_array().unwrap()[0];
    assert!(dead["last_error"].as_str().unwrap().contains("400"), "{dead}");
    receiver.refuse.store(false, Ordering::SeqCst);
    let resend = app
        .api(
            Method::POST,
            &format!("/api/v1/notifications/deliveries/{}/resend", dead["id"]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(resend.status(), StatusCode::ACCEPTED);
    wait_for(&receiver, 6).await;
    assert_eq!(receiver.events()[5], ("run_failed".to_owned(), "fileserver".to_owned()));

    let health: Value = app.api(Method::GET, "/health", Some(&admin), None).await.json().await.unwrap();
    assert_eq!(health["notifications"]["queue"], 0);
    assert!(health["notifications"]["last_loop_at"].is_string());
    // Every periodic task is listed with its last good pass, never why a pass failed.
    let tasks = health["tasks"].as_array().unwrap();
    for name in ["monitor", "notifier", "prune-rate-limits", "veeam-sync"] {
        let task = tasks.iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name} in {health}"));
        assert_eq!(task["kind"], "periodic");
        assert!(task["last_ok_at"].is_string(), "{name} has run: {task}");
        assert!(task.get("last_error").is_none(), "no error text: the log has it");
    }
    assert_eq!(
        tasks.iter().find(|t| t["name"] == "notifier").map(|t| t["last_ok_at"].clone()),
        Some(health["notifications"]["last_loop_at"].clone())
    );
}

both_backends!(outbox_flow, failures_and_recoveries_arrive_once_in_order_through_an_outage);

pub(crate) async fn webhook_rule(app: &TestApp, admin: &str, url: &str, name: &str, rule: Value) -> i64 {
    let channel = post_json(
        app,
        admin,
        "/api/v1/notifications/channels",
        json!({"name": name, "kind": "webhook", "locale": "en", "config": {"url": url}}),
    )
    .await;
    let mut rule = rule;
    rule["name"] = json!(name);
    rule["channel_ids"] = json!([channel["id"]]);
    post_json(app, admin, "/api/v1/notifications/rules", rule).await;
    channel["id"].as_i64().unwrap()
}

/// (event, subject) of every delivery of a channel, oldest first.
pub(crate) async fn queued(app: &TestApp, admin: &str, channel: i64) -> Vec<(String, String)> {
    outbox::produce(&app.state).await.unwrap();
    let list: Value = app
        .api(
            Method::GET,
            &format!("/api/v1/notifications/deliveries?channel_id={channel}"),
            Some(admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let mut list = list.as_array().unwrap().clone();
    list.sort_by_key(|d| d["id"].as_i64().unwrap());
    list.iter()
        .map(|d| (d["event"].as_str().unwrap().to_owned(), d["subject"].as_str().unwrap().to_owned()))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

async fn noise_control_waits_for_n_failures_repeats_and_recovers_once(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let third = webhook_rule(
        &app,
        &admin,
        &url,
        "third failure",
        json!({
            "events": ["run_failed", "job_recovered"], "min_consecutive_failures": 3,
        }),
    )
    .await;
    let first = webhook_rule(
        &app,
        &admin,
        &url,
        "first failure",
        json!({
            "events": ["run_failed", "job_recovered"],
        }),
    )
    .await;
    let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "nas"})).await;

    // Failures in a row: the default rule speaks at the first, the other at the third, each once.
    for _ in 0..2 {
        ping(&app, &job, "/fail").await;
    }
    assert_eq!(queued(&app, &admin, third).await, vec![], "two failures are not three");
    assert_eq!(queued(&app, &admin, first).await, pairs(&[("run_failed", "nas")]));
    ping(&app, &job, "/fail").await;
    assert_eq!(queued(&app, &admin, third).await, pairs(&[("run_failed", "nas")]));
    // With start reports in between (running → failed), still once per streak.
    ping(&app, &job, "/start").await;
    ping(&app, &job, "/fail").await;
    assert_eq!(queued(&app, &admin, third).await.len(), 1);
    assert_eq!(queued(&app, &admin, first).await.len(), 1);

    // Recovery: both announced the problem, both say it is over, once.
    ping(&app, &job, "/start").await;
    ping(&app, &job, "").await;
    ping(&app, &job, "").await;
    let recovered = pairs(&[("run_failed", "nas"), ("job_recovered", "nas")]);
    assert_eq!(queued(&app, &admin, third).await, recovered);
    assert_eq!(queued(&app, &admin, first).await, recovered);

    // A single failure then a success: the N=3 rule never announced it, so no recovery from it.
    ping(&app, &job, "/fail").await;
    ping(&app, &job, "").await;
    assert_eq!(queued(&app, &admin, third).await, recovered);
    assert_eq!(queued(&app, &admin, first).await.len(), 4);
}

both_backends!(noise_control, noise_control_waits_for_n_failures_repeats_and_recovers_once);

async fn reminders_repeat_while_still_failing(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let channel = webhook_rule(
        &app,
        &admin,
        &url,
        "every two hours",
        json!({
            "events": ["run_failed", "job_recovered"], "repeat_every_hours": 2,
        }),
    )
    .await;
    let quiet = webhook_rule(&app, &admin, &url, "no repeats", json!({"events": ["run_failed"]})).await;
    let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "exchange"})).await;
    ping(&app, &job, "/fail").await;
    assert_eq!(queued(&app, &admin, channel).await.len(), 1);
    let start = Utc::now();
    for (after, expected) in [(60, 1), (121, 2), (180, 2), (242, 3), (250, 3)] {
        outbox::produce_at(&app.state, start + Duration::minutes(after)).await.unwrap();
        assert_eq!(queued(&app, &admin, channel).await.len(), expected, "{after} minutes after the failure");
    }
    assert_eq!(queued(&app, &admin, quiet).await.len(), 1, "repeat is off by default");
    // (Reminders queued "hours from now" are due then.)
    for _ in 0..3 {
        outbox::work_once(&app.state, start + Duration::minutes(251)).await.unwrap();
    }
    wait_for(&receiver, 4).await;
    let reminders: Vec<Value> =
        receiver.got.lock().unwrap().iter().filter(|v| v["reminder"] == true).cloned().collect();
    assert_eq!(reminders.len(), 2);
    assert!(reminders[0]["title"].as_str().unwrap().starts_with("Still a problem: Backup failed: exchange"));

    // Once it is fine again, reminders stop.
    ping(&app, &job, "").await;
    outbox::produce_at(&app.state, start + Duration::hours(10)).await.unwrap();
    let events = queued(&app, &admin, channel).await;
    assert_eq!(events.len(), 4);
    assert_eq!(events[3], ("job_recovered".to_owned(), "exchange".to_owned()));
}

both_backends!(reminders, reminders_repeat_while_still_failing);

async fn maintenance_windows_hold_back_alerts_but_keep_the_events(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let channel = webhook_rule(
        &app,
        &admin,
        &url,
        "all failures",
        json!({
            "events": ["run_failed", "job_recovered"],
        }),
    )
    .await;
    let now = Utc::now();
    // Invalid windows are refused with the field named.
    for (body, field) in [
        (
            json!({"name": "x", "kind": "weekly", "weekdays": ["someday"], "start_time": "22:00", "end_time": "02:00"}),
            "weekdays",
        ),
        (
            json!({"name": "x", "kind": "once", "starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T09:00"}),
            "ends_at",
        ),
        (
            json!({"name": "x", "kind": "weekly", "weekdays": ["sun"], "start_time": "25:00", "end_time": "02:00"}),
            "start_time",
        ),
        (json!({"name": "x", "kind": "once", "starts_at": "soon", "ends_at": "later"}), "starts_at"),
        (
            json!({"name": "x", "kind": "once", "starts_at": "2026-12-01T10:00", "ends_at": "2026-12-01T11:00", "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
    ] {
        let response = app.api(Method::POST, "/api/v1/maintenance-windows", Some(&admin), Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{error}");
    }
    let window = post_json(&app, &admin, "/api/v1/maintenance-windows", json!({
        "name": "storage upgrade", "kind": "once", "time_zone": "Asia/Tokyo",
        "starts_at": (now - Duration::hours(1)).to_rfc3339(), "ends_at": (now + Duration::hours(1)).to_rfc3339(),
        "job_filter": {"kind": "tags", "tags": ["Upgrade"]},
    }))
    .await;
    assert_eq!(window["active_now"], true);
    assert_eq!(window["job_filter"]["tags"], json!(["upgrade"]));
    let weekly = post_json(&app, &admin, "/api/v1/maintenance-windows", json!({
        "name": "weekend patching", "kind": "weekly", "weekdays": ["sat", "Sun"], "start_time": "22:00", "end_time": "6:00", "enabled": false,
    }))
    .await;
    assert_eq!(weekly["weekdays"], json!(["sat", "sun"]));
    assert_eq!(weekly["end_time"], "06:00");
    assert_eq!(weekly["time_zone"], "Asia/Tokyo", "the console's zone by default");

    let held = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "san", "tags": ["upgrade"]})).await;
    let other = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "web"})).await;
    ping(&app, &held, "/fail").await;
    ping(&app, &other, "/fail").await;
    assert_eq!(queued(&app, &admin, channel).await, pairs(&[("run_failed", "web")]));
    // The event is still recorded: the job is failed, the run is there, and the log of held-back events says why.
    let job: Value = app
        .api(Method::GET, &format!("/api/v1/jobs/{}", held["id"]), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["state"], "failed");
    let suppressed: Value = app
        .api(
            Method::GET,
            &format!("/api/v1/notifications/suppressed?job_id={}", held["id"]),
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let suppressed = suppressed.as_array().unwrap();
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    assert_eq!(suppressed[0]["event"], "run_failed");
    assert_eq!(suppressed[0]["reason"], "maintenance");
    assert_eq!(suppressed[0]["maintenance_window_id"], window["id"]);
    // Its recovery is not announced either (the failure never was).
    ping(&app, &held, "").await;
    assert_eq!(queued(&app, &admin, channel).await.len(), 1);

    // Once the window is removed, the same job's failures go out again.
    let response = app
        .api(Method::DELETE, &format!("/api/v1/maintenance-windows/{}", window["id"]), Some(&admin), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    ping(&app, &held, "/fail").await;
    assert_eq!(queued(&app, &admin, channel).await, pairs(&[("run_failed", "web"), ("run_failed", "san")]));
}

both_backends!(maintenance, maintenance_windows_hold_back_alerts_but_keep_the_events);

async fn missed_runs_of_a_server_that_is_down_are_told_once_with_its_recovery(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let channel = webhook_rule(
        &app,
        &admin,
        &url,
        "operations",
        json!({
            "events": ["run_missed", "veeam_unreachable", "veeam_recovered", "repository_low_space"],
        }),
    )
    .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::start(
        SimConfig { jobs: 3, history_days: 1, speed: 0.0, ..SimConfig::default() },
        listener,
        true,
    )
    .await
    .unwrap();
    let server = post_json(&app, &admin, "/api/v1/veeam/servers", json!({
        "name": "VBR Osaka", "base_url": sim.base_url, "username": "administrator", "password": "simulator",
        "enabled": false,
    }))
    .await;
    let server_id = server["id"].as_i64().unwrap();
    sync::sync_server(&app.state, server_id).await.unwrap();
    let veeam_job: (i64, String) = app::on_db!(&app.state.db, |pool| {
        // One with no session running now (the simulator follows the real
        // clock): a job in progress stays running when a run is missed, so
        // nothing would be held for the recovery message.
        sqlx::query_as(
            "select id, name from jobs where veeam_server_id = $1 and running_since is null order by name limit 1",
        )
            .bind(server_id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let hourly = json!({"schedule": {"kind": "interval", "interval_seconds": 3600}, "grace_seconds": 600});
    let response = app
        .api(Method::PATCH, &format!("/api/v1/jobs/{}", veeam_job.0), Some(&admin), Some(hourly.clone()))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    let mut plain = hourly.clone();
    plain["name"] = json!("tape export");
    let plain = post_json(&app, &admin, "/api/v1/jobs", plain).await;

    // The server stops answering (here: it moves to a closed port).
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    // Another address needs the password again.
    let patch = |url: String| json!({"base_url": url, "password": "simulator"});
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/veeam/servers/{server_id}"),
            Some(&admin),
            Some(patch(format!("http://{closed}/"))),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(sync::sync_server(&app.state, server_id).await.is_err());
    assert!(sync::sync_server(&app.state, server_id).await.is_err(), "still down: no second alert");

    // Both jobs miss two hourly runs while it is down.
    let now = Utc::now();
    for id in [veeam_job.0, plain["id"].as_i64().unwrap()] {
        app::ssr::jobs::store::jobs::set_next_expected(&app.state.db, id, Some(now - Duration::minutes(100)))
            .await
            .unwrap();
    }
    let outcome = app::ssr::jobs::monitor::run_once(&app.state, now).await.unwrap();
    assert_eq!(outcome.missed, 4);
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/veeam/servers/{server_id}"),
            Some(&admin),
            Some(patch(sim.base_url.clone())),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    sync::sync_server(&app.state, server_id).await.unwrap();

    // (The two producers' order within one pass may differ from the clock's.)
    let mut told = queued(&app, &admin, channel).await;
    told.sort();
    // The simulator has one repository below its threshold from the first sync on: told once.
    let low: Vec<_> = told.iter().filter(|(e, _)| e == "repository_low_space").cloned().collect();
    assert_eq!(low.len(), 1, "{told:?}");
    told.retain(|(e, _)| e != "repository_low_space");
    assert_eq!(
        told,
        pairs(&[
            ("run_missed", "tape export"),
            ("veeam_recovered", "VBR Osaka"),
            ("veeam_unreachable", "VBR Osaka")
        ]),
        "the Veeam job's missed runs are not told one by one"
    );
    wait_for(&receiver, 4).await;
    let got = receiver.got.lock().unwrap().clone();
    let space = got.iter().find(|v| v["event"] == "repository_low_space").unwrap();
    assert!(space["message"].as_str().unwrap().contains("% free"), "{space}");
    assert!(space["url"].as_str().unwrap().ends_with("/repositories"));
    let down = got.iter().find(|v| v["event"] == "veeam_unreachable").unwrap();
    assert_eq!(down["related"].as_array().unwrap().len(), 3, "the server's jobs: {down}");
    assert!(down["url"].as_str().unwrap().ends_with("/settings/veeam"));
    let back = got.iter().find(|v| v["event"] == "veeam_recovered").unwrap();
    let related: Vec<&str> =
        back["related"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(related.len(), 2, "its two missed runs, told once: {related:?}");
    assert!(related.iter().all(|r| r.starts_with(&veeam_job.1)), "{related:?}");
    let suppressed: Value = app
        .api(
            Method::GET,
            &format!("/api/v1/notifications/suppressed?job_id={}", veeam_job.0),
            Some(&admin),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(suppressed.as_array().unwrap().iter().all(|s| s["reason"] == "correlated"));
    assert_eq!(suppressed.as_array().unwrap().len(), 2);
}

both_backends!(correlation, missed_runs_of_a_server_that_is_down_are_told_once_with_its_recovery);
