//! What a wsdeck device decides, whatever it runs on: hello, pong, the lease and its idle
//! hand-over ([`motion`]), the watchdog and why it stopped, pairing with per-address waits
//! ([`pairing`]), the message-rate cap ([`limits`]), what each client's queue keeps
//! ([`outbox`]), who may open the socket ([`guard`]), the controls it declares and their values
//! ([`controls`]) and the words of tutorial cars ([`words`]). `no_std` + `alloc`; time comes in as `now_ms` and the caller's sockets and motors
//! carry out the [`Action`]s each call returns. The simulator (sim/) runs this for every decision
//! it makes and the ESP32-C3 firmware (firmware/esp32c3/) runs it on the chip, so every e2e test
//! against the simulator exercises the rules that ship.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod controls;
pub mod guard;
pub mod limits;
pub mod motion;
pub mod outbox;
pub mod pairing;
pub mod words;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use controls::{Outcome, Panel};
use core::net::IpAddr;
use limits::{RateCap, Verdict};
use motion::{Halt, Motion, Why};
use pairing::Lockouts;
use wsdeck_protocol::{AppMsg, Control, Controls, CtlValue, DeviceMsg, Hello, PairingMode, SeriesMeta};

/// Close codes (RFC 6455) the device sends.
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_FULL: u16 = 1013;
/// Why a client over the rate cap for seconds on end is closed.
pub const ABUSE_REASON: &str = "message rate over the cap for seconds on end";

/// What the device is told by its builder (the firmware's config.rs, the simulator's flags).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Shown in the app's status bar.
    pub name: String,
    /// The wheels stop when no drive frame came for this long.
    pub watchdog_ms: u32,
    /// The pairing token; `None` lets anyone on the network drive.
    pub token: Option<String>,
    /// With a token: whether connections without it may watch.
    pub pairing: PairingMode,
    /// Messages per second per client; 0 for no cap.
    pub max_msg_rate: u32,
    /// WebSocket clients at once; [`Device::open`] refuses the next.
    pub max_clients: usize,
    /// Addresses whose wrong pairing tokens are remembered one by one (the rest share one wait).
    pub addresses_kept: usize,
    /// How the device describes its series in hello, in its order.
    pub series: Vec<(String, SeriesMeta)>,
    /// The controls it declares in hello, in its order (none: the app shows none).
    pub controls: Vec<Control>,
}

/// A connected client's place; the caller's socket for it holds the same number.
pub type Slot = usize;
/// A client's number as `state` frames name it (`driver`, `you`).
pub type ClientId = u32;

/// What the caller does after a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this text frame to the client in this slot.
    Send(Slot, String),
    /// Send that client its view of the drive state ([`Device::state_frame`]); a newer one
    /// replaces one not yet sent.
    State(Slot),
    /// Close that client's connection with this code and reason, after what is queued.
    Close(Slot, u16, &'static str),
    /// The wheels were stopped, and why: for the log.
    Halted(Halt),
    /// The control at this index ([`Device::panel`]) holds a new value: apply it (a pin, a servo).
    Control(usize),
}

/// Every place is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// A connected client as the device keeps it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    /// Where it connects from: wrong pairing tokens are counted per address.
    pub addr: IpAddr,
    /// It sent the pairing token (always true when the device asks for none).
    pub paired: bool,
    /// It may receive telemetry and state: paired, or the device lets anyone watch.
    pub watching: bool,
    /// Its messages dropped by the rate cap.
    pub rate_limited: u32,
    cap: RateCap,
}

/// Counters, for the serial log and the simulator's `/sim/state`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    /// Messages judged by the rate cap (text frames, and whatever else the caller counts).
    pub frames: u64,
    /// Text frames that are not protocol v1.
    pub bad_frames: u64,
    pub pings_answered: u64,
    /// Messages dropped by the rate cap.
    pub rate_limited: u64,
    /// Clients closed for staying over the rate cap.
    pub closed_for_abuse: u64,
    /// Control frames (drive, claim, release, ctl) ignored from connections without the token.
    pub unpaired_frames: u64,
    /// `ctl` frames not taken: an unknown id, a read-only or disabled control, a wrong value.
    pub refused_ctl: u64,
}

