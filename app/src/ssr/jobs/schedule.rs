//! Expected-schedule maths: parsing a schedule, the next expected run after
//! a run, and a description in words.
//!
//! A run "belongs" to the scheduled occurrence it serves. A run that starts
//! a little early (within the grace period, and within half the gap to the
//! previous occurrence) counts for the coming occurrence; any other run
//! counts for the one before it. The next expected time is the occurrence
//! after the one the run belongs to. So a nightly 02:00 backup that starts
//! at 01:55 or at 02:40 is next expected tomorrow at 02:00, while an
//! ad-hoc run at 20:00 does not excuse tomorrow's run.
//!
//! Cron expressions are evaluated by croner in the job's time zone
//! (chrono-tz): a time skipped by a daylight-saving jump runs at the first
//! instant after the gap, and a repeated hour runs once.
//!
//! A job expected on business days only wraps its schedule in
//! [`Expected::BusinessDays`]: an occurrence whose date (in the console's
//! time zone) is a closed day of the [`BusinessCalendar`] is not expected,
//! so the next expected run is the first occurrence on a business day. An
//! interval schedule whose next time lands on a closed day moves by whole
//! days to the next business day, keeping its time of day.

use std::{str::FromStr, sync::Arc};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use croner::{
    Cron,
    parser::{CronParser, Seconds},
};

use super::calendar::{BusinessCalendar, MAX_SEARCH_DAYS};
use crate::{
    i18n::{Locale, td_string},
    model::schedule::{Schedule, ScheduleKind},
};

/// The shortest allowed interval.
pub const MIN_INTERVAL_SECONDS: i64 = 60;
/// The longest allowed interval.
pub const MAX_INTERVAL_SECONDS: i64 = 31 * 24 * 3600;

/// A parsed, valid schedule.
#[derive(Debug, Clone)]
pub enum Expected {
    /// Nothing expected.
    None,
    /// Occurrences of a cron expression in a time zone.
    Cron {
        /// The expression.
        cron: Box<Cron>,
        /// Its time zone.
        tz: Tz,
        /// The expression as written.
        text: String,
    },
    /// A fixed period after the previous run.
    Interval(Duration),
    /// Veeam's own next run, for schedules that map to neither (after-this-job
    /// chains, continuous jobs, backup windows): read by every sync and
    /// remembered. Only that one occurrence is known; the one after it comes
    /// with a later sync.
    NextRun(Option<DateTime<Utc>>),
    /// Another schedule's occurrences on business days only: one on a
    /// closed day of `calendar` (its date in `tz`, the console's zone) is
    /// skipped. Built by [`Expected::on_business_days`].
    BusinessDays {
        /// The schedule without the calendar.
        inner: Box<Expected>,
        /// The closed days.
        calendar: Arc<BusinessCalendar>,
        /// The zone that dates an occurrence.
        tz: Tz,
    },
}

/// What is wrong with a schedule; the field names the API field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    /// `cron` is missing or not a valid expression.
    Cron(String),
    /// `timezone` is not an IANA zone.
    Timezone(String),
    /// `interval_seconds` is missing or out of range.
    Interval,
    /// `cron` fires more than once a minute (it would flood the history
    /// with missed runs).
    TooFrequent,
}

impl ScheduleError {
    /// The API field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ScheduleError::Cron(_) => "schedule.cron",
            ScheduleError::Timezone(_) => "schedule.timezone",
            ScheduleError::Interval => "schedule.interval_seconds",
            ScheduleError::TooFrequent => "schedule.cron",
        }
    }

    /// What is wrong, in `locale`.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            ScheduleError::Cron(detail) => td_string!(locale, jobs.errors.cron, detail = detail).to_string(),
            ScheduleError::Timezone(zone) => {
                td_string!(locale, jobs.errors.timezone, zone = zone).to_string()
            }
            ScheduleError::TooFrequent => td_string!(locale, jobs.errors.cron_too_frequent).to_string(),
            ScheduleError::Interval => td_string!(
                locale,
                jobs.errors.interval,
                min = MIN_INTERVAL_SECONDS,
                max = MAX_INTERVAL_SECONDS
            )
            .to_string(),
        }
    }
}

