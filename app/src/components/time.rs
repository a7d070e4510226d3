//! Times as people read them: in the browser's time zone after hydration,
//! in UTC on the server (with the exact instant in `datetime`).

use chrono::{DateTime as ChronoDateTime, Utc};
use leptos::prelude::*;

/// A `<time>` element. The server renders UTC; the browser re-renders it in
/// the local time zone once hydrated.
#[component]
pub fn DateTime(at: ChronoDateTime<Utc>) -> impl IntoView {
    let iso = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (local, set_local) = signal(None::<String>);
    Effect::new(move |_| set_local.set(Some(local_time(at))));
    view! {
        <time datetime=iso.clone() title=iso>
            {move || local.get().unwrap_or_else(|| format!("{} UTC", at.format("%Y-%m-%d %H:%M")))}
        </time>
    }
}

#[cfg(not(feature = "ssr"))]
fn local_time(at: ChronoDateTime<Utc>) -> String {
    at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(feature = "ssr")]
fn local_time(at: ChronoDateTime<Utc>) -> String {
    format!("{} UTC", at.format("%Y-%m-%d %H:%M"))
}
