//! The controls a device declared, as this phone shows them (docs/PROTOCOL.md, Controls): each
//! control's value and whether a change of it waits for the device, what to send and when. Plain
//! Rust, time and the socket's backlog passed in; the views and the session act on its [`Out`]s.
//!
//! The device is the source of truth. A change shows at once as pending; the device's `ctl`
//! confirms it, or after [`CONFIRM_MS`] the control goes back to the device's value and says so.
//! A slider sends at most `rate_hz` changes a second while dragged, the newest one winning, none
//! while the socket is backed up, and its last value always; a button's release goes out at once,
//! past every limit.

use crate::drive::sender::BUFFERED_LIMIT;
use crate::series::SeriesSet;
use wsdeck_protocol::{AppMsg, Control, ControlKind, Controls, CtlValue, LogLevel, Reading};

/// A change the device has not confirmed within this long is taken back.
pub const CONFIRM_MS: f64 = 2000.0;
/// What a control says when the device did not confirm a change.
pub const REVERTED: &str = "No answer from the device: back to its value.";

/// What to do, as the controls decide it.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Send this frame.
    Send(AppMsg),
    /// A line for the event log.
    Note(LogLevel, String),
}

/// What one control shows now.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub value: CtlValue,
    /// Changed on this phone and not yet confirmed by the device.
    pub pending: bool,
    /// Why the value is not what was last set here ([`REVERTED`]).
    pub note: Option<&'static str>,
}

/// Whether a gauge reading is fine, past `warn` or past `alarm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Alarm,
}

impl Level {
    /// Thresholds above each other count upwards (a temperature); `alarm` below `warn` counts
    /// downwards (a battery running low).
    pub fn of(v: f64, warn: Option<f64>, alarm: Option<f64>) -> Level {
        let down = matches!((warn, alarm), (Some(w), Some(a)) if a < w);
        let past = |t: Option<f64>| t.is_some_and(|t| if down { v <= t } else { v >= t });
        if past(alarm) {
            Level::Alarm
        } else if past(warn) {
            Level::Warn
        } else {
            Level::Ok
        }
    }
}

#[derive(Debug, Clone)]
struct Slot {
    control: Control,
    /// What the device said last (its initial value until it says).
    device: CtlValue,
    shown: CtlValue,
    /// Pending: when the change is given up if the device has not confirmed it.
    deadline: Option<f64>,
    /// `shown` still has to go out (a slider held back by its rate or a backed-up socket).
    unsent: bool,
    /// The last value the person set goes out past the rate as soon as the socket allows.
    last: bool,
    last_sent_ms: f64,
    /// Frames sent and not yet answered by a `ctl` of the device for this control.
    in_flight: u32,
    /// A button held down on this phone.
    held: bool,
    note: Option<&'static str>,
}

impl Slot {
    fn new(control: Control) -> Slot {
        let v = control.initial();
        Slot {
            control,
            device: v.clone(),
            shown: v,
            deadline: None,
            unsent: false,
            last: false,
            last_sent_ms: f64::NEG_INFINITY,
            in_flight: 0,
            held: false,
            note: None,
        }
    }

    fn shown(&self) -> Shown {
        Shown { value: self.shown.clone(), pending: self.deadline.is_some(), note: self.note }
    }
}

/// Every declared control with its state; empty for a device that declares none.
#[derive(Debug, Default)]
pub struct Panel {
    slots: Vec<Slot>,
    seq: u32,
    /// Bumped when the set of controls changes (the page rebuilds its cards).
    set_version: u64,
    /// Bumped when what any control shows changes.
    version: u64,
    /// Some control follows a telemetry series.
    follows: bool,
}

