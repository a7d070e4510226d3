//! Regression tests of the security review (issue 12): nobody can silence
//! the console with a report dated in the future, a deleted user's token
//! never answers for someone else, signing out ends the session, limits
//! cannot be dodged, and tokens keep to what they were made for.

use std::sync::{Arc, Mutex};

use app::model::user::Role;
use axum::{Router, body::Bytes, routing::post};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, spawn_app_with},
};

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let response = app.api(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{path}: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn job_json(app: &TestApp, token: &str, id: &Value) -> Value {
    app.api(Method::GET, &format!("/api/v1/jobs/{id}"), Some(token), None).await.json().await.unwrap()
}

/// Webhook bodies received on loopback.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |body: Bytes| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or_default()
}

async fn a_report_from_the_future_is_refused_and_a_failure_still_alerts(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let (url, got) = receiver().await;
    let channel = created(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "hook", "kind": "webhook", "locale": "en", "config": {"url": url}}),
    )
    .await;
    created(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "failures", "events": ["run_failed"], "channel_ids": [channel["id"]]}),
    )
    .await;
    let job = created(
        &app,
        &admin,
        "/api/v1/jobs",
        json!({"name": "nightly", "schedule": {"kind": "interval", "interval_seconds": 3600}}),
    )
    .await;
    let before = job_json(&app, &admin, &job["id"]).await;

    // Far in the future: refused, naming the field; nothing changes.
    let runs = format!("/api/v1/jobs/{}/runs", job["id"]);
    for (body, field) in [
        (json!({"result": "success", "started_at": "2999-01-01T00:00:00Z"}), "started_at"),
        (json!({"result": "success", "ended_at": "2999-01-01T00:00:00Z"}), "ended_at"),
    ] {
        let response = app.api(Method::POST, &runs, Some(&admin), Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_field(&response.json().await.unwrap()), field);
    }
    let webhook = json!({"job_name": "nightly-veeam", "session_id": "s", "result": "Success",
                         "start_time": "2999-01-01T00:00:00Z"});
    let response = app.api(Method::POST, "/api/veeam/job-complete", Some(&admin), Some(webhook)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&response.json().await.unwrap()), "start_time");
    let after = job_json(&app, &admin, &job["id"]).await;
    assert_eq!(after["next_expected_at"], before["next_expected_at"]);
    assert_eq!(after["last_run"], Value::Null);

    // A clock a little ahead is accepted, but the last run is never in the future.
    let soon = (Utc::now() + Duration::minutes(3)).to_rfc3339();
    let response = app
        .api(Method::POST, &runs, Some(&admin), Some(json!({"result": "success", "started_at": soon})))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let after = job_json(&app, &admin, &job["id"]).await;
    let last: chrono::DateTime<Utc> = after["last_run"]["started_at"].as_str().unwrap().parse().unwrap();
    assert!(last <= Utc::now(), "last run at {last}");

    // And a failure still alerts.
    let url = job["ping_url"].as_str().unwrap();
    let path = &url[url.find("/ping/").unwrap()..];
    let response = app.client.post(format!("{}{path}/fail", app.address)).send().await.unwrap();
    assert!(response.status().is_success());
    for _ in 0..100 {
        if !got.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "run_failed");
    assert_eq!(job_json(&app, &admin, &job["id"]).await["state"], "failed");
}
both_backends!(future_reports, a_report_from_the_future_is_refused_and_a_failure_still_alerts);

