//! Every response body the Veeam simulator produces for the endpoints the
//! client uses, validated against the schemas of Veeam's official OpenAPI
//! documents (both revisions) with the `jsonschema` crate.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::veeam_sim::{SimConfig, Simulator};

/// OpenAPI 3.0 marks optional nulls with `nullable: true`; JSON Schema
/// spells that as a type union.
fn convert(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::String(kind)) = map.get("type").cloned() {
                    map.insert("type".into(), json!([kind, "null"]));
                } else {
                    let inner = Value::Object(std::mem::take(map));
                    map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                }
            }
            for child in map.values_mut() {
                convert(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(convert),
        _ => {}
    }
}

struct Spec {
    schemas: Value,
    name: &'static str,
}

impl Spec {
    fn load(file: &'static str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/veeam").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut document: Value = serde_json::from_str(&text).unwrap();
        let mut schemas = document["components"]["schemas"].take();
        convert(&mut schemas);
        Self { schemas, name: file }
    }

    /// Checks `body` against `#/components/schemas/{schema}`.
    fn check(&self, schema: &str, body: &Value, what: &str) {
        assert!(self.schemas.get(schema).is_some(), "{}: no schema {schema}", self.name);
        let root = json!({"components": {"schemas": self.schemas}, "$ref": format!("#/components/schemas/{schema}")});
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&root)
            .unwrap();
        let errors: Vec<String> =
            validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).take(5).collect();
        assert!(errors.is_empty(), "{} {what} ({schema}): {errors:?}\n{body:#}", self.name);
    }

    /// The validator really checks: bodies that break the spec are refused.
    fn rejects(&self, schema: &str, body: &Value) {
        let root = json!({"components": {"schemas": self.schemas}, "$ref": format!("#/components/schemas/{schema}")});
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&root)
            .unwrap();
        assert!(!validator.is_valid(body), "{}: {schema} accepted {body}", self.name);
    }
}

struct Raw {
    http: reqwest::Client,
    base: String,
    version: &'static str,
    token: String,
}

impl Raw {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Option<Value>) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-api-version", self.version)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        (status, if bytes.is_empty() { None } else { Some(serde_json::from_slice(&bytes).unwrap()) })
    }
}

