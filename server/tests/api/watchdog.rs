//! The console watching itself: a periodic task that stalls and one that
//! panics turn `/health` into `503 degraded` (details only for signed-in
//! callers), reach a real webhook as `console_degraded` and, once they
//! work again, as `console_recovered`; a notification given up is told as
//! `delivery_dead` through another channel, and never about itself.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use app::{model::user::Role, ssr::infra::db::test_support::TestBackend};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, spawn_app_with},
    notify_outbox::{Receiver, ping, post_json},
};

/// A console whose watchdog looks every 200 ms.
async fn quick_watchdog(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, |settings| settings.watchdog_interval = Duration::from_millis(200)).await
}

/// Polls `check` every 100 ms until it gives a value, for at most 40 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn health(client: &reqwest::Client, app: &TestApp, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = client.get(format!("{}/health", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn count(receiver: &Receiver, event: &str, subject: &str) -> usize {
    receiver.events().iter().filter(|(e, s)| e == event && s == subject).count()
}

async fn a_stalled_and_a_panicking_task_degrade_health_and_alert_then_recover(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let viewer = app.add_user(Role::Viewer).await;
    let signed_in = app.browser_as(&viewer).await;
    let read_token = post_json(
        &app,
        &admin,
        "/api/v1/tokens",
        json!({"name": "monitoring", "scope": "read"}),
    )
    .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let channel = post_json(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "ops", "kind": "webhook", "locale": "en", "config": {"url": url}}),
    )
    .await;
    post_json(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "console", "events": ["console_degraded", "console_recovered"], "channel_ids": [channel["id"]]}),
    )
    .await;
    let (status, body) = health(&app.client, &app, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})), "anonymous: the verdict only");

    // Two tasks under the supervisor, every 200 ms: one whose pass never
    // ends while `stuck`, one that panics on every pass while `broken`.
    let stuck = Arc::new(AtomicBool::new(true));
    let broken = Arc::new(AtomicBool::new(true));
    let flag = stuck.clone();
    app.state.tasks.every("test-stall", Duration::from_millis(200), move || {
        let flag = flag.clone();
        async move {
            while flag.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(())
        }
    });
    let flag = broken.clone();
    app.state.tasks.every("test-panic", Duration::from_millis(200), move || {
        let flag = flag.clone();
        async move {
            assert!(!flag.load(Ordering::SeqCst), "the test task is broken");
            Ok(())
        }
    });

    // /health: 503 degraded, naming both, to a signed-in caller.
    let details = eventually("both tasks stalled in /health", || async {
        let (status, body) = health(&signed_in, &app, None).await;
        let degraded = body["degraded"].as_array().cloned().unwrap_or_default();
        (status == StatusCode::SERVICE_UNAVAILABLE
            && degraded.contains(&json!("test-stall"))
            && degraded.contains(&json!("test-panic")))
        .then_some(body)
    })
    .await;
    assert_eq!(details["status"], "degraded");
    assert_eq!(details["database"]["ok"], true);
    let tasks = details["tasks"].as_array().unwrap();
    let stall = tasks.iter().find(|t| t["name"] == "test-stall").unwrap();
    assert_eq!(stall["condition"], "stalled");
    assert_eq!(stall["interval_seconds"], 0.2);
    assert!(stall["last_ok_at"].is_null());
    let panic = tasks.iter().find(|t| t["name"] == "test-panic").unwrap();
    assert!(panic["panics"].as_u64().unwrap() >= 1, "{panic}");
    assert!(panic.get("last_error").is_none(), "never why: the log has that");
    for name in ["monitor", "notifier", "veeam-sync", "prune-rate-limits", "watchdog"] {
        assert!(tasks.iter().any(|t| t["name"] == name), "{name} listed: {details}");
    }
    // A read token sees the details too; anyone else only the verdict, with the same code.
    let (status, body) = health(&app.client, &app, Some(&read_token)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body["degraded"].as_array().unwrap().contains(&json!("test-stall")), "{body}");
    for token in [None, Some("bms_not_a_real_token"), Some("not.a.jwt")] {
        let (status, body) = health(&app.client, &app, token).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{token:?}");
        assert_eq!(body, json!({"status": "degraded"}), "{token:?}: invalid credentials are anonymous");
    }

    // The watchdog recorded each once; the notifier told the webhook.
    eventually("console_degraded for both tasks", || async {
        (count(&receiver, "console_degraded", "test-stall") >= 1
            && count(&receiver, "console_degraded", "test-panic") >= 1)
            .then_some(())
    })
    .await;
    let got = receiver.got.lock().unwrap().clone();
    let panic_alert =
        got.iter().find(|v| v["event"] == "console_degraded" && v["subject"] == "test-panic").unwrap();
    assert!(panic_alert["message"].as_str().unwrap().contains("the test task is broken"), "{panic_alert}");
    let stall_alert =
        got.iter().find(|v| v["event"] == "console_degraded" && v["subject"] == "test-stall").unwrap();
    assert!(stall_alert["message"].as_str().unwrap().starts_with("stalled"), "{stall_alert}");

    // Both work again: one console_recovered each, and /health is ok.
    stuck.store(false, Ordering::SeqCst);
    broken.store(false, Ordering::SeqCst);
    eventually("console_recovered for both tasks", || async {
        (count(&receiver, "console_recovered", "test-stall") >= 1
            && count(&receiver, "console_recovered", "test-panic") >= 1)
            .then_some(())
    })
    .await;
    let (status, body) = health(&app.client, &app, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    // Two more notifier passes: nothing was told twice.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    for event in ["console_degraded", "console_recovered"] {
        for task in ["test-stall", "test-panic"] {
            assert_eq!(count(&receiver, event, task), 1, "{event} {task}: {:?}", receiver.events());
        }
    }
}

