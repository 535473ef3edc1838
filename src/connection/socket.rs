//! The browser side of the connection: owns the one WebSocket, the heartbeat timer and the page
//! listeners, feeds their events to the [`Session`] and carries out the actions it returns.

use super::link::Action;
use super::pairing::Store;
use super::probe::{self, Answer};
use super::session::{Session, Status};
use super::url::{self, Source};
use crate::controls::model::Out;
use crate::controls::Panel;
use crate::device::prefs;
use crate::dom::{self, Interval, Listener};
#[cfg(feature = "fleet")]
use crate::fleet::carrier::{Carrier, Event as CarrierEvent, Input as CarrierInput};
#[cfg(feature = "fleet")]
use crate::shell::chunks::{self, Chunk};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

/// localStorage key of the address chosen in Settings.
const SAVED_URL_KEY: &str = "wsdeck.ws_url";
/// The heartbeat, the dead-link check and the UI refresh all run on this period.
const TICK_MS: i32 = 100;

/// The app's connection, shared through context. `Copy`: signals and handles only.
#[derive(Clone, Copy)]
pub struct Connection {
    /// What the status bar shows; changes at most every tick.
    pub status: ReadSignal<Status>,
    /// Bumped when telemetry changed since the last tick: the one signal telemetry views follow.
    pub telemetry_frame: ReadSignal<u64>,
    /// Bumped when the event log changed.
    pub log_version: ReadSignal<u64>,
    /// Whole seconds since the page started: for views that show ages.
    pub second: ReadSignal<u64>,
    /// Bumped when the device declares another set of controls.
    pub controls: ReadSignal<u64>,
    /// Bumped when what a control shows changed.
    pub ctl: ReadSignal<u64>,
    runtime: StoredValue<Rc<Runtime>, LocalStorage>,
}

impl Connection {
    /// Reads the session (device info, telemetry, log). `None` after the app was unmounted.
    pub fn with_session<R>(&self, f: impl FnOnce(&Session) -> R) -> Option<R> {
        self.runtime.try_with_value(|rt| f(&rt.session.borrow()))
    }

    /// Changes the session and publishes the change to the UI at once.
    pub fn with_session_mut<R>(&self, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        let r = self.runtime.try_with_value(|rt| f(&mut rt.session.borrow_mut()));
        self.runtime.try_with_value(|rt| rt.refresh());
        r
    }

    /// Sends a text frame now if the socket is open; false otherwise.
    pub fn send(&self, frame: &str) -> bool {
        self.runtime.try_with_value(|rt| rt.send(frame)).unwrap_or(false)
    }

    /// Bytes queued in the socket and not yet sent.
    pub fn buffered(&self) -> u32 {
        self.runtime.try_with_value(|rt| rt.buffered()).unwrap_or(0)
    }

    /// Hands the device's controls a person's change (with the time and the socket's backlog),
    /// through the one door: what they decide is sent and shown at once.
    pub fn control(&self, event: impl FnOnce(&mut Panel, f64, u32) -> Vec<Out>) {
        let mut event = Some(event);
        self.control_dyn(&mut |p, now, buffered| {
            event.take().map(|f| f(p, now, buffered)).unwrap_or_default()
        });
    }

    // One body for every caller (wasm size).
    fn control_dyn(&self, event: &mut dyn FnMut(&mut Panel, f64, u32) -> Vec<Out>) {
        self.runtime.try_with_value(|rt| {
            let buffered = rt.buffered();
            rt.act(|s, now| s.control(now, |p, now| event(p, now, buffered)));
        });
    }

    /// Where the current address came from, and the page's own default.
    pub fn url_source(&self) -> (Source, String) {
        self.runtime.with_value(|rt| (rt.source.get(), rt.default_url.clone()))
    }

    /// Sends the pairing token the person typed, if the device is waiting for one.
    pub fn submit_token(&self, token: &str) {
        self.runtime.with_value(|rt| rt.act(|s, now| s.submit_token(token, now)));
    }

    /// Connects to `url` (already normalised) and remembers it; `None` forgets the saved address
    /// and goes back to the page's own host.
    pub fn choose_url(&self, url: Option<String>) {
        self.runtime.with_value(|rt| {
            dom::storage_set(SAVED_URL_KEY, url.as_deref());
            let (url, source) = match url {
                Some(url) => (url, Source::Saved),
                None => (rt.default_url.clone(), Source::PageHost),
            };
            rt.source.set(source);
            let token = load_token(&url);
            rt.act(|s, now| s.set_url(url, token, now));
        });
    }
}

