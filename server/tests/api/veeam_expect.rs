//! Every Veeam backup has an expectation (issue 13), end to end on both
//! databases against the simulator: schedules read from Veeam become the
//! jobs' expected runs (a skipped run is missed and told once), chained
//! jobs follow Veeam's nextRun, a schedule switched off or a job disabled
//! in Veeam is told once, a machine without recent restore points breaches
//! its job's RPO while the job's runs succeed, and Veeam's own signals
//! (malware, configuration backup, licence) are told once and cleared once.

use app::{
    model::user::Role,
    ssr::{infra::db::Db, notify, veeam::sync},
};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::veeam_sim::{Faults, SimConfig, Simulator};

use crate::helpers::{TestApp, spawn_app_with};

/// Like `both_backends!`, on consoles whose own monitor does not run: the
/// simulator's clock is days behind the real one, and these tests run the
/// monitor themselves at the simulator's times (the console's own pass,
/// at the real time, would find every simulated slot long missed).
macro_rules! own_monitor {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let backend = app::ssr::infra::db::test_support::TestBackend::Sqlite;
                $body(spawn_app_with(backend, |s| s.background_monitor = false).await.unwrap()).await;
            }

            #[tokio::test]
            async fn postgres() {
                let backend = app::ssr::infra::db::test_support::TestBackend::Postgres;
                if let Some(app) = spawn_app_with(backend, |s| s.background_monitor = false).await {
                    $body(app).await;
                }
            }
        }
    };
}

async fn simulator(config: SimConfig) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(config, listener, true).await.unwrap()
}

/// A server for `sim` and a rule telling every new event to a webhook
/// (nothing listens there: deliveries are counted in the outbox).
async fn setup(app: &TestApp, sim: &Simulator) -> (String, i64) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let channel = app
        .api(
            Method::POST,
            "/api/v1/notifications/channels",
            Some(&admin),
            Some(json!({"name": "hook", "kind": "webhook", "config": {"url": format!("http://{closed}/hook")}})),
        )
        .await;
    assert_eq!(channel.status(), StatusCode::CREATED);
    let channel: Value = channel.json().await.unwrap();
    let events = [
        "run_missed",
        "veeam_job_disabled",
        "veeam_job_unscheduled",
        "rpo_breached",
        "rpo_met",
        "veeam_malware_detected",
        "veeam_config_backup_stale",
        "veeam_license_expiring",
        "veeam_signal_cleared",
    ];
    let rule = app
        .api(
            Method::POST,
            "/api/v1/notifications/rules",
            Some(&admin),
            Some(json!({"name": "veeam", "events": events, "channel_ids": [channel["id"]]})),
        )
        .await;
    assert_eq!(rule.status(), StatusCode::CREATED, "{}", rule.text().await.unwrap());
    let server = app
        .api(
            Method::POST,
            "/api/v1/veeam/servers",
            Some(&admin),
            Some(json!({
                "name": "VBR Tokyo", "base_url": sim.base_url, "username": "administrator",
                "password": "simulator", "enabled": false,
            })),
        )
        .await;
    assert_eq!(server.status(), StatusCode::CREATED);
    let server: Value = server.json().await.unwrap();
    (admin, server["id"].as_i64().unwrap())
}

