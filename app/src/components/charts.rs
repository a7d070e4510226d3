//! Charts as plain SVG: stacked daily bars of run results, bars of one
//! value per day or per run, a report's daily trends (closed days shaded)
//! and the calendar grid. Colours come from CSS
//! classes (so both themes work and no inline style is needed), and every
//! bar has a `<title>` with its numbers for screen readers and tooltips.

use leptos::prelude::*;

use crate::{
    components::status::{format_bytes, format_duration, result_name},
    i18n::*,
    model::{
        dashboard::{CalendarCell, DayTotals},
        job::{Run, RunResult},
        report::{ReportDay, percent},
    },
};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;

/// `11/22` from `2026-11-22`.
fn short_day(day: &str) -> String {
    day.get(5..).unwrap_or(day).replace('-', "/")
}

/// A round upper bound for an axis.
fn nice_max(value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(value.log10().floor());
    let scaled = value / magnitude;
    let nice = if scaled <= 1.0 {
        1.0
    } else if scaled <= 2.0 {
        2.0
    } else if scaled <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

/// Runs per day, stacked by result.
#[component]
pub fn DailyResultsChart(days: Vec<DayTotals>) -> impl IntoView {
    let i18n = use_i18n();
    let max = nice_max(
        days.iter().map(|d| (d.success + d.warning + d.failed + d.missed) as f64).fold(0.0, f64::max),
    );
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let bar = (slot * 0.7).max(2.0);
    let plot = HEIGHT - BOTTOM - TOP;
    let y = move |v: f64| TOP + plot - v / max * plot;
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
            let mut base = 0.0;
            let segments: Vec<_> = [
                (RunResult::Success, d.success),
                (RunResult::Warning, d.warning),
                (RunResult::Failed, d.failed),
                (RunResult::Missed, d.missed),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(result, n)| {
                let top = y(base + n as f64);
                let height = y(base) - top;
                base += n as f64;
                let day = d.day.clone();
                view! {
                    <rect class=format!("bar bar-{}", result.as_str()) x=x y=top width=bar height=height.max(0.5)>
                        <title>{move || format!("{day} {}: {n}", result_name(i18n.get_locale(), result))}</title>
                    </rect>
                }
            })
            .collect();
            let label = (i % 2 == 0 || slot > 40.0).then(|| {
                view! { <text class="axis-label" x=x + bar / 2.0 y=HEIGHT - 6.0 text-anchor="middle">{short_day(&d.day)}</text> }
            });
            view! { <g>{segments}{label}</g> }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=move || t_string!(i18n, dashboard.chart_results).to_string()>
            <line class="axis" x1=LEFT y1=y(0.0) x2=WIDTH y2=y(0.0) />
            <line class="grid" x1=LEFT y1=y(max) x2=WIDTH y2=y(max) />
            <text class="axis-label" x=LEFT - 6.0 y=y(max) + 4.0 text-anchor="end">{max as i64}</text>
            <text class="axis-label" x=LEFT - 6.0 y=y(0.0) + 4.0 text-anchor="end">"0"</text>
            {bars}
        </svg>
    }
}

/// What a bar chart's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds, shown as durations.
    Seconds,
    /// Bytes, shown as sizes.
    Bytes,
}

fn format_value(unit: Unit, value: i64) -> String {
    match unit {
        Unit::Seconds => format_duration(value),
        Unit::Bytes => format_bytes(value),
    }
}

