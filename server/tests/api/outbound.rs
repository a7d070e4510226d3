//! Requests the console makes and what comes back (issue 12: H3, M4, M5,
//! M6 and chat escaping): real receivers on loopback, the real server.

use std::{
    sync::{Arc, Mutex},
    time::Duration as StdDuration,
};

use app::{
    model::user::Role,
    ssr::{
        infra::{db::test_support::TestBackend, outbound::Policy},
        notify::{
            SendError, chat,
            email::{self, EmailConfig, SmtpTls},
            outbox,
        },
        veeam::client::{Client, Options, Target, Tls, VeeamError},
    },
};
use axum::{Router, body::Bytes, http::Uri, response::IntoResponse};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, spawn_app, spawn_app_with},
};

/// One answer of a [`receiver`].
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    /// Echo the request's path in the body, with a long tail and a line break.
    echo: bool,
}

impl Answer {
    fn status(status: u16) -> Self {
        Self { status, headers: vec![], echo: false }
    }

    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn echo(mut self) -> Self {
        self.echo = true;
        self
    }
}

type Got = Arc<Mutex<Vec<(String, Bytes)>>>;

/// An HTTP receiver on loopback answering the n-th request with the n-th
/// answer (the last one repeats); `http://127.0.0.1:<port>` and what arrived.
async fn receiver(answers: Vec<Answer>) -> (String, Got) {
    let got: Got = Arc::default();
    let store = got.clone();
    let app = Router::new().fallback(move |uri: Uri, body: Bytes| {
        let store = store.clone();
        let answers = answers.clone();
        async move {
            let n = {
                let mut all = store.lock().unwrap();
                all.push((uri.path().to_owned(), body));
                all.len()
            };
            let answer = answers[(n - 1).min(answers.len() - 1)].clone();
            let body = if answer.echo {
                format!("Cannot POST {}\nINFO forged log line {}", uri, "x".repeat(2000))
            } else {
                String::new()
            };
            let mut response =
                (axum::http::StatusCode::from_u16(answer.status).unwrap(), body).into_response();
            for (name, value) in answer.headers {
                response.headers_mut().insert(name, value.parse().unwrap());
            }
            response
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, got)
}

fn count(got: &Got) -> usize {
    got.lock().unwrap().len()
}

/// A loopback port nobody listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app.api(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

/// The field and message of a 422 answer.
async fn refused(response: reqwest::Response) -> (String, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    (
        body["error"]["field"].as_str().unwrap_or_default().to_owned(),
        body["error"]["message"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn ping_failure(app: &TestApp, job: &Value) {
    let url = job["ping_url"].as_str().unwrap();
    let path = &url[url.find("/ping/").unwrap()..];
    let response = app.client.post(format!("{}{path}/fail", app.address)).send().await.unwrap();
    assert!(response.status().is_success());
}

/// Runs the notifier's passes at `now` until `got` holds `n` requests
/// (the running notifier may send some of them itself).
async fn drive(app: &TestApp, got: &Got, n: usize, now: DateTime<Utc>) {
    for _ in 0..100 {
        outbox::produce(&app.state).await.unwrap();
        outbox::work_once(&app.state, now).await.unwrap();
        if count(got) >= n {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("only {} requests arrived, not {n}", count(got));
}

async fn deliveries(app: &TestApp, token: &str) -> Vec<Value> {
    let list: Value = app
        .api(Method::GET, "/api/v1/notifications/deliveries", Some(token), None)
        .await
        .json()
        .await
        .unwrap();
    list.as_array().unwrap().clone()
}

/// The only delivery, once it is no longer in flight.
async fn settled(app: &TestApp, token: &str) -> Value {
    for _ in 0..50 {
        let all = deliveries(app, token).await;
        assert_eq!(all.len(), 1, "{all:?}");
        if all[0]["status"] != "sending" {
            return all[0].clone();
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("the delivery stayed in flight");
}

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

// ---------------------------------------------------------------- H3

async fn a_receivers_retry_after_cannot_stop_the_notifier(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let (base, got) = receiver(vec![
        Answer::status(429).header("retry-after", "inf"),
        Answer::status(429).header("retry-after", "99999999999999999999999"),
        Answer::status(200),
    ])
    .await;
    let channel = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "hook", "kind": "webhook", "locale": "en", "config": {"url": format!("{base}/hook")}}),
    )
    .await;
    create(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "failures", "events": ["run_failed"], "channel_ids": [channel["id"]]}),
    )
    .await;
    let job = create(&app, &admin, "/api/v1/jobs", json!({"name": "fileserver"})).await;
    ping_failure(&app, &job).await;

    // `Retry-After: inf` (unreadable): the pass survives, the delivery waits the default minute.
    let now = Utc::now();
    drive(&app, &got, 1, now).await;
    let delivery = settled(&app, &admin).await;
    assert_eq!(delivery["status"], "pending", "{delivery}");
    assert_eq!(delivery["last_error"], "rate limited");
    let next = at(&delivery["next_attempt_at"]);
    assert!(next > now && next <= Utc::now() + Duration::minutes(2), "{delivery}");

    // A huge wait is cut to an hour.
    let now = next + Duration::seconds(1);
    drive(&app, &got, 2, now).await;
    let delivery = settled(&app, &admin).await;
    assert_eq!(delivery["status"], "pending", "{delivery}");
    let next = at(&delivery["next_attempt_at"]);
    assert!(next >= now + Duration::minutes(59) && next <= now + Duration::minutes(60), "{delivery}");

    // And then it is sent: nothing was lost.
    drive(&app, &got, 3, next + Duration::seconds(1)).await;
    assert_eq!(settled(&app, &admin).await["status"], "sent");
}

both_backends!(retry_after, a_receivers_retry_after_cannot_stop_the_notifier);

#[tokio::test]
async fn retry_after_is_honoured_on_429_and_503_only_and_capped() {
    let poster = chat::Poster::new(Policy::default()).unwrap();
    let post = |url: String| {
        let poster = poster.clone();
        async move { chat::post(&poster, &url, &json!({}), None, StdDuration::from_secs(5)).await }
    };
    for (answer, expected) in [
        (Answer::status(429).header("retry-after", "NaN"), SendError::RetryAfter(StdDuration::from_secs(60))),
        (Answer::status(429).header("retry-after", "-3"), SendError::RetryAfter(StdDuration::from_secs(60))),
        (
            Answer::status(429).header("retry-after", "86400"),
            SendError::RetryAfter(StdDuration::from_secs(3600)),
        ),
        (Answer::status(503).header("retry-after", "30"), SendError::RetryAfter(StdDuration::from_secs(30))),
    ] {
        let (base, _) = receiver(vec![answer]).await;
        assert_eq!(post(format!("{base}/hook")).await.unwrap_err(), expected);
    }
    // Elsewhere the header means nothing.
    let (base, _) = receiver(vec![Answer::status(500).header("retry-after", "inf")]).await;
    assert!(
        matches!(post(format!("{base}/hook")).await, Err(SendError::Temporary(e)) if e.starts_with("500"))
    );
    let (base, _) = receiver(vec![Answer::status(400).header("retry-after", "5")]).await;
    assert!(matches!(post(format!("{base}/hook")).await, Err(SendError::Permanent(_))));
}

// ---------------------------------------------------------------- M4, M5 (c)

const TOKEN: &str = "T0KEN-4f9b2c7d1e8a6b3c";
const ECHOED_TOKEN: &str = "T0KEN-echo-5a1b9c3d7e2f";
const HMAC_SECRET: &str = "hmac-secret-value-42";

async fn errors_never_show_a_webhook_url_or_secret(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let port = closed_port().await;
    let down = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "down", "kind": "slack", "locale": "en",
               "config": {"url": format!("http://127.0.0.1:{port}/services/{TOKEN}")}}),
    )
    .await;
    let outcome: Value = app
        .api(Method::POST, &format!("/api/v1/notifications/channels/{}/test", down["id"]), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["ok"], false);
    let message = outcome["message"].as_str().unwrap();
    assert!(message.contains("Not sent") && !message.contains(TOKEN), "{message}");

    // A receiver that quotes the request's path back, at length.
    let (base, _) = receiver(vec![Answer::status(404).echo()]).await;
    let echo = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "echo", "kind": "webhook", "locale": "en",
               "config": {"url": format!("{base}/hook/{ECHOED_TOKEN}?sig={HMAC_SECRET}"), "secret": HMAC_SECRET}}),
    )
    .await;
    let outcome: Value = app
        .api(Method::POST, &format!("/api/v1/notifications/channels/{}/test", echo["id"]), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let message = outcome["message"].as_str().unwrap();
    assert!(message.contains("404"), "{message}");
    assert!(!message.contains(ECHOED_TOKEN) && !message.contains(HMAC_SECRET), "{message}");
    assert!(!message.contains('\n') && message.chars().count() < 400, "{message}");

    let audit: Value = app
        .api(Method::GET, "/api/v1/audit?action=channel.test", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let details: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(details.len(), 2, "{audit}");
    for detail in details {
        assert!(!detail.contains(TOKEN) && !detail.contains(ECHOED_TOKEN), "{detail}");
        assert!(!detail.contains(HMAC_SECRET) && !detail.contains('\n'), "{detail}");
    }

    // The same through the outbox: the deliveries' errors.
    create(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "all", "events": ["run_failed"], "channel_ids": [down["id"], echo["id"]]}),
    )
    .await;
    let job = create(&app, &admin, "/api/v1/jobs", json!({"name": "fileserver"})).await;
    ping_failure(&app, &job).await;
    let mut errors = vec![];
    for _ in 0..100 {
        outbox::produce(&app.state).await.unwrap();
        outbox::work_once(&app.state, Utc::now()).await.unwrap();
        errors = deliveries(&app, &admin)
            .await
            .iter()
            .filter_map(|d| d["last_error"].as_str().map(str::to_owned))
            .collect();
        if errors.len() == 2 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert_eq!(errors.len(), 2, "{errors:?}");
    for error in &errors {
        assert!(!error.contains(TOKEN) && !error.contains(ECHOED_TOKEN), "{error}");
        assert!(!error.contains(HMAC_SECRET) && !error.contains("/hook") && !error.contains('\n'), "{error}");
        assert!(error.chars().count() <= 320, "{error}");
    }
}

