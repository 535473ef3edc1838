//! The device as every connection shares it: its clients, the car, pairing and the rate caps, and
//! what it says in `hello`. Each call takes the time and returns the frames to send as a list of
//! [`Action`]s; the firmware's sockets and motors only carry them out. This module is the
//! firmware's one door to the device's rules: when the shared device core (issue #18 §1) lands,
//! it delegates to that crate and `drive`, `limits` and `pairing` go.

pub mod drive;
pub mod limits;
pub mod pairing;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::net::IpAddr;
use drive::Car;
use limits::RateCap;
use pairing::Lockouts;
use wsdeck_protocol::{AppMsg, DeviceMsg, Hello, PairingMode, SeriesMeta};

/// WebSocket clients at once (one web task each); the next one is closed with 1013.
pub const MAX_CLIENTS: usize = 4;

/// Close codes (RFC 6455) the device sends.
pub const CLOSE_POLICY: u16 = 1008;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_FULL: u16 = 1013;

/// What the device is told in config.rs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Shown in the app's status bar.
    pub name: &'static str,
    /// The wheels stop when no drive frame came for this long.
    pub watchdog_ms: u32,
    /// The pairing token; `None` lets anyone on the WiFi drive.
    pub token: Option<&'static str>,
    /// With a token: whether connections without it may watch.
    pub pairing: PairingMode,
    /// Messages per second per client; 0 for no cap.
    pub max_msg_rate: u32,
}

/// A connected client's place; the web task that serves it holds the same number.
pub type Slot = usize;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this text frame to the client in this slot.
    Send(Slot, String),
    /// Close that client's connection with this code and reason, after what is queued.
    Close(Slot, u16, &'static str),
}

/// Every place is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// How the device describes its series in hello: name, label, unit, range, group.
const SERIES: [(&str, &str, &str, f64, f64, &str); 3] = [
    ("battery_v", "Battery", "V", 6.4, 8.4, "power"),
    ("rssi_dbm", "WiFi signal", "dBm", -90.0, -30.0, "link"),
    ("temp_c", "Chip temperature", "°C", 20.0, 80.0, "env"),
];

#[derive(Debug)]
struct Client {
    id: u32,
    addr: IpAddr,
    /// It sent the pairing token (always true when the device asks for none).
    paired: bool,
    /// It may receive telemetry and state: paired, or the device lets anyone watch.
    watching: bool,
    cap: RateCap,
}

/// Counters, for the serial log.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub frames: u32,
    pub bad_frames: u32,
    pub rate_limited: u32,
    /// Control frames (drive, claim, release) ignored from connections without the token.
    pub unpaired_frames: u32,
}

pub struct Device {
    settings: Settings,
    clients: [Option<Client>; MAX_CLIENTS],
    next_id: u32,
    car: Car,
    lockouts: Lockouts,
    pub stats: Stats,
}

impl Device {
    pub fn new(settings: Settings) -> Device {
        Device {
            settings,
            clients: Default::default(),
            next_id: 1,
            car: Car::new(settings.watchdog_ms),
            lockouts: Lockouts::default(),
            stats: Stats::default(),
        }
    }

    /// Wheel commands to apply now, -1000..=1000 each.
    pub fn wheels(&self) -> (i16, i16) {
        (self.car.left, self.car.right)
    }

    pub fn hello(&self) -> DeviceMsg {
        let s = &self.settings;
        DeviceMsg::Hello(Hello {
            v: wsdeck_protocol::VERSION,
            name: s.name.into(),
            caps: vec!["telemetry".into(), "drive".into()],
            watchdog_ms: Some(s.watchdog_ms),
            pairing: s.token.map(|_| s.pairing),
            series: SERIES
                .iter()
                .map(|&(name, label, unit, min, max, group)| {
                    let meta = SeriesMeta {
                        label: Some(label.into()),
                        unit: Some(unit.into()),
                        min: Some(min),
                        max: Some(max),
                        group: Some(group.into()),
                    };
                    (name.into(), meta)
                })
                .collect(),
        })
    }

