//! The binary itself: configuration errors are one clear line and a
//! non-zero exit, never a panic; `create-admin` and `migrate` work.

use std::{
    io::Write,
    process::{Command, Stdio},
};

fn backup_mgmt(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backup-mgmt"));
    // Only the variables a test sets: the server rejects unknown BMS_ keys.
    for (key, _) in std::env::vars() {
        if key.starts_with("BMS_") {
            command.env_remove(key);
        }
    }
    command.env("BMS_DATA_DIR", data_dir).env("RUST_BACKTRACE", "1");
    command
}

fn assert_one_clear_line(output: &std::process::Output, needle: &str) {
    assert!(!output.status.success(), "expected a failure");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    assert!(lines[0].contains(needle), "`{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
}

#[test]
fn an_unknown_bms_variable_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = backup_mgmt(dir.path()).env("BMS_LISTNE", "127.0.0.1:1").arg("serve").output().unwrap();
    assert_one_clear_line(&output, "BMS_LISTNE");
}

#[test]
fn an_unparsable_database_url_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = backup_mgmt(dir.path())
        .env("BMS_DATABASE_URL", "postgres://bad host/db")
        .arg("serve")
        .output()
        .unwrap();
    assert_one_clear_line(&output, "BMS_DATABASE_URL");
    let output =
        backup_mgmt(dir.path()).env("BMS_DATABASE_URL", "mysql://x/y").arg("serve").output().unwrap();
    assert_one_clear_line(&output, "BMS_DATABASE_URL");
}

#[test]
fn an_unreachable_postgresql_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // Port 9 (discard) on loopback: nothing listens there.
    let output = backup_mgmt(dir.path())
        .env("BMS_DATABASE_URL", "postgres://bms:secret-pw@127.0.0.1:9/bms")
        .arg("serve")
        .output()
        .unwrap();
    assert_one_clear_line(&output, "cannot connect to the database at postgres://bms:***@127.0.0.1:9/bms");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("secret-pw"), "the password is never printed");
}

#[test]
fn a_missing_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output =
        backup_mgmt(dir.path()).args(["--config", "/nonexistent/bms.toml", "check-config"]).output().unwrap();
    assert_one_clear_line(&output, "/nonexistent/bms.toml");
}

#[test]
fn migrate_then_create_admin_from_stdin_then_refuse_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let output = backup_mgmt(dir.path()).arg("migrate").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("backup-mgmt.db").exists());

    let create = |stdin: &str| {
        let mut child = backup_mgmt(dir.path())
            .args(["create-admin", "--username", "Ops", "--email", "ops@example.co.jp", "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let output = create("a long chosen password\n");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("administrator `ops` created"));

    let output = create("a long chosen password\n");
    assert_one_clear_line(&output, "a user named `ops` already exists");
    let output = create("short\n");
    assert_one_clear_line(&output, "at least 12 characters");
}

#[test]
fn create_admin_without_a_terminal_prints_a_one_time_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = backup_mgmt(dir.path())
        .args(["create-admin", "--username", "night-shift", "--email", "ns@example.co.jp"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("one-time password:"), "{stdout}");
}

#[test]
fn check_config_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "jwt-secret-that-must-never-be-printed-0123456789";
    let output = backup_mgmt(dir.path()).env("BMS_JWT_SECRET", secret).arg("check-config").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let all =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(all.contains("configuration OK"));
    assert!(!all.contains(secret));
}

/// Starts `backup-mgmt serve` on `database_url`, checks `/health`, then
/// sends SIGTERM and expects a clean exit.
async fn serve_answers_health_and_stops_on_sigterm(database_url: &str, backend: &str) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let password = "a long test password for the first admin";
    let mut child = backup_mgmt(dir.path())
        .env("BMS_DATABASE_URL", database_url)
        .env("BMS_LISTEN", format!("127.0.0.1:{port}"))
        .env("BMS_ADMIN_PASSWORD", password)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut body = None;
    for _ in 0..100 {
        if let Ok(response) = reqwest::get(format!("{base}/health")).await {
            body = Some(response.json::<serde_json::Value>().await.unwrap());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(body.expect("the server answered /health"), serde_json::json!({"status": "ok"}));
    // The details are for signed-in callers.
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let body: serde_json::Value =
        client.get(format!("{base}/health")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["database"]["backend"], backend);
    assert_eq!(body["database"]["ok"], true);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "a clean exit after SIGTERM: {exit:?}");
}

#[tokio::test]
async fn the_binary_serves_on_sqlite_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/console.db", dir.path().display());
    serve_answers_health_and_stops_on_sigterm(&url, "sqlite").await;
}

#[tokio::test]
async fn the_same_binary_serves_on_postgresql() {
    if let Some(db) = app::ssr::infra::db::test_support::TestDb::postgres().await {
        serve_answers_health_and_stops_on_sigterm(db.url.expose(), "postgres").await;
    }
}
