//! Run reports under load (issue 17): many clients at once get exactly
//! what the same reports sent one at a time get, and a console killed
//! under load has stored every report it answered with a 2xx, and nothing
//! it was not sent.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use app::model::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use app::ssr::infra::db::test_support::TestBackend;

use crate::helpers::{TestApp, spawn_app_with};

const CLIENTS: usize = 32;
const REPORTS_PER_CLIENT: usize = 1_000;
const JOBS: usize = 100;

/// One report: a ping URL (with `?rid=`) or a run posted to the API.
#[derive(Debug, Clone)]
enum Send {
    Ping { job: usize, action: &'static str, rid: Option<String>, body: &'static str },
    Api { job: usize, body: Value },
}

/// The reports of job `job` in the order its client sends them: plain
/// results by ping and API, start/finish pairs with run ids (ping and
/// API, some sent twice), starts and finishes without ids, a refused
/// report (ends before it starts).
fn script(job: usize, count: usize) -> Vec<Send> {
    let base = chrono::Utc::now() - chrono::Duration::days(3);
    let mut out = Vec::with_capacity(count);
    let mut n = 0;
    while out.len() < count {
        let at = base + chrono::Duration::seconds((n * 97 + job * 13) as i64);
        let rid = format!("j{job}-r{n}");
        let steps = match n % 10 {
            0 | 3 | 6 => vec![Send::Ping { job, action: "", rid: None, body: "backup ok\n" }],
            1 => vec![Send::Ping { job, action: "fail", rid: None, body: "disk full\n" }],
            2 => vec![
                Send::Ping { job, action: "start", rid: Some(rid.clone()), body: "" },
                Send::Ping { job, action: "start", rid: Some(rid.clone()), body: "" },
                Send::Ping { job, action: "0", rid: Some(rid.clone()), body: "done\n" },
                Send::Ping { job, action: "0", rid: Some(rid), body: "done\n" },
            ],
            4 => vec![
                Send::Api { job, body: json!({"result": "running", "started_at": at, "external_id": rid}) },
                Send::Api {
                    job,
                    body: json!({"result": "warning", "started_at": at, "ended_at": at + chrono::Duration::seconds(40 + n as i64 % 7),
                                 "external_id": rid, "bytes_processed": 1_000_000 + n as i64, "message": "1 file skipped"}),
                },
                Send::Api {
                    job,
                    body: json!({"result": "warning", "started_at": at, "ended_at": at + chrono::Duration::seconds(40),
                                 "external_id": rid, "bytes_processed": 5, "message": "again"}),
                },
            ],
            5 => vec![
                Send::Ping { job, action: "start", rid: None, body: "" },
                Send::Ping { job, action: "3", rid: None, body: "exit 3\n" },
            ],
            7 => vec![Send::Api {
                job,
                body: json!({"result": "success", "started_at": at, "ended_at": at - chrono::Duration::seconds(5)}),
            }],
            8 => vec![Send::Api {
                job,
                body: json!({"result": "success", "started_at": at, "ended_at": at + chrono::Duration::seconds(60),
                             "bytes_processed": if n > 60 && job.is_multiple_of(4) { 10 } else { 2_000_000 }}),
            }],
            _ => vec![Send::Api {
                job,
                body: json!({"result": "failed", "message": "network unreachable", "exit_code": 2}),
            }],
        };
        out.extend(steps);
        n += 1;
    }
    out.truncate(count);
    out
}

struct Fleet {
    token: String,
    ids: Vec<i64>,
    pings: Vec<String>,
}

