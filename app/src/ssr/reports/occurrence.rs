//! When a scheduled report is sent: the pure arithmetic of its
//! occurrences (daily, weekly on a weekday, monthly on a day or the last
//! day) at a local time of day in an IANA time zone, through daylight
//! saving changes.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The day of the month of a monthly schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthDay {
    /// 1 to 28 (every month has it).
    Day(u32),
    /// The month's last day (28th to 31st).
    Last,
}

impl MonthDay {
    /// Parses `1` … `28` or `last`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "last" => Some(MonthDay::Last),
            day => day.parse().ok().filter(|d| (1..=28).contains(d)).map(MonthDay::Day),
        }
    }
}

/// Parses `mon` … `sun`.
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    match text.trim() {
        "mon" => Some(Weekday::Mon),
        "tue" => Some(Weekday::Tue),
        "wed" => Some(Weekday::Wed),
        "thu" => Some(Weekday::Thu),
        "fri" => Some(Weekday::Fri),
        "sat" => Some(Weekday::Sat),
        "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

/// Parses `HH:MM` (24-hour, two digits each).
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Which days a schedule is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    /// Every day.
    Daily,
    /// One weekday.
    Weekly(Weekday),
    /// One day of each month.
    Monthly(MonthDay),
}

/// When a schedule is sent: its days, a local time and the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Which days.
    pub days: Recurrence,
    /// The local time of day.
    pub time: NaiveTime,
    /// The zone of `time`.
    pub zone: Tz,
}

fn last_day_of_month(date: NaiveDate) -> bool {
    date.checked_add_days(Days::new(1)).is_none_or(|next| next.month() != date.month())
}

impl Timing {
    /// Whether the schedule is sent on local day `date`.
    pub fn on(&self, date: NaiveDate) -> bool {
        match self.days {
            Recurrence::Daily => true,
            Recurrence::Weekly(day) => date.weekday() == day,
            Recurrence::Monthly(MonthDay::Day(n)) => date.day() == n,
            Recurrence::Monthly(MonthDay::Last) => last_day_of_month(date),
        }
    }

    /// The instant of the occurrence on local day `date`. A time that the
    /// clocks skip (spring forward) is sent at the first instant after the
    /// gap; a time that happens twice (fall back) at the first of the two.
    pub fn at(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = NaiveDateTime::new(date, self.time);
        // Gaps are at most a few hours: look forward in quarter hours
        // until the local time exists.
        for quarter in 0..=16 {
            let shifted = local + chrono::Duration::minutes(15 * quarter);
            if let Some(instant) = self.zone.from_local_datetime(&shifted).earliest() {
                return instant.with_timezone(&Utc);
            }
        }
        // No zone has a gap of four hours; keep a total function anyway.
        Utc.from_utc_datetime(&local)
    }

