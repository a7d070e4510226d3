//! Reports on both databases: the figures of a seeded history as JSON
//! (runs by result, SLA slots, RPO compliance, failures with who
//! acknowledged them, filters and grouping), the CSV (byte order mark,
//! header row, one row per job) and the PDF (its text, read back with
//! `pdftotext`, has the Japanese headings and the job names), and what is
//! refused.

use app::model::user::Role;
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{both_backends, helpers::TestApp, notify_outbox::post_json};

async fn run(
    app: &TestApp,
    token: &str,
    job: &Value,
    result: &str,
    start: DateTime<Utc>,
    minutes: i64,
    message: &str,
) {
    let body = json!({
        "result": result,
        "started_at": start.to_rfc3339(),
        "ended_at": (start + Duration::minutes(minutes)).to_rfc3339(),
        "bytes_processed": 10_000_000_000_i64,
        "message": message,
    });
    let response =
        app.api(Method::POST, &format!("/api/v1/jobs/{}/runs", job["id"]), Some(token), Some(body)).await;
    assert!(response.status().is_success(), "{}", response.text().await.unwrap());
}

async fn summary(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.api(Method::GET, &format!("/api/v1/reports/summary?{query}"), Some(token), None).await
}

async fn json_of(app: &TestApp, token: &str, query: &str) -> Value {
    let response = summary(app, token, query).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.unwrap()
}

fn row<'a>(rows: &'a Value, name: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row {name} in {rows}"))
}

/// Three jobs over the last two days: Tokyo (daily, RPO 24 h) fails once,
/// is acknowledged and recovers; Osaka has a warning; the NAS fails.
async fn seed(app: &TestApp) -> (String, String) {
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let operator_user = app.add_user(Role::Operator).await;
    let operator = app.bearer(&operator_user).await;
    let now = Utc::now();
    let tokyo = post_json(
        app,
        &admin,
        "/api/v1/jobs",
        json!({"name": "東京ファイルサーバー", "tags": ["tokyo"],
               "schedule": {"kind": "interval", "interval_seconds": 86400}}),
    )
    .await;
    let rpo = app
        .api(
            Method::PATCH,
            &format!("/api/v1/jobs/{}", tokyo["id"]),
            Some(&admin),
            Some(json!({"rpo_hours": 24})),
        )
        .await;
    assert_eq!(rpo.status(), StatusCode::OK);
    let osaka = post_json(app, &admin, "/api/v1/jobs", json!({"name": "大阪DB", "tags": ["osaka"]})).await;
    let nas = post_json(app, &admin, "/api/v1/jobs", json!({"name": "nas"})).await;
    // The jobs existed before the period.
    app::on_db!(&app.state.db, |pool| {
        sqlx::query("update jobs set created_at = $1")
            .bind(now - Duration::days(20))
            .execute(pool)
            .await
            .map(|_| ())
    })
    .unwrap();
    run(app, &admin, &tokyo, "success", now - Duration::hours(30), 60, "ok").await;
    run(app, &admin, &tokyo, "failed", now - Duration::hours(6), 10, "disk full on \\\\nas01").await;
    let ack = app
        .api(
            Method::POST,
            &format!("/api/v1/jobs/{}/acknowledge", tokyo["id"]),
            Some(&operator),
            Some(json!({"comment": "増設ディスク手配済み"})),
        )
        .await;
    assert_eq!(ack.status(), StatusCode::OK);
    run(app, &admin, &tokyo, "success", now - Duration::hours(2), 30, "ok").await;
    run(app, &admin, &osaka, "warning", now - Duration::hours(5), 20, "1 file skipped").await;
    run(app, &admin, &osaka, "success", now - Duration::hours(3), 20, "ok").await;
    run(app, &admin, &nas, "failed", now - Duration::hours(4), 1, "unreachable").await;
    (admin, operator_user.username)
}

