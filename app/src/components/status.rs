//! Badges for job states and run results, and human formats for
//! durations and sizes.

use leptos::prelude::*;

pub use crate::model::format::{format_bytes, format_duration, result_name, state_name};
use crate::{
    i18n::*,
    model::job::{JobState, RunResult},
};

/// A job state as a coloured badge (colour plus words, never colour alone).
#[component]
pub fn StateBadge(state: JobState) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=format!("status status-{}", state.as_str()) data-state=state.as_str()>
            {move || state_name(i18n.get_locale(), state)}
        </span>
    }
}

/// A run result as a coloured badge.
#[component]
pub fn ResultBadge(result: RunResult) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=format!("status status-{}", result.as_str()) data-result=result.as_str()>
            {move || result_name(i18n.get_locale(), result)}
        </span>
    }
}