impl Panel {
    /// A new declaration (from `hello` or a `controls` frame) replaces the whole set. A control
    /// that stays keeps the device's value; every skipped declaration gets its own note.
    pub fn declare(&mut self, controls: Controls) -> Vec<Out> {
        let old = std::mem::take(&mut self.slots);
        let mut out: Vec<Out> =
            controls.skipped.iter().map(|s| Out::Note(LogLevel::Warn, s.to_string())).collect();
        self.slots = controls
            .list
            .into_iter()
            .map(|c| {
                let mut slot = Slot::new(c);
                let kept = old.iter().find(|o| o.control.id == slot.control.id);
                if let Some(v) = kept.and_then(|o| slot.control.accept(&o.device)) {
                    slot.device = v.clone();
                    slot.shown = v;
                }
                slot
            })
            .collect();
        self.follows = self.slots.iter().any(|s| s.control.series.is_some());
        if !self.slots.is_empty() || !old.is_empty() {
            let n = self.slots.len();
            out.push(Out::Note(LogLevel::Info, format!("the device declares {n} controls")));
        }
        self.set_version += 1;
        self.version += 1;
        out
    }

    /// Another device: nothing declared.
    pub fn clear(&mut self) {
        if !self.slots.is_empty() {
            self.slots.clear();
            self.set_version += 1;
            self.version += 1;
        }
    }

