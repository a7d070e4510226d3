//! The PDF export: A4, Japanese or English, laid out by Typst.
//!
//! Typst is used as a library through a small [`World`] of our own: the
//! template (`report.typ`, compiled in), one JSON file with every word and
//! number already formatted in the chosen language and the report's time
//! zone, two SVG charts drawn here, and one embedded font (IPAex Gothic, see
//! `app/fonts/README.md`). Nothing is read from disk or the network, so the
//! binary needs no system font and no Typst package.

use std::{collections::HashMap, path::PathBuf, sync::LazyLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use typst::{
    Library, LibraryExt, World,
    diag::{FileError, FileResult, SourceDiagnostic},
    foundations::{Bytes, Datetime},
    syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot},
    text::{Font, FontBook},
    utils::LazyHash,
};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use crate::{
    i18n::{Locale, td_string},
    model::{
        format::{format_bytes, format_duration, result_name},
        report::{AnomalyKind, GroupBy, Report, ReportDay, ReportFigures, percent},
    },
};

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the PDF could not be made: {0}")]
pub struct PdfError(pub String);

/// The template; strings reach it through `report.json` only.
const TEMPLATE: &str = include_str!("report.typ");

/// IPAex Gothic (IPA Font License v1.0, which allows embedding; Typst
/// embeds only the glyphs used).
const FONT: &[u8] = include_bytes!("../../../fonts/ipaexg.ttf");

/// Typst memoizes across compilations; results unused for this many renders
/// are dropped so that a long-running server does not keep every report's
/// layout in memory.
const CACHE_MAX_AGE: usize = 3;

/// Writes `report` as a PDF in `locale`. CPU-bound: call it from
/// `tokio::task::spawn_blocking`.
pub fn render(report: &Report, locale: Locale) -> Result<Vec<u8>, PdfError> {
    let tz = time_zone(report);
    let data = document_data(report, locale, tz);
    let json = serde_json::to_vec(&data).map_err(|e| PdfError(format!("report data: {e}")))?;
    let world = ReportWorld::new(
        vec![
            ("/report.json", Bytes::new(json)),
            ("/chart-rate.svg", Bytes::new(rate_chart(&report.days).into_bytes())),
            ("/chart-bytes.svg", Bytes::new(volume_chart(&report.days).into_bytes())),
        ],
        report.generated_at.with_timezone(&tz).date_naive(),
    )?;
    let compiled = typst::compile::<PagedDocument>(&world);
    for warning in &compiled.warnings {
        tracing::debug!(warning = %warning.message, "typst warning in the report template");
    }
    let result = compiled.output.map_err(|errors| PdfError(diagnostics(&errors))).and_then(|document| {
        typst_pdf::pdf(&document, &PdfOptions::default()).map_err(|e| PdfError(diagnostics(&e)))
    });
    typst::comemo::evict(CACHE_MAX_AGE);
    result
}

/// The report's time zone; UTC when its name is unknown (the report still
/// says which zone it shows).
fn time_zone(report: &Report) -> Tz {
    report.period.time_zone.parse::<Tz>().unwrap_or_else(|_| {
        tracing::warn!(time_zone = %report.period.time_zone, "unknown time zone in a report, using UTC");
        Tz::UTC
    })
}

/// Typst's errors as one line each.
fn diagnostics(errors: &[SourceDiagnostic]) -> String {
    errors.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; ")
}

// ---- Typst's view of the world -------------------------------------------

/// What every render shares: the standard library and the font.
struct Assets {
    /// Typst's standard library.
    library: LazyHash<Library>,
    /// The font's metadata.
    book: LazyHash<FontBook>,
    /// The font (one face).
    fonts: Vec<Font>,
}

