//! Status badges on both databases: an operator makes a badge for a job
//! and one for a tag; anyone with the URL gets an SVG that follows the
//! job's state (new, down, up with the last run's age) and the worst job
//! of the tag; viewers cannot make or list them; a revoked badge is 404.

use app::model::user::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp, notify_outbox::post_json};

async fn svg(url: &str) -> (StatusCode, String) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    if status == StatusCode::OK {
        assert_eq!(response.headers()["content-type"], "image/svg+xml; charset=utf-8");
    }
    (status, response.text().await.unwrap())
}

async fn report(app: &TestApp, token: &str, job: &Value, result: &str) {
    post_json(app, token, &format!("/api/v1/jobs/{}/runs", job["id"]), json!({"result": result})).await;
}

async fn badges_follow_the_state_and_can_be_revoked(app: TestApp) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let nas =
        post_json(&app, &admin, "/api/v1/jobs", json!({"name": "nas01 <daily>", "tags": ["nas"]})).await;
    let other = post_json(&app, &admin, "/api/v1/jobs", json!({"name": "nas02", "tags": ["nas"]})).await;
    let operator = app.browser_as(&app.add_user(Role::Operator).await).await;
    let create = |form: Vec<(&'static str, String)>| {
        let (operator, address) = (operator.clone(), app.address.clone());
        async move { operator.post(format!("{address}/api/fn/badges/create")).form(&form).send().await.unwrap() }
    };
    let response = create(vec![("job_id", nas["id"].to_string()), ("show_age", "on".into())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let job_badge: Value = response.json().await.unwrap();
    let url = job_badge["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/badge/", app.address)) && url.ends_with(".svg"), "{url}");
    assert_eq!(job_badge["markdown"], format!("![backup status]({url})"));
    let response = create(vec![("job_id", nas["id"].to_string()), ("tag", "nas".into())]).await;
    let tag_badge: Value = response.json().await.unwrap();
    let tag_url = tag_badge["url"].as_str().unwrap().to_owned();
    // A tag the job does not carry is refused, naming the field.
    let response = create(vec![("job_id", nas["id"].to_string()), ("tag", "tokyo".into())]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Anyone with the URL sees the job's state, its name escaped.
    let (status, body) = svg(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("nas01 &lt;daily&gt;") && body.contains(">new<"), "{body}");
    report(&app, &admin, &nas, "failed").await;
    assert!(svg(&url).await.1.contains(">down · 0m<"));
    report(&app, &admin, &nas, "success").await;
    assert!(svg(&url).await.1.contains(">up · 0m<"));
    // The tag shows its worst job.
    report(&app, &admin, &other, "failed").await;
    let (_, body) = svg(&tag_url).await;
    assert!(body.contains("#nas") && body.contains(">down<"), "{body}");

    // Viewers neither list nor make badges.
    let viewer = app.browser_as(&app.add_user(Role::Viewer).await).await;
    for (path, form) in [
        ("/api/fn/badges/list", vec![("job_id", nas["id"].to_string())]),
        ("/api/fn/badges/create", vec![("job_id", nas["id"].to_string())]),
    ] {
        let response = viewer.post(format!("{}{path}", app.address)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let listed: Value = operator
        .post(format!("{}/api/fn/badges/list", app.address))
        .form(&[("job_id", nas["id"].to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Revoked: the URL is gone; unknown tokens too.
    let response = operator
        .post(format!("{}/api/fn/badges/revoke", app.address))
        .form(&[("id", job_badge["id"].to_string())])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(svg(&url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(svg(&format!("{}/badge/not-a-badge.svg", app.address)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(svg(&tag_url).await.0, StatusCode::OK);
    let audit = app.api(Method::GET, "/api/v1/audit?action=badge.revoke", Some(&admin), None).await;
    assert!(audit.text().await.unwrap().contains("badge.revoke"));
}
both_backends!(badges_follow_the_state_and_can_be_revoked, badges_follow_the_state_and_can_be_revoked);
