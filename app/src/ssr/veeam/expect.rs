//! What the console expects of a Veeam job, read from Veeam: its schedule
//! mapped to a cron expression or an interval in the VBR server's time
//! zone when it maps, Veeam's own `nextRun` when it does not (after-this-job
//! chains, continuous jobs, periodic jobs inside a backup window), and
//! whether the job will run by itself at all (`disabled`, `unscheduled`).
//! Pure: no database, no network.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::wire::{
    BackupSchedule, DailyKind, DayNumberInMonth, DayOfWeek, JobModel, JobStateModel, JobStatus, Month,
    PeriodicallyKind, ServerTime,
};
use crate::ssr::jobs::VeeamSchedule;

/// The VBR server's time zone: its IANA id (1.3), else the Windows display
/// name's UTC offset as an `Etc/GMT` zone (no daylight saving), else `fallback`.
pub fn server_zone(time: &ServerTime, fallback: Tz) -> Tz {
    if let Some(zone) = time.iana_time_zone_id.as_deref().and_then(|z| Tz::from_str(z.trim()).ok()) {
        return zone;
    }
    let Some(display) = time.time_zone.as_deref() else { return fallback };
    if let Ok(zone) = Tz::from_str(display.trim()) {
        return zone;
    }
    // "(UTC+09:00) Osaka, Sapporo, Tokyo", "(UTC) Coordinated Universal Time".
    let Some(inner) = display.trim().strip_prefix("(UTC").and_then(|rest| rest.split(')').next()) else {
        return fallback;
    };
    if inner.is_empty() {
        return Tz::UTC;
    }
    let (sign, rest) = match inner.split_at(1) {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return fallback,
    };
    let mut parts = rest.split(':');
    let hours: Option<i32> = parts.next().and_then(|h| h.parse().ok());
    let minutes: i32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    match hours {
        Some(0) if minutes == 0 => Tz::UTC,
        // Etc/GMT zones have the sign the other way round.
        Some(h) if minutes == 0 && (1..=14).contains(&h) => {
            Tz::from_str(&format!("Etc/GMT{}{h}", if sign > 0 { '-' } else { '+' })).unwrap_or(fallback)
        }
        _ => fallback,
    }
}

/// `HH:MM[:SS]` (or a date and time) as (hour, minute).
fn local_time(text: Option<&str>) -> Option<(u32, u32)> {
    let text = text?.trim();
    let time = text.rsplit('T').next().unwrap_or(text);
    let mut parts = time.split(':');
    let hour: u32 = parts.next()?.trim().parse().ok()?;
    let minute: u32 = parts.next().map_or(Some(0), |m| m.trim().get(..2).unwrap_or(m).parse().ok())?;
    (hour < 24 && minute < 60).then_some((hour, minute))
}

fn weekday_number(day: &DayOfWeek) -> Option<u32> {
    Some(match day {
        DayOfWeek::Sunday => 0,
        DayOfWeek::Monday => 1,
        DayOfWeek::Tuesday => 2,
        DayOfWeek::Wednesday => 3,
        DayOfWeek::Thursday => 4,
        DayOfWeek::Friday => 5,
        DayOfWeek::Saturday => 6,
        DayOfWeek::Unknown(_) => return None,
    })
}

fn month_number(month: &Month) -> Option<u32> {
    Some(match month {
        Month::January => 1,
        Month::February => 2,
        Month::March => 3,
        Month::April => 4,
        Month::May => 5,
        Month::June => 6,
        Month::July => 7,
        Month::August => 8,
        Month::September => 9,
        Month::October => 10,
        Month::November => 11,
        Month::December => 12,
        Month::Unknown(_) => return None,
    })
}

/// What a schedule maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mapped {
    Cron(String),
    Interval(i64),
    /// Only Veeam's next run can say; the summary says why.
    NextRun(String),
    /// Nothing starts the job by itself.
    Unscheduled,
}

/// Whether a backup window keeps the job from starting at some hours.
fn restricts(window: Option<&super::wire::BackupWindowSetting>) -> bool {
    window.is_some_and(|w| w.days.iter().any(|d| d.hours.split(',').any(|h| h.trim() == "0")))
}

