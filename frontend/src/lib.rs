//! The browser entry point: hydrates the server-rendered page and registers
//! the service worker that lets the installed app start offline.

/// Called by the hydration script once the WASM has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    mark_hydrated();
    register_service_worker();
}

/// Sets `<html data-hydrated="true">`: browser tests wait for it before
/// checking client-side behaviour, and CSS could use it too.
fn mark_hydrated() {
    let root = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element());
    if let Some(root) = root {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// Registers `/sw.js`. Registration is from WASM rather than an inline
/// script so the Content-Security-Policy needs no `unsafe-inline`. A browser
/// without service workers simply goes without offline start.
fn register_service_worker() {
    let Some(window) = web_sys::window() else { return };
    let container = window.navigator().service_worker();
    // The promise is dropped: the page works the same whether or not the
    // worker registers, and the browser reports failures in its console.
    let _ = container.register("/sw.js");
}
