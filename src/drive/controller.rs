//! The driving controller, free of the DOM: turns control positions into what to send ([`Out`]),
//! applying the shaping, the mixing, the arming rules, the driver lease and the send rate. The
//! Drive page feeds it pointer, keyboard and page events, encodes what it returns and sends it.

use super::arming::{Arming, Disarm};
use super::sender::{Motion, Sender};
use super::shaping::{arcade, shape_dpad, shape_stick, to_wire, Shaping};
use wsdeck_protocol::{AppMsg, DriveState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One stick: throttle and steering (arcade mixing).
    Stick,
    /// Two sticks, one per side of the car.
    Tank,
    /// Left stick throttle, right stick steering.
    Split,
    /// Four directions.
    Dpad4,
    /// Eight directions.
    Dpad8,
}

impl Mode {
    pub const ALL: [Mode; 5] = [Mode::Stick, Mode::Tank, Mode::Split, Mode::Dpad4, Mode::Dpad8];

    pub fn slug(self) -> &'static str {
        match self {
            Mode::Stick => "stick",
            Mode::Tank => "tank",
            Mode::Split => "split",
            Mode::Dpad4 => "dpad4",
            Mode::Dpad8 => "dpad8",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Mode::Stick => "Stick",
            Mode::Tank => "Tank",
            Mode::Split => "Split",
            Mode::Dpad4 => "D-pad",
            Mode::Dpad8 => "D-pad 8",
        }
    }

    pub fn from_slug(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.slug() == s)
    }

    /// Two controls on screen.
    pub fn dual(self) -> bool {
        matches!(self, Mode::Tank | Mode::Split)
    }
}

/// Where an input comes from. Each has its own position, so two fingers drive two sticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The single stick, the D-pad, or the left of two sticks.
    Left,
    Right,
    Keys,
    /// A gamepad's left and right sticks (standard mapping), used in place of the touch pads
    /// while either is off-centre.
    GamepadLeft,
    GamepadRight,
}

impl Control {
    fn index(self) -> usize {
        self as usize
    }
}

/// Who holds the device's driver lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// The device never spoke of a lease (older firmware): anyone drives.
    None,
    Free,
    Mine,
    Theirs,
}

/// What the device understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialect {
    Json,
    /// Tutorial cars: one word per frame, for up, down, left, right and stop.
    Words([String; 5]),
}

impl Dialect {
    pub fn default_words() -> [String; 5] {
        ["up", "down", "left", "right", "stop"].map(String::from)
    }
}

/// One thing to send, typed: the Drive page encodes it at the edge, and knows a stop when it sees
/// one in either dialect.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A protocol v1 frame.
    Frame(AppMsg),
    /// A word of the text dialect, sent as it is.
    Word(String),
    /// The text dialect's stop word.
    StopWord(String),
}

impl Out {
    pub fn is_stop(&self) -> bool {
        matches!(self, Out::Frame(AppMsg::Stop { .. }) | Out::StopWord(_))
    }

    /// The text frame that goes on the wire.
    pub fn encode(&self) -> String {
        match self {
            Out::Frame(msg) => msg.encode(),
            Out::Word(w) | Out::StopWord(w) => w.clone(),
        }
    }
}

#[derive(Debug)]
pub struct Controller {
    mode: Mode,
    pub shaping: Shaping,
    dialect: Dialect,
    arming: Arming,
    lease: Lease,
    sender: Sender,
    inputs: [(f64, f64); 5],
    motion: Motion,
    last_word: Option<usize>,
    /// The device's last failsafe reason on this connection; `None` until its first state.
    failsafe: Option<Option<String>>,
}