async fn validate_revision(version: &'static str, file: &'static str) {
    let spec = Spec::load(file);
    let session = |patch: Value| {
        let mut body = json!({"id": "6a1f8e2b-1111-4000-8000-000000000000", "name": "Job", "jobId": "6a1f8e2b-2222-4000-8000-000000000000",
            "sessionType": "BackupJob", "creationTime": "2026-01-01T00:00:00.1234567+09:00", "state": "Working", "usn": 1});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    spec.check("SessionModel", &session(json!({})), "a minimal session");
    spec.rejects("SessionModel", &session(json!({"state": "Sleeping"})));
    spec.rejects("SessionModel", &session(json!({"creationTime": "yesterday"})));
    spec.rejects("SessionModel", &session(json!({"usn": "1"})));
    spec.rejects("JobStatesResult", &json!({"data": [{"id": "x"}], "pagination": {"total": 1, "count": 1}}));
    let config = SimConfig {
        api_version: version.into(),
        jobs: 12,
        history_days: 3,
        speed: 0.0,
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::start(config, listener, false).await.unwrap();
    // Over HTTPS, trusting the simulator's self-signed certificate.
    let certificate =
        reqwest::Certificate::from_pem(sim.certificate_pem.as_ref().unwrap().as_bytes()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(certificate).build().unwrap();

    // Token: password grant, then refresh grant.
    let token_request = |form: Vec<(&'static str, String)>| {
        http.post(format!("{}api/oauth2/token", sim.base_url))
            .header("x-api-version", version)
            .form(&form)
            .send()
    };
    let response = token_request(vec![
        ("grant_type", "password".into()),
        ("username", "administrator".into()),
        ("password", "simulator".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    spec.check("TokenModel", &token, "password grant");
    let response = token_request(vec![
        ("grant_type", "refresh_token".into()),
        ("refresh_token", token["refresh_token"].as_str().unwrap().into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    spec.check("TokenModel", &token, "refresh grant");
    let response = token_request(vec![
        ("grant_type", "password".into()),
        ("username", "administrator".into()),
        ("password", "wrong".into()),
    ])
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    spec.check("Error", &response.json().await.unwrap(), "wrong password");

    let raw = Raw {
        http: http.clone(),
        base: sim.base_url.clone(),
        version,
        token: token["access_token"].as_str().unwrap().into(),
    };
    let ok = |(status, body): (StatusCode, Option<Value>), expected: StatusCode| {
        assert_eq!(status, expected, "{body:?}");
        body.unwrap_or(Value::Null)
    };

    spec.check(
        "ServerInfoModel",
        &ok(raw.send(Method::GET, "api/v1/serverInfo", None).await, StatusCode::OK),
        "serverInfo",
    );
    spec.check(
        "ServerTimeModel",
        &ok(raw.send(Method::GET, "api/v1/serverTime", None).await, StatusCode::OK),
        "serverTime",
    );
    let states = ok(raw.send(Method::GET, "api/v1/jobs/states?skip=0&limit=5", None).await, StatusCode::OK);
    assert_eq!(states["data"].as_array().unwrap().len(), 5);
    spec.check("JobStatesResult", &states, "jobs/states");
    let sessions = ok(
        raw.send(
            Method::GET,
            "api/v1/sessions?typeFilter=BackupJob&orderColumn=CreationTime&orderAsc=true&limit=500",
            None,
        )
        .await,
        StatusCode::OK,
    );
    spec.check("SessionsResult", &sessions, "sessions");
    let all = sessions["data"].as_array().unwrap();
    assert!(all.iter().any(|s| s["state"] == "Stopped"), "finished sessions present");
    assert!(all.iter().any(|s| s["state"] != "Stopped"), "running sessions present");
    let first_id = all[0]["id"].as_str().unwrap();
    spec.check(
        "SessionModel",
        &ok(raw.send(Method::GET, &format!("api/v1/sessions/{first_id}"), None).await, StatusCode::OK),
        "session",
    );
    let after = ok(
        raw.send(
            Method::GET,
            "api/v1/sessions?createdAfterFilter=2026-01-01T00:00:00.1234567%2B09:00&limit=3",
            None,
        )
        .await,
        StatusCode::OK,
    );
    spec.check("SessionsResult", &after, "sessions filtered");
    spec.check(
        "RepositoryStatesResult",
        &ok(
            raw.send(Method::GET, "api/v1/backupInfrastructure/repositories/states", None).await,
            StatusCode::OK,
        ),
        "repositories/states",
    );

    // Actions on an idle job.
    let idle = states["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["status"].as_str().unwrap().eq_ignore_ascii_case("inactive"))
        .unwrap();
    let id = idle["id"].as_str().unwrap();
    let started = ok(
        raw.send(Method::POST, &format!("api/v1/jobs/{id}/start"), Some(json!({"performActiveFull": false})))
            .await,
        StatusCode::CREATED,
    );
    spec.check("SessionModel", &started, "start");
    let again = raw
        .send(Method::POST, &format!("api/v1/jobs/{id}/start"), Some(json!({"performActiveFull": false})))
        .await;
    spec.check("Error", &ok(again, StatusCode::BAD_REQUEST), "start while running");
    let stopped = ok(
        raw.send(Method::POST, &format!("api/v1/jobs/{id}/stop"), Some(json!({"gracefulStop": true}))).await,
        StatusCode::CREATED,
    );
    spec.check("SessionModel", &stopped, "stop");
    sim.advance(chrono::Duration::minutes(1));
    let v13 = version.starts_with("1.3");
    if v13 {
        let retried = ok(
            raw.send(Method::POST, &format!("api/v1/jobs/{id}/retry"), Some(json!({}))).await,
            StatusCode::CREATED,
        );
        spec.check("SessionModel", &retried, "retry");
        assert!(retried["retryInfo"].is_object());
    } else {
        let (status, _) = raw.send(Method::POST, &format!("api/v1/jobs/{id}/retry"), Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "1.2 has no retry");
    }
    for verb in ["disable", "enable"] {
        let (status, body) = raw.send(Method::POST, &format!("api/v1/jobs/{id}/{verb}"), None).await;
        if v13 {
            // 1.3-rev2 documents no success body for enable/disable.
            assert_eq!(status, StatusCode::NO_CONTENT);
            assert!(body.is_none());
        } else {
            assert_eq!(status, StatusCode::OK);
            spec.check("EmptySuccessResponse", &body.unwrap(), verb);
        }
    }

    // Errors.
    let missing = ok(
        raw.send(Method::GET, "api/v1/sessions/6a1f8e2b-0000-4000-8000-000000000000", None).await,
        StatusCode::NOT_FOUND,
    );
    spec.check("Error", &missing, "missing session");
    let bad = Raw { token: "not-a-token".into(), ..raw };
    spec.check(
        "Error",
        &ok(bad.send(Method::GET, "api/v1/jobs/states", None).await, StatusCode::UNAUTHORIZED),
        "bad token",
    );
    let wrong_version = Raw { version: "9.9-rev9", ..bad };
    spec.check(
        "Error",
        &ok(wrong_version.send(Method::GET, "api/v1/jobs/states", None).await, StatusCode::BAD_REQUEST),
        "bad version",
    );
    let logout = raw_logout(&http, &sim.base_url, version, token["access_token"].as_str().unwrap()).await;
    spec.check("EmptySuccessResponse", &logout, "logout");

    // Enum spelling follows the revision.
    let status = states["data"][0]["status"].as_str().unwrap();
    let workload = states["data"][0]["workload"].as_str().unwrap();
    if v13 {
        assert!(status.starts_with(char::is_uppercase) && workload == "Vm", "{status} {workload}");
    } else {
        assert!(status.starts_with(char::is_lowercase) && workload == "vm", "{status} {workload}");
    }
}

async fn raw_logout(http: &reqwest::Client, base: &str, version: &str, token: &str) -> Value {
    let response = http
        .post(format!("{base}api/oauth2/logout"))
        .header("x-api-version", version)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn simulator_answers_match_the_1_2_rev1_spec() {
    validate_revision("1.2-rev1", "vbr_rest_1.2-rev1.json").await;
}

#[tokio::test]
async fn simulator_answers_match_the_1_3_rev2_spec() {
    validate_revision("1.3-rev2", "vbr_rest_1.3-rev2.json").await;
}
