//! The business calendar: closures through the API (roles, validation),
//! the closed days of a year, and the monitor leaving a job expected on
//! business days only alone on closed days, on both databases.

use app::{
    model::user::Role,
    ssr::jobs::{monitor, store::jobs as jobs_db},
};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp};

async fn token(app: &TestApp, role: Role) -> String {
    let user = app.add_user(role).await;
    app.bearer(&user).await
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.api(Method::GET, path, Some(token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

async fn add_closure(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.api(Method::POST, "/api/v1/calendar/closures", Some(token), Some(body)).await
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn closures_are_added_listed_and_deleted_by_administrators(app: TestApp) {
    let admin = token(&app, Role::Admin).await;
    let response = add_closure(
        &app,
        &admin,
        json!({"first_day": "2026-12-29", "last_day": "2027-01-03", "name": " 年末年始休業 "}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let closure: Value = response.json().await.unwrap();
    let id = closure["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/calendar/closures/{id}"));
    assert_eq!(closure["name"], "年末年始休業");
    assert_eq!(closure["first_day"], "2026-12-29");
    assert_eq!(closure["last_day"], "2027-01-03");

    let viewer = token(&app, Role::Viewer).await;
    let listed = get_json(&app, "/api/v1/calendar/closures", &viewer).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], id);

    let year = get_json(&app, "/api/v1/calendar?year=2026", &viewer).await;
    let days = year["days"].as_array().unwrap();
    let day = |date: &str| days.iter().find(|d| d["date"] == date).cloned();
    assert_eq!(day("2026-12-29").unwrap()["kind"], "closure");
    assert_eq!(day("2026-12-29").unwrap()["name"], "年末年始休業");
    assert_eq!(day("2026-12-28"), None, "a working Monday");
    assert_eq!(day("2026-12-05").unwrap()["kind"], "weekend");
    assert_eq!(day("2026-11-23").unwrap()["name"], "勤労感謝の日");
    assert_eq!(year["closures"][0]["id"], id);
    // 元日 2027 is named as the holiday it is, inside the closure.
    let next_year = get_json(&app, "/api/v1/calendar?year=2027", &viewer).await;
    let new_year = next_year["days"].as_array().unwrap().iter().find(|d| d["date"] == "2027-01-01").cloned();
    assert_eq!(new_year.unwrap()["kind"], "holiday");

    let path = format!("/api/v1/calendar/closures/{id}");
    let operator = token(&app, Role::Operator).await;
    assert_eq!(app.api(Method::DELETE, &path, Some(&operator), None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::DELETE, &path, Some(&admin), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.api(Method::DELETE, &path, Some(&admin), None).await.status(), StatusCode::NOT_FOUND);
    assert!(get_json(&app, "/api/v1/calendar/closures", &viewer).await.as_array().unwrap().is_empty());
}
both_backends!(closures_crud, closures_are_added_listed_and_deleted_by_administrators);

async fn bad_closures_get_a_422_naming_the_field(app: TestApp) {
    let admin = token(&app, Role::Admin).await;
    for (body, field) in [
        (json!({"first_day": "2026-08-16", "last_day": "2026-08-13", "name": "お盆"}), "last_day"),
        (json!({"first_day": "2026-01-01", "last_day": "2027-01-02", "name": "367 days"}), "last_day"),
        (json!({"first_day": "2026-08-13", "last_day": "2026-08-16", "name": "   "}), "name"),
        (json!({"first_day": "2026-02-30", "last_day": "2026-03-01", "name": "x"}), "first_day"),
        (json!({"first_day": "13/08/2026", "last_day": "2026-08-16", "name": "x"}), "first_day"),
        (json!({"first_day": "2026-08-13", "last_day": "someday", "name": "x"}), "last_day"),
    ] {
        let response = add_closure(&app, &admin, body.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{body}: {error}");
    }
    // A leap year is 366 days: allowed.
    let leap = json!({"first_day": "2024-01-01", "last_day": "2024-12-31", "name": "leap"});
    assert_eq!(add_closure(&app, &admin, leap).await.status(), StatusCode::CREATED);
    let response = app.api(Method::GET, "/api/v1/calendar?year=1900", Some(&admin), None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
both_backends!(closure_validation, bad_closures_get_a_422_naming_the_field);

async fn only_administrators_change_the_calendar_and_everyone_reads_it(app: TestApp) {
    let body = json!({"first_day": "2026-08-13", "last_day": "2026-08-16", "name": "お盆"});
    for role in [Role::Viewer, Role::Operator] {
        let caller = token(&app, role).await;
        assert_eq!(
            add_closure(&app, &caller, body.clone()).await.status(),
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        assert_eq!(
            app.api(Method::GET, "/api/v1/calendar", Some(&caller), None).await.status(),
            StatusCode::OK,
            "{role:?}"
        );
    }
    let anonymous = app.api(Method::GET, "/api/v1/calendar", None, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // A read-only API token reads the calendar but cannot change it.
    let admin = app.add_user(Role::Admin).await;
    let bearer = app.bearer(&admin).await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(&bearer),
            Some(json!({"name": "calendar", "scope": "read"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let read_token = created.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.api(Method::GET, "/api/v1/calendar?year=2026", Some(&read_token), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(add_closure(&app, &read_token, body).await.status(), StatusCode::FORBIDDEN);
}
both_backends!(calendar_roles, only_administrators_change_the_calendar_and_everyone_reads_it);

async fn the_2021_olympic_holidays_are_on_their_moved_dates(app: TestApp) {
    let viewer = token(&app, Role::Viewer).await;
    let year = get_json(&app, "/api/v1/calendar?year=2021", &viewer).await;
    assert_eq!(year["year"], 2021);
    assert_eq!(year["japanese_holidays"], true);
    let days = year["days"].as_array().unwrap();
    let day = |date: &str| days.iter().find(|d| d["date"] == date).cloned();
    let marine = day("2021-07-22").unwrap();
    assert_eq!(marine["kind"], "holiday");
    assert_eq!(marine["name"], "海の日");
    assert_eq!(marine["name_en"], "Marine Day");
    assert_eq!(day("2021-07-23").unwrap()["name"], "スポーツの日");
    assert_eq!(day("2021-08-09").unwrap()["name"], "振替休日");
    for working in ["2021-07-19", "2021-10-11", "2021-08-11"] {
        assert_eq!(day(working), None, "{working} was a working day in 2021");
    }
}
both_backends!(olympic_holidays, the_2021_olympic_holidays_are_on_their_moved_dates);

/// A nightly 02:00 (Tokyo) job with ten minutes' grace; its id.
async fn nightly(app: &TestApp, token: &str, name: &str, business_days_only: bool) -> i64 {
    let body = json!({
        "name": name,
        "schedule": {"kind": "cron", "cron": "0 2 * * *", "timezone": "Asia/Tokyo"},
        "grace_seconds": 600,
        "business_days_only": business_days_only,
    });
    let response = app.api(Method::POST, "/api/v1/jobs", Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["business_days_only"], business_days_only);
    job["id"].as_i64().unwrap()
}

async fn missed_runs(app: &TestApp, id: i64) -> i64 {
    app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from runs where job_id = $1 and result = 'missed'")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// Expects the job at `at`, runs the monitor just past the grace period,
/// and returns how many of its runs were missed and when it is next
/// expected. (Other jobs of the test may be missed in the same pass.)
async fn missed_at(app: &TestApp, id: i64, at: &str) -> (i64, Option<DateTime<Utc>>) {
    let at = utc(at);
    jobs_db::set_next_expected(&app.state.db, id, Some(at)).await.unwrap();
    let before = missed_runs(app, id).await;
    monitor::run_once(&app.state, at + Duration::minutes(11)).await.unwrap();
    let next = jobs_db::find(&app.state.db, id).await.unwrap().unwrap().next_expected_at;
    (missed_runs(app, id).await - before, next)
}

async fn a_business_days_job_is_not_missed_on_closed_days(app: TestApp) {
    let admin = token(&app, Role::Admin).await;
    let closure = json!({"first_day": "2026-12-29", "last_day": "2027-01-03", "name": "年末年始休業"});
    assert_eq!(add_closure(&app, &admin, closure).await.status(), StatusCode::CREATED);
    let operator = token(&app, Role::Operator).await;
    let business = nightly(&app, &operator, "nightly-business-days", true).await;

    // Saturday 2026-12-05 02:00 JST: nothing expected; next is Monday 02:00 JST.
    assert_eq!(
        missed_at(&app, business, "2026-12-04T17:00:00Z").await,
        (0, Some(utc("2026-12-06T17:00:00Z")))
    );
    // 勤労感謝の日, Monday 2026-11-23: next is Tuesday.
    assert_eq!(
        missed_at(&app, business, "2026-11-22T17:00:00Z").await,
        (0, Some(utc("2026-11-23T17:00:00Z")))
    );
    // The closure, 12/29 to 1/3 (with 元日 and a weekend): next is Monday 1/4.
    assert_eq!(
        missed_at(&app, business, "2026-12-28T17:00:00Z").await,
        (0, Some(utc("2027-01-03T17:00:00Z")))
    );
    let state = jobs_db::find(&app.state.db, business).await.unwrap().unwrap().state;
    assert_eq!(state, app::model::job::JobState::New, "neither late nor missed");
    // A business day, Tuesday 2026-12-08: missed, and next expected Wednesday.
    assert_eq!(
        missed_at(&app, business, "2026-12-07T17:00:00Z").await,
        (1, Some(utc("2026-12-08T17:00:00Z")))
    );
    // A Friday miss is next expected on Monday, not on Saturday.
    assert_eq!(
        missed_at(&app, business, "2026-12-10T17:00:00Z").await,
        (1, Some(utc("2026-12-13T17:00:00Z")))
    );

    // Without the option, Saturday's run is missed like any other. (Made
    // now: each monitor pass above also caught up every other job due by
    // its time, and a slot is missed once.)
    let every_day = nightly(&app, &operator, "nightly-every-day", false).await;
    assert_eq!(
        missed_at(&app, every_day, "2026-12-04T17:00:00Z").await,
        (1, Some(utc("2026-12-05T17:00:00Z")))
    );
    assert_eq!(missed_at(&app, every_day, "2026-12-28T17:00:00Z").await.0, 1, "in the closure too");
}
both_backends!(business_days_monitor, a_business_days_job_is_not_missed_on_closed_days);

async fn the_option_is_set_and_cleared_through_the_api(app: TestApp) {
    let operator = token(&app, Role::Operator).await;
    let id = nightly(&app, &operator, "nightly-toggle", false).await;
    let path = format!("/api/v1/jobs/{id}");
    let patched =
        app.api(Method::PATCH, &path, Some(&operator), Some(json!({"business_days_only": true}))).await;
    assert_eq!(patched.status(), StatusCode::OK);
    let job: Value = patched.json().await.unwrap();
    assert_eq!(job["business_days_only"], true);
    // Its next expected run is on a business day (in Tokyo).
    let next = utc(job["next_expected_at"].as_str().unwrap());
    let calendar = app::ssr::jobs::calendar_service::current(&app.state).await.unwrap();
    assert!(calendar.is_business_day(next.with_timezone(&chrono_tz::Asia::Tokyo).date_naive()));
    // Leaving it out keeps it; false clears it.
    let kept = app.api(Method::PATCH, &path, Some(&operator), Some(json!({"description": "x"}))).await;
    assert_eq!(kept.json::<Value>().await.unwrap()["business_days_only"], true);
    let cleared =
        app.api(Method::PATCH, &path, Some(&operator), Some(json!({"business_days_only": false}))).await;
    assert_eq!(cleared.json::<Value>().await.unwrap()["business_days_only"], false);
}
both_backends!(business_days_option, the_option_is_set_and_cleared_through_the_api);

async fn the_job_form_sets_the_option_without_javascript(app: TestApp) {
    let user = app.add_user(Role::Operator).await;
    let browser = app.browser_as(&user).await;
    let form = [
        ("form[name]", "form-business-days"),
        ("form[schedule_kind]", "cron"),
        ("form[cron]", "0 2 * * *"),
        ("form[timezone]", "Asia/Tokyo"),
        ("form[business_days_only]", "on"),
    ];
    let response =
        browser.post(format!("{}/api/fn/jobs/create", app.address)).form(&form).send().await.unwrap();
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let token = app.bearer(&user).await;
    let jobs = get_json(&app, "/api/v1/jobs?q=form-business-days", &token).await;
    let job = &jobs["items"][0];
    assert_eq!(job["business_days_only"], true);
    // Saving the form without the box clears it (an unchecked box sends nothing).
    let id = job["id"].as_i64().unwrap().to_string();
    let form = [("id", id.as_str()), ("form[name]", "form-business-days"), ("form[schedule_kind]", "none")];
    let response =
        browser.post(format!("{}/api/fn/jobs/update", app.address)).form(&form).send().await.unwrap();
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let job = get_json(&app, &format!("/api/v1/jobs/{id}"), &token).await;
    assert_eq!(job["business_days_only"], false);
}
both_backends!(business_days_form, the_job_form_sets_the_option_without_javascript);