fn map_schedule(schedule: &BackupSchedule) -> Mapped {
    if !schedule.run_automatically {
        return Mapped::Unscheduled;
    }
    if let Some(daily) = schedule.daily.as_ref().filter(|d| d.is_enabled) {
        let Some((hour, minute)) = local_time(daily.local_time.as_deref()) else {
            return Mapped::NextRun("daily".into());
        };
        let days = match daily.daily_kind.as_ref().unwrap_or(&DailyKind::Everyday) {
            DailyKind::Everyday => "*".to_owned(),
            DailyKind::WeekDays => "1-5".to_owned(),
            DailyKind::SelectedDays | DailyKind::Unknown(_) => {
                let mut numbers: Vec<u32> = daily.days.iter().filter_map(weekday_number).collect();
                numbers.sort_unstable();
                numbers.dedup();
                match numbers.len() {
                    0 => return Mapped::Unscheduled,
                    7 => "*".to_owned(),
                    _ => numbers.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
                }
            }
        };
        return Mapped::Cron(format!("{minute} {hour} * * {days}"));
    }
    if let Some(monthly) = schedule.monthly.as_ref().filter(|m| m.is_enabled) {
        let Some((hour, minute)) = local_time(monthly.local_time.as_deref()) else {
            return Mapped::NextRun("monthly".into());
        };
        let mut months: Vec<u32> = monthly.months.iter().filter_map(month_number).collect();
        months.sort_unstable();
        months.dedup();
        let months = if months.is_empty() || months.len() == 12 {
            "*".to_owned()
        } else {
            months.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
        };
        let weekday = monthly.day_of_week.as_ref().and_then(weekday_number);
        let (dom, dow) = match (monthly.day_number_in_month.as_ref(), weekday) {
            _ if monthly.is_last_day_of_month == Some(true) => ("L".to_owned(), "*".to_owned()),
            (Some(DayNumberInMonth::OnDay) | None, _) => match monthly.day_of_month {
                Some(day) if (1..=31).contains(&day) => (day.to_string(), "*".to_owned()),
                _ => return Mapped::NextRun("monthly".into()),
            },
            (Some(DayNumberInMonth::First), Some(d)) => ("*".to_owned(), format!("{d}#1")),
            (Some(DayNumberInMonth::Second), Some(d)) => ("*".to_owned(), format!("{d}#2")),
            (Some(DayNumberInMonth::Third), Some(d)) => ("*".to_owned(), format!("{d}#3")),
            (Some(DayNumberInMonth::Fourth), Some(d)) => ("*".to_owned(), format!("{d}#4")),
            (Some(DayNumberInMonth::Last), Some(d)) => ("*".to_owned(), format!("{d}L")),
            _ => return Mapped::NextRun("monthly".into()),
        };
        return Mapped::Cron(format!("{minute} {hour} {dom} {months} {dow}"));
    }
    if let Some(periodic) = schedule.periodically.as_ref().filter(|p| p.is_enabled) {
        if restricts(periodic.backup_window.as_ref()) {
            return Mapped::NextRun("window".into());
        }
        let n = periodic.frequency.unwrap_or(1).max(1);
        let offset = periodic.start_time_within_an_hour.unwrap_or(0).clamp(0, 59);
        return match periodic.periodically_kind.as_ref().unwrap_or(&PeriodicallyKind::Hours) {
            PeriodicallyKind::Hours if n == 1 => Mapped::Cron(format!("{offset} * * * *")),
            PeriodicallyKind::Hours if n < 24 && 24 % n == 0 => Mapped::Cron(format!("{offset} */{n} * * *")),
            PeriodicallyKind::Hours => Mapped::Interval(n * 3600),
            PeriodicallyKind::Minutes if n < 60 && 60 % n == 0 => Mapped::Cron(format!("*/{n} * * * *")),
            PeriodicallyKind::Minutes if n >= 1 => Mapped::Interval(n * 60),
            PeriodicallyKind::Days => Mapped::Interval(n * 86_400),
            _ => Mapped::NextRun(format!("seconds:{n}")),
        };
    }
    if schedule.continuously.as_ref().is_some_and(|c| c.is_enabled) {
        return Mapped::NextRun("continuous".into());
    }
    if let Some(after) = schedule.after_this_job.as_ref().filter(|a| a.is_enabled) {
        return Mapped::NextRun(format!("after:{}", after.job_name.as_deref().unwrap_or("").trim()));
    }
    Mapped::Unscheduled
}

