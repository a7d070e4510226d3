//! The authorisation matrix: every API route, server function and page ×
//! {anonymous, viewer, operator, admin} gets the expected answer. The
//! tables must list every route that exists: a route added without an
//! entry fails this test.

use std::collections::BTreeSet;

use app::model::user::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, spawn_app_with};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Anyone, signed in or not.
    Anyone,
    /// Signed in with at least this role.
    AtLeast(Role),
}

const ROLES: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

/// What each `/api/v1` operation needs. Paths as in the OpenAPI document.
const API: &[(&str, &str, Who)] = &[
    ("POST", "/api/v1/auth/login", Who::Anyone),
    ("POST", "/api/v1/auth/logout", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/me", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/me/password", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/users", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/users", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/users/{id}", Who::AtLeast(Role::Admin)),
    ("PATCH", "/api/v1/users/{id}", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/users/{id}", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/users/{id}/reset-password", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/tokens", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/tokens", Who::AtLeast(Role::Viewer)),
    ("DELETE", "/api/v1/tokens/{id}", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/audit", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/jobs", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/jobs", Who::AtLeast(Role::Operator)),
    ("GET", "/api/v1/jobs/{id}", Who::AtLeast(Role::Viewer)),
    ("PATCH", "/api/v1/jobs/{id}", Who::AtLeast(Role::Operator)),
    ("DELETE", "/api/v1/jobs/{id}", Who::AtLeast(Role::Operator)),
    ("POST", "/api/v1/jobs/{id}/pause", Who::AtLeast(Role::Operator)),
    ("POST", "/api/v1/jobs/{id}/resume", Who::AtLeast(Role::Operator)),
    ("POST", "/api/v1/jobs/{id}/acknowledge", Who::AtLeast(Role::Operator)),
    ("DELETE", "/api/v1/jobs/{id}/acknowledge", Who::AtLeast(Role::Operator)),
    ("POST", "/api/v1/jobs/{id}/runs", Who::AtLeast(Role::Operator)),
    ("GET", "/api/v1/runs", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/runs/{id}", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/veeam/job-complete", Who::AtLeast(Role::Operator)),
    ("GET", "/api/v1/events", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/veeam/servers", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/veeam/servers", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/veeam/servers/{id}", Who::AtLeast(Role::Admin)),
    ("PATCH", "/api/v1/veeam/servers/{id}", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/veeam/servers/{id}", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/veeam/servers/{id}/test", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/veeam/servers/{id}/sync", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/jobs/{id}/machines", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/jobs/{id}/actions/{action}", Who::AtLeast(Role::Operator)),
    ("GET", "/api/v1/repositories", Who::AtLeast(Role::Viewer)),
    ("PATCH", "/api/v1/repositories/{id}", Who::AtLeast(Role::Operator)),
    ("GET", "/api/v1/notifications/channels", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/notifications/channels", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/notifications/channels/{id}", Who::AtLeast(Role::Admin)),
    ("PATCH", "/api/v1/notifications/channels/{id}", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/notifications/channels/{id}", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/notifications/channels/{id}/test", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/notifications/rules", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/notifications/rules", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/notifications/rules/{id}", Who::AtLeast(Role::Admin)),
    ("PATCH", "/api/v1/notifications/rules/{id}", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/notifications/rules/{id}", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/notifications/deliveries", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/notifications/deliveries/{id}/resend", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/notifications/suppressed", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/maintenance-windows", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/maintenance-windows", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/maintenance-windows/{id}", Who::AtLeast(Role::Admin)),
    ("PATCH", "/api/v1/maintenance-windows/{id}", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/maintenance-windows/{id}", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/reports/summary", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/reports/schedules", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/reports/schedules", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/reports/schedules/{id}", Who::AtLeast(Role::Viewer)),
    ("PATCH", "/api/v1/reports/schedules/{id}", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/reports/schedules/{id}", Who::AtLeast(Role::Admin)),
    ("POST", "/api/v1/reports/schedules/{id}/send-now", Who::AtLeast(Role::Admin)),
    ("GET", "/api/v1/calendar", Who::AtLeast(Role::Viewer)),
    ("GET", "/api/v1/calendar/closures", Who::AtLeast(Role::Viewer)),
    ("POST", "/api/v1/calendar/closures", Who::AtLeast(Role::Admin)),
    ("DELETE", "/api/v1/calendar/closures/{id}", Who::AtLeast(Role::Admin)),
];

/// What each server function needs.
const SERVER_FNS: &[(&str, Who)] = &[
    ("/api/fn/auth/me", Who::Anyone),
    ("/api/fn/auth/login", Who::Anyone),
    ("/api/fn/auth/logout", Who::Anyone),
    ("/api/fn/auth/flash", Who::Anyone),
    ("/api/fn/auth/password", Who::AtLeast(Role::Viewer)),
    ("/api/fn/auth/locale", Who::AtLeast(Role::Viewer)),
    ("/api/fn/users/list", Who::AtLeast(Role::Admin)),
    ("/api/fn/users/create", Who::AtLeast(Role::Admin)),
    ("/api/fn/users/update", Who::AtLeast(Role::Admin)),
    ("/api/fn/users/reset-password", Who::AtLeast(Role::Admin)),
    ("/api/fn/users/delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/tokens/list", Who::AtLeast(Role::Viewer)),
    ("/api/fn/tokens/create", Who::AtLeast(Role::Viewer)),
    ("/api/fn/tokens/revoke", Who::AtLeast(Role::Viewer)),
    ("/api/fn/audit/list", Who::AtLeast(Role::Admin)),
    ("/api/fn/jobs/dashboard", Who::AtLeast(Role::Viewer)),
    ("/api/fn/jobs/list", Who::AtLeast(Role::Viewer)),
    ("/api/fn/jobs/tags", Who::AtLeast(Role::Viewer)),
    ("/api/fn/jobs/page", Who::AtLeast(Role::Viewer)),
    ("/api/fn/jobs/form-choices", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/create", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/update", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/delete", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/pause", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/resume", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/acknowledge", Who::AtLeast(Role::Operator)),
    ("/api/fn/jobs/unacknowledge", Who::AtLeast(Role::Operator)),
    ("/api/fn/runs/list", Who::AtLeast(Role::Viewer)),
    ("/api/fn/runs/get", Who::AtLeast(Role::Viewer)),
    ("/api/fn/veeam/servers", Who::AtLeast(Role::Admin)),
    ("/api/fn/veeam/create", Who::AtLeast(Role::Admin)),
    ("/api/fn/veeam/update", Who::AtLeast(Role::Admin)),
    ("/api/fn/veeam/delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/veeam/test", Who::AtLeast(Role::Admin)),
    ("/api/fn/veeam/sync", Who::AtLeast(Role::Admin)),
    ("/api/fn/veeam/action", Who::AtLeast(Role::Operator)),
    ("/api/fn/veeam/repositories", Who::AtLeast(Role::Viewer)),
    ("/api/fn/veeam/repository-threshold", Who::AtLeast(Role::Operator)),
    ("/api/fn/notify/log", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/resend", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/settings", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/channel-save", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/channel-delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/channel-test", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/rule-save", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/rule-delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/window-save", Who::AtLeast(Role::Admin)),
    ("/api/fn/notify/window-delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/reports/summary", Who::AtLeast(Role::Viewer)),
    ("/api/fn/report-schedules/list", Who::AtLeast(Role::Viewer)),
    ("/api/fn/report-schedules/save", Who::AtLeast(Role::Admin)),
    ("/api/fn/report-schedules/delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/report-schedules/send-now", Who::AtLeast(Role::Admin)),
    ("/api/fn/calendar/page", Who::AtLeast(Role::Viewer)),
    ("/api/fn/calendar/closure-add", Who::AtLeast(Role::Admin)),
    ("/api/fn/calendar/closure-delete", Who::AtLeast(Role::Admin)),
    ("/api/fn/backups/page", Who::AtLeast(Role::Admin)),
    ("/api/fn/backups/create", Who::AtLeast(Role::Admin)),
    ("/api/fn/cluster/page", Who::AtLeast(Role::Admin)),
    ("/api/fn/badges/list", Who::AtLeast(Role::Operator)),
    ("/api/fn/badges/create", Who::AtLeast(Role::Operator)),
    ("/api/fn/badges/revoke", Who::AtLeast(Role::Operator)),
];

/// What each page needs (browser navigation: anonymous visitors are sent
/// to the sign-in page, other refusals get a 403 page).
const PAGES: &[(&str, Who)] = &[
    ("/", Who::AtLeast(Role::Viewer)),
    ("/jobs", Who::AtLeast(Role::Viewer)),
    ("/reports", Who::AtLeast(Role::Viewer)),
    ("/settings", Who::AtLeast(Role::Admin)),
    ("/users", Who::AtLeast(Role::Admin)),
    ("/audit", Who::AtLeast(Role::Admin)),
    ("/profile", Who::AtLeast(Role::Viewer)),
    ("/change-password", Who::AtLeast(Role::Viewer)),
    ("/login", Who::Anyone),
    ("/offline", Who::Anyone),
    ("/jobs/new", Who::AtLeast(Role::Operator)),
    ("/jobs/{id}", Who::AtLeast(Role::Viewer)),
    ("/jobs/{id}/edit", Who::AtLeast(Role::Operator)),
    ("/jobs/{id}/acknowledge", Who::AtLeast(Role::Viewer)),
    ("/history", Who::AtLeast(Role::Viewer)),
    ("/repositories", Who::AtLeast(Role::Viewer)),
    ("/notifications", Who::AtLeast(Role::Admin)),
    ("/runs/{id}", Who::AtLeast(Role::Viewer)),
    ("/reports/schedules", Who::AtLeast(Role::Viewer)),
    ("/settings/calendar", Who::AtLeast(Role::Viewer)),
    ("/settings/backups", Who::AtLeast(Role::Admin)),
    ("/settings/cluster", Who::AtLeast(Role::Admin)),
];

/// Creates a job with one run; returns (job id, run id, job name).
async fn job_with_run(app: &TestApp) -> (i64, i64, String) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let name = format!("rbac-job-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    use app::ssr::jobs::store::jobs::{Definition, NewJobRow, create};
    let row = NewJobRow {
        definition: Definition {
            name: &name,
            description: "",
            schedule_kind: app::model::schedule::ScheduleKind::None,
            schedule_cron: None,
            schedule_timezone: None,
            schedule_interval_seconds: None,
            grace_seconds: 3600,
            max_duration_seconds: None,
            owner_id: None,
        },
        source: app::model::job::JobSource::Push,
        ping_token: &app::ssr::jobs::new_ping_token(),
        veeam_server_id: None,
        veeam_job_id: None,
        tags: &[],
        next_expected_at: None,
    };
    let id = create(&app.state.db, &row).await.unwrap();
    let incoming = app::ssr::jobs::ingest::Incoming {
        result: app::model::job::RunResult::Success,
        started_at: None,
        ended_at: None,
        message: None,
        bytes_processed: None,
        exit_code: None,
        external_id: None,
        log: None,
        origin: "api",
    };
    let recorded = app::ssr::jobs::record(&app.state, id, incoming.clone()).await.unwrap();
    (id, recorded.run_id, name)
}

/// A job whose last run failed (a problem to acknowledge), acknowledged
/// already with `acknowledged`; its id.
async fn failing_job(app: &TestApp, acknowledged: bool) -> i64 {
    let (id, _, _) = job_with_run(app).await;
    let incoming = app::ssr::jobs::ingest::Incoming {
        result: app::model::job::RunResult::Failed,
        started_at: None,
        ended_at: None,
        message: None,
        bytes_processed: None,
        exit_code: None,
        external_id: None,
        log: None,
        origin: "api",
    };
    app::ssr::jobs::record(&app.state, id, incoming.clone()).await.unwrap();
    if acknowledged {
        app::on_db!(&app.state.db, |pool| {
            sqlx::query(
                "update jobs set ack_by = 'someone', ack_at = $1, ack_problem = 'failed' where id = $2",
            )
            .bind(chrono::Utc::now())
            .bind(id)
            .execute(pool)
            .await
            .unwrap();
        });
    }
    id
}

#[test]
fn every_api_route_is_in_the_table() {
    let document = server::api::v1::openapi();
    let mut actual = BTreeSet::new();
    for (path, item) in &document.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PATCH", &item.patch),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            if op.is_some() {
                actual.insert((method.to_owned(), path.clone()));
            }
        }
    }
    let table: BTreeSet<_> = API.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(actual, table, "add the new API route to the RBAC table (and check its role)");
}

#[test]
fn every_server_function_is_in_the_table() {
    let actual: BTreeSet<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_owned()).collect();
    let table: BTreeSet<String> = SERVER_FNS.iter().map(|(p, _)| (*p).to_owned()).collect();
    assert_eq!(actual, table, "add the new server function to the RBAC table (and check its role)");
}

#[tokio::test]
async fn every_page_is_in_the_table() {
    let routes: BTreeSet<String> =
        server::startup::route_list().into_iter().map(|r| r.path().to_owned()).collect();
    let table: BTreeSet<String> = PAGES.iter().map(|(p, _)| (*p).to_owned()).collect();
    assert_eq!(routes, table, "add the new page to the RBAC table (and check its role)");
}

fn expected(who: Who, caller: Option<Role>) -> &'static str {
    match (who, caller) {
        (Who::Anyone, _) => "allowed",
        (Who::AtLeast(_), None) => "unauthorized",
        (Who::AtLeast(min), Some(role)) if role >= min => "allowed",
        _ => "forbidden",
    }
}

/// A request for one API route on behalf of `caller`, with whatever the
/// route needs (a target user, a token) created first.
async fn api_call(
    app: &TestApp,
    method: &str,
    path: &str,
    caller: Option<&TestUser>,
    token: Option<&str>,
) -> StatusCode {
    let target = app.add_user(Role::Viewer).await;
    let (job_id, run_id, _) = job_with_run(app).await;
    // Veeam routes work on a server backed by a running simulator.
    let (_simulator, veeam) = if path.contains("veeam/servers/") || path.contains("/actions/") {
        let (sim, server_id, job) = veeam_server(app, path.contains("/actions/")).await;
        (Some(sim), Some((server_id, job)))
    } else {
        (None, None)
    };
    let concrete = if path.starts_with("/api/v1/reports/schedules/") {
        path.replace("{id}", &report_schedule(app).await.to_string())
    } else if path.starts_with("/api/v1/notifications/rules/") {
        path.replace("{id}", &rule(app).await.to_string())
    } else if path.starts_with("/api/v1/notifications/deliveries/") {
        path.replace("{id}", &delivery(app).await.to_string())
    } else if path.starts_with("/api/v1/calendar/closures/") {
        path.replace("{id}", &closure(app).await.to_string())
    } else if path.starts_with("/api/v1/maintenance-windows/") {
        path.replace("{id}", &window(app).await.to_string())
    } else if path.starts_with("/api/v1/repositories/") {
        path.replace("{id}", &repository(app).await.to_string())
    } else if path.starts_with("/api/v1/notifications/channels/") {
        path.replace("{id}", &channel(app).await.to_string())
    } else if let Some((server_id, veeam_job)) = veeam {
        path.replace("{action}", "enable")
            .replace("/jobs/{id}", &format!("/jobs/{}", veeam_job.unwrap_or_default()))
            .replace("{id}", &server_id.to_string())
    } else if path == "/api/v1/jobs/{id}/acknowledge" {
        path.replace("{id}", &failing_job(app, method == "DELETE").await.to_string())
    } else if path.starts_with("/api/v1/jobs/") {
        path.replace("{id}", &job_id.to_string())
    } else if path.starts_with("/api/v1/runs/") {
        path.replace("{id}", &run_id.to_string())
    } else {
        path.replace("{id}", &target.id.to_string())
    };
    let (concrete, body) = match (method, path) {
        ("POST", "/api/v1/auth/login") => {
            (concrete, Some(json!({ "username": target.username, "password": target.password })))
        }
        ("POST", "/api/v1/me/password") => (
            concrete,
            Some(json!({ "current_password": caller.map(|c| c.password.clone()).unwrap_or_default(),
                         "new_password": "another long passphrase" })),
        ),
        ("POST", "/api/v1/users") => (
            concrete,
            Some(
                json!({ "username": format!("new-{}", target.id), "email": "n@example.co.jp", "role": "viewer" }),
            ),
        ),
        ("PATCH", "/api/v1/users/{id}") => (concrete, Some(json!({ "locale": "ja" }))),
        ("POST", "/api/v1/reports/schedules") => (
            concrete,
            Some(
                json!({ "name": format!("schedule-{}", target.id), "cadence": "daily", "time_of_day": "08:00",
                         "channel_ids": [email_channel(app).await] }),
            ),
        ),
        ("PATCH", "/api/v1/reports/schedules/{id}") => (concrete, Some(json!({ "enabled": false }))),
        ("POST", "/api/v1/veeam/servers") => (
            concrete,
            Some(json!({ "name": format!("vbr-{}", target.id), "base_url": "https://127.0.0.1:9",
                         "username": "u", "password": "p", "enabled": false })),
        ),
        ("POST", "/api/v1/notifications/channels") => (
            concrete,
            Some(json!({ "name": format!("channel-{}", target.id), "kind": "slack",
                         "config": { "url": "http://127.0.0.1:9/hook" } })),
        ),
        ("POST", "/api/v1/notifications/rules") | ("PATCH", "/api/v1/notifications/rules/{id}") => (
            concrete,
            Some(json!({ "name": format!("rule-{}", uuid::Uuid::new_v4()), "events": ["run_failed"],
                         "channel_ids": [channel(app).await] })),
        ),
        ("POST", "/api/v1/maintenance-windows") | ("PATCH", "/api/v1/maintenance-windows/{id}") => (
            concrete,
            Some(json!({ "name": format!("window-{}", uuid::Uuid::new_v4()), "kind": "weekly",
                         "weekdays": ["sun"], "start_time": "22:00", "end_time": "02:00" })),
        ),
        ("POST", "/api/v1/calendar/closures") => (
            concrete,
            Some(json!({ "first_day": "2026-12-29", "last_day": "2027-01-03", "name": "年末年始休業" })),
        ),
        ("PATCH", "/api/v1/repositories/{id}") => (concrete, Some(json!({ "warning_free_percent": 20 }))),
        ("PATCH", "/api/v1/notifications/channels/{id}") => (concrete, Some(json!({ "locale": "en" }))),
        ("PATCH", "/api/v1/veeam/servers/{id}") => (concrete, Some(json!({ "sync_interval_seconds": 600 }))),
        ("POST", "/api/v1/tokens") => (concrete, Some(json!({ "name": "rbac", "scope": "read" }))),
        ("POST", "/api/v1/jobs") => (concrete, Some(json!({ "name": format!("api-job-{}", target.id) }))),
        ("PATCH", "/api/v1/jobs/{id}") => (concrete, Some(json!({ "description": "changed" }))),
        ("POST", "/api/v1/jobs/{id}/runs") => (concrete, Some(json!({ "result": "success" }))),
        ("POST", "/api/v1/veeam/job-complete") => {
            (concrete, Some(json!({ "job_name": format!("veeam-{}", target.id), "result": "Success" })))
        }
        ("DELETE", "/api/v1/tokens/{id}") => {
            // A token of the caller's own (or of the target, for anonymous calls).
            let owner = caller.map_or(target.id, |c| c.id);
            let id = own_token(app, owner).await;
            (path.replace("{id}", &id.to_string()), None)
        }
        _ => (concrete, None),
    };
    let response = app.api(Method::from_bytes(method.as_bytes()).unwrap(), &concrete, token, body).await;
    let status = response.status();
    if status.is_server_error() {
        eprintln!("{method} {concrete}: {}", response.text().await.unwrap_or_default());
    }
    status
}

/// A rule sending failures to a fresh channel.
async fn rule(app: &TestApp) -> i64 {
    let channel = channel(app).await;
    let name = format!("rbac-rule-{}", uuid::Uuid::new_v4());
    app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "insert into notification_rules (name, events, channel_ids, created_at, updated_at) \
             values ($1, 'run_failed', $2, $3, $3) returning id",
        )
        .bind(&name)
        .bind(channel.to_string())
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

/// A company closure.
async fn closure(app: &TestApp) -> i64 {
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    app::ssr::jobs::store::calendar::create(&app.state.db, day("2026-08-13"), day("2026-08-16"), "お盆")
        .await
        .unwrap()
}

async fn window(app: &TestApp) -> i64 {
    let name = format!("rbac-window-{}", uuid::Uuid::new_v4());
    app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "insert into maintenance_windows (name, kind, weekdays, start_time, end_time, time_zone, created_at, \
             updated_at) values ($1, 'weekly', 'sat', '01:00', '02:00', 'Asia/Tokyo', $2, $2) returning id",
        )
        .bind(&name)
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

/// A dead delivery (so it can be resent).
async fn delivery(app: &TestApp) -> i64 {
    let channel = channel(app).await;
    app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "insert into notification_deliveries (dedup_key, channel_id, event, notice, status, attempts, \
             next_attempt_at, created_at) values ($1, $2, 'run_failed', '{}', 'dead', 12, $3, $3) returning id",
        )
        .bind(format!("rbac:{}", uuid::Uuid::new_v4()))
        .bind(channel)
        .bind(chrono::Utc::now())
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

/// A repository of a (never synced) Veeam server.
async fn repository(app: &TestApp) -> i64 {
    let encrypted = app.state.cipher.encrypt("x");
    let name = format!("rbac-repo-server-{}", uuid::Uuid::new_v4());
    let fields = app::ssr::veeam::store::ServerFields {
        name: &name,
        base_url: "https://127.0.0.1:9/",
        username: "u",
        password_encrypted: &encrypted,
        api_version: None,
        tls_mode: "verify",
        ca_pem: None,
        sync_interval_seconds: 300,
        enabled: false,
    };
    let server = app::ssr::veeam::store::insert_server(&app.state.db, &fields).await.unwrap();
    let repository = app::ssr::veeam::store::RepositoryFields {
        external_id: "r1",
        name: "Repo",
        kind: "WinLocal",
        host_name: None,
        path: None,
        capacity_gb: 100.0,
        free_gb: 50.0,
        used_gb: 50.0,
        online: true,
    };
    app::ssr::veeam::store::upsert_repository(&app.state.db, server, "2026-11-22", &repository).await.unwrap()
}

/// A Slack channel pointing at a closed port (its test answers 200 with `ok: false`).
async fn channel(app: &TestApp) -> i64 {
    let config = serde_json::json!({"url": "http://127.0.0.1:9/hook"});
    let encrypted = app.state.cipher.encrypt(&config.to_string());
    let name = format!("rbac-channel-{}", uuid::Uuid::new_v4());
    app::ssr::notify::store::insert(&app.state.db, &name, "slack", "en", true, &encrypted).await.unwrap()
}

/// An e-mail channel to an SMTP server that is not there.
async fn email_channel(app: &TestApp) -> i64 {
    let config = serde_json::json!({"email": {"host": "127.0.0.1", "port": 9, "tls": "none", "username": null,
        "password": null, "from": "backup@example.co.jp", "to": ["ops@example.co.jp"], "trust_cert_pem": null}});
    let encrypted = app.state.cipher.encrypt(&config.to_string());
    let name = format!("rbac-mail-{}", uuid::Uuid::new_v4());
    app::ssr::notify::store::insert(&app.state.db, &name, "email", "en", true, &encrypted).await.unwrap()
}

/// A monthly scheduled report to a fresh e-mail channel.
async fn report_schedule(app: &TestApp) -> i64 {
    let channel = email_channel(app).await;
    let name = format!("rbac-schedule-{}", uuid::Uuid::new_v4());
    let now = chrono::Utc::now();
    let id: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "insert into report_schedules (name, cadence, month_day, time_of_day, time_zone, period, \
             created_at, updated_at, next_send_at) values ($1, 'monthly', '1', '06:00', 'Asia/Tokyo', \
             'last_month', $2, $2, $3) returning id",
        )
        .bind(&name)
        .bind(now)
        .bind(now + chrono::Duration::days(30))
        .fetch_one(pool)
        .await
        .unwrap()
    });
    app::on_db!(&app.state.db, |pool| {
        sqlx::query("insert into report_schedule_channels (schedule_id, channel_id) values ($1, $2)")
            .bind(id)
            .bind(channel)
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap()
    });
    id
}