/// Parses an IANA time zone name.
pub fn parse_timezone(name: &str) -> Result<Tz, ScheduleError> {
    Tz::from_str(name.trim()).map_err(|_| ScheduleError::Timezone(name.trim().to_owned()))
}

fn parse_cron(text: &str) -> Result<Cron, ScheduleError> {
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(text.trim())
        .map_err(|e| ScheduleError::Cron(e.to_string()))
}

impl Expected {
    /// Validates a schedule; a cron schedule without a time zone uses `default_tz`.
    pub fn parse(schedule: &Schedule, default_tz: Tz) -> Result<Self, ScheduleError> {
        match schedule.kind {
            ScheduleKind::None => Ok(Expected::None),
            ScheduleKind::Cron => {
                let text = schedule.cron.as_deref().map(str::trim).filter(|c| !c.is_empty());
                let text = text.ok_or_else(|| ScheduleError::Cron("empty".into()))?;
                let tz = match schedule.timezone.as_deref().map(str::trim).filter(|z| !z.is_empty()) {
                    Some(zone) => parse_timezone(zone)?,
                    None => default_tz,
                };
                let cron = parse_cron(text)?;
                // An expression that never matches (31 February) is useless.
                let probe = Utc::now().with_timezone(&tz);
                let Ok(first) = cron.find_next_occurrence(&probe, false) else {
                    return Err(ScheduleError::Cron("it never matches".into()));
                };
                // At most once a minute: with one second value, matches are
                // a minute apart or more; with several, two of the next
                // three matches fall within one minute.
                let mut previous = first;
                for _ in 0..2 {
                    let Ok(next) = cron.find_next_occurrence(&previous, false) else { break };
                    if next - previous < Duration::seconds(60) {
                        return Err(ScheduleError::TooFrequent);
                    }
                    previous = next;
                }
                Ok(Expected::Cron {
                    cron: Box::new(cron),
                    tz,
                    text: text.split_whitespace().collect::<Vec<_>>().join(" "),
                })
            }
            ScheduleKind::Interval => match schedule.interval_seconds {
                Some(s) if (MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&s) => {
                    Ok(Expected::Interval(Duration::seconds(s)))
                }
                _ => Err(ScheduleError::Interval),
            },
        }
    }

    /// The schedule in its API form (normalised).
    pub fn to_schedule(&self) -> Schedule {
        match self {
            Expected::None => Schedule::default(),
            Expected::Cron { tz, text, .. } => Schedule {
                kind: ScheduleKind::Cron,
                cron: Some(text.clone()),
                timezone: Some(tz.name().to_owned()),
                interval_seconds: None,
            },
            Expected::Interval(period) => Schedule {
                kind: ScheduleKind::Interval,
                cron: None,
                timezone: None,
                interval_seconds: Some(period.num_seconds()),
            },
            Expected::NextRun(_) => Schedule::default(),
            Expected::BusinessDays { inner, .. } => inner.to_schedule(),
        }
    }

    /// This schedule on the business days of `calendar` only (dates in `tz`).
    pub fn on_business_days(self, calendar: Arc<BusinessCalendar>, tz: Tz) -> Self {
        match self {
            Expected::None => Expected::None,
            Expected::BusinessDays { inner, .. } => Expected::BusinessDays { inner, calendar, tz },
            inner => Expected::BusinessDays { inner: Box::new(inner), calendar, tz },
        }
    }

