//! Words and numbers as people read them: job states and run results in
//! the reader's language, durations and sizes. Shared by the pages and by
//! the server (notification messages), so it lives with the wire types.

use crate::{
    i18n::{Locale, td_string},
    model::job::{JobState, RunResult},
};

/// A job state's name in the user's language.
pub fn state_name(locale: Locale, state: JobState) -> String {
    match state {
        JobState::New => td_string!(locale, states.new),
        JobState::Ok => td_string!(locale, states.ok),
        JobState::Warning => td_string!(locale, states.warning),
        JobState::Failed => td_string!(locale, states.failed),
        JobState::Running => td_string!(locale, states.running),
        JobState::Late => td_string!(locale, states.late),
        JobState::Missed => td_string!(locale, states.missed),
        JobState::Overdue => td_string!(locale, states.overdue),
        JobState::Paused => td_string!(locale, states.paused),
    }
    .to_string()
}

/// A run result's name in the user's language.
pub fn result_name(locale: Locale, result: RunResult) -> String {
    match result {
        RunResult::Running => td_string!(locale, results.running),
        RunResult::Success => td_string!(locale, results.success),
        RunResult::Warning => td_string!(locale, results.warning),
        RunResult::Failed => td_string!(locale, results.failed),
        RunResult::Missed => td_string!(locale, results.missed),
    }
    .to_string()
}

/// `1h 02m`, `3m 05s`, `42s`.
pub fn format_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// `512 B`, `1.5 KB`, `23.4 GB` (powers of 1024, as backup tools count).
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{} B", bytes.max(0)) } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_naturally() {
        assert_eq!(format_duration(42), "42s");
        assert_eq!(format_duration(185), "3m 05s");
        assert_eq!(format_duration(3720), "1h 02m");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KB");
        assert_eq!(format_bytes(25_125_558_681), "23.4 GB");
    }
}
