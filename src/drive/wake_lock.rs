//! The Screen Wake Lock while armed: the screen must not dim and lock mid-drive.

use crate::dom::{call, get, window};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};

/// The Screen Wake Lock, held while wanted: the screen must not dim and lock mid-drive. Where the
/// browser has no wake lock (or refuses it) this does nothing. Released when dropped.
#[derive(Default)]
pub struct WakeLock {
    wanted: Rc<Cell<bool>>,
    sentinel: Rc<RefCell<Option<JsValue>>>,
}

impl WakeLock {
    pub fn acquire(&self) {
        if self.wanted.replace(true) {
            return;
        }
        let Some(lock) = window().and_then(|w| get(&w.navigator(), "wakeLock")) else { return };
        let Some(promise) = call(&lock, "request", Some(&JsValue::from_str("screen")))
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
        else {
            return;
        };
        let (wanted, sentinel) = (self.wanted.clone(), self.sentinel.clone());
        leptos::task::spawn_local(async move {
            if let Ok(s) = wasm_bindgen_futures::JsFuture::from(promise).await {
                if wanted.get() {
                    *sentinel.borrow_mut() = Some(s);
                } else {
                    call(&s, "release", None);
                }
            }
        });
    }

    pub fn release(&self) {
        self.wanted.set(false);
        if let Some(s) = self.sentinel.borrow_mut().take() {
            call(&s, "release", None);
        }
    }
}

impl Drop for WakeLock {
    fn drop(&mut self) {
        self.release();
    }
}
