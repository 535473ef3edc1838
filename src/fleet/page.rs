//! The Fleet page (`#/fleet`, a chunk of its own) and the broker's Settings card. The page keeps
//! its own MQTT connection to the broker while it is open: every device's `status` and `hello`,
//! and the `up` of the devices on screen only ([`Roster::follow`]); the list is virtual
//! ([`Grid`]): cards exist for the rows in view only. Cards are plain DOM, updated in place, so
//! hundreds of devices cost no generic views; tapping one opens Drive on it through the broker.

use super::broker::{self, Broker};
use super::carrier;
use super::mqtt::{Client, Out};
use super::roster::{Device, Grid, Roster};
use super::topics;
use crate::connection::Connection;
use crate::dom::{self, Held, Interval, Listener, ResizeWatch};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, Document, Element, MessageEvent, WebSocket};

/// Keep-alive and retry checks.
const TICK_MS: i32 = 100;
/// Cards are redrawn at most this often (ages, values), not per message.
const REDRAW_MS: f64 = 500.0;

#[component]
pub fn FleetPage() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let settings = Broker::load();
    let host = NodeRef::<leptos::html::Div>::new();
    let filter = RwSignal::new(String::new());
    let status = RwSignal::new(String::from("No broker set: add one in Settings."));
    let count = RwSignal::new(String::new());
    if !settings.url.is_empty() {
        let fleet = Fleet::start(settings.clone(), host, filter, status, count, conn);
        let owned = SendWrapper::new(fleet);
        on_cleanup(move || owned.take().stop());
    }
    view! {
        <section class="card fleet-head">
            <h2>"Fleet"</h2>
            <p class="hint" role="status" data-testid="fleet-status">{move || status.get()}</p>
            <input type="search" placeholder="Filter by name or id" aria-label="Filter devices"
                data-testid="fleet-filter" prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))/>
            <p class="hint" data-testid="fleet-count">{move || count.get()}</p>
        </section>
        <div class="fleet-cards" node_ref=host></div>
    }
}

/// The page's broker connection, its roster and the cards drawn from it.
/// Which cards are placed: the range of the ordered ids, and the list's width they were laid out in.
#[derive(Clone, PartialEq)]
struct Window {
    rows: std::ops::Range<usize>,
    width: i32,
}

struct Fleet {
    this: Weak<Fleet>,
    settings: Broker,
    client: RefCell<Client>,
    roster: RefCell<Roster>,
    socket: RefCell<Option<Socket>>,
    cards: RefCell<HashMap<String, Card>>,
    ticker: RefCell<Option<Interval>>,
    click: RefCell<Option<Listener>>,
    host: NodeRef<leptos::html::Div>,
    filter: RwSignal<String>,
    status: RwSignal<String>,
    count: RwSignal<String>,
    drawn: RefCell<(u64, String, f64)>,
    /// The filtered, sorted ids of the last redraw; cards go to the ones in view.
    order: RefCell<Vec<String>>,
    scroll: RefCell<Option<Listener>>,
    resize: RefCell<Option<ResizeWatch>>,
    /// A card's height as last measured.
    card_px: Cell<f64>,
    /// The rows last placed and the list's width: a scroll that keeps both changes nothing.
    placed: RefCell<Option<Window>>,
    conn: Connection,
}

impl Fleet {
    fn start(
        settings: Broker,
        host: NodeRef<leptos::html::Div>,
        filter: RwSignal<String>,
        status: RwSignal<String>,
        count: RwSignal<String>,
        conn: Connection,
    ) -> Rc<Fleet> {
        let mut client = Client::new(settings.login(), true);
        client.subscribe(0.0, topics::ALL_STATUS);
        client.subscribe(0.0, topics::ALL_HELLO);
        let fleet = Rc::new_cyclic(|this| Fleet {
            this: this.clone(),
            settings,
            client: RefCell::new(client),
            roster: RefCell::new(Roster::default()),
            socket: RefCell::new(None),
            cards: RefCell::new(HashMap::new()),
            ticker: RefCell::new(None),
            click: RefCell::new(None),
            host,
            filter,
            status,
            count,
            drawn: RefCell::new((u64::MAX, String::new(), 0.0)),
            order: RefCell::new(Vec::new()),
            scroll: RefCell::new(None),
            resize: RefCell::new(None),
            card_px: Cell::new(112.0),
            placed: RefCell::new(None),
            conn,
        });
        status.set(format!("Connecting to {}…", fleet.settings.url));
        fleet.act(|c, now| c.connect(now));
        let weak = fleet.this.clone();
        *fleet.ticker.borrow_mut() = Interval::new(TICK_MS, move || {
            if let Some(f) = weak.upgrade() {
                f.act(|c, now| c.tick(now, dom::random()));
                f.redraw(false);
            }
        });
        fleet
    }

