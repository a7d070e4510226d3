//! Acknowledging a job's problem on both databases: reminders stop, the
//! next state change ends it, who may acknowledge and what is refused, and
//! the "Acknowledge" link of a real e-mail leads (through sign-in) to the
//! confirmation page whose plain form acknowledges.

use app::{
    model::{job::JobState, user::Role},
    ssr::{
        jobs::{ingest::Transition, store::writes},
        notify::outbox,
    },
};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::TestApp,
    notify_outbox::{Receiver, ping, post_json, queued, webhook_rule},
    notify_send::{SmtpReceiver, part},
};

async fn job(app: &TestApp, token: &str, id: &Value) -> Value {
    app.api(Method::GET, &format!("/api/v1/jobs/{id}"), Some(token), None).await.json().await.unwrap()
}

async fn acknowledge(app: &TestApp, token: &str, id: &Value, body: Option<Value>) -> reqwest::Response {
    app.api(Method::POST, &format!("/api/v1/jobs/{id}/acknowledge"), Some(token), body).await
}

async fn acknowledging_stops_reminders_and_the_next_state_change_ends_it(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let operator_user = app.add_user(Role::Operator).await;
    let operator = app.bearer(&operator_user).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let channel = webhook_rule(
        &app,
        &admin,
        &url,
        "every two hours",
        json!({"events": ["run_failed", "job_recovered"], "repeat_every_hours": 2}),
    )
    .await;
    let told_acks = webhook_rule(&app, &admin, &url, "acks", json!({"events": ["job_acknowledged"]})).await;
    let nas = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "nas"})).await;
    let id = &nas["id"];
    ping(&app, &nas, "/fail").await;
    assert_eq!(queued(&app, &admin, channel).await.len(), 1);
    let start = Utc::now();
    outbox::produce_at(&app.state, start + Duration::minutes(121)).await.unwrap();
    assert_eq!(queued(&app, &admin, channel).await.len(), 2, "a reminder before acknowledging");
    let before = job(&app, &operator, id).await;
    assert_eq!((&before["problem"], &before["acknowledgement"]), (&json!("failed"), &Value::Null));

    let response =
        acknowledge(&app, &operator, id, Some(json!({"comment": "disk replaced on Tuesday"}))).await;
    assert_eq!(response.status(), StatusCode::OK);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["job_id"], *id);
    assert_eq!(ack["problem"], "failed");
    assert_eq!(ack["by"], operator_user.username.as_str());
    assert_eq!(ack["comment"], "disk replaced on Tuesday");
    assert_eq!(ack["until"], Value::Null);
    assert_eq!(job(&app, &operator, id).await["acknowledgement"], ack, "the job shows it");
    let list: Value = app.api(Method::GET, "/api/v1/jobs", Some(&operator), None).await.json().await.unwrap();
    assert_eq!(list["items"][0]["acknowledgement"]["by"], ack["by"], "{list}");
    assert_eq!(
        queued(&app, &admin, told_acks).await,
        vec![("job_acknowledged".to_owned(), "nas".to_owned())],
        "the acknowledgement is told to the rules that want it"
    );

    // Reminders stop, however long it stays failed, even after another failure.
    for hours in [5, 9] {
        outbox::produce_at(&app.state, start + Duration::hours(hours)).await.unwrap();
        assert_eq!(queued(&app, &admin, channel).await.len(), 2, "{hours} hours later");
    }
    ping(&app, &nas, "/fail").await;
    assert_eq!(job(&app, &operator, id).await["acknowledgement"], ack, "the same problem again keeps it");

    // A recovery ends it.
    ping(&app, &nas, "").await;
    let after = job(&app, &operator, id).await;
    assert_eq!((&after["problem"], &after["acknowledgement"]), (&Value::Null, &Value::Null));
    let stored: Option<String> = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select ack_problem from jobs where id = $1")
            .bind(id.as_i64().unwrap())
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(stored, None, "cleared in the state change's transaction");

    // A new failure is a new problem: reminders come again.
    ping(&app, &nas, "/fail").await;
    let told = queued(&app, &admin, channel).await.len();
    outbox::produce_at(&app.state, Utc::now() + Duration::hours(3)).await.unwrap();
    assert_eq!(queued(&app, &admin, channel).await.len(), told + 1, "reminders of the new problem");

    // A different problem ends it too (failed → overdue).
    assert_eq!(acknowledge(&app, &operator, id, None).await.status(), StatusCode::OK);
    let overdue = Transition {
        from: vec![],
        to: JobState::Overdue,
        pause: None,
        next_expected_at: None,
        details: Some("overdue".into()),
    };
    writes::transition(&app.state.db, chrono_tz::UTC, id.as_i64().unwrap(), &overdue).await.unwrap().unwrap();
    let after = job(&app, &operator, id).await;
    assert_eq!((&after["problem"], &after["acknowledgement"]), (&json!("overdue"), &Value::Null));

    // Withdrawing: 204, then 404 (nothing left to withdraw); both audited.
    acknowledge(&app, &operator, id, None).await;
    let path = format!("/api/v1/jobs/{id}/acknowledge");
    assert_eq!(app.api(Method::DELETE, &path, Some(&operator), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(job(&app, &operator, id).await["acknowledgement"], Value::Null);
    assert_eq!(app.api(Method::DELETE, &path, Some(&operator), None).await.status(), StatusCode::NOT_FOUND);
    let audit: Value = app.api(Method::GET, "/api/v1/audit", Some(&admin), None).await.json().await.unwrap();
    let text = audit.to_string();
    assert!(text.contains("job.acknowledge") && text.contains("job.unacknowledge"), "{text}");
    assert!(text.contains("disk replaced on Tuesday"), "the audit entry says why: {text}");
}

both_backends!(stops_reminders, acknowledging_stops_reminders_and_the_next_state_change_ends_it);

async fn only_operators_acknowledge_and_bad_input_is_refused(app: TestApp) {
    let operator = app.bearer(&app.add_user(Role::Operator).await).await;
    let viewer = app.bearer(&app.add_user(Role::Viewer).await).await;
    let nas = post_json(&app, &operator, "/api/v1/jobs", json!({"name": "nas"})).await;
    let db = post_json(&app, &operator, "/api/v1/jobs", json!({"name": "db"})).await;
    let id = &nas["id"];

    let response = acknowledge(&app, &operator, id, None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "a new job has no problem");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("no problem"), "{body}");
    ping(&app, &nas, "/fail").await;
    ping(&app, &db, "/fail").await;

    // Viewers may look, not acknowledge.
    assert_eq!(acknowledge(&app, &viewer, id, None).await.status(), StatusCode::FORBIDDEN);
    let path = format!("/api/v1/jobs/{id}/acknowledge");
    assert_eq!(app.api(Method::DELETE, &path, Some(&viewer), None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(job(&app, &viewer, id).await["acknowledgement"], Value::Null);
    assert_eq!(acknowledge(&app, &operator, &json!(999_999), None).await.status(), StatusCode::NOT_FOUND);

    let field = |body: Value| body["error"]["field"].as_str().unwrap_or_default().to_owned();
    let refused = [
        (json!({"until": (Utc::now() - Duration::minutes(5)).to_rfc3339()}), "until"),
        (json!({"until": (Utc::now() + Duration::days(31)).to_rfc3339()}), "until"),
        (json!({"comment": "x".repeat(1001)}), "comment"),
        (json!({"comment": "bell\u{7}"}), "comment"),
    ];
    for (body, name) in refused {
        let response = acknowledge(&app, &operator, id, Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(field(response.json().await.unwrap()), name, "{body}");
    }
    let unknown = acknowledge(&app, &operator, id, Some(json!({"note": "x"}))).await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    // An `until` in the past ends it when read.
    let until = Utc::now() + Duration::days(2);
    let ack: Value = acknowledge(&app, &operator, id, Some(json!({"until": until.to_rfc3339()})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ack["comment"], Value::Null);
    assert!(ack["until"].is_string(), "{ack}");
    app::on_db!(&app.state.db, |pool| {
        sqlx::query("update jobs set ack_until = $1 where id = $2")
            .bind(Utc::now() - Duration::minutes(1))
            .bind(id.as_i64().unwrap())
            .execute(pool)
            .await
            .unwrap();
    });
    assert_eq!(job(&app, &operator, id).await["acknowledgement"], Value::Null, "its time passed");

    // A write token limited to one job acknowledges only that job.
    let token: Value = post_json(
        &app,
        &operator,
        "/api/v1/tokens",
        json!({"name": "nas script", "scope": "write", "job_ids": [nas["id"]]}),
    )
    .await;
    let limited = token["secret"].as_str().unwrap();
    assert_eq!(acknowledge(&app, limited, &db["id"], None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(acknowledge(&app, limited, id, None).await.status(), StatusCode::OK);
    let read: Value =
        post_json(&app, &operator, "/api/v1/tokens", json!({"name": "reader", "scope": "read"})).await;
    let read = read["secret"].as_str().unwrap();
    assert_eq!(acknowledge(&app, read, &db["id"], None).await.status(), StatusCode::FORBIDDEN);
}

both_backends!(who_and_what, only_operators_acknowledge_and_bad_input_is_refused);

async fn the_link_in_an_email_leads_through_sign_in_to_the_page_that_acknowledges(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let operator = app.add_user(Role::Operator).await;
    let viewer = app.add_user(Role::Viewer).await;
    let smtp = SmtpReceiver::start(false).await;
    let channel = post_json(
        &app,
        &admin,
        "/api/v1/notifications/channels",
        json!({"name": "ops mail", "kind": "email", "locale": "en",
               "config": {"host": "127.0.0.1", "port": smtp.port, "tls": "none",
                          "from": "backup@example.co.jp", "to": ["ops@example.co.jp"]}}),
    )
    .await;
    post_json(
        &app,
        &admin,
        "/api/v1/notifications/rules",
        json!({"name": "failures by mail", "events": ["run_failed"], "channel_ids": [channel["id"]]}),
    )
    .await;
    let nas = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "nas"})).await;
    let id = nas["id"].as_i64().unwrap();
    ping(&app, &nas, "/fail").await;
    outbox::produce(&app.state).await.unwrap();
    for _ in 0..50 {
        outbox::work_once(&app.state, Utc::now()).await.unwrap();
        if !smtp.received().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "one e-mail about the failure");
    let text = part(&mail[0].data, "text/plain");
    let html = part(&mail[0].data, "text/html");
    let expected = format!("{}/jobs/{id}/acknowledge", app.address);
    let line = text.lines().find(|l| l.starts_with("Acknowledge: ")).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line.trim_start_matches("Acknowledge: "), expected);
    assert!(html.contains(&format!("href=\"{expected}\"")), "{html}");
    let path = &expected[app.address.len()..];

    // Not signed in: to the sign-in page, which comes back here.
    let browser = app.browser();
    let page = |client: &reqwest::Client| {
        client.get(format!("{}{path}", app.address)).header(header::ACCEPT, "text/html").send()
    };
    let response = page(&browser).await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let login = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(login, format!("/login?next=%2Fjobs%2F{id}%2Facknowledge"));
    let login_page = browser
        .get(format!("{}{login}", app.address))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login_page.contains(&format!("value=\"/jobs/{id}/acknowledge\"")), "the form keeps the way back");
    let response = browser
        .post(format!("{}/api/fn/auth/login", app.address))
        .header(header::ACCEPT, "text/html")
        .form(&[
            ("username", operator.username.as_str()),
            ("password", operator.password.as_str()),
            ("next", path),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::LOCATION], path);

    // Signed in as an operator: the job, its problem and one button.
    let html = page(&browser).await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"ack-form\""), "{html}");
    assert!(html.contains("The latest run failed") && html.contains(">nas</a>"), "{html}");
    assert!(html.contains("action=\"/api/fn/jobs/acknowledge\""), "a plain form posts to the server fn");

    // Its form, posted without JavaScript, acknowledges and comes back.
    let response = browser
        .post(format!("{}/api/fn/jobs/acknowledge", app.address))
        .header(header::ACCEPT, "text/html")
        .header(header::REFERER, &expected)
        .form(&[("id", id.to_string().as_str()), ("comment", "on it"), ("until", "")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    // Back to the page (the console may add its own query to a form's redirect).
    let back = response.headers()[header::LOCATION].to_str().unwrap();
    assert_eq!(back.split('?').next(), Some(expected.as_str()), "{back}");
    let html = page(&browser).await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"ack-banner\"") && html.contains("on it"), "{html}");
    assert!(!html.contains("data-testid=\"ack-form\""));
    let shown: Value =
        app.api(Method::GET, &format!("/api/v1/jobs/{id}"), Some(&admin), None).await.json().await.unwrap();
    assert_eq!(shown["acknowledgement"]["by"], operator.username.as_str());
    assert_eq!(shown["acknowledgement"]["comment"], "on it");

    // The dashboard's "Needs attention" says who acknowledged it and why.
    let dashboard = browser.get(format!("{}/", app.address)).header(header::ACCEPT, "text/html").send();
    let dashboard = dashboard.await.unwrap().text().await.unwrap();
    assert!(dashboard.contains("data-testid=\"problem-ack\"") && dashboard.contains("on it"), "{dashboard}");

    // A viewer sees the page but is told they cannot acknowledge.
    let viewer_browser = app.browser_as(&viewer).await;
    let mut viewer_html = page(&viewer_browser).await.unwrap().text().await.unwrap();
    assert!(viewer_html.contains("data-testid=\"ack-banner\""));
    app::ssr::jobs::store::ack::clear(&app.state.db, id).await.unwrap();
    viewer_html = page(&viewer_browser).await.unwrap().text().await.unwrap();
    assert!(
        viewer_html.contains("data-testid=\"ack-viewer\"") && !viewer_html.contains("ack-form"),
        "{viewer_html}"
    );
    let response = viewer_browser
        .post(format!("{}/api/fn/jobs/acknowledge", app.address))
        .form(&[("id", id.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

both_backends!(email_link, the_link_in_an_email_leads_through_sign_in_to_the_page_that_acknowledges);