/// Parsed once per process.
static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let fonts: Vec<Font> = Font::iter(Bytes::new(FONT)).collect();
    Assets {
        library: LazyHash::new(Library::builder().build()),
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

/// One render's files: the template and its data, all in memory.
struct ReportWorld {
    /// The template.
    main: Source,
    /// The data files by id.
    files: HashMap<FileId, Bytes>,
    /// The day Typst's `datetime.today()` answers (the report's day).
    today: chrono::NaiveDate,
}

impl ReportWorld {
    /// A world of the template and `files` (absolute virtual paths).
    fn new(files: Vec<(&str, Bytes)>, today: chrono::NaiveDate) -> Result<Self, PdfError> {
        let main = Source::new(file_id("/report.typ")?, TEMPLATE.to_owned());
        let files = files
            .into_iter()
            .map(|(path, bytes)| Ok((file_id(path)?, bytes)))
            .collect::<Result<_, PdfError>>()?;
        Ok(Self { main, files, today })
    }
}

/// The id of a file in the project's virtual root.
fn file_id(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|e| PdfError(format!("virtual path {path}: {e:?}")))?;
    Ok(FileId::new(RootedPath::new(VirtualRoot::Project, vpath)))
}

/// A missing file's error.
fn not_found(id: FileId) -> FileError {
    FileError::NotFound(PathBuf::from(id.get().vpath().get_with_slash()))
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &ASSETS.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &ASSETS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(not_found(id)) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(TEMPLATE));
        }
        self.files.get(&id).cloned().ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        ASSETS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        use chrono::Datelike;
        Datetime::from_ymd(
            self.today.year(),
            u8::try_from(self.today.month()).ok()?,
            u8::try_from(self.today.day()).ok()?,
        )
    }
}

// ---- The data the template lays out ----------------------------------------

/// A time in the report's time zone: `2026-11-02 03:00`.
fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// An optional duration.
fn duration(seconds: Option<i64>) -> String {
    seconds.map(format_duration).unwrap_or_else(|| "–".to_owned())
}

/// Hours with one decimal: `1.5 h` / `1.5 時間`.
fn hours(seconds: Option<i64>, locale: Locale) -> String {
    match seconds {
        Some(s) => format!("{:.1} {}", s as f64 / 3600.0, td_string!(locale, report_export.hours)),
        None => "–".to_owned(),
    }
}

/// The change of processed bytes against the previous period: `+12.5 %`.
fn trend(figures: &ReportFigures) -> String {
    if figures.bytes_previous <= 0 {
        return "–".to_owned();
    }
    let change = (figures.bytes - figures.bytes_previous) as f64 / figures.bytes_previous as f64 * 100.0;
    format!("{change:+.1} %")
}

/// An anomaly kind in words.
fn anomaly_name(kind: AnomalyKind, locale: Locale) -> String {
    match kind {
        AnomalyKind::BytesSmall => td_string!(locale, report_export.anomaly_bytes_small),
        AnomalyKind::BytesLarge => td_string!(locale, report_export.anomaly_bytes_large),
        AnomalyKind::DurationShort => td_string!(locale, report_export.anomaly_duration_short),
        AnomalyKind::DurationLong => td_string!(locale, report_export.anomaly_duration_long),
    }
    .to_string()
}

