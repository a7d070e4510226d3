//! Data retention on both databases, on a demo history of 460 days: old
//! successful runs go (in batches) while runs keep being reported to the
//! API and every report is answered; a report over an old period reads
//! the same before and after; failures, each job's last run and newest
//! good run, recent runs and recent audit records stay; old audit records
//! go.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use app::{
    model::user::Role,
    ssr::{
        infra::settings::Retention,
        jobs::demo::{DemoSpec, generate},
        ops::retention,
    },
};
use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, spawn_app_with},
    notify_outbox::post_json,
};

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app::on_db!(&app.state.db, |pool| sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).unwrap()
}

async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.api(Method::GET, &format!("/api/v1/reports/summary?{query}"), Some(token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let mut report: Value = response.json().await.unwrap();
    report.as_object_mut().unwrap().remove("generated_at");
    report
}

async fn old_history_goes_while_reports_keep_arriving(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let tz = app.state.settings.timezone;
    let demo = generate(&app.state.db, tz, &DemoSpec { jobs: 6, days: 460, seed: 15 }).await.unwrap();
    assert!(demo.runs > 15_000, "{demo:?}");

    let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "reporting during pruning"})).await;
    let today = Utc::now().with_timezone(&tz).date_naive();
    let old_period = format!("from={}&until={}", today - Duration::days(200), today - Duration::days(150));
    let old_before = report(&app, &admin, &old_period).await;
    assert!(old_before["totals"]["runs"].as_i64().unwrap_or_default() > 1_000, "{}", old_before["totals"]);
    assert!(!old_before["failures"].as_array().unwrap().is_empty(), "the old period has failures to list");

    let cutoff = Utc::now() - Duration::days(90);
    let recent_sql = "select count(*) from runs where started_at >= $1";
    let recent = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            app::on_db!(&db, |pool| sqlx::query_scalar::<_, i64>(recent_sql)
                .bind(cutoff)
                .fetch_one(pool)
                .await)
            .unwrap()
        }
    };
    let recent_before = recent(&app).await;
    let problems_before =
        count(&app, "select count(*) from runs where result in ('failed', 'missed') or anomaly is not null")
            .await;

    // Audit records: one four years old, one from today.
    for (days, action) in [(4 * 365, "test.ancient"), (1, "test.recent")] {
        app::on_db!(&app.state.db, |pool| sqlx::query(
            "insert into audit_log (occurred_at, action, success) values ($1, $2, true)"
        )
        .bind(Utc::now() - Duration::days(days))
        .bind(action)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
    }

    // A tool keeps reporting runs while the old history is pruned.
    let pruning = Arc::new(AtomicBool::new(true));
    let reporter = {
        let (address, token, pruning) = (app.address.clone(), admin.clone(), pruning.clone());
        let url = format!("{address}/api/v1/jobs/{}/runs", job["id"]);
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut answered, mut during, mut slowest) = (0_u32, 0_u32, std::time::Duration::ZERO);
            while pruning.load(Ordering::SeqCst) || answered < 5 {
                let was_pruning = pruning.load(Ordering::SeqCst);
                let started = std::time::Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"result": "success", "message": format!("run {answered}")}))
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "a report during pruning: {}", response.status());
                slowest = slowest.max(started.elapsed());
                answered += 1;
                // Sent and answered while the pass was still going.
                if was_pruning && pruning.load(Ordering::SeqCst) {
                    during += 1;
                }
                // A tool's pace, well inside the API's 600 a minute (a long
                // pass on a busy machine would otherwise meet the limit).
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            (answered, during, slowest)
        })
    };

    let pass = retention::prune_at(
        &app.state,
        Retention { runs_days: 90, events_days: 400, audit_days: 3 * 365 },
        Utc::now(),
    )
    .await
    .unwrap();
    pruning.store(false, Ordering::SeqCst);
    let (answered, during, slowest) = reporter.await.unwrap();
    eprintln!(
        "retention pass: {pass:?}; {answered} runs reported, {during} of them answered during the pass, \
         slowest answer {slowest:?}"
    );
    assert!(during >= 1, "no report was answered while the pass ran");
    assert_eq!(
        count(&app, "select count(*) from runs where job_id = (select max(id) from jobs)").await,
        i64::from(answered)
    );

    // Old successful runs went, in several batches.
    assert!(pass.runs > 2 * app::ssr::infra::db::PRUNE_BATCH as u64, "{pass:?}");
    assert_eq!(pass.audit, 1, "{pass:?}");
    let old_left: i64 = app::on_db!(&app.state.db, |pool| sqlx::query_scalar(
        "select count(*) from runs r where r.started_at < $1 and r.result in ('success', 'warning') \
         and r.anomaly is null"
    )
    .bind(cutoff)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert!(old_left <= 6, "at most each job's newest good run stays: {old_left}");
    // What stays: recent runs, incidents, every job's last run.
    assert_eq!(recent(&app).await, recent_before + i64::from(answered));
    assert_eq!(
        count(&app, "select count(*) from runs where result in ('failed', 'missed') or anomaly is not null")
            .await,
        problems_before
    );
    assert_eq!(
        count(&app, "select count(*) from jobs where last_run_id is not null and last_run_id not in (select id from runs)")
            .await,
        0
    );
    assert_eq!(count(&app, "select count(*) from audit_log where action = 'test.ancient'").await, 0);
    assert_eq!(count(&app, "select count(*) from audit_log where action = 'test.recent'").await, 1);

    // Reports over the old period read the roll-ups: the same figures.
    assert_eq!(report(&app, &admin, &old_period).await, old_before);

    // A second pass finds nothing more.
    let again = retention::prune_at(
        &app.state,
        Retention { runs_days: 90, events_days: 400, audit_days: 3 * 365 },
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!((again.runs, again.audit), (0, 0), "{again:?}");
    assert_eq!(retention::last_pass(&app.state), Some(again));
}
/// A console whose own retention pass keeps everything (`0`): on
/// PostgreSQL it would otherwise run a second or two after start, when it
/// takes the lead, in the middle of the test's history.
async fn keeping_everything(backend: app::ssr::infra::db::test_support::TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, |settings| {
        settings.retention = Retention { runs_days: 0, events_days: 0, audit_days: 0 };
    })
    .await
}

mod old_history_goes_while_reports_keep_arriving {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        let app = keeping_everything(app::ssr::infra::db::test_support::TestBackend::Sqlite).await.unwrap();
        old_history_goes_while_reports_keep_arriving(app).await;
    }

    #[tokio::test]
    async fn postgres() {
        if let Some(app) = keeping_everything(app::ssr::infra::db::test_support::TestBackend::Postgres).await
        {
            old_history_goes_while_reports_keep_arriving(app).await;
        }
    }
}