/// The expectation of one Veeam job: its definition from `/jobs` (absent
/// for job kinds Veeam leaves out of that list) and its state from
/// `/jobs/states`, in the server's zone `tz`.
pub fn expectation(definition: Option<&JobModel>, state: &JobStateModel, tz: Tz) -> VeeamSchedule {
    let next_run_at: Option<DateTime<Utc>> = state.next_run;
    let disabled = definition.is_some_and(|d| d.is_disabled) || state.status == JobStatus::Disabled;
    let base = VeeamSchedule {
        kind: "none",
        cron: None,
        timezone: None,
        interval_seconds: None,
        summary: None,
        next_run_at,
        state: "scheduled",
    };
    if disabled {
        return VeeamSchedule { state: "disabled", next_run_at: None, ..base };
    }
    let Some(schedule) = definition.and_then(|d| d.schedule.as_ref()) else {
        // A job kind `/jobs` does not describe: Veeam's next run is all there is.
        return match next_run_at {
            Some(_) => VeeamSchedule { kind: "next_run", ..base },
            None => base,
        };
    };
    match map_schedule(schedule) {
        Mapped::Cron(cron) => {
            VeeamSchedule { kind: "cron", cron: Some(cron), timezone: Some(tz.name().to_owned()), ..base }
        }
        Mapped::Interval(seconds) => {
            VeeamSchedule { kind: "interval", interval_seconds: Some(seconds), ..base }
        }
        Mapped::NextRun(summary) => VeeamSchedule { kind: "next_run", summary: Some(summary), ..base },
        Mapped::Unscheduled => VeeamSchedule { state: "unscheduled", next_run_at: None, ..base },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{model::schedule::Schedule, ssr::jobs::schedule::Expected};

    fn job(schedule: serde_json::Value) -> JobModel {
        serde_json::from_value(json!({
            "id": "0f8e0c31-0000-4000-8000-000000000001", "name": "Tokyo FS", "type": "VSphereBackup",
            "isDisabled": false, "schedule": schedule,
        }))
        .expect("a job")
    }

    fn state(status: &str, next_run: Option<&str>) -> JobStateModel {
        let mut body = json!({
            "id": "0f8e0c31-0000-4000-8000-000000000001", "name": "Tokyo FS", "type": "VSphereBackup",
            "description": "", "status": status, "lastResult": "Success", "workload": "Vm", "objectsCount": 3,
        });
        if let Some(next) = next_run {
            body["nextRun"] = json!(next);
        }
        serde_json::from_value(body).expect("a state")
    }

    fn mapped(schedule: serde_json::Value) -> VeeamSchedule {
        expectation(
            Some(&job(schedule)),
            &state("Inactive", Some("2026-12-04T22:00:00+09:00")),
            Tz::Asia__Tokyo,
        )
    }

    /// The cron text must be one the console's schedule parser takes.
    fn parses(cron: &str) {
        let schedule = Schedule {
            kind: crate::model::schedule::ScheduleKind::Cron,
            cron: Some(cron.to_owned()),
            timezone: Some("Asia/Tokyo".into()),
            interval_seconds: None,
        };
        assert!(Expected::parse(&schedule, Tz::UTC).is_ok(), "{cron}");
    }

    #[test]
    fn daily_weekly_and_monthly_schedules_become_cron_in_the_servers_zone() {
        let daily = mapped(
            json!({"runAutomatically": true, "daily": {"isEnabled": true, "localTime": "22:00", "dailyKind": "Everyday"}}),
        );
        assert_eq!(
            (daily.kind, daily.cron.as_deref(), daily.timezone.as_deref()),
            ("cron", Some("0 22 * * *"), Some("Asia/Tokyo"))
        );
        let weekdays = mapped(
            json!({"runAutomatically": true, "daily": {"isEnabled": true, "localTime": "01:30:00", "dailyKind": "WeekDays"}}),
        );
        assert_eq!(weekdays.cron.as_deref(), Some("30 1 * * 1-5"));
        let selected = mapped(
            json!({"runAutomatically": true, "daily": {"isEnabled": true, "localTime": "23:15", "dailyKind": "SelectedDays", "days": ["saturday", "Sunday"]}}),
        );
        assert_eq!(selected.cron.as_deref(), Some("15 23 * * 0,6"));
        let monthly = mapped(
            json!({"runAutomatically": true, "monthly": {"isEnabled": true, "localTime": "03:00", "dayNumberInMonth": "OnDay", "dayOfMonth": 5, "months": []}}),
        );
        assert_eq!(monthly.cron.as_deref(), Some("0 3 5 * *"));
        let second_monday = mapped(
            json!({"runAutomatically": true, "monthly": {"isEnabled": true, "localTime": "03:00", "dayNumberInMonth": "Second", "dayOfWeek": "Monday", "months": ["January", "July"]}}),
        );
        assert_eq!(second_monday.cron.as_deref(), Some("0 3 * 1,7 1#2"));
        let last_friday = mapped(
            json!({"runAutomatically": true, "monthly": {"isEnabled": true, "localTime": "03:00", "dayNumberInMonth": "Last", "dayOfWeek": "friday"}}),
        );
        assert_eq!(last_friday.cron.as_deref(), Some("0 3 * * 5L"));
        for cron in [
            "0 22 * * *",
            "30 1 * * 1-5",
            "15 23 * * 0,6",
            "0 3 5 * *",
            "0 3 * 1,7 1#2",
            "0 3 * * 5L",
            "0 3 L * *",
            "10 */4 * * *",
        ] {
            parses(cron);
        }
    }

    #[test]
    fn periodic_schedules_become_cron_or_an_interval_and_windows_use_next_run() {
        let every_four = mapped(
            json!({"runAutomatically": true, "periodically": {"isEnabled": true, "periodicallyKind": "Hours", "frequency": 4, "startTimeWithinAnHour": 10}}),
        );
        assert_eq!(every_four.cron.as_deref(), Some("10 */4 * * *"));
        let every_five = mapped(
            json!({"runAutomatically": true, "periodically": {"isEnabled": true, "periodicallyKind": "Hours", "frequency": 5}}),
        );
        assert_eq!((every_five.kind, every_five.interval_seconds), ("interval", Some(5 * 3600)));
        let days = mapped(
            json!({"runAutomatically": true, "periodically": {"isEnabled": true, "periodicallyKind": "Days", "frequency": 2}}),
        );
        assert_eq!(days.interval_seconds, Some(2 * 86_400));
        let hours = "1,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1,1";
        let windowed = mapped(
            json!({"runAutomatically": true, "periodically": {"isEnabled": true, "periodicallyKind": "Hours", "frequency": 1, "backupWindow": {"days": [{"day": "Monday", "hours": hours}]}}}),
        );
        assert_eq!((windowed.kind, windowed.summary.as_deref()), ("next_run", Some("window")));
        assert!(windowed.next_run_at.is_some());
    }

    #[test]
    fn chains_and_continuous_jobs_follow_veeams_next_run() {
        let chained = mapped(
            json!({"runAutomatically": true, "afterThisJob": {"isEnabled": true, "jobName": "Tokyo SQL"}}),
        );
        assert_eq!(
            (chained.kind, chained.summary.as_deref(), chained.state),
            ("next_run", Some("after:Tokyo SQL"), "scheduled")
        );
        let continuous = mapped(json!({"runAutomatically": true, "continuously": {"isEnabled": true}}));
        assert_eq!(continuous.summary.as_deref(), Some("continuous"));
        // A kind /jobs leaves out: its next run is all there is.
        let unknown = expectation(None, &state("Inactive", Some("2026-12-04T22:00:00+09:00")), Tz::UTC);
        assert_eq!(unknown.kind, "next_run");
    }

    #[test]
    fn a_job_that_will_never_run_by_itself_is_unscheduled_or_disabled() {
        let off =
            mapped(json!({"runAutomatically": false, "daily": {"isEnabled": true, "localTime": "22:00"}}));
        assert_eq!((off.state, off.next_run_at), ("unscheduled", None));
        let nothing = mapped(json!({"runAutomatically": true, "daily": {"isEnabled": false}}));
        assert_eq!(nothing.state, "unscheduled");
        let mut definition =
            job(json!({"runAutomatically": true, "daily": {"isEnabled": true, "localTime": "22:00"}}));
        definition.is_disabled = true;
        let disabled = expectation(Some(&definition), &state("Disabled", None), Tz::UTC);
        assert_eq!(disabled.state, "disabled");
        let by_state = expectation(None, &state("disabled", None), Tz::UTC);
        assert_eq!(by_state.state, "disabled");
    }

    #[test]
    fn the_servers_zone_comes_from_its_iana_id_or_its_offset() {
        let time = |iana: Option<&str>, display: Option<&str>| -> ServerTime {
            let mut body = json!({"serverTime": "2026-12-04T10:00:00+09:00"});
            if let Some(i) = iana {
                body["ianaTimeZoneId"] = json!(i);
            }
            if let Some(d) = display {
                body["timeZone"] = json!(d);
            }
            serde_json::from_value(body).expect("a server time")
        };
        assert_eq!(server_zone(&time(Some("Asia/Tokyo"), None), Tz::UTC), Tz::Asia__Tokyo);
        assert_eq!(
            server_zone(&time(None, Some("(UTC+09:00) Osaka, Sapporo, Tokyo")), Tz::UTC).name(),
            "Etc/GMT-9"
        );
        assert_eq!(server_zone(&time(None, Some("(UTC-05:00) Eastern Time")), Tz::UTC).name(), "Etc/GMT+5");
        assert_eq!(
            server_zone(&time(None, Some("(UTC) Coordinated Universal Time")), Tz::Asia__Tokyo),
            Tz::UTC
        );
        assert_eq!(server_zone(&time(None, Some("(UTC+05:30) Chennai")), Tz::Asia__Tokyo), Tz::Asia__Tokyo);
    }
}