    fn stop(&self) {
        self.ticker.borrow_mut().take();
        self.click.borrow_mut().take();
        self.scroll.borrow_mut().take();
        self.resize.borrow_mut().take();
        self.socket.borrow_mut().take();
        self.cards.borrow_mut().clear();
    }

    /// The one door: the client decides, this carries it out.
    fn act(&self, event: impl FnOnce(&mut Client, f64) -> Vec<Out>) {
        let now = dom::now_ms();
        let outs = event(&mut self.client.borrow_mut(), now);
        let mut changed = false;
        for out in outs {
            match out {
                Out::Open => self.open(),
                Out::Close => drop(self.socket.borrow_mut().take()),
                Out::Send(bytes) => {
                    if let Some(s) = self.socket.borrow().as_ref() {
                        let _ = s.ws.send_with_u8_array(&bytes);
                    }
                }
                Out::Connected => self.status.set(format!("Connected to {}", self.settings.url)),
                Out::Lost(why) => self.status.set(format!("Broker: {why}; trying again")),
                Out::Message { topic, payload, .. } => {
                    changed |= self.roster.borrow_mut().on_message(now, &topic, &payload);
                }
            }
        }
        if changed {
            self.redraw(false);
        }
    }

    fn open(&self) {
        drop(self.socket.borrow_mut().take());
        match Socket::open(&self.settings.url, self.this.clone()) {
            Some(s) => *self.socket.borrow_mut() = Some(s),
            None => self.status.set(format!("Cannot open {}", self.settings.url)),
        }
    }

    /// Sorts and filters the roster again, at most every [`REDRAW_MS`] (`now_please`: at once),
    /// then places the cards.
    fn redraw(&self, now_please: bool) {
        let now = dom::now_ms();
        let filter = self.filter.get_untracked();
        let version = self.roster.borrow().version();
        {
            let drawn = self.drawn.borrow();
            let same = drawn.0 == version && drawn.1 == filter;
            if !now_please && (now - drawn.2 < REDRAW_MS || (same && now - drawn.2 < 1000.0)) {
                return;
            }
        }
        *self.drawn.borrow_mut() = (version, filter.clone(), now);
        {
            let roster = self.roster.borrow();
            let list = roster.view(&filter);
            self.count.set(if list.len() == roster.len() {
                format!("{} devices", roster.len())
            } else {
                format!("{} of {} devices", list.len(), roster.len())
            });
            *self.order.borrow_mut() = list.iter().map(|d| d.id.clone()).collect();
        }
        self.place();
    }

    /// Gives cards to the devices of the list in view (the list is virtual: [`Grid`]), in
    /// order, drops the others', and follows the `up` of exactly those.
    fn place(&self) {
        self.place_once(true);
    }

