//! The Drive page: pads, Arm, STOP, speed limit, and the device's extra words. Thin: every
//! decision is the [`Controller`]'s; this file turns pointer, key and page events into its calls,
//! encodes what it returns and sends it. The words come from the device connected now. Held
//! sideways on a phone the page is a game controller (style/main.css): the pads at the thumbs,
//! STOP and the device's thumb buttons between them, a status strip for the status bar.

use super::arming::{Arming, Disarm};
use super::controller::{Control, Controller, Lease, Mode, Out};
use super::fullscreen;
use super::gamepad::{self, GamepadState};
use super::prefs::DrivePrefs;
use super::sender::Motion;
use super::shaping::Shaping;
use super::strip;
use super::wake_lock::WakeLock;
use crate::connection::session::LinkState;
use crate::connection::Connection;
use crate::device::prefs;
use crate::dom::{self, Interval, Listener};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::{Element, KeyboardEvent, PointerEvent};

/// Fraction of the pad's radius the knob travels.
const TRAVEL: f64 = 0.8;
/// The send loop's period: pending motion waits at most this long past its slot.
const TICK_MS: i32 = 10;

#[derive(Debug, Clone, PartialEq)]
struct Shown {
    arming: Arming,
    lease: Lease,
    motion: Motion,
    mode: Mode,
    /// Motion frames skipped because the socket was backed up.
    skipped: u64,
}

/// Everything the pads need, `Copy` so that every handler can hold it.
#[derive(Clone, Copy)]
struct DriveHandle {
    ctl: StoredValue<Controller, LocalStorage>,
    conn: Connection,
    shown: RwSignal<Shown>,
    knobs: [RwSignal<(f64, f64)>; 2],
}

impl DriveHandle {
    /// Runs `f` on the controller, sends what it returns, and updates what is shown.
    fn apply(&self, f: impl FnOnce(&mut Controller, f64, u32) -> Vec<Out>) {
        // Each of the ~20 callers gets only this shim: the body is compiled once (wasm size).
        let mut f = Some(f);
        self.apply_dyn(&mut |c, now, buffered| f.take().map(|f| f(c, now, buffered)).unwrap_or_default());
    }

    fn apply_dyn(&self, f: &mut dyn FnMut(&mut Controller, f64, u32) -> Vec<Out>) {
        let (now, buffered) = (dom::now_ms(), self.conn.buffered());
        let Some((out, shown)) = self.ctl.try_update_value(|c| {
            let out = f(c, now, buffered);
            let shown = Shown {
                arming: c.arming(),
                lease: c.lease(),
                motion: c.motion(),
                mode: c.mode(),
                skipped: c.skipped(),
            };
            (out, shown)
        }) else {
            return;
        };
        for o in &out {
            self.conn.send(&o.encode());
        }
        if out.iter().any(Out::is_stop) {
            vibrate(30);
        }
        if self.shown.with_untracked(|s| *s != shown) {
            self.shown.set(shown);
        }
    }
}

fn vibrate(ms: u32) {
    if let Some(w) = dom::window() {
        let _ = w.navigator().vibrate_with_duration(ms);
    }
}

