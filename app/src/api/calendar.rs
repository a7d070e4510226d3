//! The business calendar for the UI (Settings → Business calendar): a
//! year's closed days and the company closures; administrators add and
//! remove closures.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    model::calendar::{CalendarClosure, CalendarYear},
};

#[cfg(feature = "ssr")]
use super::server;

/// What the calendar page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarView {
    /// The year's closed days and the closures.
    pub calendar: CalendarYear,
    /// Whether the caller may change the closures (administrators).
    pub can_edit: bool,
}

/// A year of the calendar, this year by default (viewers and up).
#[server(prefix = "/api/fn", endpoint = "calendar/page")]
pub async fn calendar_page(year: Option<i32>) -> Result<CalendarView, AppError> {
    use crate::model::user::Role;
    let (state, info) = server::ctx()?;
    let calendar = crate::ssr::jobs::calendar_service::year(&state, &info, year).await?;
    let can_edit = info.principal.as_ref().is_some_and(|p| p.role >= Role::Admin);
    Ok(CalendarView { calendar, can_edit })
}

/// Adds a company closure (administrators).
#[server(prefix = "/api/fn", endpoint = "calendar/closure-add")]
pub async fn add_closure(
    first_day: String,
    last_day: String,
    name: String,
) -> Result<CalendarClosure, AppError> {
    use crate::model::calendar::NewClosure;
    let (state, info) = server::ctx()?;
    let input =
        NewClosure { first_day: first_day.trim().to_owned(), last_day: last_day.trim().to_owned(), name };
    crate::ssr::jobs::calendar_service::add_closure(&state, &info, input).await
}

/// Removes a company closure (administrators).
#[server(prefix = "/api/fn", endpoint = "calendar/closure-delete")]
pub async fn delete_closure(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::jobs::calendar_service::delete_closure(&state, &info, id).await
}
