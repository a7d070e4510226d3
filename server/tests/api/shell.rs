//! Health, the HTML shell, preferences, the manifest, request ids,
//! compression and graceful shutdown.

use reqwest::{StatusCode, header};
use serde_json::Value;

use crate::{both_backends, helpers::TestApp};

async fn health_reports_the_backend_and_an_ok_database(app: TestApp) {
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}), "anonymous callers get the verdict only");
    // The details are for signed-in callers.
    let viewer = app.bearer(&app.add_user(app::model::user::Role::Viewer).await).await;
    let response = app.api(reqwest::Method::GET, "/health", Some(&viewer), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let backend = app.state.db.backend().as_str();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["degraded"], serde_json::json!([]));
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["database"]["backend"], backend);
    assert_eq!(body["database"]["ok"], true);
    assert!(body["uptime_seconds"].is_u64());
}
both_backends!(health_ok, health_reports_the_backend_and_an_ok_database);

async fn health_is_503_when_the_database_is_gone(app: TestApp) {
    app.state.db.close().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "unavailable"}));
}
both_backends!(health_unavailable, health_is_503_when_the_database_is_gone);

async fn the_first_start_creates_the_admin_with_a_one_time_password(app: TestApp) {
    assert!(app.admin_password.as_deref().is_some_and(|p| p.len() == 20));
    let row =
        app::ssr::accounts::store::users::find_by_username(&app.state.db, "admin").await.unwrap().unwrap();
    assert!(row.must_change_password);
}
both_backends!(first_admin, the_first_start_creates_the_admin_with_a_one_time_password);

async fn pages_are_rendered_on_the_server_in_the_requested_language(app: TestApp) {
    let response = app
        .client
        .get(format!("{}/login", app.address))
        .header(header::ACCEPT_LANGUAGE, "ja-JP,ja;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"lang="ja""#), "{html}");
    assert!(html.contains("サインイン"));
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains(r#"lang="en""#));
    assert!(html.contains("Sign in"));

    // Signed in, the profile's language wins over the browser's.
    let user = app.add_user(app::model::user::Role::Viewer).await;
    app::ssr::accounts::store::users::update_profile(
        &app.state.db,
        user.id,
        &app::ssr::accounts::store::users::ProfileUpdate {
            email: "x@example.co.jp",
            role: "viewer",
            locale: "ja",
            disabled: false,
            end_sessions: false,
        },
    )
    .await
    .unwrap();
    let browser = app.browser_as(&user).await;
    let html = browser
        .get(format!("{}/jobs", app.address))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("バックアップジョブ") && html.contains("ダッシュボード"), "{html}");
}
both_backends!(ssr_language, pages_are_rendered_on_the_server_in_the_requested_language);

async fn unknown_routes_get_a_404_page(app: TestApp) {
    let response = app.get("/definitely/not/here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains(r#"class="app-header""#), "the 404 page keeps the header");
}
both_backends!(not_found, unknown_routes_get_a_404_page);

async fn the_preference_forms_set_cookies_and_return_to_the_page(app: TestApp) {
    let response = app
        .client
        .post(format!("{}/prefs/theme", app.address))
        .form(&[("theme", "dark"), ("return_to", "/reports?x=1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/reports?x=1");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("bms_theme=dark;")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Max-Age=")
    );
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains(r#"data-theme="dark""#));

    let response = app
        .client
        .post(format!("{}/prefs/locale", app.address))
        .form(&[("locale", "ja"), ("return_to", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[header::LOCATION], "/", "no open redirect");
    let html = app.get("/login").await.text().await.unwrap();
    assert!(html.contains(r#"lang="ja""#));

    for (path, field, value) in [("/prefs/theme", "theme", "purple"), ("/prefs/locale", "locale", "fr")] {
        let response =
            app.client.post(format!("{}{path}", app.address)).form(&[(field, value)]).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(!response.text().await.unwrap().is_empty());
    }
}
both_backends!(preferences, the_preference_forms_set_cookies_and_return_to_the_page);

async fn the_manifest_follows_the_language(app: TestApp) {
    let response = app
        .client
        .get(format!("{}/manifest.webmanifest", app.address))
        .header(header::ACCEPT_LANGUAGE, "ja")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/manifest+json");
    let manifest: Value = response.json().await.unwrap();
    assert_eq!(manifest["name"], "バックアップ管理システム");
    assert_eq!(manifest["start_url"], "/");
}
both_backends!(manifest, the_manifest_follows_the_language);

async fn every_response_carries_a_request_id_and_text_is_compressed(app: TestApp) {
    let response = app.get("/health").await;
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let response = app
        .client
        .get(format!("{}/login", app.address))
        .header("x-request-id", "given-by-the-proxy")
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "given-by-the-proxy");
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
}
both_backends!(request_ids, every_response_carries_a_request_id_and_text_is_compressed);

async fn the_server_stops_gracefully(app: TestApp) {
    let address = app.address.clone();
    app.stop().await.unwrap();
    assert!(reqwest::get(format!("{address}/health")).await.is_err(), "no longer listening");
}
both_backends!(graceful_shutdown, the_server_stops_gracefully);
