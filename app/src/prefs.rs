//! Per-browser preferences kept in cookies: the colour theme and the
//! language. Both are plain, non-secret cookies that the page reads during
//! SSR (so the first paint is right) and writes from the browser; without
//! JavaScript the same forms post to `/prefs/theme` and `/prefs/locale`.

use std::{fmt, str::FromStr};

use leptos_use::{SameSite, UseCookieOptions};

/// Cookie holding the theme choice.
pub const THEME_COOKIE: &str = "bms_theme";
/// Cookie holding the language choice (read by leptos_i18n).
pub const LOCALE_COOKIE: &str = "bms_locale";
/// How long a preference is remembered.
pub const PREF_MAX_AGE_SECONDS: i64 = 400 * 24 * 60 * 60;

/// The colour theme: follow the operating system, or forced light or dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// The value stored in the cookie and the `data-theme` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The theme the toggle switches to next: auto → light → dark → auto.
    pub fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
}

impl fmt::Display for Theme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Theme {
    type Err = UnknownTheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "system" => Ok(Theme::System),
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            _ => Err(UnknownTheme),
        }
    }
}

/// A theme cookie or form value that is not one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownTheme;

impl fmt::Display for UnknownTheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown theme; expected system, light or dark")
    }
}

/// Cookie attributes shared by both preference cookies.
pub fn cookie_options<T, E, D>() -> UseCookieOptions<T, E, D> {
    UseCookieOptions::default().path("/").same_site(SameSite::Lax).max_age(PREF_MAX_AGE_SECONDS * 1000)
}

/// Cookie options for the language cookie, in the shape leptos_i18n wants.
pub fn locale_cookie_options() -> leptos_i18n::context::CookieOptions<crate::i18n::Locale> {
    cookie_options()
}

/// A `return_to` form value is only followed when it is a path on this
/// site, so the preference forms cannot be used as an open redirect.
pub fn safe_return_path(candidate: &str) -> &str {
    let is_local = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.starts_with("/\\")
        && !candidate.chars().any(|c| c.is_control());
    if is_local { candidate } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_theme_toggle_cycles_through_all_three_themes() {
        let mut theme = Theme::System;
        let mut seen = vec![];
        for _ in 0..3 {
            seen.push(theme);
            theme = theme.next();
        }
        assert_eq!(theme, Theme::System);
        assert_eq!(seen, vec![Theme::System, Theme::Light, Theme::Dark]);
    }

    #[test]
    fn themes_round_trip_through_their_cookie_value() {
        for theme in [Theme::System, Theme::Light, Theme::Dark] {
            assert_eq!(theme.as_str().parse(), Ok(theme));
        }
        assert_eq!("purple".parse::<Theme>(), Err(UnknownTheme));
    }

    #[test]
    fn return_paths_must_stay_on_this_site() {
        assert_eq!(safe_return_path("/jobs?state=failed"), "/jobs?state=failed");
        assert_eq!(safe_return_path("https://evil.example/"), "/");
        assert_eq!(safe_return_path("//evil.example/"), "/");
        assert_eq!(safe_return_path("/\\evil.example"), "/");
        assert_eq!(safe_return_path("/a\r\nSet-Cookie: x=y"), "/");
        assert_eq!(safe_return_path(""), "/");
    }
}