impl Controller {
    pub fn new(mode: Mode, shaping: Shaping, rate_hz: f64, dialect: Dialect) -> Controller {
        Controller {
            mode,
            shaping,
            dialect,
            arming: Arming::default(),
            lease: Lease::None,
            sender: Sender::new(rate_hz),
            inputs: [(0.0, 0.0); 5],
            motion: Motion::default(),
            last_word: None,
            failsafe: None,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn arming(&self) -> Arming {
        self.arming
    }

    pub fn lease(&self) -> Lease {
        self.lease
    }

    /// The command the controls ask for now (shown on screen), whether or not it is sent.
    pub fn motion(&self) -> Motion {
        self.motion
    }

    pub fn skipped(&self) -> u64 {
        self.sender.skipped
    }

    pub fn dialect(&self) -> &Dialect {
        &self.dialect
    }

    /// Another device, or other words for this one: driving starts over in the new dialect (the
    /// old one's stop goes out if the person was driving).
    pub fn set_dialect(&mut self, dialect: Dialect) -> Vec<Out> {
        if dialect == self.dialect {
            return Vec::new();
        }
        let out = if self.arming.is_armed() { self.disarm(Disarm::Reconnected) } else { Vec::new() };
        self.dialect = dialect;
        self.last_word = None;
        out
    }

    /// The person pressed Arm. Asks the device for the lease where it has one: `claim` and
    /// `release` only ever go to a device whose `state` spoke of a lease on this connection, so a
    /// device that never said it speaks protocol v1 gets nothing but the person's drive and stop.
    pub fn arm(&mut self) -> Vec<Out> {
        if self.lease == Lease::Theirs {
            // Maybe the driver is idle; the device decides and answers with its state.
            return vec![Out::Frame(AppMsg::Claim)];
        }
        self.arming.arm(self.motion.is_neutral());
        match (self.lease, &self.dialect) {
            (Lease::Free, Dialect::Json) => vec![Out::Frame(AppMsg::Claim)],
            _ => Vec::new(),
        }
    }

    /// STOP, disarm, or anything that must end driving until the person arms again. The controls
    /// keep their positions: a finger still holding a stick must bring it back to the centre
    /// before the car moves again.
    pub fn disarm(&mut self, why: Disarm) -> Vec<Out> {
        let was_armed = self.arming.is_armed();
        self.arming.disarm(why);
        let mut out = Vec::new();
        if was_armed || why == Disarm::User {
            out.push(self.stop_frame());
        }
        if was_armed && self.lease == Lease::Mine && why == Disarm::User {
            out.push(Out::Frame(AppMsg::Release));
        }
        out
    }

    /// A stop that keeps the arming but waits for every control to be back at neutral: window
    /// blurred, mode changed.
    pub fn halt(&mut self) -> Vec<Out> {
        self.arming.latch();
        if self.arming.is_armed() {
            vec![self.stop_frame()]
        } else {
            Vec::new()
        }
    }

    /// Another layout: its pads are new, so the old pads' positions are forgotten; a stop goes
    /// out and motion waits for neutral.
    pub fn set_mode(&mut self, mode: Mode) -> Vec<Out> {
        self.mode = mode;
        self.inputs[Control::Left.index()] = (0.0, 0.0);
        self.inputs[Control::Right.index()] = (0.0, 0.0);
        self.motion = self.mix();
        self.halt()
    }

    /// A control moved to `(x, y)` (right and up positive, -1..=1).
    pub fn input(&mut self, c: Control, x: f64, y: f64, now_ms: f64, buffered: u32) -> Vec<Out> {
        self.inputs[c.index()] = (x, y);
        self.update(now_ms, buffered, false)
    }

    /// A control was let go: the new command goes out at once, a stop if nothing else is held.
    pub fn release(&mut self, c: Control, now_ms: f64, buffered: u32) -> Vec<Out> {
        self.inputs[c.index()] = (0.0, 0.0);
        self.update(now_ms, buffered, true)
    }

    /// The browser took a control's pointer away (a call, a system gesture, lost capture): stop
    /// everything, and wait for neutral before moving again.
    pub fn cancel(&mut self, c: Control) -> Vec<Out> {
        self.inputs[c.index()] = (0.0, 0.0);
        self.motion = self.mix();
        self.halt()
    }

    /// Called every few milliseconds: pending and repeated motion.
    pub fn tick(&mut self, now_ms: f64, buffered: u32) -> Vec<Out> {
        if !self.arming.may_move() || self.dialect != Dialect::Json {
            return Vec::new();
        }
        self.sender.tick(now_ms, buffered).map(Out::Frame).into_iter().collect()
    }

    /// The device's drive state arrived.
    pub fn device_state(&mut self, st: &DriveState) -> Vec<Out> {
        let before = self.lease;
        self.lease = match (st.driver, st.you) {
            (None, _) => Lease::Free,
            (Some(d), Some(you)) if d == you => Lease::Mine,
            (Some(_), _) => Lease::Theirs,
        };
        if self.lease == Lease::Mine && before == Lease::Theirs && !self.arming.is_armed() {
            // A claim made from Arm was granted.
            self.arming.arm(self.motion.is_neutral());
        }
        if self.lease == Lease::Theirs && self.arming.is_armed() {
            return self.disarm(Disarm::NotDriver);
        }
        // A failsafe counts when it happens, not while the device keeps reporting it: the first
        // state on a connection may carry one from before, and must not disarm a new arming.
        let new_failsafe =
            self.failsafe.as_ref().is_some_and(|old| *old != st.failsafe) && st.failsafe.is_some();
        self.failsafe = Some(st.failsafe.clone());
        if new_failsafe && self.arming.is_armed() {
            return self.disarm(Disarm::Failsafe);
        }
        if self.lease == Lease::Free && self.arming.is_armed() && self.dialect == Dialect::Json {
            // Armed before the device said it has a lease: ask for it now.
            return vec![Out::Frame(AppMsg::Claim)];
        }
        Vec::new()
    }

    /// The link went down or came back: either way, driving starts over.
    pub fn link(&mut self, up: bool) -> Vec<Out> {
        self.lease = Lease::None;
        self.failsafe = None;
        self.disarm(if up { Disarm::Reconnected } else { Disarm::LinkLost })
    }

    fn update(&mut self, now_ms: f64, buffered: u32, immediate: bool) -> Vec<Out> {
        self.motion = self.mix();
        let neutral = self.motion.is_neutral();
        self.arming.controls(neutral);
        if !self.arming.may_move() {
            return Vec::new();
        }
        if let Dialect::Words(_) = self.dialect {
            return self.word().into_iter().collect();
        }
        if neutral && immediate {
            return vec![self.stop_frame()];
        }
        let sent = if immediate {
            // The person just let go of something: the car follows at once.
            self.sender.send_now(self.motion, now_ms, buffered)
        } else {
            self.sender.set(self.motion, now_ms, buffered)
        };
        sent.map(Out::Frame).into_iter().collect()
    }

    fn stop_frame(&mut self) -> Out {
        match &self.dialect {
            Dialect::Json => Out::Frame(self.sender.stop()),
            Dialect::Words(words) => {
                self.last_word = Some(4);
                Out::StopWord(words[4].clone())
            }
        }
    }

    /// Tutorial cars know four directions: the stick is quantised to the nearest.
    fn word(&mut self) -> Option<Out> {
        let Dialect::Words(words) = &self.dialect else { return None };
        let (x, y) = (f64::from(self.motion.x), f64::from(self.motion.y));
        let threshold = 300.0;
        let index = if y.abs() >= x.abs() && y.abs() >= threshold {
            if y > 0.0 {
                0
            } else {
                1
            }
        } else if x.abs() >= threshold {
            if x < 0.0 {
                2
            } else {
                3
            }
        } else {
            4
        };
        if self.last_word == Some(index) {
            return None;
        }
        self.last_word = Some(index);
        let word = words[index].clone();
        Some(if index == 4 { Out::StopWord(word) } else { Out::Word(word) })
    }

    fn mix(&self) -> Motion {
        let s = &self.shaping;
        // Nearest of 4 or 8 directions, by comparing the axes (no trigonometry: every KB of wasm
        // is flash). tan(22.5°) splits the eight 45° sectors.
        let quantise = |(x, y): (f64, f64), eight: bool| -> (i8, i8) {
            if x.hypot(y) < 0.35 {
                return (0, 0);
            }
            let (sx, sy) = (x.signum() as i8, y.signum() as i8);
            const TAN_22_5: f64 = 0.414_213_562_373_095;
            match eight {
                false if x.abs() >= y.abs() => (sx, 0),
                false => (0, sy),
                true if y.abs() < TAN_22_5 * x.abs() => (sx, 0),
                true if x.abs() < TAN_22_5 * y.abs() => (0, sy),
                true => (sx, sy),
            }
        };
        let [touch_left, touch_right, keys, pad_left, pad_right] = self.inputs;
        // Gamepad sticks drift a little: only a stick past the dead zone takes over from touch.
        let beyond = |(x, y): (f64, f64)| x.hypot(y) > s.dead_zone;
        let gamepad = beyond(pad_left) || beyond(pad_right);
        let (left, right) = if gamepad { (pad_left, pad_right) } else { (touch_left, touch_right) };
        // Keys give -1, 0 or 1 per axis.
        let (x, y) = if keys != (0.0, 0.0) {
            shape_dpad(keys.0 as i8, keys.1 as i8, s)
        } else {
            match self.mode {
                Mode::Stick => shape_stick(left.0, left.1, s),
                Mode::Dpad4 | Mode::Dpad8 => {
                    let (qx, qy) = quantise(left, self.mode == Mode::Dpad8);
                    shape_dpad(qx, qy, s)
                }
                Mode::Split => (shape_stick(right.0, 0.0, s).0, shape_stick(0.0, left.1, s).1),
                Mode::Tank => {
                    let l = shape_stick(0.0, left.1, s).1;
                    let r = shape_stick(0.0, right.1, s).1;
                    return Motion {
                        x: to_wire((l - r) / 2.0),
                        y: to_wire((l + r) / 2.0),
                        l: to_wire(l),
                        r: to_wire(r),
                    };
                }
            }
        };
        let (l, r) = arcade(x, y);
        Motion { x: to_wire(x), y: to_wire(y), l: to_wire(l), r: to_wire(r) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_protocol::Drive;

    fn ctl(mode: Mode) -> Controller {
        let linear = Shaping { dead_zone: 0.0, expo: 0.0, limit: 1.0, axis_lock: false };
        Controller::new(mode, linear, 30.0, Dialect::Json)
    }

    /// The frames as the device reads them off the wire.
    fn msgs(out: &[Out]) -> Vec<AppMsg> {
        out.iter()
            .map(|o| match o {
                Out::Frame(_) => AppMsg::decode(&o.encode()).unwrap(),
                word => panic!("expected frames, got {word:?}"),
            })
            .collect()
    }

    fn words(out: &[Out]) -> Vec<String> {
        out.iter().map(Out::encode).collect()
    }

    fn drive(frames: &[Out]) -> Drive {
        match msgs(frames).as_slice() {
            [AppMsg::Drive(d)] => *d,
            other => panic!("expected one drive frame, got {other:?}"),
        }
    }

    fn is_stop(out: &[Out]) -> bool {
        matches!(msgs(out).as_slice(), [AppMsg::Stop { .. }, ..]) && out[0].is_stop()
    }

    #[test]
    fn nothing_moves_until_armed() {
        let mut c = ctl(Mode::Stick);
        assert!(c.input(Control::Left, 0.0, 1.0, 0.0, 0).is_empty());
        assert_eq!(c.motion().y, 1000, "the screen still shows what the stick asks");
        c.release(Control::Left, 10.0, 0);
        assert!(c.arm().is_empty(), "no lease on this device: nothing to claim");
        let d = drive(&c.input(Control::Left, 0.0, 1.0, 20.0, 0));
        assert_eq!((d.x, d.y, d.l, d.r), (0, 1000, 1000, 1000));
    }

    #[test]
    fn arming_with_the_stick_held_waits_for_neutral() {
        let mut c = ctl(Mode::Stick);
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        c.arm();
        assert_eq!(c.arming(), Arming::AwaitNeutral);
        assert!(c.input(Control::Left, 0.0, 0.9, 10.0, 0).is_empty());
        c.input(Control::Left, 0.0, 0.0, 20.0, 0);
        assert!(c.arming().may_move());
    }

    #[test]
    fn release_stops_at_once() {
        let mut c = ctl(Mode::Stick);
        c.arm();
        c.input(Control::Left, 0.5, 0.5, 0.0, 0);
        c.input(Control::Left, 0.6, 0.6, 1.0, 0); // within the rate: pending
        assert!(is_stop(&c.release(Control::Left, 2.0, 0)));
        assert!(c.tick(500.0, 10_000).is_empty(), "nothing pending after a stop");
    }

    #[test]
    fn two_sticks_drive_two_wheels_and_letting_one_go_is_sent_at_once() {
        let mut c = ctl(Mode::Tank);
        c.arm();
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        c.input(Control::Right, 0.0, 0.5, 100.0, 0);
        assert_eq!((c.motion().l, c.motion().r), (1000, 500));
        let d = drive(&c.release(Control::Right, 101.0, 0));
        assert_eq!((d.l, d.r), (1000, 0), "sent without waiting for the rate");
        assert!(is_stop(&c.release(Control::Left, 102.0, 0)));
    }

    #[test]
    fn split_mode_takes_throttle_left_and_steering_right() {
        let mut c = ctl(Mode::Split);
        c.input(Control::Left, 0.9, 1.0, 0.0, 0);
        c.input(Control::Right, 1.0, -0.9, 0.0, 0);
        let m = c.motion();
        assert_eq!((m.x, m.y), (1000, 1000));
        assert_eq!((m.l, m.r), (1000, 0));
    }

    #[test]
    fn dpad_quantises_to_four_or_eight_directions() {
        let mut c = ctl(Mode::Dpad4);
        c.input(Control::Left, 0.6, 0.7, 0.0, 0);
        assert_eq!((c.motion().x, c.motion().y), (0, 1000));
        c.input(Control::Left, 0.1, 0.1, 0.0, 0);
        assert!(c.motion().is_neutral(), "a small touch near the centre is neutral");
        let mut c = ctl(Mode::Dpad8);
        c.input(Control::Left, 0.6, 0.7, 0.0, 0);
        assert_eq!((c.motion().x, c.motion().y), (707, 707));
        c.input(Control::Left, -0.9, -0.1, 0.0, 0);
        assert_eq!((c.motion().x, c.motion().y), (-1000, 0));
    }

    #[test]
    fn a_gamepad_drives_in_the_chosen_mode() {
        let mut c = ctl(Mode::Tank);
        c.arm();
        c.input(Control::GamepadLeft, 0.0, 1.0, 0.0, 0);
        let d = drive(&c.input(Control::GamepadRight, 0.0, -1.0, 100.0, 0));
        assert_eq!((d.l, d.r), (1000, -1000));
        c.release(Control::GamepadLeft, 200.0, 0);
        assert!(is_stop(&c.release(Control::GamepadRight, 201.0, 0)));
    }

    #[test]
    fn a_drifting_gamepad_does_not_take_over_from_touch() {
        let mut c = Controller::new(Mode::Stick, Shaping::default(), 30.0, Dialect::Json);
        c.input(Control::GamepadLeft, 0.02, -0.03, 0.0, 0);
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        assert_eq!(c.motion().y, 1000);
    }

    #[test]
    fn changing_layout_forgets_the_old_pads() {
        let mut c = ctl(Mode::Tank);
        c.arm();
        c.input(Control::Right, 0.0, 1.0, 0.0, 0);
        assert!(is_stop(&c.set_mode(Mode::Stick)));
        c.set_mode(Mode::Tank);
        assert!(c.motion().is_neutral(), "the right stick's old position is gone");
    }

    #[test]
    fn dpad_directions_match_the_nearest_sector_all_round() {
        // Reference: the nearest of n directions by angle.
        let nearest = |x: f64, y: f64, n: f64| -> (i16, i16) {
            let k = (y.atan2(x) / (std::f64::consts::TAU / n)).round();
            let a = k * std::f64::consts::TAU / n;
            let r = |v: f64| if v.abs() < 0.3 { 0 } else { v.signum() as i16 };
            (r(a.cos()), r(a.sin()))
        };
        for (mode, n) in [(Mode::Dpad4, 4.0), (Mode::Dpad8, 8.0)] {
            let mut c = ctl(mode);
            for step in 0..720 {
                // Half-degree steps, off the sector borders.
                let a = (f64::from(step) * 0.5 + 0.25).to_radians();
                let (x, y) = (0.9 * a.cos(), 0.9 * a.sin());
                c.input(Control::Left, x, y, 0.0, 0);
                let m = c.motion();
                let (ex, ey) = nearest(x, y, n);
                assert_eq!(
                    (m.x.signum(), m.y.signum()),
                    (ex, ey),
                    "{n} directions at {:.2}°",
                    a.to_degrees()
                );
            }
        }
    }

    #[test]
    fn keys_drive_like_a_dpad() {
        let mut c = ctl(Mode::Stick);
        c.arm();
        let d = drive(&c.input(Control::Keys, 0.0, 1.0, 0.0, 0));
        assert_eq!((d.l, d.r), (1000, 1000));
        assert!(is_stop(&c.release(Control::Keys, 5.0, 0)));
    }

    #[test]
    fn losing_the_link_or_a_failsafe_disarms_and_stops() {
        let mut c = ctl(Mode::Stick);
        c.arm();
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        assert!(is_stop(&c.link(false)));
        assert_eq!(c.arming(), Arming::Disarmed(Some(Disarm::LinkLost)));
        assert!(c.input(Control::Left, 0.0, 1.0, 10.0, 0).is_empty());

        let mut c = ctl(Mode::Stick);
        let driving = DriveState { driver: Some(1), you: Some(1), armed: true, failsafe: None };
        c.device_state(&driving);
        c.arm();
        let watchdog = DriveState { failsafe: Some("watchdog".into()), armed: false, ..driving.clone() };
        assert!(is_stop(&c.device_state(&watchdog)));
        assert_eq!(c.arming(), Arming::Disarmed(Some(Disarm::Failsafe)));
        // Still reported while nothing new happened: arming again is allowed.
        c.arm();
        assert!(c.device_state(&watchdog).is_empty());
        assert!(c.arming().may_move());
    }

    #[test]
    fn hidden_page_and_blur_stop() {
        let mut c = ctl(Mode::Stick);
        c.arm();
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        assert!(is_stop(&c.halt()));
        assert_eq!(c.arming(), Arming::AwaitNeutral);
        assert!(c.input(Control::Left, 0.0, 0.9, 10.0, 0).is_empty(), "the finger is still off-centre");
        assert!(is_stop(&c.disarm(Disarm::Hidden)));
        assert!(c.disarm(Disarm::Hidden).is_empty(), "a second loss sends nothing new");
    }

    #[test]
    fn a_cancelled_pointer_stops_and_waits_for_neutral() {
        let mut c = ctl(Mode::Tank);
        c.arm();
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        c.input(Control::Right, 0.0, 1.0, 0.0, 0);
        assert!(is_stop(&c.cancel(Control::Right)));
        assert!(c.input(Control::Left, 0.0, 0.8, 100.0, 0).is_empty(), "the other stick is still held");
        c.release(Control::Left, 110.0, 0);
        assert!(c.arming().may_move());
    }

    #[test]
    fn re_arming_with_a_stick_still_held_after_a_loss_waits_for_neutral() {
        let mut c = ctl(Mode::Stick);
        c.arm();
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        c.link(false);
        c.link(true);
        c.arm();
        assert_eq!(c.arming(), Arming::AwaitNeutral, "the finger never left the stick");
        assert!(c.input(Control::Left, 0.1, 0.9, 10.0, 0).is_empty());
        assert!(c.input(Control::Left, 0.0, 0.0, 20.0, 0).is_empty() || c.arming().may_move());
        assert!(c.arming().may_move());
        assert_eq!(drive(&c.input(Control::Left, 0.0, 0.5, 200.0, 0)).y, 500);
    }

    #[test]
    fn the_lease_is_claimed_on_arm_and_respected() {
        let mut c = ctl(Mode::Stick);
        let you = |driver| DriveState { driver, you: Some(2), armed: false, failsafe: None };
        c.device_state(&you(None));
        assert_eq!(c.lease(), Lease::Free);
        assert_eq!(msgs(&c.arm()), [AppMsg::Claim]);
        c.device_state(&you(Some(2)));
        assert_eq!(c.lease(), Lease::Mine);
        // Someone else took over (we were idle): disarm, stop.
        assert!(is_stop(&c.device_state(&you(Some(7)))));
        assert_eq!(c.arming(), Arming::Disarmed(Some(Disarm::NotDriver)));
        // Arm asks again; granted, the app arms.
        assert_eq!(msgs(&c.arm()), [AppMsg::Claim]);
        assert!(!c.arming().is_armed());
        c.device_state(&you(Some(2)));
        assert!(c.arming().may_move());
        // STOP gives the car back.
        assert_eq!(msgs(&c.disarm(Disarm::User)), [AppMsg::Stop { seq: 2 }, AppMsg::Release]);
    }

    #[test]
    fn a_failsafe_from_before_a_reconnect_does_not_disarm() {
        let mut c = ctl(Mode::Stick);
        c.link(true);
        c.arm();
        let stale =
            DriveState { driver: None, you: Some(5), armed: false, failsafe: Some("watchdog".into()) };
        c.device_state(&stale);
        assert!(c.arming().is_armed());
    }

    #[test]
    fn arming_before_the_device_spoke_of_a_lease_claims_it_when_it_does() {
        let mut c = ctl(Mode::Stick);
        assert!(c.arm().is_empty());
        let free = DriveState { driver: None, you: Some(3), armed: false, failsafe: None };
        assert_eq!(msgs(&c.device_state(&free)), [AppMsg::Claim]);
        assert!(c.arming().may_move());
    }

    fn tutorial(words: [&str; 5]) -> Controller {
        Controller::new(Mode::Stick, Shaping::default(), 30.0, Dialect::Words(words.map(String::from)))
    }

    #[test]
    fn tutorial_cars_get_words_on_change() {
        let mut c = tutorial(["up", "down", "left", "right", "stop"]);
        assert!(c.arm().is_empty(), "no claim: a tutorial car has no lease");
        assert_eq!(words(&c.input(Control::Left, 0.0, 1.0, 0.0, 0)), ["up"]);
        assert!(c.input(Control::Left, 0.1, 0.95, 10.0, 0).is_empty(), "same word: not repeated");
        assert_eq!(words(&c.input(Control::Left, -1.0, 0.1, 20.0, 0)), ["left"]);
        assert_eq!(words(&c.release(Control::Left, 30.0, 0)), ["stop"]);
        assert!(c.tick(1000.0, 0).is_empty());
    }

    #[test]
    fn stop_is_known_as_a_stop_in_both_dialects() {
        // The Drive page vibrates on a stop: a tutorial car's STOP must count, whatever its word.
        let mut c = tutorial(["forward", "reverse", "left", "right", "halt"]);
        c.arm();
        let forward = c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        assert_eq!(forward, [Out::Word("forward".into())]);
        assert!(!forward[0].is_stop());
        let stop = c.disarm(Disarm::User);
        assert_eq!(stop, [Out::StopWord("halt".into())]);
        assert!(stop[0].is_stop() && stop[0].encode() == "halt");

        let mut c = ctl(Mode::Stick);
        c.arm();
        let moving = c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        assert!(!moving[0].is_stop());
        let stop = c.release(Control::Left, 10.0, 0);
        assert!(stop[0].is_stop());
        assert!(matches!(AppMsg::decode(&stop[0].encode()), Ok(AppMsg::Stop { .. })));
        assert!(!Out::Frame(AppMsg::Claim).is_stop() && !Out::Word("stop".into()).is_stop());
    }

    #[test]
    fn a_device_without_a_lease_gets_only_drive_and_stop() {
        // Until a device says it speaks v1 (its `state` carries the lease), nothing but what the
        // person does goes out: no claim on Arm, no release on STOP.
        let mut c = ctl(Mode::Stick);
        assert!(c.arm().is_empty());
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        c.tick(200.0, 0);
        let stop = c.disarm(Disarm::User);
        assert_eq!(msgs(&stop), [AppMsg::Stop { seq: 3 }]);
        assert!(c.disarm(Disarm::Hidden).is_empty(), "not armed: nothing more");
        assert!(c.link(false).is_empty());
    }

    #[test]
    fn switching_devices_switches_the_words_and_starts_over() {
        let mut c = tutorial(["up", "down", "left", "right", "stop"]);
        c.arm();
        c.input(Control::Left, 0.0, 1.0, 0.0, 0);
        let stop = c.set_dialect(Dialect::Words(["F", "B", "L", "R", "S"].map(String::from)));
        assert_eq!(words(&stop), ["stop"], "the old car stops in its own words");
        assert_eq!(c.arming(), Arming::Disarmed(Some(Disarm::Reconnected)));
        c.release(Control::Left, 10.0, 0);
        c.arm();
        assert_eq!(words(&c.input(Control::Left, 0.0, 1.0, 20.0, 0)), ["F"]);
        assert!(c.set_dialect(c.dialect().clone()).is_empty(), "the same words change nothing");
        assert!(c.arming().may_move());
        c.set_dialect(Dialect::Json);
        c.release(Control::Left, 30.0, 0);
        c.arm();
        assert_eq!(drive(&c.input(Control::Left, 0.0, 1.0, 40.0, 0)).y, 1000);
    }
}
