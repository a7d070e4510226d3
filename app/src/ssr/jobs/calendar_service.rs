//! The business calendar as the console runs it: the current
//! [`BusinessCalendar`] kept per process (loaded at start-up, replaced when
//! a closure is added or removed here, and reloaded by the monitor at most
//! once a minute so that other instances on the same PostgreSQL database
//! pick changes up), and the operations on closures (viewers read,
//! administrators change; changes are audit-logged).

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use chrono::{Datelike, NaiveDate, Utc};

use super::{
    calendar::{BusinessCalendar, ClosedReason, MAX_CLOSURE_DAYS},
    store::calendar as calendar_db,
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        calendar::{CalendarClosure, CalendarYear, ClosedDay, ClosedKind, FIRST_YEAR, LAST_YEAR, NewClosure},
        user::Role,
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self, Event, Target},
        },
        infra::state::AppState,
    },
};

/// How old the monitor lets the calendar get before reloading it.
pub const RELOAD_AFTER: Duration = Duration::from_secs(60);

/// The longest closure name.
pub const MAX_NAME_CHARS: usize = 100;

/// The current calendar of this process and when it was loaded (kept in
/// the state's slots).
#[derive(Default)]
pub struct CalendarSlot {
    current: RwLock<Option<(Arc<BusinessCalendar>, Instant)>>,
}

impl CalendarSlot {
    fn get(&self) -> Option<(Arc<BusinessCalendar>, Instant)> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, calendar: Arc<BusinessCalendar>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some((calendar, Instant::now()));
    }
}

/// Reads the closures and makes the calendar anew, replacing the current one.
#[tracing::instrument(skip_all)]
pub async fn reload(state: &AppState) -> Result<Arc<BusinessCalendar>, sqlx::Error> {
    let closures = calendar_db::list(&state.db).await?.iter().filter_map(|row| row.closure()).collect();
    let calendar = Arc::new(BusinessCalendar::new(state.settings.calendar_japanese_holidays, closures));
    state.slots.get::<CalendarSlot>().set(Arc::clone(&calendar));
    Ok(calendar)
}

/// The current calendar (loaded on first use).
pub async fn current(state: &AppState) -> Result<Arc<BusinessCalendar>, sqlx::Error> {
    match state.slots.get::<CalendarSlot>().get() {
        Some((calendar, _)) => Ok(calendar),
        None => reload(state).await,
    }
}

/// The current calendar, reloaded first when older than `max_age`.
pub async fn fresh(state: &AppState, max_age: Duration) -> Result<Arc<BusinessCalendar>, sqlx::Error> {
    match state.slots.get::<CalendarSlot>().get() {
        Some((calendar, loaded)) if loaded.elapsed() < max_age => Ok(calendar),
        _ => reload(state).await,
    }
}

fn closure_view(row: &calendar_db::ClosureRow) -> Option<CalendarClosure> {
    let closure = row.closure()?;
    Some(CalendarClosure {
        id: closure.id,
        first_day: closure.first_day,
        last_day: closure.last_day,
        name: closure.name,
        created_at: row.created_at,
    })
}

/// Every closure, by first day (viewers and up).
pub async fn closures(state: &AppState, info: &RequestInfo) -> Result<Vec<CalendarClosure>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    Ok(calendar_db::list(&state.db).await?.iter().filter_map(closure_view).collect())
}

/// Every closed day of `year` (default: this year in the console's time
/// zone) with its reason, and the closures (viewers and up).
pub async fn year(state: &AppState, info: &RequestInfo, year: Option<i32>) -> Result<CalendarYear, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let year = year.unwrap_or_else(|| Utc::now().with_timezone(&state.settings.timezone).year());
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(AppError::validation(
            "year",
            td_string!(info.locale, calendar.errors.year, first = FIRST_YEAR, last = LAST_YEAR),
        ));
    }
    // Read afresh: another instance may have changed the closures.
    let calendar = reload(state).await?;
    let days = calendar
        .closed_days(year)
        .into_iter()
        .map(|(date, reason)| match reason {
            ClosedReason::Holiday(h) => ClosedDay {
                date,
                kind: ClosedKind::Holiday,
                name: Some(h.ja.to_owned()),
                name_en: Some(h.en.to_owned()),
            },
            ClosedReason::Closure(name) => {
                ClosedDay { date, kind: ClosedKind::Closure, name: Some(name), name_en: None }
            }
            ClosedReason::Weekend => ClosedDay { date, kind: ClosedKind::Weekend, name: None, name_en: None },
        })
        .collect();
    Ok(CalendarYear {
        year,
        japanese_holidays: calendar.japanese_holidays(),
        days,
        closures: calendar_db::list(&state.db).await?.iter().filter_map(closure_view).collect(),
    })
}

