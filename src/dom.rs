//! Thin, owned wrappers over the browser APIs the app uses. Every listener and timer is a value
//! whose `Drop` removes it, so that dropping the owner releases everything it acquired.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
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

/// A new `tag` element at the end of `parent`, with these attributes and text (`parent` itself
/// if the browser refuses to make one, so a caller never has to handle it). The pages built with
/// plain DOM calls rather than `view!` (the first screen, the controls) build with this.
pub fn el(
    doc: &web_sys::Document,
    parent: &web_sys::Element,
    tag: &str,
    attrs: &[(&str, &str)],
    text: &str,
) -> web_sys::Element {
    let Ok(e) = doc.create_element(tag) else { return parent.clone() };
    for (k, v) in attrs {
        let _ = e.set_attribute(k, v);
    }
    if !text.is_empty() {
        e.set_text_content(Some(text));
    }
    let _ = parent.append_child(&e);
    e
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
        Listener::wrap(target, kind, Closure::<dyn FnMut(Event)>::new(f))
    }

    /// The part that does not depend on the closure's type, compiled once.
    fn wrap(target: &EventTarget, kind: &'static str, callback: Closure<dyn FnMut(Event)>) -> Listener {
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

/// A `ResizeObserver` on one element, disconnected when dropped.
pub struct ResizeWatch {
    _held: Held,
    observer: web_sys::ResizeObserver,
    _callback: Closure<dyn FnMut()>,
}

impl ResizeWatch {
    pub fn new(target: &web_sys::Element, f: impl FnMut() + 'static) -> Option<ResizeWatch> {
        let callback = Closure::<dyn FnMut()>::new(f);
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        observer.observe(target);
        Some(ResizeWatch { _held: Held::new(), observer, _callback: callback })
    }
}

impl Drop for ResizeWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// An `IntersectionObserver` on the elements given to [`VisibleWatch::observe`]: `f` hears which
/// came into the viewport (`true`) or left it; disconnected when dropped.
pub struct VisibleWatch {
    _held: Held,
    observer: web_sys::IntersectionObserver,
    _callback: Closure<dyn FnMut(js_sys::Array)>,
}

impl VisibleWatch {
    pub fn new(mut f: impl FnMut(Vec<(web_sys::Element, bool)>) + 'static) -> Option<VisibleWatch> {
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let seen = entries
                .iter()
                // The observer hands nothing else.
                .map(|e| e.unchecked_into::<web_sys::IntersectionObserverEntry>())
                .map(|e| (e.target(), e.is_intersecting()))
                .collect();
            f(seen);
        });
        let observer = web_sys::IntersectionObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        Some(VisibleWatch { _held: Held::new(), observer, _callback: callback })
    }

    pub fn observe(&self, target: &web_sys::Element) {
        self.observer.observe(target);
    }
}

impl Drop for VisibleWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// Calls `f` whenever the page's colours change: light to dark or back, or forced colours turned
/// on or off. Listens until the listeners are dropped.
pub fn on_colours_change(f: impl FnMut(Event) + 'static) -> Vec<Listener> {
    colours_change(std::rc::Rc::new(std::cell::RefCell::new(f)))
}

/// The part that does not depend on the closure's type, compiled once.
fn colours_change(f: std::rc::Rc<std::cell::RefCell<dyn FnMut(Event)>>) -> Vec<Listener> {
    let Some(w) = window() else { return Vec::new() };
    let queries = ["(prefers-color-scheme: dark)", "(forced-colors: active)"];
    let queries = queries.into_iter().filter_map(|q| w.match_media(q).ok().flatten());
    queries
        .map(|q| {
            let f = f.clone();
            Listener::new(&q, "change", move |e| {
                if let Ok(mut f) = f.try_borrow_mut() {
                    f(e);
                }
            })
        })
        .collect()
}

/// The computed value of each CSS property of `names` (custom properties too) on `element`,
/// trimmed, in order: "" for one that is not set.
pub fn css_values(element: &web_sys::Element, names: &[&str]) -> Vec<String> {
    let style = window().and_then(|w| w.get_computed_style(element).ok().flatten());
    let value = |n: &str| style.as_ref().and_then(|s| s.get_property_value(n).ok()).unwrap_or_default();
    names.iter().map(|n| value(n).trim().to_string()).collect()
}

pub(crate) fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    js_sys::Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `target.method(arg)` if it exists.
pub(crate) fn call(target: &JsValue, method: &str, arg: Option<&JsValue>) -> Option<JsValue> {
    let f: js_sys::Function = get(target, method)?.dyn_into().ok()?;
    match arg {
        Some(a) => f.call1(target, a).ok(),
        None => f.call0(target).ok(),
    }
}

/// A `requestAnimationFrame` loop with exactly one frame in flight; stops when dropped. Browsers
/// run no frames for a hidden page, so nothing is drawn then.
pub struct AnimationLoop {
    _held: Held,
    state: Rc<LoopState>,
}

type FrameCallback = Closure<dyn FnMut(f64)>;

struct LoopState {
    id: Cell<i32>,
    callback: RefCell<Option<FrameCallback>>,
}

impl LoopState {
    fn request(&self) {
        let (Some(w), Some(cb)) = (window(), self.callback.borrow().as_ref().map(|c| c.as_ref().clone()))
        else {
            return;
        };
        if let Ok(id) = w.request_animation_frame(cb.unchecked_ref()) {
            self.id.set(id);
        }
    }
}

impl AnimationLoop {
    pub fn new(mut frame: impl FnMut(f64) + 'static) -> AnimationLoop {
        let state = Rc::new(LoopState { id: Cell::new(0), callback: RefCell::new(None) });
        let weak = Rc::downgrade(&state);
        let callback = Closure::<dyn FnMut(f64)>::new(move |t: f64| {
            frame(t);
            if let Some(s) = weak.upgrade() {
                s.request();
            }
        });
        *state.callback.borrow_mut() = Some(callback);
        state.request();
        AnimationLoop { _held: Held::new(), state }
    }
}

impl Drop for AnimationLoop {
    fn drop(&mut self) {
        if let Some(w) = window() {
            let _ = w.cancel_animation_frame(self.state.id.get());
        }
        self.state.callback.borrow_mut().take();
    }
}

/// Offers `text` to the person as a file download.
pub fn download(filename: &str, mime: &str, text: &str) {
    let Some(doc) = window().and_then(|w| w.document()) else { return };
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    if let Some(a) =
        doc.create_element("a").ok().and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(filename);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
