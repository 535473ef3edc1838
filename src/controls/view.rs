//! The controls as the device declared them: the Controls page (groups as cards, in declaration
//! order) and the `drive` ones for the Drive page. Thin: every decision is the [`Panel`]'s. The
//! rows are built with plain DOM calls and one event handler, not `view!`: a device may declare
//! 128 controls of 9 kinds, and generic views of each would cost the flash several times more.
//! Each row is updated on its own when what it shows changes, and a gauge is one canvas
//! (`gauge.rs`), so a gauge moving at telemetry rate redraws only its own pixels.

use super::gauge::{Gauge, Look};
use super::model::{Panel, Shown};
use crate::connection::Connection;
use crate::device::prefs;
use crate::dom::{self, el, Listener};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, KeyboardEvent, PointerEvent};
use wsdeck_protocol::{Control, ControlKind, CtlValue};

/// The Controls page: the device's controls, or the phone-side buttons set for a device that
/// declares none.
#[component]
pub fn ControlsPage() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let (host, _) = rows(conn, false);
    view! { <div class="controls" node_ref=host></div> }
}

/// The controls the device marked `drive: true`, for the Drive page; nothing when there are none.
#[component]
pub fn DriveControls() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let (host, empty) = rows(conn, true);
    view! {
        <div class="ctls drive-ctls" role="group" aria-label="Device controls" node_ref=host hidden=empty></div>
    }
}

/// What `rows` has put on the page: for which declaration, each control's row, and the
/// phone-side buttons' listeners.
#[derive(Default)]
struct Built {
    set: Option<u64>,
    rows: Vec<Row>,
    extra: Vec<Listener>,
    /// What gauges are drawn with.
    look: Look,
    /// A new size (rotation, zoom, the page shown), theme or forced colours: the gauges are
    /// fitted and drawn again.
    refit: Option<dom::ResizeWatch>,
    colours: Vec<Listener>,
    /// Which gauges are on screen.
    watch: Option<dom::VisibleWatch>,
}

impl Built {
    /// Fits every gauge to its box and draws it again, with the page's look as it is now.
    fn refit(&mut self, host: &Element) {
        self.look = Look::read(host);
        // Every box read before any canvas is resized: a resized canvas has its row laid out
        // again, and a read after it would force that layout once per gauge.
        let boxes: Vec<_> = self.rows.iter().map(|r| r.gauge.as_ref().map(Gauge::measure)).collect();
        for (r, size) in self.rows.iter_mut().zip(boxes) {
            let (Some(g), Some(size)) = (&mut r.gauge, size) else { continue };
            g.fit(size, &self.look);
            if let Some(s) = r.shown.take() {
                r.update(Some(s), &self.look);
            }
        }
    }
}

/// One control on the page: the elements that change, and its listeners.
struct Row {
    i: usize,
    kind: ControlKind,
    row: Element,
    /// The button, switch, input or select; a gauge's canvas; a led's output.
    input: Option<Element>,
    /// The value as text (with its unit), the switch's On/Off, the led's.
    output: Option<Element>,
    /// A gauge's canvas (also its `input`, the meter).
    gauge: Option<Gauge>,
    note: Element,
    unit: String,
    /// What the row shows (`None` before the first value).
    shown: Option<Shown>,
    /// On screen, or not yet known to be off it. A gauge off screen keeps only its accessible
    /// value current and is drawn when it scrolls in: a canvas drawn is rasterized at the next
    /// frame, seen or not (30 gauges at 50 Hz: ~1 ms of a frame).
    visible: bool,
    _listeners: Vec<Listener>,
}

