//! The CSV export: one row per job, UTF-8 with a byte order mark so that
//! Japanese Excel opens it correctly, column names in the chosen language.
//!
//! Numbers are written plainly (rates as percentages with one decimal, no
//! unit; hours with one decimal; empty when there is no value) so that a
//! spreadsheet reads them as numbers. Text a user typed (job names, tags)
//! that a spreadsheet would run as a formula is defused with a leading `'`.

use crate::{
    i18n::{Locale, td_string},
    model::report::{Report, ReportRow},
};

/// The UTF-8 byte order mark: without it Excel reads the file as Shift_JIS.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes `report` as CSV in `locale`.
pub fn render(report: &Report, locale: Locale) -> Vec<u8> {
    let mut out = BOM.to_vec();
    // Excel expects CRLF; every record is written through the same writer.
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(&mut out);
    let rows = std::iter::once(header(locale)).chain(report.jobs.iter().map(record));
    for row in rows {
        // Writing to a `Vec` cannot fail; should the writer ever report an
        // error, the rows written so far are still a valid CSV.
        if let Err(error) = writer.write_record(&row) {
            tracing::error!(error.cause_chain = ?error, "a CSV row could not be written");
            break;
        }
    }
    if let Err(error) = writer.flush() {
        tracing::error!(error.cause_chain = ?error, "the CSV could not be flushed");
    }
    drop(writer);
    out
}

/// The column names in `locale`, in the order of [`record`].
fn header(locale: Locale) -> Vec<String> {
    [
        td_string!(locale, report_export.csv.job_id),
        td_string!(locale, report_export.csv.name),
        td_string!(locale, report_export.csv.source),
        td_string!(locale, report_export.csv.tags),
        td_string!(locale, report_export.csv.runs),
        td_string!(locale, report_export.csv.success),
        td_string!(locale, report_export.csv.warning),
        td_string!(locale, report_export.csv.failed),
        td_string!(locale, report_export.csv.missed),
        td_string!(locale, report_export.csv.success_rate),
        td_string!(locale, report_export.csv.expected),
        td_string!(locale, report_export.csv.expected_ok),
        td_string!(locale, report_export.csv.sla),
        td_string!(locale, report_export.csv.duration_p50),
        td_string!(locale, report_export.csv.duration_p95),
        td_string!(locale, report_export.csv.duration_max),
        td_string!(locale, report_export.csv.bytes),
        td_string!(locale, report_export.csv.bytes_previous),
        td_string!(locale, report_export.csv.rpo_target),
        td_string!(locale, report_export.csv.rpo_compliance),
        td_string!(locale, report_export.csv.longest_gap),
        td_string!(locale, report_export.csv.anomalies),
    ]
    .into_iter()
    .map(|label| label.to_string())
    .collect()
}

/// One job's cells, in the order of [`header`].
fn record(row: &ReportRow) -> Vec<String> {
    let f = &row.figures;
    vec![
        row.job_id.map(|id| id.to_string()).unwrap_or_else(|| row.key.clone()),
        defuse(&row.name),
        row.source.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        defuse(&row.tags.join("; ")),
        f.runs.to_string(),
        f.success.to_string(),
        f.warning.to_string(),
        f.failed.to_string(),
        f.missed.to_string(),
        rate(f.success_rate),
        f.expected.to_string(),
        f.expected_ok.to_string(),
        rate(f.sla),
        optional(f.duration_p50_seconds),
        optional(f.duration_p95_seconds),
        optional(f.duration_max_seconds),
        f.bytes.to_string(),
        f.bytes_previous.to_string(),
        optional(f.rpo_hours),
        rate(f.rpo_compliance),
        f.rpo_longest_gap_seconds.map(|s| format!("{:.1}", s as f64 / 3600.0)).unwrap_or_default(),
        f.anomalies.to_string(),
    ]
}

/// A rate (0 to 1) as a percentage with one decimal, empty when absent.
fn rate(value: Option<f64>) -> String {
    value.map(|r| format!("{:.1}", (r * 1000.0).round() / 10.0)).unwrap_or_default()
}