/// A Veeam server on a fresh simulator (and, with `synced`, one of its jobs).
async fn veeam_server(app: &TestApp, synced: bool) -> (server::veeam_sim::Simulator, i64, Option<i64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = server::veeam_sim::SimConfig { jobs: 2, history_days: 1, speed: 0.0, ..Default::default() };
    let sim = server::veeam_sim::Simulator::start(config, listener, true).await.unwrap();
    let encrypted = app.state.cipher.encrypt("simulator");
    let name = format!("rbac-{}", uuid::Uuid::new_v4());
    let fields = app::ssr::veeam::store::ServerFields {
        name: &name,
        base_url: &sim.base_url,
        username: "administrator",
        password_encrypted: &encrypted,
        api_version: Some("1.3-rev2"),
        tls_mode: "verify",
        ca_pem: None,
        sync_interval_seconds: 300,
        enabled: false,
    };
    let id = app::ssr::veeam::store::insert_server(&app.state.db, &fields).await.unwrap();
    if !synced {
        return (sim, id, None);
    }
    app::ssr::veeam::sync::sync_server(&app.state, id).await.unwrap();
    let veeam_id = sim.jobs()[1].0.clone(); // enable works on any job
    let job: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select id from jobs where veeam_server_id = $1 and veeam_job_id = $2")
            .bind(id)
            .bind(&veeam_id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    (sim, id, Some(job))
}

async fn own_token(app: &TestApp, user_id: i64) -> i64 {
    let secret = app::ssr::accounts::auth::new_api_token_secret();
    app::ssr::accounts::store::api_tokens::create(
        &app.state.db,
        &app::ssr::accounts::store::api_tokens::NewToken {
            user_id,
            name: "rbac",
            scope: "read",
            secret_hash: &app::ssr::accounts::auth::hash_api_token_secret(&secret),
            prefix: "bms_",
            expires_at: None,
            job_ids: None,
            tags: None,
        },
    )
    .await
    .unwrap()
}

fn classify(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "unauthorized",
        403 => "forbidden",
        s if (200..300).contains(&s) => "allowed",
        _ => "unexpected",
    }
}

