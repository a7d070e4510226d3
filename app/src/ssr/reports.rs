//! Reports (the design's ReportService): figures for a period and filters
//! computed from the daily roll-ups, shown on `/reports`, answered as JSON,
//! CSV or PDF, and e-mailed on a schedule through the notification outbox.
//!
//! - [`figures`]: the pure arithmetic (SLA, RPO compliance, percentiles).
//! - [`csv`] and [`pdf`]: the exports, from a computed [`Report`].
//! - [`schedules`]: scheduled report e-mails ([`occurrence`]: when;
//!   [`mail`]: the summary in the body; [`store`]: their tables).

pub mod csv;
pub mod mail;
pub mod occurrence;
pub mod pdf;
pub mod schedules;
pub mod store;

use crate::{i18n::Locale, model::report::Report};

/// The file name of an export: `backup-report-2026-11-01-2026-11-30.csv`.
pub fn file_name(report: &Report, extension: &str) -> String {
    format!("backup-report-{}-{}.{extension}", report.period.from, report.period.until)
}

/// The language of an export when the query names none.
pub fn default_locale() -> Locale {
    Locale::ja
}

pub mod figures;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{
    error::AppError,
    model::{
        job::JobSource,
        report::{
            GroupBy, MAX_LISTED, ReportAnomaly, ReportDay, ReportFailure, ReportFigures, ReportFilters,
            ReportFormat, ReportPeriod, ReportPreset, ReportQuery, ReportRef, ReportRow, RunAnomaly,
        },
        user::Role,
    },
    ssr::{
        accounts::{self, Access, RequestInfo},
        infra::state::AppState,
        jobs::{
            self,
            reporting::{DailySums, JobFilter},
        },
        veeam,
    },
};
use figures::GoodSpan;

/// A report's period and filters, checked and resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The period.
    pub period: ReportPeriod,
    /// The previous period of the same length.
    pub previous: ReportPeriod,
    /// Grouping of rows.
    pub group_by: GroupBy,
    /// Only jobs with this tag.
    pub tag: Option<String>,
    /// Only jobs from this source.
    pub source: Option<JobSource>,
    /// Only jobs of this Veeam server.
    pub veeam_server_id: Option<i64>,
    /// Only these jobs (empty: all).
    pub job_ids: Vec<i64>,
}

/// What a query asks for: the report, its format and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Period and filters.
    pub spec: ReportSpec,
    /// Format.
    pub format: ReportFormat,
    /// Language of an export (CSV column names, PDF).
    pub locale: Locale,
}

/// The longest period a report may cover, in days.
pub const MAX_DAYS: i64 = 731;

fn invalid(locale: Locale, field: &str, ja: &str, en: &str) -> AppError {
    AppError::Validation {
        field: Some(field.to_owned()),
        message: if locale == Locale::ja { ja.to_owned() } else { en.to_owned() },
    }
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn parse_day(value: &str, field: &str, locale: Locale) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        invalid(locale, field, "日付は YYYY-MM-DD で指定してください", "a day is written YYYY-MM-DD")
    })
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The days `from` to `until` in `tz`, as a period.
fn period(preset: ReportPreset, from: NaiveDate, until: NaiveDate, tz: Tz) -> ReportPeriod {
    ReportPeriod { preset, from, until, days: (until - from).num_days() + 1, time_zone: tz.name().to_owned() }
}

