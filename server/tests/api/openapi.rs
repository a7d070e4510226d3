//! The API does what its OpenAPI document says: the statuses it lists are
//! the ones given, with the JSON error body (the whole document is
//! exercised by `scripts/api-contract.sh`; these pin the points it found).

use app::model::user::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp};

/// The documented responses of `method path`.
fn documented(path: &str, method: &str) -> Vec<String> {
    let document = serde_json::to_value(server::api::v1::openapi()).unwrap();
    let responses = document["paths"][path][method]["responses"].as_object().cloned().unwrap_or_default();
    responses.keys().cloned().collect()
}

#[test]
fn every_operation_lists_the_answers_the_middleware_and_extractors_give() {
    let document = serde_json::to_value(server::api::v1::openapi()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let name = format!("{} {path}", method.to_uppercase());
            assert!(responses.contains_key("429"), "{name}: the API rate limit");
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{name}: 401 and 403"
                );
            }
            if path.contains('{') {
                assert!(
                    responses.contains_key("400") && responses.contains_key("404"),
                    "{name}: 400 and 404"
                );
            }
            if operation.get("requestBody").is_some() {
                assert!(
                    responses.contains_key("400") && responses.contains_key("413"),
                    "{name}: 400 and 413"
                );
            }
        }
    }
}

#[test]
fn list_filters_are_documented_as_query_parameters() {
    let document = serde_json::to_value(server::api::v1::openapi()).unwrap();
    for path in ["/api/v1/notifications/deliveries", "/api/v1/notifications/suppressed", "/api/v1/tokens"] {
        for parameter in document["paths"][path]["get"]["parameters"].as_array().unwrap() {
            assert_eq!(parameter["in"], "query", "{path}: {}", parameter["name"]);
        }
    }
}

async fn a_malformed_id_gets_the_documented_400_with_a_json_error(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    for (method, path, template) in [
        (Method::GET, "/api/v1/jobs/abc", "/api/v1/jobs/{id}"),
        (Method::DELETE, "/api/v1/users/9223372036854775808", "/api/v1/users/{id}"),
        (Method::POST, "/api/v1/veeam/servers/1.5/sync", "/api/v1/veeam/servers/{id}/sync"),
    ] {
        assert!(
            documented(template, &method.as_str().to_lowercase()).contains(&"400".to_owned()),
            "{template}"
        );
        let response = app.api(method.clone(), path, Some(&token), None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{method} {path}: {body}");
    }
    app.stop().await.unwrap();
}
both_backends!(malformed_ids, a_malformed_id_gets_the_documented_400_with_a_json_error);

async fn an_anonymous_call_is_401_before_its_body_is_read(app: TestApp) {
    let response = app
        .client
        .post(format!("{}/api/v1/jobs/1/pause", app.address))
        .header(header::CONTENT_TYPE, "application/json")
        .body("null, not JSON")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    let response = app.api(Method::POST, "/api/v1/tokens", None, Some(json!({"expires_at": ""}))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    app.stop().await.unwrap();
}
both_backends!(anonymous_first, an_anonymous_call_is_401_before_its_body_is_read);

async fn a_whole_number_written_as_a_float_is_the_integer(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    let response = app
        .api(
            Method::POST,
            "/api/v1/jobs",
            Some(&token),
            Some(json!({"name": "nightly", "grace_seconds": 120.0})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["grace_seconds"], 120);
    let response = app
        .api(
            Method::POST,
            "/api/v1/jobs",
            Some(&token),
            Some(json!({"name": "hourly", "grace_seconds": 1.5})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a fraction is not an integer");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("grace_seconds"), "{body}");
    app.stop().await.unwrap();
}
both_backends!(whole_floats, a_whole_number_written_as_a_float_is_the_integer);

async fn a_null_pause_body_pauses_until_resumed(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    let job: Value = app
        .api(Method::POST, "/api/v1/jobs", Some(&token), Some(json!({"name": "nightly"})))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/jobs/{}/pause", job["id"]);
    let response = app.api(Method::POST, &path, Some(&token), Some(Value::Null)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["paused"], true);
    assert_eq!(job["paused_until"], Value::Null);
    app.stop().await.unwrap();
}
both_backends!(null_pause, a_null_pause_body_pauses_until_resumed);

async fn an_administrator_cannot_reset_their_own_password_through_the_user_api(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    let path = format!("/api/v1/users/{}/reset-password", admin.id);
    assert!(documented("/api/v1/users/{id}/reset-password", "post").contains(&"409".to_owned()));
    let response = app.api(Method::POST, &path, Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict");
    let response = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "the caller's credential still works");

    let other = app.add_user(Role::Viewer).await;
    let path = format!("/api/v1/users/{}/reset-password", other.id);
    let response = app.api(Method::POST, &path, Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "another user's password can be reset");
    app.stop().await.unwrap();
}
both_backends!(own_password_reset, an_administrator_cannot_reset_their_own_password_through_the_user_api);

async fn a_filter_mistake_is_refused_even_beside_a_valid_spelling(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    let response = app.api(Method::GET, "/api/v1/audit?success=true&outcome=bogus", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "outcome");
    let response = app.api(Method::GET, "/api/v1/runs?jobid=1", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a misspelt filter is not ignored");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("`jobid`"), "{body}");
    let response = app.api(Method::GET, "/api/v1/runs?job_id=1&result=failed", Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    app.stop().await.unwrap();
}
both_backends!(filter_mistakes, a_filter_mistake_is_refused_even_beside_a_valid_spelling);

async fn a_created_resource_answers_with_its_address(app: TestApp) {
    let admin = app.add_user(Role::Admin).await;
    let token = app.bearer(&admin).await;
    let response =
        app.api(Method::POST, "/api/v1/jobs", Some(&token), Some(json!({"name": "nightly"}))).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()[header::LOCATION].to_str().unwrap().to_owned();
    let job: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{}", job["id"]));
    let response = app.api(Method::GET, &location, Some(&token), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    app.stop().await.unwrap();
}
both_backends!(created_location, a_created_resource_answers_with_its_address);