/// Pairing tokens are kept per device *address*, never per name: a device that copies another's
/// name must not be sent its token.
fn token_key(url: &str) -> String {
    format!("wsdeck.token.{url}")
}

fn load_token(url: &str) -> Option<String> {
    dom::storage_get(&token_key(url)).filter(|t| !t.is_empty())
}

/// Starts the connection and provides it as context. Everything it acquires is released when the
/// calling component is cleaned up.
pub fn provide_connection() -> Connection {
    let location = dom::window().map(|w| w.location());
    let protocol = location.as_ref().and_then(|l| l.protocol().ok()).unwrap_or_default();
    let host = location.as_ref().and_then(|l| l.host().ok()).unwrap_or_default();
    let query = location
        .as_ref()
        .and_then(|l| l.search().ok())
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get("ws"));
    let saved = dom::storage_get(SAVED_URL_KEY);
    let (url, source) = url::resolve(query.as_deref(), saved.as_deref(), &protocol, &host);

    let now = dom::now_ms();
    let token = load_token(&url);
    let (mut session, first) = Session::with_token(url, token, now);
    let status = RwSignal::new(session.status(now));
    let telemetry_frame = RwSignal::new(0u64);
    let log_version = RwSignal::new(0u64);
    let second = RwSignal::new(0u64);
    let controls = RwSignal::new(0u64);
    let ctl = RwSignal::new(0u64);
    let origin = location.as_ref().and_then(|l| l.origin().ok()).unwrap_or_default();
    let runtime = Rc::new_cyclic(|this| Runtime {
        this: this.clone(),
        session: RefCell::new(session),
        default_url: url::default_url(&protocol, &host),
        page_origin: origin,
        source: std::cell::Cell::new(source),
        status,
        telemetry_frame,
        log_version,
        second,
        controls,
        ctl,
        wire: RefCell::new(None),
        opening: std::cell::Cell::new(0),
        keepalive: RefCell::new(Vec::new()),
        ticker: RefCell::new(None),
    });
    runtime.start(first);

    let owned = SendWrapper::new(runtime.clone());
    on_cleanup(move || owned.take().stop());

    let conn = Connection {
        status: status.read_only(),
        telemetry_frame: telemetry_frame.read_only(),
        log_version: log_version.read_only(),
        second: second.read_only(),
        controls: controls.read_only(),
        ctl: ctl.read_only(),
        runtime: StoredValue::new_local(runtime),
    };
    provide_context(conn);
    conn
}

/// The connection's runtime: the session, the one socket, the timer and the page listeners.
struct Runtime {
    this: Weak<Runtime>,
    session: RefCell<Session>,
    default_url: String,
    /// Where the page was loaded from (`http://127.0.0.1:8080`), for probes and their answers.
    page_origin: String,
    source: std::cell::Cell<Source>,
    status: RwSignal<Status>,
    telemetry_frame: RwSignal<u64>,
    log_version: RwSignal<u64>,
    second: RwSignal<u64>,
    controls: RwSignal<u64>,
    ctl: RwSignal<u64>,
    wire: RefCell<Option<Wire>>,
    /// Bumped by every open and close: a link whose code is still loading opens only if no
    /// other open or close came meanwhile.
    opening: std::cell::Cell<u64>,
    /// Page listeners (online, offline, visibility, pageshow).
    keepalive: RefCell<Vec<Listener>>,
    ticker: RefCell<Option<Interval>>,
}

impl Runtime {
    /// The one door for every event: borrows the session, hands it the event with the time,
    /// carries out what it decides and publishes the change to the UI.
    fn act(&self, event: impl FnOnce(&mut Session, f64) -> Vec<Action>) {
        let actions = event(&mut self.session.borrow_mut(), dom::now_ms());
        self.apply(actions);
        self.refresh();
    }

    /// A page event routed through [`Runtime::act`]; removed with the runtime.
    fn listen(
        &self,
        target: &web_sys::EventTarget,
        kind: &'static str,
        event: impl Fn(&mut Session, f64) -> Vec<Action> + 'static,
    ) -> Listener {
        let weak = self.this.clone();
        Listener::new(target, kind, move |_| {
            if let Some(rt) = weak.upgrade() {
                rt.act(&event);
            }
        })
    }