    /// A WebSocket opened from `addr`: its slot, and hello (and who drives, if it may watch).
    pub fn open(&mut self, addr: IpAddr, now_ms: u64) -> Result<(Slot, Vec<Action>), Full> {
        let slot = self.clients.iter().position(Option::is_none).ok_or(Full)?;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let paired = self.settings.token.is_none();
        let watching = paired || self.settings.pairing == PairingMode::Control;
        let cap = RateCap::new(self.settings.max_msg_rate, now_ms);
        self.clients[slot] = Some(Client { id, addr, paired, watching, cap });
        let mut out = vec![Action::Send(slot, self.hello().encode())];
        if watching {
            out.push(Action::Send(slot, DeviceMsg::State(self.car.state_for(id)).encode()));
        }
        Ok((slot, out))
    }

    /// The client's socket closed: if it drove, the car stops and the others are told.
    pub fn close(&mut self, slot: Slot) -> Vec<Action> {
        let Some(client) = self.clients.get_mut(slot).and_then(Option::take) else { return Vec::new() };
        self.with_car(|car| car.disconnected(client.id))
    }

    /// The watchdog's clock: call it every few tens of ms, whatever the sockets do.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Action> {
        self.with_car(|car| car.tick(now_ms))
    }

    /// A telemetry frame for every client that may watch.
    pub fn telemetry(&self, frame: &str) -> Vec<Action> {
        self.watchers().map(|(slot, _)| Action::Send(slot, frame.into())).collect()
    }

    /// Acts on a text frame from the client in `slot` that came at `now_ms`.
    pub fn frame(&mut self, slot: Slot, text: &str, now_ms: u64) -> Vec<Action> {
        let Some(client) = self.clients.get_mut(slot).and_then(Option::as_mut) else { return Vec::new() };
        self.stats.frames = self.stats.frames.wrapping_add(1);
        let msg = AppMsg::decode(text);
        let stop = matches!(msg, Ok(AppMsg::Stop { .. }));
        match client.cap.check(now_ms, stop) {
            limits::Verdict::Process => {}
            limits::Verdict::Drop => {
                self.stats.rate_limited = self.stats.rate_limited.wrapping_add(1);
                return Vec::new();
            }
            limits::Verdict::Close => {
                return vec![Action::Close(slot, CLOSE_POLICY, "over the message rate cap")]
            }
        }
        let Ok(msg) = msg else {
            self.stats.bad_frames = self.stats.bad_frames.wrapping_add(1);
            return Vec::new();
        };
        let (id, paired) = (client.id, client.paired);
        if matches!(msg, AppMsg::Drive(_) | AppMsg::Claim | AppMsg::Release) && !paired {
            // Stop is never refused; everything else that moves the car needs the token.
            self.stats.unpaired_frames = self.stats.unpaired_frames.wrapping_add(1);
            return Vec::new();
        }
        match msg {
            AppMsg::Ping { id } => vec![Action::Send(slot, DeviceMsg::Pong { id }.encode())],
            AppMsg::Drive(d) => self.with_car(|car| car.drive(id, &d, now_ms)),
            AppMsg::Stop { seq } => self.with_car(|car| car.stop(id, seq, now_ms)),
            AppMsg::Claim => {
                // Granted or not, the client learns who drives.
                let mut out = vec![];
                out.extend(self.with_car(|car| car.claim(id, now_ms)));
                if !out.iter().any(|a| matches!(a, Action::Send(s, _) if *s == slot)) {
                    out.push(Action::Send(slot, DeviceMsg::State(self.car.state_for(id)).encode()));
                }
                out
            }
            AppMsg::Release => self.with_car(|car| car.release(id)),
            AppMsg::Auth { token } => self.auth(slot, &token, now_ms),
            AppMsg::Unknown { .. } => Vec::new(),
        }
    }

    /// A pairing token: right (the client may now watch and control), or wrong and how long its
    /// address must wait.
    fn auth(&mut self, slot: Slot, given: &str, now_ms: u64) -> Vec<Action> {
        let Some(token) = self.settings.token else {
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
                // It saw nothing so far: who drives comes right after the answer.
                out.push(Action::Send(slot, DeviceMsg::State(self.car.state_for(client.id)).encode()));
            }
        }
        out
    }

    /// Runs `f` on the car and tells every watcher if who drives, or whether it is armed, changed.
    fn with_car(&mut self, f: impl FnOnce(&mut Car)) -> Vec<Action> {
        let before = self.car.summary();
        f(&mut self.car);
        if self.car.summary() == before {
            return Vec::new();
        }
        self.watchers()
            .map(|(slot, id)| Action::Send(slot, DeviceMsg::State(self.car.state_for(id)).encode()))
            .collect()
    }

    fn watchers(&self) -> impl Iterator<Item = (Slot, u32)> + '_ {
        self.clients
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| c.as_ref().filter(|c| c.watching).map(|c| (slot, c.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use std::format;
    use std::string::ToString;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 4, 2));

    fn settings(token: Option<&'static str>, pairing: PairingMode) -> Settings {
        Settings { name: "Test Car", watchdog_ms: 300, token, pairing, max_msg_rate: 200 }
    }

    fn open() -> Device {
        Device::new(settings(None, PairingMode::Control))
    }

    fn send(slot: Slot, text: &str) -> Action {
        Action::Send(slot, text.to_string())
    }

    /// Until the shared device core lands (issue #18 §1), the rules' numbers are copies: they must
    /// stay the simulator's.
    #[test]
    fn the_numbers_are_the_simulators() {
        fn sources(dir: &std::path::Path, out: &mut std::string::String) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let mut sim = std::string::String::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sim/src"), &mut sim);
        let value = |name: &str| -> u64 {
            let at =
                sim.find(&format!("pub const {name}: ")).unwrap_or_else(|| panic!("sim/src has no {name}"));
            let rest = &sim[at..];
            let v = &rest[rest.find('=').unwrap() + 1..rest.find(';').unwrap()];
            v.trim().replace('_', "").parse().unwrap()
        };
        assert_eq!(value("IDLE_LEASE_MS"), drive::IDLE_LEASE_MS);
        assert_eq!(value("ABUSE_SECONDS"), u64::from(limits::ABUSE_SECONDS));
        assert_eq!(value("FIRST_WAIT_MS"), pairing::FIRST_WAIT_MS);
        assert_eq!(value("MAX_WAIT_MS"), pairing::MAX_WAIT_MS);
    }

    #[test]
    fn a_new_client_gets_hello_then_who_drives() {
        let mut d = open();
        let (slot, out) = d.open(HOME, 0).unwrap();
        let Action::Send(_, hello) = &out[0] else { panic!("{out:?}") };
        assert!(
            hello.starts_with(
                r#"{"t":"hello","v":1,"name":"Test Car","caps":["telemetry","drive"],"watchdog_ms":300"#
            ),
            "{hello}"
        );
        assert!(!hello.contains("pairing"));
        assert_eq!(
            out[1],
            send(slot, r#"{"t":"state","driver":null,"you":1,"armed":false,"failsafe":null}"#)
        );
    }

    #[test]
    fn pings_are_answered_and_bad_frames_counted() {
        let mut d = open();
        let (slot, _) = d.open(HOME, 0).unwrap();
        assert_eq!(d.frame(slot, r#"{"t":"ping","id":7}"#, 0), [send(slot, r#"{"t":"pong","id":7}"#)]);
        assert_eq!(d.frame(slot, "not json", 0), []);
        assert_eq!(d.frame(slot, r#"{"t":"frobnicate"}"#, 0), []);
        assert_eq!(d.stats.bad_frames, 1);
    }

    #[test]
    fn driving_arms_the_car_tells_everyone_and_the_watchdog_stops_it() {
        let mut d = open();
        let (a, _) = d.open(HOME, 0).unwrap();
        let (b, _) = d.open(HOME, 0).unwrap();
        let out = d.frame(a, r#"{"t":"drive","seq":1,"x":0,"y":500,"l":500,"r":-500}"#, 100);
        assert_eq!(d.wheels(), (500, -500));
        assert_eq!(
            out,
            [
                send(a, r#"{"t":"state","driver":1,"you":1,"armed":true,"failsafe":null}"#),
                send(b, r#"{"t":"state","driver":1,"you":2,"armed":true,"failsafe":null}"#),
            ]
        );
        assert_eq!(d.tick(400), [], "300 ms after the frame is still in time");
        let out = d.tick(401);
        assert_eq!(d.wheels(), (0, 0));
        assert_eq!(
            out[1],
            send(b, r#"{"t":"state","driver":1,"you":2,"armed":false,"failsafe":"watchdog"}"#)
        );
    }

    #[test]
    fn a_claim_is_answered_and_a_watchers_stop_is_obeyed() {
        let mut d = open();
        let (a, _) = d.open(HOME, 0).unwrap();
        let (b, _) = d.open(HOME, 0).unwrap();
        d.frame(a, r#"{"t":"claim"}"#, 0);
        d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 10);
        let refused = d.frame(b, r#"{"t":"claim"}"#, 20);
        assert_eq!(refused, [send(b, r#"{"t":"state","driver":1,"you":2,"armed":true,"failsafe":null}"#)]);
        d.frame(b, r#"{"t":"drive","seq":9,"l":-1000,"r":-1000}"#, 30);
        assert_eq!(d.wheels(), (500, 500), "only the driver drives");
        d.frame(b, r#"{"t":"stop","seq":1}"#, 40);
        assert_eq!(d.wheels(), (0, 0));
    }

    #[test]
    fn the_driver_leaving_stops_the_car() {
        let mut d = open();
        let (a, _) = d.open(HOME, 0).unwrap();
        let (b, _) = d.open(HOME, 0).unwrap();
        d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 0);
        let out = d.close(a);
        assert_eq!(d.wheels(), (0, 0));
        assert_eq!(
            out,
            [send(b, r#"{"t":"state","driver":null,"you":2,"armed":false,"failsafe":"driver_left"}"#)]
        );
        assert_eq!(d.close(a), [], "a slot closes once");
    }

    #[test]
    fn places_are_limited_and_freed() {
        let mut d = open();
        let slots: std::vec::Vec<Slot> = (0..MAX_CLIENTS).map(|_| d.open(HOME, 0).unwrap().0).collect();
        assert_eq!(d.open(HOME, 0).err(), Some(Full));
        d.close(slots[1]);
        assert_eq!(d.open(HOME, 0).unwrap().0, slots[1]);
    }

    #[test]
    fn without_the_token_only_stop_is_obeyed_and_nothing_is_watched() {
        let mut d = Device::new(settings(Some("blue-tiger-42"), PairingMode::Required));
        let (a, out) = d.open(HOME, 0).unwrap();
        assert_eq!(out.len(), 1, "hello only");
        let Action::Send(_, hello) = &out[0] else { panic!() };
        assert!(hello.ends_with(r#""pairing":"required"}"#), "{hello}");
        assert_eq!(d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 0), []);
        assert_eq!((d.wheels(), d.stats.unpaired_frames), ((0, 0), 1));
        assert_eq!(d.telemetry(r#"{"t":"tel","d":{}}"#), []);
        let wrong = d.frame(a, r#"{"t":"auth","token":"guess"}"#, 0);
        assert_eq!(wrong, [send(a, r#"{"t":"auth","ok":false,"retry_ms":1000}"#)]);
        let early = d.frame(a, r#"{"t":"auth","token":"blue-tiger-42"}"#, 400);
        assert_eq!(early, [send(a, r#"{"t":"auth","ok":false,"retry_ms":600}"#)]);
        let right = d.frame(a, r#"{"t":"auth","token":"blue-tiger-42"}"#, 1000);
        assert_eq!(
            right,
            [
                send(a, r#"{"t":"auth","ok":true}"#),
                send(a, r#"{"t":"state","driver":null,"you":1,"armed":false,"failsafe":null}"#),
            ]
        );
        assert_eq!(d.telemetry("tel").len(), 1);
        d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 1100);
        assert_eq!(d.wheels(), (500, 500));
    }

    #[test]
    fn a_flood_is_capped_but_its_stop_gets_through_and_it_is_closed_in_the_end() {
        let mut d = open();
        let (a, _) = d.open(HOME, 0).unwrap();
        d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 0);
        for i in 0..100 {
            d.frame(a, &format!(r#"{{"t":"ping","id":{i}}}"#), 1);
        }
        assert!(d.stats.rate_limited > 0);
        d.frame(a, r#"{"t":"stop","seq":2}"#, 1);
        assert_eq!(d.wheels(), (0, 0), "stop is never dropped");
        let closed = (0..8000u64).find_map(|i| {
            let out = d.frame(a, r#"{"t":"ping","id":1}"#, 2 + i * 20_000 / 8000);
            out.into_iter().find(|o| matches!(o, Action::Close(..)))
        });
        assert_eq!(closed, Some(Action::Close(a, CLOSE_POLICY, "over the message rate cap")));
    }
}