/// Checks a query and resolves its period in `tz` with `today` as today;
/// `locale` is the caller's language (for messages and the default export
/// language).
pub fn resolve(query: &ReportQuery, tz: Tz, today: NaiveDate, locale: Locale) -> Result<Resolved, AppError> {
    let from = non_blank(&query.from).map(|v| parse_day(v, "from", locale)).transpose()?;
    let until = non_blank(&query.until).map(|v| parse_day(v, "until", locale)).transpose()?;
    let preset = match non_blank(&query.period) {
        Some(name) => ReportPreset::parse(name).ok_or_else(|| {
            invalid(
                locale,
                "period",
                "期間は yesterday, last_7_days, last_30_days, last_month, this_month, custom のいずれかです",
                "period is one of yesterday, last_7_days, last_30_days, last_month, this_month, custom",
            )
        })?,
        None if from.is_some() || until.is_some() => ReportPreset::Custom,
        None => ReportPreset::Last30Days,
    };
    let day = |days: i64| today - Duration::days(days);
    let (first, last) = match preset {
        ReportPreset::Yesterday => (day(1), day(1)),
        ReportPreset::Last7Days => (day(6), today),
        ReportPreset::Last30Days => (day(29), today),
        ReportPreset::LastMonth => {
            let end = first_of_month(today) - Duration::days(1);
            (first_of_month(end), end)
        }
        ReportPreset::ThisMonth => (first_of_month(today), today),
        ReportPreset::Custom => {
            let until = until.unwrap_or(today);
            let from = from.ok_or_else(|| {
                invalid(
                    locale,
                    "from",
                    "期間を指定するときは開始日が必要です",
                    "a custom period needs `from`",
                )
            })?;
            (from, until)
        }
    };
    if last < first {
        return Err(invalid(locale, "until", "終了日が開始日より前です", "`until` is before `from`"));
    }
    if (last - first).num_days() + 1 > MAX_DAYS {
        return Err(invalid(
            locale,
            "from",
            "レポートの期間は最長 731 日です",
            "a report covers at most 731 days",
        ));
    }
    let length = (last - first).num_days() + 1;
    let previous_until = first - Duration::days(1);
    let previous_from = previous_until - Duration::days(length - 1);
    let group_by = match non_blank(&query.group_by) {
        Some(name) => GroupBy::parse(name).ok_or_else(|| {
            invalid(
                locale,
                "group_by",
                "group_by は job, tag, source のいずれかです",
                "group_by is job, tag or source",
            )
        })?,
        None => GroupBy::Job,
    };
    let source = non_blank(&query.source)
        .map(|name| {
            JobSource::parse(name).ok_or_else(|| {
                invalid(locale, "source", "source は push か veeam です", "source is push or veeam")
            })
        })
        .transpose()?;
    let veeam_server_id = non_blank(&query.veeam_server_id)
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                invalid(
                    locale,
                    "veeam_server_id",
                    "Veeam サーバーの ID は数値です",
                    "veeam_server_id is a number",
                )
            })
        })
        .transpose()?;
    let mut job_ids = Vec::new();
    if let Some(list) = non_blank(&query.job_id) {
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            job_ids.push(part.parse::<i64>().map_err(|_| {
                invalid(
                    locale,
                    "job_id",
                    "job_id はカンマ区切りのジョブ ID です",
                    "job_id is job ids separated by commas",
                )
            })?);
        }
        if job_ids.len() > 500 {
            return Err(invalid(locale, "job_id", "ジョブは 500 件までです", "at most 500 jobs"));
        }
        job_ids.sort_unstable();
        job_ids.dedup();
    }
    let format = match non_blank(&query.format) {
        Some(name) => ReportFormat::parse(name).ok_or_else(|| {
            invalid(locale, "format", "format は json, csv, pdf のいずれかです", "format is json, csv or pdf")
        })?,
        None => ReportFormat::Json,
    };
    let export_locale = match non_blank(&query.lang) {
        Some("ja") => Locale::ja,
        Some("en") => Locale::en,
        Some(_) => return Err(invalid(locale, "lang", "lang は ja か en です", "lang is ja or en")),
        None => locale,
    };
    Ok(Resolved {
        spec: ReportSpec {
            period: period(preset, first, last, tz),
            previous: period(preset, previous_from, previous_until, tz),
            group_by,
            tag: non_blank(&query.tag).map(str::to_owned),
            source,
            veeam_server_id,
            job_ids,
        },
        format,
        locale: export_locale,
    })
}

