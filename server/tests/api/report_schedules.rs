//! Scheduled report e-mails: the API (validation naming the field, roles,
//! changes), and the sending: a monthly report reaches a real SMTP
//! listener with the PDF attached, exactly once, also when the console
//! was down over several of its occurrences.

use std::time::Duration;

use app::{model::user::Role, ssr::reports::schedules};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{TestApp, TestUser},
    notify_send::SmtpReceiver,
};

/// An e-mail channel to `smtp` (plain SMTP on loopback); its id.
async fn email_channel(app: &TestApp, admin: &str, smtp: &SmtpReceiver, name: &str) -> i64 {
    let body = json!({
        "name": name, "kind": "email", "locale": "ja",
        "config": {"host": "127.0.0.1", "port": smtp.port, "tls": "none",
                   "from": "backup@example.co.jp", "to": ["ops@example.co.jp"]},
    });
    let response = app.api(Method::POST, "/api/v1/notifications/channels", Some(admin), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn admin(app: &TestApp) -> (TestUser, String) {
    let user = app.add_user(Role::Admin).await;
    let token = app.bearer(&user).await;
    (user, token)
}

/// A monthly schedule (the 1st at 06:00 in Tokyo, last month, Japanese).
async fn monthly(app: &TestApp, admin: &str, channel: i64) -> Value {
    let body = json!({
        "name": "月次レポート", "cadence": "monthly", "month_day": "1", "time_of_day": "06:00",
        "time_zone": "Asia/Tokyo", "lang": "ja", "channel_ids": [channel],
    });
    let response = app.api(Method::POST, "/api/v1/reports/schedules", Some(admin), Some(body)).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn set_next_send_at(db: &app::ssr::infra::db::Db, id: i64, at: DateTime<Utc>) {
    app::on_db!(db, |pool| {
        sqlx::query("update report_schedules set next_send_at = $2 where id = $1")
            .bind(id)
            .bind(at)
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap()
    });
}

/// Sends what is queued until `count` mails arrived (the console's own
/// task runs too; either may send a delivery, never both).
async fn until_mail(app: &TestApp, smtp: &SmtpReceiver, count: usize) {
    for _ in 0..300 {
        if smtp.received().len() >= count {
            return;
        }
        schedules::work_once(&app.state, Utc::now()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail arrived ({} of {count})", smtp.received().len());
}

/// The headers and decoded bytes of the MIME part with this content type.
fn attachment(data: &str, content_type: &str) -> (String, Vec<u8>) {
    let at = data
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part"));
    // The part's headers start after its boundary line.
    let part = data[..at].rfind("\r\n--").map_or(at, |b| b + 2 + data[b + 2..].find("\r\n").unwrap() + 2);
    let rest = &data[part..];
    let header_end = rest.find("\r\n\r\n").unwrap();
    let headers = rest[..header_end].replace("\r\n ", " ").replace("\r\n\t", " ");
    let body = &rest[header_end + 4..];
    let body = &body[..body.find("\r\n--").unwrap_or(body.len())];
    let bytes = if headers.contains("Content-Transfer-Encoding: base64") {
        STANDARD.decode(body.replace("\r\n", "")).unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    (headers, bytes)
}

/// Checks the one mail: subject, summary and the PDF.
fn check_mail(data: &str) {
    let subject = crate::notify_send::decoded_header(data, "Subject");
    assert_eq!(subject, "バックアップレポート 2026-11-01〜2026-11-30");
    let text = crate::notify_send::part(data, "text/plain");
    assert!(
        text.contains("月次レポート") && text.contains("SLA") && text.contains("2026-11-01 – 2026-11-30"),
        "{text}"
    );
    let html = crate::notify_send::part(data, "text/html");
    assert!(html.contains("成功率"), "{html}");
    assert!(data.contains("multipart/mixed"), "the PDF is attached beside the text");
    let (headers, pdf) = attachment(data, "application/pdf");
    assert!(headers.contains("attachment"), "{headers}");
    assert!(headers.contains("backup-report-2026-11-01-2026-11-30.pdf"), "{headers}");
    assert!(pdf.starts_with(b"%PDF"), "a PDF: {:?}", &pdf[..pdf.len().min(16)]);
}

// ---------------------------------------------------------------- sending

/// The occurrence of 2026-12-01 06:00 in Tokyo, whose report is November's.
fn december_first() -> DateTime<Utc> {
    "2026-11-30T21:00:00Z".parse().unwrap()
}

async fn a_monthly_report_reaches_smtp_with_the_pdf_exactly_once(app: TestApp) {
    let (_, token) = admin(&app).await;
    let smtp = SmtpReceiver::start(false).await;
    let channel = email_channel(&app, &token, &smtp, "月次").await;
    let schedule = monthly(&app, &token, channel).await;
    let id = schedule["id"].as_i64().unwrap();
    let now = Utc::now();
    assert!(schedule["next_send_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap() > now);

    // The occurrence comes: two passes (and the console's own task) race.
    set_next_send_at(&app.state.db, id, december_first()).await;
    let (a, b) = tokio::join!(schedules::run_once(&app.state, now), schedules::run_once(&app.state, now));
    let queued = a.unwrap().queued + b.unwrap().queued;
    assert!(queued <= 1, "queued once at most by the two passes: {queued}");
    until_mail(&app, &smtp, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    schedules::run_once(&app.state, Utc::now()).await.unwrap();
    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "exactly one e-mail");
    assert_eq!(mail[0].to, vec!["<ops@example.co.jp>"]);
    check_mail(&mail[0].data);

    let stored: Value = app
        .api(Method::GET, &format!("/api/v1/reports/schedules/{id}"), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["last_period_from"], "2026-11-01");
    assert_eq!(stored["last_period_until"], "2026-11-30");
    let next: DateTime<Utc> = stored["next_send_at"].as_str().unwrap().parse().unwrap();
    assert!(next > now, "moved past now: {next}");
    let sent: Vec<Value> = app
        .api(Method::GET, "/api/v1/notifications/deliveries?status=sent", Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["event"], "scheduled_report");
    assert_eq!(sent[0]["subject"], "月次レポート");

    // Send now: another e-mail for the current period; the schedule's time stays.
    let response =
        app.api(Method::POST, &format!("/api/v1/reports/schedules/{id}/send-now"), Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["queued"], 1);
    until_mail(&app, &smtp, 2).await;
    let after: Value = app
        .api(Method::GET, &format!("/api/v1/reports/schedules/{id}"), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["next_send_at"], stored["next_send_at"]);
}
both_backends!(
    a_monthly_report_is_sent_once_with_its_pdf,
    a_monthly_report_reaches_smtp_with_the_pdf_exactly_once
);

async fn a_console_down_over_several_occurrences_sends_once(app: TestApp) {
    let (user, token) = admin(&app).await;
    let smtp = SmtpReceiver::start(false).await;
    let channel = email_channel(&app, &token, &smtp, "月次").await;
    let id = monthly(&app, &token, channel).await["id"].as_i64().unwrap();

    // Stopped; while it is down, the 1st of September, October, November
    // and December pass (next_send_at is still September's).
    let september: DateTime<Utc> = "2026-08-31T21:00:00Z".parse().unwrap();
    let app = app.restart(async |db| set_next_send_at(db, id, september).await).await;

    // Started again: its own first pass sends one e-mail, for the
    // occurrence it was waiting for; a second pass sends nothing more.
    until_mail(&app, &smtp, 1).await;
    let second = schedules::run_once(&app.state, Utc::now()).await.unwrap();
    assert_eq!(second.queued, 0, "{second:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    schedules::work_once(&app.state, Utc::now()).await.unwrap();
    let mail = smtp.received();
    assert_eq!(mail.len(), 1, "one e-mail, not one per missed occurrence");
    let (_, pdf) = attachment(&mail[0].data, "application/pdf");
    assert!(pdf.starts_with(b"%PDF"));
    let subject = crate::notify_send::decoded_header(&mail[0].data, "Subject");
    assert_eq!(
        subject, "バックアップレポート 2026-08-01〜2026-08-31",
        "the period of the occurrence it waited for"
    );

    let token = app.bearer(&user).await;
    let stored: Value = app
        .api(Method::GET, &format!("/api/v1/reports/schedules/{id}"), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stored["last_period_from"], "2026-08-01");
    let next: DateTime<Utc> = stored["next_send_at"].as_str().unwrap().parse().unwrap();
    assert!(next > Utc::now(), "the next occurrence is after now, not a missed one: {next}");
}
both_backends!(
    a_restart_after_missed_occurrences_sends_once,
    a_console_down_over_several_occurrences_sends_once
);

// ---------------------------------------------------------------- the API

async fn schedules_are_validated_read_by_anyone_and_changed_by_admins(app: TestApp) {
    let (_, token) = admin(&app).await;
    let viewer = app.bearer(&app.add_user(Role::Viewer).await).await;
    let smtp = SmtpReceiver::start(false).await;
    let mail = email_channel(&app, &token, &smtp, "mail").await;
    let slack: Value = app
        .api(
            Method::POST,
            "/api/v1/notifications/channels",
            Some(&token),
            Some(json!({"name": "slack", "kind": "slack", "config": {"url": "https://hooks.slack.com/x"}})),
        )
        .await
        .json()
        .await
        .unwrap();
    let base = json!({"name": "daily", "cadence": "daily", "time_of_day": "08:00", "channel_ids": [mail]});
    let with = |changes: Value| {
        let mut body = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, field) in [
        (with(json!({"name": " "})), "name"),
        (with(json!({"cadence": "hourly"})), "cadence"),
        (with(json!({"weekday": "mon"})), "weekday"),
        (with(json!({"cadence": "weekly"})), "weekday"),
        (with(json!({"cadence": "weekly", "weekday": "monday"})), "weekday"),
        (with(json!({"cadence": "monthly"})), "month_day"),
        (with(json!({"cadence": "monthly", "month_day": "31"})), "month_day"),
        (with(json!({"month_day": "1"})), "month_day"),
        (with(json!({"time_of_day": "8:00"})), "time_of_day"),
        (with(json!({"time_of_day": "24:00"})), "time_of_day"),
        (with(json!({"time_zone": "Mars/Olympus"})), "time_zone"),
        (with(json!({"period": "custom"})), "period"),
        (with(json!({"group_by": "day"})), "group_by"),
        (with(json!({"source": "tape"})), "source"),
        (with(json!({"lang": "fr"})), "lang"),
        (with(json!({"channel_ids": []})), "channel_ids"),
        (with(json!({"channel_ids": [slack["id"]]})), "channel_ids"),
        (with(json!({"channel_ids": [999_999]})), "channel_ids"),
    ] {
        let response =
            app.api(Method::POST, "/api/v1/reports/schedules", Some(&token), Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }

    // Created with the console's zone and the cadence's usual period.
    let response = app.api(Method::POST, "/api/v1/reports/schedules", Some(&token), Some(base.clone())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert!(location.ends_with(&format!("/api/v1/reports/schedules/{id}")), "{location}");
    assert_eq!(created["time_zone"], "Asia/Tokyo");
    assert_eq!(created["period"], "yesterday");
    assert_eq!(created["channel_ids"], json!([mail]));
    assert_eq!(created["enabled"], true);
    assert!(created["created_by"].as_str().unwrap().starts_with("admin"));
    let taken = app.api(Method::POST, "/api/v1/reports/schedules", Some(&token), Some(base.clone())).await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(taken.json::<Value>().await.unwrap()["error"]["field"], "name");

    // Viewers read, but do not change.
    let list = app.api(Method::GET, "/api/v1/reports/schedules", Some(&viewer), None).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(list.json::<Value>().await.unwrap().as_array().unwrap().len(), 1);
    let path = format!("/api/v1/reports/schedules/{id}");
    assert_eq!(app.api(Method::GET, &path, Some(&viewer), None).await.status(), StatusCode::OK);
    let viewer_patch = app.api(Method::PATCH, &path, Some(&viewer), Some(json!({"enabled": false}))).await;
    assert_eq!(viewer_patch.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::DELETE, &path, Some(&viewer), None).await.status(), StatusCode::FORBIDDEN);
    let send = app.api(Method::POST, &format!("{path}/send-now"), Some(&viewer), None).await;
    assert_eq!(send.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.api(Method::GET, "/api/v1/reports/schedules", None, None).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // A change to weekly needs a weekday, and moves the next occurrence.
    let response = app.api(Method::PATCH, &path, Some(&token), Some(json!({"cadence": "weekly"}))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .api(
            Method::PATCH,
            &path,
            Some(&token),
            Some(json!({"cadence": "weekly", "weekday": "mon", "time_zone": "Europe/Berlin", "tag": "db"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["weekday"], "mon");
    assert_eq!(changed["period"], "yesterday", "the period is kept");
    assert_eq!(changed["tag"], "db");
    let next: DateTime<Utc> = changed["next_send_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(next.with_timezone(&chrono_tz::Europe::Berlin).format("%a %H:%M").to_string(), "Mon 08:00");
    let cleared: Value =
        app.api(Method::PATCH, &path, Some(&token), Some(json!({"tag": ""}))).await.json().await.unwrap();
    assert_eq!(cleared["tag"], Value::Null);

    // The audit log has the changes.
    let audit: Value = app.api(Method::GET, "/api/v1/audit", Some(&token), None).await.json().await.unwrap();
    let text = audit.to_string();
    assert!(text.contains("report_schedule.create") && text.contains("report_schedule.update"), "{text}");

    assert_eq!(app.api(Method::DELETE, &path, Some(&token), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::GET, &path, Some(&token), None).await.status(), StatusCode::NOT_FOUND);
    let missing = app.api(Method::POST, &format!("{path}/send-now"), Some(&token), None).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
both_backends!(schedules_through_the_api, schedules_are_validated_read_by_anyone_and_changed_by_admins);
