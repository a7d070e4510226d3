//! The business calendar: which days the company works. Saturdays and
//! Sundays are closed, so are Japanese public holidays (when the console is
//! set to keep them) and the company's own closures (年末年始, お盆...).
//!
//! Pure: no database and no clock. The jobs domain loads the closures and
//! keeps the current calendar per process (`calendar_service`); schedules
//! of jobs "expected on business days only" skip the closed days
//! (`schedule::Expected::BusinessDays`).
//!
//! Holidays come from the `jpholiday` crate, pinned at 0.1.4 (0.2 needs a
//! newer compiler). It is wrong for 2021, when the Olympic special measures
//! moved 海の日, スポーツの日 and 山の日 a second time; [`OVERRIDES`] puts
//! the law's dates for 2019–2021 on top of it.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, OnceLock},
};

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The longest closure, in days (a year, leap day included).
pub const MAX_CLOSURE_DAYS: i64 = 366;
/// How far ahead a search for a business day looks before giving up (a
/// calendar closed for longer has no business day as far as schedules go).
pub const MAX_SEARCH_DAYS: i64 = 400;

/// A Japanese public holiday's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    /// The name in Japanese (海の日).
    pub ja: &'static str,
    /// The name in English (Marine Day).
    pub en: &'static str,
}

/// A company closure: every day from `first_day` to `last_day`, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// Its id, once stored.
    pub id: i64,
    /// The first closed day.
    pub first_day: NaiveDate,
    /// The last closed day (not before `first_day`).
    pub last_day: NaiveDate,
    /// What it is (年末年始休業).
    pub name: String,
}

impl Closure {
    /// Whether `day` falls in the closure.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.first_day <= day && day <= self.last_day
    }
}

/// Why a day is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosedReason {
    /// A Japanese public holiday (振替休日 and 国民の休日 included).
    Holiday(Holiday),
    /// A company closure, by its name.
    Closure(String),
    /// Saturday or Sunday.
    Weekend,
}

/// The days the company works, as one immutable value (the console swaps
/// in a new one when the closures change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    japanese_holidays: bool,
    closures: Vec<Closure>,
}

impl Default for BusinessCalendar {
    /// Weekends and Japanese holidays, no closures.
    fn default() -> Self {
        Self::new(true, vec![])
    }
}

impl BusinessCalendar {
    /// A calendar closed on weekends, on Japanese public holidays when
    /// `japanese_holidays`, and on `closures`.
    pub fn new(japanese_holidays: bool, mut closures: Vec<Closure>) -> Self {
        closures.sort_by_key(|c| (c.first_day, c.last_day, c.id));
        Self { japanese_holidays, closures }
    }

    /// Whether Japanese public holidays are closed days.
    pub fn japanese_holidays(&self) -> bool {
        self.japanese_holidays
    }

    /// The company closures, by first day.
    pub fn closures(&self) -> &[Closure] {
        &self.closures
    }

    /// Why `day` is closed, or `None` on a business day. A holiday is named
    /// before a closure and a closure before the weekend, so the answer is
    /// the most specific one (元日 rather than 年末年始 or Sunday).
    pub fn closed(&self, day: NaiveDate) -> Option<ClosedReason> {
        if self.japanese_holidays
            && let Some(holiday) = japanese_holiday(day)
        {
            return Some(ClosedReason::Holiday(holiday));
        }
        if let Some(closure) = self.closures.iter().find(|c| c.contains(day)) {
            return Some(ClosedReason::Closure(closure.name.clone()));
        }
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            return Some(ClosedReason::Weekend);
        }
        None
    }

    /// Whether the company works on `day`.
    pub fn is_business_day(&self, day: NaiveDate) -> bool {
        self.closed(day).is_none()
    }

    /// The first business day on or after `day`, looking at most
    /// [`MAX_SEARCH_DAYS`] ahead.
    pub fn business_day_from(&self, day: NaiveDate) -> Option<NaiveDate> {
        (0..MAX_SEARCH_DAYS)
            .filter_map(|n| day.checked_add_signed(Duration::days(n)))
            .find(|d| self.is_business_day(*d))
    }

    /// Every closed day of `year` with its reason, weekends included, in order.
    pub fn closed_days(&self, year: i32) -> Vec<(NaiveDate, ClosedReason)> {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else { return vec![] };
        first
            .iter_days()
            .take_while(|d| d.year() == year)
            .filter_map(|d| self.closed(d).map(|reason| (d, reason)))
            .collect()
    }
}