/// The instant a day starts in `tz` (the first valid local time when a
/// clock change skips midnight).
fn day_start(day: NaiveDate, tz: &str) -> DateTime<Utc> {
    let zone: Tz = tz.parse().unwrap_or(chrono_tz::UTC);
    let midnight = day.and_time(NaiveTime::MIN);
    (0..4)
        .find_map(|h| zone.from_local_datetime(&(midnight + Duration::hours(h))).earliest())
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

fn db_error(e: sqlx::Error) -> AppError {
    tracing::error!(error.cause_chain = ?e, "a report could not be read");
    AppError::Internal
}

/// A job's figures being put together.
struct JobAcc {
    row: jobs::reporting::ReportJobRow,
    tags: Vec<String>,
    sums: DailySums,
    histogram: figures::Histogram,
    figures: ReportFigures,
}

/// Computes the report `spec` describes at `now`.
pub async fn compute(state: &AppState, spec: &ReportSpec, now: DateTime<Utc>) -> Result<Report, AppError> {
    let tz = spec.period.time_zone.as_str();
    let start = day_start(spec.period.from, tz);
    let end = day_start(spec.period.until + Duration::days(1), tz);
    let filter = JobFilter {
        tag: spec.tag.clone(),
        source: spec.source,
        veeam_server_id: spec.veeam_server_id,
        job_ids: spec.job_ids.clone(),
    };
    let (from, until) = (spec.period.from.to_string(), spec.period.until.to_string());
    let job_rows = jobs::reporting::jobs(state, &filter, end).await.map_err(db_error)?;
    let ids: Vec<i64> = job_rows.iter().map(|j| j.id).collect();
    let mut tags = jobs::reporting::tags(state, &ids).await.map_err(db_error)?;
    let mut acc: BTreeMap<i64, JobAcc> = job_rows
        .into_iter()
        .map(|row| {
            let tags = tags.remove(&row.id).unwrap_or_default();
            (
                row.id,
                JobAcc {
                    row,
                    tags,
                    sums: DailySums::default(),
                    histogram: BTreeMap::new(),
                    figures: ReportFigures::default(),
                },
            )
        })
        .collect();

    // Every read at once: they are independent, and the pool (several
    // readers on SQLite's WAL, several connections on PostgreSQL) runs them
    // side by side.
    let (prev_from, prev_until) = (spec.previous.from.to_string(), spec.previous.until.to_string());
    let lookback = (spec.period.from - Duration::days(RPO_LOOKBACK_DAYS)).to_string();
    let limit = MAX_LISTED as i64;
    let (
        sums,
        durations,
        previous,
        anomaly_counts,
        before,
        good_days,
        by_day,
        calendar,
        (problems, failures_total),
        acks,
        (anomalous, _),
    ) = futures::try_join!(
        jobs::reporting::sums_by_job(state, &filter, &from, &until),
        jobs::reporting::durations(state, &filter, &from, &until),
        jobs::reporting::sums_by_job(state, &filter, &prev_from, &prev_until),
        jobs::reporting::anomaly_counts(state, &filter, start, end),
        jobs::reporting::last_good_before(state, &filter, &lookback, &from),
        jobs::reporting::good_days(state, &filter, &from, &until),
        jobs::reporting::sums_by_day(state, &filter, &from, &until),
        jobs::calendar_service::current(state),
        jobs::reporting::problems(state, &filter, start, end, false, limit),
        accounts::audit::acknowledgements_since(state, start),
        jobs::reporting::problems(state, &filter, start, end, true, limit),
    )
    .map_err(db_error)?;

    for sums in sums {
        if let Some(job) = acc.get_mut(&sums.job_id) {
            job.sums = sums;
        }
    }
    for (job_id, bucket, runs) in durations {
        if let Some(job) = acc.get_mut(&job_id) {
            job.histogram.insert(bucket, runs);
        }
    }
    let previous: HashMap<i64, i64> = previous.into_iter().map(|s| (s.job_id, s.bytes)).collect();

    // RPO compliance of jobs with a target.
    let mut good: HashMap<i64, Vec<GoodSpan>> = HashMap::new();
    for day in good_days {
        good.entry(day.job_id).or_default().push(GoodSpan {
            first: day.good_first,
            last: day.good_last,
            max_gap: day.good_max_gap,
        });
    }
    let rpo_end = end.min(now).timestamp();

    for job in acc.values_mut() {
        let mut f = figures::figures(&job.sums, &job.histogram);
        f.bytes_previous = previous.get(&job.row.id).copied().unwrap_or(0);
        f.anomalies = anomaly_counts.get(&job.row.id).copied().unwrap_or(0);
        if let Some(hours) = job.row.rpo_hours {
            f.rpo_hours = Some(hours);
            let job_start = start.max(job.row.created_at).timestamp();
            let days = good.get(&job.row.id).map_or(&[][..], Vec::as_slice);
            if let Some((share, gap)) = figures::rpo_compliance(
                hours * 3600,
                job_start,
                rpo_end,
                before.get(&job.row.id).copied(),
                days,
            ) {
                f.rpo_compliance = Some(share);
                f.rpo_longest_gap_seconds = Some(gap);
            }
        }
        job.figures = f;
    }

    // Rows by job, and grouped.
    let mut job_list: Vec<ReportRow> = acc
        .values()
        .map(|job| ReportRow {
            key: job.row.id.to_string(),
            name: job.row.name.clone(),
            job_id: Some(job.row.id),
            source: Some(job.row.source),
            tags: job.tags.clone(),
            jobs: 1,
            figures: job.figures.clone(),
        })
        .collect();
    job_list.sort_by(figures::worst_first);
    let totals = group_figures(acc.values());
    let rows = match spec.group_by {
        GroupBy::Job => job_list.clone(),
        GroupBy::Tag | GroupBy::Source => {
            let mut groups: BTreeMap<String, Vec<&JobAcc>> = BTreeMap::new();
            for job in acc.values() {
                if spec.group_by == GroupBy::Source {
                    groups.entry(job.row.source.as_str().to_owned()).or_default().push(job);
                } else if job.tags.is_empty() {
                    groups.entry(String::new()).or_default().push(job);
                } else {
                    for tag in &job.tags {
                        groups.entry(tag.clone()).or_default().push(job);
                    }
                }
            }
            let mut rows: Vec<ReportRow> = groups
                .into_iter()
                .map(|(key, jobs)| ReportRow {
                    name: if key.is_empty() { "–".to_owned() } else { key.clone() },
                    key,
                    job_id: None,
                    source: None,
                    tags: vec![],
                    jobs: jobs.len() as i64,
                    figures: group_figures(jobs.into_iter()),
                })
                .collect();
            rows.sort_by(figures::worst_first);
            rows
        }
    };

    // Days, for the charts.
    let by_day: HashMap<String, DailySums> = by_day.into_iter().map(|s| (s.day.clone(), s)).collect();
    let mut days = Vec::new();
    let mut d = spec.period.from;
    while d <= spec.period.until {
        let s = by_day.get(&d.to_string()).cloned().unwrap_or_default();
        let runs = s.success + s.warning + s.failed;
        days.push(ReportDay {
            day: d,
            closed: calendar.closed(d).is_some(),
            success: s.success,
            warning: s.warning,
            failed: s.failed,
            missed: s.missed,
            success_rate: figures::rate(s.success + s.warning, runs),
            duration_mean_seconds: (s.duration_count > 0).then(|| s.duration_sum / s.duration_count),
            bytes: s.bytes,
        });
        d += Duration::days(1);
    }

    // Failures with who acknowledged them, and anomalies.
    let failures = with_acknowledgements(problems, &acks);
    let anomalies = anomalous
        .into_iter()
        .filter_map(|r| {
            let kind = r.anomaly?;
            let value = if kind.is_bytes() {
                r.bytes_processed.unwrap_or(0)
            } else {
                r.ended_at.map_or(0, |e| (e - r.started_at).num_seconds().max(0))
            };
            Some(ReportAnomaly {
                run_id: r.id,
                job_id: r.job_id,
                job_name: r.job_name,
                started_at: r.started_at,
                anomaly: RunAnomaly { kind, value, median: r.anomaly_median.unwrap_or(0) },
            })
        })
        .collect();

    let veeam_server = match spec.veeam_server_id {
        Some(id) => veeam::servers_for_sync(state)
            .await
            .map_err(db_error)?
            .into_iter()
            .find(|s| s.id == id)
            .map(|s| ReportRef { id, name: s.name }),
        None => None,
    };
    let chosen = spec
        .job_ids
        .iter()
        .filter_map(|id| acc.get(id).map(|j| ReportRef { id: *id, name: j.row.name.clone() }))
        .collect();
    Ok(Report {
        period: spec.period.clone(),
        previous: spec.previous.clone(),
        filters: ReportFilters {
            group_by: spec.group_by,
            tag: spec.tag.clone(),
            source: spec.source,
            veeam_server,
            jobs: chosen,
        },
        generated_at: now,
        totals,
        job_count: acc.len() as i64,
        rows,
        jobs: job_list,
        days,
        failures,
        failures_total,
        anomalies,
    })
}

/// How far before a period the last good backup is looked for.
const RPO_LOOKBACK_DAYS: i64 = 35;

/// The figures of several jobs together: sums, merged histograms, the mean
/// RPO compliance of those with a target and the longest gap of any.
fn group_figures<'a>(jobs: impl Iterator<Item = &'a JobAcc>) -> ReportFigures {
    let mut sums = DailySums::default();
    let mut histogram = figures::Histogram::new();
    let (mut bytes_previous, mut anomalies) = (0, 0);
    let mut compliance = Vec::new();
    let mut longest: Option<i64> = None;
    for job in jobs {
        figures::add_sums(&mut sums, &job.sums);
        figures::merge(&mut histogram, &job.histogram);
        bytes_previous += job.figures.bytes_previous;
        anomalies += job.figures.anomalies;
        if let Some(c) = job.figures.rpo_compliance {
            compliance.push(c);
        }
        if let Some(g) = job.figures.rpo_longest_gap_seconds {
            longest = Some(longest.map_or(g, |l| l.max(g)));
        }
    }
    let mut f = figures::figures(&sums, &histogram);
    f.bytes_previous = bytes_previous;
    f.anomalies = anomalies;
    f.rpo_compliance =
        (!compliance.is_empty()).then(|| compliance.iter().sum::<f64>() / compliance.len() as f64);
    f.rpo_longest_gap_seconds = longest;
    f
}