#[component]
pub fn DrivePage() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let settings = DrivePrefs::load();
    let shaping = Shaping { limit: settings.limit, axis_lock: settings.axis_lock, ..Shaping::default() };
    let url = Memo::new(move |_| conn.status.with(|s| s.url.clone()));
    let device = RwSignal::new(prefs::load(&url.get_untracked()));
    let ctl =
        Controller::new(settings.mode, shaping, settings.rate_hz, device.with_untracked(|d| d.dialect()));
    let shown = RwSignal::new(Shown {
        arming: ctl.arming(),
        lease: ctl.lease(),
        motion: ctl.motion(),
        mode: ctl.mode(),
        skipped: 0,
    });
    let drive = DriveHandle {
        ctl: StoredValue::new_local(ctl),
        conn,
        shown,
        knobs: [RwSignal::new((0.0, 0.0)), RwSignal::new((0.0, 0.0))],
    };
    let limit = RwSignal::new(settings.limit);

    // Link and device state: losing or regaining the link disarms; the device's state carries
    // the lease and failsafes.
    Effect::new(move |was_up: Option<bool>| {
        let up = conn.status.with(|s| s.state == LinkState::Connected);
        if was_up.is_some_and(|w| w != up) {
            drive.apply(|c, _, _| c.link(up));
        }
        up
    });
    // Another address is another device, with its own words.
    let chosen = RwSignal::new(None::<usize>);
    Effect::new(move |first: Option<()>| {
        let url = url.get();
        if first.is_some() {
            device.set(prefs::load(&url));
            chosen.set(None);
        }
        let dialect = device.with_untracked(|d| d.dialect());
        drive.apply(move |c, _, _| c.set_dialect(dialect));
    });
    // A device that wants its pairing token obeys no drive frame until it has it: no arming.
    let locked = Memo::new(move |_| conn.status.with(|s| s.pairing.blocks_control()));
    Effect::new(move |_| {
        if locked.get() {
            drive.apply(|c, _, _| c.disarm(Disarm::NotPaired));
        }
    });
    // Only a new state from the device reaches the controller, not every status tick.
    let device_state = Memo::new(move |_| conn.status.with(|s| s.drive.clone()));
    Effect::new(move |_| {
        if let Some(state) = device_state.get() {
            drive.apply(|c, _, _| c.device_state(&state));
        }
    });

    // The screen stays on while armed.
    let wake = StoredValue::new_local(WakeLock::default());
    Effect::new(move |_| {
        let armed = shown.with(|s| s.arming.is_armed());
        wake.with_value(|w| if armed { w.acquire() } else { w.release() });
    });

    // Full screen is a way of driving: leaving the page leaves it.
    let full = RwSignal::new(fullscreen::active());
    let full_watch = dom::window()
        .and_then(|w| w.document())
        .map(|d| Listener::new(&d, "fullscreenchange", move |_| full.set(fullscreen::active())));
    let resources = SendWrapper::new((page_listeners(drive), full_watch));
    on_cleanup(move || {
        drop(resources.take());
        drive.apply(|c, _, _| c.disarm(Disarm::Hidden));
        wake.with_value(WakeLock::release);
        fullscreen::leave();
    });
    let toggle_full = move |_| if full.get_untracked() { fullscreen::leave() } else { fullscreen::enter() };
    // In landscape the tab bar is hidden; the strip's menu button brings it back over the page.
    let nav_open = RwSignal::new(false);

    let toggle_arm = move |_| {
        if locked.get_untracked() {
            return;
        }
        if shown.with_untracked(|s| s.arming.is_armed()) {
            drive.apply(|c, _, _| c.disarm(Disarm::User));
        } else {
            vibrate(15);
            drive.apply(|c, _, _| c.arm());
        }
    };
    let stop = move |ev: PointerEvent| {
        ev.prevent_default();
        drive.apply(|c, _, _| c.disarm(Disarm::User));
    };
    let set_mode = move |ev| {
        if let Some(mode) = Mode::from_slug(&event_target_value(&ev)) {
            DrivePrefs::save_mode(mode);
            drive.apply(|c, _, _| c.set_mode(mode));
        }
    };
    let set_limit = move |ev| {
        if let Some(pct) = wsdeck_protocol::parse_f64(&event_target_value(&ev)) {
            let l = (pct / 100.0).clamp(0.1, 1.0);
            limit.set(l);
            DrivePrefs::save_limit(l);
            drive.ctl.update_value(|c| c.shaping.limit = l);
        }
    };

    // Labels keep one length so that nothing under the finger moves when the state changes.
    let arm_label = move || match shown.with(|s| s.arming) {
        Arming::Armed => "Armed",
        Arming::AwaitNeutral => "Centre",
        Arming::Disarmed(_) => "Arm",
    };
    let arming_name = move || match shown.with(|s| s.arming) {
        Arming::Armed => "armed",
        Arming::AwaitNeutral => "await-neutral",
        Arming::Disarmed(_) => "disarmed",
    };
    // The question Settings asks, pointed at from here: this is where a tutorial car fails.
    let ask_words = Memo::new(move |_| {
        let (speaks_v1, not_json, quick) =
            conn.status.with(|s| (s.speaks_v1, s.counters.not_json, s.quick_closes));
        device.with(|d| prefs::offers_words(speaks_v1, not_json, quick, d))
    });
    let note = move || {
        let (arming, lease) = shown.with(|s| (s.arming, s.lease));
        let about_lease = match lease {
            Lease::None if ask_words.get() => {
                "This device sends plain text: if it takes plain words, set them in Settings."
            }
            Lease::None => "",
            Lease::Free => "Nobody is driving: Arm to drive.",
            Lease::Mine => "You are driving.",
            Lease::Theirs => "Watching: someone else is driving. Arm takes over once they stop or leave.",
        };
        match arming {
            Arming::AwaitNeutral => "Bring every control back to the centre to drive.".to_string(),
            Arming::Disarmed(Some(why)) if lease != Lease::Theirs => {
                format!("Disarmed: {}. {about_lease}", why.text()).trim_end().to_string()
            }
            _ => about_lease.to_string(),
        }
    };
    let axis_lock = RwSignal::new(settings.axis_lock);
    let toggle_lock = move |_| {
        let on = !axis_lock.get_untracked();
        axis_lock.set(on);
        DrivePrefs::save_axis_lock(on);
        drive.ctl.update_value(|c| c.shaping.axis_lock = on);
    };
    let out = move || {
        let (m, skipped) = shown.with(|s| (s.motion, s.skipped));
        let skipped = if skipped > 0 { format!(" · {skipped} skipped (slow link)") } else { String::new() };
        format!("x {} · y {} · L {} · R {}{skipped}", m.x, m.y, m.l, m.r)
    };
    // A memo: the pads are rebuilt when the mode changes, never while a finger holds them.
    let mode = Memo::new(move |_| shown.with(|s| s.mode));
    let pads = move || {
        let m = mode.get();
        let dpad = matches!(m, Mode::Dpad4 | Mode::Dpad8);
        if m.dual() {
            let (left, right) =
                if m == Mode::Tank { ("Left wheel", "Right wheel") } else { ("Throttle", "Steering") };
            view! {
                <Pad drive control=Control::Left dpad=false label=left/>
                <Pad drive control=Control::Right dpad=false label=right/>
            }
            .into_any()
        } else {
            view! { <Pad drive control=Control::Left dpad label=if dpad { "D-pad" } else { "Stick" }/> }
                .into_any()
        }
    };

    view! {
        <div class="drive" data-testid="drive" data-arming=arming_name data-mode=move || mode.get().slug()
            data-nav=move || nav_open.get().then_some("open")>
            <div class="drive-bar">
                <Strip conn nav_open/>
                <button class="arm" class:on=move || shown.with(|s| s.arming.is_armed())
                    data-testid="arm" on:click=toggle_arm prop:disabled=move || locked.get()
                    title=move || locked.get().then_some("The device needs its pairing token first")>{arm_label}</button>
                <select class="mode" aria-label="Controls" on:change=set_mode prop:value=move || mode.get().slug()>
                    {Mode::ALL.into_iter().map(|m| view! { <option value=m.slug()>{m.label()}</option> }).collect_view()}
                </select>
                <button class="lock secondary" class:on=move || axis_lock.get() aria-pressed=move || axis_lock.get().to_string()
                    title="Only the larger axis counts: straight lines and spins in place"
                    on:click=toggle_lock>"Axis lock"</button>
                <label class="limit">
                    <span class="limit-word">"Speed "</span>{move || format!("{:.0}%", limit.get() * 100.0)}
                    <input type="range" min="10" max="100" step="5" data-testid="limit"
                        prop:value=move || (limit.get() * 100.0).round().to_string() on:input=set_limit/>
                </label>
                {fullscreen::available().then(|| view! {
                    <button type="button" class="drive-full secondary" data-testid="fullscreen"
                        aria-label="Full screen" aria-pressed=move || full.get().to_string() on:click=toggle_full>
                        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 9V4h5m6 0h5v5m0 6v5h-5m-6 0H4v-5"/></svg>
                    </button>
                })}
            </div>
            <p class="lease" data-testid="lease">{note}</p>
            <ExtraWords device chosen conn/>
            <div class="pads" class:dual=move || mode.get().dual()>{pads}</div>
            // The device's thumb buttons (src/controls/) go here: between the pads in landscape.
            <div class="drive-controls" data-testid="drive-controls"><crate::controls::DriveControls/></div>
            <p class="drive-out" data-testid="drive-out">{out}</p>
            <button class="stop" data-testid="stop" on:pointerdown=stop
                on:contextmenu=|ev| ev.prevent_default()>"STOP"</button>
        </div>
    }
}