    pub fn controls(&self) -> impl Iterator<Item = &Control> {
        self.slots.iter().map(|s| &s.control)
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// What control `i` (in declaration order) shows.
    pub fn shown(&self, i: usize) -> Option<Shown> {
        self.slots.get(i).map(Slot::shown)
    }

    pub fn set_version(&self) -> u64 {
        self.set_version
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// The device's `ctl`: its values, whoever changed them. Shown at once, unless a change made
    /// here is pending: then the value it waits for confirms it, and the answer to its last frame
    /// settles it either way (a device that refuses a value answers with the one it kept), while
    /// an echo of an earlier step of a drag leaves the newest one waiting.
    pub fn on_device(&mut self, values: Vec<(String, CtlValue)>) {
        for (id, v) in values {
            let Some(slot) = self.slots.iter_mut().find(|s| s.control.id == id) else { continue };
            let Some(v) = slot.control.accept(&v) else { continue };
            slot.device = v;
            slot.in_flight = slot.in_flight.saturating_sub(1);
            let settled = !slot.unsent && (slot.device == slot.shown || slot.in_flight == 0);
            if slot.deadline.is_some() && !settled {
                continue;
            }
            slot.deadline = None;
            slot.shown = slot.device.clone();
            self.version += 1;
        }
    }

    /// Read-only controls that follow a telemetry series take its latest reading.
    pub fn follow(&mut self, series: &SeriesSet) {
        if !self.follows {
            return;
        }
        for slot in &mut self.slots {
            let Some(name) = &slot.control.series else { continue };
            let v = match series.get(name).map(|s| s.latest()) {
                Some(Reading::Num(n)) => CtlValue::Num(*n),
                Some(Reading::Bool(b)) => CtlValue::Bool(*b),
                Some(Reading::Text(t)) => CtlValue::Text(t.clone()),
                Some(Reading::Gap) | None => continue,
            };
            if let Some(v) = slot.control.accept(&v).filter(|v| *v != slot.shown) {
                slot.device = v.clone();
                slot.shown = v;
                self.version += 1;
            }
        }
    }

    /// The person set control `i` to `v` (a toggle, a select, a text sent, a slider let go):
    /// shown at once as pending and sent now; a slider's or number's last value waits only for a
    /// socket that is backed up.
    pub fn set(&mut self, i: usize, v: CtlValue, now_ms: f64, buffered: u32) -> Vec<Out> {
        if !self.take(i, v, now_ms) {
            return Vec::new();
        }
        self.slots[i].last = true;
        self.flush(now_ms, buffered)
    }

    /// A slider or number moved while held: latest-wins at its `rate_hz`.
    pub fn drag(&mut self, i: usize, v: CtlValue, now_ms: f64, buffered: u32) -> Vec<Out> {
        if !self.take(i, v, now_ms) {
            return Vec::new();
        }
        self.flush(now_ms, buffered)
    }

    /// A button pressed (`true`) or let go. The release goes out at once, past every limit, and
    /// only once however many paths report it (pointer up, cancel, lost capture, blur).
    pub fn press(&mut self, i: usize, down: bool, now_ms: f64) -> Vec<Out> {
        let Some(slot) = self.slots.get_mut(i) else { return Vec::new() };
        if slot.control.kind != ControlKind::Button || slot.held == down || (down && slot.control.disabled) {
            return Vec::new();
        }
        slot.held = down;
        slot.shown = CtlValue::Bool(down);
        slot.deadline = Some(now_ms + CONFIRM_MS);
        slot.note = None;
        self.version += 1;
        vec![self.send(i, now_ms)]
    }

    /// Lets go of every button held here (the page was left, hidden or blurred; the link is being
    /// closed): their releases, to send now.
    pub fn release_all(&mut self, now_ms: f64) -> Vec<Out> {
        let mut out = Vec::new();
        for i in 0..self.slots.len() {
            if self.slots[i].held {
                out.extend(self.press(i, false, now_ms));
            }
        }
        out
    }

    /// The link is gone: nothing can be sent, and nothing is held any more (the device lets go of
    /// a client's buttons when it disconnects). What waits to go out is dropped.
    pub fn link_lost(&mut self) {
        for slot in &mut self.slots {
            if slot.held {
                slot.held = false;
                slot.shown = CtlValue::Bool(false);
                self.version += 1;
            }
            slot.unsent = false;
            slot.in_flight = 0;
        }
    }

    /// Sends what a slider held back when its time comes, and takes back changes the device did
    /// not confirm in time.
    pub fn tick(&mut self, now_ms: f64, buffered: u32) -> Vec<Out> {
        let mut out = self.flush(now_ms, buffered);
        for slot in &mut self.slots {
            if slot.deadline.is_some_and(|d| now_ms >= d) {
                slot.deadline = None;
                slot.unsent = false;
                slot.in_flight = 0;
                if slot.shown != slot.device {
                    slot.shown = slot.device.clone();
                    slot.note = Some(REVERTED);
                    let msg = format!(
                        "control `{}`: no answer from the device in 2 s, back to its value",
                        slot.control.id
                    );
                    out.push(Out::Note(LogLevel::Warn, msg));
                }
                self.version += 1;
            }
        }
        out
    }

    /// Shows `v` on control `i` as a pending change to send; false if it cannot take it.
    fn take(&mut self, i: usize, v: CtlValue, now_ms: f64) -> bool {
        let Some(slot) = self.slots.get_mut(i) else { return false };
        let c = &slot.control;
        if c.read_only() || c.disabled || c.kind == ControlKind::Button {
            return false;
        }
        let Some(v) = c.accept(&v) else { return false };
        slot.shown = v;
        slot.unsent = true;
        slot.last = false;
        slot.note = None;
        slot.deadline = Some(now_ms + CONFIRM_MS);
        self.version += 1;
        true
    }

    /// Sends every value that is due: a slider's at its rate, the last one set at once; nothing of
    /// a slider or number while the socket is backed up (it is sent later, never queued).
    fn flush(&mut self, now_ms: f64, buffered: u32) -> Vec<Out> {
        let mut out = Vec::new();
        for i in 0..self.slots.len() {
            let slot = &self.slots[i];
            if !slot.unsent {
                continue;
            }
            let limited = matches!(slot.control.kind, ControlKind::Slider(_) | ControlKind::Number(_));
            let due = slot.last || now_ms - slot.last_sent_ms >= 1000.0 / slot.control.rate_hz;
            if limited && (!due || buffered > BUFFERED_LIMIT) {
                continue;
            }
            out.push(self.send(i, now_ms));
        }
        out
    }

    fn send(&mut self, i: usize, now_ms: f64) -> Out {
        self.seq = self.seq.wrapping_add(1);
        let slot = &mut self.slots[i];
        slot.unsent = false;
        slot.last = false;
        slot.last_sent_ms = now_ms;
        slot.in_flight += 1;
        slot.deadline = Some(now_ms + CONFIRM_MS);
        Out::Send(AppMsg::Ctl { id: slot.control.id.clone(), v: slot.shown.clone(), seq: self.seq })
    }
}

#[cfg(all(test, feature = "controls"))]
mod tests {
    use super::*;
    use wsdeck_protocol::DeviceMsg;

    /// A declaration as a device's `controls` frame carries it.
    fn decl(list: &str) -> Controls {
        match DeviceMsg::decode(&format!(r#"{{"t":"controls","controls":{list}}}"#)).unwrap() {
            DeviceMsg::Controls(c) => c,
            other => panic!("{other:?}"),
        }
    }

    /// The controls of the e2e device: lights, horn, pan -90..90 at 10 Hz, profile, battery.
    fn panel() -> Panel {
        let list = r#"[
            {"id":"lights","kind":"toggle","label":"Headlights"},
            {"id":"horn","kind":"button"},
            {"id":"pan","kind":"slider","min":-90,"max":90,"step":1,"unit":"°","rate_hz":10},
            {"id":"profile","kind":"select","options":["eco","sport"]},
            {"id":"battery","kind":"gauge","min":0,"max":100,"series":"battery"}
        ]"#;
        let mut p = Panel::default();
        p.declare(decl(list));
        p
    }

    const LIGHTS: usize = 0;
    const HORN: usize = 1;
    const PAN: usize = 2;

    /// The frames among `out`, as the device reads them: (id, value, seq).
    fn sent(out: &[Out]) -> Vec<(String, CtlValue, u32)> {
        out.iter()
            .filter_map(|o| match o {
                Out::Send(m) => match AppMsg::decode(&m.encode()).unwrap() {
                    AppMsg::Ctl { id, v, seq } => Some((id, v, seq)),
                    other => panic!("{other:?}"),
                },
                Out::Note(..) => None,
            })
            .collect()
    }

    fn device_says(p: &mut Panel, frame: &str) {
        match DeviceMsg::decode(frame).unwrap() {
            DeviceMsg::Ctl(values) => p.on_device(values),
            other => panic!("{other:?}"),
        }
    }

    fn on(b: bool) -> CtlValue {
        CtlValue::Bool(b)
    }

    #[test]
    fn a_change_is_pending_until_the_device_confirms_it() {
        let mut p = panel();
        let out = p.set(LIGHTS, on(true), 1000.0, 0);
        assert_eq!(sent(&out), [("lights".into(), on(true), 1)]);
        assert_eq!(p.shown(LIGHTS).unwrap(), Shown { value: on(true), pending: true, note: None });
        device_says(&mut p, r#"{"t":"ctl","v":{"lights":true}}"#);
        assert_eq!(p.shown(LIGHTS).unwrap(), Shown { value: on(true), pending: false, note: None });
        assert!(p.tick(5000.0, 0).is_empty(), "nothing is taken back once confirmed");
        assert_eq!(p.shown(LIGHTS).unwrap().value, on(true));
    }

    #[test]
    fn no_confirmation_in_two_seconds_goes_back_to_the_device_value_and_says_so() {
        let mut p = panel();
        p.set(LIGHTS, on(true), 1000.0, 0);
        assert!(p.tick(2999.0, 0).is_empty());
        assert!(p.shown(LIGHTS).unwrap().pending);
        let out = p.tick(3000.0, 0);
        assert!(matches!(&out[..], [Out::Note(LogLevel::Warn, t)] if t.contains("`lights`")), "{out:?}");
        assert_eq!(
            p.shown(LIGHTS).unwrap(),
            Shown { value: on(false), pending: false, note: Some(REVERTED) }
        );
        // The next change clears the note.
        p.set(LIGHTS, on(true), 4000.0, 0);
        assert_eq!(p.shown(LIGHTS).unwrap().note, None);
    }

    #[test]
    fn a_change_from_another_phone_shows_at_once_but_not_over_a_pending_one() {
        let mut p = panel();
        device_says(&mut p, r#"{"t":"ctl","v":{"lights":true,"profile":"sport","nope":1}}"#);
        assert_eq!(p.shown(LIGHTS).unwrap().value, on(true));
        assert_eq!(p.shown(3).unwrap().value, CtlValue::Text("sport".into()));
        // A value wrong for the kind, or an option that does not exist, changes nothing.
        device_says(&mut p, r#"{"t":"ctl","v":{"lights":3,"profile":"turbo"}}"#);
        assert_eq!(p.shown(LIGHTS).unwrap().value, on(true));
        assert_eq!(p.shown(3).unwrap().value, CtlValue::Text("sport".into()));
        // A drag step echoed back while a newer one is pending does not move the slider back.
        p.drag(PAN, CtlValue::Num(10.0), 0.0, 0);
        p.drag(PAN, CtlValue::Num(20.0), 200.0, 0);
        device_says(&mut p, r#"{"t":"ctl","v":{"pan":10}}"#);
        assert_eq!(p.shown(PAN).unwrap(), Shown { value: CtlValue::Num(20.0), pending: true, note: None });
        device_says(&mut p, r#"{"t":"ctl","v":{"pan":20}}"#);
        assert!(!p.shown(PAN).unwrap().pending);
    }

    #[test]
    fn a_device_that_refuses_a_value_takes_the_control_back_at_once() {
        let mut p = panel();
        p.set(3, CtlValue::Text("sport".into()), 0.0, 0);
        // It answers with the value it kept: no waiting for the deadline.
        device_says(&mut p, r#"{"t":"ctl","v":{"profile":"eco"}}"#);
        let eco = Shown { value: CtlValue::Text("eco".into()), pending: false, note: None };
        assert_eq!(p.shown(3).unwrap(), eco);
        // A slider: steps answered one by one; the answer to the last settles it, here snapped.
        p.drag(PAN, CtlValue::Num(10.0), 0.0, 0);
        p.drag(PAN, CtlValue::Num(20.0), 200.0, 0);
        device_says(&mut p, r#"{"t":"ctl","v":{"pan":10}}"#);
        assert!(p.shown(PAN).unwrap().pending);
        device_says(&mut p, r#"{"t":"ctl","v":{"pan":19}}"#);
        assert_eq!(p.shown(PAN).unwrap(), Shown { value: CtlValue::Num(19.0), pending: false, note: None });
    }

    #[test]
    fn a_dragged_slider_sends_at_its_rate_latest_wins_and_the_last_value_always() {
        let mut p = panel();
        // Pointer moves every 4 ms for one second (250 Hz) on a 10 Hz slider, ticks every 100 ms.
        let mut out = Vec::new();
        for k in 0..250 {
            let now = f64::from(k) * 4.0;
            out.extend(p.drag(PAN, CtlValue::Num(f64::from(k % 90)), now, 0));
            if k % 25 == 0 {
                out.extend(p.tick(now, 0));
            }
        }
        let frames = sent(&out);
        assert!(frames.len() <= 11, "{} frames in 1 s at 10 Hz", frames.len());
        assert!(frames.len() >= 9, "{} frames", frames.len());
        // Let go at 1000 ms on 37.4 (snapped to its step): sent at once, past the rate.
        let last = sent(&p.set(PAN, CtlValue::Num(37.4), 1000.5, 0));
        assert_eq!(last, [("pan".into(), CtlValue::Num(37.0), frames.len() as u32 + 1)]);
        let seqs: Vec<u32> = frames.iter().map(|f| f.2).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seq goes up by one per frame: {seqs:?}");
    }

    #[test]
    fn a_backed_up_socket_holds_slider_frames_back_but_never_loses_the_last() {
        let mut p = panel();
        assert!(sent(&p.drag(PAN, CtlValue::Num(5.0), 0.0, 10_000)).is_empty());
        assert!(sent(&p.drag(PAN, CtlValue::Num(6.0), 500.0, 10_000)).is_empty());
        assert!(sent(&p.set(PAN, CtlValue::Num(7.0), 600.0, 10_000)).is_empty(), "not queued");
        assert!(sent(&p.tick(700.0, 10_000)).is_empty());
        // Room again: only the newest goes out, once.
        assert_eq!(sent(&p.tick(800.0, 0)), [("pan".into(), CtlValue::Num(7.0), 1)]);
        assert!(sent(&p.tick(900.0, 0)).is_empty());
        // Toggles and buttons are not held back.
        assert_eq!(sent(&p.set(LIGHTS, on(true), 1000.0, 10_000)).len(), 1);
        assert_eq!(sent(&p.press(HORN, true, 1000.0)).len(), 1);
    }

    #[test]
    fn a_button_sends_true_on_press_and_false_on_release_once() {
        let mut p = panel();
        assert_eq!(sent(&p.press(HORN, true, 0.0)), [("horn".into(), on(true), 1)]);
        assert!(p.press(HORN, true, 1.0).is_empty(), "a second pointer down is not a second press");
        assert_eq!(sent(&p.press(HORN, false, 10.0)), [("horn".into(), on(false), 2)]);
        // pointerup, then lostpointercapture and blur: one release only.
        assert!(p.press(HORN, false, 11.0).is_empty());
        assert!(p.release_all(12.0).is_empty());
        // A button cannot be `set` like a toggle, nor a gauge at all.
        assert!(p.set(HORN, on(true), 20.0, 0).is_empty());
        assert!(p.set(4, CtlValue::Num(5.0), 20.0, 0).is_empty());
    }

    #[test]
    fn every_held_button_is_released_when_the_page_goes_and_none_is_held_after_a_lost_link() {
        let mut p = panel();
        p.press(HORN, true, 0.0);
        assert_eq!(sent(&p.release_all(50.0)), [("horn".into(), on(false), 2)]);
        p.press(HORN, true, 100.0);
        p.link_lost();
        assert_eq!(p.shown(HORN).unwrap().value, on(false));
        assert!(p.release_all(200.0).is_empty(), "nothing held any more");
        assert_eq!(sent(&p.press(HORN, true, 300.0)).len(), 1, "a new press after the link is back");
    }

    #[test]
    fn disabled_controls_send_nothing() {
        let mut p = Panel::default();
        let list =
            r#"[{"id":"a","kind":"toggle","disabled":true},{"id":"b","kind":"button","disabled":true}]"#;
        p.declare(decl(list));
        assert!(p.set(0, on(true), 0.0, 0).is_empty());
        assert!(p.press(1, true, 0.0).is_empty());
    }

    #[test]
    fn a_new_declaration_replaces_the_set_keeps_values_and_notes_each_skipped_one() {
        let mut p = panel();
        device_says(&mut p, r#"{"t":"ctl","v":{"lights":true,"pan":30}}"#);
        let v = p.set_version();
        let list = r#"[{"id":"pan","kind":"slider","min":0,"max":10},{"id":"lights","kind":"toggle"},
            {"id":"x","kind":"knob"},{"kind":"toggle"},{"id":"lights","kind":"led"}]"#;
        let out = p.declare(decl(list));
        assert!(p.set_version() > v);
        let ids: Vec<&str> = p.controls().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["pan", "lights"]);
        assert_eq!(p.shown(0).unwrap().value, CtlValue::Num(10.0), "kept, within the new range");
        assert_eq!(p.shown(1).unwrap().value, on(true));
        let notes: Vec<&str> = out
            .iter()
            .filter_map(|o| if let Out::Note(_, t) = o { Some(t.as_str()) } else { None })
            .collect();
        assert_eq!(
            notes,
            [
                "control 2 (`x`) skipped: unknown kind",
                "control 3 skipped: no id",
                "control 4 (`lights`) skipped: duplicate id",
                "the device declares 2 controls"
            ]
        );
    }

    #[test]
    fn a_gauge_follows_its_series() {
        let mut p = panel();
        let mut series = SeriesSet::default();
        match DeviceMsg::decode(r#"{"t":"tel","d":{"battery":140,"other":3}}"#).unwrap() {
            DeviceMsg::Telemetry(t) => series.push(t, 0.0),
            other => panic!("{other:?}"),
        }
        let v = p.version();
        p.follow(&series);
        assert_eq!(p.shown(4).unwrap().value, CtlValue::Num(100.0), "clamped to the gauge's max");
        assert!(p.version() > v);
        let v = p.version();
        p.follow(&series);
        assert_eq!(p.version(), v, "nothing changed, nothing to redraw");
    }

    #[test]
    fn gauge_levels_count_up_or_down() {
        assert_eq!(Level::of(50.0, Some(70.0), Some(90.0)), Level::Ok);
        assert_eq!(Level::of(75.0, Some(70.0), Some(90.0)), Level::Warn);
        assert_eq!(Level::of(95.0, Some(70.0), Some(90.0)), Level::Alarm);
        assert_eq!(Level::of(15.0, Some(20.0), Some(10.0)), Level::Warn, "a battery");
        assert_eq!(Level::of(5.0, Some(20.0), Some(10.0)), Level::Alarm);
        assert_eq!(Level::of(50.0, Some(20.0), Some(10.0)), Level::Ok);
        assert_eq!(Level::of(50.0, None, None), Level::Ok);
        assert_eq!(Level::of(95.0, None, Some(90.0)), Level::Alarm);
    }
}
