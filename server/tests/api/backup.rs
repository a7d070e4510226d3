//! The console's own backups on both databases, through the binary's
//! `backup create|list|verify|restore`: the file is encrypted to an age
//! public key (unreadable without the private key, and Debian's `age`
//! decrypts it), restoring into a running console's database is refused,
//! restoring into an empty one gives a console with the same jobs and
//! runs. The daily pass: taken once a day, a failure raises
//! `console_backup_failed` and the next success `console_recovered`, old
//! files go and the newest stays. And the disk self-check: free space
//! below `disk_low_percent` raises `console_disk_low` once, then one
//! `console_recovered`.

use std::{path::Path, process::Command};

use age::secrecy::ExposeSecret;
use app::{
    model::user::Role,
    ssr::{
        infra::db::test_support::{TestBackend, TestDb},
        ops::backup,
    },
};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, spawn_app_with},
    notify_outbox::post_json,
};

fn backup_mgmt(data_dir: &Path, database_url: &str, backups: &Path, recipient: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backup-mgmt"));
    for (key, _) in std::env::vars() {
        if key.starts_with("BMS_") {
            command.env_remove(key);
        }
    }
    command
        .env("BMS_DATA_DIR", data_dir)
        .env("BMS_DATABASE_URL", database_url)
        .env("BMS_BACKUP_DIR", backups)
        .env("BMS_BACKUP_RECIPIENT", recipient);
    command
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!text.contains("panicked"), "{text}");
    (output.status.success(), text)
}

fn key_pair(dir: &Path, name: &str) -> (std::path::PathBuf, String) {
    let identity = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    (path, identity.to_public().to_string())
}

/// Job names and run counts, as the API lists them.
async fn jobs_and_runs(app: &TestApp) -> Vec<(String, i64)> {
    let token = app.bearer(&app.add_user(Role::Viewer).await).await;
    let list: Value = app.api(Method::GET, "/api/v1/jobs", Some(&token), None).await.json().await.unwrap();
    let mut out = Vec::new();
    for job in list["items"].as_array().unwrap() {
        let runs: Value = app
            .api(Method::GET, &format!("/api/v1/runs?job_id={}", job["id"]), Some(&token), None)
            .await
            .json()
            .await
            .unwrap();
        out.push((job["name"].as_str().unwrap().to_owned(), runs["items"].as_array().unwrap().len() as i64));
    }
    out.sort();
    out
}