async fn an_ingest_token_limited_to_a_tag_reports_only_for_those_jobs(app: TestApp) {
    let operator = app.add_user(Role::Operator).await;
    let jwt = app.bearer(&operator).await;
    let nas = created(&app, &jwt, "/api/v1/jobs", json!({"name": "nas", "tags": ["nas"]})).await;
    let db = created(&app, &jwt, "/api/v1/jobs", json!({"name": "db", "tags": ["db"]})).await;
    let named = created(&app, &jwt, "/api/v1/jobs", json!({"name": "named"})).await;
    let token = created(
        &app,
        &jwt,
        "/api/v1/tokens",
        json!({"name": "nas script", "scope": "ingest", "tags": ["NAS"], "job_ids": [named["id"]]}),
    )
    .await;
    assert_eq!(token["token"]["tags"], json!(["nas"]));
    assert_eq!(token["token"]["job_ids"], json!([named["id"]]));
    let secret = token["secret"].as_str().unwrap();
    let report = |id: &Value| {
        let path = format!("/api/v1/jobs/{id}/runs");
        let app = &app;
        async move { app.api(Method::POST, &path, Some(secret), Some(json!({"result": "success"}))).await }
    };
    assert_eq!(report(&nas["id"]).await.status(), StatusCode::CREATED);
    assert_eq!(report(&named["id"]).await.status(), StatusCode::CREATED);
    assert_eq!(report(&db["id"]).await.status(), StatusCode::FORBIDDEN);
    // Nor can it create a job through the Veeam webhook.
    let webhook = json!({"job_name": "new veeam job", "result": "Success"});
    let response = app.api(Method::POST, "/api/veeam/job-complete", Some(secret), Some(webhook)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A limited write token changes only its jobs, and nothing beyond jobs:
    // no maintenance window can hold back every alert.
    let admin = app.add_user(Role::Admin).await;
    let admin_jwt = app.bearer(&admin).await;
    let token = created(
        &app,
        &admin_jwt,
        "/api/v1/tokens",
        json!({"name": "nas admin script", "scope": "write", "tags": ["nas"]}),
    )
    .await;
    let write = token["secret"].as_str().unwrap();
    let patch = |id: &Value| {
        let path = format!("/api/v1/jobs/{id}");
        let app = &app;
        async move { app.api(Method::PATCH, &path, Some(write), Some(json!({"description": "x"}))).await }
    };
    assert_eq!(patch(&nas["id"]).await.status(), StatusCode::OK);
    assert_eq!(patch(&db["id"]).await.status(), StatusCode::FORBIDDEN);
    let pause = format!("/api/v1/jobs/{}/pause", db["id"]);
    assert_eq!(app.api(Method::POST, &pause, Some(write), None).await.status(), StatusCode::FORBIDDEN);
    let delete = format!("/api/v1/jobs/{}", db["id"]);
    assert_eq!(app.api(Method::DELETE, &delete, Some(write), None).await.status(), StatusCode::FORBIDDEN);
    let window = json!({"name": "quiet", "kind": "once", "starts_at": Utc::now().to_rfc3339(),
                        "ends_at": (Utc::now() + Duration::days(365)).to_rfc3339()});
    let response = app.api(Method::POST, "/api/v1/maintenance-windows", Some(write), Some(window)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app.api(Method::POST, "/api/v1/jobs", Some(write), Some(json!({"name": "new"}))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // It sees the ping URLs (credentials) of its own jobs only.
    let listed: Value = app.api(Method::GET, "/api/v1/jobs", Some(write), None).await.json().await.unwrap();
    for job in listed["items"].as_array().unwrap() {
        assert_eq!(job["ping_url"].is_string(), job["name"] == "nas", "{job}");
    }

    // Bad limits are named.
    for (body, field) in [
        (json!({"name": "x", "scope": "ingest", "tags": ["no spaces"]}), "tags"),
        (json!({"name": "x", "scope": "ingest", "job_ids": [0]}), "job_ids"),
    ] {
        let response = app.api(Method::POST, "/api/v1/tokens", Some(&jwt), Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_field(&response.json().await.unwrap()), field);
    }
}
both_backends!(limited_tokens, an_ingest_token_limited_to_a_tag_reports_only_for_those_jobs);

async fn a_deleted_users_token_never_answers_for_the_next_user(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let bob = app.add_user(Role::Viewer).await;
    let bob_token = app.bearer(&bob).await;
    let bob_browser = app.browser_as(&bob).await;
    let response = app.api(Method::DELETE, &format!("/api/v1/users/{}", bob.id), Some(&admin), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let carol = created(
        &app,
        &admin,
        "/api/v1/users",
        json!({"username": "carol", "email": "carol@example.co.jp", "role": "admin",
               "password": "carol's long passphrase"}),
    )
    .await;
    assert!(carol["user"]["id"].as_i64().unwrap() > bob.id, "ids are never reused");
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some(&bob_token), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let me: Value = bob_browser
        .post(format!("{}/api/fn/auth/me", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me, Value::Null);
}
both_backends!(deleted_users_tokens, a_deleted_users_token_never_answers_for_the_next_user);

async fn signing_out_ends_the_session_on_the_server(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let client = app.browser();
    let response = app.sign_in(&client, &user).await;
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("bms_session="))
        .unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let me_with = |cookie: String| {
        app.client.get(format!("{}/api/v1/me", app.address)).header(header::COOKIE, cookie).send()
    };
    assert_eq!(me_with(cookie.clone()).await.unwrap().status(), StatusCode::OK);
    let response = client.post(format!("{}/api/fn/auth/logout", app.address)).send().await.unwrap();
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    assert_eq!(
        me_with(cookie).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "the copied cookie is dead"
    );
}
both_backends!(sign_out_revokes, signing_out_ends_the_session_on_the_server);

async fn an_unused_one_time_password_expires_after_a_day(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let created = created(
        &app,
        &admin,
        "/api/v1/users",
        json!({"username": "dave", "email": "dave@example.co.jp", "role": "viewer"}),
    )
    .await;
    let otp = created["one_time_password"].as_str().unwrap().to_owned();
    let login = || {
        app.api(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "dave", "password": otp.clone()})),
        )
    };
    assert_eq!(login().await.status(), StatusCode::OK, "fresh: it works");
    let id = created["user"]["id"].as_i64().unwrap();
    let past = Utc::now() - Duration::minutes(1);
    app::on_db!(&app.state.db, |pool| {
        sqlx::query("update users set password_expires_at = $1 where id = $2")
            .bind(past)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    let response = login().await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"), "{body}");
}
both_backends!(one_time_password_expiry, an_unused_one_time_password_expires_after_a_day);

async fn password_changes_are_rate_limited(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let token = app.bearer(&user).await;
    let mut statuses = vec![];
    for i in 0..7 {
        let body =
            json!({"current_password": format!("guess number {i}"), "new_password": "a new long passphrase"});
        statuses.push(app.api(Method::POST, "/api/v1/me/password", Some(&token), Some(body)).await.status());
    }
    assert!(statuses[..4].iter().all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY), "{statuses:?}");
    assert_eq!(statuses[6], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}
both_backends!(password_change_limit, password_changes_are_rate_limited);

/// A sign-in attempt for `username` from `address` (behind a trusted proxy).
async fn sign_in_from(app: &TestApp, address: &str, username: &str, password: &str) -> StatusCode {
    app.client
        .post(format!("{}/api/v1/auth/login", app.address))
        .header("x-forwarded-for", address)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn forged_forwarded_addresses_neither_dodge_limits_nor_lock_out_an_admin() {
    use app::ssr::infra::db::test_support::TestBackend;
    let app = spawn_app_with(TestBackend::Sqlite, |s| s.trust_proxy = true).await.unwrap();
    let admin = app.add_user(Role::Admin).await;

    // The client writes the leftmost entry; the proxy appends the real one.
    let mut statuses = vec![];
    for i in 0..7 {
        let forwarded = format!("203.0.113.{i}, 198.51.100.1");
        statuses.push(sign_in_from(&app, &forwarded, &format!("nobody{i}"), "wrong password!!").await);
    }
    assert_eq!(statuses[6], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
    let audit = app.state.db.clone();
    let rows: Vec<(String, Option<String>)> = app::on_db!(&audit, |pool| {
        sqlx::query_as("select action, client_ip from audit_log where action like 'auth.login%'")
            .fetch_all(pool)
            .await
    })
    .unwrap();
    assert!(rows.iter().all(|(_, ip)| ip.as_deref() == Some("198.51.100.1")), "{rows:?}");
    let limited = rows.iter().filter(|(action, _)| action == "auth.login_rate_limited").count();
    assert_eq!(limited, 1, "one audit row per refused key and minute: {rows:?}");

    // The admin signed in from their desk before...
    assert_eq!(sign_in_from(&app, "192.0.2.10", &admin.username, &admin.password).await, StatusCode::OK);
    // ...then someone fails as the admin from many addresses...
    for i in 0..8 {
        sign_in_from(&app, &format!("192.0.2.{}", 100 + i), &admin.username, "not the password").await;
    }
    assert_eq!(
        sign_in_from(&app, "192.0.2.200", &admin.username, &admin.password).await,
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown address is held back"
    );
    // ...and the admin still gets in from the desk.
    assert_eq!(sign_in_from(&app, "192.0.2.10", &admin.username, &admin.password).await, StatusCode::OK);
    app.stop().await.unwrap();
}

async fn a_read_token_never_sees_ping_urls(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let jwt = app.bearer(&admin).await;
    let job = created(&app, &jwt, "/api/v1/jobs", json!({"name": "nightly"})).await;
    assert!(job["ping_url"].is_string());
    for (scope, visible) in [("read", false), ("ingest", true), ("write", true)] {
        let token = created(&app, &jwt, "/api/v1/tokens", json!({"name": scope, "scope": scope})).await;
        let secret = token["secret"].as_str().unwrap();
        if scope == "ingest" {
            // An ingest token cannot read jobs at all.
            continue;
        }
        let seen: Value = app
            .api(Method::GET, &format!("/api/v1/jobs/{}", job["id"]), Some(secret), None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(seen["ping_url"].is_string(), visible, "{scope}: {seen}");
    }
}
both_backends!(read_tokens_and_ping_urls, a_read_token_never_sees_ping_urls);

async fn the_veeam_webhook_validates_names_and_ids_like_the_job_api(app: TestApp) {
    let token = app.bearer(&app.add_user(Role::Operator).await).await;
    for (body, field) in [
        (json!({"job_name": "x".repeat(201), "result": "Success"}), "job_name"),
        (json!({"job_name": "evil\nname", "result": "Success"}), "job_name"),
        (json!({"veeam_job_id": "a".repeat(101), "result": "Success"}), "veeam_job_id"),
        (json!({"job_name": "ok", "session_id": "s".repeat(101), "result": "Success"}), "session_id"),
    ] {
        let response =
            app.api(Method::POST, "/api/veeam/job-complete", Some(&token), Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_field(&response.json().await.unwrap()), field, "{body}");
    }
    let jobs: Value = app.api(Method::GET, "/api/v1/jobs", Some(&token), None).await.json().await.unwrap();
    assert_eq!(jobs["items"], json!([]), "nothing created");
}
both_backends!(veeam_webhook_validation, the_veeam_webhook_validates_names_and_ids_like_the_job_api);

async fn a_cron_firing_every_second_is_refused(app: TestApp) {
    let token = app.bearer(&app.add_user(Role::Operator).await).await;
    let body = json!({"name": "flood", "schedule": {"kind": "cron", "cron": "* * * * * *"}});
    let response = app.api(Method::POST, "/api/v1/jobs", Some(&token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_field(&response.json().await.unwrap()), "schedule.cron");
}
both_backends!(cron_every_second, a_cron_firing_every_second_is_refused);