async fn make_jobs(app: &TestApp, token: &str, prefix: &str) -> Fleet {
    let mut ids = Vec::new();
    let mut pings = Vec::new();
    for j in 0..JOBS {
        let body = if j % 3 == 0 {
            json!({"name": format!("{prefix}{j}"), "schedule": {"kind": "interval", "interval_seconds": 3600}})
        } else {
            json!({"name": format!("{prefix}{j}")})
        };
        let response = app.api(Method::POST, "/api/v1/jobs", Some(token), Some(body)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let job: Value = response.json().await.unwrap();
        ids.push(job["id"].as_i64().unwrap());
        let url = job["ping_url"].as_str().unwrap();
        pings.push(url[url.find("/ping/").unwrap()..].to_owned());
    }
    Fleet { token: token.to_owned(), ids, pings }
}

/// Sends one report; its status.
async fn send(app: &TestApp, client: &reqwest::Client, fleet: &Fleet, report: &Send) -> StatusCode {
    let request = match report {
        Send::Ping { job, action, rid, body } => {
            let mut url = format!("{}{}", app.address, fleet.pings[*job]);
            if !action.is_empty() {
                url = format!("{url}/{action}");
            }
            if let Some(rid) = rid {
                url = format!("{url}?rid={rid}");
            }
            client.post(url).body(*body)
        }
        Send::Api { job, body } => client
            .post(format!("{}/api/v1/jobs/{}/runs", app.address, fleet.ids[*job]))
            .bearer_auth(&fleet.token)
            .json(body),
    };
    request.send().await.unwrap().status()
}

/// Each job as it ended up, without ids and times: state, runs, events,
/// daily counts.
async fn outcome(app: &TestApp, fleet: &Fleet) -> Vec<String> {
    let mut out = Vec::new();
    for (j, id) in fleet.ids.iter().enumerate() {
        let sql = "select \
             (select state || ' ' || coalesce(last_result, '-') || ' ' || (running_since is null) from jobs where id = $1), \
             (select coalesce(string_agg(result || ',' || coalesce(external_id, '-') || ',' || coalesce(message, '-') || ',' \
               || coalesce(cast(bytes_processed as text), '-') || ',' || coalesce(cast(exit_code as text), '-') || ',' \
               || coalesce(anomaly, '-'), ';' order by started_at, id), '') from runs where job_id = $1), \
             (select coalesce(string_agg(from_state || '>' || to_state, ';' order by id), '') from job_events where job_id = $1), \
             (select coalesce(sum(success), 0) || '/' || coalesce(sum(warning), 0) || '/' || coalesce(sum(failed), 0) \
               || '/' || coalesce(sum(bytes_sum), 0) || '/' || coalesce(sum(duration_count), 0) from job_daily where job_id = $1), \
             (select count(*) from system_events where job_id = $1 and kind = 'run_anomaly')";
        let row: (String, String, String, String, i64) =
            app::on_db!(&app.state.db, |pool| { sqlx::query_as(sql).bind(id).fetch_one(pool).await })
                .unwrap();
        // Runs with an id (`external_id`) are listed by id: their start
        // times follow the clock, so their order among the rest may not.
        let (with_rid, plain): (Vec<&str>, Vec<&str>) =
            row.1.split(';').partition(|r| r.split(',').nth(1).is_none_or(|e| e != "-"));
        let mut with_rid = with_rid;
        with_rid.sort();
        out.push(format!(
            "job {j}: {}\nruns {}\nrid runs {}\nevents {}\ndaily {}\nanomalies {}",
            row.0,
            plain.len(),
            with_rid.join(";"),
            row.2,
            row.3,
            row.4
        ));
    }
    out
}

async fn many_clients_get_what_one_client_gets(app: TestApp) {
    let admin = app.add_user(Role::Operator).await;
    let token = app.bearer(&admin).await;
    let together = Arc::new(make_jobs(&app, &token, "together-").await);
    let alone = make_jobs(&app, &token, "alone-").await;
    // Client c sends the reports of jobs c, c + 32, c + 64...: each job's
    // reports in one order, the jobs' reports interleaved.
    let per_job = CLIENTS * REPORTS_PER_CLIENT / JOBS;
    let scripts: Vec<Vec<Send>> = (0..JOBS).map(|j| script(j, per_job)).collect();
    let mut clients: Vec<Vec<Vec<Send>>> = vec![Vec::new(); CLIENTS];
    for (j, reports) in scripts.iter().enumerate() {
        clients[j % CLIENTS].push(reports.clone());
    }
    let clients: Vec<Vec<Send>> = clients
        .into_iter()
        .map(|mut jobs: Vec<Vec<Send>>| {
            // Round-robin over the client's jobs.
            let mut out = Vec::new();
            let longest = jobs.iter().map(Vec::len).max().unwrap_or(0);
            for i in 0..longest {
                for job in jobs.iter_mut() {
                    if let Some(report) = job.get(i) {
                        out.push(report.clone());
                    }
                }
            }
            out
        })
        .collect();
    let total: usize = clients.iter().map(Vec::len).sum();
    assert_eq!(total, CLIENTS * REPORTS_PER_CLIENT);

    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for reports in clients {
        let (app, fleet, statuses) = (Arc::clone(&app), Arc::clone(&together), Arc::clone(&statuses));
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for report in &reports {
                let status = send(&app, &client, &fleet, report).await;
                *statuses.lock().unwrap().entry(status.as_u16()).or_default() += 1;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let together_statuses = statuses.lock().unwrap().clone();

    // The same reports, one at a time.
    let mut alone_statuses = BTreeMap::<u16, usize>::new();
    let client = reqwest::Client::new();
    for reports in &scripts {
        for report in reports {
            *alone_statuses.entry(send(&app, &client, &alone, report).await.as_u16()).or_default() += 1;
        }
    }
    assert_eq!(together_statuses, alone_statuses);
    assert_eq!(
        together_statuses.keys().copied().collect::<Vec<_>>(),
        vec![200, 201, 422],
        "{together_statuses:?}"
    );

    let (a, b) = (outcome(&app, &together).await, outcome(&app, &alone).await);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // Every run once: a run id is never stored twice, and the anomalies
    // (tiny late backups of every fourth job) were found.
    let doubled: i64 = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
            "select count(*) from (select job_id, external_id from runs where external_id is not null \
             group by job_id, external_id having count(*) > 1) d",
        )
        .fetch_one(pool)
        .await
    })
    .unwrap();
    assert_eq!(doubled, 0);
    assert!(a.iter().any(|job| !job.ends_with("anomalies 0")), "{}", a[0]);
}