/// One year's corrections: the year, the (month, day)s that are not
/// holidays, and the (month, day, name)s that are.
type Override = (i32, &'static [(u32, u32)], &'static [(u32, u32, &'static str)]);

/// A year's holidays by day.
type YearHolidays = Arc<BTreeMap<NaiveDate, Holiday>>;

/// Corrections to `jpholiday` 0.1.4, year by year: the dates that are not
/// holidays, then the dates that are (law of 2018 for the enthronement in
/// 2019; Olympic special measures, laws of 2018 and 2020, for 2020 and
/// 2021). 2019 and 2020 are right in the crate; they are listed so that
/// the law's dates are stated here whatever the crate says.
const OVERRIDES: &[Override] = &[
    (
        2019,
        &[],
        &[(4, 30, "国民の休日"), (5, 1, "天皇の即位の日"), (5, 2, "国民の休日"), (10, 22, "即位礼正殿の儀")],
    ),
    (2020, &[(7, 20), (8, 11), (10, 12)], &[(7, 23, "海の日"), (7, 24, "スポーツの日"), (8, 10, "山の日")]),
    (
        2021,
        &[(7, 19), (8, 11), (10, 11)],
        &[(7, 22, "海の日"), (7, 23, "スポーツの日"), (8, 8, "山の日"), (8, 9, "振替休日")],
    ),
];

/// Japanese names as `jpholiday` spells them, with their English names.
const NAMES: &[(&str, &str)] = &[
    ("元日", "New Year's Day"),
    ("成人の日", "Coming of Age Day"),
    ("建国記念の日", "National Foundation Day"),
    ("天皇誕生日", "The Emperor's Birthday"),
    ("春分の日", "Vernal Equinox Day"),
    ("昭和の日", "Shōwa Day"),
    ("みどりの日", "Greenery Day"),
    ("憲法記念日", "Constitution Memorial Day"),
    ("こどもの日", "Children's Day"),
    ("海の日", "Marine Day"),
    ("山の日", "Mountain Day"),
    ("敬老の日", "Respect for the Aged Day"),
    ("秋分の日", "Autumnal Equinox Day"),
    ("体育の日", "Health and Sports Day"),
    ("スポーツの日", "Sports Day"),
    ("文化の日", "Culture Day"),
    ("勤労感謝の日", "Labour Thanksgiving Day"),
    ("振替休日", "Substitute holiday"),
    ("国民の休日", "Citizens' holiday"),
    ("天皇の即位の日", "Enthronement Day"),
    ("即位礼正殿の儀", "Enthronement Ceremony"),
    ("即位の礼正殿の儀", "Enthronement Ceremony"),
    ("昭和天皇の大喪の礼", "State Funeral of Emperor Shōwa"),
    ("皇太子・明仁親王の結婚の儀", "Wedding of Crown Prince Akihito"),
    ("皇太子・皇太子徳仁親王の結婚の儀", "Wedding of Crown Prince Naruhito"),
];

/// The holiday called `name` (a substitute holiday comes as "元日 振替休日").
fn holiday_named(name: &str) -> Holiday {
    let name = if name.ends_with("振替休日") { "振替休日" } else { name.trim() };
    match NAMES.iter().find(|(ja, _)| *ja == name) {
        Some((ja, en)) => Holiday { ja, en },
        // The crate names a holiday this table does not know: still a holiday.
        None => Holiday { ja: "祝日", en: "Public holiday" },
    }
}

/// The years `jpholiday` is asked about: the holiday law dates from 1948,
/// and far-future years only make its date arithmetic panic.
const YEARS: std::ops::RangeInclusive<i32> = 1948..=2999;

/// The holidays of `year`, computed once per process (a holiday never
/// moves once the law is known, and `jpholiday` takes milliseconds a year).
fn holidays_of(year: i32) -> YearHolidays {
    static CACHE: OnceLock<Mutex<HashMap<i32, YearHolidays>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&year) {
        return Arc::clone(found);
    }
    let mut days = BTreeMap::new();
    if YEARS.contains(&year) {
        let crate_days = jpholiday::jpholiday::JPHoliday::new().year_holidays(year);
        days.extend(crate_days.into_iter().map(|(day, name)| (day, holiday_named(&name))));
    }
    for (_, removed, added) in OVERRIDES.iter().filter(|(y, _, _)| *y == year) {
        for (month, day) in removed.iter() {
            if let Some(day) = NaiveDate::from_ymd_opt(year, *month, *day) {
                days.remove(&day);
            }
        }
        for (month, day, name) in added.iter() {
            if let Some(day) = NaiveDate::from_ymd_opt(year, *month, *day) {
                days.insert(day, holiday_named(name));
            }
        }
    }
    let days = Arc::new(days);
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(year, Arc::clone(&days));
    days
}

/// The Japanese public holiday on `day`, if any.
pub fn japanese_holiday(day: NaiveDate) -> Option<Holiday> {
    holidays_of(day.year()).get(&day).copied()
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn holiday(s: &str) -> Option<&'static str> {
        japanese_holiday(day(s)).map(|h| h.ja)
    }

    fn closure(first: &str, last: &str, name: &str) -> Closure {
        Closure { id: 0, first_day: day(first), last_day: day(last), name: name.into() }
    }

    #[test]
    fn substitute_holidays_follow_a_holiday_on_sunday() {
        assert_eq!(holiday("2023-01-02"), Some("振替休日"));
        assert_eq!(holiday("2024-02-12"), Some("振替休日"));
        assert_eq!(holiday("2025-11-24"), Some("振替休日"));
        assert_eq!(japanese_holiday(day("2025-11-24")).unwrap().en, "Substitute holiday");
        // 5/3 on Sunday: the substitute is the first day after the run of holidays.
        assert_eq!(holiday("2026-05-06"), Some("振替休日"));
        assert_eq!(holiday("2023-01-03"), None);
    }

    #[test]
    fn a_day_between_two_holidays_is_a_citizens_holiday() {
        // 敬老の日 9/21 and 秋分の日 9/23 in 2026.
        assert_eq!(holiday("2026-09-22"), Some("国民の休日"));
        assert_eq!(holiday("2015-09-22"), Some("国民の休日"));
        assert_eq!(holiday("2027-09-22"), None);
    }

    #[test]
    fn the_enthronement_days_of_2019_are_holidays() {
        for d in ["2019-04-30", "2019-05-01", "2019-05-02", "2019-10-22"] {
            assert!(holiday(d).is_some(), "{d}");
        }
        assert_eq!(holiday("2019-05-01"), Some("天皇の即位の日"));
        assert_eq!(holiday("2019-10-22"), Some("即位礼正殿の儀"));
        assert_eq!(holiday("2019-12-23"), None, "no Emperor's birthday in 2019");
    }

    #[test]
    fn the_olympic_moves_of_2020_and_2021_are_applied() {
        assert_eq!(holiday("2020-07-23"), Some("海の日"));
        assert_eq!(holiday("2020-07-24"), Some("スポーツの日"));
        assert_eq!(holiday("2020-08-10"), Some("山の日"));
        for d in ["2020-07-20", "2020-10-12", "2020-08-11"] {
            assert_eq!(holiday(d), None, "{d}");
        }
        assert_eq!(holiday("2021-07-22"), Some("海の日"));
        assert_eq!(holiday("2021-07-23"), Some("スポーツの日"));
        assert_eq!(holiday("2021-08-08"), Some("山の日"));
        assert_eq!(holiday("2021-08-09"), Some("振替休日"));
        for d in ["2021-07-19", "2021-10-11", "2021-08-11"] {
            assert_eq!(holiday(d), None, "{d}");
        }
        // An ordinary year again.
        assert_eq!(holiday("2022-07-18"), Some("海の日"));
        assert_eq!(holiday("2022-10-10"), Some("スポーツの日"));
    }

    #[test]
    fn weekends_are_closed_and_weekdays_open() {
        let calendar = BusinessCalendar::new(false, vec![]);
        assert_eq!(calendar.closed(day("2026-12-05")), Some(ClosedReason::Weekend), "Saturday");
        assert_eq!(calendar.closed(day("2026-12-06")), Some(ClosedReason::Weekend), "Sunday");
        assert!(calendar.is_business_day(day("2026-12-07")));
        // Without Japanese holidays, 文化の日 is a working Tuesday.
        assert!(calendar.is_business_day(day("2026-11-03")));
        assert!(!BusinessCalendar::default().is_business_day(day("2026-11-03")));
    }

    #[test]
    fn closures_span_a_year_end_and_are_named() {
        let calendar = BusinessCalendar::new(
            true,
            vec![
                closure("2026-12-29", "2027-01-03", "年末年始休業"),
                closure("2026-08-13", "2026-08-16", "お盆"),
            ],
        );
        for d in ["2026-12-29", "2026-12-31", "2027-01-02", "2027-01-03"] {
            assert_eq!(calendar.closed(day(d)), Some(ClosedReason::Closure("年末年始休業".into())), "{d}");
        }
        // 元日 is named as the holiday it is.
        assert!(
            matches!(calendar.closed(day("2027-01-01")), Some(ClosedReason::Holiday(h)) if h.ja == "元日")
        );
        assert!(calendar.is_business_day(day("2026-12-28")));
        assert!(calendar.is_business_day(day("2027-01-04")));
        assert_eq!(calendar.closed(day("2026-08-13")), Some(ClosedReason::Closure("お盆".into())));
        assert!(calendar.is_business_day(day("2026-08-17")));
        assert_eq!(calendar.business_day_from(day("2026-12-29")), Some(day("2027-01-04")));
        assert_eq!(calendar.closures()[0].name, "お盆", "by first day");
    }

    #[test]
    fn a_year_lists_its_closed_days_in_order() {
        let calendar = BusinessCalendar::new(true, vec![closure("2021-08-13", "2021-08-16", "お盆")]);
        let days = calendar.closed_days(2021);
        assert!(days.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(days.iter().any(
            |(d, r)| *d == day("2021-07-22") && matches!(r, ClosedReason::Holiday(h) if h.ja == "海の日")
        ));
        assert!(!days.iter().any(|(d, _)| *d == day("2021-07-19")));
        assert!(
            days.iter().any(|(d, r)| *d == day("2021-08-13") && *r == ClosedReason::Closure("お盆".into()))
        );
        // 52 weekends' days plus holidays and the closure.
        assert!(days.len() > 104 + 15);
    }

    #[test]
    fn a_calendar_closed_for_ever_has_no_business_day_to_find() {
        let calendar = BusinessCalendar::new(true, vec![closure("2026-01-01", "2027-12-31", "closed")]);
        assert_eq!(calendar.business_day_from(day("2026-01-01")), None);
    }
}