pub struct Device {
    settings: Settings,
    clients: Vec<Option<Client>>,
    next_id: ClientId,
    motion: Motion,
    lockouts: Lockouts,
    panel: Panel,
    pub stats: Stats,
}

impl Device {
    pub fn new(settings: Settings) -> Device {
        let mut clients = Vec::new();
        clients.resize_with(settings.max_clients, || None);
        Device {
            clients,
            next_id: 1,
            motion: Motion::new(settings.watchdog_ms),
            lockouts: Lockouts::new(settings.addresses_kept),
            panel: Panel::new(settings.controls.clone()),
            stats: Stats::default(),
            settings,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The wheels, the lease and the watchdog, to read (changes go through the calls below).
    pub fn motion(&self) -> &Motion {
        &self.motion
    }

    /// The controls and their values, to read (changes go through `ctl` frames and
    /// [`Device::set_control`]).
    pub fn panel(&self) -> &Panel {
        &self.panel
    }

    /// Wrong pairing tokens seen.
    pub fn wrong_tokens(&self) -> u32 {
        self.lockouts.wrong
    }

    pub fn hello(&self) -> DeviceMsg {
        let s = &self.settings;
        DeviceMsg::Hello(Hello {
            v: wsdeck_protocol::VERSION,
            name: s.name.clone(),
            caps: vec!["telemetry".into(), "drive".into()],
            watchdog_ms: Some(s.watchdog_ms),
            pairing: s.token.as_ref().map(|_| s.pairing),
            series: s.series.clone(),
            controls: Controls { list: self.panel.controls().to_vec(), skipped: Vec::new() },
        })
    }

    /// A WebSocket opened from `addr`: its place and number. Nothing is sent yet; a device that
    /// speaks wsdeck sends [`Device::greeting`].
    pub fn open(&mut self, addr: IpAddr, now_ms: u64) -> Result<(Slot, ClientId), Full> {
        let slot = self.clients.iter().position(Option::is_none).ok_or(Full)?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let paired = self.settings.token.is_none();
        let watching = paired || self.settings.pairing == PairingMode::Control;
        let cap = RateCap::new(self.settings.max_msg_rate, now_ms);
        self.clients[slot] = Some(Client { id, addr, paired, watching, rate_limited: 0, cap });
        Ok((slot, id))
    }

    /// What a new client is told: hello, and if it may watch, who drives and every control's value.
    pub fn greeting(&self, slot: Slot) -> Vec<Action> {
        let Some(client) = self.client(slot) else { return Vec::new() };
        let mut out = vec![Action::Send(slot, self.hello().encode())];
        if client.watching {
            out.extend(self.first_sight(slot));
        }
        out
    }

    /// What a client that may now watch has not seen: who drives, every control's value.
    fn first_sight(&self, slot: Slot) -> Vec<Action> {
        let mut out = vec![Action::State(slot)];
        if !self.panel.is_empty() {
            out.push(Action::Send(slot, self.panel.all().encode()));
        }
        out
    }

    /// The device itself sets controls (a reading, a physical switch), read-only ones too; every
    /// watcher is told in one frame.
    pub fn set_control(&mut self, values: &[(&str, CtlValue)], now_ms: u64) -> Vec<Action> {
        let changed: Vec<usize> = values
            .iter()
            .filter_map(|(id, v)| match self.panel.set(None, id, v, now_ms) {
                Outcome::Changed(i) => Some(i),
                _ => None,
            })
            .collect();
        self.changed(&changed)
    }

    /// Every watcher is told the values at `indexes`, and the caller applies them.
    fn changed(&self, indexes: &[usize]) -> Vec<Action> {
        if indexes.is_empty() {
            return Vec::new();
        }
        let frame = self.panel.some(indexes).encode();
        let mut out: Vec<Action> =
            self.watchers().map(|(slot, _)| Action::Send(slot, frame.clone())).collect();
        out.extend(indexes.iter().map(|&i| Action::Control(i)));
        out
    }

    /// The client's socket closed: if it drove, the car stops and the others are told.
    pub fn close(&mut self, slot: Slot, now_ms: u64) -> Vec<Action> {
        let Some(client) = self.clients.get_mut(slot).and_then(Option::take) else { return Vec::new() };
        let mut out = self.with_motion(|m| m.disconnected(client.id, now_ms));
        // A horn, a pump or a winch it held is let go.
        let let_go = self.panel.let_go(client.id, now_ms);
        out.extend(self.changed(&let_go));
        out
    }

    /// The watchdog's clock: call it every few tens of ms, whatever the sockets do.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Action> {
        self.with_motion(|m| m.tick(now_ms))
    }

    /// A telemetry frame for every client that may watch.
    pub fn telemetry(&self, frame: &str) -> Vec<Action> {
        self.watchers().map(|(slot, _)| Action::Send(slot, frame.into())).collect()
    }

    pub fn client(&self, slot: Slot) -> Option<&Client> {
        self.clients.get(slot).and_then(Option::as_ref)
    }

    /// It sent the pairing token, or none is asked for.
    pub fn may_control(&self, slot: Slot) -> bool {
        self.client(slot).is_some_and(|c| c.paired)
    }

    /// It may receive telemetry, state and log.
    pub fn may_watch(&self, slot: Slot) -> bool {
        self.client(slot).is_some_and(|c| c.watching)
    }

    /// The clients that may watch, with their numbers.
    pub fn watchers(&self) -> impl Iterator<Item = (Slot, ClientId)> + '_ {
        self.clients
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| c.as_ref().filter(|c| c.watching).map(|c| (slot, c.id)))
    }

    /// The drive state as the client in `slot` sees it.
    pub fn state_frame(&self, slot: Slot) -> String {
        let id = self.client(slot).map_or(0, |c| c.id);
        DeviceMsg::State(self.motion.state_for(id)).encode()
    }

    /// Judges one message from the client in `slot` by its rate cap, and counts it. A
    /// `safety_critical` one (a stop) is always processed.
    pub fn admit(&mut self, slot: Slot, now_ms: u64, safety_critical: bool) -> Verdict {
        let Some(client) = self.clients.get_mut(slot).and_then(Option::as_mut) else { return Verdict::Drop };
        self.stats.frames += 1;
        let verdict = client.cap.check(now_ms, safety_critical);
        if verdict != Verdict::Process {
            client.rate_limited = client.rate_limited.saturating_add(1);
            self.stats.rate_limited += 1;
        }
        if verdict == Verdict::Close {
            self.stats.closed_for_abuse += 1;
        }
        verdict
    }

    /// Acts on a text frame of protocol v1 from the client in `slot` that came at `now_ms`.
    pub fn frame(&mut self, slot: Slot, text: &str, now_ms: u64) -> Vec<Action> {
        // The cheap test first: floods are mostly not stops.
        let stop = text.contains("stop") && matches!(AppMsg::decode(text), Ok(AppMsg::Stop { .. }));
        match self.admit(slot, now_ms, stop) {
            Verdict::Process => self.handle(slot, text, now_ms),
            Verdict::Drop => Vec::new(),
            Verdict::Close => vec![Action::Close(slot, CLOSE_POLICY, ABUSE_REASON)],
        }
    }

    /// Acts on a text frame of protocol v1 that [`Device::admit`] let through.
    pub fn handle(&mut self, slot: Slot, text: &str, now_ms: u64) -> Vec<Action> {
        let Ok(msg) = AppMsg::decode(text) else {
            self.stats.bad_frames += 1;
            return Vec::new();
        };
        self.message(slot, msg, now_ms)
    }

    /// Acts on a word of a tutorial car's text dialect (`forward`, `stop` ...): no JSON, no
    /// lease. Anything else is counted as a bad frame.
    pub fn words(&mut self, slot: Slot, text: &str, now_ms: u64) -> Vec<Action> {
        let wheels = words::wheels(text);
        match self.admit(slot, now_ms, wheels == Some((0, 0))) {
            Verdict::Process => self.handle_word(text, now_ms),
            Verdict::Drop => Vec::new(),
            Verdict::Close => vec![Action::Close(slot, CLOSE_POLICY, ABUSE_REASON)],
        }
    }

    /// Acts on a word that [`Device::admit`] let through.
    pub fn handle_word(&mut self, text: &str, now_ms: u64) -> Vec<Action> {
        match words::wheels(text) {
            Some((l, r)) => self.drive_words(l, r, now_ms),
            None => {
                self.stats.bad_frames += 1;
                Vec::new()
            }
        }
    }

    /// Wheel commands that came without the protocol (a word), from anyone, no lease.
    pub fn drive_words(&mut self, l: i16, r: i16, now_ms: u64) -> Vec<Action> {
        self.with_motion(|m| {
            m.drive_words(l, r, now_ms);
            None
        })
    }

    fn message(&mut self, slot: Slot, msg: AppMsg, now_ms: u64) -> Vec<Action> {
        let Some(client) = self.client(slot) else { return Vec::new() };
        let (id, paired) = (client.id, client.paired);
        if matches!(msg, AppMsg::Drive(_) | AppMsg::Claim | AppMsg::Release | AppMsg::Ctl { .. }) && !paired {
            // Stop is never refused; everything else that moves or switches anything needs the token.
            self.stats.unpaired_frames += 1;
            return Vec::new();
        }
        match msg {
            AppMsg::Ping { id } => {
                self.stats.pings_answered += 1;
                vec![Action::Send(slot, DeviceMsg::Pong { id }.encode())]
            }
            AppMsg::Drive(d) => self.with_motion(|m| {
                m.drive(id, &d, now_ms);
                None
            }),
            AppMsg::Stop { seq } => self.with_motion(|m| Some(m.stop(id, seq, now_ms))),
            AppMsg::Claim => {
                // Granted or not, the client learns who drives.
                let mut out = self.with_motion(|m| m.claim(id, now_ms));
                if !out.contains(&Action::State(slot)) {
                    out.push(Action::State(slot));
                }
                out
            }
            AppMsg::Release => self.with_motion(|m| m.release(id, now_ms)),
            AppMsg::Auth { token } => self.auth(slot, &token, now_ms),
            AppMsg::Ctl { id: control, v, .. } => match self.panel.set(Some(id), &control, &v, now_ms) {
                Outcome::Changed(i) => self.changed(&[i]),
                // Taken as it was, or not taken: the sender learns what the device holds, so a
                // change it shows as pending settles at once.
                Outcome::Same(i) => vec![Action::Send(slot, self.panel.some(&[i]).encode())],
                Outcome::Refused(i) => {
                    self.stats.refused_ctl += 1;
                    vec![Action::Send(slot, self.panel.some(&[i]).encode())]
                }
                Outcome::Unknown => {
                    self.stats.refused_ctl += 1;
                    Vec::new()
                }
            },
            AppMsg::Unknown { .. } => Vec::new(),
        }
    }

    /// A pairing token: right (the client may now watch and control), or wrong and how long its
    /// address must wait.
    fn auth(&mut self, slot: Slot, given: &str, now_ms: u64) -> Vec<Action> {
        let Some(token) = self.settings.token.as_deref() else {
            return vec![Action::Send(slot, DeviceMsg::Auth { ok: true, retry_ms: None }.encode())];
        };
        let Some(client) = self.clients[slot].as_mut() else { return Vec::new() };
        let verdict = self.lockouts.check(client.addr, given, token, now_ms);
        let mut out = vec![Action::Send(slot, verdict.answer().encode())];
        if verdict == pairing::Verdict::Right {
            let first = !client.paired;
            let was_watching = client.watching;
            client.paired = true;
            client.watching = true;
            if first && !was_watching {
                // It saw nothing so far: who drives and the controls come right after the answer.
                out.extend(self.first_sight(slot));
            }
        }
        out
    }

    /// Runs `f` on the wheels; says why they stopped if `f` stopped them, and tells every watcher
    /// if who drives, or whether it is armed, changed.
    fn with_motion(&mut self, f: impl FnOnce(&mut Motion) -> Option<Halt>) -> Vec<Action> {
        let before = self.motion.summary();
        let halt = f(&mut self.motion);
        let mut out: Vec<Action> = halt.map(Action::Halted).into_iter().collect();
        if self.motion.summary() != before {
            out.extend(self.watchers().map(|(slot, _)| Action::State(slot)));
        }
        out
    }
}

impl Halt {
    /// How the simulator's `/sim/state` and a serial log say it.
    pub fn describe(&self) -> String {
        use alloc::format;
        match self.why {
            Why::Stop(client) => format!("stop from client #{client}"),
            Why::Watchdog => "watchdog".into(),
            Why::DriverLeft => "driver disconnected".into(),
            Why::Released => "driver released".into(),
            Why::LeasePassed => "lease passed to another client".into(),
        }
    }
}

#[cfg(test)]
mod tests;