/// A console whose API limit is off: the clients all come from one address.
async fn unlimited(backend: TestBackend) -> Option<TestApp> {
    spawn_app_with(backend, |settings| settings.api_rate_per_minute = 0).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once_sqlite() {
    many_clients_get_what_one_client_gets(unlimited(TestBackend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_at_once_postgres() {
    if let Some(app) = unlimited(TestBackend::Postgres).await {
        many_clients_get_what_one_client_gets(app).await;
    }
}

/// Starts `backup-mgmt serve` on `database_url`, sends pings from 16
/// clients, kills it with SIGKILL mid-load, and reads the database: every
/// run answered 2xx is there, and every stored run is one that was sent.
async fn killed_under_load(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut instance = crate::cluster::serve(dir.path(), database_url, 0);
    let http = reqwest::Client::new();
    let base = instance.base.clone();
    crate::cluster::wait_until_up(&http, &base).await;
    let login: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": crate::cluster::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let mut pings = Vec::new();
    for j in 0..20 {
        let job: Value = http
            .post(format!("{base}/api/v1/jobs"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("kill-{j}")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let url = job["ping_url"].as_str().unwrap();
        pings.push(url[url.find("/ping/").unwrap()..].to_owned());
    }
    let sent = Arc::new(Mutex::new(HashSet::<String>::new()));
    let answered = Arc::new(Mutex::new(HashSet::<String>::new()));
    let mut tasks = Vec::new();
    for client in 0..16 {
        let (sent, answered, pings, base) =
            (Arc::clone(&sent), Arc::clone(&answered), pings.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            for n in 0.. {
                let rid = format!("c{client}-n{n}");
                let ping = &pings[(client + n) % pings.len()];
                sent.lock().unwrap().insert(rid.clone());
                match http.post(format!("{base}{ping}?rid={rid}")).body("ok\n").send().await {
                    Ok(response) if response.status().is_success() => {
                        answered.lock().unwrap().insert(rid);
                    }
                    Ok(response) => panic!("{rid}: {}", response.status()),
                    // The console is gone.
                    Err(_) => return,
                }
            }
        }));
    }
    // Load for a while, then SIGKILL.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while answered.lock().unwrap().len() < 3_000 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    instance.kill_9();
    for task in tasks {
        task.await.unwrap();
    }
    let (sent, answered) = (sent.lock().unwrap().clone(), answered.lock().unwrap().clone());
    assert!(answered.len() >= 1_000, "only {} reports answered before the kill", answered.len());

    let url = app::ssr::infra::settings::DatabaseUrl::new(database_url);
    let db = app::ssr::infra::db::Db::connect(&url).await.unwrap();
    let stored: Vec<Option<String>> =
        app::on_db!(&db, |pool| { sqlx::query_scalar("select external_id from runs").fetch_all(pool).await })
            .unwrap();
    let stored_set: HashSet<String> = stored.iter().flatten().cloned().collect();
    assert_eq!(stored.len(), stored_set.len(), "every stored run has its own run id, stored once");
    let lost: Vec<&String> = answered.difference(&stored_set).collect();
    assert!(
        lost.is_empty(),
        "{} answered reports are not stored: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let unknown: Vec<&String> = stored_set.difference(&sent).collect();
    assert!(unknown.is_empty(), "stored runs nobody sent: {unknown:?}");
    eprintln!(
        "killed under load: {} sent, {} answered 2xx, {} stored ({} stored without an answer)",
        sent.len(),
        answered.len(),
        stored_set.len(),
        stored_set.len() - answered.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_load_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    killed_under_load(&format!("sqlite://{}/console.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_load_postgres() {
    let Some(url) = app::ssr::infra::db::test_support::TestDb::empty_postgres().await else { return };
    killed_under_load(url.expose()).await;
}