/// The status bar's essentials in one row, shown instead of it when the phone is held sideways:
/// the link, the round trip, and the battery (or the device's first series). Its menu button
/// brings back the tab bar that landscape hides.
#[component]
fn Strip(conn: Connection, nav_open: RwSignal<bool>) -> impl IntoView {
    let state = move || conn.status.with(|s| s.state.name());
    let word = move || conn.status.with(|s| strip::link_word(s.state, s.silent_s.is_some()));
    let rtt = move || conn.status.with(|s| s.rtt_ms.map_or("– ms".into(), |r| format!("{r:.0} ms")));
    // One memo for the series' text, read by static nodes: cheaper in wasm than a view rebuilt.
    let reading = Memo::new(move |_| {
        conn.telemetry_frame.track();
        conn.second.track();
        let linked = conn.status.with(|s| s.state == LinkState::Connected);
        conn.with_session(|s| {
            let meta = |name: &str| s.series_meta(name).and_then(|m| m.label.as_deref());
            let name = strip::pick(s.series().iter().map(|x| (x.name.as_str(), meta(&x.name))))?;
            let shown = crate::telemetry::shown(s.series().get(name)?, dom::now_ms(), linked);
            let m = s.series_meta(name);
            let label = m.and_then(|m| m.label.clone()).unwrap_or_else(|| name.to_string());
            let unit = shown.unit.then(|| m.and_then(|m| m.unit.clone())).flatten().unwrap_or_default();
            Some((label, format!("{} {unit}", shown.value).trim_end().to_string(), shown.stale))
        })
        .flatten()
    });
    let label = move || reading.with(|r| r.as_ref().map(|r| r.0.clone()).unwrap_or_default());
    view! {
        <div class="drive-strip" data-testid="drive-strip" data-state=state>
            <button type="button" class="strip-menu secondary" aria-label="Pages" data-testid="menu"
                aria-expanded=move || nav_open.get().to_string() on:click=move |_| nav_open.update(|o| *o = !*o)>
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 6h16M4 12h16M4 18h16"/></svg>
            </button>
            <span class="strip-link" role="status"><span class="dot" aria-hidden="true"></span><span class="strip-word">{word}</span></span>
            <span class="strip-rtt" title="round-trip time (median)">{rtt}</span>
            <span class="strip-series" class:stale=move || reading.with(|r| r.as_ref().is_none_or(|r| r.2))
                hidden=move || reading.with(Option::is_none) title=label>
                <span class="strip-label">{label}</span>" "
                <b>{move || reading.with(|r| r.as_ref().map(|r| r.1.clone()).unwrap_or_default())}</b>
            </span>
        </div>
    }
}