/// The failures as listed, each with the first acknowledgement of its job
/// made after it and before the job's next listed failure.
fn with_acknowledgements(
    problems: Vec<jobs::reporting::ProblemRow>,
    acks: &[accounts::audit::AcknowledgementRecord],
) -> Vec<ReportFailure> {
    // The next failure of the same job, per failure (the list is newest first).
    let mut next_of_job: HashMap<i64, DateTime<Utc>> = HashMap::new();
    let mut out = Vec::with_capacity(problems.len());
    for p in problems {
        let next = next_of_job.insert(p.job_id, p.started_at);
        let ack = acks
            .iter()
            .find(|a| a.job_id == p.job_id && a.at >= p.started_at && next.is_none_or(|n| a.at < n));
        out.push(ReportFailure {
            run_id: p.id,
            job_id: p.job_id,
            job_name: p.job_name,
            result: p.result,
            started_at: p.started_at,
            message: p.message,
            acknowledged_by: ack.and_then(|a| a.by.clone()),
            acknowledged_at: ack.map(|a| a.at),
            acknowledgement_comment: ack.and_then(|a| a.comment.clone()),
        });
    }
    out
}

/// The report a signed-in user or a `read` token asks for.
pub async fn summary(state: &AppState, info: &RequestInfo, query: &ReportQuery) -> Result<Report, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let resolved = resolve_now(state, info, query)?;
    compute(state, &resolved.spec, Utc::now()).await
}