async fn job_id(db: &Db, veeam_id: &str) -> i64 {
    app::on_db!(db, |pool| {
        sqlx::query_scalar("select id from jobs where veeam_job_id = $1")
            .bind(veeam_id.to_lowercase())
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

/// How many system events of `kind` there are (for `job` when given).
async fn events(db: &Db, kind: &str, job: Option<i64>) -> i64 {
    app::on_db!(db, |pool| {
        sqlx::query_scalar(
            "select count(*) from system_events where kind = $1 and ($2 is null or job_id = $2)",
        )
        .bind(kind)
        .bind(job)
        .fetch_one(pool)
        .await
        .unwrap()
    })
}

/// How many deliveries of `event` the outbox queued (after producing now).
async fn told(app: &TestApp, event: &str) -> i64 {
    notify::produce_at(&app.state, Utc::now()).await.unwrap();
    app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from notification_deliveries where event = $1")
            .bind(event)
            .fetch_one(pool)
            .await
            .unwrap()
    })
}

async fn job_json(app: &TestApp, token: &str, id: i64) -> Value {
    let response = app.api(Method::GET, &format!("/api/v1/jobs/{id}"), Some(token), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn schedules_from_veeam_are_expected_and_a_skipped_run_is_missed_once(app: TestApp) {
    // Two days behind the real clock, so the clock can move a day on.
    let config = SimConfig {
        jobs: 10,
        history_days: 3,
        speed: 0.0,
        behind: Duration::hours(48),
        schedule_kinds: true,
        machines_per_job: 2,
        ..SimConfig::default()
    };
    let sim = simulator(config).await;
    let (admin, server) = setup(&app, &sim).await;
    sync::sync_server(&app.state, server).await.unwrap();
    let jobs = sim.jobs();

    // Job 1 runs daily: its expectation is Veeam's schedule, in the server's zone.
    let daily = job_id(&app.state.db, &jobs[1].0).await;
    let job = job_json(&app, &admin, daily).await;
    assert_eq!(job["schedule_from"], "veeam", "{job:#}");
    assert_eq!(job["schedule"]["kind"], "cron", "{job:#}");
    assert_eq!(job["schedule"]["timezone"], "Asia/Tokyo");
    assert_eq!(job["veeam_schedule"]["state"], "scheduled");
    let next = time(&job["next_expected_at"]);
    assert_eq!(Some(next), job["veeam_schedule"]["next_run_at"].as_str().map(|t| t.parse().unwrap()));

    // Job 8 runs after job 7: it follows Veeam's nextRun.
    let chained = job_id(&app.state.db, &jobs[8].0).await;
    let job = job_json(&app, &admin, chained).await;
    assert_eq!(job["veeam_schedule"]["kind"], "next_run", "{job:#}");
    assert!(job["veeam_schedule"]["summary"].as_str().unwrap().starts_with("after:"), "{job:#}");
    assert_eq!(job["schedule"]["kind"], "none");
    assert!(job["next_expected_at"].is_string(), "{job:#}");
    assert_eq!(job["next_expected_at"], job["veeam_schedule"]["next_run_at"]);

    // The simulator skips job 1's next run; a day later it is missed, once.
    sim.set_faults(Faults { skipped_jobs: vec![jobs[1].0.clone()], ..Faults::default() });
    let stats: Value =
        reqwest::get(format!("{}sim/stats", sim.base_url)).await.unwrap().json().await.unwrap();
    let sim_now: DateTime<Utc> = app::ssr::veeam::wire::parse_time(stats["now"].as_str().unwrap()).unwrap();
    sim.advance(next - sim_now + Duration::hours(2));
    sync::sync_server(&app.state, server).await.unwrap();
    let grace = job_json(&app, &admin, daily).await["grace_seconds"].as_i64().unwrap();
    let outcome =
        app::ssr::jobs::monitor::run_once(&app.state, next + Duration::seconds(grace + 60)).await.unwrap();
    assert!(outcome.missed >= 1, "{outcome:?}");
    let missed: Vec<(String, i64)> = app::on_db!(&app.state.db, |pool| {
        sqlx::query_as("select result, job_id from runs where result = 'missed' and job_id = $1")
            .bind(daily)
            .fetch_all(pool)
            .await
            .unwrap()
    });
    assert_eq!(missed.len(), 1, "one stored missed run: {missed:?}");
    let missed_told: i64 = {
        notify::produce_at(&app.state, Utc::now()).await.unwrap();
        app::on_db!(&app.state.db, |pool| {
            sqlx::query_scalar(
                "select count(*) from notification_deliveries where event = 'run_missed' and job_id = $1",
            )
            .bind(daily)
            .fetch_one(pool)
            .await
            .unwrap()
        })
    };
    assert_eq!(missed_told, 1, "one run_missed notification");
    // The next sync and monitor pass change nothing.
    sync::sync_server(&app.state, server).await.unwrap();
    app::ssr::jobs::monitor::run_once(&app.state, next + Duration::seconds(grace + 120)).await.unwrap();
    assert_eq!(told(&app, "run_missed").await, 1, "still one run_missed notification");

    // An operator's schedule takes over; asking for Veeam's hands it back.
    let patch = json!({"schedule": {"kind": "interval", "interval_seconds": 7200}});
    let response = app.api(Method::PATCH, &format!("/api/v1/jobs/{daily}"), Some(&admin), Some(patch)).await;
    assert_eq!(response.status(), StatusCode::OK);
    sync::sync_server(&app.state, server).await.unwrap();
    let job = job_json(&app, &admin, daily).await;
    assert_eq!(
        (job["schedule_from"].as_str(), job["schedule"]["kind"].as_str()),
        (Some("console"), Some("interval"))
    );
    let patch = json!({"schedule_from": "veeam"});
    let response = app.api(Method::PATCH, &format!("/api/v1/jobs/{daily}"), Some(&admin), Some(patch)).await;
    assert_eq!(response.status(), StatusCode::OK);
    sync::sync_server(&app.state, server).await.unwrap();
    let job = job_json(&app, &admin, daily).await;
    assert_eq!(
        (job["schedule_from"].as_str(), job["schedule"]["kind"].as_str()),
        (Some("veeam"), Some("cron"))
    );
    assert!(job["next_expected_at"].is_string());
    // A push job cannot follow Veeam.
    let push = app.api(Method::POST, "/api/v1/jobs", Some(&admin), Some(json!({"name": "tape"}))).await;
    let push: Value = push.json().await.unwrap();
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/jobs/{}", push["id"]),
            Some(&admin),
            Some(json!({"schedule_from": "veeam"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

own_monitor!(veeam_schedules, schedules_from_veeam_are_expected_and_a_skipped_run_is_missed_once);

async fn a_schedule_switched_off_or_a_job_disabled_in_veeam_is_told_once(app: TestApp) {
    let config =
        SimConfig { jobs: 4, history_days: 2, speed: 0.0, machines_per_job: 1, ..SimConfig::default() };
    let sim = simulator(config).await;
    let (admin, server) = setup(&app, &sim).await;
    sync::sync_server(&app.state, server).await.unwrap();
    let jobs = sim.jobs();
    let off = job_id(&app.state.db, &jobs[0].0).await;
    let disabled = job_id(&app.state.db, &jobs[1].0).await;
    assert_eq!(events(&app.state.db, "veeam_job_unscheduled", None).await, 0);

    sim.set_faults(Faults { unscheduled_jobs: vec![jobs[0].0.clone()], ..Faults::default() });
    let response =
        app.api(Method::POST, &format!("/api/v1/jobs/{disabled}/actions/disable"), Some(&admin), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
    for _ in 0..2 {
        sync::sync_server(&app.state, server).await.unwrap();
    }
    assert_eq!(events(&app.state.db, "veeam_job_unscheduled", Some(off)).await, 1);
    assert_eq!(events(&app.state.db, "veeam_job_disabled", Some(disabled)).await, 1);
    assert_eq!(told(&app, "veeam_job_unscheduled").await, 1);
    assert_eq!(told(&app, "veeam_job_disabled").await, 1);
    let job = job_json(&app, &admin, off).await;
    assert_eq!(job["veeam_schedule"]["state"], "unscheduled");
    assert!(job["next_expected_at"].is_null(), "nothing is expected of a job that will not run");

    // Scheduled and enabled again: cleared once each.
    sim.set_faults(Faults::default());
    let response =
        app.api(Method::POST, &format!("/api/v1/jobs/{disabled}/actions/enable"), Some(&admin), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    for _ in 0..2 {
        sync::sync_server(&app.state, server).await.unwrap();
    }
    assert_eq!(events(&app.state.db, "veeam_signal_cleared", Some(off)).await, 1);
    assert_eq!(events(&app.state.db, "veeam_signal_cleared", Some(disabled)).await, 1);
    assert_eq!(told(&app, "veeam_signal_cleared").await, 2);
    assert!(job_json(&app, &admin, off).await["next_expected_at"].is_string());
}

own_monitor!(veeam_unscheduled, a_schedule_switched_off_or_a_job_disabled_in_veeam_is_told_once);

async fn a_machine_without_recent_restore_points_breaches_its_jobs_rpo(app: TestApp) {
    let config = SimConfig {
        jobs: 6,
        history_days: 3,
        speed: 0.0,
        behind: Duration::hours(72),
        machines_per_job: 3,
        ..SimConfig::default()
    };
    let sim = simulator(config).await;
    let (admin, server) = setup(&app, &sim).await;
    sync::sync_server(&app.state, server).await.unwrap();
    let jobs = sim.jobs();
    let mut ids = Vec::new();
    let mut stale = Vec::new();
    for (veeam_id, _) in &jobs {
        let id = job_id(&app.state.db, veeam_id).await;
        let response = app
            .api(Method::PATCH, &format!("/api/v1/jobs/{id}"), Some(&admin), Some(json!({"rpo_hours": 30})))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(id);
        stale.push(sim.machines(veeam_id)[0].clone());
    }
    let machines: Vec<Value> = {
        let page =
            app.api(Method::GET, &format!("/api/v1/jobs/{}/machines", ids[0]), Some(&admin), None).await;
        assert_eq!(page.status(), StatusCode::OK);
        page.json().await.unwrap()
    };
    assert_eq!(machines.len(), 3, "{machines:?}");
    sync::sync_server(&app.state, server).await.unwrap();
    assert_eq!(events(&app.state.db, "rpo_breached", None).await, 0, "every machine is recent");

    // One machine of each job gets no more restore points; two days on, each job breaches once.
    sim.set_faults(Faults { stale_machines: stale.clone(), ..Faults::default() });
    sim.advance(Duration::hours(48));
    sync::sync_server(&app.state, server).await.unwrap();
    sync::sync_server(&app.state, server).await.unwrap();
    for id in &ids {
        assert_eq!(events(&app.state.db, "rpo_breached", Some(*id)).await, 1, "job {id}");
    }
    assert_eq!(told(&app, "rpo_breached").await, ids.len() as i64);
    // The job's runs meanwhile are what Veeam says: at least one job only succeeded.
    let succeeded: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "select count(*) from jobs j where j.rpo_machines_breached = 1 and j.last_result = 'success' \
             and j.state = 'ok'",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    assert!(succeeded >= 1, "a job that reports success still breaches its RPO");
    // Such a job's problem is its RPO; an operator acknowledges it.
    let green: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "select id from jobs where rpo_machines_breached = 1 and last_result = 'success' and state = 'ok' \
             order by id limit 1",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    });
    let results: Vec<String> = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select distinct result from runs where job_id = $1 and started_at > $2")
            .bind(green)
            .bind(Utc::now() - Duration::hours(72 + 1))
            .fetch_all(pool)
            .await
            .unwrap()
    });
    let ack = app
        .api(
            Method::POST,
            &format!("/api/v1/jobs/{green}/acknowledge"),
            Some(&admin),
            Some(json!({"comment": "restore point job re-seeded"})),
        )
        .await;
    assert_eq!(ack.status(), StatusCode::OK, "{}", ack.text().await.unwrap());
    let job = job_json(&app, &admin, green).await;
    assert_eq!(job["acknowledgement"]["problem"], "rpo_breached", "{job:#} (runs: {results:?})");
    let machines: Vec<Value> = app
        .api(Method::GET, &format!("/api/v1/jobs/{}/machines", ids[0]), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(machines[0]["name"], stale[0], "worst first: {machines:?}");
    assert_eq!(machines[0]["outside_rpo"], true);
    let outside = app::ssr::jobs::store::jobs::machines_outside_rpo(&app.state.db).await.unwrap();
    assert_eq!(outside, ids.len() as i64, "the dashboard's count");

    // Restore points again: met once per job that made one.
    sim.set_faults(Faults::default());
    sim.advance(Duration::hours(25));
    sync::sync_server(&app.state, server).await.unwrap();
    sync::sync_server(&app.state, server).await.unwrap();
    let met = events(&app.state.db, "rpo_met", None).await;
    let still: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from jobs where rpo_machines_breached > 0")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(met >= 1, "recovered");
    assert_eq!(met + still, ids.len() as i64);
    assert_eq!(told(&app, "rpo_met").await, met);
    let job = job_json(&app, &admin, green).await;
    if job["rpo_machines_breached"] == 0 {
        assert!(
            job["acknowledgement"].is_null(),
            "the breach ended and its acknowledgement with it: {job:#}"
        );
    }
}

own_monitor!(veeam_rpo, a_machine_without_recent_restore_points_breaches_its_jobs_rpo);

async fn veeams_own_signals_are_told_once_and_cleared_once(app: TestApp) {
    let config =
        SimConfig { jobs: 3, history_days: 2, speed: 0.0, machines_per_job: 2, ..SimConfig::default() };
    let sim = simulator(config).await;
    let (admin, server) = setup(&app, &sim).await;
    sync::sync_server(&app.state, server).await.unwrap();
    let jobs = sim.jobs();
    let machine = sim.machines(&jobs[0].0)[0].clone();
    for kind in ["veeam_malware_detected", "veeam_config_backup_stale", "veeam_license_expiring"] {
        assert_eq!(events(&app.state.db, kind, None).await, 0, "{kind}");
    }

    sim.set_faults(Faults {
        malware_machines: vec![machine.clone()],
        config_backup_age_days: Some(10),
        license_expires_in_days: Some(10),
        ..Faults::default()
    });
    for _ in 0..2 {
        sync::sync_server(&app.state, server).await.unwrap();
    }
    for kind in ["veeam_malware_detected", "veeam_config_backup_stale", "veeam_license_expiring"] {
        assert_eq!(events(&app.state.db, kind, None).await, 1, "{kind}");
        assert_eq!(told(&app, kind).await, 1, "{kind}");
    }
    let malware_job: Option<i64> = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select job_id from system_events where kind = 'veeam_malware_detected'")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(malware_job, Some(job_id(&app.state.db, &jobs[0].0).await), "told with the machine's job");
    let details: Option<String> = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select details from system_events where kind = 'veeam_malware_detected'")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let details = details.unwrap_or_default();
    assert!(details.contains(&machine) && details.contains("restore point"), "{details}");
    let servers: Value = app
        .api(Method::GET, &format!("/api/v1/veeam/servers/{server}"), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    let raised = servers["signals"]["raised"].as_array().unwrap();
    assert_eq!(raised.len(), 3, "{servers:#}");

    sim.set_faults(Faults::default());
    for _ in 0..2 {
        sync::sync_server(&app.state, server).await.unwrap();
    }
    assert_eq!(events(&app.state.db, "veeam_signal_cleared", None).await, 3);
    assert_eq!(told(&app, "veeam_signal_cleared").await, 3);

    // An account that may not read the licence is told so; the rest works.
    sim.set_faults(Faults { license_forbidden: true, config_backup_disabled: true, ..Faults::default() });
    sync::sync_server(&app.state, server).await.unwrap();
    let servers: Value = app
        .api(Method::GET, &format!("/api/v1/veeam/servers/{server}"), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(servers["status"], "ok");
    assert_eq!(servers["signals"]["notes"], json!(["license_forbidden"]), "{servers:#}");
    assert_eq!(events(&app.state.db, "veeam_config_backup_stale", None).await, 2, "disabled is stale too");
}

own_monitor!(veeam_signals, veeams_own_signals_are_told_once_and_cleared_once);