/// The device's extra words (speed presets and the like), one segment each, shown when set. A
/// tap sends the word as it is; the last one sent stays highlighted.
#[component]
fn ExtraWords(
    device: RwSignal<prefs::DevicePrefs>,
    chosen: RwSignal<Option<usize>>,
    conn: Connection,
) -> impl IntoView {
    let words = move || device.with(|d| d.extra.clone());
    move || {
        let words = words();
        (!words.is_empty()).then(|| {
            let buttons = words
                .into_iter()
                .enumerate()
                .map(|(i, w)| {
                    let (send, word) = (w.word, w.label);
                    let tap = move |_| {
                        if conn.send(&send) {
                            chosen.set(Some(i));
                        }
                    };
                    view! {
                        <button type="button" aria-pressed=move || (chosen.get() == Some(i)).to_string()
                            on:click=tap>{word}</button>
                    }
                })
                .collect_view();
            view! { <div class="extra" role="group" aria-label="Device commands" data-testid="extra-words">{buttons}</div> }
        })
    }
}

/// One pad: a stick or a D-pad. Owned by the first pointer that touches it, until that pointer
/// lifts, is cancelled, or loses capture; other fingers can hold the other pad.
#[component]
fn Pad(drive: DriveHandle, control: Control, dpad: bool, label: &'static str) -> impl IntoView {
    let owner = StoredValue::new(None::<i32>);
    let knob = drive.knobs[if control == Control::Right { 1 } else { 0 }];
    let position = move |ev: &PointerEvent| -> Option<(f64, f64)> {
        let el: Element = ev.current_target()?.dyn_into().ok()?;
        let r = el.get_bounding_client_rect();
        let radius = r.width().min(r.height()) / 2.0 * TRAVEL;
        if radius <= 0.0 {
            return None;
        }
        let x = (f64::from(ev.client_x()) - (r.left() + r.width() / 2.0)) / radius;
        let y = -(f64::from(ev.client_y()) - (r.top() + r.height() / 2.0)) / radius;
        let m = x.hypot(y);
        Some(if m > 1.0 { (x / m, y / m) } else { (x, y) })
    };
    // Frames go out before the knob is redrawn.
    let moved = move |ev: &PointerEvent| {
        if let Some((x, y)) = position(ev) {
            drive.apply(|c, now, buffered| c.input(control, x, y, now, buffered));
            knob.set((x, y));
        }
    };
    let down = move |ev: PointerEvent| {
        if owner.get_value().is_some() {
            return;
        }
        ev.prevent_default();
        owner.set_value(Some(ev.pointer_id()));
        if let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<Element>().ok()) {
            let _ = el.set_pointer_capture(ev.pointer_id());
        }
        moved(&ev);
    };
    let mv = move |ev: PointerEvent| {
        if owner.get_value() == Some(ev.pointer_id()) {
            moved(&ev);
        }
    };
    // Lifting the finger releases; a cancel (the browser took the gesture, a call came in) or a
    // lost capture is a safety stop.
    let end = move |ev: PointerEvent, cancelled: bool| {
        if owner.get_value() != Some(ev.pointer_id()) {
            return;
        }
        owner.set_value(None);
        if cancelled {
            drive.apply(|c, _, _| c.cancel(control));
        } else {
            drive.apply(|c, now, buffered| c.release(control, now, buffered));
        }
        knob.set((0.0, 0.0));
    };
    // Set through the CSSOM (`style.setProperty`), which a CSP without `'unsafe-inline'` styles
    // allows; a `style` attribute would be refused.
    let knob_left = move || format!("{:.1}%", 50.0 + knob.get().0 * 50.0 * TRAVEL);
    let knob_top = move || format!("{:.1}%", 50.0 - knob.get().1 * 50.0 * TRAVEL);
    view! {
        <div class="pad" class:dpad=dpad class:held=move || knob.get() != (0.0, 0.0)
            data-control=if control == Control::Right { "right" } else { "left" }
            on:pointerdown=down on:pointermove=mv
            on:pointerup=move |ev| end(ev, false)
            on:pointercancel=move |ev| end(ev, true)
            on:lostpointercapture=move |ev| end(ev, true)
            on:contextmenu=|ev| ev.prevent_default()>
            <span class="pad-label">{label}</span>
            <span class="knob" style:left=knob_left style:top=knob_top></span>
        </div>
    }
}

