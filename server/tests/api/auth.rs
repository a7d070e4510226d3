//! Sign-in, sessions, bearer tokens, API tokens, CSRF, rate limits,
//! security headers, user management rules and the audit trail.

use app::{
    model::user::Role,
    ssr::accounts::auth::{TokenKind, TokenSubject, issue_jwt},
};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp};

async fn status_of_me(app: &TestApp, token: &str) -> StatusCode {
    app.api(Method::GET, "/api/v1/me", Some(token), None).await.status()
}

async fn an_expired_or_tampered_token_is_refused(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let token = app.bearer(&user).await;
    assert_eq!(status_of_me(&app, &token).await, StatusCode::OK);

    let subject = TokenSubject { user_id: user.id, session_version: 0, session_id: "any" };
    let expired = issue_jwt(
        &app.state.keys,
        subject,
        TokenKind::Api,
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .unwrap();
    assert_eq!(status_of_me(&app, &expired).await, StatusCode::UNAUTHORIZED);

    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(status_of_me(&app, &tampered).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of_me(&app, "not-a-jwt").await, StatusCode::UNAUTHORIZED);

    let response = app.api(Method::GET, "/api/v1/me", Some(&expired), None).await;
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    // A session token is not accepted as a bearer token.
    let session = issue_jwt(
        &app.state.keys,
        subject,
        TokenKind::Session,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .unwrap();
    assert_eq!(status_of_me(&app, &session).await, StatusCode::UNAUTHORIZED);
}
both_backends!(expired_and_tampered_tokens, an_expired_or_tampered_token_is_refused);

async fn a_disabled_user_can_neither_use_tokens_nor_sign_in(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let admin_token = app.bearer(&admin).await;
    let user = app.add_user(Role::Operator).await;
    let token = app.bearer(&user).await;
    let browser = app.browser_as(&user).await;

    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", user.id),
            Some(&admin_token),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["disabled"], true);

    assert_eq!(status_of_me(&app, &token).await, StatusCode::UNAUTHORIZED);
    let me: Value =
        browser.post(format!("{}/api/fn/auth/me", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(me, Value::Null, "the browser session ended too");

    let response = app
        .api(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": user.username, "password": user.password})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_credentials");
}
both_backends!(disabled_users, a_disabled_user_can_neither_use_tokens_nor_sign_in);

async fn unknown_users_and_wrong_passwords_get_the_same_answer(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let wrong = app
        .api(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": user.username, "password": "not the password"})),
        )
        .await;
    let unknown = app
        .api(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "nobody", "password": "not the password"})),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json::<Value>().await.unwrap(), unknown.json::<Value>().await.unwrap());
}
both_backends!(same_answer_for_unknown_users, unknown_users_and_wrong_passwords_get_the_same_answer);