/// Everything the template shows, formatted.
fn document_data(report: &Report, locale: Locale, tz: Tz) -> Value {
    let t = report_totals(report, locale);
    let lang = match locale {
        Locale::ja => "ja",
        Locale::en => "en",
    };
    let all = td_string!(locale, report_export.all).to_string();
    let filters = &report.filters;
    let group_by = match filters.group_by {
        GroupBy::Job => td_string!(locale, report_export.group_job),
        GroupBy::Tag => td_string!(locale, report_export.group_tag),
        GroupBy::Source => td_string!(locale, report_export.group_source),
    };
    let jobs = if filters.jobs.is_empty() {
        all.clone()
    } else {
        filters.jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>().join(", ")
    };
    let period = format!("{} – {} ({})", report.period.from, report.period.until, report.period.time_zone);
    let cover = json!([
        [td_string!(locale, report_export.period), period],
        [
            td_string!(locale, report_export.previous_period),
            format!("{} – {}", report.previous.from, report.previous.until)
        ],
        [td_string!(locale, report_export.group_by), group_by],
        [td_string!(locale, report_export.tag), filters.tag.clone().unwrap_or_else(|| all.clone())],
        [
            td_string!(locale, report_export.source),
            filters.source.map(|s| s.as_str().to_owned()).unwrap_or_else(|| all.clone())
        ],
        [
            td_string!(locale, report_export.veeam_server),
            filters.veeam_server.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| all.clone())
        ],
        [td_string!(locale, report_export.selected_jobs), jobs],
        [td_string!(locale, report_export.job_count), report.job_count.to_string()],
        [
            td_string!(locale, report_export.generated_at),
            format!("{} ({})", local_time(report.generated_at, tz), report.period.time_zone)
        ],
    ]);
    let f = &report.totals;
    // Label, value, a note under the value.
    let highlights = json!([
        [td_string!(locale, report_export.success_rate), percent(f.success_rate), ""],
        [td_string!(locale, report_export.sla), percent(f.sla), ""],
        [td_string!(locale, report_export.rpo_compliance), percent(f.rpo_compliance), ""],
        [
            td_string!(locale, report_export.bytes),
            format_bytes(f.bytes),
            format!("{} {}", td_string!(locale, report_export.trend), trend(f))
        ],
    ]);
    json!({
        "lang": lang,
        "title": td_string!(locale, report_export.title),
        "period": period,
        "labels": {
            "summary": td_string!(locale, report_export.summary),
            "charts": td_string!(locale, report_export.charts),
            "chart_success_rate": td_string!(locale, report_export.chart_success_rate),
            "chart_bytes_duration": td_string!(locale, report_export.chart_bytes_duration),
            "sla_table": td_string!(locale, report_export.sla_table),
            "failures": td_string!(locale, report_export.failures),
            "anomalies": td_string!(locale, report_export.anomalies),
            "none": td_string!(locale, report_export.none),
        },
        "cover": cover,
        "highlights": highlights,
        "summary": t,
        "chart": chart_labels(report, locale),
        "rows_header": [
            td_string!(locale, report_export.name),
            td_string!(locale, report_export.runs),
            td_string!(locale, report_export.failed),
            td_string!(locale, report_export.missed),
            td_string!(locale, report_export.success_rate),
            td_string!(locale, report_export.sla),
            td_string!(locale, report_export.rpo_target),
            td_string!(locale, report_export.rpo_compliance),
            td_string!(locale, report_export.longest_gap),
            td_string!(locale, report_export.bytes),
        ],
        "rows": report.rows.iter().map(|row| {
            let f = &row.figures;
            [
                row.name.clone(),
                f.runs.to_string(),
                f.failed.to_string(),
                f.missed.to_string(),
                percent(f.success_rate),
                percent(f.sla),
                f.rpo_hours.map(|h| format!("{h} {}", td_string!(locale, report_export.hours))).unwrap_or_else(|| "–".to_owned()),
                percent(f.rpo_compliance),
                hours(f.rpo_longest_gap_seconds, locale),
                format_bytes(f.bytes),
            ]
        }).collect::<Vec<_>>(),
        "failures_note": format!(
            "{}: {} · {}: {}",
            td_string!(locale, report_export.failures_total),
            report.failures_total,
            td_string!(locale, report_export.failures_listed),
            report.failures.len()
        ),
        "failures_header": [
            td_string!(locale, report_export.time),
            td_string!(locale, report_export.job),
            td_string!(locale, report_export.result),
            td_string!(locale, report_export.message),
            td_string!(locale, report_export.acknowledged_by),
            td_string!(locale, report_export.comment),
        ],
        "failures": report.failures.iter().map(|failure| {
            let acknowledged = match (&failure.acknowledged_by, failure.acknowledged_at) {
                (Some(by), Some(at)) => format!("{by}\n{}", local_time(at, tz)),
                (Some(by), None) => by.clone(),
                (None, Some(at)) => local_time(at, tz),
                (None, None) => td_string!(locale, report_export.not_acknowledged).to_string(),
            };
            [
                local_time(failure.started_at, tz),
                failure.job_name.clone(),
                result_name(locale, failure.result),
                failure.message.clone().unwrap_or_default(),
                acknowledged,
                failure.acknowledgement_comment.clone().unwrap_or_default(),
            ]
        }).collect::<Vec<_>>(),
        "anomalies_header": [
            td_string!(locale, report_export.time),
            td_string!(locale, report_export.job),
            td_string!(locale, report_export.kind),
            td_string!(locale, report_export.value),
            td_string!(locale, report_export.median),
        ],
        "anomalies": report.anomalies.iter().map(|a| {
            let show = |v: i64| if a.anomaly.kind.is_bytes() { format_bytes(v) } else { format_duration(v) };
            [
                local_time(a.started_at, tz),
                a.job_name.clone(),
                anomaly_name(a.anomaly.kind, locale),
                show(a.anomaly.value),
                show(a.anomaly.median),
            ]
        }).collect::<Vec<_>>(),
    })
}