/// Page-wide events: leaving the page or the window stops; keys drive; a fast loop sends
/// pending and repeated motion. Dropping the returned values removes them all.
fn page_listeners(drive: DriveHandle) -> (Vec<Listener>, Option<Interval>) {
    let Some(window) = dom::window() else { return (Vec::new(), None) };
    let mut listeners = Vec::new();
    listeners.push(Listener::new(&window, "blur", move |_| drive.apply(|c, _, _| c.halt())));
    listeners
        .push(Listener::new(&window, "pagehide", move |_| drive.apply(|c, _, _| c.disarm(Disarm::Hidden))));
    if let Some(doc) = window.document() {
        let d = doc.clone();
        listeners.push(Listener::new(&doc, "visibilitychange", move |_| {
            if d.hidden() {
                drive.apply(|c, _, _| c.disarm(Disarm::Hidden));
            }
        }));
    }
    let keys = StoredValue::new([false; 4]);
    let key = move |ev: web_sys::Event, down: bool| {
        let Some(ev) = ev.dyn_ref::<KeyboardEvent>() else { return };
        if ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).is_some() {
            return;
        }
        let slot = match ev.key().as_str() {
            "ArrowUp" | "w" | "W" => 0,
            "ArrowDown" | "s" | "S" => 1,
            "ArrowLeft" | "a" | "A" => 2,
            "ArrowRight" | "d" | "D" => 3,
            " " => {
                ev.prevent_default();
                if down {
                    drive.apply(|c, _, _| c.disarm(Disarm::User));
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        if ev.repeat() {
            return;
        }
        keys.update_value(|k| k[slot] = down);
        let k = keys.get_value();
        let x = f64::from(k[3] as i8 - k[2] as i8);
        let y = f64::from(k[0] as i8 - k[1] as i8);
        if x == 0.0 && y == 0.0 {
            drive.apply(|c, now, b| c.release(Control::Keys, now, b));
        } else {
            drive.apply(|c, now, b| c.input(Control::Keys, x, y, now, b));
        }
    };
    listeners.push(Listener::new(&window, "keydown", move |ev| key(ev, true)));
    listeners.push(Listener::new(&window, "keyup", move |ev| key(ev, false)));

    // Gamepads are polled (the API has no move events), only once one has said hello; unplugging
    // it mid-drive is a safety stop.
    let gamepad = StoredValue::new(None::<GamepadState>);
    listeners.push(Listener::new(&window, "gamepadconnected", move |_| {
        gamepad.set_value(Some(GamepadState::default()));
    }));
    listeners.push(Listener::new(&window, "gamepaddisconnected", move |_| {
        if gamepad.get_value().is_some() {
            gamepad.set_value(None);
            drive.apply(|c, _, _| {
                let mut frames = c.cancel(Control::GamepadLeft);
                frames.extend(c.cancel(Control::GamepadRight));
                frames
            });
        }
    }));
    let poll_gamepad = move || {
        let Some(last) = gamepad.get_value() else { return };
        let now = gamepad::gamepad().unwrap_or_default();
        if now == last {
            return;
        }
        gamepad.set_value(Some(now));
        if now.b && !last.b {
            drive.apply(|c, _, _| c.disarm(Disarm::User));
        }
        let sticks =
            [(Control::GamepadLeft, now.left, last.left), (Control::GamepadRight, now.right, last.right)];
        for (control, pos, before) in sticks {
            if pos == before {
                continue;
            }
            if pos == (0.0, 0.0) {
                drive.apply(|c, t, b| c.release(control, t, b));
            } else {
                drive.apply(|c, t, b| c.input(control, pos.0, pos.1, t, b));
            }
        }
    };
    let ticker = Interval::new(TICK_MS, move || {
        poll_gamepad();
        drive.apply(|c, now, buffered| c.tick(now, buffered));
    });
    (listeners, ticker)
}