    /// [`Fleet::place`]; `measure`: once more if the cards are not as tall as thought.
    fn place_once(&self, measure: bool) {
        let now = dom::now_ms();
        let (Some(host), Some(doc)) = (self.host.get_untracked(), dom::window().and_then(|w| w.document()))
        else {
            return;
        };
        if self.click.borrow().is_none() {
            *self.click.borrow_mut() = Some(self.on_tap(&host));
            // The page scrolls in `.page`; its scroll and the list's width move the window.
            let scroller: web_sys::EventTarget = match host.closest(".page").ok().flatten() {
                Some(page) => page.into(),
                None => doc.clone().into(),
            };
            let weak = self.this.clone();
            *self.scroll.borrow_mut() = Some(Listener::new(&scroller, "scroll", move |_| {
                if let Some(f) = weak.upgrade() {
                    f.on_scroll();
                }
            }));
            let weak = self.this.clone();
            *self.resize.borrow_mut() = ResizeWatch::new(&host, move || {
                if let Some(f) = weak.upgrade() {
                    f.place();
                }
            });
        }
        let (window, grid) = self.window(&host);
        *self.placed.borrow_mut() = Some(window.clone());
        let shown: Vec<String> = {
            let order = self.order.borrow();
            let range = window.rows.clone();
            let style = web_sys::HtmlElement::style(&host);
            let _ = style.set_property("padding-top", &format!("{}px", grid.offset_px(range.start)));
            let _ = style.set_property("height", &format!("{}px", grid.height_px(order.len())));
            let roster = self.roster.borrow();
            let mut cards = self.cards.borrow_mut();
            let shown = &order[range];
            for id in shown {
                let Some(d) = roster.get(id) else { continue };
                if !cards.contains_key(id) {
                    let Some(card) = Card::new(&doc, id) else { continue };
                    cards.insert(id.clone(), card);
                }
                let Some(card) = cards.get_mut(id) else { continue };
                card.update(d, now);
                // In order: append moves an existing node to the end.
                let _ = host.append_child(&card.root);
            }
            cards.retain(|id, card| {
                let kept = shown.contains(id);
                if !kept {
                    card.root.remove();
                }
                kept
            });
            shown.to_vec()
        };
        // Rows as tall as the cards are (fonts, zoom): measured, and placed again if they differ.
        let measured = shown.first().and_then(|id| {
            let cards = self.cards.borrow();
            cards.get(id).map(|c| c.root.get_bounding_client_rect().height())
        });
        if let Some(h) = measured.filter(|h| measure && *h > 0.0 && (h - self.card_px.get()).abs() > 0.5) {
            self.card_px.set(h);
            return self.place_once(false);
        }
        let follow = self.roster.borrow_mut().follow(shown.iter().map(String::as_str));
        self.act(|c, now| {
            let mut out = Vec::new();
            for t in &follow.unsubscribe {
                out.extend(c.unsubscribe(now, t));
            }
            for t in &follow.subscribe {
                out.extend(c.subscribe(now, t));
            }
            out
        });
    }

    /// Scrolling within the rows already placed (most scroll events) costs a measurement only.
    fn on_scroll(&self) {
        let Some(host) = self.host.get_untracked() else { return };
        let window = self.window(&host).0;
        if self.placed.borrow().as_ref() != Some(&window) {
            self.place();
        }
    }

    /// The rows in view now, and the grid they are laid out in.
    fn window(&self, host: &Element) -> (Window, Grid) {
        let view_px =
            dom::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0);
        let width = host.client_width();
        let grid = Grid::new(f64::from(width), self.card_px.get());
        let rows = grid.shown(self.order.borrow().len(), host.get_bounding_client_rect().top(), view_px);
        (Window { rows, width }, grid)
    }

    /// One listener for every card: tapping one opens Drive on that device, through the broker.
    fn on_tap(&self, host: &Element) -> Listener {
        let url = self.settings.url.clone();
        let conn = self.conn;
        Listener::new(host, "click", move |ev| {
            let card = ev
                .target()
                .and_then(|t| t.dyn_into::<Element>().ok())
                .and_then(|e| e.closest("[data-id]").ok().flatten());
            if let Some(id) = card.and_then(|c| c.get_attribute("data-id")) {
                conn.choose_url(Some(carrier::address(&url, &id)));
                if let Some(w) = dom::window() {
                    let _ = w.location().set_hash("#/drive");
                }
            }
        })
    }

    fn on_socket_open(&self) {
        self.act(|c, now| c.on_open(now));
    }

    fn on_socket_message(&self, e: MessageEvent) {
        if let Some(buf) = e.data().dyn_ref::<js_sys::ArrayBuffer>() {
            let bytes = js_sys::Uint8Array::new(buf).to_vec();
            self.act(|c, now| c.on_bytes(now, dom::random(), &bytes));
        }
    }

    fn on_socket_close(&self) {
        self.socket.borrow_mut().take();
        self.act(|c, now| c.on_close(now, dom::random()));
    }
}

/// One device's card: the elements that change.
struct Card {
    root: Element,
    name: Element,
    state: Element,
    age: Element,
    keys: Element,
    last: (String, Option<bool>, String, String),
}

