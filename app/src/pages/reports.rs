//! `/reports`: the report for a period and filters. The filters are a plain
//! GET form, so the page works before (or without) the WASM: the query is
//! read from the URL and the server renders the report. The CSV and PDF
//! downloads are links to `GET /api/v1/reports/summary` with the same query.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{jobs::list_tags, reports::get_report},
    components::{
        auth::{LoadError, Protected},
        charts::{ReportTrendChart, Trend},
        page::{EmptyState, PageHeader},
        status::{ResultBadge, format_bytes, format_duration},
        time::DateTime,
    },
    i18n::*,
    model::{
        job::JobSource,
        report::{
            AnomalyKind, GroupBy, Report, ReportAnomaly, ReportFailure, ReportFigures, ReportPreset,
            ReportQuery, ReportRow, percent,
        },
        user::Role,
    },
};

/// The query parameters the page's form sends (and the downloads repeat).
const FILTERS: [&str; 8] =
    ["period", "from", "until", "group_by", "tag", "source", "veeam_server_id", "job_id"];

/// The reports page.
#[component]
pub fn ReportsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let param = move |name: &str| query_map.with(|q| q.get(name)).filter(|v| !v.trim().is_empty());
    let query = move || ReportQuery {
        period: param("period"),
        from: param("from"),
        until: param("until"),
        group_by: param("group_by"),
        tag: param("tag"),
        source: param("source"),
        veeam_server_id: param("veeam_server_id"),
        job_id: param("job_id"),
        format: None,
        lang: None,
    };
    // Created here, outside `Protected`, so the server renders (and
    // fetches) them once: children of a `Suspend` may be built more than once.
    let report = Resource::new(query, get_report);
    let tags = Resource::new(|| (), |_| list_tags());
    let download = move |format: &str| {
        let lang = match i18n.get_locale() {
            Locale::en => "en",
            Locale::ja => "ja",
        };
        let mut pairs: Vec<(&str, String)> =
            FILTERS.iter().filter_map(|k| param(k).map(|v| (*k, v))).collect();
        pairs.push(("format", format.to_owned()));
        pairs.push(("lang", lang.to_owned()));
        let encoded: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("/api/v1/reports/summary?{encoded}")
    };
    view! {
        <Protected min=Role::Viewer>
            <div class="page-header-row">
                <PageHeader
                    title=Signal::derive(move || t_string!(i18n, pages.reports.title).to_string())
                    intro=Signal::derive(move || t_string!(i18n, pages.reports.intro).to_string())
                />
                <a class="button button-secondary" href="/reports/schedules" data-testid="report-schedules">
                    {t!(i18n, pages.reports.schedules)}
                </a>
            </div>
            <ReportForm tags=tags />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match report.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(r) if r.job_count == 0 || (r.totals.runs == 0 && r.totals.missed == 0) => view! {
                            <PeriodLine report=r />
                            <EmptyState message=Signal::derive(move || t_string!(i18n, pages.reports.empty).to_string())>
                                <p><a class="button button-secondary" href="/reports">{t!(i18n, pages.reports.clear)}</a></p>
                            </EmptyState>
                        }.into_any(),
                        Ok(r) => view! {
                            <PeriodLine report=r.clone() />
                            <p class="report-downloads" data-testid="report-downloads">
                                <a class="button" href=move || download("csv") download data-testid="download-csv">
                                    {t!(i18n, pages.reports.download_csv)}
                                </a>
                                <a class="button button-secondary" href=move || download("pdf") download data-testid="download-pdf">
                                    {t!(i18n, pages.reports.download_pdf)}
                                </a>
                            </p>
                            <ReportView report=r />
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

/// The filter form: a plain GET to `/reports`.
#[component]
fn ReportForm(tags: Resource<Result<Vec<(String, i64)>, crate::error::AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let query_map = use_query_map();
    let param = move |name: &str| query_map.with(|q| q.get(name)).filter(|v| !v.trim().is_empty());
    let period = move || {
        param("period").unwrap_or_else(|| {
            let dated = param("from").is_some() || param("until").is_some();
            let preset = if dated { ReportPreset::Custom } else { ReportPreset::default() };
            preset.as_str().to_owned()
        })
    };
    let group_by = move || param("group_by").unwrap_or_else(|| GroupBy::default().as_str().to_owned());
    view! {
        <form
            method="get"
            action="/reports"
            class="card form form-grid filters"
            role="search"
            aria-label=move || t_string!(i18n, pages.reports.filters).to_string()
            data-testid="report-form"
        >
            <label>
                <span>{t!(i18n, pages.reports.period)}</span>
                <select name="period" data-testid="report-period">
                    {ReportPreset::ALL.into_iter().map(|p| view! {
                        <option value=p.as_str() selected=move || period() == p.as_str()>
                            {move || preset_name(i18n.get_locale(), p)}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                <span>{t!(i18n, pages.reports.from)}</span>
                <input type="date" name="from" value=move || param("from").unwrap_or_default() aria-describedby="report-dates-hint" />
            </label>
            <label>
                <span>{t!(i18n, pages.reports.until)}</span>
                <input type="date" name="until" value=move || param("until").unwrap_or_default() aria-describedby="report-dates-hint" />
            </label>
            <label>
                <span>{t!(i18n, pages.reports.group_by)}</span>
                <select name="group_by">
                    {GroupBy::ALL.into_iter().map(|g| view! {
                        <option value=g.as_str() selected=move || group_by() == g.as_str()>
                            {move || group_name(i18n.get_locale(), g)}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                <span>{t!(i18n, pages.reports.tag)}</span>
                <select name="tag" data-testid="report-tag">
                    <option value="">{t!(i18n, pages.reports.any_tag)}</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            tags.await.unwrap_or_default().into_iter().map(|(tag, n)| {
                                let value = tag.clone();
                                view! {
                                    <option value=value.clone() selected=move || param("tag").as_deref() == Some(value.as_str())>
                                        {format!("{tag} ({n})")}
                                    </option>
                                }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
            </label>
            <label>
                <span>{t!(i18n, pages.reports.source)}</span>
                <select name="source">
                    <option value="">{t!(i18n, pages.reports.sources.all)}</option>
                    {[JobSource::Push, JobSource::Veeam].into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || param("source").as_deref() == Some(s.as_str())>
                            {move || source_name(i18n.get_locale(), s)}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            <p class="hint span-2" id="report-dates-hint">{t!(i18n, pages.reports.custom_hint)}</p>
            <div>
                <button type="submit" class="button" data-testid="report-submit">{t!(i18n, pages.reports.show)}</button>
                " "
                <a href="/reports" class="button button-secondary">{t!(i18n, common.reset)}</a>
            </div>
        </form>
    }
}

/// The period the report covers and the one trends compare with.
#[component]
fn PeriodLine(report: Report) -> impl IntoView {
    let i18n = use_i18n();
    let p = report.period;
    let prev = report.previous;
    view! {
        <p class="report-period" data-testid="report-period-text">
            <strong>
                {move || t_string!(i18n, pages.reports.covers,
                    from = p.from.to_string(), until = p.until.to_string(),
                    days = p.days, zone = p.time_zone.clone()).to_string()}
            </strong>
            " "
            <span class="muted">
                {move || t_string!(i18n, pages.reports.previous,
                    from = prev.from.to_string(), until = prev.until.to_string()).to_string()}
            </span>
        </p>
    }
}

/// Tiles, the table, the charts and the lists of a report with runs.
#[component]
fn ReportView(report: Report) -> impl IntoView {
    let i18n = use_i18n();
    let group_by = report.filters.group_by;
    let days = report.days;
    view! {
        <SummaryTiles totals=report.totals job_count=report.job_count />

        <section class="card report-section">
            <h2>{t!(i18n, pages.reports.table)}</h2>
            <p class="hint">{t!(i18n, pages.reports.table_hint)}</p>
            <div class="table-wrap">
                <table class="table report-table" data-testid="report-table">
                    <thead>
                        <tr>
                            <th scope="col">{move || group_name(i18n.get_locale(), group_by)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.runs)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.success_rate)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.expected_ok)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.sla)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.missed)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.duration)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.bytes)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.rpo)}</th>
                            <th scope="col" class="num">{t!(i18n, pages.reports.longest_gap)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report.rows.into_iter().map(|row| view! { <ReportTableRow row=row group_by=group_by /> }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>

        <div class="grid-2 report-charts">
            <section class="card">
                <h2>{t!(i18n, pages.reports.chart_success)}</h2>
                <ReportTrendChart
                    days=days.clone()
                    trend=Trend::SuccessRate
                    label=Signal::derive(move || t_string!(i18n, pages.reports.chart_success).to_string())
                    testid="chart-success"
                />
                <ClosedLegend />
            </section>
            <section class="card">
                <h2>{t!(i18n, pages.reports.chart_duration)}</h2>
                <ReportTrendChart
                    days=days.clone()
                    trend=Trend::Duration
                    label=Signal::derive(move || t_string!(i18n, pages.reports.chart_duration).to_string())
                    testid="chart-duration"
                />
                <ClosedLegend />
            </section>
            <section class="card">
                <h2>{t!(i18n, pages.reports.chart_bytes)}</h2>
                <ReportTrendChart
                    days=days
                    trend=Trend::Bytes
                    label=Signal::derive(move || t_string!(i18n, pages.reports.chart_bytes).to_string())
                    testid="chart-bytes"
                />
                <ClosedLegend />
            </section>
        </div>

        <FailureList failures=report.failures total=report.failures_total />
        <AnomalyList anomalies=report.anomalies />
    }
}

/// The report's headline figures, styled like the dashboard's counts.
#[component]
fn SummaryTiles(totals: ReportFigures, job_count: i64) -> impl IntoView {
    let i18n = use_i18n();
    let (ok, expected) = (totals.expected_ok, totals.expected);
    let trend = bytes_trend(totals.bytes, totals.bytes_previous);
    let failed_class = if totals.failed > 0 { "count-card count-failed" } else { "count-card" };
    let missed_class = if totals.missed > 0 { "count-card count-missed" } else { "count-card" };
    view! {
        <section
            class="state-counts report-tiles"
            aria-label=move || t_string!(i18n, pages.reports.summary).to_string()
            data-testid="report-tiles"
        >
            <div class="count-card">
                <span class="count-number">{job_count}</span>
                <span class="tile-label">{t!(i18n, pages.reports.jobs)}</span>
            </div>
            <div class="count-card">
                <span class="count-number">{totals.runs}</span>
                <span class="tile-label">{t!(i18n, pages.reports.runs)}</span>
            </div>
            <div class="count-card">
                <span class="count-number">{percent(totals.success_rate)}</span>
                <span class="tile-label">{t!(i18n, pages.reports.success_rate)}</span>
            </div>
            <div class="count-card" data-testid="tile-sla">
                <span class="count-number">{percent(totals.sla)}</span>
                <span class="tile-label">{t!(i18n, pages.reports.sla)}</span>
                <span class="tile-detail">{t!(i18n, pages.reports.sla_detail, ok = ok, expected = expected)}</span>
            </div>
            <div class=missed_class>
                <span class="count-number">{totals.missed}</span>
                <span class="tile-label">{t!(i18n, pages.reports.missed)}</span>
            </div>
            <div class=failed_class>
                <span class="count-number">{totals.failed}</span>
                <span class="tile-label">{t!(i18n, pages.reports.failed)}</span>
            </div>
            <div class="count-card" data-testid="tile-bytes">
                <span class="count-number">{format_bytes(totals.bytes)}</span>
                <span class="tile-label">{t!(i18n, pages.reports.bytes)}</span>
                <span class="tile-detail">
                    {move || match trend.clone() {
                        Some(change) => t_string!(i18n, pages.reports.trend, change = change).to_string(),
                        None => t_string!(i18n, pages.reports.trend_none).to_string(),
                    }}
                </span>
            </div>
            <div class="count-card">
                <span class="count-number">{percent(totals.rpo_compliance)}</span>
                <span class="tile-label">{t!(i18n, pages.reports.rpo)}</span>
            </div>
        </section>
    }
}

/// One row of the SLA/RPO table.
#[component]
fn ReportTableRow(row: ReportRow, group_by: GroupBy) -> impl IntoView {
    let i18n = use_i18n();
    let f = row.figures;
    let name = row.name.clone();
    let name_cell = match (row.job_id, group_by) {
        (Some(id), _) => view! { <a href=format!("/jobs/{id}")><strong>{name}</strong></a> }.into_any(),
        (None, GroupBy::Source) => {
            let source = JobSource::parse(&row.key);
            view! { <strong>{move || source.map_or_else(|| name.clone(), |s| source_name(i18n.get_locale(), s))}</strong> }
                .into_any()
        }
        (None, _) => view! { <strong>{name}</strong> }.into_any(),
    };
    let trouble = f.failed + f.missed > 0;
    let expected_ok =
        if f.expected > 0 { format!("{} / {}", f.expected_ok, f.expected) } else { "–".to_owned() };
    let durations = match (f.duration_p50_seconds, f.duration_p95_seconds) {
        (None, None) => "–".to_owned(),
        (p50, p95) => format!("{} / {}", optional(p50, format_duration), optional(p95, format_duration)),
    };
    let rpo = match (f.rpo_compliance, f.rpo_hours) {
        (None, _) => "–".to_owned(),
        (rate, Some(hours)) => format!("{} ({hours}h)", percent(rate)),
        (rate, None) => percent(rate),
    };
    view! {
        <tr class:row-failed=trouble data-testid="report-row" data-name=row.name.clone()>
            <th scope="row">{name_cell}</th>
            <td class="num">{f.runs}</td>
            <td class="num">{percent(f.success_rate)}</td>
            <td class="num">{expected_ok}</td>
            <td class="num"><strong>{percent(f.sla)}</strong></td>
            <td class="num">{f.missed}</td>
            <td class="num">{durations}</td>
            <td class="num">{format_bytes(f.bytes)}</td>
            <td class="num">{rpo}</td>
            <td class="num">{optional(f.rpo_longest_gap_seconds, format_duration)}</td>
        </tr>
    }
}

/// The legend for the shaded closed days.
#[component]
fn ClosedLegend() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="legend">
            <span class="cell-key closed-key"></span>
            {t!(i18n, pages.reports.closed)}
        </p>
    }
}

/// Failed and missed runs, newest first, with who acknowledged them.
#[component]
fn FailureList(failures: Vec<ReportFailure>, total: i64) -> impl IntoView {
    let i18n = use_i18n();
    let shown = failures.len();
    view! {
        <section class="card report-section" data-testid="report-failures">
            <h2>{t!(i18n, pages.reports.failures)}</h2>
            {if failures.is_empty() {
                view! { <p class="all-good">{t!(i18n, pages.reports.failures_none)}</p> }.into_any()
            } else {
                view! {
                    {(total > shown as i64).then(|| view! {
                        <p class="hint">{t!(i18n, pages.reports.failures_more, shown = shown, total = total)}</p>
                    })}
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, pages.reports.time)}</th>
                                    <th scope="col">{t!(i18n, pages.reports.job)}</th>
                                    <th scope="col">{t!(i18n, pages.reports.result)}</th>
                                    <th scope="col">{t!(i18n, pages.reports.message)}</th>
                                    <th scope="col">{t!(i18n, pages.reports.ack_by)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {failures.into_iter().map(|f| view! {
                                    <tr data-testid="failure-row">
                                        <td><a href=format!("/runs/{}", f.run_id)><DateTime at=f.started_at /></a></td>
                                        <td><a href=format!("/jobs/{}", f.job_id)>{f.job_name}</a></td>
                                        <td><ResultBadge result=f.result /></td>
                                        <td class="details">{f.message}</td>
                                        <td>
                                            {f.acknowledged_by.map(|by| view! {
                                                <span title=f.acknowledgement_comment.clone().unwrap_or_default()>{by}</span>
                                                {f.acknowledged_at.map(|at| view! { " " <span class="muted"><DateTime at=at /></span> })}
                                                {f.acknowledgement_comment.clone().map(|c| view! { <div class="details">{c}</div> })}
                                            })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// Successful runs far outside their job's usual pattern.
#[component]
fn AnomalyList(anomalies: Vec<ReportAnomaly>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card report-section" data-testid="report-anomalies">
            <h2>{t!(i18n, pages.reports.anomalies)}</h2>
            <p class="hint">{t!(i18n, pages.reports.anomalies_hint)}</p>
            {if anomalies.is_empty() {
                view! { <p class="all-good">{t!(i18n, pages.reports.anomalies_none)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table">
                            <thead>
                                <tr>
                                    <th scope="col">{t!(i18n, pages.reports.time)}</th>
                                    <th scope="col">{t!(i18n, pages.reports.job)}</th>
                                    <th scope="col">{t!(i18n, pages.reports.anomaly)}</th>
                                    <th scope="col" class="num">{t!(i18n, pages.reports.value)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {anomalies.into_iter().map(|a| {
                                    let kind = a.anomaly.kind;
                                    let format = if kind.is_bytes() { format_bytes } else { format_duration };
                                    let (value, median) = (format(a.anomaly.value), format(a.anomaly.median));
                                    view! {
                                        <tr data-testid="anomaly-row">
                                            <td><a href=format!("/runs/{}", a.run_id)><DateTime at=a.started_at /></a></td>
                                            <td><a href=format!("/jobs/{}", a.job_id)>{a.job_name}</a></td>
                                            <td>{move || anomaly_name(i18n.get_locale(), kind)}</td>
                                            <td class="num">
                                                {t!(i18n, pages.reports.anomaly_value, value = value.clone(), median = median.clone())}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}

/// `+12.3 %` / `−4.0 %` from the previous period's bytes; none when the
/// previous period processed nothing.
fn bytes_trend(bytes: i64, previous: i64) -> Option<String> {
    if previous <= 0 {
        return None;
    }
    let change = (bytes - previous) as f64 * 100.0 / previous as f64;
    let sign = if change > 0.0 {
        "+"
    } else if change < 0.0 {
        "−"
    } else {
        "±"
    };
    Some(format!("{sign}{:.1} %", change.abs()))
}

fn optional(value: Option<i64>, format: fn(i64) -> String) -> String {
    value.map_or_else(|| "–".to_owned(), format)
}

fn preset_name(locale: Locale, preset: ReportPreset) -> String {
    match preset {
        ReportPreset::Yesterday => td_string!(locale, pages.reports.presets.yesterday),
        ReportPreset::Last7Days => td_string!(locale, pages.reports.presets.last_7_days),
        ReportPreset::Last30Days => td_string!(locale, pages.reports.presets.last_30_days),
        ReportPreset::LastMonth => td_string!(locale, pages.reports.presets.last_month),
        ReportPreset::ThisMonth => td_string!(locale, pages.reports.presets.this_month),
        ReportPreset::Custom => td_string!(locale, pages.reports.presets.custom),
    }
    .to_string()
}

fn group_name(locale: Locale, group: GroupBy) -> String {
    match group {
        GroupBy::Job => td_string!(locale, pages.reports.groups.job),
        GroupBy::Tag => td_string!(locale, pages.reports.groups.tag),
        GroupBy::Source => td_string!(locale, pages.reports.groups.source),
    }
    .to_string()
}

fn source_name(locale: Locale, source: JobSource) -> String {
    match source {
        JobSource::Push => td_string!(locale, pages.reports.sources.push),
        JobSource::Veeam => td_string!(locale, pages.reports.sources.veeam),
    }
    .to_string()
}

fn anomaly_name(locale: Locale, kind: AnomalyKind) -> String {
    match kind {
        AnomalyKind::BytesSmall => td_string!(locale, pages.reports.anomaly_kinds.bytes_small),
        AnomalyKind::BytesLarge => td_string!(locale, pages.reports.anomaly_kinds.bytes_large),
        AnomalyKind::DurationShort => td_string!(locale, pages.reports.anomaly_kinds.duration_short),
        AnomalyKind::DurationLong => td_string!(locale, pages.reports.anomaly_kinds.duration_long),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_trend_is_signed_and_absent_without_a_previous_period() {
        assert_eq!(bytes_trend(110, 100).as_deref(), Some("+10.0 %"));
        assert_eq!(bytes_trend(50, 100).as_deref(), Some("−50.0 %"));
        assert_eq!(bytes_trend(100, 100).as_deref(), Some("±0.0 %"));
        assert_eq!(bytes_trend(100, 0), None);
    }
}
