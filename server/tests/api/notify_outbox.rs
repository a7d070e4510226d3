//! The outbox end to end on both databases: job state changes become
//! deliveries by rule, are sent to a real HTTP receiver, survive an outage
//! of the receiver (each alert exactly once, in order per job), and give up
//! (dead, resendable) on permanent errors.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use app::{model::user::Role, ssr::notify::outbox};
use axum::{Router, body::Bytes, http::StatusCode as AxumStatus, routing::post};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp};

#[derive(Clone, Default)]
struct Receiver {
    down: Arc<AtomicBool>,
    refuse: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start(&self) -> String {
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

    fn events(&self) -> Vec<(String, String)> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .map(|v| (v["event"].as_str().unwrap().to_owned(), v["subject"].as_str().unwrap().to_owned()))
            .collect()
    }
}

async fn post_json(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app.api(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn ping(app: &TestApp, job: &Value, suffix: &str) {
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

    let health: Value = app.get("/health").await.json().await.unwrap();
    assert_eq!(health["notifications"]["queue"], 0);
    assert!(health["notifications"]["last_loop_at"].is_string());
}

both_backends!(outbox_flow, failures_and_recoveries_arrive_once_in_order_through_an_outage);