/// A `YYYY-MM-DD` day, exactly so (the OpenAPI pattern says the same).
fn parse_day(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// A closure as given, checked: both days, their order and span, the name.
pub fn validate_closure(
    locale: Locale,
    input: &NewClosure,
) -> Result<(NaiveDate, NaiveDate, String), AppError> {
    let day_error = |field: &str| AppError::validation(field, td_string!(locale, calendar.errors.day));
    let first = parse_day(&input.first_day).ok_or_else(|| day_error("first_day"))?;
    let last = parse_day(&input.last_day).ok_or_else(|| day_error("last_day"))?;
    if last < first {
        return Err(AppError::validation("last_day", td_string!(locale, calendar.errors.order)));
    }
    if (last - first).num_days() + 1 > MAX_CLOSURE_DAYS {
        return Err(AppError::validation(
            "last_day",
            td_string!(locale, calendar.errors.too_long, days = MAX_CLOSURE_DAYS),
        ));
    }
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::validation(
            "name",
            td_string!(locale, calendar.errors.name, max = MAX_NAME_CHARS),
        ));
    }
    Ok((first, last, name))
}

/// Adds a closure (administrators).
pub async fn add_closure(
    state: &AppState,
    info: &RequestInfo,
    input: NewClosure,
) -> Result<CalendarClosure, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let (first, last, name) = validate_closure(info.locale, &input)?;
    let id = calendar_db::create(&state.db, first, last, &name).await?;
    let event = Event::ok("calendar.closure_create", Target::new("calendar_closure", id, name));
    audit::record(state, info, Some(principal), event).await;
    reload(state).await?;
    let row = calendar_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    closure_view(&row).ok_or(AppError::Internal)
}

/// Removes a closure (administrators).
pub async fn delete_closure(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = calendar_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if !calendar_db::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("calendar.closure_delete", Target::new("calendar_closure", id, row.name));
    audit::record(state, info, Some(principal), event).await;
    reload(state).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(first: &str, last: &str, name: &str) -> NewClosure {
        NewClosure { first_day: first.into(), last_day: last.into(), name: name.into() }
    }

    #[test]
    fn closures_are_checked_field_by_field() {
        let field = |i: NewClosure| match validate_closure(Locale::en, &i) {
            Err(AppError::Validation { field, .. }) => field,
            _ => None,
        };
        assert_eq!(field(input("2026-12-29", "2027-01-03", " 年末年始 ")), None);
        assert_eq!(field(input("2026-02-30", "2026-03-01", "x")).as_deref(), Some("first_day"));
        assert_eq!(field(input("2026-1-5", "2026-03-01", "x")).as_deref(), Some("first_day"));
        assert_eq!(field(input("2026-01-05", "tomorrow", "x")).as_deref(), Some("last_day"));
        assert_eq!(field(input("2026-01-05", "2026-01-04", "x")).as_deref(), Some("last_day"));
        assert_eq!(field(input("2026-01-01", "2027-01-02", "x")).as_deref(), Some("last_day"));
        assert_eq!(field(input("2024-01-01", "2024-12-31", "leap year")), None, "366 days");
        assert_eq!(field(input("2026-01-05", "2026-01-05", "  ")).as_deref(), Some("name"));
        assert_eq!(field(input("2026-01-05", "2026-01-05", &"x".repeat(101))).as_deref(), Some("name"));
    }
}