#[tokio::test]
async fn every_api_route_answers_each_role_as_the_table_says() {
    let app = matrix_app().await;
    let mut failures = vec![];
    for (method, path, who) in API {
        let anonymous = api_call(&app, method, path, None, None).await;
        if classify(anonymous) != expected(*who, None) {
            failures.push(format!("{method} {path} anonymous: {anonymous}"));
        }
        for role in ROLES {
            // A fresh caller per request: some calls end the caller's sessions.
            let caller = app.add_user(role).await;
            let token = app.bearer(&caller).await;
            let status = api_call(&app, method, path, Some(&caller), Some(&token)).await;
            if classify(status) != expected(*who, Some(role)) {
                failures.push(format!("{method} {path} as {}: {status}", role.as_str()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn server_fn_form(path: &str, target: &TestUser, caller: Option<&TestUser>) -> Vec<(String, String)> {
    let id = target.id.to_string();
    let pairs: Vec<(&str, String)> = match path {
        "/api/fn/auth/login" => {
            vec![("username", target.username.clone()), ("password", target.password.clone())]
        }
        "/api/fn/auth/password" => vec![
            ("current_password", caller.map(|c| c.password.clone()).unwrap_or_default()),
            ("new_password", "another long passphrase".into()),
            ("confirm_password", "another long passphrase".into()),
        ],
        "/api/fn/auth/locale" => vec![("locale", "ja".into())],
        "/api/fn/users/create" => vec![
            ("username", format!("fn-{id}")),
            ("email", "fn@example.co.jp".into()),
            ("role", "viewer".into()),
            ("locale", "en".into()),
        ],
        "/api/fn/users/update" => vec![("id", id), ("locale", "ja".into())],
        "/api/fn/users/reset-password" | "/api/fn/users/delete" => vec![("id", id)],
        "/api/fn/tokens/create" => vec![("name", "rbac".into()), ("scope", "read".into())],
        "/api/fn/jobs/create" => vec![("form[name]", format!("fn-job-{id}"))],
        "/api/fn/calendar/closure-add" => vec![
            ("first_day", "2026-12-29".into()),
            ("last_day", "2027-01-03".into()),
            ("name", "年末年始休業".into()),
        ],
        "/api/fn/notify/channel-save" => vec![
            ("form[name]", format!("fn-channel-{id}")),
            ("form[kind]", "webhook".into()),
            ("form[url]", "http://127.0.0.1:9/hook".into()),
            ("form[enabled]", "true".into()),
        ],
        "/api/fn/notify/window-save" => vec![
            ("form[name]", format!("fn-window-{id}")),
            ("form[kind]", "weekly".into()),
            ("form[day_sun]", "on".into()),
            ("form[start_time]", "22:00".into()),
            ("form[end_time]", "02:00".into()),
        ],
        "/api/fn/veeam/create" => vec![
            ("name", format!("fn-vbr-{id}")),
            ("base_url", "https://127.0.0.1:9".into()),
            ("username", "u".into()),
            ("password", "p".into()),
        ],
        _ => vec![],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A status badge of `job_id`, made by an administrator.
async fn badge_of(app: &TestApp, job_id: i64) -> i64 {
    let admin = app.browser_as(&app.add_user(Role::Admin).await).await;
    let badge: serde_json::Value = admin
        .post(format!("{}/api/fn/badges/create", app.address))
        .form(&[("job_id", job_id.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    badge["id"].as_i64().unwrap()
}

#[tokio::test]
async fn every_server_function_answers_each_role_as_the_table_says() {
    let app = matrix_app().await;
    let mut failures = vec![];
    for (path, who) in SERVER_FNS {
        for role in [None, Some(Role::Viewer), Some(Role::Operator), Some(Role::Admin)] {
            let target = app.add_user(Role::Viewer).await;
            let caller = match role {
                Some(role) => Some(app.add_user(role).await),
                None => None,
            };
            let client = match &caller {
                Some(user) => app.browser_as(user).await,
                None => app.browser(),
            };
            let mut form = server_fn_form(path, &target, caller.as_ref());
            if *path == "/api/fn/tokens/revoke" {
                let owner = caller.as_ref().map_or(target.id, |c| c.id);
                form.push(("id".into(), own_token(&app, owner).await.to_string()));
            }
            if path.starts_with("/api/fn/jobs/") || path.starts_with("/api/fn/runs/") {
                let (job_id, run_id, job_name) = job_with_run(&app).await;
                match *path {
                    "/api/fn/jobs/page" | "/api/fn/jobs/pause" | "/api/fn/jobs/resume" => {
                        form.push(("id".into(), job_id.to_string()));
                    }
                    "/api/fn/jobs/acknowledge" | "/api/fn/jobs/unacknowledge" => {
                        let acknowledged = *path == "/api/fn/jobs/unacknowledge";
                        form.push(("id".into(), failing_job(&app, acknowledged).await.to_string()));
                    }
                    "/api/fn/jobs/update" => {
                        form.push(("id".into(), job_id.to_string()));
                        form.push(("form[name]".into(), job_name));
                    }
                    "/api/fn/jobs/delete" => {
                        form.push(("id".into(), job_id.to_string()));
                        form.push(("confirm_name".into(), job_name));
                    }
                    "/api/fn/runs/get" => form.push(("id".into(), run_id.to_string())),
                    _ => {}
                }
            }
            if path.starts_with("/api/fn/badges/") {
                let (job_id, _, _) = job_with_run(&app).await;
                form.push(("job_id".into(), job_id.to_string()));
                if *path == "/api/fn/badges/revoke" {
                    form.push(("id".into(), badge_of(&app, job_id).await.to_string()));
                }
            }
            if *path == "/api/fn/notify/resend" {
                form.push(("id".into(), delivery(&app).await.to_string()));
            }
            if matches!(*path, "/api/fn/notify/channel-delete" | "/api/fn/notify/channel-test") {
                form.push(("id".into(), channel(&app).await.to_string()));
            }
            if *path == "/api/fn/notify/rule-delete" {
                form.push(("id".into(), rule(&app).await.to_string()));
            }
            if *path == "/api/fn/calendar/closure-delete" {
                form.push(("id".into(), closure(&app).await.to_string()));
            }
            if *path == "/api/fn/notify/window-delete" {
                form.push(("id".into(), window(&app).await.to_string()));
            }
            if *path == "/api/fn/notify/rule-save" {
                form.push(("form[name]".into(), format!("fn-rule-{}", uuid::Uuid::new_v4())));
                form.push(("form[event_run_failed]".into(), "on".into()));
                form.push((format!("form[channel_{}]", channel(&app).await), "on".into()));
            }
            if matches!(*path, "/api/fn/report-schedules/delete" | "/api/fn/report-schedules/send-now") {
                form.push(("id".into(), report_schedule(&app).await.to_string()));
            }
            if *path == "/api/fn/report-schedules/save" {
                form.push(("form[name]".into(), format!("fn-schedule-{}", uuid::Uuid::new_v4())));
                form.push(("form[cadence]".into(), "daily".into()));
                form.push(("form[time_of_day]".into(), "08:00".into()));
                form.push((format!("form[channel_{}]", email_channel(&app).await), "on".into()));
            }
            if *path == "/api/fn/veeam/repository-threshold" {
                form.push(("id".into(), repository(&app).await.to_string()));
                form.push(("warning_free_percent".into(), "20".into()));
            }
            let mut _simulator = None;
            if path.starts_with("/api/fn/veeam/")
                && !matches!(
                    *path,
                    "/api/fn/veeam/servers"
                        | "/api/fn/veeam/create"
                        | "/api/fn/veeam/repositories"
                        | "/api/fn/veeam/repository-threshold"
                )
            {
                let (sim, server_id, job) = veeam_server(&app, *path == "/api/fn/veeam/action").await;
                _simulator = Some(sim);
                match *path {
                    "/api/fn/veeam/action" => {
                        form.push(("id".into(), job.unwrap_or_default().to_string()));
                        form.push(("action".into(), "enable".into()));
                    }
                    "/api/fn/veeam/update" => {
                        form.push(("id".into(), server_id.to_string()));
                        form.push(("name".into(), format!("fn-edit-{server_id}")));
                        form.push(("base_url".into(), "http://127.0.0.1:9".into()));
                        form.push(("username".into(), "administrator".into()));
                        // Another address: the password must be given again.
                        form.push(("password".into(), "simulator".into()));
                    }
                    _ => form.push(("id".into(), server_id.to_string())),
                }
            }
            let status =
                client.post(format!("{}{path}", app.address)).form(&form).send().await.unwrap().status();
            if classify(status) != expected(*who, role) {
                failures.push(format!("{path} as {role:?}: {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn every_page_answers_each_role_as_the_table_says() {
    let app = matrix_app().await;
    let mut failures = vec![];
    for (path, who) in PAGES {
        for role in [None, Some(Role::Viewer), Some(Role::Operator), Some(Role::Admin)] {
            let client = match role {
                Some(role) => app.browser_as(&app.add_user(role).await).await,
                None => app.browser(),
            };
            let (job_id, run_id, _) = job_with_run(&app).await;
            let concrete = if path.starts_with("/runs/") {
                path.replace("{id}", &run_id.to_string())
            } else {
                path.replace("{id}", &job_id.to_string())
            };
            let response = client
                .get(format!("{}{concrete}", app.address))
                .header(header::ACCEPT, "text/html")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let outcome = match status.as_u16() {
                302 | 303
                    if response.headers()[header::LOCATION].to_str().unwrap().starts_with("/login?next=") =>
                {
                    "unauthorized"
                }
                403 => "forbidden",
                200 => "allowed",
                _ => "unexpected",
            };
            if outcome != expected(*who, role) {
                failures.push(format!("{path} as {role:?}: {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn the_designs_aliases_follow_the_same_role_rules() {
    let app = matrix_app().await;
    let mut failures = vec![];
    for (method, alias, twin) in server::api::v1::ALIASES {
        let who = API.iter().find(|(m, p, _)| m == method && p == twin).map(|(_, _, w)| *w).unwrap();
        let (job_id, _, _) = job_with_run(&app).await;
        let concrete = alias.replace("{id}", &job_id.to_string());
        let body = match (*method, *alias) {
            ("POST", "/api/jobs") => Some(json!({ "name": format!("alias-{job_id}") })),
            ("POST", "/api/veeam/job-complete") => {
                Some(json!({ "job_name": format!("alias-veeam-{job_id}"), "result": "Success" }))
            }
            _ => None,
        };
        let anonymous = app
            .api(Method::from_bytes(method.as_bytes()).unwrap(), &concrete, None, body.clone())
            .await
            .status();
        if classify(anonymous) != expected(who, None) {
            failures.push(format!("{method} {alias} anonymous: {anonymous}"));
        }
        for role in ROLES {
            let (job_id, _, _) = job_with_run(&app).await;
            let concrete = alias.replace("{id}", &job_id.to_string());
            let body = body.clone().map(|mut b| {
                let key = if b.get("name").is_some() { "name" } else { "job_name" };
                if let Some(name) = b.get_mut(key) {
                    *name = json!(format!("{}-{}", name.as_str().unwrap(), role.as_str()));
                }
                b
            });
            let token = app.bearer(&app.add_user(role).await).await;
            let status = app
                .api(Method::from_bytes(method.as_bytes()).unwrap(), &concrete, Some(&token), body)
                .await
                .status();
            if classify(status) != expected(who, Some(role)) {
                failures.push(format!("{method} {alias} as {}: {status}", role.as_str()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A console whose sign-in limit does not get in the way of signing in
/// hundreds of test users from one address.
async fn matrix_app() -> TestApp {
    spawn_app_with(app::ssr::infra::db::test_support::TestBackend::Sqlite, |s| {
        s.login_rate_per_minute = 100_000
    })
    .await
    .unwrap()
}

/// The JSON error body of refusals.
#[tokio::test]
async fn refusals_carry_a_json_error_body() {
    let app = matrix_app().await;
    let response = app.api(Method::GET, "/api/v1/users", None, None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"].is_string());
    let viewer = app.add_user(Role::Viewer).await;
    let token = app.bearer(&viewer).await;
    let response = app.api(Method::GET, "/api/v1/users", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
}
