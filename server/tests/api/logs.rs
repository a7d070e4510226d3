//! Secrets never reach the logs: the real binary at `trace` level, with
//! log files (`log_dir`), signs users in, issues and uses tokens, pings a
//! job and changes a password, and none of the secrets involved appears in
//! anything it printed or in `app.log`, `error.log` or `access.log`; the
//! access log has a line per request with the ping token masked.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

#[tokio::test]
async fn passwords_tokens_and_secrets_never_appear_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let address = format!("http://127.0.0.1:{port}");
    let admin_password = "first admin passphrase 7Q";
    let jwt_secret = "jwt-signing-secret-that-must-stay-secret-123456";
    let mut command = Command::new(env!("CARGO_BIN_EXE_backup-mgmt"));
    for (key, _) in std::env::vars() {
        if key.starts_with("BMS_") {
            command.env_remove(key);
        }
    }
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = command
        .env("BMS_DATA_DIR", dir.path())
        .env("BMS_LISTEN", format!("127.0.0.1:{port}"))
        .env("BMS_ADMIN_PASSWORD", admin_password)
        .env("BMS_JWT_SECRET", jwt_secret)
        .env("BMS_LOG_FORMAT", "json")
        .env("BMS_LOG_DIR", dir.path().join("logs"))
        .env("RUST_LOG", "trace")
        .arg("serve")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();

    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{address}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // A failed and a successful API sign-in.
    let wrong_password = "a wrong guess of the admin password";
    let _ = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": wrong_password}))
        .send()
        .await
        .unwrap();
    let login: Value = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": admin_password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = login["token"].as_str().unwrap().to_owned();

    // A browser sign-in (session cookie).
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let response = browser
        .post(format!("{address}/api/fn/auth/login"))
        .header("origin", &address)
        .form(&[("username", "admin"), ("password", admin_password)])
        .send()
        .await
        .unwrap();
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| {
            v.to_str().unwrap().strip_prefix("bms_session=").map(|c| c.split(';').next().unwrap().to_owned())
        })
        .unwrap();
    let _ =
        browser.post(format!("{address}/api/fn/auth/me")).header("origin", &address).send().await.unwrap();

    // An API token, created and used.
    let created: Value = client
        .post(format!("{address}/api/v1/tokens"))
        .bearer_auth(&jwt)
        .json(&json!({"name": "logged?", "scope": "read"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_secret = created["secret"].as_str().unwrap().to_owned();
    let me = client.get(format!("{address}/api/v1/me")).bearer_auth(&token_secret).send().await.unwrap();
    assert!(me.status().is_success());

    // A job pinged through its secret URL.
    let job: Value = client
        .post(format!("{address}/api/v1/jobs"))
        .bearer_auth(&jwt)
        .json(&json!({"name": "pinged"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ping_url = job["ping_url"].as_str().unwrap().to_owned();
    let ping_token = ping_url.rsplit('/').next().unwrap().to_owned();
    let pinged = client.get(format!("{address}/ping/{ping_token}")).send().await.unwrap();
    assert!(pinged.status().is_success());
    let _ = client.get(format!("{address}/ping/{ping_token}/fail?msg=x")).send().await.unwrap();

    // A new user with a one-time password, and a password change.
    let user: Value = client
        .post(format!("{address}/api/v1/users"))
        .bearer_auth(&jwt)
        .json(&json!({"username": "ops", "email": "ops@example.co.jp", "role": "operator"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let one_time = user["one_time_password"].as_str().unwrap().to_owned();
    let new_password = "the admin's brand new passphrase";
    let changed = client
        .post(format!("{address}/api/v1/me/password"))
        .bearer_auth(&jwt)
        .json(&json!({"current_password": admin_password, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);

    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    let read = |name: &str| std::fs::read_to_string(dir.path().join("logs").join(name)).unwrap();
    let (app_log, error_log, access_log) = (read("app.log"), read("error.log"), read("access.log"));
    assert!(
        access_log.contains("/api/v1/auth/login") && access_log.contains("\"/ping/***\""),
        "{access_log}"
    );
    assert!(access_log.contains("/ping/***/fail"), "{access_log}");
    assert!(access_log.lines().all(|l| l.contains("\"status\"")), "one line per request: {access_log}");
    assert!(app_log.lines().count() > 20 && !app_log.contains("\"target\":\"access\""), "{app_log}");
    assert!(error_log.lines().all(|l| l.contains("WARN") || l.contains("ERROR")), "{error_log}");
    let logs = format!("{}{app_log}{error_log}{access_log}", std::fs::read_to_string(&log_path).unwrap());
    assert!(logs.lines().count() > 20, "trace logging produced output:\n{logs}");
    assert!(logs.contains("auth") || logs.contains("request"), "the requests were logged");
    for (what, secret) in [
        ("admin password", admin_password),
        ("wrong password", wrong_password),
        ("new password", new_password),
        ("one-time password", one_time.as_str()),
        ("JWT", jwt.as_str()),
        ("session cookie", session.as_str()),
        ("API token", token_secret.as_str()),
        ("JWT secret", jwt_secret),
        ("ping token", ping_token.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
