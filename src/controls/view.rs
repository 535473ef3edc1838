//! The controls as the device declared them: the Controls page (groups as cards, in declaration
//! order) and the `drive` ones for the Drive page. Thin: every decision is the [`Panel`]'s; each
//! control has its own signal, so a gauge moving at telemetry rate redraws only itself.

use super::model::{Level, Panel, Shown};
use crate::connection::Connection;
use crate::device::prefs;
use crate::dom::{self, Listener};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::{KeyboardEvent, PointerEvent};
use wsdeck_protocol::{Control, ControlKind, CtlValue};

/// A card: the group's name (none: "Controls") and its controls with their places.
type Group = (Option<String>, Vec<(usize, Control)>);

/// The Controls page: the device's controls, or the phone-side buttons set for a device that
/// declares none.
#[component]
pub fn ControlsPage() -> impl IntoView {
    let conn = expect_context::<Connection>();
    release_on_leave(conn);
    move || {
        let list = declared(conn, false);
        if list.is_empty() {
            return view! { <PhoneButtons conn/> }.into_any();
        }
        let mut groups: Vec<Group> = Vec::new();
        for (i, c) in list {
            match groups.iter_mut().find(|g| g.0 == c.group) {
                Some(g) => g.1.push((i, c)),
                None => groups.push((c.group.clone(), vec![(i, c)])),
            }
        }
        groups
            .into_iter()
            .map(|(name, items)| {
                view! {
                    <section class="card">
                        <h2>{name.unwrap_or_else(|| "Controls".into())}</h2>
                        <div class="ctls">
                            {items.into_iter().map(|(i, c)| row(conn, i, c)).collect_view()}
                        </div>
                    </section>
                }
            })
            .collect_view()
            .into_any()
    }
}

/// The controls the device marked `drive: true`, for the Drive page; nothing when there are none.
#[component]
pub fn DriveControls() -> impl IntoView {
    let conn = expect_context::<Connection>();
    release_on_leave(conn);
    move || {
        let list = declared(conn, true);
        (!list.is_empty()).then(|| {
            view! {
                <div class="ctls drive-ctls" role="group" aria-label="Device controls">
                    {list.into_iter().map(|(i, c)| row(conn, i, c)).collect_view()}
                </div>
            }
        })
    }
}