    /// `occurrence` if it is expected; for a schedule on business days
    /// only, the first occurrence at or after it on a business day (`None`
    /// when there is none in reach). Settles a next expected time that was
    /// computed without the calendar.
    pub fn skip_closed(&self, occurrence: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expected::BusinessDays { inner, calendar, tz } => {
                business_occurrence(inner, calendar, *tz, occurrence)
            }
            _ => Some(occurrence),
        }
    }

    /// The first cron occurrence strictly after `t`.
    fn cron_after(cron: &Cron, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        cron.find_next_occurrence(&t.with_timezone(&tz), false).ok().map(|d| d.with_timezone(&Utc))
    }

    /// The last cron occurrence at or before `t`.
    fn cron_at_or_before(cron: &Cron, tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        cron.find_previous_occurrence(&t.with_timezone(&tz), true).ok().map(|d| d.with_timezone(&Utc))
    }

    /// When a job with this schedule, created (or resumed) at `now`, is
    /// first expected to run.
    pub fn first_expected(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expected::None => None,
            Expected::Cron { cron, tz, .. } => Self::cron_after(cron, *tz, now),
            Expected::Interval(period) => Some(now + *period),
            Expected::NextRun(at) => at.filter(|t| *t > now),
            Expected::BusinessDays { inner, calendar, tz } => {
                let first = inner.first_expected(now)?;
                business_occurrence(inner, calendar, *tz, first)
            }
        }
    }

    /// The occurrence after `occurrence` (used when an expected run was missed).
    pub fn following(&self, occurrence: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expected::None | Expected::NextRun(_) => None,
            Expected::Cron { cron, tz, .. } => Self::cron_after(cron, *tz, occurrence),
            Expected::Interval(period) => Some(occurrence + *period),
            Expected::BusinessDays { inner, calendar, tz } => {
                let next = inner.following(occurrence)?;
                business_occurrence(inner, calendar, *tz, next)
            }
        }
    }

    /// When the next run is expected after a run that started at `start`.
    pub fn next_after_run(&self, start: DateTime<Utc>, grace: Duration) -> Option<DateTime<Utc>> {
        match self {
            Expected::None => None,
            Expected::Interval(period) => Some(start + *period),
            // A run that starts well before Veeam's next run does not serve it.
            Expected::NextRun(at) => at.filter(|t| *t - start > grace),
            Expected::Cron { cron, tz, .. } => {
                let next = Self::cron_after(cron, *tz, start)?;
                let previous = Self::cron_at_or_before(cron, *tz, start);
                let early_window = match previous {
                    Some(previous) => grace.min((next - previous) / 2),
                    None => grace,
                };
                if next - start <= early_window {
                    // An early start: it served `next`.
                    Self::cron_after(cron, *tz, next)
                } else {
                    Some(next)
                }
            }
            Expected::BusinessDays { inner, calendar, tz } => match inner.as_ref() {
                // As for a plain cron schedule, among the business-day
                // occurrences only: a run on a closed day serves none of
                // them (the next is the first business day's), and the
                // early window is measured from the last business-day one.
                Expected::Cron { cron, tz: cron_tz, .. } => {
                    let after = Self::cron_after(cron, *cron_tz, start)?;
                    let next = business_occurrence(inner, calendar, *tz, after)?;
                    let previous = business_occurrence_at_or_before(cron, *cron_tz, calendar, *tz, start);
                    let early_window = match previous {
                        Some(previous) => grace.min((next - previous) / 2),
                        None => grace,
                    };
                    if next - start <= early_window { self.following(next) } else { Some(next) }
                }
                _ => {
                    let next = inner.next_after_run(start, grace)?;
                    business_occurrence(inner, calendar, *tz, next)
                }
            },
        }
    }

    /// The schedule in words, in `locale`: "every day at 02:00 (JST)".
    pub fn describe(&self, locale: Locale) -> String {
        match self {
            Expected::None => td_string!(locale, jobs.schedule.none).to_string(),
            Expected::Interval(period) => describe_interval(locale, period.num_seconds()),
            Expected::Cron { tz, text, .. } => describe_cron(locale, text, *tz),
            Expected::NextRun(_) => td_string!(locale, jobs.schedule.veeam_next_run).to_string(),
            Expected::BusinessDays { inner, .. } => inner.describe(locale),
        }
    }
}