/// Fills `host` with the declared controls (cards of groups, or only the `drive` ones) whenever
/// the device declares a set, and keeps each row up to date; a held button is let go when the
/// page is left, hidden or loses focus. The second value: there are none to show.
fn rows(conn: Connection, drive_only: bool) -> (NodeRef<leptos::html::Div>, RwSignal<bool>) {
    let host = NodeRef::<leptos::html::Div>::new();
    let built = StoredValue::new_local(Built::default());
    let empty = RwSignal::new(true);
    // One effect: a new declaration rebuilds, a new value updates the rows it concerns.
    Effect::new(move |_| {
        conn.controls.track();
        conn.ctl.track();
        let (Some(host), Some(doc)) = (host.get(), dom::window().and_then(|w| w.document())) else { return };
        built.update_value(|b| {
            let set = conn.with_session(|s| s.controls().set_version());
            if b.set != set {
                *b = Built { set, look: Look::read(&host), ..build(conn, &doc, &host, drive_only) };
                if b.rows.iter().any(|r| r.gauge.is_some()) {
                    // `try_`: a callback queued before the page went is let fall. The observer
                    // also calls once at the start, when the gauges first have their size.
                    let h = host.clone();
                    let refit = move || {
                        built.try_update_value(|b| b.refit(&h));
                    };
                    b.refit = dom::ResizeWatch::new(&host, refit.clone());
                    b.colours = dom::on_colours_change(move |_| refit());
                    // A gauge scrolled in or out: in, it is drawn at once.
                    b.watch = dom::VisibleWatch::new(move |seen| {
                        built.try_update_value(|b| {
                            conn.with_session(|s| {
                                for (element, on) in seen {
                                    if let Some(r) =
                                        b.rows.iter_mut().find(|r| r.input.as_ref() == Some(&element))
                                    {
                                        r.visible = on;
                                        r.update(s.controls().shown(r.i), &b.look);
                                    }
                                }
                            });
                        });
                    });
                    if let Some(w) = &b.watch {
                        b.rows
                            .iter()
                            .filter(|r| r.gauge.is_some())
                            .filter_map(|r| r.input.as_ref())
                            .for_each(|c| w.observe(c));
                    }
                }
                empty.set(b.rows.is_empty());
            }
            let b = &mut *b;
            conn.with_session(|s| {
                for r in b.rows.iter_mut() {
                    r.update(s.controls().shown(r.i), &b.look);
                }
            });
        });
    });
    release_on_leave(conn);
    on_cleanup(move || {
        built.try_update_value(|b| *b = Built::default());
    });
    (host, empty)
}

/// The rows of the declared controls in `host`, or the phone-side buttons when there are none.
fn build(conn: Connection, doc: &Document, host: &Element, drive_only: bool) -> Built {
    let (controls, url): (Vec<Control>, String) = conn
        .with_session(|s| (s.controls().controls().cloned().collect(), s.url().to_string()))
        .unwrap_or_default();
    let mut built = Built::default();
    host.set_text_content(None);
    let mut cards: Vec<(Option<&str>, Element)> = Vec::new();
    for (i, c) in controls.iter().enumerate().filter(|(_, c)| c.drive || !drive_only) {
        let parent = if drive_only {
            host.clone()
        } else if let Some((_, box_)) = cards.iter().find(|(g, _)| *g == c.group.as_deref()) {
            box_.clone()
        } else {
            let card = el(doc, host, "section", &[("class", "card")], "");
            el(doc, &card, "h2", &[], c.group.as_deref().unwrap_or("Controls"));
            let box_ = el(doc, &card, "div", &[("class", "ctls")], "");
            cards.push((c.group.as_deref(), box_.clone()));
            box_
        };
        built.rows.push(row(conn, doc, &parent, i, c));
    }
    if controls.is_empty() && !drive_only {
        // A device that declares nothing: the buttons set for it in Settings, each sending its
        // text as it is.
        let card = el(doc, host, "section", &[("class", "card")], "");
        el(doc, &card, "h2", &[], "Controls");
        let group = [("class", "ctls phone-buttons"), ("role", "group"), ("aria-label", "Phone buttons")];
        let group = el(doc, &card, "div", &group, "");
        for w in prefs::load(&url).extra {
            let b = el(doc, &group, "button", &[("type", "button"), ("class", "ctl-button")], &w.label);
            built.extra.push(Listener::new(&b, "click", move |_| {
                conn.send(&w.word);
            }));
        }
        let hint = el(doc, &card, "p", &[("class", "hint")], "This device declares no controls. ");
        el(doc, &hint, "a", &[("href", "#/settings")], "Add buttons in Settings");
        let _ =
            hint.append_with_str_1(" (Extra words) that send a text of your choice: toggle, getReadings…");
    }
    built
}

/// A held button is let go when the window loses focus, the page is hidden or left (the paths
/// the Drive page stops on), and when this view goes. Listeners go with the view.
fn release_on_leave(conn: Connection) {
    let release = move || conn.control(|p, now, _| p.release_all(now));
    let mut listeners = Vec::new();
    if let Some(w) = dom::window() {
        listeners.push(Listener::new(&w, "blur", move |_| release()));
        listeners.push(Listener::new(&w, "pagehide", move |_| release()));
        if let Some(doc) = w.document() {
            let d = doc.clone();
            listeners.push(Listener::new(&doc, "visibilitychange", move |_| {
                if d.hidden() {
                    release();
                }
            }));
        }
    }
    let listeners = SendWrapper::new(listeners);
    on_cleanup(move || {
        drop(listeners.take());
        release();
    });
}