    fn start(&self, first: Action) {
        self.apply(vec![first]);
        let weak = self.this.clone();
        *self.ticker.borrow_mut() = Interval::new(TICK_MS, move || {
            if let Some(rt) = weak.upgrade() {
                let buffered = rt.buffered();
                rt.act(|s, now| {
                    let mut actions = s.tick(now, dom::random());
                    actions.extend(s.control(now, |p, now| p.tick(now, buffered)));
                    actions
                });
                #[cfg(feature = "fleet")]
                rt.through_carrier(CarrierInput::Tick);
            }
        });
        let Some(window) = dom::window() else { return };
        let mut listeners = vec![
            self.listen(&window, "online", |s, now| s.set_online(true, now)),
            self.listen(&window, "offline", |s, now| s.set_online(false, now)),
            self.listen(&window, "pageshow", |s, now| s.wake(now)),
        ];
        if let Some(doc) = window.document() {
            let visible = doc.clone();
            listeners.push(self.listen(&doc, "visibilitychange", move |s, now| {
                if visible.hidden() {
                    Vec::new()
                } else {
                    s.wake(now)
                }
            }));
        }
        *self.keepalive.borrow_mut() = listeners;
        if !window.navigator().on_line() {
            self.act(|s, now| s.set_online(false, now));
        }
    }

    fn buffered(&self) -> u32 {
        self.wire.borrow().as_ref().map(|w| w.ws.buffered_amount()).unwrap_or(0)
    }

    /// Releases the socket, the timer and the listeners.
    fn stop(&self) {
        self.opening.set(self.opening.get().wrapping_add(1));
        self.wire.borrow_mut().take();
        self.ticker.borrow_mut().take();
        self.keepalive.borrow_mut().clear();
    }

