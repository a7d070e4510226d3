//! Generates the `i18n` module from `locales/{en,ja}.json`.
//!
//! We call leptos_i18n's parser and code generator directly instead of going
//! through `leptos_i18n_build`: the latter also pulls in ICU's data exporter
//! (a large build-time dependency tree) that we do not need, since we use no
//! ICU formatters in the catalogues.

use std::path::PathBuf;

use leptos_i18n_parser::parse_locales::{
    options::{Config, ParseOptions},
    parse_locales,
};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=locales");

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let module_dir = out_dir.join("i18n");

    let config = Config::new("en")
        .and_then(|c| c.add_locale("ja"))
        // Lets `t_string!` interpolate values, for titles and ARIA labels.
        .map(|c| c.parse_options(ParseOptions::new().interpolate_display(true)))
        .unwrap_or_else(|e| panic!("invalid i18n configuration: {e}"));
    let parsed = parse_locales(None, config).unwrap_or_else(|e| panic!("invalid catalogue: {e}"));

    // A key missing from one catalogue is only a warning for leptos_i18n;
    // for us it is an error: every string must exist in both languages.
    let (errors, warnings) = parsed.diag.borrow();
    if !errors.is_empty() || !warnings.is_empty() {
        for problem in errors.iter().map(ToString::to_string).chain(warnings.iter().map(ToString::to_string))
        {
            println!("cargo::error={problem}");
        }
        return;
    }
    drop((errors, warnings));
    if let Some(files) = &parsed.tracked_files {
        for file in files {
            println!("cargo::rerun-if-changed={file}");
        }
    }

    let tokens = leptos_i18n_codegen::gen_code(&parsed, None, false, None, false)
        .unwrap_or_else(|e| panic!("cannot generate the i18n module: {e}"));
    std::fs::create_dir_all(&module_dir).expect("create the i18n module directory");
    std::fs::write(module_dir.join("mod.rs"), tokens.to_string()).expect("write the i18n module");
}
