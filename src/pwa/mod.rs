//! The installable app: registers the service worker (`dist/sw.js`, which `cargo xtask` writes
//! from `sw.template.js` here) where the browser allows one, and offers a waiting new version as
//! "Update available · Reload". See docs/ARCHITECTURE.md, "Installable app".

use crate::dom::{self, Listener};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

/// Relative, so that the worker's scope is wherever the page is served from.
const SCRIPT: &str = "sw.js";

/// Whether this page can have a service worker, and so be installed and open offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Available,
    /// Plain http from a host that is not this computer, as a device serves the app: browsers
    /// keep service workers (and installing) to https and localhost.
    InsecureContext,
    /// A secure page in a browser without service workers.
    Unsupported,
}

impl Support {
    pub fn new(secure_context: bool, has_service_worker: bool) -> Support {
        match (secure_context, has_service_worker) {
            (false, _) => Support::InsecureContext,
            (true, false) => Support::Unsupported,
            (true, true) => Support::Available,
        }
    }

    /// The one line Settings shows about installing.
    pub fn hint(self) -> &'static str {
        match self {
            Support::Available => {
                "Install it from the browser's menu (Install app, or Add to Home Screen): the \
                 installed app opens even away from the device, then connects when it can."
            }
            Support::InsecureContext => {
                "Install needs https or localhost: opened from the device over http, the app works \
                 but cannot be installed or opened offline."
            }
            Support::Unsupported => {
                "This browser has no service workers, so the app cannot be installed or opened offline."
            }
        }
    }
}

/// The service worker's state for the UI, shared as context.
#[derive(Clone, Copy)]
pub struct Pwa {
    pub support: Support,
    /// A new version is installed and waits for the page to let it take over.
    pub update_ready: ReadSignal<bool>,
    worker: StoredValue<SendWrapper<Rc<Worker>>>,
}

impl Pwa {
    /// Lets the waiting version take over, then reloads the page under it.
    pub fn reload_to_update(&self) {
        self.worker.try_with_value(|w| w.activate_waiting());
    }
}

/// The registration and every listener on it, released on cleanup.
#[derive(Default)]
struct Worker {
    alive: Cell<bool>,
    registration: RefCell<Option<ServiceWorkerRegistration>>,
    listeners: RefCell<Vec<Listener>>,
    reloading: Cell<bool>,
}

fn container() -> Option<ServiceWorkerContainer> {
    let navigator = dom::window()?.navigator();
    // In an insecure context `navigator.serviceWorker` is undefined: ask before touching it.
    let present = js_sys::Reflect::get(&navigator, &JsValue::from_str("serviceWorker"))
        .is_ok_and(|v| !v.is_undefined() && !v.is_null());
    present.then(|| navigator.service_worker())
}

fn support() -> Support {
    let secure = dom::window().is_some_and(|w| w.is_secure_context());
    Support::new(secure, secure && container().is_some())
}

impl Worker {
    fn listen(&self, listener: Listener) {
        if self.alive.get() {
            self.listeners.borrow_mut().push(listener);
        }
    }

    /// Follows `registration` until cleanup: a version that finishes installing while another
    /// controls the page is an update (the first install is not).
    fn watch(self: &Rc<Self>, registration: ServiceWorkerRegistration, ready: WriteSignal<bool>) {
        if !self.alive.get() {
            return;
        }
        let waiting = move |reg: &ServiceWorkerRegistration| {
            let controlled = container().and_then(|c| c.controller()).is_some();
            if controlled && reg.waiting().is_some() {
                ready.try_set(true);
            }
        };
        waiting(&registration);
        let weak: Weak<Worker> = Rc::downgrade(self);
        let reg = registration.clone();
        self.listen(Listener::new(&registration, "updatefound", move |_| {
            let (Some(worker), Some(installing)) = (weak.upgrade(), reg.installing()) else { return };
            let reg = reg.clone();
            worker.listen(Listener::new(&installing.clone(), "statechange", move |_| {
                if installing.state() == ServiceWorkerState::Installed {
                    waiting(&reg);
                }
            }));
        }));
        *self.registration.borrow_mut() = Some(registration);
    }

