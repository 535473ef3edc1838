//! Full screen for driving: the Fullscreen API on the whole app and, where the browser allows it,
//! the screen locked in landscape. Feature-detected (an iPhone has no Fullscreen API for pages);
//! a refusal is quiet and changes nothing else.

use crate::dom::{call, get, window};
use wasm_bindgen::{JsCast, JsValue};

fn document() -> Option<web_sys::Document> {
    window()?.document()
}

/// The browser can show this page full screen.
pub fn available() -> bool {
    document().and_then(|d| get(&d, "fullscreenEnabled")).and_then(|v| v.as_bool()).unwrap_or(false)
}

/// The page is full screen now.
pub fn active() -> bool {
    document().and_then(|d| get(&d, "fullscreenElement")).is_some()
}

/// Full screen, then landscape (Chrome on Android locks the orientation only in full screen).
/// Must run in a tap's handler: browsers refuse full screen without one.
pub fn enter() {
    let Some(root) = document().and_then(|d| d.document_element()) else { return };
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"navigationUI".into(), &"hide".into());
    quietly(call(&root, "requestFullscreen", Some(&options)), Some(lock_landscape));
}

/// Back to the page as it was: the orientation unlocked and full screen left, if it was on.
pub fn leave() {
    call(&orientation(), "unlock", None);
    if active() {
        if let Some(d) = document() {
            quietly(call(&d, "exitFullscreen", None), None);
        }
    }
}

fn lock_landscape() {
    quietly(call(&orientation(), "lock", Some(&"landscape".into())), None);
}

fn orientation() -> JsValue {
    window().and_then(|w| get(&w, "screen")).and_then(|s| get(&s, "orientation")).unwrap_or_default()
}

/// Runs `then` once `promise` resolves; a rejection (no permission, not supported) is swallowed
/// here rather than reported as an unhandled error. A plain `fn`: one task type in the wasm.
fn quietly(promise: Option<JsValue>, then: Option<fn()>) {
    let Some(promise) = promise.and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) else { return };
    leptos::task::spawn_local(async move {
        if let (Ok(_), Some(then)) = (wasm_bindgen_futures::JsFuture::from(promise).await, then) {
            then();
        }
    });
}