async fn the_figures_follow_the_history(app: TestApp) {
    let (admin, operator) = seed(&app).await;
    let reader = post_json(&app, &admin, "/api/v1/tokens", json!({"name": "reports", "scope": "read"})).await;
    let reader = reader["secret"].as_str().unwrap().to_owned();
    let report = json_of(&app, &reader, "period=last_7_days").await;
    assert_eq!(report["period"]["days"], 7);
    assert_eq!(report["job_count"], 3);
    let totals = &report["totals"];
    assert_eq!(
        (&totals["runs"], &totals["success"], &totals["warning"], &totals["failed"]),
        (&json!(6), &json!(3), &json!(1), &json!(2))
    );
    assert!((totals["success_rate"].as_f64().unwrap() - 4.0 / 6.0).abs() < 1e-9);
    assert_eq!(totals["bytes"], json!(60_000_000_000_i64));

    // Tokyo: the failure answered its slot, the retry answered none.
    let tokyo = row(&report["rows"], "東京ファイルサーバー");
    assert_eq!((&tokyo["figures"]["expected"], &tokyo["figures"]["expected_ok"]), (&json!(1), &json!(0)));
    assert_eq!(tokyo["figures"]["sla"], json!(0.0));
    assert_eq!(tokyo["tags"], json!(["tokyo"]));
    let compliance = tokyo["figures"]["rpo_compliance"].as_f64().unwrap();
    assert!(compliance > 0.0 && compliance < 0.5, "no good backup before the one 30 h ago: {compliance}");
    assert!(tokyo["figures"]["rpo_longest_gap_seconds"].as_i64().unwrap() >= 28 * 3600);
    // Worst first: an SLA of 0 % and a success rate of 0 % (then by name), then Osaka.
    assert_eq!(report["rows"][0]["name"], "nas");
    assert_eq!(report["rows"][1]["name"], "東京ファイルサーバー");
    assert_eq!(report["rows"][2]["name"], "大阪DB");
    assert!(tokyo["figures"]["duration_p50_seconds"].as_i64().is_some());
    assert_eq!(tokyo["figures"]["duration_max_seconds"], 3600);

    // Failures, newest first, with who acknowledged Tokyo's.
    assert_eq!(report["failures_total"], 2);
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures[0]["job_name"], "nas");
    assert_eq!(failures[0]["acknowledged_by"], Value::Null);
    assert_eq!(failures[1]["job_name"], "東京ファイルサーバー");
    assert_eq!(failures[1]["message"], "disk full on \\\\nas01");
    assert_eq!(failures[1]["acknowledged_by"], json!(operator));
    assert_eq!(failures[1]["acknowledgement_comment"], "増設ディスク手配済み");
    assert_eq!(report["days"].as_array().unwrap().len(), 7);

    // Filters and groups.
    let tagged = json_of(&app, &reader, "period=last_7_days&tag=tokyo").await;
    assert_eq!(tagged["job_count"], 1);
    assert_eq!(tagged["rows"][0]["name"], "東京ファイルサーバー");
    assert_eq!(tagged["failures_total"], 1);
    let by_tag = json_of(&app, &reader, "period=last_7_days&group_by=tag").await;
    let names: Vec<&str> =
        by_tag["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"tokyo") && names.contains(&"osaka") && names.contains(&"–"));
    assert_eq!(by_tag["jobs"].as_array().unwrap().len(), 3, "the jobs stay listed one by one");
    let by_source = json_of(&app, &reader, "group_by=source").await;
    assert_eq!(by_source["rows"][0]["name"], "push");
    assert_eq!(by_source["rows"][0]["jobs"], 3);
    let veeam = json_of(&app, &reader, "period=last_7_days&source=veeam").await;
    assert_eq!((&veeam["job_count"], &veeam["totals"]["runs"]), (&json!(0), &json!(0)));
    let chosen = json_of(&app, &reader, &format!("job_id={},{}", tokyo["job_id"], 999_999)).await;
    assert_eq!(chosen["job_count"], 1);
    let yesterday = json_of(&app, &reader, "period=yesterday").await;
    assert_eq!(yesterday["period"]["days"], 1);
    let custom = json_of(&app, &reader, "from=2026-01-01&until=2026-01-31").await;
    assert_eq!((&custom["period"]["preset"], &custom["period"]["days"]), (&json!("custom"), &json!(31)));
    assert_eq!(
        (&custom["previous"]["from"], &custom["previous"]["until"]),
        (&json!("2025-12-01"), &json!("2025-12-31"))
    );
}
both_backends!(figures, the_figures_follow_the_history);

async fn csv_and_pdf_come_from_the_same_figures(app: TestApp) {
    let (admin, _) = seed(&app).await;
    let response = summary(&app, &admin, "period=last_7_days&format=csv&lang=ja").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains(".csv"));
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a byte order mark for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "a header and one row per job: {text}");
    assert!(lines[0].contains("ジョブ"), "Japanese column names: {}", lines[0]);
    assert!(text.contains("東京ファイルサーバー") && text.contains("大阪DB") && text.contains("nas"));
    let english = summary(&app, &admin, "period=last_7_days&format=csv&lang=en").await.bytes().await.unwrap();
    let english = String::from_utf8(english[3..].to_vec()).unwrap();
    assert!(english.lines().next().unwrap().contains("Job"), "{english}");

    let response = summary(&app, &admin, "period=last_7_days&format=pdf&lang=ja").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    // Typst puts a thin space between Latin and Japanese letters and wraps
    // cells: compare without white space.
    let text: String = pdf_text(&pdf).split_whitespace().collect();
    for expected in ["バックアップレポート", "SLA", "東京ファイルサーバー", "大阪DB", "nas", "diskfull"]
    {
        assert!(text.contains(expected), "`{expected}` not in the PDF's text:\n{text}");
    }
    let english = summary(&app, &admin, "period=last_7_days&format=pdf&lang=en").await.bytes().await.unwrap();
    assert!(pdf_text(&english).split_whitespace().collect::<String>().contains("Backupreport"));
}
both_backends!(exports, csv_and_pdf_come_from_the_same_figures);

/// The text of a PDF, by Debian's `pdftotext` (poppler-utils).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) is installed by scripts/test.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn bad_queries_are_refused_with_the_field(app: TestApp) {
    let viewer = app.bearer(&app.add_user(Role::Viewer).await).await;
    assert_eq!(
        json_of(&app, &viewer, "").await["period"]["preset"],
        "last_30_days",
        "viewers may read reports"
    );
    for (query, field) in [
        ("from=2026-02-01&until=2026-01-01", "until"),
        ("from=2026-13-01", "from"),
        ("from=2020-01-01&until=2026-01-01", "from"),
        ("period=custom", "from"),
        ("period=someday", "period"),
        ("group_by=colour", "group_by"),
        ("source=tape", "source"),
        ("job_id=1,x", "job_id"),
        ("format=xls", "format"),
        ("lang=fr", "lang"),
    ] {
        let response = summary(&app, &viewer, query).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let unknown = summary(&app, &viewer, "colour=red").await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let anonymous = app.api(Method::GET, "/api/v1/reports/summary", None, None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
both_backends!(refused, bad_queries_are_refused_with_the_field);