async fn create_verify_restore(app: TestApp) {
    let backend = if app.state.settings.database_url.scheme() == "sqlite" {
        TestBackend::Sqlite
    } else {
        TestBackend::Postgres
    };
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    for name in ["東京ファイルサーバー", "大阪DB"] {
        let job = post_json(&app, &admin, "/api/v1/jobs", json!({"name": name})).await;
        for result in ["success", "failed", "success"] {
            post_json(&app, &admin, &format!("/api/v1/jobs/{}/runs", job["id"]), json!({"result": result}))
                .await;
        }
    }
    let before = jobs_and_runs(&app).await;
    assert_eq!(before.len(), 2);

    let work = tempfile::tempdir().unwrap();
    let backups = work.path().join("backups");
    let (key, recipient) = key_pair(work.path(), "key.txt");
    let (other_key, _) = key_pair(work.path(), "other.txt");
    let url = app.state.settings.database_url.expose().to_owned();
    let source_dir = work.path().join("source");
    let cli = |args: &[&str]| run(backup_mgmt(&source_dir, &url, &backups, &recipient).args(args));

    // create (while the console runs) → list.
    let (ok, out) = cli(&["backup", "create"]);
    assert!(ok, "{out}");
    let file = std::fs::read_dir(&backups)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "age"))
        .unwrap_or_else(|| panic!("no .age file: {out}"));
    assert!(out.contains(&file.display().to_string()), "{out}");
    let sidecar = std::fs::read_to_string(format!("{}.sha256", file.display())).unwrap();
    let (ok, listed) = cli(&["backup", "list"]);
    assert!(
        ok && listed.contains("manual")
            && listed.contains(" ok ")
            && listed.contains(&file.display().to_string()),
        "{listed}"
    );
    let (sum, name) = sidecar.trim().split_once("  ").unwrap();
    assert_eq!(sum.len(), 64, "{sidecar}");
    assert_eq!(Some(name), file.file_name().and_then(|n| n.to_str()));

    // Encrypted: no plain SQLite header, no job name, and the wrong key cannot read it.
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"));
    assert!(!bytes.windows(15).any(|w| w == b"SQLite format 3"));
    assert!(!bytes.windows("大阪DB".len()).any(|w| w == "大阪DB".as_bytes()));
    let path = file.display().to_string();
    let (ok, out) = cli(&["backup", "verify", &path]);
    assert!(ok && out.contains("matches the recorded one") && out.contains("not checked"), "{out}");
    let (ok, out) = cli(&["backup", "verify", &path, "--identity", &key.display().to_string()]);
    assert!(ok, "{out}");
    assert!(out.contains("contents:"), "{out}");
    if backend == TestBackend::Sqlite {
        assert!(out.contains("2 jobs, 6 runs"), "{out}");
    }
    let (ok, out) = cli(&["backup", "verify", &path, "--identity", &other_key.display().to_string()]);
    assert!(!ok && out.contains("cannot decrypt"), "{out}");

    // Debian's age CLI decrypts it with the private key.
    match Command::new("age").arg("-d").arg("-i").arg(&key).arg(&file).output() {
        Ok(output) => {
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let magic: &[u8] = if backend == TestBackend::Sqlite { b"SQLite format 3\0" } else { b"PGDMP" };
            assert!(output.stdout.starts_with(magic));
        }
        Err(_) => assert!(std::env::var_os("TEST_REQUIRE_AGE").is_none(), "the age CLI is required"),
    }

    // A damaged file is caught by its checksum.
    let damaged = work.path().join("damaged.age");
    let mut copy = bytes.clone();
    let last = copy.len() - 1;
    copy[last] ^= 0xff;
    std::fs::write(&damaged, &copy).unwrap();
    std::fs::copy(format!("{}.sha256", file.display()), format!("{}.sha256", damaged.display())).unwrap();
    let (ok, out) = cli(&["backup", "verify", &damaged.display().to_string()]);
    assert!(!ok && out.contains("damaged"), "{out}");

    // Restoring over the running console's database is refused.
    let (ok, out) = cli(&["backup", "restore", &path, "--identity", &key.display().to_string(), "--replace"]);
    assert!(!ok, "{out}");
    assert!(out.contains("stop"), "{out}");
    // Without the key: refused, saying what is missing.
    let empty = work.path().join("restored");
    let target_url = if backend == TestBackend::Sqlite {
        format!("sqlite://{}", empty.join("backup-mgmt.db").display())
    } else {
        TestDb::empty_postgres().await.unwrap().expose().to_owned()
    };
    let restore = |args: &[&str]| run(backup_mgmt(&empty, &target_url, &backups, &recipient).args(args));
    let (ok, out) = restore(&["backup", "restore", &path]);
    assert!(!ok && out.contains("--identity"), "{out}");
    let (ok, out) = restore(&["backup", "restore", &path, "--identity", &key.display().to_string()]);
    assert!(ok, "{out}");
    // Into a database that is no longer empty: refused without --replace.
    let (ok, out) = restore(&["backup", "restore", &path, "--identity", &key.display().to_string()]);
    assert!(!ok && out.contains("--replace"), "{out}");

    // A console on the restored database shows the same jobs and runs.
    let restored_url = app::ssr::infra::settings::DatabaseUrl::new(target_url.clone());
    let restored = spawn_app_with(backend, move |s| s.database_url = restored_url).await.unwrap();
    assert_eq!(jobs_and_runs(&restored).await, before);
}
crate::both_backends!(create_verify_restore, create_verify_restore);