    fn apply(&self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Open => self.open(),
                // Dropping the wire detaches its handlers first, so its close event never arrives.
                Action::Close(_) => {
                    self.opening.set(self.opening.get().wrapping_add(1));
                    drop(self.wire.borrow_mut().take());
                }
                Action::Send(frame) => {
                    self.send(&frame);
                }
                Action::Token(store) => {
                    let token = match &store {
                        Store::Save(t) => Some(t.as_str()),
                        Store::Forget => None,
                    };
                    dom::storage_set(&token_key(self.session.borrow().url()), token);
                }
                Action::Probe(url) => self.probe(url),
            }
        }
    }

    /// Sends a frame if the socket is open, noting it (a device that closes at once is told about
    /// with what it was sent last).
    fn send(&self, frame: &str) -> bool {
        let sent = self.wire.borrow_mut().as_mut().is_some_and(|w| w.send(frame));
        if sent {
            self.session.borrow_mut().note_sent(frame);
        }
        sent
    }

    /// Asks the device's address over HTTP why the WebSocket did not open. From another origin the
    /// answer is opaque (`no-cors`): it still tells "something answers" from "nothing does".
    fn probe(&self, url: String) {
        let same = probe::same_origin(self.session.borrow().url(), &self.page_origin);
        let weak = self.this.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mode = if same { web_sys::RequestMode::SameOrigin } else { web_sys::RequestMode::NoCors };
            let request = gloo_net::http::Request::get(&url).mode(mode).cache(web_sys::RequestCache::NoStore);
            let answer = match request.send().await {
                Err(_) => Answer::Nothing,
                Ok(r) if r.type_() == web_sys::ResponseType::Opaque => Answer::Hidden,
                Ok(r) => Answer::Status(r.status()),
            };
            // The app may have been closed, or pointed elsewhere, while the request was out.
            if let Some(rt) = weak.upgrade() {
                let origin = rt.page_origin.clone();
                rt.act(|s, now| {
                    s.on_probe(now, &url, answer, &origin);
                    Vec::new()
                });
            }
        });
    }

    fn open(&self) {
        // Never two sockets at once.
        drop(self.wire.borrow_mut().take());
        self.opening.set(self.opening.get().wrapping_add(1));
        let url = self.session.borrow().url().to_string();
        #[cfg(feature = "fleet")]
        if crate::fleet::carrier::parse_address(&url).is_some() && !chunks::is_loaded(Chunk::Carrier) {
            self.load_carrier_then_open(url);
            return;
        }
        match Wire::open(&url, self.this.clone()) {
            Ok(wire) => *self.wire.borrow_mut() = Some(wire),
            Err(e) => {
                let now = dom::now_ms();
                let mut session = self.session.borrow_mut();
                session.log_mut().app(
                    now,
                    wsdeck_protocol::LogLevel::Error,
                    format!("cannot open {url}: {e}"),
                );
                // No probe (what it returns) for an address the browser would not even try.
                let _ = session.on_close(now, 1006, dom::random());
            }
        }
    }

    /// Publishes what changed to the UI. Called per tick and after link events, never per frame.
    fn refresh(&self) {
        let now = dom::now_ms();
        let (status, telemetry_changed, log_version, controls) = {
            let mut s = self.session.borrow_mut();
            let changed = s.series_mut().take_changed();
            let controls = (s.controls().set_version(), s.controls().version());
            (s.status(now), changed, s.log().version(), controls)
        };
        if self.controls.get_untracked() != controls.0 {
            self.controls.set(controls.0);
        }
        if self.ctl.get_untracked() != controls.1 {
            self.ctl.set(controls.1);
        }
        if self.status.with_untracked(|old| *old != status) {
            self.status.set(status);
        }
        if telemetry_changed {
            self.telemetry_frame.update(|v| *v += 1);
        }
        if self.log_version.get_untracked() != log_version {
            self.log_version.set(log_version);
        }
        let second = (now / 1000.0) as u64;
        if self.second.get_untracked() != second {
            self.second.set(second);
        }
    }

    fn on_open(&self) {
        #[cfg(feature = "fleet")]
        if self.through_carrier(CarrierInput::SocketOpen) {
            return;
        }
        self.session_open();
    }

    /// The device's link opened (its WebSocket, or its carrier over the broker).
    fn session_open(&self) {
        let on_connect = prefs::load(self.session.borrow().url()).on_connect;
        self.act(|s, now| s.on_open(now, on_connect.as_deref()));
    }

    fn on_message(&self, event: MessageEvent) {
        let data = event.data();
        #[cfg(feature = "fleet")]
        if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
            let bytes = js_sys::Uint8Array::new(buf).to_vec();
            if self.through_carrier(CarrierInput::SocketBytes(&bytes)) {
                return;
            }
        }
        self.on_frame(data);
    }

    fn on_text(&self, text: &str) {
        let actions = self.session.borrow_mut().on_text(dom::now_ms(), text);
        // Frames come at up to 2 kHz: the UI is refreshed by the tick, not per frame.
        if !actions.is_empty() {
            self.apply(actions);
            self.refresh();
        }
    }

    /// A frame from the device: text is protocol, binary is not (counted and dropped).
    fn on_frame(&self, data: JsValue) {
        if let Some(text) = data.dyn_ref::<js_sys::JsString>() {
            // Each UTF-16 unit is at least one UTF-8 byte: an over-long frame is dropped before it
            // is copied into wasm memory.
            let units = text.length() as usize;
            if units > wsdeck_protocol::MAX_FRAME_LEN {
                self.session.borrow_mut().on_oversized(dom::now_ms(), units);
            } else {
                self.on_text(&String::from(text));
            }
        } else {
            let len = data.dyn_ref::<js_sys::ArrayBuffer>().map(|b| b.byte_length() as usize).unwrap_or(0);
            self.session.borrow_mut().on_binary(dom::now_ms(), len);
        }
    }

    fn on_close(&self, event: CloseEvent) {
        #[cfg(feature = "fleet")]
        if self.through_carrier(CarrierInput::SocketClose) {
            return;
        }
        self.wire.borrow_mut().take();
        self.act(|s, now| s.on_close(now, event.code(), dom::random()));
    }
}

#[cfg(feature = "fleet")]
impl Runtime {
    /// Fetches the broker link's code, then opens `url` through it, unless the session closed,
    /// opened again or moved elsewhere meanwhile. A chunk that cannot be fetched is a failed
    /// open, retried by the session's backoff as any other.
    fn load_carrier_then_open(&self, url: String) {
        let opening = self.opening.get();
        let weak = self.this.clone();
        leptos::task::spawn_local(async move {
            let loaded = chunks::load(Chunk::Carrier).await;
            let Some(rt) = weak.upgrade() else { return };
            if rt.opening.get() != opening || rt.session.borrow().url() != url {
                return;
            }
            match loaded {
                Ok(()) => rt.open(),
                Err(_) => rt.act(|s, now| {
                    s.log_mut().app(
                        now,
                        wsdeck_protocol::LogLevel::Error,
                        format!("cannot open {url}: the broker link's code could not be fetched"),
                    );
                    s.on_close(now, 1006, dom::random())
                }),
            }
        });
    }