both_backends!(url_secrets, errors_never_show_a_webhook_url_or_secret);

// ---------------------------------------------------------------- M5 (a)

async fn a_stored_secret_goes_only_where_it_was_entered_for(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let patch = |path: String, body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move { app.api(Method::PATCH, &path, Some(&admin), Some(body)).await }
    };

    // A Veeam server.
    let server = create(
        &app,
        &admin,
        "/api/v1/veeam/servers",
        json!({"name": "VBR", "base_url": "https://127.0.0.1:9", "username": "u", "password": "vbr secret", "enabled": false}),
    )
    .await;
    let path = format!("/api/v1/veeam/servers/{}", server["id"]);
    let (field, message) =
        refused(patch(path.clone(), json!({"base_url": "https://127.0.0.2:9"})).await).await;
    assert_eq!(field, "password", "{message}");
    assert!(message.contains("password"), "{message}");
    let kept: Value = app.api(Method::GET, &path, Some(&admin), None).await.json().await.unwrap();
    assert_eq!(kept["base_url"], "https://127.0.0.1:9/", "nothing was changed");
    for other in [
        json!({"base_url": "http://127.0.0.1:9"}),
        json!({"base_url": "https://127.0.0.1:10"}),
        // Certificate checks turned off: the password could go to an interceptor.
        json!({"tls_mode": "insecure"}),
    ] {
        assert_eq!(refused(patch(path.clone(), other).await).await.0, "password");
    }
    // The same place (however written), or another name: no password needed.
    for same in [json!({"base_url": "127.0.0.1:9"}), json!({"name": "VBR Tokyo", "username": "v"})] {
        assert_eq!(patch(path.clone(), same).await.status(), StatusCode::OK);
    }
    let moved =
        patch(path.clone(), json!({"base_url": "https://127.0.0.2:9", "password": "new secret"})).await;
    assert_eq!(moved.status(), StatusCode::OK);

    // An SMTP channel.
    let smtp = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "mail", "kind": "email", "config": {"host": "127.0.0.1", "port": 2525, "tls": "none",
               "username": "alerts", "password": "smtp secret", "from": "b@example.co.jp", "to": ["o@example.co.jp"]}}),
    )
    .await;
    let path = format!("/api/v1/notifications/channels/{}", smtp["id"]);
    for change in [json!({"host": "127.0.0.2"}), json!({"port": 25}), json!({"tls": "starttls"})] {
        let (field, message) = refused(patch(path.clone(), json!({"config": change})).await).await;
        assert_eq!(field, "config.password", "{change}: {message}");
    }
    let same = patch(path.clone(), json!({"config": {"to": ["team@example.co.jp"]}})).await;
    assert_eq!(same.status(), StatusCode::OK);
    let moved = patch(path.clone(), json!({"config": {"host": "127.0.0.2", "password": "other"}})).await;
    assert_eq!(moved.status(), StatusCode::OK);

    // A webhook with a signing secret, and a Slack URL (its own secret).
    let hook = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "hook", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/a", "secret": HMAC_SECRET}}),
    )
    .await;
    let path = format!("/api/v1/notifications/channels/{}", hook["id"]);
    let (field, _) =
        refused(patch(path.clone(), json!({"config": {"url": "http://127.0.0.1:9/b"}})).await).await;
    assert_eq!(field, "config.secret");
    let moved =
        patch(path.clone(), json!({"config": {"url": "http://127.0.0.1:9/b", "secret": "another secret"}}))
            .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let slack = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "slack", "kind": "slack", "config": {"url": "http://127.0.0.1:9/a"}}),
    )
    .await;
    let path = format!("/api/v1/notifications/channels/{}", slack["id"]);
    assert_eq!(
        patch(path, json!({"config": {"url": "http://127.0.0.1:9/c"}})).await.status(),
        StatusCode::OK
    );
}