    fn activate_waiting(&self) {
        // A second press, or nothing waiting any more: a plain reload is all that is left.
        let waiting = self.registration.borrow().as_ref().and_then(|r| r.waiting());
        let (false, Some(waiting), Some(container)) = (self.reloading.replace(true), waiting, container())
        else {
            reload();
            return;
        };
        self.listen(Listener::new(&container, "controllerchange", |_| reload()));
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &"skip-waiting".into());
        if waiting.post_message(&message).is_err() {
            reload();
        }
    }

    fn release(&self) {
        self.alive.set(false);
        self.listeners.borrow_mut().clear();
        self.registration.borrow_mut().take();
    }
}

fn reload() {
    if let Some(w) = dom::window() {
        let _ = w.location().reload();
    }
}

/// Registers the service worker where the page may have one, and provides [`Pwa`].
pub fn provide_pwa() {
    let support = support();
    let (update_ready, set_update_ready) = signal(false);
    let worker = Rc::new(Worker { alive: Cell::new(true), ..Worker::default() });
    if support == Support::Available {
        // After `load`: precaching fetches every file again (mostly from the HTTP cache), and the
        // first load from a slow device should not share the link with it.
        let loaded = dom::window().and_then(|w| w.document()).is_some_and(|d| d.ready_state() == "complete");
        match dom::window() {
            Some(w) if !loaded => {
                let weak = Rc::downgrade(&worker);
                worker.listen(Listener::new(&w, "load", move |_| {
                    if let Some(worker) = weak.upgrade() {
                        register(&worker, set_update_ready);
                    }
                }));
            }
            _ => register(&worker, set_update_ready),
        }
    }
    let cleanup = SendWrapper::new(worker.clone());
    on_cleanup(move || cleanup.release());
    provide_context(Pwa { support, update_ready, worker: StoredValue::new(SendWrapper::new(worker)) });
}

fn register(worker: &Rc<Worker>, ready: WriteSignal<bool>) {
    let Some(container) = container() else { return };
    if worker.registration.borrow().is_some() {
        return;
    }
    let promise = container.register(SCRIPT);
    let weak = Rc::downgrade(worker);
    leptos::task::spawn_local(async move {
        // A failed registration (no sw.js after a plain `trunk build`) leaves an app that works
        // online only, as on http.
        let Ok(reg) = JsFuture::from(promise).await else { return };
        let (Some(worker), Ok(reg)) = (weak.upgrade(), reg.dyn_into::<ServiceWorkerRegistration>()) else {
            return;
        };
        worker.watch(reg, ready);
    });
}

/// "Update available · Reload", while a new version waits. Plain DOM calls in one effect (the
/// first screen's code is in the main wasm, docs/SIZE.md); the prompt is made when an update is
/// ready and removed when it is not, its listener with it.
#[component]
pub fn UpdatePrompt() -> impl IntoView {
    let pwa = use_context::<Pwa>();
    let host = NodeRef::<leptos::html::Div>::new();
    let prompt = StoredValue::new_local(None::<(web_sys::Element, Listener)>);
    Effect::new(move |_| {
        let ready = pwa.is_some_and(|p| p.update_ready.get());
        let (Some(host), Some(doc)) = (host.get(), dom::window().and_then(|w| w.document())) else { return };
        prompt.update_value(|shown| match (ready, shown.take()) {
            (true, None) => {
                let attrs = [("class", "update"), ("role", "status"), ("data-testid", "update-prompt")];
                let div = dom::el(&doc, &host, "div", &attrs, "");
                dom::el(&doc, &div, "span", &[], "Update available");
                let attrs = [("type", "button"), ("class", "small"), ("data-testid", "update-reload")];
                let button = dom::el(&doc, &div, "button", &attrs, "Reload");
                let click = Listener::new(&button, "click", move |_| {
                    if let Some(p) = pwa {
                        p.reload_to_update();
                    }
                });
                *shown = Some((div, click));
            }
            (false, Some((div, _))) => div.remove(),
            (_, kept) => *shown = kept,
        });
    });
    on_cleanup(move || {
        prompt.try_update_value(|p| *p = None);
    });
    // No box of its own: the prompt is fixed to the screen, and the app's grid has no cell for it.
    view! { <div class="update-host" node_ref=host></div> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_secure_page_with_service_workers_can_install() {
        assert_eq!(Support::new(true, true), Support::Available);
        assert_eq!(Support::new(false, true), Support::InsecureContext);
        assert_eq!(Support::new(false, false), Support::InsecureContext);
        assert_eq!(Support::new(true, false), Support::Unsupported);
        assert!(Support::InsecureContext.hint().starts_with("Install needs https or localhost"));
    }
}