async fn the_daily_backup_is_taken_once_told_when_it_fails_and_pruned(app: TestApp) {
    let work = tempfile::tempdir().unwrap();
    // The backup directory is in the way (a file): the daily backup fails.
    let blocked = work.path().join("backups");
    std::fs::write(&blocked, b"not a directory").unwrap();
    let now = Utc::now();
    let state = {
        let mut state = app.state.clone();
        let mut settings = (*state.settings).clone();
        settings.backup.dir = blocked.clone();
        // Due three hours ago, so every pass below falls on the same day's backup.
        settings.backup.time =
            (now - Duration::hours(3)).with_timezone(&settings.timezone).time() - Duration::seconds(59);
        settings.backup.recipient = Some(age::x25519::Identity::generate().to_public().to_string());
        state.settings = std::sync::Arc::new(settings);
        state
    };
    let first = backup::daily_pass(&state, now).await.unwrap();
    assert!(matches!(first, Some(Err(_))), "{first:?}");
    let events = |app: &TestApp| {
        let db = app.state.db.clone();
        async move {
            app::on_db!(&db, |pool| sqlx::query_scalar::<_, String>(
                "select kind from console_events where subject = 'backup:daily' order by id"
            )
            .fetch_all(pool)
            .await)
            .unwrap()
        }
    };
    assert_eq!(events(&app).await, vec!["console_backup_failed"]);
    // Not again within the hour; a second failure is not told twice.
    assert!(backup::daily_pass(&state, now + Duration::minutes(10)).await.unwrap().is_none());
    assert!(matches!(backup::daily_pass(&state, now + Duration::minutes(61)).await.unwrap(), Some(Err(_))));
    assert_eq!(events(&app).await, vec!["console_backup_failed"]);

    // Fixed: an old backup lies there from a month ago; the next try works,
    // tells the recovery, and removes the old file.
    std::fs::remove_file(&blocked).unwrap();
    std::fs::create_dir(&blocked).unwrap();
    let old = blocked
        .join(format!("backup-mgmt-{}.sqlite.age", (now - Duration::days(40)).format("%Y%m%dT%H%M%SZ")));
    std::fs::write(&old, b"old").unwrap();
    let made = backup::daily_pass(&state, now + Duration::minutes(125)).await.unwrap();
    let made = made.unwrap().unwrap();
    assert_eq!(made.trigger, "scheduled");
    assert!(made.encrypted && made.present, "{made:?}");
    assert_eq!(events(&app).await, vec!["console_backup_failed", "console_recovered"]);
    assert!(!old.exists(), "a backup older than backup_keep_days is removed");
    // Taken for the day: the next pass does nothing.
    assert!(backup::daily_pass(&state, now + Duration::minutes(130)).await.unwrap().is_none());
    let listed = backup::list(&state.db, &state.settings, 10).await.unwrap();
    assert_eq!(listed.iter().map(|b| b.status.as_str()).collect::<Vec<_>>(), ["ok", "failed", "failed"]);
}
crate::both_backends!(
    the_daily_backup_is_taken_once_told_when_it_fails_and_pruned,
    the_daily_backup_is_taken_once_told_when_it_fails_and_pruned
);

async fn low_disk_is_told_once_and_its_recovery_too(app: TestApp) {
    // A data directory of its own (its name is the events' subject name) and
    // a watch of its own: the console's background self-check runs beside
    // this test with the real threshold, on the same file system.
    let dir = tempfile::tempdir().unwrap();
    let slots = std::sync::Arc::new(app::ssr::infra::state::Slots::default());
    let with_threshold = |percent: u8| {
        let mut state = app.state.clone();
        let mut settings = (*state.settings).clone();
        settings.disk_low_percent = percent;
        settings.data_dir = dir.path().to_owned();
        state.settings = std::sync::Arc::new(settings);
        state.slots = slots.clone();
        state
    };
    let name = dir.path().display().to_string();
    let kinds = || {
        let (db, name) = (app.state.db.clone(), name.clone());
        async move {
            app::on_db!(&db, |pool| sqlx::query_scalar::<_, String>(
                "select kind from console_events where subject = 'disk:data_dir' and subject_name = $1 order by id"
            )
            .bind(&name)
            .fetch_all(pool)
            .await)
            .unwrap()
        }
    };
    let free = app::ssr::ops::selfcheck::free_percent(dir.path()).unwrap();
    assert!(free < 99.0, "the test needs a file system less than 99 % free ({free:.1} %)");
    // Threshold above the free share: raised once, however many passes.
    let low = with_threshold(99);
    app::ssr::ops::selfcheck::pass(&low).await.unwrap();
    app::ssr::ops::selfcheck::pass(&low).await.unwrap();
    assert_eq!(kinds().await, ["console_disk_low"]);
    // Well below it: recovered, once.
    let fine = with_threshold(1);
    app::ssr::ops::selfcheck::pass(&fine).await.unwrap();
    app::ssr::ops::selfcheck::pass(&fine).await.unwrap();
    assert_eq!(kinds().await, ["console_disk_low", "console_recovered"]);
}
crate::both_backends!(low_disk_is_told_once_and_its_recovery_too, low_disk_is_told_once_and_its_recovery_too);