async fn a_password_change_ends_the_other_sessions_and_tokens(app: TestApp) {
    let user = app.add_user(Role::Operator).await;
    let here = app.browser_as(&user).await;
    let elsewhere = app.browser_as(&user).await;
    let bearer = app.bearer(&user).await;
    let api_token = app::ssr::accounts::auth::new_api_token_secret();
    app::ssr::accounts::store::api_tokens::create(
        &app.state.db,
        &app::ssr::accounts::store::api_tokens::NewToken {
            user_id: user.id,
            name: "script",
            scope: "read",
            secret_hash: &app::ssr::accounts::auth::hash_api_token_secret(&api_token),
            prefix: "bms_",
            expires_at: None,
            job_ids: None,
            tags: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(status_of_me(&app, &api_token).await, StatusCode::OK);

    let response = here
        .post(format!("{}/api/fn/auth/password", app.address))
        .form(&[
            ("current_password", user.password.as_str()),
            ("new_password", "a brand new passphrase"),
            ("confirm_password", "a brand new passphrase"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    let me = |client: reqwest::Client| {
        let url = format!("{}/api/fn/auth/me", app.address);
        async move { client.post(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(me(here.clone()).await["user"]["username"], user.username, "still signed in here");
    assert_eq!(me(elsewhere).await, Value::Null, "signed out elsewhere");
    assert_eq!(status_of_me(&app, &bearer).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of_me(&app, &api_token).await, StatusCode::UNAUTHORIZED, "API tokens revoked");
}
both_backends!(password_change_ends_sessions, a_password_change_ends_the_other_sessions_and_tokens);

async fn api_tokens_work_until_revoked_and_keep_to_their_scope(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let jwt = app.bearer(&admin).await;
    let mut secrets = std::collections::HashMap::new();
    for scope in ["read", "write", "ingest"] {
        let response = app
            .api(Method::POST, "/api/v1/tokens", Some(&jwt), Some(json!({"name": scope, "scope": scope})))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("bms_"));
        assert_eq!(created["token"]["prefix"].as_str().unwrap(), &secret[..12]);
        secrets.insert(scope, (created["token"]["id"].as_i64().unwrap(), secret));
    }
    let (read_id, read) = secrets["read"].clone();
    let (_, write) = secrets["write"].clone();
    let (_, ingest) = secrets["ingest"].clone();

    // read: may look, not change.
    assert_eq!(app.api(Method::GET, "/api/v1/users", Some(&read), None).await.status(), StatusCode::OK);
    let new_user = json!({"username": "made-by-token", "email": "t@example.co.jp", "role": "viewer"});
    assert_eq!(
        app.api(Method::POST, "/api/v1/users", Some(&read), Some(new_user.clone())).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.api(Method::DELETE, &format!("/api/v1/users/{}", admin.id), Some(&read), None).await.status(),
        StatusCode::FORBIDDEN
    );
    // No token may mint tokens or change passwords.
    for token in [&read, &write] {
        let response = app
            .api(Method::POST, "/api/v1/tokens", Some(token), Some(json!({"name": "x", "scope": "write"})))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // write: what the role allows, except managing accounts: an admin's
    // write token can neither create users nor reset passwords (a sign-in can).
    assert_eq!(
        app.api(Method::POST, "/api/v1/users", Some(&write), Some(new_user.clone())).await.status(),
        StatusCode::FORBIDDEN
    );
    let someone = app.add_user(Role::Viewer).await;
    let reset = format!("/api/v1/users/{}/reset-password", someone.id);
    assert_eq!(app.api(Method::POST, &reset, Some(&write), None).await.status(), StatusCode::FORBIDDEN);
    let signed_in = jwt.clone();
    assert_eq!(
        app.api(Method::POST, "/api/v1/users", Some(&signed_in), Some(new_user)).await.status(),
        StatusCode::CREATED
    );
    // ingest: only reporting runs.
    assert_eq!(
        app.api(Method::GET, "/api/v1/users", Some(&ingest), None).await.status(),
        StatusCode::FORBIDDEN
    );

    // last_used_at is recorded.
    let listed: Value = app.api(Method::GET, "/api/v1/tokens", Some(&jwt), None).await.json().await.unwrap();
    let read_row = listed.as_array().unwrap().iter().find(|t| t["id"] == read_id).unwrap();
    assert!(read_row["last_used_at"].is_string(), "{read_row}");
    assert!(listed.to_string().find(&read).is_none(), "secrets are never listed");

    // Revoked: refused.
    let response = app.api(Method::DELETE, &format!("/api/v1/tokens/{read_id}"), Some(&jwt), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Value>().await.unwrap()["revoked_at"].is_string());
    assert_eq!(status_of_me(&app, &read).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status_of_me(&app, "bms_madeUpSecretThatWasNeverIssued00000000000").await,
        StatusCode::UNAUTHORIZED
    );
}
both_backends!(api_tokens, api_tokens_work_until_revoked_and_keep_to_their_scope);

async fn an_expired_api_token_is_refused(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let jwt = app.bearer(&user).await;
    let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
    let response = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(&jwt),
            Some(json!({"name": "short", "scope": "read", "expires_at": soon})),
        )
        .await;
    let secret = response.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    assert_eq!(status_of_me(&app, &secret).await, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(status_of_me(&app, &secret).await, StatusCode::UNAUTHORIZED);
    let past = json!({"name": "past", "scope": "read", "expires_at": "2020-01-01T00:00:00Z"});
    let response = app.api(Method::POST, "/api/v1/tokens", Some(&jwt), Some(past)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["field"], "expires_at");
}
both_backends!(expired_api_token, an_expired_api_token_is_refused);

async fn cross_origin_cookie_posts_are_refused(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let browser = app.browser_as(&admin).await;
    let form =
        [("username", "csrf-victim"), ("email", "v@example.co.jp"), ("role", "admin"), ("locale", "en")];
    let response = browser
        .post(format!("{}/api/fn/users/create", app.address))
        .header(header::ORIGIN, "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "csrf");
    assert!(
        app::ssr::accounts::store::users::find_by_username(&app.state.db, "csrf-victim")
            .await
            .unwrap()
            .is_none()
    );

    // Same origin: fine.
    let response =
        browser.post(format!("{}/api/fn/users/create", app.address)).form(&form).send().await.unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    // Bearer requests are not affected by Origin.
    let jwt = app.bearer(&admin).await;
    let response = app
        .client
        .get(format!("{}/api/v1/users", app.address))
        .bearer_auth(&jwt)
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
both_backends!(csrf, cross_origin_cookie_posts_are_refused);

async fn the_sixth_sign_in_within_a_minute_gets_429(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let attempt = || {
        app.api(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": user.username, "password": "wrong"})),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt().await.status(), StatusCode::UNAUTHORIZED);
    }
    let response = attempt().await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "rate_limited");
    // The same limit holds for the browser's sign-in form.
    let browser = app.browser();
    let response = app.sign_in(&browser, &user).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
}
both_backends!(login_rate_limit, the_sixth_sign_in_within_a_minute_gets_429);

async fn a_one_time_password_forces_a_change_before_anything_else(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let jwt = app.bearer(&admin).await;
    let response = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(&jwt),
            Some(
                json!({"username": "newbie", "email": "n@example.co.jp", "role": "operator", "locale": "ja"}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let otp = created["one_time_password"].as_str().unwrap().to_owned();
    assert_eq!(created["user"]["must_change_password"], true);

    let newbie = crate::helpers::TestUser {
        id: created["user"]["id"].as_i64().unwrap(),
        username: "newbie".into(),
        password: otp.clone(),
    };
    let browser = app.browser();
    let response = browser
        .post(format!("{}/api/fn/auth/login", app.address))
        .header(header::ACCEPT, "text/html")
        .form(&[("username", "newbie"), ("password", otp.as_str()), ("next", "/jobs")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()[header::LOCATION], "/change-password?next=%2Fjobs");
    let page = browser
        .get(format!("{}/jobs", app.address))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::FOUND);
    assert!(page.headers()[header::LOCATION].to_str().unwrap().starts_with("/change-password"));

    let bearer = app.bearer(&newbie).await;
    let response = app.api(Method::GET, "/api/v1/tokens", Some(&bearer), None).await;
    assert_eq!(response.status(), StatusCode::OK, "account management stays possible");
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", newbie.id),
            Some(&bearer),
            Some(json!({"locale": "en"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = app
        .api(
            Method::POST,
            "/api/v1/me/password",
            Some(&bearer),
            Some(json!({"current_password": otp, "new_password": "my own passphrase"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let renewed =
        app.bearer(&crate::helpers::TestUser { password: "my own passphrase".into(), ..newbie }).await;
    let me: Value = app.api(Method::GET, "/api/v1/me", Some(&renewed), None).await.json().await.unwrap();
    assert_eq!(me["user"]["must_change_password"], false);
    assert_eq!(me["auth"], "bearer");
}
both_backends!(forced_password_change, a_one_time_password_forces_a_change_before_anything_else);

async fn the_last_admin_and_oneself_are_protected(app: TestApp) {
    // Only one active administrator besides the generated first admin: disable that one first.
    let first =
        app::ssr::accounts::store::users::find_by_username(&app.state.db, "admin").await.unwrap().unwrap();
    let admin = app.add_user(Role::Admin).await;
    let jwt = app.bearer(&admin).await;
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", first.id),
            Some(&jwt),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = app.api(Method::DELETE, &format!("/api/v1/users/{}", admin.id), Some(&jwt), None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "not oneself");
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", admin.id),
            Some(&jwt),
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "not demoting oneself");

    // Another admin may not remove the last active one either.
    let other = app.add_user(Role::Admin).await;
    let other_jwt = app.bearer(&other).await;
    let response =
        app.api(Method::DELETE, &format!("/api/v1/users/{}", admin.id), Some(&other_jwt), None).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT, "two active admins: one may go");
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{}", other.id),
            Some(&other_jwt),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");
}
both_backends!(last_admin, the_last_admin_and_oneself_are_protected);

async fn bad_input_gets_a_clear_4xx(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let jwt = app.bearer(&admin).await;
    let cases = [
        (json!({"username": "bad name", "email": "a@example.co.jp", "role": "viewer"}), "username"),
        (json!({"username": "ok-name", "email": "nope", "role": "viewer"}), "email"),
        (
            json!({"username": "ok-name", "email": "a@example.co.jp", "role": "viewer", "password": "short"}),
            "password",
        ),
    ];
    for (body, field) in cases {
        let response = app.api(Method::POST, "/api/v1/users", Some(&jwt), Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json::<Value>().await.unwrap()["error"]["field"], field);
    }
    let response = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(&jwt),
            Some(json!({"username": "x", "email": "a@example.co.jp", "role": "root"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    let response = app
        .client
        .post(format!("{}/api/v1/users", app.address))
        .bearer_auth(&jwt)
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    let response = app.api(Method::GET, "/api/v1/users/abc", Some(&jwt), None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app.api(Method::GET, "/api/v1/users/999999", Some(&jwt), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app.api(Method::GET, "/api/v1/nothing-here", Some(&jwt), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "not_found");

    // Japanese callers get Japanese messages.
    let response = app
        .client
        .post(format!("{}/api/v1/users", app.address))
        .bearer_auth(&jwt)
        .header(header::ACCEPT_LANGUAGE, "ja")
        .json(&json!({"username": "ok-name", "email": "nope", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    let message = response.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("メールアドレス"), "{message}");
}
both_backends!(bad_input, bad_input_gets_a_clear_4xx);

async fn sign_ins_and_changes_are_audited(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let _ = app
        .api(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": admin.username, "password": "wrong"})),
        )
        .await;
    let jwt = app.bearer(&admin).await;
    let response = app
        .api(
            Method::POST,
            "/api/v1/users",
            Some(&jwt),
            Some(json!({"username": "audited", "email": "a@example.co.jp", "role": "viewer"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let page: Value = app.api(Method::GET, "/api/v1/audit", Some(&jwt), None).await.json().await.unwrap();
    let actions: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..3], ["user.create", "auth.login", "auth.login_failed"]);
    let created = &page["items"][0];
    assert_eq!(created["actor_name"], admin.username.as_str());
    assert_eq!(created["target_name"], "audited");
    assert_eq!(created["client_ip"], "127.0.0.1");

    let failed: Value = app
        .api(Method::GET, "/api/v1/audit?success=false&action=auth.", Some(&jwt), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(failed["items"].as_array().unwrap().iter().all(|e| e["success"] == false));
    let paged: Value =
        app.api(Method::GET, "/api/v1/audit?limit=1", Some(&jwt), None).await.json().await.unwrap();
    assert_eq!(paged["items"].as_array().unwrap().len(), 1);
    let cursor = paged["next_cursor"].as_str().unwrap();
    let next: Value = app
        .api(Method::GET, &format!("/api/v1/audit?limit=1&cursor={cursor}"), Some(&jwt), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["action"], "auth.login");
}
both_backends!(audit_trail, sign_ins_and_changes_are_audited);

async fn security_headers_are_on_every_response(app: TestApp) {
    for path in ["/login", "/api/v1/me", "/health", "/manifest.webmanifest", "/nope"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"), "{path}: {csp}");
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY), "no HSTS over http");
    }
    let page = app.get("/login").await;
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");
}
both_backends!(security_headers, security_headers_are_on_every_response);

#[tokio::test]
async fn https_consoles_send_hsts_and_secure_cookies() {
    let app =
        crate::helpers::spawn_app_with(app::ssr::infra::db::test_support::TestBackend::Sqlite, |settings| {
            settings.base_url = "https://backup.example.co.jp/".parse().unwrap();
        })
        .await
        .unwrap();
    let response = app.get("/health").await;
    assert_eq!(response.headers()[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000; includeSubDomains");
    let user = app.add_user(Role::Viewer).await;
    let response = app
        .client
        .post(format!("{}/api/fn/auth/login", app.address))
        .header(header::ORIGIN, "https://backup.example.co.jp")
        .form(&[("username", user.username.as_str()), ("password", user.password.as_str())])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("bms_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
}

async fn an_active_session_is_renewed_after_half_its_lifetime(app: TestApp) {
    let user = app.add_user(Role::Viewer).await;
    let now = chrono::Utc::now();
    // A session signed in seven hours ago, ending (session_max_days) in a week or in 40 minutes.
    let old_cookie = |sid: &'static str| {
        let claims = json!({
            "sub": user.id.to_string(), "sv": 0, "sid": sid, "kind": "session",
            "iat": now.timestamp() - 7 * 3600, "exp": now.timestamp() + 5 * 3600,
        });
        let secret = "test secret: not for production use, 32+ bytes";
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        format!("bms_session={token}")
    };
    let sessions = app::ssr::accounts::store::sessions::create;
    sessions(&app.state.db, "week", user.id, "session", now + chrono::Duration::days(7)).await.unwrap();
    sessions(&app.state.db, "ending", user.id, "session", now + chrono::Duration::minutes(40)).await.unwrap();
    let renewal_of = |cookie: String| {
        let request = app
            .client
            .post(format!("{}/api/fn/auth/me", app.address))
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, &app.address);
        async move {
            let response = request.send().await.unwrap();
            let renewed = response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .find(|c| c.starts_with("bms_session="))
                .expect("a renewed session cookie");
            let body: Value = response.json().await.unwrap();
            (renewed, body)
        }
    };
    let (renewed, body) = renewal_of(old_cookie("week")).await;
    assert!(renewed.contains("Max-Age=43200"), "{renewed}");
    assert_eq!(body["user"]["username"], user.username.as_str());
    // Renewal never goes past the session's absolute end.
    let (renewed, _) = renewal_of(old_cookie("ending")).await;
    let max_age: i64 = renewed.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
    assert!((1..=2400).contains(&max_age), "{renewed}");

    // A fresh session is not renewed on every request.
    let browser = app.browser_as(&user).await;
    let response = browser.post(format!("{}/api/fn/auth/me", app.address)).send().await.unwrap();
    assert!(
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("bms_session="))
    );
}
both_backends!(session_renewal, an_active_session_is_renewed_after_half_its_lifetime);