impl Card {
    fn new(doc: &Document, id: &str) -> Option<Card> {
        let root = doc.create_element("button").ok()?;
        for (k, v) in
            [("type", "button"), ("class", "card fleet-card"), ("data-id", id), ("data-testid", "fleet-card")]
        {
            let _ = root.set_attribute(k, v);
        }
        let child = |class: &str| {
            let e = doc.create_element("span").ok()?;
            let _ = e.set_attribute("class", class);
            let _ = root.append_child(&e);
            Some(e)
        };
        let (name, state, age, keys) =
            (child("fleet-name")?, child("fleet-state")?, child("fleet-age")?, child("fleet-keys")?);
        Some(Card { root, name, state, age, keys, last: Default::default() })
    }

    /// Touches only what changed.
    fn update(&mut self, d: &Device, now_ms: f64) {
        if self.last.0 != d.title() {
            self.last.0 = d.title().to_string();
            self.name.set_text_content(Some(d.title()));
        }
        if self.last.1 != d.online || self.last.0.is_empty() {
            self.last.1 = d.online;
            let (text, class) = match d.online {
                Some(true) => ("online", "fleet-state on"),
                Some(false) => ("offline", "fleet-state off"),
                None => ("?", "fleet-state"),
            };
            self.state.set_text_content(Some(text));
            let _ = self.state.set_attribute("class", class);
            let _ = self.root.set_attribute("data-online", text);
        }
        let age = d.age_s(now_ms).map(|s| format!("{s:.0} s ago")).unwrap_or_default();
        if self.last.2 != age {
            self.age.set_text_content(Some(&age));
            self.last.2 = age;
        }
        let keys = d.keys.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ");
        if self.last.3 != keys {
            self.keys.set_text_content(Some(&keys));
            self.last.3 = keys;
        }
    }
}

/// The broker's WebSocket with its handlers; dropping it detaches them and closes it.
struct Socket {
    _held: Held,
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl Socket {
    fn open(url: &str, fleet: Weak<Fleet>) -> Option<Socket> {
        let ws = WebSocket::new_with_str(url, "mqtt").ok()?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let f = fleet.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = f.upgrade() {
                f.on_socket_open();
            }
        });
        let f = fleet.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e| {
            if let Some(f) = f.upgrade() {
                f.on_socket_message(e);
            }
        });
        let on_close = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = fleet.upgrade() {
                f.on_socket_close();
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Some(Socket {
            _held: Held::new(),
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}

/// Settings' broker card: address, optional login, and a link to the Fleet page.
#[component]
pub fn BrokerCard() -> impl IntoView {
    let saved = Broker::load();
    let url = RwSignal::new(saved.url.clone());
    let user = RwSignal::new(saved.username.clone());
    let password = RwSignal::new(saved.password.clone());
    let note = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = url.get_untracked();
        let normalized = if typed.trim().is_empty() { Ok(String::new()) } else { broker::normalize(&typed) };
        match normalized {
            Ok(u) => {
                url.set(u.clone());
                Broker { url: u, username: user.get_untracked(), password: password.get_untracked() }.save();
                note.set(Some("Saved.".into()));
            }
            Err(e) => note.set(Some(e.into())),
        }
    };
    view! {
        <section class="card" data-testid="broker-card">
            <h2>"Broker (fleet mode)"</h2>
            <form class="url-form" on:submit=save>
                <label for="broker-url">"MQTT over WebSocket address"</label>
                <input id="broker-url" type="text" inputmode="url" autocomplete="off" autocapitalize="off"
                    spellcheck="false" placeholder="ws://192.168.1.10:9001/mqtt"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                <label for="broker-user">"User (optional)"</label>
                <input id="broker-user" type="text" autocomplete="username" autocapitalize="off"
                    prop:value=move || user.get() on:input=move |ev| user.set(event_target_value(&ev))/>
                <label for="broker-password">"Password (optional)"</label>
                <input id="broker-password" type="password" autocomplete="current-password"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                <p class="hint" role="status" data-testid="broker-note">{move || note.get()}</p>
                <div class="buttons">
                    <button type="submit">"Save"</button>
                    <a class="button secondary" href="#/fleet" data-testid="open-fleet">"Open Fleet"</a>
                </div>
            </form>
            <p class="hint">
                "This phone is " <code>{broker::client_id()}</code> " on the broker. The password is kept "
                "in this browser in plain text."
            </p>
        </section>
    }
}
