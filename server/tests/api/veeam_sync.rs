//! The Veeam integration end to end on both databases: servers through the
//! JSON API, syncs against the simulator (one run per session, idempotent,
//! running sessions followed until they end), actions and repositories.

use std::collections::HashMap;

use app::{
    model::user::Role,
    ssr::{infra::db::Db, veeam::sync},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::veeam_sim::{SimConfig, Simulator};

use crate::{both_backends, helpers::TestApp};

async fn simulator(config: SimConfig) -> Simulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::start(config, listener, false).await.unwrap()
}

/// (session id, result) of every run synced from Veeam.
async fn synced_runs(db: &Db) -> HashMap<String, String> {
    let rows: Vec<(String, String)> = app::on_db!(db, |pool| {
        sqlx::query_as("select external_id, result from runs where external_id is not null")
            .fetch_all(pool)
            .await
            .unwrap()
    });
    rows.into_iter().collect()
}

async fn add_server(app: &TestApp, token: &str, sim: &Simulator, extra: Value) -> Value {
    let mut body = json!({
        "name": "VBR Tokyo",
        "base_url": sim.base_url,
        "username": "administrator",
        "password": "simulator",
        "tls_mode": "custom_ca",
        "ca_pem": sim.certificate_pem,
        "enabled": false,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let response = app.api(Method::POST, "/api/v1/veeam/servers", Some(token), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn fifty_jobs_and_thirty_days_are_synced_one_run_per_session(app: TestApp) {
    // The clock moves two hours on below: start it three hours back.
    let behind = chrono::Duration::hours(3);
    let sim =
        simulator(SimConfig { jobs: 50, history_days: 30, speed: 0.0, behind, ..SimConfig::default() }).await;
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    let server = add_server(&app, &token, &sim, json!({})).await;
    let id = server["id"].as_i64().unwrap();

    let first = sync::sync_server(&app.state, id).await.unwrap();
    assert_eq!(first.jobs_created, 50);
    let sessions: HashMap<String, bool> = sim.sessions().into_iter().collect();
    assert!(sessions.len() >= 50 * 30, "{}", sessions.len());
    let runs = synced_runs(&app.state.db).await;
    assert_eq!(runs.len(), sessions.len(), "one run per session");
    for (session, finished) in &sessions {
        let result = runs.get(session).unwrap_or_else(|| panic!("session {session} has no run"));
        assert_eq!(result != "running", *finished, "session {session}: {result}");
    }
    let running: Vec<&String> =
        sessions.iter().filter(|(_, finished)| !**finished).map(|(id, _)| id).collect();
    assert!(running.len() >= 5, "every tenth job is busy: {running:?}");

    // Nothing new: a second sync adds nothing.
    let second = sync::sync_server(&app.state, id).await.unwrap();
    assert_eq!((second.jobs_created, second.runs_changed), (0, 0), "{second:?}");
    assert_eq!(synced_runs(&app.state.db).await.len(), sessions.len());

    // Two hours on: the running sessions ended (and schedules started new ones).
    sim.advance(chrono::Duration::hours(2));
    let third = sync::sync_server(&app.state, id).await.unwrap();
    let sessions: HashMap<String, bool> = sim.sessions().into_iter().collect();
    let runs = synced_runs(&app.state.db).await;
    assert_eq!(runs.len(), sessions.len());
    for id in running {
        assert_ne!(runs[id], "running", "session {id} ended and its run with it");
    }
    for (session, finished) in &sessions {
        assert_eq!(runs[session] != "running", *finished);
    }
    assert!(third.runs_changed >= 5, "{third:?}");

    // The server's row tells how it went.
    let server = app.api(Method::GET, &format!("/api/v1/veeam/servers/{id}"), Some(&token), None).await;
    let server: Value = server.json().await.unwrap();
    assert_eq!(server["status"], "ok");
    assert_eq!(server["jobs"], 50);
    assert_eq!(server["api_version"], "1.3-rev2", "detected");
    assert!(server["sync_progress"].is_null());
    assert!(server["last_sync_at"].is_string());
}

both_backends!(full_sync, fifty_jobs_and_thirty_days_are_synced_one_run_per_session);

async fn servers_are_admin_only_validated_and_never_show_their_password(app: TestApp) {
    let sim = simulator(SimConfig { jobs: 5, history_days: 2, speed: 0.0, ..SimConfig::default() }).await;
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let operator = app.bearer(&app.add_user(Role::Operator).await).await;
    let viewer = app.bearer(&app.add_user(Role::Viewer).await).await;

    assert_eq!(
        app.api(Method::GET, "/api/v1/veeam/servers", None, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/veeam/servers", Some(&viewer), None).await.status(),
        StatusCode::FORBIDDEN
    );
    let body = json!({"name": "x", "base_url": sim.base_url, "username": "u", "password": "p"});
    assert_eq!(
        app.api(Method::POST, "/api/v1/veeam/servers", Some(&operator), Some(body)).await.status(),
        StatusCode::FORBIDDEN
    );

    for (body, field) in [
        (json!({"name": "", "base_url": "https://vbr", "username": "u", "password": "p"}), "name"),
        (json!({"name": "a", "base_url": "ftp://vbr", "username": "u", "password": "p"}), "base_url"),
        (json!({"name": "a", "base_url": "https://vbr", "username": "", "password": "p"}), "username"),
        (json!({"name": "a", "base_url": "https://vbr", "username": "u"}), "password"),
        (
            json!({"name": "a", "base_url": "https://vbr", "username": "u", "password": "p", "api_version": "9.9-rev9"}),
            "api_version",
        ),
        (
            json!({"name": "a", "base_url": "https://vbr", "username": "u", "password": "p", "tls_mode": "custom_ca", "ca_pem": "nope"}),
            "ca_pem",
        ),
        (
            json!({"name": "a", "base_url": "https://vbr", "username": "u", "password": "p", "sync_interval_seconds": 5}),
            "sync_interval_seconds",
        ),
    ] {
        let response = app.api(Method::POST, "/api/v1/veeam/servers", Some(&admin), Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field);
    }
    let response =
        app.api(Method::POST, "/api/v1/veeam/servers", Some(&admin), Some(json!({"name": 5}))).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // Port 9419 when none is given.
    let plain = add_server(
        &app,
        &admin,
        &sim,
        json!({"name": "defaults", "base_url": "vbr01.example.local", "tls_mode": "verify", "ca_pem": null}),
    )
    .await;
    assert_eq!(plain["base_url"], "https://vbr01.example.local:9419/");

    let server = add_server(&app, &admin, &sim, json!({})).await;
    let id = server["id"].as_i64().unwrap();
    let text = serde_json::to_string(&server).unwrap();
    assert!(!text.contains("simulator") && server.get("password").is_none(), "{text}");
    let stored: String = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select password_encrypted from veeam_servers where id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(stored.starts_with("v1:") && !stored.contains("simulator"));

    // Test connection: works, then says what is wrong in plain words.
    let test = |app: &TestApp, admin: String| {
        let path = format!("/api/v1/veeam/servers/{id}/test");
        let app_address = app.address.clone();
        let client = app.client.clone();
        async move {
            let response =
                client.post(format!("{app_address}{path}")).bearer_auth(admin).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let ok = test(&app, admin.clone()).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["api_version"], "1.3-rev2");
    assert!(ok["message"].as_str().unwrap().contains("13.1.0.411"));

    let server_path = format!("/api/v1/veeam/servers/{id}");
    let patch = |body: Value| app.api(Method::PATCH, &server_path, Some(&admin), Some(body));
    assert_eq!(patch(json!({"password": "wrong"})).await.status(), StatusCode::OK);
    let wrong = test(&app, admin.clone()).await;
    assert_eq!((wrong["ok"].clone(), wrong["code"].clone()), (json!(false), json!("credentials")), "{wrong}");
    assert!(wrong["message"].as_str().unwrap().contains("password"));
    assert_eq!(patch(json!({"password": "simulator", "tls_mode": "verify"})).await.status(), StatusCode::OK);
    let untrusted = test(&app, admin.clone()).await;
    assert_eq!(untrusted["code"], "certificate", "{untrusted}");
    // Turning certificate checks off needs the password again.
    assert_eq!(patch(json!({"tls_mode": "insecure"})).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        patch(json!({"tls_mode": "insecure", "password": "simulator"})).await.status(),
        StatusCode::OK
    );
    assert_eq!(test(&app, admin.clone()).await["ok"], true);
    assert_eq!(patch(json!({"api_version": "1.3-rev2"})).await.status(), StatusCode::OK);

    // Sync now answers at once; progress and the result are readable.
    let response =
        app.api(Method::POST, &format!("/api/v1/veeam/servers/{id}/sync"), Some(&admin), None).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let mut server = Value::Null;
    for _ in 0..200 {
        server = app
            .api(Method::GET, &format!("/api/v1/veeam/servers/{id}"), Some(&admin), None)
            .await
            .json()
            .await
            .unwrap();
        if server["last_sync_at"].is_string() && server["sync_progress"].is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(server["status"], "ok", "{server}");
    assert_eq!(server["jobs"], 5);

    // Repositories: everyone signed in.
    let repositories: Value =
        app.api(Method::GET, "/api/v1/repositories", Some(&viewer), None).await.json().await.unwrap();
    let repositories = repositories.as_array().unwrap();
    assert_eq!(repositories.len(), 4);
    for r in repositories {
        assert!(r["capacity_gb"].as_f64().unwrap() > 0.0);
        assert_eq!(r["history"].as_array().unwrap().len(), 1);
        assert_eq!(r["warning_free_percent"], 15);
    }

    // Operators set a repository's threshold; it decides the low-space flag.
    let repo = &repositories[0];
    let path = format!("/api/v1/repositories/{}", repo["id"]);
    let response =
        app.api(Method::PATCH, &path, Some(&operator), Some(json!({"warning_free_percent": 95}))).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.api(Method::PATCH, &path, Some(&viewer), Some(json!({"warning_free_percent": 20})))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let free = repo["free_percent"].as_f64().unwrap();
    let above = (free.ceil() as i64 + 1).min(90);
    let changed: Value = app
        .api(Method::PATCH, &path, Some(&operator), Some(json!({"warning_free_percent": above})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["warning_free_percent"], above);
    assert_eq!(changed["low_space"], true, "{changed}");

    // Removing the server keeps its jobs, marked removed.
    assert_eq!(
        app.api(Method::DELETE, &format!("/api/v1/veeam/servers/{id}"), Some(&admin), None).await.status(),
        StatusCode::NO_CONTENT
    );
    let removed: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from jobs where source = 'veeam' and removed_at is not null")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(removed, 5);
}

both_backends!(servers_api, servers_are_admin_only_validated_and_never_show_their_password);

async fn operators_start_veeam_jobs_and_the_run_follows_the_session(app: TestApp) {
    let sim =
        simulator(SimConfig { jobs: 4, history_days: 1, speed: 0.0, run_minutes: 1, ..SimConfig::default() })
            .await;
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let operator: &'static str = app.bearer(&app.add_user(Role::Operator).await).await.leak();
    let viewer: &'static str = app.bearer(&app.add_user(Role::Viewer).await).await.leak();
    let server = add_server(&app, &admin, &sim, json!({})).await;
    let server_id = server["id"].as_i64().unwrap();
    sync::sync_server(&app.state, server_id).await.unwrap();
    // A job with no session running (which depends on the time of day).
    let (veeam_id, name) = sim.idle_job().unwrap();
    let job_id: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select id from jobs where veeam_job_id = $1")
            .bind(&veeam_id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    let paths: HashMap<&str, String> = ["start", "retry", "enable", "disable", "explode"]
        .into_iter()
        .map(|verb| (verb, format!("/api/v1/jobs/{job_id}/actions/{verb}")))
        .collect();
    let action = |token: &'static str, verb: &str| app.api(Method::POST, &paths[verb], Some(token), None);
    assert_eq!(action(viewer, "start").await.status(), StatusCode::FORBIDDEN);
    let response = action(operator, "start").await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap_or_default());
    let outcome: Value = response.json().await.unwrap();
    let run_id = outcome["run_id"].as_i64().unwrap();
    let run: Value = app
        .api(Method::GET, &format!("/api/v1/runs/{run_id}"), Some(viewer), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["result"], "running", "{run}");
    // Veeam refuses a second start while it runs: the answer says so.
    let again = action(operator, "start").await;
    assert_eq!(again.status(), StatusCode::BAD_GATEWAY);
    assert!(again.text().await.unwrap().contains("already running"));

    sim.advance(chrono::Duration::minutes(3));
    sync::sync_server(&app.state, server_id).await.unwrap();
    let run: Value = app
        .api(Method::GET, &format!("/api/v1/runs/{run_id}"), Some(viewer), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(["success", "warning", "failed"].contains(&run["result"].as_str().unwrap()), "{run}");
    assert_eq!(run["job_name"], name);

    assert_eq!(action(operator, "retry").await.status(), StatusCode::OK);
    sim.advance(chrono::Duration::minutes(3));
    assert_eq!(action(operator, "disable").await.status(), StatusCode::OK);
    assert_eq!(action(operator, "enable").await.status(), StatusCode::OK);
    assert_eq!(action(operator, "explode").await.status(), StatusCode::NOT_FOUND);

    // The audit log has them.
    let audit: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from audit_log where action = 'job.veeam_action'")
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(audit >= 5, "{audit}");

    // A push job has no Veeam actions.
    let push: Value = app
        .api(Method::POST, "/api/v1/jobs", Some(operator), Some(json!({"name": "restic"})))
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .api(Method::POST, &format!("/api/v1/jobs/{}/actions/start", push["id"]), Some(operator), None)
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

both_backends!(job_actions, operators_start_veeam_jobs_and_the_run_follows_the_session);

#[tokio::test]
async fn the_webhook_and_the_sync_make_one_run_of_a_session() {
    let app =
        crate::helpers::spawn_app(app::ssr::infra::db::test_support::TestBackend::Sqlite).await.unwrap();
    let sim = simulator(SimConfig { jobs: 3, history_days: 2, speed: 0.0, ..SimConfig::default() }).await;
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let (veeam_id, name) = sim.jobs()[2].clone();
    let finished: Vec<String> =
        sim.sessions().into_iter().filter(|(_, done)| *done).map(|(id, _)| id).collect();
    let client = app::ssr::veeam::client::Client::new(
        app::ssr::veeam::client::Target {
            base_url: sim.base_url.parse().unwrap(),
            username: "administrator".into(),
            password: secrecy::SecretString::from("simulator"),
            api_version: "1.3-rev2".into(),
            tls: app::ssr::veeam::client::Tls::Insecure,
        },
        Default::default(),
    )
    .unwrap();
    let mut session = None;
    for id in &finished {
        let s = client.session(id).await.unwrap();
        if s.job_id == veeam_id {
            session = Some(s);
            break;
        }
    }
    let session = session.unwrap();
    // The post-job script reports first (upper-case id, as PowerShell prints it).
    let response = app
        .api(
            Method::POST,
            "/api/v1/veeam/job-complete",
            Some(&admin),
            Some(json!({
                "veeam_job_id": veeam_id.to_uppercase(), "job_name": name, "session_id": session.id.to_uppercase(),
                "result": "Success", "start_time": session.creation_time.to_rfc3339(),
                "end_time": session.end_time.unwrap().to_rfc3339(),
            })),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let server = add_server(&app, &admin, &sim, json!({})).await;
    sync::sync_server(&app.state, server["id"].as_i64().unwrap()).await.unwrap();
    let count: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from runs where external_id = $1")
            .bind(&session.id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(count, 1, "one run for the session");
    let jobs: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select count(*) from jobs where lower(veeam_job_id) = $1")
            .bind(&veeam_id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(jobs, 1, "the webhook's job was adopted by the sync");
}