/// The summary's label–value pairs.
fn report_totals(report: &Report, locale: Locale) -> Value {
    let f = &report.totals;
    json!([
        [td_string!(locale, report_export.runs), f.runs.to_string()],
        [td_string!(locale, report_export.success), f.success.to_string()],
        [td_string!(locale, report_export.warning), f.warning.to_string()],
        [td_string!(locale, report_export.failed), f.failed.to_string()],
        [td_string!(locale, report_export.missed), f.missed.to_string()],
        [td_string!(locale, report_export.success_rate), percent(f.success_rate)],
        [td_string!(locale, report_export.expected), f.expected.to_string()],
        [td_string!(locale, report_export.expected_ok), f.expected_ok.to_string()],
        [td_string!(locale, report_export.sla), percent(f.sla)],
        [td_string!(locale, report_export.duration_p50), duration(f.duration_p50_seconds)],
        [td_string!(locale, report_export.duration_p95), duration(f.duration_p95_seconds)],
        [td_string!(locale, report_export.duration_max), duration(f.duration_max_seconds)],
        [td_string!(locale, report_export.bytes), format_bytes(f.bytes)],
        [
            format!(
                "{} ({})",
                td_string!(locale, report_export.bytes),
                td_string!(locale, report_export.bytes_previous)
            ),
            format_bytes(f.bytes_previous)
        ],
        [td_string!(locale, report_export.trend), trend(f)],
        [td_string!(locale, report_export.rpo_compliance), percent(f.rpo_compliance)],
        [td_string!(locale, report_export.longest_gap), hours(f.rpo_longest_gap_seconds, locale)],
        [td_string!(locale, report_export.anomalies), f.anomalies.to_string()],
        [td_string!(locale, report_export.failures_total), report.failures_total.to_string()],
    ])
}

/// The words around the charts: first and last day, scales, legends.
fn chart_labels(report: &Report, locale: Locale) -> Value {
    let days = &report.days;
    let max_bytes = days.iter().map(|d| d.bytes).max().unwrap_or(0);
    let max_duration = days.iter().filter_map(|d| d.duration_mean_seconds).max();
    let closed = td_string!(locale, report_export.closed_day);
    json!({
        "first": days.first().map(|d| d.day.to_string()).unwrap_or_default(),
        "last": days.last().map(|d| d.day.to_string()).unwrap_or_default(),
        "rate_legend": closed,
        "bytes_max": format_bytes(max_bytes),
        "bytes_legend": format!(
            "{} · {} (0 – {}) · {closed}",
            td_string!(locale, report_export.legend_bytes),
            td_string!(locale, report_export.legend_duration),
            duration(max_duration),
        ),
    })
}

// ---- Charts ----------------------------------------------------------------

/// Width of a chart's drawing, in SVG units (it is stretched to the page).
const CHART_W: f64 = 1000.0;
/// Height of a chart's drawing.
const CHART_H: f64 = 320.0;