    /// The first occurrence strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let start = after.with_timezone(&self.zone).date_naive();
        // From the local day before: a time shifted past a gap can spill
        // over midnight, so yesterday's occurrence may still be ahead.
        let mut date = start.pred_opt().unwrap_or(start);
        // A monthly schedule recurs within 31 days; 400 bounds every case.
        for _ in 0..400 {
            if self.on(date) {
                let instant = self.at(date);
                if instant > after {
                    return instant;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        after + chrono::Duration::days(1)
    }

    /// The local day of the occurrence at `at` (what the report's period is
    /// resolved as of).
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn timing(days: Recurrence, time: &str, zone: Tz) -> Timing {
        Timing { days, time: parse_time(time).unwrap(), zone }
    }

    #[test]
    fn a_daily_schedule_is_sent_later_today_or_tomorrow() {
        let t = timing(Recurrence::Daily, "08:00", chrono_tz::Asia::Tokyo);
        assert_eq!(t.next_after(utc("2026-11-30T22:00:00Z")), utc("2026-11-30T23:00:00Z"));
        assert_eq!(t.next_after(utc("2026-11-30T23:00:00Z")), utc("2026-12-01T23:00:00Z"));
    }

    #[test]
    fn a_weekly_schedule_waits_for_its_weekday() {
        // 2026-12-04 is a Friday.
        let t = timing(Recurrence::Weekly(Weekday::Mon), "07:30", chrono_tz::Asia::Tokyo);
        assert_eq!(t.next_after(utc("2026-12-04T00:00:00Z")), utc("2026-12-06T22:30:00Z"));
        assert_eq!(t.local_date(utc("2026-12-06T22:30:00Z")).weekday(), Weekday::Mon);
    }

    #[test]
    fn a_monthly_schedule_on_the_last_day_knows_every_months_length() {
        let t = timing(Recurrence::Monthly(MonthDay::Last), "23:00", chrono_tz::UTC);
        assert_eq!(t.next_after(utc("2026-01-31T23:00:00Z")), utc("2026-02-28T23:00:00Z"));
        assert_eq!(t.next_after(utc("2028-02-01T00:00:00Z")), utc("2028-02-29T23:00:00Z"));
        assert_eq!(t.next_after(utc("2026-04-30T23:30:00Z")), utc("2026-05-31T23:00:00Z"));
        assert_eq!(t.next_after(utc("2026-12-01T00:00:00Z")), utc("2026-12-31T23:00:00Z"));
    }

    #[test]
    fn a_monthly_schedule_on_a_day_comes_once_a_month() {
        let t = timing(Recurrence::Monthly(MonthDay::Day(1)), "06:00", chrono_tz::Asia::Tokyo);
        assert_eq!(
            t.next_after(utc("2026-11-30T21:00:00Z")),
            utc("2026-11-30T21:00:00Z") + chrono::Duration::days(31)
        );
        assert_eq!(t.next_after(utc("2026-11-30T20:59:59Z")), utc("2026-11-30T21:00:00Z"));
        assert_eq!(t.local_date(utc("2026-11-30T21:00:00Z")), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    }

    #[test]
    fn after_several_missed_occurrences_the_next_is_the_first_after_now() {
        let t = timing(Recurrence::Monthly(MonthDay::Day(1)), "06:00", chrono_tz::Asia::Tokyo);
        // Down from August to mid-November: next is December 1st, once.
        assert_eq!(t.next_after(utc("2026-11-15T00:00:00Z")), utc("2026-11-30T21:00:00Z"));
    }

    #[test]
    fn berlin_summer_time_keeps_the_local_time() {
        let t = timing(Recurrence::Daily, "08:00", chrono_tz::Europe::Berlin);
        // CET (UTC+1) before 2026-03-29, CEST (UTC+2) from then.
        assert_eq!(t.next_after(utc("2026-03-28T08:00:00Z")), utc("2026-03-29T06:00:00Z"));
        assert_eq!(t.next_after(utc("2026-10-24T12:00:00Z")), utc("2026-10-25T07:00:00Z"));
    }

    #[test]
    fn a_skipped_local_time_is_sent_after_the_gap_and_a_repeated_one_once() {
        let t = timing(Recurrence::Daily, "02:30", chrono_tz::Europe::Berlin);
        // 02:30 does not exist on 2026-03-29: 03:00 CEST = 01:00 UTC.
        assert_eq!(t.next_after(utc("2026-03-28T12:00:00Z")), utc("2026-03-29T01:00:00Z"));
        // 02:30 happens twice on 2026-10-25: the first (CEST, 00:30 UTC).
        let first = t.next_after(utc("2026-10-24T12:00:00Z"));
        assert_eq!(first, utc("2026-10-25T00:30:00Z"));
        assert_eq!(t.next_after(first), utc("2026-10-26T01:30:00Z"));
    }

    #[test]
    fn every_next_occurrence_is_after_the_instant_and_on_a_matching_day() {
        let zones = [chrono_tz::Asia::Tokyo, chrono_tz::Europe::Berlin, chrono_tz::America::New_York];
        let kinds = [
            Recurrence::Daily,
            Recurrence::Weekly(Weekday::Sun),
            Recurrence::Monthly(MonthDay::Day(28)),
            Recurrence::Monthly(MonthDay::Last),
        ];
        for zone in zones {
            for days in kinds {
                for time in ["00:00", "02:30", "23:59"] {
                    let t = timing(days, time, zone);
                    let mut at = utc("2026-01-01T00:00:00Z");
                    for _ in 0..60 {
                        let next = t.next_after(at);
                        assert!(next > at);
                        assert!(t.on(t.local_date(next)) || time == "02:30", "{zone} {days:?} {time} {next}");
                        at = next;
                    }
                }
            }
        }
    }

    #[test]
    fn inputs_parse_strictly() {
        assert_eq!(MonthDay::parse("last"), Some(MonthDay::Last));
        assert_eq!(MonthDay::parse("28"), Some(MonthDay::Day(28)));
        assert_eq!(MonthDay::parse("29"), None);
        assert_eq!(MonthDay::parse("0"), None);
        assert_eq!(parse_time("07:05"), NaiveTime::from_hms_opt(7, 5, 0));
        assert_eq!(parse_time("7:05"), None);
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_weekday("sun"), Some(Weekday::Sun));
        assert_eq!(parse_weekday("Sunday"), None);
    }
}