/// A number, empty when absent.
fn optional(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Text a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, or a tab
/// or carriage return before one) gets a leading `'`, which Excel and
/// LibreOffice show as text (OWASP's advice on CSV injection).
fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::model::{
        job::JobSource,
        report::{GroupBy, ReportFigures, ReportFilters, ReportPeriod, ReportPreset},
    };

    fn job(id: i64, name: &str, tags: &[&str], figures: ReportFigures) -> ReportRow {
        ReportRow {
            key: id.to_string(),
            name: name.to_owned(),
            job_id: Some(id),
            source: Some(if id % 2 == 0 { JobSource::Veeam } else { JobSource::Push }),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            jobs: 1,
            figures,
        }
    }

    fn sample() -> Report {
        let period = ReportPeriod {
            preset: ReportPreset::Custom,
            from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            until: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            days: 30,
            time_zone: "Asia/Tokyo".to_owned(),
        };
        let full = ReportFigures {
            runs: 30,
            success: 27,
            warning: 1,
            failed: 2,
            missed: 1,
            success_rate: Some(28.0 / 30.0),
            expected: 31,
            expected_ok: 28,
            sla: Some(28.0 / 31.0),
            duration_p50_seconds: Some(600),
            duration_p95_seconds: Some(900),
            duration_max_seconds: Some(1200),
            bytes: 1_234_567_890,
            bytes_previous: 1_000_000_000,
            rpo_hours: Some(24),
            rpo_compliance: Some(0.995),
            rpo_longest_gap_seconds: Some(5400),
            anomalies: 1,
        };
        let jobs = vec![
            job(1, "東京ファイルサーバー", &["本社", "nas"], full.clone()),
            job(2, "=HYPERLINK(\"http://evil\")", &["-x", "y"], ReportFigures::default()),
            job(
                3,
                "DB, \"main\"",
                &[],
                ReportFigures { runs: 1, success: 1, success_rate: Some(1.0), ..ReportFigures::default() },
            ),
        ];
        Report {
            previous: ReportPeriod { from: NaiveDate::from_ymd_opt(2026, 10, 2).unwrap(), ..period.clone() },
            period,
            filters: ReportFilters { group_by: GroupBy::Job, ..ReportFilters::default() },
            generated_at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 5, 0).unwrap(),
            totals: full,
            job_count: 3,
            rows: jobs.clone(),
            jobs,
            days: Vec::new(),
            failures: Vec::new(),
            failures_total: 0,
            anomalies: Vec::new(),
        }
    }

    fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
        let mut reader = ::csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
        reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
    }

    #[test]
    fn the_file_starts_with_a_byte_order_mark_and_uses_crlf() {
        let bytes = render(&sample(), Locale::ja);
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(text.contains("\r\n"));
        assert_eq!(text.matches("\r\n").count(), 4, "a header and three jobs: {text}");
    }

    #[test]
    fn the_header_is_in_the_chosen_language() {
        let ja = parse(&render(&sample(), Locale::ja));
        assert_eq!(ja[0][0], "ジョブID");
        assert_eq!(ja[0][1], "ジョブ名");
        assert!(ja[0].contains(&"SLA達成率（%）".to_owned()));
        assert!(ja[0].contains(&"未実行".to_owned()));
        assert!(ja[0].contains(&"RPO遵守率（%）".to_owned()));
        let en = parse(&render(&sample(), Locale::en));
        assert_eq!(en[0][0], "Job ID");
        assert_eq!(en[0][1], "Job");
        assert!(en[0].contains(&"SLA (%)".to_owned()));
        assert_eq!(ja[0].len(), 22);
        assert_eq!(en[0].len(), 22);
    }

    #[test]
    fn there_is_one_row_per_job_with_its_figures() {
        let rows = parse(&render(&sample(), Locale::ja));
        assert_eq!(rows.len(), 4);
        let tokyo = &rows[1];
        assert_eq!(
            tokyo,
            &[
                "1",
                "東京ファイルサーバー",
                "push",
                "本社; nas",
                "30",
                "27",
                "1",
                "2",
                "1",
                "93.3",
                "31",
                "28",
                "90.3",
                "600",
                "900",
                "1200",
                "1234567890",
                "1000000000",
                "24",
                "99.5",
                "1.5",
                "1"
            ]
        );
        // Quotes and commas survive the round trip; absent values are empty.
        assert_eq!(rows[3][1], "DB, \"main\"");
        assert_eq!(rows[3][9], "100.0");
        assert_eq!(rows[3][12], "");
        assert_eq!(rows[3][19], "");
    }

    #[test]
    fn cells_that_would_run_as_formulas_are_defused() {
        let rows = parse(&render(&sample(), Locale::en));
        assert_eq!(rows[2][1], "'=HYPERLINK(\"http://evil\")");
        assert_eq!(rows[2][3], "'-x; y");
        for text in ["+1", "-1", "@SUM(A1)", "=1+1", "\t=1"] {
            assert!(defuse(text).starts_with('\''), "{text}");
        }
        assert_eq!(defuse("東京"), "東京");
        assert_eq!(defuse("a=b"), "a=b");
    }
}