#[tokio::test]
async fn stalled_and_panicking_tasks_alert_and_recover_on_sqlite() {
    let app = quick_watchdog(TestBackend::Sqlite).await.unwrap();
    a_stalled_and_a_panicking_task_degrade_health_and_alert_then_recover(app).await;
}

#[tokio::test]
async fn stalled_and_panicking_tasks_alert_and_recover_on_postgres() {
    if let Some(app) = quick_watchdog(TestBackend::Postgres).await {
        a_stalled_and_a_panicking_task_degrade_health_and_alert_then_recover(app).await;
    }
}

async fn deliveries(app: &TestApp, admin: &str, event: &str) -> Vec<Value> {
    let list: Value = app
        .api(Method::GET, "/api/v1/notifications/deliveries?limit=500", Some(admin), None)
        .await
        .json()
        .await
        .unwrap();
    list.as_array().unwrap().iter().filter(|d| d["event"] == event).cloned().collect()
}

async fn a_dead_delivery_is_told_through_another_channel_once(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let broken = Receiver::default();
    broken.refuse.store(true, Ordering::SeqCst);
    let broken_url = broken.start().await;
    let backup = Receiver::default();
    let backup_url = backup.start().await;
    let channel = |name: &str, url: &str| json!({"name": name, "kind": "webhook", "locale": "en", "config": {"url": url}});
    let primary =
        post_json(&app, &admin, "/api/v1/notifications/channels", channel("primary", &broken_url)).await;
    let spare =
        post_json(&app, &admin, "/api/v1/notifications/channels", channel("spare", &backup_url)).await;
    let rule = |name: &str, events: Value, channels: Value| json!({"name": name, "events": events, "channel_ids": channels});
    post_json(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        rule("failures", json!(["run_failed"]), json!([primary["id"]])),
    )
    .await;
    // Both channels: the message about the failed one goes through the spare.
    post_json(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        rule("given up", json!(["delivery_dead"]), json!([primary["id"], spare["id"]])),
    )
    .await;
    // Only the failing channel: still tried, and its own failure is not told again.
    post_json(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        rule("given up, primary only", json!(["delivery_dead"]), json!([primary["id"]])),
    )
    .await;

    let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "fileserver"})).await;
    ping(&app, &job, "/fail").await;

    eventually("delivery_dead through the spare channel", || async {
        (count(&backup, "delivery_dead", "primary") >= 1).then_some(())
    })
    .await;
    let got = backup.got.lock().unwrap().clone();
    let told = got.iter().find(|v| v["event"] == "delivery_dead").unwrap();
    assert_eq!(told["related"], json!(["fileserver (run_failed)"]), "{told}");
    assert!(told["message"].as_str().unwrap().contains("400"), "the receiver's answer: {told}");
    assert!(told["url"].as_str().unwrap().ends_with("/notifications"), "{told}");

    // The primary-only rule's message died on the primary too: no message about that one.
    eventually("the primary-only delivery_dead given up", || async {
        let dead = deliveries(&app, &admin, "delivery_dead").await;
        dead.iter().any(|d| d["channel_id"] == primary["id"] && d["status"] == "dead").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let dead = deliveries(&app, &admin, "delivery_dead").await;
    assert_eq!(dead.len(), 2, "one per rule, no message about a message given up: {dead:?}");
    assert_eq!(dead.iter().filter(|d| d["channel_id"] == spare["id"]).count(), 1);
    assert_eq!(backup.events(), vec![("delivery_dead".to_owned(), "primary".to_owned())]);
    assert!(broken.events().is_empty());
}

#[tokio::test]
async fn a_dead_delivery_is_told_elsewhere_on_sqlite() {
    let app = quick_watchdog(TestBackend::Sqlite).await.unwrap();
    a_dead_delivery_is_told_through_another_channel_once(app).await;
}

#[tokio::test]
async fn a_dead_delivery_is_told_elsewhere_on_postgres() {
    if let Some(app) = quick_watchdog(TestBackend::Postgres).await {
        a_dead_delivery_is_told_through_another_channel_once(app).await;
    }
}

#[tokio::test]
async fn the_rule_editor_offers_the_console_events_in_both_languages() {
    let app = spawn_app_with(TestBackend::Sqlite, |_| {}).await.unwrap();
    let user = app.add_user(Role::Admin).await;
    let token = app.bearer(&user).await;
    // The rule form is shown once there is a channel.
    let channel = json!({"name": "ops", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}});
    post_json(&app, &token, "/api/v1/notifications/channels", channel).await;
    let admin = app.browser_as(&user).await;
    for (language, labels) in [
        ("en", ["Console task not working", "Console task working again", "Notification given up"]),
        ("ja", ["コンソール処理の停止", "コンソール処理の回復", "通知の配信断念"]),
    ] {
        let chosen = admin
            .post(format!("{}/prefs/locale", app.address))
            .form(&[("locale", language)])
            .send()
            .await
            .unwrap();
        assert!(chosen.status().is_redirection(), "{language}: {}", chosen.status());
        let html = admin.get(format!("{}/settings", app.address)).send().await.unwrap().text().await.unwrap();
        for kind in ["console_degraded", "console_recovered", "delivery_dead"] {
            assert!(html.contains(&format!("form[event_{kind}]")), "{language}: {kind} offered");
        }
        for label in labels {
            assert!(html.contains(label), "{language}: {label}");
        }
    }
}
