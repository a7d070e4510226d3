//! The business calendar on the wire: closed days with their reason, and
//! the company closures an administrator manages.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Why a day is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClosedKind {
    /// A Japanese public holiday (振替休日 and 国民の休日 included).
    Holiday,
    /// A company closure.
    Closure,
    /// Saturday or Sunday.
    Weekend,
}

/// One closed day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ClosedDay {
    /// The day (`YYYY-MM-DD`).
    pub date: NaiveDate,
    /// Why it is closed.
    pub kind: ClosedKind,
    /// The holiday's Japanese name or the closure's name; none for a weekend.
    pub name: Option<String>,
    /// The holiday's English name.
    pub name_en: Option<String>,
}

/// A company closure: every day from `first_day` to `last_day`, both included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarClosure {
    /// Identifier.
    pub id: i64,
    /// The first closed day.
    pub first_day: NaiveDate,
    /// The last closed day.
    pub last_day: NaiveDate,
    /// What it is (年末年始休業).
    pub name: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A year of the business calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CalendarYear {
    /// The year.
    pub year: i32,
    /// Whether Japanese public holidays are closed days
    /// (`BMS_CALENDAR_JAPANESE_HOLIDAYS`).
    pub japanese_holidays: bool,
    /// Every closed day of the year in order, weekends included.
    pub days: Vec<ClosedDay>,
    /// Every company closure (of any year), by first day.
    pub closures: Vec<CalendarClosure>,
}

/// The year of `GET /api/v1/calendar`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct CalendarQuery {
    /// The year, 1948 to 2999 (default: this year in the console's time zone).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(minimum = 1948, maximum = 2999))]
    pub year: Option<i32>,
}

/// The first year the calendar answers for (the holiday law dates from 1948).
pub const FIRST_YEAR: i32 = 1948;
/// The last year the calendar answers for.
pub const LAST_YEAR: i32 = 2999;

/// A new company closure. `last_day` must not be before `first_day`, a
/// closure is at most 366 days long, and each day must exist (no 2月30日).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewClosure {
    /// The first closed day, `YYYY-MM-DD`.
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2026-12-29")
    )]
    pub first_day: String,
    /// The last closed day, `YYYY-MM-DD` (the same day or later, at most 365 days after `first_day`).
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", example = "2027-01-03")
    )]
    pub last_day: String,
    /// What it is, 1–100 characters (not counting spaces around it), no
    /// control characters.
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 100,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$",
            example = "年末年始休業"
        )
    )]
    pub name: String,
}