both_backends!(secrets_stay, a_stored_secret_goes_only_where_it_was_entered_for);

// ---------------------------------------------------------------- M5 (b, c)

fn veeam_target(base: &str, password: &str) -> Target {
    Target {
        base_url: format!("{base}/").parse().unwrap(),
        username: "administrator".into(),
        password: SecretString::from(password.to_owned()),
        api_version: "1.3-rev2".into(),
        tls: Tls::Verify,
    }
}

fn one_try() -> Options {
    Options { attempts: 1, timeout: StdDuration::from_secs(5), ..Options::default() }
}

#[tokio::test]
async fn redirects_are_not_followed_by_webhooks_or_the_veeam_client() {
    let (elsewhere, stolen) = receiver(vec![Answer::status(200)]).await;
    let (base, got) =
        receiver(vec![Answer::status(307).header("location", format!("{elsewhere}/stolen"))]).await;
    let poster = chat::Poster::new(Policy::default()).unwrap();
    let error = chat::post(
        &poster,
        &format!("{base}/hook"),
        &json!({}),
        Some(HMAC_SECRET),
        StdDuration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert!(matches!(&error, SendError::Permanent(e) if e.contains("redirect")), "{error:?}");

    let error = Client::new(veeam_target(&base, "vbr secret"), one_try()).unwrap().check().await.unwrap_err();
    assert!(matches!(error, VeeamError::Api { status: 307, .. }), "{error:?}");
    assert!(error.to_string().contains("redirect"), "{error}");
    assert_eq!(count(&got), 2);
    assert_eq!(count(&stolen), 0, "nothing was carried to the other address");
}

#[tokio::test]
async fn a_veeam_error_text_is_cut_escaped_and_never_holds_the_password() {
    let password = "vbr-P4ssw0rd-secret";
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let message = format!("bad request\nERROR forged line: password {password} {}", "y".repeat(1000));
    let app = Router::new().fallback(move || {
        let message = message.clone();
        async move {
            (
                axum::http::StatusCode::UNAUTHORIZED,
                axum::Json(json!({"errorCode": "Unauthorized\r\nX", "message": message})),
            )
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let error = Client::new(veeam_target(&base, password), one_try()).unwrap().check().await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, VeeamError::Credentials(_)), "{error:?}");
    assert!(!text.contains('\n') && !text.contains('\r'), "{text}");
    assert!(text.contains("bad request\\nERROR forged line"), "{text}");
    assert!(!text.contains(password), "{text}");
    assert!(text.chars().count() < 400, "{text}");
}

// ---------------------------------------------------------------- M6

fn smtp(host: &str) -> EmailConfig {
    EmailConfig {
        host: host.into(),
        port: 25,
        tls: SmtpTls::None,
        username: None,
        password: None,
        from: "b@example.co.jp".into(),
        to: vec!["o@example.co.jp".into()],
        trust_cert_pem: None,
    }
}

#[tokio::test]
async fn link_local_and_metadata_addresses_are_refused_when_sending() {
    let poster = chat::Poster::new(Policy::default()).unwrap();
    for (url, words) in [
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://0xa9.0xfe.0xa9.0xfe/computeMetadata/v1/", "metadata"),
        ("http://169.254.10.1:8080/hook", "link-local"),
        ("http://[fe80::1]:8080/hook", "link-local"),
        ("http://0.0.0.0:8080/hook", "not the address of one host"),
    ] {
        let error = chat::post(&poster, url, &json!({}), None, StdDuration::from_secs(5)).await.unwrap_err();
        assert!(matches!(&error, SendError::Permanent(e) if e.contains(words)), "{url}: {error:?}");
    }
    let message = render_for_mail();
    let error = email::send(&smtp("169.254.169.254"), &message, StdDuration::from_secs(5), Policy::default())
        .await
        .unwrap_err();
    assert!(matches!(&error, SendError::Permanent(e) if e.contains("metadata")), "{error:?}");
    let error = Client::new(veeam_target("https://169.254.169.254:9419", "pw"), one_try())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(matches!(&error, VeeamError::Refused(e) if e.contains("metadata")), "{error:?}");
    assert_eq!(error.code(), "refused");
}

fn render_for_mail() -> app::ssr::notify::message::Rendered {
    app::ssr::notify::message::Rendered {
        title: "t".into(),
        facts: vec![],
        excerpt: None,
        link: "https://backup.example.co.jp/".into(),
        link_text: "Open".into(),
        ack_link: None,
        ack_link_text: "Acknowledge".into(),
        severity: app::ssr::notify::message::Severity::Critical,
        footer: "f".into(),
    }
}

#[tokio::test]
async fn link_local_addresses_are_refused_on_save() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    for (path, body, expected) in [
        (
            "/api/v1/notifications/channels",
            json!({"name": "meta", "kind": "webhook", "config": {"url": "http://169.254.169.254/latest/meta-data/"}}),
            "config.url",
        ),
        (
            "/api/v1/notifications/channels",
            json!({"name": "meta", "kind": "discord", "config": {"url": "http://[fe80::1]/api/webhooks/1/x"}}),
            "config.url",
        ),
        (
            "/api/v1/notifications/channels",
            json!({"name": "meta", "kind": "email", "config": {"host": "169.254.169.254", "from": "b@example.co.jp", "to": ["o@example.co.jp"]}}),
            "config.host",
        ),
        (
            "/api/v1/veeam/servers",
            json!({"name": "meta", "base_url": "https://169.254.169.254", "username": "u", "password": "p"}),
            "base_url",
        ),
        (
            "/api/v1/veeam/servers",
            json!({"name": "meta", "base_url": "https://[fe80::1]:9419", "username": "u", "password": "p"}),
            "base_url",
        ),
    ] {
        let (field, message) = refused(app.api(Method::POST, path, Some(&admin), Some(body)).await).await;
        assert_eq!(field, expected, "{message}");
        assert!(message.contains("never connects"), "{message}");
    }
}

#[tokio::test]
async fn with_deny_private_a_loopback_receiver_is_refused_and_without_it_works() {
    let (base, got) = receiver(vec![Answer::status(200)]).await;
    let port = base.rsplit(':').next().unwrap();
    let send = |policy: Policy, url: String| async move {
        let poster = chat::Poster::new(policy).unwrap();
        chat::post(&poster, &url, &json!({}), None, StdDuration::from_secs(5)).await
    };
    send(Policy::default(), format!("{base}/hook")).await.unwrap();
    send(Policy::default(), format!("http://localhost:{port}/hook")).await.unwrap();
    assert_eq!(count(&got), 2);

    let deny = Policy { deny_private: true };
    let error = send(deny, format!("{base}/hook")).await.unwrap_err();
    assert!(matches!(&error, SendError::Permanent(e) if e.contains("outbound_deny_private")), "{error:?}");
    // A name is checked once resolved (localhost resolves to loopback only).
    let error = send(deny, format!("http://localhost:{port}/hook")).await.unwrap_err();
    assert!(matches!(&error, SendError::Permanent(e) if e.contains("refused addresses")), "{error:?}");
    let error = email::send(&smtp("localhost"), &render_for_mail(), StdDuration::from_secs(5), deny)
        .await
        .unwrap_err();
    assert!(matches!(&error, SendError::Permanent(e) if e.contains("refused addresses")), "{error:?}");
    assert_eq!(count(&got), 2, "nothing reached the receiver");

    // The setting, end to end: a loopback URL is refused when saved.
    let app = spawn_app_with(TestBackend::Sqlite, |s| s.outbound_deny_private = true).await.unwrap();
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let body = json!({"name": "local", "kind": "webhook", "config": {"url": format!("{base}/hook")}});
    let (field, message) =
        refused(app.api(Method::POST, "/api/v1/notifications/channels", Some(&admin), Some(body)).await)
            .await;
    assert_eq!(field, "config.url");
    assert!(message.contains("outbound_deny_private"), "{message}");
}

// ---------------------------------------------------------------- chat escaping

#[tokio::test]
async fn a_job_name_cannot_become_a_link_or_a_mention_in_chat() {
    let app = spawn_app(TestBackend::Sqlite).await.unwrap();
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let (base, got) = receiver(vec![Answer::status(204)]).await;
    let channel = create(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "discord", "kind": "discord", "locale": "en", "config": {"url": format!("{base}/discord")}}),
    )
    .await;
    create(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "failures", "events": ["run_failed"], "channel_ids": [channel["id"]]}),
    )
    .await;
    let job = create(&app, &admin, "/api/v1/jobs", json!({"name": "[x](http://evil) @everyone"})).await;
    ping_failure(&app, &job).await;
    drive(&app, &got, 1, Utc::now()).await;
    let body: Value = serde_json::from_slice(&got.lock().unwrap()[0].1).unwrap();
    let content = body["content"].as_str().unwrap();
    assert!(content.contains(r"\[x\]\(http://evil\)"), "{content}");
    assert!(!content.contains("[x](") && content.contains("@\u{200b}everyone"), "{content}");
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    assert_eq!(
        body["embeds"][0]["fields"][0]["value"],
        format!("{} @\u{200b}everyone", r"\[x\]\(http://evil\)")
    );
}
