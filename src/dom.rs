//! Thin, owned wrappers over the browser APIs the app uses. Every listener and timer is a value
//! whose `Drop` removes it, so that dropping the owner releases everything it acquired.

use std::cell::Cell;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// Monotonic milliseconds since the page started.
pub fn now_ms() -> f64 {
    window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Wall-clock time (ms since 1970) of a [`now_ms`] reading.
pub fn wall_ms(now_ms: f64) -> f64 {
    window().and_then(|w| w.performance()).map(|p| p.time_origin() + now_ms).unwrap_or(now_ms)
}

/// `HH:MM:SS` local time of a [`now_ms`] reading.
pub fn clock(now_ms: f64) -> String {
    let d = js_sys::Date::new(&wall_ms(now_ms).into());
    format!("{:02}:{:02}:{:02}", d.get_hours(), d.get_minutes(), d.get_seconds())
}

/// Uniform in [0, 1).
pub fn random() -> f64 {
    js_sys::Math::random()
}

pub fn storage_get(key: &str) -> Option<String> {
    window()?.local_storage().ok()??.get_item(key).ok()?
}

/// Saves `value`, or removes the key when `None`. Storage may be off (private mode): then the
/// setting lasts for this page only.
pub fn storage_set(key: &str, value: Option<&str>) {
    if let Some(storage) = window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = match value {
            Some(v) => storage.set_item(key, v),
            None => storage.remove_item(key),
        };
    }
}

thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// Listeners, timers and sockets alive right now. Tests check that unmounting the app brings
/// this back to where it was.
pub fn held() -> usize {
    HELD.with(Cell::get)
}

/// Counts one browser resource for [`held`] while it lives.
pub struct Held(());

impl Held {
    pub fn new() -> Held {
        HELD.with(|h| h.set(h.get() + 1));
        Held(())
    }
}

impl Default for Held {
    fn default() -> Self {
        Held::new()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
    }
}

/// An event listener, removed when dropped.
pub struct Listener {
    _held: Held,
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub fn new(target: &EventTarget, kind: &'static str, f: impl FnMut(Event) + 'static) -> Listener {
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Listener { _held: Held::new(), target: target.clone(), kind, callback }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// A `setInterval` timer, cleared when dropped.
pub struct Interval {
    _held: Held,
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Interval {
    pub fn new(period_ms: i32, f: impl FnMut() + 'static) -> Option<Interval> {
        let callback = Closure::<dyn FnMut()>::new(f);
        let id = window()?
            .set_interval_with_callback_and_timeout_and_arguments_0(
                callback.as_ref().unchecked_ref(),
                period_ms,
            )
            .ok()?;
        Some(Interval { _held: Held::new(), id, _callback: callback })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        if let Some(w) = window() {
            w.clear_interval_with_handle(self.id);
        }
    }
}