    /// Hands the broker's socket event to the device's carrier, if the link goes through one,
    /// and carries out what it says; false for a plain WebSocket.
    fn through_carrier(&self, input: CarrierInput<'_>) -> bool {
        let now = dom::now_ms();
        let events = {
            let mut wire = self.wire.borrow_mut();
            let Some(w) = wire.as_mut() else { return false };
            if w.carrier.is_none() {
                return false;
            }
            let (_, events) = chunks::carry(&mut w.carrier, now, input).unwrap_or_default();
            // Bytes for the broker go out at once, under the same borrow.
            events
                .into_iter()
                .filter(|e| match e {
                    CarrierEvent::Send(b) => {
                        let _ = w.ws.send_with_u8_array(b);
                        false
                    }
                    CarrierEvent::OpenSocket | CarrierEvent::CloseSocket => false,
                    _ => true,
                })
                .collect::<Vec<_>>()
        };
        for e in events {
            match e {
                CarrierEvent::Opened => self.session_open(),
                // The broker's payloads are at most mqtt::MAX_PACKET bytes.
                CarrierEvent::Frame(text) if text.len() > wsdeck_protocol::MAX_FRAME_LEN => {
                    self.session.borrow_mut().on_oversized(now, text.len());
                }
                CarrierEvent::Frame(text) => self.on_text(&text),
                CarrierEvent::Closed(why) => {
                    self.wire.borrow_mut().take();
                    self.act(|s, now| {
                        s.log_mut().app(now, wsdeck_protocol::LogLevel::Warn, format!("broker: {why}"));
                        s.on_close(now, 1006, dom::random())
                    });
                }
                _ => {}
            }
        }
        true
    }
}

/// One WebSocket with its handlers. Dropping it detaches the handlers, then closes the socket.
struct Wire {
    _held: dom::Held,
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    /// The device's link over a broker (`ws://host/mqtt#<id>`): this socket is the broker's.
    #[cfg(feature = "fleet")]
    carrier: Option<Carrier>,
}

impl Wire {
    fn open(url: &str, runtime: Weak<Runtime>) -> Result<Wire, String> {
        #[cfg(feature = "fleet")]
        let (url, carrier) = match crate::fleet::carrier::parse_address(url) {
            Some((broker, device)) => {
                let login = crate::fleet::broker::Broker::load().login();
                let mut carrier = None;
                // The socket is the carrier's to open ([`Runtime::open`] loaded its chunk).
                chunks::carry(&mut carrier, dom::now_ms(), CarrierInput::Start(login, device))
                    .ok_or("the broker link's code is not loaded")?;
                (broker, carrier)
            }
            None => (url, None),
        };
        #[cfg(feature = "fleet")]
        let ws = match &carrier {
            Some(_) => WebSocket::new_with_str(url, "mqtt"),
            None => WebSocket::new(url),
        };
        #[cfg(not(feature = "fleet"))]
        let ws = WebSocket::new(url);
        let ws = ws.map_err(|e| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "invalid address".into())
        })?;
        // Binary frames are not part of v1; an ArrayBuffer is cheaper to count and drop than a Blob.
        ws.set_binary_type(BinaryType::Arraybuffer);
        let d = runtime.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(d) = d.upgrade() {
                d.on_open();
            }
        });
        let d = runtime.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e| {
            if let Some(d) = d.upgrade() {
                d.on_message(e);
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e| {
            if let Some(d) = runtime.upgrade() {
                d.on_close(e);
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Wire {
            _held: dom::Held::new(),
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            #[cfg(feature = "fleet")]
            carrier,
        })
    }

    fn send(&mut self, frame: &str) -> bool {
        #[cfg(feature = "fleet")]
        if self.carrier.is_some() {
            let Some((sent, events)) =
                chunks::carry(&mut self.carrier, dom::now_ms(), CarrierInput::Send(frame))
            else {
                return false;
            };
            for e in events {
                if let CarrierEvent::Send(b) = e {
                    if self.ws.send_with_u8_array(&b).is_err() {
                        return false;
                    }
                }
            }
            return sent;
        }
        self.ws.ready_state() == WebSocket::OPEN && self.ws.send_with_str(frame).is_ok()
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