/// The start of a chart: its frame, horizontal grid lines and the closed
/// days shaded. Returns the SVG so far and the width of one day.
fn chart_frame(days: &[ReportDay]) -> (String, f64) {
    let slot = CHART_W / days.len().max(1) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" preserveAspectRatio="none">"#
    );
    svg.push_str(&format!(r##"<rect x="0" y="0" width="{CHART_W}" height="{CHART_H}" fill="#ffffff"/>"##));
    for (i, day) in days.iter().enumerate() {
        if day.closed {
            svg.push_str(&format!(
                r##"<rect x="{:.2}" y="0" width="{:.2}" height="{CHART_H}" fill="#e4e4e4"/>"##,
                i as f64 * slot,
                slot
            ));
        }
    }
    for quarter in 0..=4 {
        let y = CHART_H - CHART_H * f64::from(quarter) / 4.0;
        svg.push_str(&format!(
            r##"<line x1="0" y1="{y:.2}" x2="{CHART_W}" y2="{y:.2}" stroke="#c8ced6" stroke-width="1"/>"##
        ));
    }
    (svg, slot)
}

/// A day's bar.
fn bar(svg: &mut String, index: usize, slot: f64, share: f64, colour: &str) {
    let width = (slot * 0.8).max(0.5);
    let height = (share.clamp(0.0, 1.0) * CHART_H).max(if share > 0.0 { 1.0 } else { 0.0 });
    svg.push_str(&format!(
        r#"<rect x="{:.2}" y="{:.2}" width="{width:.2}" height="{height:.2}" fill="{colour}"/>"#,
        index as f64 * slot + (slot - width) / 2.0,
        CHART_H - height
    ));
}

/// Success rate per day: green from 99 %, amber from 90 %, red below.
fn rate_chart(days: &[ReportDay]) -> String {
    let (mut svg, slot) = chart_frame(days);
    for (i, day) in days.iter().enumerate() {
        if let Some(rate) = day.success_rate {
            let colour = if rate >= 0.99 {
                "#2e7d32"
            } else if rate >= 0.9 {
                "#f0a202"
            } else {
                "#c62828"
            };
            bar(&mut svg, i, slot, rate, colour);
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Bytes per day (bars) and the mean duration (a line, its own scale).
fn volume_chart(days: &[ReportDay]) -> String {
    let (mut svg, slot) = chart_frame(days);
    let max_bytes = days.iter().map(|d| d.bytes).max().unwrap_or(0).max(1) as f64;
    for (i, day) in days.iter().enumerate() {
        bar(&mut svg, i, slot, day.bytes as f64 / max_bytes, "#5b8bd0");
    }
    let max_duration = days.iter().filter_map(|d| d.duration_mean_seconds).max().unwrap_or(0).max(1) as f64;
    // One polyline per stretch of days that have a duration.
    let mut points: Vec<String> = Vec::new();
    let flush = |points: &mut Vec<String>, svg: &mut String| {
        if points.len() > 1 {
            svg.push_str(&format!(
                r##"<polyline points="{}" fill="none" stroke="#d35400" stroke-width="2.5" stroke-linejoin="round"/>"##,
                points.join(" ")
            ));
        } else if let Some(point) = points.first() {
            let (x, y) = point.split_once(',').unwrap_or(("0", "0"));
            svg.push_str(&format!(r##"<circle cx="{x}" cy="{y}" r="3" fill="#d35400"/>"##));
        }
        points.clear();
    };
    for (i, day) in days.iter().enumerate() {
        match day.duration_mean_seconds {
            Some(seconds) => points.push(format!(
                "{:.2},{:.2}",
                i as f64 * slot + slot / 2.0,
                CHART_H - (seconds as f64 / max_duration).clamp(0.0, 1.0) * CHART_H
            )),
            None => flush(&mut points, &mut svg),
        }
    }
    flush(&mut points, &mut svg);
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use std::{process::Command, time::Instant};

    use chrono::{Duration, NaiveDate, TimeZone};

    use super::*;
    use crate::model::{
        job::{JobSource, RunResult},
        report::{
            ReportAnomaly, ReportFailure, ReportFilters, ReportPeriod, ReportPreset, ReportRef, ReportRow,
            RunAnomaly,
        },
    };

    fn figures(i: i64) -> ReportFigures {
        let runs = 30 + i % 5;
        let failed = i % 3;
        ReportFigures {
            runs,
            success: runs - failed - 1,
            warning: 1,
            failed,
            missed: i % 2,
            success_rate: Some((runs - failed) as f64 / runs as f64),
            expected: runs + i % 2,
            expected_ok: runs - failed,
            sla: Some((runs - failed) as f64 / (runs + i % 2) as f64),
            duration_p50_seconds: Some(600 + i),
            duration_p95_seconds: Some(900 + i),
            duration_max_seconds: Some(1200 + i),
            bytes: 1_000_000_000 + i * 12_345_678,
            bytes_previous: 1_000_000_000,
            rpo_hours: Some(24),
            rpo_compliance: Some(0.99 - (i % 7) as f64 / 100.0),
            rpo_longest_gap_seconds: Some(90_000 + i * 60),
            anomalies: i % 4,
        }
    }

    /// A report of `jobs` jobs, `failures` failures and `days` days.
    fn report(jobs: usize, failures: usize, days: usize) -> Report {
        let (n_failures, n_days) = (failures, days);
        let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let until = from + Duration::days(days.max(1) as i64 - 1);
        let period = ReportPeriod {
            preset: ReportPreset::Custom,
            from,
            until,
            days: days as i64,
            time_zone: "Asia/Tokyo".to_owned(),
        };
        let names = ["東京ファイルサーバー", "大阪基幹DB", "Mail server (Exchange)", "会計システム"];
        let rows: Vec<ReportRow> = (0..jobs)
            .map(|i| ReportRow {
                key: (i + 1).to_string(),
                name: if i < names.len() { names[i].to_owned() } else { format!("ジョブ {i} / job {i}") },
                job_id: Some(i as i64 + 1),
                source: Some(if i % 2 == 0 { JobSource::Veeam } else { JobSource::Push }),
                tags: vec!["本社".to_owned()],
                jobs: 1,
                figures: figures(i as i64),
            })
            .collect();
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 15, 0, 0).unwrap();
        let failures = (0..failures)
            .map(|i| ReportFailure {
                run_id: i as i64 + 100,
                job_id: (i % jobs.max(1)) as i64 + 1,
                job_name: rows.get(i % jobs.max(1)).map(|r| r.name.clone()).unwrap_or_default(),
                result: if i % 2 == 0 { RunResult::Failed } else { RunResult::Missed },
                started_at: start + Duration::hours(i as i64),
                message: (i % 2 == 0).then(|| "ディスク容量不足のため失敗しました (disk full)".to_owned()),
                acknowledged_by: (i % 3 == 0).then(|| "山田 太郎".to_owned()),
                acknowledged_at: (i % 3 == 0).then(|| start + Duration::hours(i as i64 + 2)),
                acknowledgement_comment: (i % 3 == 0).then(|| "再実行で復旧を確認済み".to_owned()),
            })
            .collect();
        let days = (0..days)
            .map(|i| ReportDay {
                day: from + Duration::days(i as i64),
                closed: i % 7 == 5 || i % 7 == 6,
                success: 20,
                warning: 1,
                failed: (i % 4) as i64,
                missed: (i % 5 == 0) as i64,
                success_rate: (i % 9 != 8).then(|| 1.0 - (i % 4) as f64 / 25.0),
                duration_mean_seconds: (i % 9 != 8).then(|| 500 + (i % 10) as i64 * 40),
                bytes: 2_000_000_000 + (i % 13) as i64 * 150_000_000,
            })
            .collect();
        let anomalies = (0..n_failures.min(40))
            .map(|i| ReportAnomaly {
                run_id: i as i64 + 10_000,
                job_id: 1,
                job_name: "東京ファイルサーバー".to_owned(),
                started_at: start + Duration::hours(i as i64 * 5),
                anomaly: RunAnomaly {
                    kind: AnomalyKind::ALL[i % 4],
                    value: if i % 4 < 2 { 1_000_000 } else { 30 },
                    median: if i % 4 < 2 { 5_000_000_000 } else { 600 },
                },
            })
            .collect();
        Report {
            previous: ReportPeriod {
                from: from - Duration::days(n_days as i64),
                until: from - Duration::days(1),
                ..period.clone()
            },
            period,
            filters: ReportFilters {
                group_by: GroupBy::Job,
                tag: Some("本社".to_owned()),
                source: None,
                veeam_server: Some(ReportRef { id: 1, name: "VBR-01".to_owned() }),
                jobs: Vec::new(),
            },
            generated_at: Utc.with_ymd_and_hms(2026, 2, 1, 0, 5, 0).unwrap(),
            totals: figures(1),
            job_count: jobs as i64,
            rows: rows.clone(),
            jobs: rows,
            days,
            failures,
            failures_total: n_failures as i64 + 3,
            anomalies,
        }
    }

    /// The PDF's text through `pdftotext`, or `None` when it is not
    /// installed (a failure instead with `TEST_REQUIRE_PDFTOTEXT=1`).
    fn pdf_text(pdf: &[u8]) -> Option<String> {
        if Command::new("pdftotext").arg("-v").output().is_err() {
            assert!(
                std::env::var("TEST_REQUIRE_PDFTOTEXT").as_deref() != Ok("1"),
                "pdftotext is missing but TEST_REQUIRE_PDFTOTEXT=1 (apt-get install poppler-utils)"
            );
            eprintln!("note: pdftotext is not installed; the PDF's text is not checked");
            return None;
        }
        let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
        std::fs::write(file.path(), pdf).unwrap();
        let out =
            Command::new("pdftotext").args(["-enc", "UTF-8"]).arg(file.path()).arg("-").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Some(String::from_utf8(out.stdout).unwrap())
    }

    /// Whether `text` contains `expected`, ignoring white space: table
    /// cells wrap, and Typst puts a thin space between Latin and Japanese
    /// letters (`SLA 達成率`).
    fn contains(text: &str, expected: &str) -> bool {
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        squeeze(text).contains(&squeeze(expected))
    }

    #[test]
    fn a_japanese_report_is_a_pdf_with_japanese_headings_and_job_names() {
        let pdf = render(&report(4, 6, 30), Locale::ja).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        if let Ok(path) = std::env::var("TEST_REPORT_PDF_OUT") {
            std::fs::write(path, &pdf).unwrap();
        }
        let Some(text) = pdf_text(&pdf) else { return };
        for expected in [
            "バックアップレポート",
            "2026-01-01 – 2026-01-30 (Asia/Tokyo)",
            "概要",
            "成功率",
            "SLA達成率",
            "RPO遵守率",
            "日別成功率",
            "失敗・未実行の一覧",
            "東京ファイルサーバー",
            "大阪基幹DB",
            "山田 太郎",
            "再実行で復旧を確認済み",
            "未実行",
            "VBR-01",
        ] {
            assert!(contains(&text, expected), "{expected} is missing from:\n{text}");
        }
    }

    #[test]
    fn an_english_report_has_english_headings() {
        let pdf = render(&report(4, 6, 30), Locale::en).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let Some(text) = pdf_text(&pdf) else { return };
        for expected in [
            "Backup report",
            "Summary",
            "Success rate",
            "SLA",
            "RPO compliance",
            "Failed and missed runs",
            "Message",
            "Comment",
            "Mail server (Exchange)",
            "東京ファイルサーバー",
        ] {
            assert!(contains(&text, expected), "{expected} is missing from:\n{text}");
        }
    }

    #[test]
    fn failure_times_are_shown_in_the_reports_time_zone() {
        // 2026-01-01 15:00 UTC is 2026-01-02 00:00 in Tokyo.
        let data = document_data(&report(1, 1, 1), Locale::ja, Tz::Asia__Tokyo);
        assert_eq!(data["failures"][0][0], "2026-01-02 00:00");
        assert_eq!(data["failures"][0][2], "失敗");
        assert_eq!(data["failures"][0][4], "山田 太郎\n2026-01-02 02:00");
    }

    #[test]
    fn an_empty_report_still_renders() {
        let pdf = render(&report(0, 0, 0), Locale::en).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
    }

    #[test]
    fn text_that_looks_like_typst_markup_is_printed_as_is() {
        let mut sample = report(1, 0, 1);
        sample.rows[0].name = "#panic(\"x\") *bold* $x$ ]".to_owned();
        let pdf = render(&sample, Locale::en).unwrap();
        let Some(text) = pdf_text(&pdf) else { return };
        assert!(contains(&text, "#panic(\"x\") *bold* $x$ ]"), "{text}");
    }

    /// `cargo test --release -p app --features ssr reports::pdf -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing, run in release"]
    fn a_large_report_renders_quickly() {
        let big = report(2_000, 500, 365);
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let pdf = render(&big, Locale::ja).unwrap();
            times.push(started.elapsed());
            eprintln!("{} bytes in {:?}", pdf.len(), started.elapsed());
        }
        times.sort();
        eprintln!("median of 3: {:?}", times[1]);
    }
}
