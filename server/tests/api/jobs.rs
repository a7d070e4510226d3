//! Jobs, the report-in API (ping URLs, run reports, the Veeam webhook),
//! expected schedules with late/missed/overdue detection, and run history
//! with keyset pagination, on both databases.

use app::{model::user::Role, ssr::jobs::monitor};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp};

/// An operator's bearer token.
async fn operator(app: &TestApp) -> String {
    let user = app.add_user(Role::Operator).await;
    app.bearer(&user).await
}

async fn create_job(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.api(Method::POST, "/api/v1/jobs", Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.api(Method::GET, path, Some(token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

fn ping_path(job: &Value) -> String {
    let url = job["ping_url"].as_str().unwrap();
    url[url.find("/ping/").unwrap()..].to_owned()
}

async fn a_job_needs_only_a_name_and_has_the_documented_shape(app: TestApp) {
    let token = operator(&app).await;
    let job = create_job(&app, &token, json!({"name": "nightly-files"})).await;
    for field in [
        "id",
        "name",
        "description",
        "source",
        "tags",
        "schedule",
        "grace_seconds",
        "max_duration_seconds",
        "state",
        "paused_until",
        "last_run",
        "next_expected_at",
        "ping_url",
        "created_at",
        "updated_at",
    ] {
        assert!(job.get(field).is_some(), "missing {field}: {job}");
    }
    assert_eq!(job["state"], "new");
    assert_eq!(job["source"], "push");
    assert_eq!(job["schedule"]["kind"], "none");
    assert_eq!(job["grace_seconds"], 3600);
    assert!(job["ping_url"].as_str().unwrap().starts_with(&format!("{}/ping/", app.address)));

    let job = create_job(
        &app,
        &token,
        json!({"name": "db-dump", "tags": ["Tokyo", "db", "tokyo"], "description": "pg_dump of the ERP database",
               "schedule": {"kind": "cron", "cron": "0 2 * * *", "timezone": "Asia/Tokyo"},
               "grace_seconds": 1800, "max_duration_seconds": 7200}),
    )
    .await;
    assert_eq!(job["tags"], json!(["db", "tokyo"]));
    assert_eq!(
        job["schedule"],
        json!({"kind": "cron", "cron": "0 2 * * *", "timezone": "Asia/Tokyo", "interval_seconds": null})
    );
    let next = chrono::DateTime::parse_from_rfc3339(job["next_expected_at"].as_str().unwrap()).unwrap();
    assert_eq!(next.with_timezone(&chrono_tz::Asia::Tokyo).format("%H:%M").to_string(), "02:00");

    // Viewers see jobs but not their ping URLs.
    let viewer = app.bearer(&app.add_user(Role::Viewer).await).await;
    let seen = get_json(&app, &format!("/api/v1/jobs/{}", job["id"]), &viewer).await;
    assert_eq!(seen["ping_url"], Value::Null);
    let denied = app.api(Method::POST, "/api/v1/jobs", Some(&viewer), Some(json!({"name": "x"}))).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
}
both_backends!(job_shape, a_job_needs_only_a_name_and_has_the_documented_shape);

async fn invalid_jobs_are_refused_naming_the_field(app: TestApp) {
    let token = operator(&app).await;
    create_job(&app, &token, json!({"name": "taken"})).await;
    let cases = [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(201)}), "name"),
        (json!({"name": "taken"}), "name"),
        (json!({"name": "a", "schedule": {"kind": "cron", "cron": "every night"}}), "schedule.cron"),
        (
            json!({"name": "a", "schedule": {"kind": "cron", "cron": "0 2 * * *", "timezone": "Tokyo"}}),
            "schedule.timezone",
        ),
        (
            json!({"name": "a", "schedule": {"kind": "interval", "interval_seconds": 5}}),
            "schedule.interval_seconds",
        ),
        (json!({"name": "a", "grace_seconds": -1}), "grace_seconds"),
        (json!({"name": "a", "max_duration_seconds": 10}), "max_duration_seconds"),
        (json!({"name": "a", "tags": ["no spaces please"]}), "tags"),
        (json!({"name": "a", "source": "veeam"}), "source"),
        (json!({"name": "a", "owner_id": 999999}), "owner_id"),
    ];
    for (body, field) in cases {
        let response = app.api(Method::POST, "/api/v1/jobs", Some(&token), Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    // Unknown fields and wrong types are malformed requests.
    for body in [
        json!({"name": "a", "nmae": "typo"}),
        json!({"name": 5}),
        json!({"name": "a", "grace_seconds": "an hour"}),
    ] {
        let response = app.api(Method::POST, "/api/v1/jobs", Some(&token), Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // In Japanese for Japanese callers.
    let response = app
        .client
        .post(format!("{}/api/v1/jobs", app.address))
        .bearer_auth(&token)
        .header(header::ACCEPT_LANGUAGE, "ja")
        .json(&json!({"name": "a", "schedule": {"kind": "cron", "cron": "0 2 * * *", "timezone": "Tokyo"}}))
        .send()
        .await
        .unwrap();
    let message = response.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("タイムゾーン"), "{message}");
    let listed = get_json(&app, "/api/v1/jobs", &token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "nothing half-stored");
}
both_backends!(invalid_jobs, invalid_jobs_are_refused_naming_the_field);

async fn ping_urls_record_runs(app: TestApp) {
    let token = operator(&app).await;
    let job = create_job(&app, &token, json!({"name": "restic"})).await;
    let ping = ping_path(&job);
    let id = job["id"].as_i64().unwrap();

    // start, then success with a log body.
    let response = app.client.post(format!("{}{ping}/start", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "OK\n");
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await["state"], "running");
    let log = "snapshot 1a2b3c saved\nprocessed 1234 files\n";
    app.client.post(format!("{}{ping}", app.address)).body(log).send().await.unwrap();
    let job_now = get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await;
    assert_eq!(job_now["state"], "ok");
    let run = &job_now["last_run"];
    assert_eq!(run["result"], "success");
    assert!(run["duration_seconds"].as_i64().unwrap() >= 0);
    let detail = get_json(&app, &format!("/api/v1/runs/{}", run["id"]), &token).await;
    assert_eq!(detail["log_excerpt"], log);
    assert_eq!(detail["origin"], "ping");
    let runs = get_json(&app, &format!("/api/v1/runs?job_id={id}"), &token).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1, "start and finish are one run");

    // rid pairs start and finish; exit codes; GET works too.
    app.client.get(format!("{}{ping}/start?rid=run-7", app.address)).send().await.unwrap();
    app.client.get(format!("{}{ping}/3?rid=run-7", app.address)).send().await.unwrap();
    let job_now = get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await;
    assert_eq!(job_now["state"], "failed");
    assert_eq!(job_now["last_run"]["exit_code"], 3);
    assert_eq!(job_now["last_run"]["external_id"], "run-7");
    app.client.post(format!("{}{ping}/0", app.address)).send().await.unwrap();
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await["state"], "ok");
    app.client.post(format!("{}{ping}/fail", app.address)).send().await.unwrap();
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await["state"], "failed");
    let runs = get_json(&app, &format!("/api/v1/runs?job_id={id}"), &token).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 4);

    // Bad input: a clear 4xx, nothing stored.
    let response = app.client.post(format!("{}/ping/not-a-token", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("unknown ping token"));
    let response = app.client.post(format!("{}{ping}/explode", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("unknown ping action"));
    let response = app.client.post(format!("{}{ping}/999", app.address)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let huge = vec![b'x'; 1024 * 1024 + 1];
    let response = app.client.post(format!("{}{ping}", app.address)).body(huge).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().await.unwrap().contains("1 MiB"));
    let runs = get_json(&app, &format!("/api/v1/runs?job_id={id}"), &token).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 4, "nothing half-stored");
}
both_backends!(ping_urls, ping_urls_record_runs);

async fn the_run_api_records_starts_finishes_and_duplicates_once(app: TestApp) {
    let token = operator(&app).await;
    let job = create_job(&app, &token, json!({"name": "rsync"})).await;
    let id = job["id"].as_i64().unwrap();
    // An ingest-scope API token.
    let created: Value = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(&token),
            Some(json!({"name": "rsync host", "scope": "ingest"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let ingest = created["secret"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/jobs/{id}/runs");

    let start = json!({"result": "running", "external_id": "rsync-2026-11-22", "started_at": "2026-11-22T02:00:00+09:00"});
    let response = app.api(Method::POST, &path, Some(&ingest), Some(start)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let finish = json!({"result": "warning", "external_id": "rsync-2026-11-22", "ended_at": "2026-11-22T02:10:30.5+09:00",
                        "bytes_processed": 1048576, "exit_code": 24, "message": "some files vanished", "log": "rsync warning: some files vanished"});
    let response = app.api(Method::POST, &path, Some(&ingest), Some(finish.clone())).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["created"], true);
    assert_eq!(outcome["state"], "warning");
    let response = app.api(Method::POST, &path, Some(&ingest), Some(finish)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["created"], false);
    assert_eq!(again["run_id"], outcome["run_id"]);

    let run = get_json(&app, &format!("/api/v1/runs/{}", outcome["run_id"]), &token).await;
    assert_eq!(run["started_at"], "2026-11-21T17:00:00Z");
    assert_eq!(run["duration_seconds"], 630);
    assert_eq!(run["bytes_processed"], 1048576);
    assert_eq!(run["result"], "warning");

    // Malformed input.
    let cases: [(Value, StatusCode, &str); 6] = [
        (json!({"result": "exploded"}), StatusCode::BAD_REQUEST, ""),
        (json!({"result": "success", "started_at": "yesterday"}), StatusCode::BAD_REQUEST, ""),
        (
            json!({"result": "success", "started_at": "2026-11-22T03:00:00Z", "ended_at": "2026-11-22T02:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "ended_at",
        ),
        (json!({"result": "missed"}), StatusCode::UNPROCESSABLE_ENTITY, "result"),
        (
            json!({"result": "success", "bytes_processed": -5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "bytes_processed",
        ),
        (json!({"result": "success", "bogus": 1}), StatusCode::BAD_REQUEST, ""),
    ];
    for (body, status, field) in cases {
        let response = app.api(Method::POST, &path, Some(&ingest), Some(body.clone())).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        if !field.is_empty() {
            assert_eq!(error["error"]["field"], field, "{body}");
        }
        assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    }
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .bearer_auth(&ingest)
        .header(header::CONTENT_TYPE, "application/json")
        .body(format!("{{\"result\": \"success\", \"log\": \"{}\"}}", "x".repeat(1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
    let response = app
        .api(Method::POST, "/api/v1/jobs/999999/runs", Some(&ingest), Some(json!({"result": "success"})))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The ingest token reports only.
    assert_eq!(
        app.api(Method::GET, "/api/v1/jobs", Some(&ingest), None).await.status(),
        StatusCode::FORBIDDEN
    );

    let runs = get_json(&app, &format!("/api/v1/runs?job_id={id}"), &token).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1, "nothing half-stored");
}
both_backends!(run_api, the_run_api_records_starts_finishes_and_duplicates_once);

async fn the_veeam_webhook_is_idempotent_per_session(app: TestApp) {
    let token = operator(&app).await;
    let body = json!({
        "veeam_job_id": "A1B2C3D4-0000-4000-8000-000000000001",
        "job_name": "Veeam VM Backup",
        "session_id": "9f0c2e1a-1111-4222-8333-444455556666",
        "result": "Success",
        "start_time": "2026-11-22T01:00:00.1234567+09:00",
        "end_time": "2026-11-22T01:42:10+09:00",
        "bytes_processed": 52428800,
        "message": "Processed 12 VMs"
    });
    for path in ["/api/veeam/job-complete", "/api/v1/veeam/job-complete"] {
        let response = app.api(Method::POST, path, Some(&token), Some(body.clone())).await;
        let status = response.status();
        let outcome: Value = response.json().await.unwrap();
        if path == "/api/veeam/job-complete" {
            assert_eq!(status, StatusCode::CREATED);
            assert_eq!(outcome["created"], true);
        } else {
            assert_eq!(status, StatusCode::OK, "the same session again");
            assert_eq!(outcome["created"], false);
        }
    }
    let jobs = get_json(&app, "/api/v1/jobs?source=veeam", &token).await;
    let job = &jobs["items"][0];
    assert_eq!(job["name"], "Veeam VM Backup");
    assert_eq!(job["veeam_job_id"], "a1b2c3d4-0000-4000-8000-000000000001");
    assert_eq!(job["state"], "ok");
    let runs = get_json(&app, &format!("/api/v1/runs?job_id={}", job["id"]), &token).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 1);
    assert_eq!(runs["items"][0]["duration_seconds"], 2529);
    assert_eq!(runs["items"][0]["external_id"], "9f0c2e1a-1111-4222-8333-444455556666");

    // Another session, found by name, result in any case, time without fraction.
    let second = json!({"job_name": "Veeam VM Backup", "session_id": "second", "result": "WARNING",
                        "start_time": "2026-11-23T01:00:00+09:00", "end_time": "2026-11-23T01:30:00Z"});
    let response = app.api(Method::POST, "/api/veeam/job-complete", Some(&token), Some(second)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "warning");

    let cases = [
        (json!({"result": "Success"}), "veeam_job_id"),
        (json!({"job_name": "x", "result": "Exploded"}), "result"),
        (json!({"job_name": "x", "result": "Failed", "start_time": "22/11/2026 01:00"}), "start_time"),
        (json!({"job_name": "x", "result": "Failed", "end_time": "2026-11-22 01:00:00"}), "end_time"),
    ];
    for (body, field) in cases {
        let response =
            app.api(Method::POST, "/api/veeam/job-complete", Some(&token), Some(body.clone())).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.json::<Value>().await.unwrap()["error"]["field"], field, "{body}");
    }
    let response = app
        .client
        .post(format!("{}/api/veeam/job-complete", app.address))
        .bearer_auth(&token)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{\"job_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app
        .api(
            Method::POST,
            "/api/veeam/job-complete",
            None,
            Some(json!({"job_name": "x", "result": "Success"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get_json(&app, "/api/v1/jobs?source=veeam", &token).await["items"].as_array().unwrap().len(),
        1,
        "no job half-created"
    );
}
both_backends!(veeam_webhook, the_veeam_webhook_is_idempotent_per_session);

async fn missed_late_and_overdue_are_detected(app: TestApp) {
    let token = operator(&app).await;
    let hourly = create_job(
        &app,
        &token,
        json!({"name": "hourly", "schedule": {"kind": "interval", "interval_seconds": 3600}, "grace_seconds": 600}),
    )
    .await;
    let id = hourly["id"].as_i64().unwrap();
    let expected = chrono::DateTime::parse_from_rfc3339(hourly["next_expected_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);

    // Just past the expected time: late.
    let outcome = monitor::run_once(&app.state, expected + Duration::minutes(1)).await.unwrap();
    assert_eq!(outcome.late, 1);
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await["state"], "late");

    // Past the grace period: a real missed run, and the job is missed.
    let outcome = monitor::run_once(&app.state, expected + Duration::minutes(11)).await.unwrap();
    assert_eq!(outcome.missed, 1);
    let job = get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await;
    assert_eq!(job["state"], "missed");
    assert_eq!(job["last_run"]["result"], "missed");
    assert_eq!(
        job["last_run"]["started_at"].as_str().unwrap(),
        expected.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert_eq!(
        job["next_expected_at"]
            .as_str()
            .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)),
        Some(expected + Duration::hours(1))
    );
    // Checking again changes nothing.
    assert_eq!(
        monitor::run_once(&app.state, expected + Duration::minutes(12)).await.unwrap(),
        monitor::Outcome::default()
    );

    // A console that was down for hours: every occurrence in between is missed.
    let past = create_job(
        &app,
        &token,
        json!({"name": "hourly-past", "schedule": {"kind": "interval", "interval_seconds": 3600}, "grace_seconds": 600}),
    )
    .await;
    let past_id = past["id"].as_i64().unwrap();
    let three_hours_ago = app::ssr::jobs::ingest::now() - Duration::hours(3) - Duration::minutes(15);
    app::ssr::jobs::store::jobs::set_next_expected(&app.state.db, past_id, Some(three_hours_ago))
        .await
        .unwrap();
    // The console's own monitor (every 15 s) may get there first: what
    // matters is that the four slots are stored, once each.
    let outcome = monitor::run_once(&app.state, Utc::now()).await.unwrap();
    assert!(outcome.missed <= 4, "{outcome:?}");
    let missed = get_json(&app, &format!("/api/v1/runs?job_id={past_id}&result=missed"), &token).await;
    assert_eq!(
        missed["items"].as_array().unwrap().len(),
        4,
        "-3h15, -2h15, -1h15 and -0h15 (its grace has passed)"
    );

    // A run arrives: ok again.
    let ping = ping_path(&past);
    app.client.post(format!("{}{ping}", app.address)).send().await.unwrap();
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{past_id}"), &token).await["state"], "ok");

    // Overdue: running longer than the maximum duration.
    let long = create_job(&app, &token, json!({"name": "long", "max_duration_seconds": 600})).await;
    app.client.post(format!("{}{}/start", app.address, ping_path(&long))).send().await.unwrap();
    let outcome = monitor::run_once(&app.state, Utc::now() + Duration::minutes(11)).await.unwrap();
    assert_eq!(outcome.overdue, 1);
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{}", long["id"]), &token).await["state"], "overdue");

    // Paused jobs are never late or missed; resuming brings the state back.
    let id = past_id;
    let paused = app.api(Method::POST, &format!("/api/v1/jobs/{id}/pause"), Some(&token), None).await;
    assert_eq!(paused.status(), StatusCode::OK);
    let paused: Value = paused.json().await.unwrap();
    assert_eq!(paused["state"], "paused");
    assert_eq!(paused["next_expected_at"], Value::Null);
    monitor::run_once(&app.state, Utc::now() + Duration::days(3)).await.unwrap();
    let missed = get_json(&app, &format!("/api/v1/runs?job_id={id}&result=missed"), &token).await;
    assert_eq!(missed["items"].as_array().unwrap().len(), 4, "nothing more missed while paused");
    let resumed: Value = app
        .api(Method::POST, &format!("/api/v1/jobs/{id}/resume"), Some(&token), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resumed["state"], "ok");
    assert!(resumed["next_expected_at"].is_string());

    // A timed pause ends by itself.
    let until = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let response = app
        .api(Method::POST, &format!("/api/v1/jobs/{id}/pause"), Some(&token), Some(json!({"until": until})))
        .await;
    assert_eq!(response.json::<Value>().await.unwrap()["state"], "paused");
    let outcome = monitor::run_once(&app.state, Utc::now() + Duration::minutes(61)).await.unwrap();
    assert_eq!(outcome.resumed, 1);
    assert_eq!(get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await["state"], "ok");
    let response = app
        .api(
            Method::POST,
            &format!("/api/v1/jobs/{id}/pause"),
            Some(&token),
            Some(json!({"until": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // State changes were stored as events, in order.
    let events: Vec<(String, String)> =
        app::ssr::jobs::store::jobs::events_of(&app.state.db, hourly["id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(events, [("new".to_owned(), "late".to_owned()), ("late".to_owned(), "missed".to_owned())]);
    let events: Vec<(String, String)> =
        app::ssr::jobs::store::jobs::events_of(&app.state.db, past_id).await.unwrap();
    let to: Vec<&str> = events.iter().map(|(_, to)| to.as_str()).collect();
    assert_eq!(to, ["missed", "ok", "paused", "ok", "paused", "ok"]);
}
both_backends!(missed_detection, missed_late_and_overdue_are_detected);

async fn keyset_pages_return_every_run_once_while_runs_arrive(app: TestApp) {
    let token = operator(&app).await;
    let job = create_job(&app, &token, json!({"name": "busy"})).await;
    let id = job["id"].as_i64().unwrap();
    let path = format!("/api/v1/jobs/{id}/runs");
    // 60 runs, several sharing a start time (the id breaks ties).
    let base = Utc::now() - Duration::days(2);
    let mut expected = std::collections::BTreeSet::new();
    for i in 0..60 {
        let started = base + Duration::minutes(i / 3);
        let body = json!({"result": "success", "started_at": started, "ended_at": started + Duration::seconds(30), "external_id": format!("r{i}")});
        let outcome: Value =
            app.api(Method::POST, &path, Some(&token), Some(body)).await.json().await.unwrap();
        expected.insert(outcome["run_id"].as_i64().unwrap());
    }
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    let mut page_number = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/runs?job_id={id}&limit=7&cursor={c}"),
            None => format!("/api/v1/runs?job_id={id}&limit=7"),
        };
        let page = get_json(&app, &url, &token).await;
        let items = page["items"].as_array().unwrap();
        // Newest first.
        for pair in items.windows(2) {
            assert!(pair[0]["started_at"].as_str() >= pair[1]["started_at"].as_str());
        }
        seen.extend(items.iter().map(|r| r["id"].as_i64().unwrap()));
        // New runs arrive between pages.
        let body = json!({"result": "success", "external_id": format!("new{page_number}")});
        app.api(Method::POST, &path, Some(&token), Some(body)).await;
        page_number += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no run twice");
    let seen: std::collections::BTreeSet<i64> = seen.into_iter().collect();
    assert!(expected.is_subset(&seen), "every original run exactly once");
    let response = app.api(Method::GET, "/api/v1/runs?cursor=%%%", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["field"], "cursor");
    let response = app.api(Method::GET, "/api/v1/runs?cursor=bm9wZQ", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.api(Method::GET, "/api/v1/runs?result=exploded", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
both_backends!(keyset_pagination, keyset_pages_return_every_run_once_while_runs_arrive);

async fn filters_aliases_editing_and_deleting_work(app: TestApp) {
    let token = operator(&app).await;
    let a = create_job(&app, &token, json!({"name": "alpha", "tags": ["tokyo"]})).await;
    create_job(&app, &token, json!({"name": "beta", "tags": ["osaka"]})).await;
    assert_eq!(get_json(&app, "/api/v1/jobs?tag=tokyo", &token).await["items"].as_array().unwrap().len(), 1);
    assert_eq!(get_json(&app, "/api/v1/jobs?q=ET", &token).await["items"][0]["name"], "beta");
    assert_eq!(
        get_json(&app, "/api/v1/jobs?state=new&limit=1", &token).await["items"].as_array().unwrap().len(),
        1
    );
    // The design's paths.
    assert_eq!(get_json(&app, "/api/jobs", &token).await["items"].as_array().unwrap().len(), 2);
    assert_eq!(get_json(&app, &format!("/api/jobs/{}", a["id"]), &token).await["name"], "alpha");
    app.client.post(format!("{}{}", app.address, ping_path(&a))).send().await.unwrap();
    assert_eq!(get_json(&app, "/api/history", &token).await["items"].as_array().unwrap().len(), 1);
    let response = app.api(Method::POST, "/api/jobs", Some(&token), Some(json!({"name": "gamma"}))).await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let patched = app
        .api(
            Method::PATCH,
            &format!("/api/v1/jobs/{}", a["id"]),
            Some(&token),
            Some(json!({"description": "changed", "max_duration_seconds": null, "tags": []})),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["description"], "changed");
    assert_eq!(patched["tags"], json!([]));

    let response = app.api(Method::DELETE, &format!("/api/jobs/{}", a["id"]), Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api(Method::GET, &format!("/api/v1/jobs/{}", a["id"]), Some(&token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_json(&app, "/api/history", &token).await["items"].as_array().unwrap().len(),
        0,
        "its history went with it"
    );
}
both_backends!(filters_and_aliases, filters_aliases_editing_and_deleting_work);

/// The run list's filters are read once, by one type (`RunQuery`), whichever
/// transport they come through: the same mistake gets the same 4xx naming
/// the same field from `GET /api/v1/runs` and from the history page's
/// server function, in the caller's language.
async fn a_bad_run_filter_gets_the_same_answer_from_both_transports(app: TestApp) {
    let viewer = app.add_user(Role::Viewer).await;
    let token = app.bearer(&viewer).await;
    let browser = app.browser_as(&viewer).await;
    for (name, value, field) in [
        ("result", "bogus", "result"),
        ("since", "yesterday", "since"),
        ("until", "2026-13-45", "until"),
        ("job_id", "seven", "job_id"),
        ("limit", "lots", "limit"),
    ] {
        let rest = app.api(Method::GET, &format!("/api/v1/runs?{name}={value}"), Some(&token), None).await;
        let rest_status = rest.status();
        let rest_body: Value = rest.json().await.unwrap();
        let server_fn = browser
            .post(format!("{}/api/fn/runs/list", app.address))
            .form(&[(name, value)])
            .send()
            .await
            .unwrap();
        let fn_status = server_fn.status();
        let fn_body: Value = server_fn.json().await.unwrap();
        assert_eq!(rest_status, StatusCode::UNPROCESSABLE_ENTITY, "REST {name}={value}: {rest_body}");
        assert_eq!(fn_status, rest_status, "server fn {name}={value}: {fn_body}");
        assert_eq!(rest_body["error"]["code"], "validation");
        assert_eq!(rest_body["error"]["field"], field, "{rest_body}");
        assert_eq!(fn_body["code"], "validation", "{fn_body}");
        assert_eq!(fn_body["field"], field, "{fn_body}");
        assert_eq!(fn_body["message"], rest_body["error"]["message"], "the same words either way");
    }
    // Good filters work through both, with dates in the console's zone.
    let rest = app.api(Method::GET, "/api/v1/runs?result=failed&since=2026-11-22", Some(&token), None).await;
    assert_eq!(rest.status(), StatusCode::OK);
    let server_fn = browser
        .post(format!("{}/api/fn/runs/list", app.address))
        .form(&[("result", "failed"), ("since", "2026-11-22")])
        .send()
        .await
        .unwrap();
    assert_eq!(server_fn.status(), StatusCode::OK, "{}", server_fn.text().await.unwrap());
}
both_backends!(run_filters_both_transports, a_bad_run_filter_gets_the_same_answer_from_both_transports);

/// Runs `deploy/scripts/report-run.sh` with `args` against `ping_url`;
/// returns the script's exit code, stdout and stderr.
async fn report_run(ping_url: &str, args: &[&str]) -> (i32, String, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/scripts/report-run.sh");
    let output = tokio::process::Command::new("bash")
        .arg(script)
        .args(args)
        .env("BACKUP_PING_URL", ping_url)
        .env("BACKUP_LOG_LINES", "3")
        // Keep retries short when the console is deliberately unreachable.
        .env("BACKUP_CURL_OPTS", "--retry 0")
        .output()
        .await
        .expect("bash runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_report_run_script_reports_starts_exit_codes_and_logs() {
    let app =
        crate::helpers::spawn_app(app::ssr::infra::db::test_support::TestBackend::Sqlite).await.unwrap();
    let token = operator(&app).await;
    let job = create_job(&app, &token, json!({"name": "rsync nightly"})).await;
    let id = job["id"].as_i64().unwrap();
    let ping_url = format!("{}{}", app.address, ping_path(&job));

    // A failing command: its exit code passes through and is recorded with
    // the last BACKUP_LOG_LINES lines of its output (stdout and stderr).
    let (code, stdout, _) = report_run(
        &ping_url,
        &["sh", "-c", "echo line 1; echo line 2; echo copying; echo 'rsync: write failed: No space left on device' >&2; exit 11"],
    )
    .await;
    assert_eq!(code, 11);
    assert!(stdout.contains("line 1"), "the command's output still reaches the terminal: {stdout}");
    let job_now = get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await;
    assert_eq!(job_now["state"], "failed");
    let run = &job_now["last_run"];
    assert_eq!(run["exit_code"], 11);
    assert_eq!(run["result"], "failed");
    let detail = get_json(&app, &format!("/api/v1/runs/{}", run["id"]), &token).await;
    let log = detail["log_excerpt"].as_str().unwrap();
    assert!(log.contains("No space left on device"), "{log}");
    assert!(!log.contains("line 1"), "only the last 3 lines are sent: {log}");
    assert!(run["external_id"].is_string(), "the start and finish share a rid: {run}");

    // A succeeding command: one run, success.
    let (code, _, _) = report_run(&ping_url, &["true"]).await;
    assert_eq!(code, 0);
    let job_now = get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await;
    assert_eq!(job_now["state"], "ok");
    let runs = get_json(&app, &format!("/api/v1/runs?job_id={id}"), &token).await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 2, "start and finish pair into one run each");

    // An unreachable console never fails the backup itself.
    let address = app.address.clone();
    app.stop().await.unwrap();
    let (code, _, stderr) = report_run(&format!("{address}/ping/whatever"), &["true"]).await;
    assert_eq!(code, 0);
    assert!(stderr.contains("could not reach the console"), "{stderr}");

    // Misuse gets a usage message.
    let (code, _, stderr) = report_run("", &["true"]).await;
    assert_eq!(code, 64);
    assert!(stderr.contains("usage"), "{stderr}");
}