fn resolve_now(state: &AppState, info: &RequestInfo, query: &ReportQuery) -> Result<Resolved, AppError> {
    let tz = state.settings.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    resolve(query, tz, today, info.locale)
}

/// A file made from a report.
#[derive(Debug, Clone)]
pub struct Export {
    /// `text/csv; charset=utf-8`, `application/pdf` or `application/json`.
    pub content_type: &'static str,
    /// Suggested file name.
    pub file_name: String,
    /// The bytes.
    pub body: Vec<u8>,
}

/// The report a query asks for, in the format it asks for (`read` scope).
pub async fn export(state: &AppState, info: &RequestInfo, query: &ReportQuery) -> Result<Export, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let resolved = resolve_now(state, info, query)?;
    let report = compute(state, &resolved.spec, Utc::now()).await?;
    render(report, resolved.format, resolved.locale).await
}

/// Writes a computed report as `format` in `locale`.
pub async fn render(report: Report, format: ReportFormat, locale: Locale) -> Result<Export, AppError> {
    Ok(match format {
        ReportFormat::Json => Export {
            content_type: "application/json",
            file_name: file_name(&report, "json"),
            body: serde_json::to_vec(&report).map_err(|_| AppError::Internal)?,
        },
        ReportFormat::Csv => Export {
            content_type: "text/csv; charset=utf-8",
            file_name: file_name(&report, "csv"),
            body: csv::render(&report, locale),
        },
        ReportFormat::Pdf => {
            let name = file_name(&report, "pdf");
            let body = tokio::task::spawn_blocking(move || pdf::render(&report, locale))
                .await
                .map_err(|_| AppError::Internal)?
                .map_err(|e| {
                    tracing::error!(error = %e, "a report PDF could not be made");
                    AppError::Internal
                })?;
            Export { content_type: "application/pdf", file_name: name, body }
        }
    })
}