/// A number as a control shows it: up to 3 decimals, no trailing zeros.
fn number(n: f64) -> String {
    let s = format!("{n:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

fn set_value(e: &Element, v: &str) {
    let _ = js_sys::Reflect::set(e, &"value".into(), &v.into());
}

/// Builds one control's row at the end of `parent`.
fn row(conn: Connection, doc: &Document, parent: &Element, i: usize, c: &Control) -> Row {
    let row =
        el(doc, parent, "div", &[("class", "ctl"), ("data-ctl", &c.id), ("data-kind", c.kind.as_str())], "");
    let id = format!("ctl-{i}");
    let label_id = format!("{id}-l");
    let (mut input, mut output, mut unit, mut gauge) = (None, None, String::new(), None);
    let mut events: &[&'static str] = &["change"];
    let field = |attrs: &[(&str, &str)]| {
        el(doc, &row, "label", &[("class", "ctl-label"), ("for", &id)], &c.label);
        let wrap = el(doc, &row, "span", &[("class", "ctl-input")], "");
        let mut all = vec![("id", id.as_str())];
        all.extend_from_slice(attrs);
        (wrap.clone(), el(doc, &wrap, "input", &all, ""))
    };
    let reading = |tag: &str| {
        el(doc, &row, "span", &[("class", "ctl-label"), ("id", &label_id)], &c.label);
        el(doc, &row, tag, &[("aria-labelledby", &label_id)], "")
    };
    match &c.kind {
        ControlKind::Button => {
            input = Some(el(
                doc,
                &row,
                "button",
                &[("type", "button"), ("id", &id), ("class", "ctl-button")],
                &c.label,
            ));
            events = &[
                "pointerdown",
                "pointerup",
                "pointercancel",
                "lostpointercapture",
                "keydown",
                "keyup",
                "blur",
                "contextmenu",
            ];
        }
        ControlKind::Toggle => {
            let b = el(
                doc,
                &row,
                "button",
                &[("type", "button"), ("role", "switch"), ("id", &id), ("class", "ctl-switch")],
                "",
            );
            el(doc, &b, "span", &[], &c.label);
            output = Some(el(doc, &b, "span", &[("class", "state"), ("aria-hidden", "true")], ""));
            input = Some(b);
            events = &["click"];
        }
        ControlKind::Slider(r) | ControlKind::Number(r) => {
            let slider = matches!(c.kind, ControlKind::Slider(_));
            let (min, max) = (number(r.min), number(r.max));
            let step = r.step.map_or_else(|| "any".to_string(), number);
            let kind = if slider { "range" } else { "number" };
            let attrs =
                [("type", kind), ("min", &min), ("max", &max), ("step", &step), ("inputmode", "decimal")];
            let (wrap, i) = field(&attrs);
            input = Some(i);
            output = Some(el(doc, &wrap, "output", &[], ""));
            unit = r.unit.clone().unwrap_or_default();
            events = &["input", "change"];
        }
        ControlKind::Select { options } => {
            el(doc, &row, "label", &[("class", "ctl-label"), ("for", &id)], &c.label);
            let s = el(doc, &row, "select", &[("id", &id)], "");
            for o in options {
                el(doc, &s, "option", &[("value", o)], o);
            }
            input = Some(s);
        }
        ControlKind::Text { max_len } => {
            let max = max_len.to_string();
            let attrs =
                [("type", "text"), ("maxlength", &max), ("enterkeyhint", "send"), ("autocomplete", "off")];
            input = Some(field(&attrs).1);
        }
        ControlKind::Gauge { min, max, unit: u, warn, alarm } => {
            el(doc, &row, "span", &[("class", "ctl-label"), ("id", &label_id)], &c.label);
            let wrap = el(doc, &row, "span", &[("class", "ctl-input")], "");
            let attrs = [
                ("class", "gauge"),
                ("role", "meter"),
                ("aria-labelledby", label_id.as_str()),
                ("aria-valuemin", &number(*min)),
                ("aria-valuemax", &number(*max)),
                ("aria-valuenow", &number(*min)),
            ];
            let meter = el(doc, &wrap, "canvas", &attrs, "");
            unit = u.clone().unwrap_or_default();
            let widest = [*min, *max].map(|v| format!("{} {unit}", number(v)).trim_end().to_string());
            let widest = widest.into_iter().max_by_key(String::len).unwrap_or_default();
            gauge = Gauge::new(&meter, (*min, *max, *warn, *alarm), widest);
            input = Some(meter);
        }
        ControlKind::Led { color } => {
            let o = reading("output");
            let dot = el(doc, &o, "span", &[("class", "dot"), ("aria-hidden", "true")], "");
            if let (Some(color), Some(dot)) = (color, dot.dyn_ref::<web_sys::HtmlElement>()) {
                // Through the CSSOM: a CSP without 'unsafe-inline' refuses a style attribute.
                let _ = dot.style().set_property("color", color);
            }
            output = Some(el(doc, &o, "span", &[], ""));
            input = Some(o);
        }
        ControlKind::Value => output = Some(reading("output")),
    }
    if c.disabled {
        if let Some(i) = &input {
            let _ = i.set_attribute("disabled", "");
        }
    }
    let note = el(doc, &row, "span", &[("class", "ctl-note"), ("aria-live", "polite")], "");
    let mut listeners = Vec::new();
    if let Some(target) = input.as_ref().filter(|_| !c.read_only()) {
        let c = std::rc::Rc::new(c.clone());
        for kind in events {
            let c = c.clone();
            listeners.push(Listener::new(target, kind, move |ev| on_event(conn, i, &c, ev)));
        }
    }
    Row {
        i,
        kind: c.kind.clone(),
        row,
        input,
        output,
        gauge,
        note,
        unit,
        shown: None,
        visible: true,
        _listeners: listeners,
    }
}

impl Row {
    /// Shows `now` if it is new: all of it on screen, only the accessible value off it.
    fn update(&mut self, now: Option<Shown>, look: &Look) {
        let Some(now) = now.filter(|n| self.shown.as_ref() != Some(n)) else { return };
        if self.visible {
            self.show(&now, look);
            self.shown = Some(now);
        } else {
            self.show_accessible(&number(now.value.as_f64().unwrap_or(0.0)));
        }
    }

    /// What a screen reader reads of a gauge: its value, and with its unit (what is drawn).
    fn show_accessible(&self, num: &str) -> String {
        let text = self.with_unit(num);
        if let Some(meter) = self.input.as_ref().filter(|_| self.gauge.is_some()) {
            let _ = meter.set_attribute("aria-valuenow", num);
            let _ = meter.set_attribute("aria-valuetext", &text);
        }
        text
    }

    /// Puts what the control shows now on the page, touching only what changed since the last
    /// time (`self.shown`): 30 gauges at 50 Hz must not restyle their rows for nothing.
    fn show(&self, s: &Shown, look: &Look) {
        let before = self.shown.as_ref();
        if before.is_none_or(|b| b.value != s.value) {
            self.show_value(s, look);
        }
        if before.is_none_or(|b| (b.pending, b.note) != (s.pending, s.note)) {
            let _ = self.row.set_attribute("class", if s.pending { "ctl pending" } else { "ctl" });
            self.note.set_text_content(s.note.or(s.pending.then_some("Sending…")));
        }
    }

    /// A number as the row shows it, with its unit.
    fn with_unit(&self, v: &str) -> String {
        format!("{v} {}", self.unit).trim_end().to_string()
    }

    fn show_value(&self, s: &Shown, look: &Look) {
        let on = s.value.as_bool().unwrap_or(false);
        let num = number(s.value.as_f64().unwrap_or(0.0));
        let text = s.value.as_str().unwrap_or_default();
        let attr = |e: &Option<Element>, k: &str, v: &str| {
            if let Some(e) = e {
                let _ = e.set_attribute(k, v);
            }
        };
        let out = |t: &str| {
            if let Some(o) = &self.output {
                o.set_text_content(Some(t));
            }
        };
        let with_unit = |v: &str| self.with_unit(v);
        match &self.kind {
            ControlKind::Button => attr(&self.input, "aria-pressed", if on { "true" } else { "false" }),
            ControlKind::Toggle => {
                attr(&self.input, "aria-checked", if on { "true" } else { "false" });
                out(if on { "On" } else { "Off" });
            }
            ControlKind::Led { .. } => {
                attr(&self.input, "class", if on { "led on" } else { "led" });
                out(if on { "On" } else { "Off" });
            }
            ControlKind::Slider(_) | ControlKind::Number(_) => {
                if let Some(i) = &self.input {
                    set_value(i, &num);
                }
                let slider = matches!(self.kind, ControlKind::Slider(_));
                out(&if slider { with_unit(&num) } else { self.unit.clone() });
            }
            ControlKind::Select { .. } | ControlKind::Text { .. } => {
                if let Some(i) = &self.input {
                    set_value(i, text);
                }
            }
            ControlKind::Gauge { .. } => {
                let text = self.show_accessible(&num);
                if let Some(g) = &self.gauge {
                    g.draw(s.value.as_f64().unwrap_or(0.0), &text, look);
                }
            }
            ControlKind::Value => out(text),
        }
    }
}

/// The person agreed to the control's `confirm` question, or it has none.
fn confirmed(question: &Option<String>) -> bool {
    match (question, dom::window()) {
        (None, _) => true,
        (Some(q), Some(w)) => w.confirm_with_message(q).unwrap_or(false),
        (Some(_), None) => false,
    }
}

/// Every event of every control, by kind: what it means for the panel.
fn on_event(conn: Connection, i: usize, c: &Control, ev: Event) {
    let kind = ev.type_();
    let target = ev.current_target().and_then(|t| t.dyn_into::<Element>().ok());
    let press = |down: bool| conn.control(move |p, now, _| p.press(i, down, now));
    let send = |f: fn(&mut Panel, usize, CtlValue, f64, u32) -> Vec<super::model::Out>, v: CtlValue| {
        conn.control(move |p, now, buffered| f(p, i, v, now, buffered));
    };
    let shown = || conn.with_session(|s| s.controls().shown(i)).flatten();
    // A `confirm` declined, or a value that cannot be read: the input shows the control's value.
    let put_back = || {
        if let (Some(t), Some(s)) = (&target, shown()) {
            set_value(
                t,
                &s.value.as_f64().map_or_else(|| s.value.as_str().unwrap_or_default().into(), number),
            );
        }
    };
    let value = || js_sys::Reflect::get(target.as_ref()?, &"value".into()).ok()?.as_string();
    match (&c.kind, kind.as_str()) {
        (ControlKind::Button, "pointerdown") => {
            let Some(pe) = ev.dyn_ref::<PointerEvent>().filter(|p| p.button() == 0) else { return };
            ev.prevent_default();
            if let Some(t) = &target {
                let _ = t.set_pointer_capture(pe.pointer_id());
            }
            if c.confirm.is_none() {
                press(true);
            } else if confirmed(&c.confirm) {
                // Asked first, a momentary press is a tap: the dialog would swallow the release.
                press(true);
                press(false);
            }
        }
        (ControlKind::Button, "keydown" | "keyup") => {
            let Some(k) = ev.dyn_ref::<KeyboardEvent>() else { return };
            if matches!(k.key().as_str(), " " | "Enter") {
                ev.prevent_default();
                if k.repeat() {
                    return;
                }
                let down = kind == "keydown";
                if down && !confirmed(&c.confirm) {
                    return;
                }
                press(down);
                if down && c.confirm.is_some() {
                    press(false);
                }
            }
        }
        (ControlKind::Button, "contextmenu") => ev.prevent_default(),
        // Up, cancelled, capture lost, focus gone: let go.
        (ControlKind::Button, _) => press(false),
        (ControlKind::Toggle, _) => {
            let on = shown().and_then(|s| s.value.as_bool()).unwrap_or(false);
            if confirmed(&c.confirm) {
                send(Panel::set, CtlValue::Bool(!on));
            }
        }
        (ControlKind::Slider(_) | ControlKind::Number(_), _) => {
            let Some(v) = value().and_then(|v| wsdeck_protocol::parse_f64(&v)) else { return put_back() };
            let slider = matches!(c.kind, ControlKind::Slider(_));
            // Dragging: at the control's rate. Let go (change): the last value, at once. A number
            // typed or stepped goes at the rate too (a held arrow key repeats fast).
            if kind == "input" {
                if c.confirm.is_none() {
                    send(Panel::drag, CtlValue::Num(v));
                }
            } else if !confirmed(&c.confirm) {
                put_back();
            } else {
                send(if slider { Panel::set } else { Panel::drag }, CtlValue::Num(v));
            }
        }
        (ControlKind::Select { .. } | ControlKind::Text { .. }, _) => match value() {
            Some(v) if confirmed(&c.confirm) => send(Panel::set, CtlValue::Text(v)),
            _ => put_back(),
        },
        _ => {}
    }
}
