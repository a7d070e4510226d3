//! Every response body the Veeam simulator produces for the endpoints the
//! client uses, validated against the schemas of Veeam's official OpenAPI
//! documents (both revisions) with the `jsonschema` crate.

use std::{collections::HashMap, path::Path};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::veeam_sim::{Faults, SimConfig, Simulator};

/// OpenAPI 3.0 marks optional nulls with `nullable: true`; JSON Schema
/// spells that as a type union.
fn convert(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // `localTime` is `format: time`, which a validator reads as RFC
            // 3339 `full-time` (seconds and an offset), while Veeam's own
            // examples in both documents spell a local `05:00`.
            if map.get("format") == Some(&json!("time")) {
                map.remove("format");
            }
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
    /// Schemas with a discriminator: (property, value → subtype schema).
    discriminators: HashMap<String, (String, HashMap<String, String>)>,
}

/// Polymorphic schemas (`JobModel`, `BackupObjectModel`, …) list their
/// subtypes in `oneOf`, and each subtype is `allOf` the base again, which a
/// validator follows forever. The `oneOf` is taken out of the base (as
/// Veeam's `*_fixed.json` variants do) and the subtype is checked by name
/// with `check_subtype`.
fn strip_discriminators(schemas: &mut Value) -> HashMap<String, (String, HashMap<String, String>)> {
    let mut found = HashMap::new();
    for (name, schema) in schemas.as_object_mut().unwrap() {
        let Some(discriminator) = schema.get("discriminator").cloned() else { continue };
        let Some(map) = schema.as_object_mut() else { continue };
        if map.remove("oneOf").is_none() {
            continue;
        }
        map.remove("discriminator");
        let property = discriminator["propertyName"].as_str().unwrap().to_owned();
        let mapping = discriminator["mapping"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().unwrap().trim_start_matches("#/components/schemas/").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.insert(name.clone(), (property, mapping));
    }
    found
}

impl Spec {
    fn load(file: &'static str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/veeam").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut document: Value = serde_json::from_str(&text).unwrap();
        let mut schemas = document["components"]["schemas"].take();
        let discriminators = strip_discriminators(&mut schemas);
        convert(&mut schemas);
        Self { schemas, name: file, discriminators }
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

    /// Checks `body` against the subtype of `base` its discriminator names.
    fn check_subtype(&self, base: &str, body: &Value, what: &str) {
        let (property, mapping) = self
            .discriminators
            .get(base)
            .unwrap_or_else(|| panic!("{}: {base} has no discriminator", self.name));
        let value =
            body[property.as_str()].as_str().unwrap_or_else(|| panic!("{what}: no {property} in {body}"));
        let subtype =
            mapping.get(value).unwrap_or_else(|| panic!("{}: {base} has no subtype {value}", self.name));
        self.check(subtype, body, what);
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

async fn sign_in(http: &reqwest::Client, base: &str, version: &str) -> String {
    let response = http
        .post(format!("{base}api/oauth2/token"))
        .header("x-api-version", version)
        .form(&[("grant_type", "password"), ("username", "administrator"), ("password", "simulator")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// Jobs with every schedule kind, backups, backup objects, restore points,
/// malware events, the configuration backup and the license, with their faults.
async fn validate_inventory(version: &'static str, file: &'static str) {
    let spec = Spec::load(file);
    let v13 = version.starts_with("1.3");
    let config = SimConfig {
        api_version: version.into(),
        jobs: 20,
        history_days: 3,
        speed: 0.0,
        schedule_kinds: true,
        ..SimConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::start(config, listener, true).await.unwrap();
    let http = reqwest::Client::new();
    let token = sign_in(&http, &sim.base_url, version).await;
    let raw = Raw { http: http.clone(), base: sim.base_url.clone(), version, token };
    let ok = |(status, body): (StatusCode, Option<Value>), expected: StatusCode| {
        assert_eq!(status, expected, "{body:?}");
        body.unwrap_or(Value::Null)
    };

    // Jobs and their schedules.
    let jobs = ok(raw.send(Method::GET, "api/v1/jobs", None).await, StatusCode::OK);
    spec.check("JobsResult", &jobs, "jobs");
    let list = jobs["data"].as_array().unwrap();
    assert_eq!(list.len(), 20);
    for job in list {
        spec.check_subtype("JobModel", job, "a job");
        for include in job["virtualMachines"]["includes"].as_array().unwrap() {
            spec.check_subtype("InventoryObjectModel", include, "a job's machine");
        }
    }
    let enabled = |kind: &str| list.iter().filter(|j| j["schedule"][kind]["isEnabled"] == true).count();
    assert!(enabled("daily") > 0 && enabled("periodically") > 0, "{jobs}");
    assert!(enabled("afterThisJob") > 0 && enabled("monthly") > 0, "{jobs}");
    assert!(list.iter().any(|j| j["schedule"]["daily"]["dailyKind"] == "WeekDays"));
    let monday = &list[0]["schedule"]["daily"]["days"][0];
    assert_eq!(monday, if v13 { "Monday" } else { "monday" });
    let after = list.iter().find(|j| j["schedule"]["afterThisJob"]["isEnabled"] == true).unwrap();
    let after_id = after["id"].as_str().unwrap();
    let one = ok(raw.send(Method::GET, &format!("api/v1/jobs/{after_id}"), None).await, StatusCode::OK);
    spec.check_subtype("JobModel", &one, "job by id");
    assert_eq!(one["schedule"]["afterThisJob"]["jobName"], list[7]["name"]);
    let missing = ok(
        raw.send(Method::GET, "api/v1/jobs/6a1f8e2b-0000-4000-8000-000000000000", None).await,
        StatusCode::NOT_FOUND,
    );
    spec.check("Error", &missing, "missing job");
    let states = ok(raw.send(Method::GET, "api/v1/jobs/states", None).await, StatusCode::OK);
    spec.check("JobStatesResult", &states, "jobs/states with schedule kinds");
    let after_state = states["data"].as_array().unwrap().iter().find(|s| s["id"] == after_id).unwrap();
    assert!(after_state["nextRun"].is_string());
    if v13 {
        assert!(after_state["nextRunPolicy"].as_str().unwrap().starts_with("After job: "), "{after_state}");
    }

    // An unscheduled job.
    let first_id = list[0]["id"].as_str().unwrap().to_owned();
    sim.set_faults(Faults { unscheduled_jobs: vec![first_id.clone()], ..Faults::default() });
    let off = ok(raw.send(Method::GET, &format!("api/v1/jobs/{first_id}"), None).await, StatusCode::OK);
    spec.check_subtype("JobModel", &off, "unscheduled job");
    assert_eq!(off["schedule"]["runAutomatically"], false);
    let states = ok(raw.send(Method::GET, "api/v1/jobs/states", None).await, StatusCode::OK);
    spec.check("JobStatesResult", &states, "jobs/states with an unscheduled job");
    let state = states["data"].as_array().unwrap().iter().find(|s| s["id"] == first_id.as_str()).unwrap();
    assert!(state.get("nextRun").is_none(), "{state}");
    sim.set_faults(Faults::default());

    // Backups, objects, restore points.
    let backups = ok(raw.send(Method::GET, "api/v1/backups", None).await, StatusCode::OK);
    spec.check("BackupsResult", &backups, "backups");
    assert_eq!(backups["data"].as_array().unwrap().len(), 20);
    let objects = ok(raw.send(Method::GET, "api/v1/backupObjects", None).await, StatusCode::OK);
    spec.check("BackupObjectsResult", &objects, "backupObjects");
    let objects = objects["data"].as_array().unwrap();
    assert_eq!(objects.len(), 60);
    for object in objects {
        spec.check_subtype("BackupObjectModel", object, "a backup object");
    }
    let points = ok(
        raw.send(Method::GET, "api/v1/restorePoints?orderColumn=CreationTime&orderAsc=true&limit=500", None)
            .await,
        StatusCode::OK,
    );
    spec.check("ObjectRestorePointsResult", &points, "restorePoints");
    let counted: i64 = objects.iter().map(|o| o["restorePointsCount"].as_i64().unwrap()).sum();
    assert_eq!(points["pagination"]["total"].as_i64().unwrap(), counted);
    let data = points["data"].as_array().unwrap();
    assert!(!data.is_empty());
    let total = points["pagination"]["total"].as_u64().unwrap() as usize;
    assert!(total <= 500 && data.len() == total, "one page holds them all");
    let newest_first = ok(
        raw.send(Method::GET, "api/v1/restorePoints?orderAsc=false&skip=2&limit=5", None).await,
        StatusCode::OK,
    );
    spec.check("ObjectRestorePointsResult", &newest_first, "restorePoints newest first");
    let expected: Vec<&Value> = data.iter().rev().skip(2).take(5).map(|p| &p["id"]).collect();
    let got: Vec<&Value> = newest_first["data"].as_array().unwrap().iter().map(|p| &p["id"]).collect();
    assert_eq!(got, expected);
    let middle = data[data.len() / 2]["creationTime"].as_str().unwrap().replace('+', "%2B");
    let later = ok(
        raw.send(
            Method::GET,
            &format!("api/v1/restorePoints?createdAfterFilter={middle}&skip=1&limit=3"),
            None,
        )
        .await,
        StatusCode::OK,
    );
    spec.check("ObjectRestorePointsResult", &later, "restorePoints filtered");
    let backup_id = backups["data"][1]["id"].as_str().unwrap();
    let of_backup = ok(
        raw.send(Method::GET, &format!("api/v1/restorePoints?backupIdFilter={backup_id}"), None).await,
        StatusCode::OK,
    );
    spec.check("ObjectRestorePointsResult", &of_backup, "restorePoints of a backup");
    assert!(of_backup["data"].as_array().unwrap().iter().all(|p| p["backupId"] == backup_id));
    let object = objects.iter().find(|o| o["restorePointsCount"].as_i64().unwrap() > 0).unwrap();
    let object_id = object["id"].as_str().unwrap();
    let per_object = ok(
        raw.send(Method::GET, &format!("api/v1/backupObjects/{object_id}/restorePoints"), None).await,
        StatusCode::OK,
    );
    spec.check("ObjectRestorePointsResult", &per_object, "a backup object's restore points");
    assert_eq!(
        per_object["data"].as_array().unwrap().len() as i64,
        object["restorePointsCount"].as_i64().unwrap()
    );

    // Malware: raised, then marked clean.
    let machine = object["name"].as_str().unwrap().to_owned();
    sim.set_faults(Faults { malware_machines: vec![machine.clone()], ..Faults::default() });
    let events = ok(raw.send(Method::GET, "api/v1/malwareDetection/events", None).await, StatusCode::OK);
    spec.check("SuspiciousActivityEventsResult", &events, "malware events");
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events["data"][0]["machine"]["displayName"], machine.as_str());
    let per_object = ok(
        raw.send(Method::GET, &format!("api/v1/backupObjects/{object_id}/restorePoints"), None).await,
        StatusCode::OK,
    );
    spec.check("ObjectRestorePointsResult", &per_object, "an infected restore point");
    assert!(per_object["data"].as_array().unwrap().iter().any(|p| p["malwareStatus"] == "Infected"));
    sim.set_faults(Faults::default());
    let events = ok(raw.send(Method::GET, "api/v1/malwareDetection/events", None).await, StatusCode::OK);
    spec.check("SuspiciousActivityEventsResult", &events, "malware events marked clean");
    assert_eq!(events["data"][0]["state"], "FalsePositive");

    // Configuration backup and license.
    let config = ok(raw.send(Method::GET, "api/v1/configBackup", None).await, StatusCode::OK);
    spec.check("ConfigBackupModel", &config, "configBackup");
    assert_eq!(config["isEnabled"], true);
    sim.set_faults(Faults {
        config_backup_disabled: true,
        config_backup_age_days: Some(9),
        ..Faults::default()
    });
    let config = ok(raw.send(Method::GET, "api/v1/configBackup", None).await, StatusCode::OK);
    spec.check("ConfigBackupModel", &config, "configBackup disabled and old");
    assert_eq!(config["isEnabled"], false);
    sim.set_faults(Faults::default());
    let license = ok(raw.send(Method::GET, "api/v1/license", None).await, StatusCode::OK);
    spec.check("InstalledLicenseModel", &license, "license");
    assert_eq!(license["status"], "Valid");
    sim.set_faults(Faults { license_expires_in_days: Some(-3), ..Faults::default() });
    let license = ok(raw.send(Method::GET, "api/v1/license", None).await, StatusCode::OK);
    spec.check("InstalledLicenseModel", &license, "expired license");
    assert_eq!(license["status"], "Expired");
    sim.set_faults(Faults { license_forbidden: true, ..Faults::default() });
    let denied = ok(raw.send(Method::GET, "api/v1/license", None).await, StatusCode::FORBIDDEN);
    spec.check("Error", &denied, "license forbidden");
    assert_eq!(denied["errorCode"], "AccessDenied");
}

#[tokio::test]
async fn simulator_inventory_matches_the_1_2_rev1_spec() {
    validate_inventory("1.2-rev1", "vbr_rest_1.2-rev1.json").await;
}

#[tokio::test]
async fn simulator_inventory_matches_the_1_3_rev2_spec() {
    validate_inventory("1.3-rev2", "vbr_rest_1.3-rev2.json").await;
}
