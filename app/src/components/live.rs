//! Live updates: a counter that moves whenever the server reports a run or
//! a job state change (server-sent events from `/api/v1/events`), so a
//! page's resources can refetch. Bursts are coalesced into one refresh.

use leptos::prelude::*;

/// A signal bumped (at most every half second) on live events. On the
/// server, and without JavaScript, it never moves.
pub fn use_live_refresh() -> ReadSignal<u32> {
    let (refresh, set_refresh) = signal(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| subscribe(set_refresh));
    #[cfg(not(feature = "hydrate"))]
    let _ = set_refresh;
    refresh
}

#[cfg(feature = "hydrate")]
fn subscribe(set_refresh: WriteSignal<u32>) {
    use std::{cell::Cell, rc::Rc, time::Duration};
    use wasm_bindgen::{JsCast, closure::Closure};

    let Ok(source) = web_sys::EventSource::new("/api/v1/events") else { return };
    let pending = Rc::new(Cell::new(false));
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_event: web_sys::MessageEvent| {
            if pending.replace(true) {
                return;
            }
            let pending = pending.clone();
            set_timeout(
                move || {
                    pending.set(false);
                    set_refresh.update(|n| *n = n.wrapping_add(1));
                },
                Duration::from_millis(500),
            );
        });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // "lagged": some events were skipped; a refresh covers them.
    let _ = source.add_event_listener_with_callback("lagged", on_message.as_ref().unchecked_ref());
    // "resync": events from another instance may have been lost; the same.
    let _ = source.add_event_listener_with_callback("resync", on_message.as_ref().unchecked_ref());
    // The stream broke (an instance stopped) and the browser opened it again,
    // perhaps on another instance: what happened in between is refetched.
    let broken = Rc::new(Cell::new(false));
    let on_error = {
        let broken = broken.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| broken.set(true))
    };
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
        if broken.replace(false) {
            set_refresh.update(|n| *n = n.wrapping_add(1));
        }
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_error.forget();
    on_open.forget();
    on_message.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}
