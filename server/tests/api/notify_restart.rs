//! The outbox survives `kill -9`: the real binary is killed while a
//! delivery is in flight (the receiver holds the request open) and started
//! again on the same database. Nothing is lost (the delivery in flight and
//! the ones not tried yet all arrive) and nothing the receiver had
//! acknowledged is sent again.

use std::{
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, http::StatusCode as AxumStatus, routing::post};
use serde_json::{Value, json};

const PASSWORD: &str = "restart test password, long enough";

/// The receiver: records each arrival (delivery id, job), answers 200 or
/// holds the request open forever.
#[derive(Clone, Default)]
struct Receiver {
    hold: Arc<Mutex<bool>>,
    arrivals: Arc<Mutex<Vec<(i64, String, bool)>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let this = self.clone();
        let app = Router::new().route(
            "/hook",
            post(move |body: Bytes| {
                let this = this.clone();
                async move {
                    let v: Value = serde_json::from_slice(&body).unwrap();
                    let hold = *this.hold.lock().unwrap();
                    let id = v["delivery_id"].as_i64().unwrap();
                    let subject = v["subject"].as_str().unwrap().to_owned();
                    this.arrivals.lock().unwrap().push((id, subject, !hold));
                    if hold {
                        // In flight until the sender goes away.
                        std::future::pending::<()>().await;
                    }
                    (AxumStatus::OK, "ok")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }

    fn arrivals(&self) -> Vec<(i64, String, bool)> {
        self.arrivals.lock().unwrap().clone()
    }
}

fn serve(data_dir: &std::path::Path, database_url: &str, port: u16) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backup-mgmt"));
    for (key, _) in std::env::vars() {
        if key.starts_with("BMS_") {
            command.env_remove(key);
        }
    }
    command
        .env("BMS_DATA_DIR", data_dir)
        .env("BMS_DATABASE_URL", database_url)
        .env("BMS_LISTEN", format!("127.0.0.1:{port}"))
        .env("BMS_ADMIN_PASSWORD", PASSWORD)
        // A short send timeout keeps the lease of a delivery in flight (3×) short.
        .env("BMS_NOTIFY_TIMEOUT_SECONDS", "3")
        .env("BMS_API_RATE_PER_MINUTE", "0")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn until<F: Fn() -> bool>(what: &str, check: F) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

struct Console {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Console {
    async fn connect(port: u16) -> Self {
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{base}/health")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let login: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().expect("a token").to_owned();
        Self { base, token, client }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    async fn fail(&self, job: &Value) {
        let url = job["ping_url"].as_str().unwrap();
        let path = &url[url.find("/ping/").unwrap()..];
        let response = self.client.post(format!("{}{path}/fail", self.base)).send().await.unwrap();
        assert!(response.status().is_success());
    }

    async fn deliveries(&self, status: &str) -> Vec<Value> {
        let list = self
            .call(reqwest::Method::GET, &format!("/api/v1/notifications/deliveries?status={status}"), None)
            .await;
        list.as_array().unwrap().clone()
    }
}

async fn nothing_is_lost_or_sent_twice_across_a_kill_9(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let mut child = serve(dir.path(), database_url, port);
    let console = Console::connect(port).await;
    let channel = console
        .call(
            reqwest::Method::POST,
            "/api/v1/notifications/channels",
            Some(json!({"name": "hook", "kind": "webhook", "locale": "en", "config": {"url": url}})),
        )
        .await;
    console
        .call(
            reqwest::Method::POST,
            "/api/v1/notifications/rules",
            Some(json!({"name": "failures", "events": ["run_failed"], "channel_ids": [channel["id"]]})),
        )
        .await;
    let mut jobs = Vec::new();
    for name in ["alpha", "bravo", "charlie", "delta"] {
        jobs.push(console.call(reqwest::Method::POST, "/api/v1/jobs", Some(json!({"name": name}))).await);
    }

    // alpha is delivered and acknowledged before the kill.
    console.fail(&jobs[0]).await;
    for _ in 0..200 {
        if console.deliveries("sent").await.len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(console.deliveries("sent").await.len(), 1, "alpha was sent and recorded as sent");

    // The receiver now holds requests open; three more jobs fail.
    *receiver.hold.lock().unwrap() = true;
    for job in &jobs[1..] {
        console.fail(job).await;
    }
    until("a delivery in flight", || receiver.arrivals().len() == 2).await;
    let status = Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    let in_flight = receiver.arrivals()[1].clone();

    // Started again on the same database, with a receiver that answers.
    *receiver.hold.lock().unwrap() = false;
    let mut child = serve(dir.path(), database_url, port);
    let console = Console::connect(port).await;
    for _ in 0..400 {
        if console.deliveries("sent").await.len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = console.deliveries("sent").await;
    assert_eq!(sent.len(), 4, "every failure delivered: {sent:?}");
    assert!(console.deliveries("pending").await.is_empty());
    let arrivals = receiver.arrivals();
    let count = |id: i64| arrivals.iter().filter(|(a, _, _)| *a == id).count();
    let alpha = arrivals[0].0;
    assert_eq!(count(alpha), 1, "acknowledged before the kill, never sent again: {arrivals:?}");
    assert_eq!(count(in_flight.0), 2, "the one in flight is sent again (same delivery_id): {arrivals:?}");
    for delivery in &sent {
        let id = delivery["id"].as_i64().unwrap();
        assert!(arrivals.iter().any(|(a, _, acked)| *a == id && *acked), "{id} acknowledged: {arrivals:?}");
        if id != in_flight.0 {
            assert_eq!(count(id), 1, "{id} exactly once: {arrivals:?}");
        }
    }
    let mut subjects: Vec<String> = arrivals.iter().filter(|a| a.2).map(|a| a.1.clone()).collect();
    subjects.sort();
    assert_eq!(subjects, ["alpha", "bravo", "charlie", "delta"]);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
}

#[tokio::test]
async fn a_kill_9_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/restart.db", dir.path().display());
    nothing_is_lost_or_sent_twice_across_a_kill_9(&url).await;
}

#[tokio::test]
async fn a_kill_9_loses_nothing_on_postgresql() {
    if let Some(db) = app::ssr::infra::db::test_support::TestDb::postgres().await {
        nothing_is_lost_or_sent_twice_across_a_kill_9(db.url.expose()).await;
    }
}