/// The date of `t` in `tz`.
fn date_in(tz: Tz, t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// The first instant of `day` in `tz` (after a gap when midnight is skipped).
fn start_of(tz: Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    (0..3)
        .find_map(|h| tz.from_local_datetime(&(midnight + Duration::hours(h))).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// `candidate`, an occurrence of `inner`, or the first later occurrence on a
/// business day: cron jumps to the first business day's occurrences, an
/// interval moves by whole days keeping its time of day, Veeam's one known
/// run is not expected on a closed day. Looks at most [`MAX_SEARCH_DAYS`] ahead.
fn business_occurrence(
    inner: &Expected,
    calendar: &BusinessCalendar,
    tz: Tz,
    candidate: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let limit = candidate + Duration::days(MAX_SEARCH_DAYS);
    let mut t = candidate;
    while t <= limit {
        let day = date_in(tz, t);
        if calendar.is_business_day(day) {
            return Some(t);
        }
        let open = calendar.business_day_from(day.succ_opt()?)?;
        t = match inner {
            Expected::Cron { cron, tz: cron_tz, .. } => {
                let from = start_of(tz, open)?.with_timezone(cron_tz);
                cron.find_next_occurrence(&from, true).ok()?.with_timezone(&Utc)
            }
            Expected::Interval(_) => {
                let local = t.with_timezone(&tz).naive_local() + Duration::days((open - day).num_days());
                let moved = tz.from_local_datetime(&local);
                moved.earliest().or_else(|| moved.latest()).map(|m| m.with_timezone(&Utc))?
            }
            _ => return None,
        };
    }
    None
}

/// The last occurrence of `cron` at or before `t` on a business day (dates
/// in `tz`), looking at most [`MAX_SEARCH_DAYS`] back.
fn business_occurrence_at_or_before(
    cron: &Cron,
    cron_tz: Tz,
    calendar: &BusinessCalendar,
    tz: Tz,
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let limit = t - Duration::days(MAX_SEARCH_DAYS);
    let mut at = Expected::cron_at_or_before(cron, cron_tz, t)?;
    while at >= limit {
        let day = date_in(tz, at);
        if calendar.is_business_day(day) {
            return Some(at);
        }
        // Just before the closed day began.
        at = Expected::cron_at_or_before(cron, cron_tz, start_of(tz, day)? - Duration::seconds(1))?;
    }
    None
}

fn describe_interval(locale: Locale, seconds: i64) -> String {
    let (n, unit) = if seconds % 86_400 == 0 {
        (seconds / 86_400, td_string!(locale, jobs.schedule.days).to_string())
    } else if seconds % 3600 == 0 {
        (seconds / 3600, td_string!(locale, jobs.schedule.hours).to_string())
    } else {
        (seconds / 60, td_string!(locale, jobs.schedule.minutes).to_string())
    };
    td_string!(locale, jobs.schedule.every_interval, n = n, unit = unit).to_string()
}

/// The time zone's abbreviation right now (JST, CET/CEST...), or its name.
fn zone_label(tz: Tz) -> String {
    let abbreviation = Utc::now().with_timezone(&tz).format("%Z").to_string();
    if abbreviation.starts_with('+') || abbreviation.starts_with('-') {
        tz.name().to_owned()
    } else {
        abbreviation
    }
}

fn weekday_name(locale: Locale, day: u32) -> String {
    match day % 7 {
        0 => td_string!(locale, jobs.schedule.sun),
        1 => td_string!(locale, jobs.schedule.mon),
        2 => td_string!(locale, jobs.schedule.tue),
        3 => td_string!(locale, jobs.schedule.wed),
        4 => td_string!(locale, jobs.schedule.thu),
        5 => td_string!(locale, jobs.schedule.fri),
        _ => td_string!(locale, jobs.schedule.sat),
    }
    .to_string()
}

/// Words for the common shapes (daily, weekly, monthly, hourly, every N
/// minutes); anything else is shown as the expression itself.
fn describe_cron(locale: Locale, text: &str, tz: Tz) -> String {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let fields = match fields.len() {
        5 => fields,
        6 if fields[0] == "0" => fields[1..].to_vec(),
        _ => return td_string!(locale, jobs.schedule.cron_raw, expr = text, zone = tz.name()).to_string(),
    };
    let zone = zone_label(tz);
    let (minute, hour, dom, month, dow) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
    let number = |s: &str| s.parse::<u32>().ok();
    if let (Some(m), Some(h)) = (number(minute), number(hour)) {
        let time = format!("{h:02}:{m:02}");
        if dom == "*" && month == "*" {
            if dow == "*" {
                return td_string!(locale, jobs.schedule.daily, time = time, zone = zone).to_string();
            }
            if let Some(days) = parse_weekdays(dow) {
                let separator = td_string!(locale, jobs.schedule.day_separator).to_string();
                let names =
                    days.iter().map(|d| weekday_name(locale, *d)).collect::<Vec<_>>().join(&separator);
                return td_string!(locale, jobs.schedule.weekly, days = names, time = time, zone = zone)
                    .to_string();
            }
        }
        if let (Some(day), "*", "*") = (number(dom), month, dow) {
            return td_string!(locale, jobs.schedule.monthly, day = day, time = time, zone = zone)
                .to_string();
        }
    }
    if hour == "*" && dom == "*" && month == "*" && dow == "*" {
        if let Some(m) = number(minute) {
            return td_string!(locale, jobs.schedule.hourly, minute = format!("{m:02}")).to_string();
        }
        if let Some(step) = minute.strip_prefix("*/").and_then(number) {
            return td_string!(
                locale,
                jobs.schedule.every_interval,
                n = step,
                unit = td_string!(locale, jobs.schedule.minutes)
            )
            .to_string();
        }
    }
    td_string!(locale, jobs.schedule.cron_raw, expr = text, zone = tz.name()).to_string()
}

/// `1-5`, `1,3,5`, `MON-FRI`: the listed weekdays (0 = Sunday).
fn parse_weekdays(field: &str) -> Option<Vec<u32>> {
    const NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    let day = |s: &str| -> Option<u32> {
        s.parse::<u32>()
            .ok()
            .filter(|d| *d <= 7)
            .map(|d| d % 7)
            .or_else(|| NAMES.iter().position(|n| n.eq_ignore_ascii_case(s)).map(|p| p as u32))
    };
    let mut days = vec![];
    for part in field.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                if a > b {
                    return None;
                }
                days.extend(a..=b);
            }
            None => days.push(day(part)?),
        }
    }
    days.sort_unstable();
    days.dedup();
    Some(days)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn cron(expr: &str, zone: &str) -> Expected {
        let schedule = Schedule {
            kind: ScheduleKind::Cron,
            cron: Some(expr.into()),
            timezone: Some(zone.into()),
            interval_seconds: None,
        };
        Expected::parse(&schedule, chrono_tz::UTC).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_cron_firing_more_than_once_a_minute_is_refused() {
        let parse = |expr: &str| {
            let schedule = Schedule {
                kind: ScheduleKind::Cron,
                cron: Some(expr.into()),
                timezone: Some("UTC".into()),
                interval_seconds: None,
            };
            Expected::parse(&schedule, chrono_tz::UTC)
        };
        for expr in ["* * * * * *", "*/30 * * * * *", "0,1 * * * * *", "* 0 3 * * *"] {
            assert_eq!(parse(expr).err(), Some(ScheduleError::TooFrequent), "{expr}");
        }
        for expr in ["* * * * *", "30 * * * * *", "*/5 * * * *", "0 2 * * *"] {
            assert!(parse(expr).is_ok(), "{expr}");
        }
    }

    #[test]
    fn a_nightly_job_in_tokyo_is_expected_at_two_local_time() {
        let nightly = cron("0 2 * * *", "Asia/Tokyo");
        // 02:00 JST is 17:00 UTC the day before.
        assert_eq!(nightly.first_expected(utc("2026-11-22T10:00:00Z")), Some(utc("2026-11-22T17:00:00Z")));
        let grace = Duration::hours(1);
        // On time, late or a little early: tomorrow 02:00 JST.
        for start in ["2026-11-22T17:00:00Z", "2026-11-22T17:40:00Z", "2026-11-22T16:55:00Z"] {
            assert_eq!(
                nightly.next_after_run(utc(start), grace),
                Some(utc("2026-11-23T17:00:00Z")),
                "{start}"
            );
        }
        // An ad-hoc run in the evening does not excuse the night's run.
        assert_eq!(
            nightly.next_after_run(utc("2026-11-22T11:00:00Z"), grace),
            Some(utc("2026-11-22T17:00:00Z"))
        );
    }

    #[test]
    fn new_york_spring_forward_runs_after_the_gap_and_keeps_local_time_afterwards() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT. A 02:30 job has no 02:30 that day.
        let job = cron("30 2 * * *", "America/New_York");
        let before = utc("2026-03-07T12:00:00Z");
        let first = job.first_expected(before).unwrap();
        assert_eq!(first, utc("2026-03-08T07:00:00Z"), "03:00 EDT, the first instant after the gap");
        // The day after: back to 02:30 local, now EDT (UTC-4).
        assert_eq!(job.following(first), Some(utc("2026-03-09T06:30:00Z")));
    }

    #[test]
    fn new_york_fall_back_runs_once_in_the_repeated_hour() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
        let job = cron("30 1 * * *", "America/New_York");
        let first = job.first_expected(utc("2026-10-31T12:00:00Z")).unwrap();
        assert_eq!(first, utc("2026-11-01T05:30:00Z"), "01:30 EDT");
        let next = job.following(first).unwrap();
        assert_eq!(next, utc("2026-11-02T06:30:00Z"), "not again at 01:30 EST the same night");
    }

    #[test]
    fn berlin_daily_jobs_follow_summer_time() {
        let job = cron("0 3 * * *", "Europe/Berlin");
        // 2026-03-29 02:00 CET -> 03:00 CEST.
        let saturday = job.first_expected(utc("2026-03-28T00:00:00Z")).unwrap();
        assert_eq!(saturday, utc("2026-03-28T02:00:00Z"), "03:00 CET");
        let sunday = job.following(saturday).unwrap();
        assert_eq!(sunday, utc("2026-03-29T01:00:00Z"), "03:00 CEST");
        let monday = job.following(sunday).unwrap();
        assert_eq!(monday - sunday, Duration::hours(24));
    }

    #[test]
    fn interval_schedules_count_from_the_last_run() {
        let hourly = Expected::parse(
            &Schedule { kind: ScheduleKind::Interval, interval_seconds: Some(3600), ..Default::default() },
            chrono_tz::UTC,
        )
        .unwrap();
        assert_eq!(
            hourly.next_after_run(utc("2026-11-22T10:07:00Z"), Duration::minutes(5)),
            Some(utc("2026-11-22T11:07:00Z"))
        );
        assert_eq!(hourly.following(utc("2026-11-22T11:07:00Z")), Some(utc("2026-11-22T12:07:00Z")));
    }

    #[test]
    fn frequent_cron_jobs_do_not_skip_an_occurrence_for_an_early_run() {
        // Every 5 minutes with an hour of grace: early means at most 2.5 minutes.
        let job = cron("*/5 * * * *", "UTC");
        let grace = Duration::hours(1);
        assert_eq!(job.next_after_run(utc("2026-11-22T10:04:00Z"), grace), Some(utc("2026-11-22T10:10:00Z")));
        assert_eq!(job.next_after_run(utc("2026-11-22T10:01:00Z"), grace), Some(utc("2026-11-22T10:05:00Z")));
    }

    #[test]
    fn invalid_schedules_name_their_field() {
        let bad = |kind, cron: Option<&str>, zone: Option<&str>, interval| Schedule {
            kind,
            cron: cron.map(Into::into),
            timezone: zone.map(Into::into),
            interval_seconds: interval,
        };
        let cases = [
            (bad(ScheduleKind::Cron, Some("not cron"), None, None), "schedule.cron"),
            (bad(ScheduleKind::Cron, None, None, None), "schedule.cron"),
            (bad(ScheduleKind::Cron, Some("0 0 31 2 *"), None, None), "schedule.cron"),
            (bad(ScheduleKind::Cron, Some("0 2 * * *"), Some("Mars/Olympus"), None), "schedule.timezone"),
            (bad(ScheduleKind::Interval, None, None, Some(10)), "schedule.interval_seconds"),
            (bad(ScheduleKind::Interval, None, None, None), "schedule.interval_seconds"),
        ];
        for (schedule, field) in cases {
            let error = Expected::parse(&schedule, chrono_tz::UTC).unwrap_err();
            assert_eq!(error.field(), field, "{schedule:?}");
            assert!(!error.message(Locale::ja).is_empty());
        }
    }

    #[test]
    fn schedules_are_described_in_both_languages() {
        let nightly = cron("0 2 * * *", "Asia/Tokyo");
        assert_eq!(nightly.describe(Locale::en), "every day at 02:00 (JST)");
        assert_eq!(nightly.describe(Locale::ja), "毎日 02:00 (JST)");
        let weekdays = cron("30 22 * * 1-5", "Asia/Tokyo");
        assert_eq!(weekdays.describe(Locale::en), "every Mon, Tue, Wed, Thu, Fri at 22:30 (JST)");
        assert_eq!(cron("15 * * * *", "UTC").describe(Locale::en), "every hour at minute 15");
        assert_eq!(cron("*/10 * * * *", "UTC").describe(Locale::en), "every 10 minutes");
        assert_eq!(cron("0 4 1 * *", "UTC").describe(Locale::en), "on day 1 of every month at 04:00 (UTC)");
        assert!(cron("0 4 1-7 * 1", "UTC").describe(Locale::en).contains("0 4 1-7 * 1"));
    }

    fn business_days(expected: Expected) -> Expected {
        use crate::ssr::jobs::calendar::Closure;
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let closures = vec![Closure {
            id: 1,
            first_day: day("2026-12-29"),
            last_day: day("2027-01-03"),
            name: "年末年始".into(),
        }];
        let calendar = std::sync::Arc::new(crate::ssr::jobs::calendar::BusinessCalendar::new(true, closures));
        expected.on_business_days(calendar, chrono_tz::Asia::Tokyo)
    }

    #[test]
    fn a_business_days_schedule_skips_weekends_holidays_and_closures() {
        let nightly = business_days(cron("0 2 * * *", "Asia/Tokyo"));
        // Friday 2026-12-04 02:00 JST is followed by Monday's, not Saturday's.
        assert_eq!(nightly.following(utc("2026-12-03T17:00:00Z")), Some(utc("2026-12-06T17:00:00Z")));
        // 勤労感謝の日 (Monday 11/23) is skipped.
        assert_eq!(nightly.following(utc("2026-11-19T17:00:00Z")), Some(utc("2026-11-23T17:00:00Z")));
        // The year-end closure: from Monday 12/28 to Monday 1/4.
        assert_eq!(nightly.following(utc("2026-12-27T17:00:00Z")), Some(utc("2027-01-03T17:00:00Z")));
        // Created on a Saturday: first expected on Monday.
        assert_eq!(nightly.first_expected(utc("2026-12-05T03:00:00Z")), Some(utc("2026-12-06T17:00:00Z")));
        // A closed-day occurrence settles on the next business day; an open one stays.
        assert_eq!(nightly.skip_closed(utc("2026-12-04T17:00:00Z")), Some(utc("2026-12-06T17:00:00Z")));
        assert_eq!(nightly.skip_closed(utc("2026-12-06T17:00:00Z")), Some(utc("2026-12-06T17:00:00Z")));
        assert_eq!(nightly.to_schedule(), cron("0 2 * * *", "Asia/Tokyo").to_schedule());
        assert_eq!(nightly.describe(Locale::en), "every day at 02:00 (JST)");
    }

    #[test]
    fn a_run_on_a_closed_day_does_not_use_up_the_next_business_day() {
        let nightly = business_days(cron("0 2 * * *", "Asia/Tokyo"));
        let grace = Duration::hours(1);
        // On Friday: next Monday.
        assert_eq!(
            nightly.next_after_run(utc("2026-12-03T17:05:00Z"), grace),
            Some(utc("2026-12-06T17:00:00Z"))
        );
        // On Saturday (closed): still Monday.
        assert_eq!(
            nightly.next_after_run(utc("2026-12-04T17:00:00Z"), grace),
            Some(utc("2026-12-06T17:00:00Z"))
        );
        // Early for Monday (Monday 01:30): it served Monday, next Tuesday.
        assert_eq!(
            nightly.next_after_run(utc("2026-12-06T16:30:00Z"), grace),
            Some(utc("2026-12-07T17:00:00Z"))
        );
    }

    #[test]
    fn an_interval_landing_on_a_closed_day_moves_by_whole_days() {
        let every_day = business_days(
            Expected::parse(
                &Schedule {
                    kind: ScheduleKind::Interval,
                    interval_seconds: Some(86_400),
                    ..Default::default()
                },
                chrono_tz::UTC,
            )
            .unwrap(),
        );
        // Friday 2026-12-04 10:07 JST + 24 h is Saturday: Monday 10:07 JST.
        let friday = utc("2026-12-04T01:07:00Z");
        assert_eq!(every_day.next_after_run(friday, Duration::hours(1)), Some(utc("2026-12-07T01:07:00Z")));
        assert_eq!(every_day.following(friday), Some(utc("2026-12-07T01:07:00Z")));
        assert_eq!(every_day.first_expected(utc("2026-12-07T01:07:00Z")), Some(utc("2026-12-08T01:07:00Z")));
    }

    #[test]
    fn a_calendar_closed_for_ever_expects_nothing_instead_of_looping() {
        use crate::ssr::jobs::calendar::{BusinessCalendar, Closure};
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let closed = vec![
            Closure { id: 1, first_day: day("2026-01-01"), last_day: day("2026-12-31"), name: "a".into() },
            Closure { id: 2, first_day: day("2027-01-01"), last_day: day("2027-12-31"), name: "b".into() },
        ];
        let calendar = std::sync::Arc::new(BusinessCalendar::new(true, closed));
        let nightly = cron("0 2 * * *", "Asia/Tokyo").on_business_days(calendar, chrono_tz::Asia::Tokyo);
        assert_eq!(nightly.first_expected(utc("2026-03-01T00:00:00Z")), None);
        assert_eq!(nightly.next_after_run(utc("2026-03-01T00:00:00Z"), Duration::hours(1)), None);
    }

    proptest! {
        #[test]
        fn the_next_expected_time_is_always_after_the_run(
            minute in 0u32..60, hour in 0u32..24, offset_minutes in 0i64..(400 * 24 * 60),
            zone in prop::sample::select(vec!["Asia/Tokyo", "America/New_York", "Europe/Berlin", "UTC", "Australia/Lord_Howe"]),
            grace_minutes in 0i64..(48 * 60),
        ) {
            let job = cron(&format!("{minute} {hour} * * *"), zone);
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(offset_minutes);
            let next = job.next_after_run(start, Duration::minutes(grace_minutes)).unwrap();
            prop_assert!(next > start);
            let following = job.following(next).unwrap();
            prop_assert!(following > next);
        }

        #[test]
        fn interval_next_times_are_strictly_later(seconds in MIN_INTERVAL_SECONDS..MAX_INTERVAL_SECONDS, offset in 0i64..10_000_000) {
            let job = Expected::parse(
                &Schedule { kind: ScheduleKind::Interval, interval_seconds: Some(seconds), ..Default::default() },
                chrono_tz::UTC,
            ).unwrap();
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::seconds(offset);
            prop_assert!(job.next_after_run(start, Duration::hours(1)).unwrap() > start);
        }
    }
}
