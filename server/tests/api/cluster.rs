//! Several real `backup-mgmt serve` processes on one PostgreSQL database:
//! exactly one leads the periodic work; each missed slot is stored once
//! and notified once, through a `kill -9` of the leader and a terminated
//! lock connection; a run reported to one instance reaches an event stream
//! held open on another; the sign-in limit holds across instances.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::notify_outbox::Receiver;

pub(crate) const PASSWORD: &str = "a long test password for the first admin";
/// The same secrets on every instance, as a real cluster has them.
const JWT_SECRET: &str = "cluster-test-jwt-secret-0123456789abcdef0123456789abcdef";
const ENCRYPTION_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

pub(crate) struct Instance {
    child: Option<Child>,
    pub(crate) base: String,
    log: PathBuf,
}

impl Instance {
    /// Kills the process with SIGKILL and waits for it.
    pub(crate) fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
            assert!(status.success());
            child.wait().unwrap();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- {} log tail ---", self.base);
                tail.iter().rev().for_each(|line| eprintln!("{line}"));
            }
        }
    }
}

/// Waits (up to a minute) until `base` answers `/health`.
pub(crate) async fn wait_until_up(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ok = http.get(format!("{base}/health")).send().await;
        if ok.is_ok_and(|r| r.status() == StatusCode::OK) {
            return;
        }
        assert!(Instant::now() < deadline, "{base} did not come up");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Three instances; killed when dropped, their logs printed if the test failed.
struct Cluster {
    instances: Vec<Instance>,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (i, instance) in self.instances.iter_mut().enumerate() {
            if let Some(mut child) = instance.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            if std::thread::panicking() {
                let log = std::fs::read_to_string(&instance.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                eprintln!("--- instance {i} ({}) log tail ---", instance.base);
                tail.iter().rev().for_each(|line| eprintln!("{line}"));
            }
        }
    }
}

pub(crate) fn serve(dir: &Path, database_url: &str, n: usize) -> Instance {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = dir.join(format!("instance-{n}"));
    std::fs::create_dir_all(&data).unwrap();
    let log = dir.join(format!("instance-{n}.log"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_backup-mgmt"));
    for (key, _) in std::env::vars() {
        if key.starts_with("BMS_") {
            command.env_remove(key);
        }
    }
    let child = command
        .env("BMS_DATA_DIR", &data)
        .env("BMS_DATABASE_URL", database_url)
        .env("BMS_LISTEN", format!("127.0.0.1:{port}"))
        .env("BMS_ADMIN_PASSWORD", PASSWORD)
        .env("BMS_JWT_SECRET", JWT_SECRET)
        .env("BMS_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("BMS_MONITOR_INTERVAL_SECONDS", "1")
        .env("BMS_LOGIN_RATE_PER_MINUTE", "5")
        .env("BMS_TRUST_PROXY", "true")
        .env("BMS_BACKUP_DAILY", "false")
        .env("BMS_LOG_LEVEL", "info")
        .env("RUST_BACKTRACE", "1")
        .arg("serve")
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
        .spawn()
        .unwrap();
    Instance { child: Some(child), base: format!("http://127.0.0.1:{port}"), log }
}

impl Cluster {
    async fn start(database_url: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // All three at once, on an empty database: they race to migrate and
        // to create the first admin.
        let instances = (0..3).map(|n| serve(dir.path(), database_url, n)).collect();
        let this = Self { instances, _dir: dir, http: reqwest::Client::new() };
        for i in 0..3 {
            wait_until_up(&this.http, this.base(i)).await;
        }
        this
    }

    fn base(&self, i: usize) -> &str {
        &self.instances[i].base
    }

    /// How many of its monitor's passes found something to record (the
    /// monitor logs "expectations checked" then): only the leader's do.
    fn monitor_records(&self, i: usize) -> usize {
        std::fs::read_to_string(&self.instances[i].log)
            .unwrap_or_default()
            .matches("expectations checked")
            .count()
    }

    /// Every instance's [`Cluster::monitor_records`].
    fn all_monitor_records(&self) -> Vec<usize> {
        (0..self.instances.len()).map(|i| self.monitor_records(i)).collect()
    }

    /// Since `before`, only `leader`'s monitor recorded anything.
    fn only_the_leader_recorded(&self, leader: usize, before: &[usize]) {
        let now = self.all_monitor_records();
        for i in self.alive() {
            if i == leader {
                assert!(
                    now[i] > before[i],
                    "the leader {i} recorded the missed slots: {before:?} -> {now:?}"
                );
            } else {
                assert_eq!(now[i], before[i], "instance {i} does not lead, yet its monitor recorded runs");
            }
        }
    }

    fn alive(&self) -> Vec<usize> {
        (0..self.instances.len()).filter(|&i| self.instances[i].child.is_some()).collect()
    }

    fn kill_9(&mut self, i: usize) {
        self.instances[i].kill_9();
    }

    async fn health(&self, i: usize, token: &str) -> Value {
        let response =
            self.http.get(format!("{}/health", self.base(i))).bearer_auth(token).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// The instances that say they lead, with the leader each sees recorded.
    async fn leaders(&self, token: &str) -> (Vec<usize>, Vec<Value>) {
        let mut leading = Vec::new();
        let mut recorded = Vec::new();
        for i in self.alive() {
            let health = self.health(i, token).await;
            if health["cluster"]["leading"] == true {
                leading.push(i);
            }
            recorded.push(health["cluster"]["leader"].clone());
        }
        (leading, recorded)
    }

    /// Waits until exactly one live instance leads (and it is not
    /// `not`); returns it and how long that took.
    async fn one_leader(&self, token: &str, not: Option<usize>, within: Duration) -> (usize, Duration) {
        let started = Instant::now();
        loop {
            let (leading, _) = self.leaders(token).await;
            if let [one] = leading[..]
                && Some(one) != not
            {
                return (one, started.elapsed());
            }
            assert!(started.elapsed() < within, "no single new leader within {within:?}: {leading:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn sign_in(&self, i: usize, username: &str, password: &str, from: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/auth/login", self.base(i)))
            .header("x-forwarded-for", from)
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, i: usize, token: &str, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.base(i)))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "{path}: {}", response.text().await.unwrap());
        response.json().await.unwrap()
    }
}

/// Missed runs of `jobs`, as (job, slot) in order.
async fn missed(db: &mut PgConnection, jobs: &[i64]) -> Vec<(i64, chrono::DateTime<chrono::Utc>)> {
    sqlx::query_as(
        "select job_id, started_at from runs where result = 'missed' and job_id = any($1) order by job_id, started_at",
    )
    .bind(jobs)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Waits until every job has at least `each` missed runs. A job whose
/// newest run is a missed one gets a good run at once (reported to a live
/// instance), so each missed slot starts a new streak and is notified on
/// its own (a streak is told once).
///
/// All the while, at most one live instance leads and every other one's
/// leader-only tasks wait.
async fn wait_for_missed(cluster: &Cluster, token: &str, db: &mut PgConnection, jobs: &[Job], each: usize) {
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        {
            let mut leading = 0;
            for i in cluster.alive() {
                let health = cluster.health(i, token).await;
                let leads = health["cluster"]["leading"] == true;
                leading += usize::from(leads);
                let tasks = health["tasks"].as_array().unwrap();
                for task in ["monitor", "veeam-sync", "report-schedules", "retention"] {
                    let status = tasks
                        .iter()
                        .find(|t| t["name"] == task)
                        .unwrap_or_else(|| panic!("{task}: {health}"));
                    assert_eq!(status["standby"] == true, !leads, "instance {i}: {status}");
                }
            }
            assert!(leading <= 1, "{leading} instances lead at once");
        }
        let newest: Vec<(i64, String)> = sqlx::query_as(
            "select job_id, result from runs r where job_id = any($1) \
             and id = (select max(id) from runs where job_id = r.job_id)",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await
        .unwrap();
        for (id, result) in newest {
            if result == "missed" {
                let job = jobs.iter().find(|j| j.id == id).unwrap();
                let at = cluster.alive()[id as usize % cluster.alive().len()];
                let answer =
                    cluster.http.post(format!("{}{}", cluster.base(at), job.ping_path)).send().await.unwrap();
                assert!(answer.status().is_success());
            }
        }
        let rows = missed(db, &ids).await;
        if ids.iter().all(|j| rows.iter().filter(|(job, _)| job == j).count() >= each) {
            return;
        }
        assert!(Instant::now() < deadline, "fewer than {each} missed runs per job: {rows:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A job of the test: id, name, the path of its ping URL.
struct Job {
    id: i64,
    name: String,
    ping_path: String,
}

/// Every missed slot is stored once, the slots of each job follow each
/// other minute by minute (none lost in a takeover), and the webhook got
/// exactly one `run_missed` per stored slot.
async fn assert_each_slot_once(db: &mut PgConnection, jobs: &[Job], receiver: &Receiver) {
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let rows = missed(db, &ids).await;
    let mut distinct = rows.clone();
    distinct.dedup();
    assert_eq!(rows, distinct, "a slot was stored twice");
    for Job { id, .. } in jobs {
        let slots: Vec<_> = rows.iter().filter(|(job, _)| job == id).map(|(_, at)| *at).collect();
        for pair in slots.windows(2) {
            assert_eq!(
                pair[1] - pair[0],
                chrono::TimeDelta::minutes(1),
                "job {id}: a slot is missing: {slots:?}"
            );
        }
    }
    // The outbox sends within seconds. A slot stored meanwhile may have
    // its notification on the way, so the count per job must lie between
    // the slots stored before the wait and those stored after it.
    let count = |id: i64, rows: &[(i64, chrono::DateTime<chrono::Utc>)]| {
        rows.iter().filter(|(job, _)| *job == id).count()
    };
    let notified = |name: &str| {
        receiver.events().iter().filter(|(event, subject)| event == "run_missed" && subject == name).count()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !jobs.iter().all(|j| notified(&j.name) >= count(j.id, &rows)) {
        assert!(Instant::now() < deadline, "not every missed slot was notified: {:?}", receiver.events());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = missed(db, &ids).await;
    for Job { id, name, .. } in jobs {
        let told = notified(name);
        assert!(
            (count(*id, &rows)..=count(*id, &after)).contains(&told),
            "{name}: one notification per slot: {told} for {} to {} slots",
            count(*id, &rows),
            count(*id, &after)
        );
    }
}

#[tokio::test]
async fn three_instances_lead_once_take_over_and_share_live_events_and_limits() {
    let Some(url) = app::ssr::infra::db::test_support::TestDb::empty_postgres().await else { return };
    let mut cluster = Cluster::start(url.expose()).await;
    let mut db = PgConnection::connect(url.expose()).await.unwrap();

    // The sign-in limit (5 a minute) holds when attempts are spread over
    // the instances: per username from many addresses...
    // (At once: a minute's allowance of five refills one every 12 s.)
    let attempts = (0..5).map(|n| {
        let (cluster, from) = (&cluster, format!("10.1.0.{n}"));
        async move { cluster.sign_in(n % 3, "alice", "wrong password", &from).await.status() }
    });
    let answers = futures::future::join_all(attempts).await;
    assert!(answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{answers:?}");
    let refused = cluster.sign_in(2, "alice", "wrong password", "10.1.0.99").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    // ...and per address for many usernames.
    let attempts = (0..5).map(|n| {
        let (cluster, name) = (&cluster, format!("user{n}"));
        async move { cluster.sign_in(n % 3, &name, "wrong password", "10.2.0.1").await.status() }
    });
    let answers = futures::future::join_all(attempts).await;
    assert!(answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{answers:?}");
    assert_eq!(
        cluster.sign_in(1, "someone", "wrong password", "10.2.0.1").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let login: Value = cluster.sign_in(0, "admin", PASSWORD, "10.0.0.1").await.json().await.unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    // Exactly one leads, and every instance records the same leader.
    let (leader, _) = cluster.one_leader(&token, None, Duration::from_secs(30)).await;
    let (_, recorded) = cluster.leaders(&token).await;
    let leader_id = cluster.health(leader, &token).await["cluster"]["instance"]["id"].clone();
    assert!(recorded.iter().all(|r| r["instance_id"] == leader_id), "{recorded:?}");
    let follower = (leader + 1) % 3;
    let tasks = cluster.health(follower, &token).await["tasks"].clone();
    let monitor = tasks.as_array().unwrap().iter().find(|t| t["name"] == "monitor").unwrap();
    assert_eq!(monitor["standby"], true, "a follower's monitor waits: {monitor}");
    assert_eq!(cluster.health(follower, &token).await["cluster"]["instances_alive"], 3);

    // Missed slots of two every-minute jobs go to a webhook.
    let receiver = Receiver::default();
    let hook = receiver.start().await;
    let channel = cluster
        .post(
            follower,
            &token,
            "/api/v1/notifications/channels",
            json!({"name": "hook", "kind": "webhook", "locale": "en", "config": {"url": hook}}),
        )
        .await;
    cluster
        .post(
            follower,
            &token,
            "/api/v1/notifications/rules",
            json!({"name": "missed", "events": ["run_missed"], "channel_ids": [channel["id"]]}),
        )
        .await;
    let mut jobs = Vec::new();
    for name in ["every-minute-a", "every-minute-b"] {
        let job = cluster
            .post(
                (leader + 2) % 3,
                &token,
                "/api/v1/jobs",
                json!({"name": name, "grace_seconds": 0,
                       "schedule": {"kind": "cron", "cron": "* * * * *", "timezone": "UTC"}}),
            )
            .await;
        let url = job["ping_url"].as_str().unwrap();
        let ping_path = url[url.find("/ping/").unwrap()..].to_owned();
        jobs.push(Job { id: job["id"].as_i64().unwrap(), name: name.to_owned(), ping_path });
    }
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();

    // A run reported to one instance reaches an event stream on another.
    let pushed = cluster.post(leader, &token, "/api/v1/jobs", json!({"name": "pushed"})).await;
    let mut stream = cluster
        .http
        .get(format!("{}/api/v1/events", cluster.base(follower)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    // The stream is open once its first bytes (a keep-alive) may flow; give
    // the subscription a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ping_url = pushed["ping_url"].as_str().unwrap();
    let ping_path = &ping_url[ping_url.find("/ping/").unwrap()..];
    let reporter = (follower + 1) % 3;
    let sent = Instant::now();
    let answer = cluster.http.post(format!("{}{ping_path}", cluster.base(reporter))).send().await.unwrap();
    assert!(answer.status().is_success());
    let needle = format!("\"job_id\":{}", pushed["id"]);
    let mut seen = String::new();
    while !seen.contains(&needle) {
        let left = Duration::from_secs(2).saturating_sub(sent.elapsed());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!(
                "no event on instance {follower} within 2 s of the run on {reporter}: {other:?} {seen}"
            ),
        }
    }
    let latency = sent.elapsed();
    assert!(latency <= Duration::from_secs(2), "{latency:?}");
    eprintln!("live event across instances after {latency:?}");
    drop(stream);

    let records = cluster.all_monitor_records();
    wait_for_missed(&cluster, &token, &mut db, &jobs, 2).await;
    assert_each_slot_once(&mut db, &jobs, &receiver).await;
    cluster.only_the_leader_recorded(leader, &records);

    // kill -9 of the leader: another leads within 30 s; slots go on once.
    let epoch_before = cluster.health(follower, &token).await["cluster"]["leader"]["epoch"].as_i64().unwrap();
    cluster.kill_9(leader);
    let (leader, took) = cluster.one_leader(&token, Some(leader), Duration::from_secs(30)).await;
    eprintln!("new leader after kill -9 in {took:?}");
    let epoch = cluster.health(leader, &token).await["cluster"]["leader"]["epoch"].as_i64().unwrap();
    assert!(epoch > epoch_before, "{epoch} > {epoch_before}");
    let records = cluster.all_monitor_records();
    let before = missed(&mut db, &ids).await.len() / ids.len();
    wait_for_missed(&cluster, &token, &mut db, &jobs, before + 1).await;
    assert_each_slot_once(&mut db, &jobs, &receiver).await;
    cluster.only_the_leader_recorded(leader, &records);

    // The leader's lock connection is cut: it stops leading at once and
    // another takes over; no slot is doubled.
    let cut: Vec<(i32, bool)> = sqlx::query_as(
        "select pid, pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted \
         and database = (select oid from pg_database where datname = current_database())",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(cut.len(), 1, "one advisory lock: {cut:?}");
    let cut_at = Instant::now();
    let (new_leader, took) = cluster.one_leader(&token, Some(leader), Duration::from_secs(30)).await;
    eprintln!("new leader after the lock connection was cut in {took:?}");
    let old = cluster.health(leader, &token).await;
    assert_eq!(old["cluster"]["leading"], false, "{old}");
    assert!(cut_at.elapsed() < Duration::from_secs(30));
    // From now on the old leader's monitor records nothing.
    let records = cluster.all_monitor_records();
    let before = missed(&mut db, &ids).await.len() / ids.len();
    wait_for_missed(&cluster, &token, &mut db, &jobs, before + 1).await;
    assert_each_slot_once(&mut db, &jobs, &receiver).await;
    cluster.only_the_leader_recorded(new_leader, &records);
    let health = cluster.health(new_leader, &token).await;
    assert_eq!(health["cluster"]["leading"], true);
    assert_eq!(health["cluster"]["instances_alive"], 2);
}

/// One instance: it leads (at once on SQLite, after its first campaign on
/// PostgreSQL), `/health` and Settings → Cluster say so.
async fn a_single_instance_leads_and_says_so(app: crate::helpers::TestApp) {
    let admin = app.add_user(app::model::user::Role::Admin).await;
    let token = app.bearer(&admin).await;
    // It leads, and the leader row (written by its first heartbeat on
    // SQLite, by its campaign on PostgreSQL) names it.
    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let health: Value = app
            .client
            .get(format!("{}/health", app.address))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cluster = &health["cluster"];
        if cluster["leading"] == true && cluster["leader"]["instance_id"] == cluster["instance"]["id"] {
            break health;
        }
        assert!(Instant::now() < deadline, "{health}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(health["cluster"]["instances_alive"], 1);
    let id = health["cluster"]["instance"]["id"].as_str().unwrap().to_owned();
    let sqlite = health["database"]["backend"] == "sqlite";
    let browser = app.browser_as(&admin).await;
    let page = browser.get(format!("{}/settings/cluster", app.address)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"data-testid="cluster-instances""#));
    assert!(html.contains(&id), "the instance is listed");
    assert!(html.contains(r#"data-leading="true""#));
    assert_eq!(html.contains(r#"data-testid="cluster-single""#), sqlite);
}
crate::both_backends!(a_single_instance_leads, a_single_instance_leads_and_says_so);