/// One bar per item: `(label, value, result class)`.
#[component]
pub fn ValueBars(
    items: Vec<(String, Option<i64>, &'static str)>,
    unit: Unit,
    #[prop(into)] label: Signal<String>,
) -> impl IntoView {
    let max_value = items.iter().filter_map(|(_, v, _)| *v).max().unwrap_or(0);
    let max = nice_max(max_value as f64);
    let slot = (WIDTH - LEFT) / items.len().max(1) as f64;
    let bar = (slot * 0.7).max(2.0);
    let plot = HEIGHT - BOTTOM - TOP;
    let y = move |v: f64| TOP + plot - v / max * plot;
    let count = items.len();
    let bars = items
        .into_iter()
        .enumerate()
        .map(|(i, (name, value, class))| {
            let x = LEFT + i as f64 * slot + (slot - bar) / 2.0;
            let shown = value.unwrap_or(0) as f64;
            let top = y(shown);
            let title = format!("{name}: {}", value.map_or_else(|| "–".to_owned(), |v| format_value(unit, v)));
            let every = (count / 7).max(1);
            let label = (i % every == 0).then(|| {
                view! { <text class="axis-label" x=x + bar / 2.0 y=HEIGHT - 6.0 text-anchor="middle">{name.clone()}</text> }
            });
            view! {
                <g>
                    <rect class=format!("bar bar-{class}") x=x y=top width=bar height=(y(0.0) - top).max(0.5)>
                        <title>{title}</title>
                    </rect>
                    {label}
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=move || label.get()>
            <line class="axis" x1=LEFT y1=y(0.0) x2=WIDTH y2=y(0.0) />
            <line class="grid" x1=LEFT y1=y(max) x2=WIDTH y2=y(max) />
            <text class="axis-label" x=LEFT - 6.0 y=y(max) + 4.0 text-anchor="end">{format_value(unit, max as i64)}</text>
            {bars}
        </svg>
    }
}

/// Per-run bars for a job page: durations or sizes of its recent runs.
pub fn run_bars(runs: &[Run], unit: Unit) -> Vec<(String, Option<i64>, &'static str)> {
    runs.iter()
        .map(|r| {
            let label = r.started_at.format("%m/%d").to_string();
            let value = match unit {
                Unit::Seconds => r.duration_seconds,
                Unit::Bytes => r.bytes_processed,
            };
            (label, value, r.result.as_str())
        })
        .collect()
}

/// What a report's daily trend shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// The day's success rate (0 to 1; the axis ends at 100 %).
    SuccessRate,
    /// The mean duration of the day's runs.
    Duration,
    /// The bytes processed on the day.
    Bytes,
}

impl Trend {
    fn value(self, day: &ReportDay) -> Option<f64> {
        match self {
            Trend::SuccessRate => day.success_rate,
            Trend::Duration => day.duration_mean_seconds.map(|s| s as f64),
            Trend::Bytes => {
                (day.bytes > 0 || day.success + day.warning + day.failed > 0).then_some(day.bytes as f64)
            }
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Trend::SuccessRate => percent(Some(value)),
            Trend::Duration => format_duration(value.round() as i64),
            Trend::Bytes => format_bytes(value.round() as i64),
        }
    }

    fn class(self) -> &'static str {
        match self {
            Trend::SuccessRate => "bar-success",
            Trend::Duration => "bar-duration",
            Trend::Bytes => "bar-bytes",
        }
    }
}

/// One bar per day of a report, closed days of the business calendar
/// shaded. The SVG is labelled for screen readers, and a visually hidden
/// table next to it lists every day's value as its text alternative.
#[component]
pub fn ReportTrendChart(
    days: Vec<ReportDay>,
    trend: Trend,
    #[prop(into)] label: Signal<String>,
    /// `data-testid` of the figure.
    #[prop(optional)]
    testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let max = match trend {
        Trend::SuccessRate => 1.0,
        _ => nice_max(days.iter().filter_map(|d| trend.value(d)).fold(0.0, f64::max)),
    };
    let count = days.len();
    let slot = (WIDTH - LEFT) / count.max(1) as f64;
    let bar = (slot * 0.7).max(2.0);
    let plot = HEIGHT - BOTTOM - TOP;
    let y = move |v: f64| TOP + plot - v / max * plot;
    let every = (count / 7).max(1);
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let slot_x = LEFT + i as f64 * slot;
            let x = slot_x + (slot - bar) / 2.0;
            let day = d.day.format("%m/%d").to_string();
            let closed = d.closed.then(|| {
                view! { <rect class="closed-day" x=slot_x y=TOP width=slot height=plot /> }
            });
            let value = trend.value(d);
            let shape = value.map(|v| {
                let top = y(v.min(max));
                let title = format!("{}: {}", d.day, trend.format(v));
                view! {
                    <rect class=format!("bar {}", trend.class()) x=x y=top width=bar height=(y(0.0) - top).max(0.5)>
                        <title>{title}</title>
                    </rect>
                }
            });
            let label = (i % every == 0).then(|| {
                view! { <text class="axis-label" x=x + bar / 2.0 y=HEIGHT - 6.0 text-anchor="middle">{day}</text> }
            });
            view! { <g>{closed}{shape}{label}</g> }
        })
        .collect_view();
    let rows = days
        .into_iter()
        .map(|d| {
            let value = trend.value(&d).map_or_else(|| "–".to_owned(), |v| trend.format(v));
            view! {
                <tr>
                    <th scope="row">{d.day.to_string()}</th>
                    <td>{value}</td>
                    <td>{d.closed.then_some(t!(i18n, pages.reports.closed))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="chart-figure" data-testid=testid>
            <svg class="chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=move || label.get()>
                <line class="axis" x1=LEFT y1=y(0.0) x2=WIDTH y2=y(0.0) />
                <line class="grid" x1=LEFT y1=y(max) x2=WIDTH y2=y(max) />
                <text class="axis-label" x=LEFT - 6.0 y=y(max) + 4.0 text-anchor="end">{trend.format(max)}</text>
                <text class="axis-label" x=LEFT - 6.0 y=y(0.0) + 4.0 text-anchor="end">{trend.format(0.0)}</text>
                {bars}
            </svg>
            <table class="visually-hidden">
                <caption>{move || label.get()}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, pages.reports.day)}</th>
                        <th scope="col">{t!(i18n, pages.reports.value)}</th>
                        <th scope="col">{t!(i18n, pages.reports.closed)}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
}

/// A row of calendar cells, one per day.
#[component]
pub fn CalendarCells(cells: Vec<CalendarCell>, days: Vec<String>) -> impl IntoView {
    let i18n = use_i18n();
    cells
        .into_iter()
        .zip(days)
        .map(|(cell, day)| {
            let text = move || {
                let what = match cell {
                    CalendarCell::None => t_string!(i18n, dashboard.no_run).to_string(),
                    CalendarCell::Success => result_name(i18n.get_locale(), RunResult::Success),
                    CalendarCell::Warning => result_name(i18n.get_locale(), RunResult::Warning),
                    CalendarCell::Failed => result_name(i18n.get_locale(), RunResult::Failed),
                    CalendarCell::Missed => result_name(i18n.get_locale(), RunResult::Missed),
                };
                format!("{day}: {what}")
            };
            let label = text.clone();
            view! { <td class=format!("cell cell-{}", cell.as_str()) title=text><span class="visually-hidden">{label}</span></td> }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(13.0), 20.0);
        assert_eq!(nice_max(420.0), 500.0);
    }
}