/// The declared controls with their places (only the `drive` ones if asked); follows new sets.
fn declared(conn: Connection, drive_only: bool) -> Vec<(usize, Control)> {
    conn.controls.track();
    conn.with_session(|s| {
        let all = s.controls().controls().enumerate();
        all.filter(|(_, c)| !drive_only || c.drive).map(|(i, c)| (i, c.clone())).collect()
    })
    .unwrap_or_default()
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

/// The person agreed to the control's `confirm` question, or it has none.
fn confirmed(question: &Option<String>) -> bool {
    match (question, dom::window()) {
        (None, _) => true,
        (Some(q), Some(w)) => w.confirm_with_message(q).unwrap_or(false),
        (Some(_), None) => false,
    }
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

fn input_value(ev: &leptos::ev::Event) -> Option<String> {
    let el = ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok();
    match el {
        Some(el) => Some(el.value()),
        None => Some(ev.target()?.dyn_into::<web_sys::HtmlSelectElement>().ok()?.value()),
    }
}

/// Puts an input the person changed back to what the control shows (a `confirm` declined).
fn put_back(ev: &leptos::ev::Event, shown: &Shown) {
    let text = match &shown.value {
        CtlValue::Num(n) => number(*n),
        CtlValue::Text(t) => t.clone(),
        CtlValue::Bool(_) => return,
    };
    if let Some(t) = ev.target() {
        let _ = js_sys::Reflect::set(&t, &"value".into(), &text.into());
    }
}

fn is_activate(ev: &KeyboardEvent) -> bool {
    matches!(ev.key().as_str(), " " | "Enter")
}

/// One control: its label, its input (or reading), and whether a change waits for the device.
fn row(conn: Connection, i: usize, c: Control) -> AnyView {
    let initial = Shown { value: c.initial(), pending: false, note: None };
    let now = conn.with_session(|s| s.controls().shown(i)).flatten().unwrap_or(initial);
    let shown = RwSignal::new(now);
    // Only this control's signal moves; the card stays as it is.
    Effect::new(move |_| {
        conn.ctl.track();
        if let Some(Some(v)) = conn.with_session(|s| s.controls().shown(i)) {
            if shown.with_untracked(|o| *o != v) {
                shown.set(v);
            }
        }
    });
    let id = format!("ctl-{i}");
    let num = move || shown.with(|s| s.value.as_f64().unwrap_or(0.0));
    let text = move || shown.with(|s| s.value.as_str().unwrap_or_default().to_string());
    let on = move || shown.with(|s| s.value.as_bool().unwrap_or(false));
    let send = move |f: fn(&mut Panel, usize, CtlValue, f64, u32) -> Vec<super::model::Out>, v: CtlValue| {
        conn.control(move |p, now, buffered| f(p, i, v, now, buffered));
    };
    let (label, disabled, question) = (c.label.clone(), c.disabled, c.confirm.clone());
    let label_el = {
        let (id, label) = (id.clone(), label.clone());
        move || view! { <label class="ctl-label" for=id>{label}</label> }
    };
    let input = match c.kind.clone() {
        ControlKind::Button => {
            let press = move |down: bool| conn.control(move |p, now, _| p.press(i, down, now));
            let down = move |ev: PointerEvent| {
                if ev.button() != 0 {
                    return;
                }
                ev.prevent_default();
                if let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                    let _ = el.set_pointer_capture(ev.pointer_id());
                }
                if question.is_none() {
                    press(true);
                } else if confirmed(&question) {
                    // Asked first, a momentary press is a tap: a dialog would swallow the release.
                    press(true);
                    press(false);
                }
            };
            let key = move |ev: KeyboardEvent, is_down: bool| {
                if is_activate(&ev) {
                    ev.prevent_default();
                    if !ev.repeat() {
                        press(is_down);
                    }
                }
            };
            view! {
                <button type="button" id=id class="ctl-button" prop:disabled=disabled
                    aria-pressed=move || on().to_string()
                    on:pointerdown=down on:pointerup=move |_| press(false)
                    on:pointercancel=move |_| press(false) on:lostpointercapture=move |_| press(false)
                    on:keydown=move |ev| key(ev, true) on:keyup=move |ev| key(ev, false)
                    on:blur=move |_| press(false) on:contextmenu=|ev| ev.prevent_default()>{label}</button>
            }
            .into_any()
        }
        ControlKind::Toggle => {
            let click = move |_| {
                let v = !shown.with_untracked(|s| s.value.as_bool().unwrap_or(false));
                if confirmed(&question) {
                    send(Panel::set, CtlValue::Bool(v));
                }
            };
            view! {
                <button type="button" role="switch" id=id class="ctl-switch" prop:disabled=disabled
                    aria-checked=move || on().to_string() on:click=click>
                    <span>{label}</span>
                    <span class="state" aria-hidden="true">{move || if on() { "On" } else { "Off" }}</span>
                </button>
            }
            .into_any()
        }
        ControlKind::Slider(r) | ControlKind::Number(r) => {
            let slider = matches!(c.kind, ControlKind::Slider(_));
            let step = r.step.map_or_else(|| "any".to_string(), number);
            let unit = r.unit.unwrap_or_default();
            let asks = question.is_some();
            let parse = |ev: &leptos::ev::Event| input_value(ev).and_then(|v| wsdeck_protocol::parse_f64(&v));
            // Dragging: at the control's rate. Let go (change): the last value, at once. A number
            // typed or stepped goes at the rate too (a held arrow key repeats fast).
            let moved = move |ev: leptos::ev::Event| {
                if let Some(v) = parse(&ev).filter(|_| !asks) {
                    send(Panel::drag, CtlValue::Num(v));
                }
            };
            let changed = move |ev: leptos::ev::Event| {
                let Some(v) = parse(&ev) else { return put_back(&ev, &shown.get_untracked()) };
                if !confirmed(&question) {
                    return put_back(&ev, &shown.get_untracked());
                }
                send(if slider { Panel::set } else { Panel::drag }, CtlValue::Num(v));
            };
            let kind = if slider { "range" } else { "number" };
            let field = view! {
                <input type=kind id=id min=number(r.min) max=number(r.max) step=step prop:disabled=disabled
                    inputmode="decimal" prop:value=move || number(num()) on:input=moved on:change=changed/>
            };
            view! {
                {label_el()}
                <span class="ctl-input">
                    {field}
                    <output>{move || slider.then(|| number(num()))} " " {unit}</output>
                </span>
            }
            .into_any()
        }
        ControlKind::Select { options } => {
            let changed = move |ev: leptos::ev::Event| match input_value(&ev) {
                Some(v) if confirmed(&question) => send(Panel::set, CtlValue::Text(v)),
                _ => put_back(&ev, &shown.get_untracked()),
            };
            let options = options.into_iter().map(|o| {
                let value = o.clone();
                view! { <option value=value>{o}</option> }
            });
            view! {
                {label_el()}
                <select id=id prop:disabled=disabled prop:value=text on:change=changed>
                    {options.collect_view()}
                </select>
            }
            .into_any()
        }
        ControlKind::Text { max_len } => {
            let changed = move |ev: leptos::ev::Event| match input_value(&ev) {
                Some(v) if confirmed(&question) => send(Panel::set, CtlValue::Text(v)),
                _ => put_back(&ev, &shown.get_untracked()),
            };
            view! {
                {label_el()}
                <input type="text" id=id maxlength=max_len enterkeyhint="send" autocomplete="off"
                    prop:disabled=disabled prop:value=text on:change=changed/>
            }
            .into_any()
        }
        ControlKind::Gauge { min, max, unit, warn, alarm } => {
            // The meter's own regions: fine, past `warn`, past `alarm` (downwards for a battery).
            let (low, high, optimum) = match (warn, alarm) {
                (Some(w), Some(a)) if a < w => (a, w, max),
                (Some(w), Some(a)) => (w, a, min),
                (Some(w), None) => (w, max, min),
                (None, Some(a)) => (a, a, min),
                (None, None) => (max, max, min),
            };
            let level = move || Level::of(num(), warn, alarm).name();
            view! {
                <span class="ctl-label" id=format!("{id}-l")>{label}</span>
                <span class="ctl-input">
                    <meter aria-labelledby=format!("{id}-l") min=min max=max low=low high=high optimum=optimum
                        value=num></meter>
                    <output data-level=level>{move || number(num())} " " {unit.unwrap_or_default()}</output>
                </span>
            }
            .into_any()
        }
        ControlKind::Led { color } => view! {
            <span class="ctl-label" id=format!("{id}-l")>{label}</span>
            <output aria-labelledby=format!("{id}-l") class="led" class:on=on>
                <span class="dot" aria-hidden="true" style:color=color.unwrap_or_default()></span>
                {move || if on() { "On" } else { "Off" }}
            </output>
        }
        .into_any(),
        ControlKind::Value => view! {
            <span class="ctl-label" id=format!("{id}-l")>{label}</span>
            <output aria-labelledby=format!("{id}-l")>{text}</output>
        }
        .into_any(),
    };
    let note = move || shown.with(|s| s.note.or(s.pending.then_some("Sending…")));
    view! {
        <div class="ctl" data-ctl=c.id data-kind=c.kind.as_str()
            class:pending=move || shown.with(|s| s.pending) class:disabled=disabled>
            {input}
            <span class="ctl-note" aria-live="polite">{note}</span>
        </div>
    }
    .into_any()
}

/// For a device that declares no controls: the buttons the person set for it in Settings, each
/// sending its text as it is.
#[component]
fn PhoneButtons(conn: Connection) -> impl IntoView {
    let url = Memo::new(move |_| conn.status.with(|s| s.url.clone()));
    let buttons = move || {
        let extra = prefs::load(&url.get()).extra;
        extra
            .into_iter()
            .map(|w| {
                let word = w.word.clone();
                let tap = move |_| {
                    conn.send(&word);
                };
                view! { <button type="button" class="ctl-button" on:click=tap>{w.label}</button> }
            })
            .collect_view()
    };
    view! {
        <section class="card">
            <h2>"Controls"</h2>
            <div class="ctls phone-buttons" role="group" aria-label="Phone buttons"
                data-testid="phone-buttons">
                {buttons}
            </div>
            <p class="hint">
                "This device declares no controls. " <a href="#/settings">"Add buttons in Settings"</a>
                " that send a text of your choice, such as " <code>"toggle"</code> " or "
                <code>"getReadings"</code> "."
            </p>
        </section>
    }
}
