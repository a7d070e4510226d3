//! The PWA manifest, in a given language.

use serde_json::{Value, json};

use crate::i18n::{I18nLocaleTrait, Locale, td_string};

/// The web app manifest. Names come from the same catalogues as the UI.
pub fn manifest(locale: Locale) -> Value {
    json!({
        "id": "/",
        "name": td_string!(locale, app_name).to_string(),
        "short_name": td_string!(locale, app_short_name).to_string(),
        "description": td_string!(locale, pages.dashboard.intro).to_string(),
        "lang": locale.as_str(),
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#f5f7fb",
        "theme_color": "#1d4ed8",
        "categories": ["business", "productivity", "utilities"],
        "icons": [
            { "src": "/icons/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any" },
            { "src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any" },
            { "src": "/icons/icon-maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable" },
            { "src": "/icons/favicon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any" }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_speaks_the_visitors_language_and_is_installable() {
        let ja = manifest(Locale::ja);
        assert_eq!(ja["name"], "バックアップ管理システム");
        assert_eq!(ja["lang"], "ja");
        let en = manifest(Locale::en);
        assert_eq!(en["short_name"], "Backup Console");
        assert_eq!(en["display"], "standalone");
        let sizes: Vec<&str> =
            en["icons"].as_array().into_iter().flatten().filter_map(|i| i["sizes"].as_str()).collect();
        assert!(sizes.contains(&"192x192") && sizes.contains(&"512x512"));
    }
}
