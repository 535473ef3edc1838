//! The simulated device as every connection shares it: its clients and their outboxes, the car,
//! the counters `/sim/state` reports, and what it says in hello. Reading frames is in
//! [`dispatch`](crate::dispatch), the telemetry it streams in [`telemetry`](crate::telemetry).

use crate::assets::Assets;
use crate::car::Car;
use crate::config::Config;
use crate::conns::Conns;
use crate::dispatch::Action;
use crate::outbox::Outbox;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio_tungstenite::tungstenite::{Bytes, Utf8Bytes};
use wsdeck_device::{Action as CoreAction, Device, Settings, Slot};
use wsdeck_protocol::{AppMsg, DeviceMsg, PairingMode, SeriesMeta};

/// Addresses whose wrong pairing tokens are remembered one by one; beyond them all share one wait.
pub const ADDRESSES_KEPT: usize = 256;

/// How the simulated device describes its series in hello: name, label, unit, range, group.
const SERIES_META: [(&str, &str, &str, f64, f64, &str); 9] = [
    ("battery_v", "Battery", "V", 6.4, 8.4, "power"),
    ("temp_c", "Temperature", "°C", 15.0, 35.0, "env"),
    ("distance_cm", "Obstacle", "cm", 0.0, 120.0, "sensors"),
    ("rssi_dbm", "WiFi signal", "dBm", -90.0, -30.0, "link"),
    ("wheel_l_mps", "Left wheel", "m/s", -0.5, 0.5, "wheels"),
    ("wheel_r_mps", "Right wheel", "m/s", -0.5, 0.5, "wheels"),
    ("x_m", "Position x", "m", -2.0, 2.0, "pose"),
    ("y_m", "Position y", "m", -2.0, 2.0, "pose"),
    ("heading_deg", "Heading", "°", 0.0, 360.0, "heading"),
];

/// Frames from the app, and closes for unexpected frames, kept for `/sim/state`.
const FRAMES_KEPT: usize = 32;
/// The longest `POST /sim/stall`.
pub const MAX_STALL_MS: u64 = 60_000;

/// A frame for every connected client.
#[derive(Clone, Debug)]
pub enum Out {
    /// Cheap to clone: one frame's bytes are shared by every client's outbox.
    Text(Utf8Bytes),
    Binary(Bytes),
    /// The drive state changed: each client sends its own view of it (`you` differs).
    State,
}

/// Counters reported by `GET /sim/state`.
#[derive(Default)]
pub struct Stats {
    pub clients: usize,
    pub connections_total: u64,
    pub telemetry_frames: u64,
    /// Frames from the app that the rate cap let through.
    pub frames_from_app: u64,
    /// Frames a profile ignored (the core counts the protocol's and the words' own).
    pub bad_frames_from_app: u64,
    pub dropped_for_slow_clients: u64,
    /// Frames from the app over `MAX_FRAME_LEN` (each closed its connection with 1009).
    pub frames_too_large: u64,
    /// WebSockets closed with 1008 for sending nothing for `--silent-close-ms`.
    pub closed_silent: u64,
    /// WebSockets closed with 1002 (a protocol error) or 1007 (text that is not UTF-8).
    pub protocol_errors: u64,
    pub last_frame_from_app: Option<String>,
    /// The last frames from the app (tokens not kept), newest last.
    pub recent_frames: VecDeque<Noted>,
    /// Connections the device dropped because of a frame it did not expect (a profile's).
    pub unexpected_closes: u64,
    pub recent_unexpected: VecDeque<Noted>,
    /// The last telemetry frame sent.
    pub last_telemetry: Option<String>,
}

/// A frame from the app as `/sim/state` shows it.
#[derive(Debug, Clone)]
pub struct Noted {
    pub client: u64,
    pub at_ms: u64,
    pub frame: String,
}

impl Noted {
    /// At most 200 characters of `text`, and never a pairing token.
    pub(crate) fn new(client: u64, at_ms: u64, text: &str) -> Noted {
        let auth = text.contains("auth") && matches!(AppMsg::decode(text), Ok(AppMsg::Auth { .. }));
        let frame = if auth {
            r#"{"t":"auth","token":"(not kept)"}"#.to_string()
        } else {
            text.chars().take(200).collect()
        };
        Noted { client, at_ms, frame }
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({"client": self.client, "at_ms": self.at_ms, "frame": self.frame})
    }
}

/// Keeps the last [`FRAMES_KEPT`] in `list`.
pub(crate) fn keep(list: &mut VecDeque<Noted>, noted: Noted) {
    if list.len() == FRAMES_KEPT {
        list.pop_front();
    }
    list.push_back(noted);
}

/// A connected client as the simulator keeps it: its place in the device core, its outbound
/// queue and its counters. Whether it is paired, may watch, and how much the rate cap dropped
/// are the core's ([`Sim::core`]).
pub struct Peer {
    pub id: u64,
    /// Its place in the device core's table of clients.
    pub slot: Slot,
    pub outbox: Outbox,
    /// Messages received from it (before any cap).
    pub frames_in: AtomicU64,
    /// Frames written to it.
    pub sent: AtomicU64,
    /// Where it connects from.
    pub addr: IpAddr,
    /// It asked for readings (a profile that waits for `getReadings`).
    pub asked_for_readings: AtomicBool,
}

pub struct Sim {
    pub config: Config,
    pub assets: Assets,
    /// Every connected client, in connection order.
    peers: Mutex<Vec<Arc<Peer>>>,
    started: Instant,
    stats: Mutex<Stats>,
    /// Every decision the device makes: the crate the firmware runs. Locked before `car`.
    core: Mutex<Device>,
    car: Mutex<Car>,
    /// Until this uptime the link is "stalled": frames both ways are lost, nothing closes.
    stalled_until_ms: AtomicU64,
    /// The open connections, at most `--max-connections`.
    pub conns: Conns,
}

/// Held while a client is connected; counts it out when dropped.
pub struct Client<'a> {
    pub id: u64,
    pub peer: Arc<Peer>,
    sim: &'a Sim,
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        self.sim.peers().retain(|p| p.id != self.id);
        self.sim.stats().clients -= 1;
        let now = self.sim.uptime_ms();
        let slot = self.peer.slot;
        self.sim.run(None, None, |d| d.close(slot, now));
    }
}

/// What the control at `index` now holds does to the car.
fn apply_control(core: &Device, index: usize, car: &mut Car) {
    if let Some((control, value, _)) = core.panel().get(index) {
        crate::controls::apply(car, &control.id, value);
    }
}

/// The device core's settings from the flags.
pub(crate) fn settings(config: &Config) -> Settings {
    let pairing = config.pairing();
    Settings {
        name: config.name.clone(),
        watchdog_ms: u32::try_from(config.watchdog_ms).unwrap_or(u32::MAX),
        token: pairing.and(config.token.clone()),
        pairing: pairing.unwrap_or(PairingMode::Required),
        max_msg_rate: config.max_msg_rate,
        max_clients: config.max_connections,
        addresses_kept: ADDRESSES_KEPT,
        controls: config.controls().declare().0,
        series: SERIES_META
            .iter()
            .map(|(name, label, unit, min, max, group)| {
                let meta = SeriesMeta {
                    label: Some(label.to_string()),
                    unit: Some(unit.to_string()),
                    min: Some(*min),
                    max: Some(*max),
                    group: Some(group.to_string()),
                };
                (name.to_string(), meta)
            })
            .collect(),
    }
}

impl Sim {
    pub fn new(config: Config, assets: Assets) -> Sim {
        let mut core = Device::new(settings(&config));
        let mut car = Car::default();
        for action in core.set_control(&config.controls().declare().1, 0) {
            if let CoreAction::Control(i) = action {
                apply_control(&core, i, &mut car);
            }
        }
        let (core, car) = (Mutex::new(core), Mutex::new(car));
        let conns = Conns::new(config.max_connections);
        Sim {
            config,
            assets,
            peers: Mutex::default(),
            started: Instant::now(),
            stats: Mutex::default(),
            core,
            car,
            stalled_until_ms: AtomicU64::new(0),
            conns,
        }
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn peers(&self) -> MutexGuard<'_, Vec<Arc<Peer>>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A WebSocket opened from `addr`; `None` when the device core has no place left.
    pub fn client_connected(&self, addr: IpAddr) -> Option<Client<'_>> {
        let (slot, id) = self.core().open(addr, self.uptime_ms()).ok()?;
        let peer = Arc::new(Peer {
            id: u64::from(id),
            slot,
            outbox: Outbox::new(self.config.client_queue),
            frames_in: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            addr,
            asked_for_readings: AtomicBool::new(false),
        });
        self.peers().push(peer.clone());
        let mut stats = self.stats();
        stats.clients += 1;
        stats.connections_total += 1;
        Some(Client { id: peer.id, peer, sim: self })
    }

    /// Loses every frame, both ways, for `ms` (at most [`MAX_STALL_MS`]), as a WiFi link that
    /// drops without closing. Returns how long it stalls.
    pub fn stall(&self, ms: u64) -> u64 {
        let ms = ms.min(MAX_STALL_MS);
        self.stalled_until_ms.store(self.uptime_ms().saturating_add(ms), Ordering::Relaxed);
        ms
    }

    pub fn stalled(&self) -> bool {
        self.uptime_ms() < self.stalled_until_ms.load(Ordering::Relaxed)
    }

    pub fn client_count(&self) -> usize {
        self.stats().clients
    }

    pub fn hello(&self) -> DeviceMsg {
        self.core().hello()
    }

    /// The device core, to read (changes go through [`Sim::run`], which carries out what it says).
    pub fn core(&self) -> MutexGuard<'_, Device> {
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The car as it is now, to read.
    pub fn car(&self) -> MutexGuard<'_, Car> {
        self.car.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn may_control(&self, peer: &Peer) -> bool {
        self.core().may_control(peer.slot)
    }

    pub fn may_watch(&self, peer: &Peer) -> bool {
        self.core().may_watch(peer.slot)
    }

    /// Runs `f` on the device core and carries out what it returns: the car takes the wheel
    /// commands (and `raw` as the last command, if one was applied) and records every stop;
    /// frames for other clients go to their outboxes. What is for `from` comes back as its
    /// [`Action`]s, in order.
    pub(crate) fn run(
        &self,
        from: Option<&Peer>,
        raw: Option<&str>,
        f: impl FnOnce(&mut Device) -> Vec<CoreAction>,
    ) -> Vec<Action> {
        let actions = {
            let mut core = self.core();
            let commands = core.motion().commands;
            let actions = f(&mut core);
            let m = core.motion();
            // Under the core's lock: the car never takes an older command after a newer one.
            let mut car = self.car();
            car.command(m.left, m.right);
            if m.commands != commands {
                car.last_command = raw.map(str::to_string);
            }
            for action in &actions {
                match action {
                    CoreAction::Halted(halt) => car.record(halt),
                    CoreAction::Control(i) => apply_control(&core, *i, &mut car),
                    _ => {}
                }
            }
            actions
        };
        let mut own = Vec::new();
        if actions.is_empty() {
            // Most frames and every quiet watchdog tick (200 a second) end here.
            return own;
        }
        // Outboxes take their own lock only: holding the list meanwhile orders nothing else.
        let peers = self.peers();
        let peer = |slot: Slot| peers.iter().find(|p| p.slot == slot);
        for action in actions {
            match action {
                CoreAction::Send(slot, text) if from.is_some_and(|p| p.slot == slot) => {
                    own.push(Action::Reply(text))
                }
                CoreAction::Send(slot, text) => {
                    if let Some(p) = peer(slot) {
                        p.outbox.reply(text);
                    }
                }
                CoreAction::State(slot) => {
                    if let Some(p) = peer(slot) {
                        p.outbox.push(Out::State);
                    }
                }
                CoreAction::Close(slot, code, reason) if from.is_some_and(|p| p.slot == slot) => {
                    own.push(Action::Close(code, reason))
                }
                CoreAction::Close(slot, code, reason) => {
                    if let Some(p) = peer(slot) {
                        p.outbox.close(code, reason);
                    }
                }
                CoreAction::Halted(_) | CoreAction::Control(_) => {}
            }
        }
        own
    }

    /// The watchdog's clock, then the car's physics for `dt_s` seconds.
    pub fn tick(&self, now: u64, dt_s: f64) {
        self.run(None, None, |d| d.tick(now));
        self.car().step(dt_s);
    }

    /// The drive state as the client in `slot` sees it.
    pub fn state_frame(&self, slot: Slot) -> String {
        self.core().state_frame(slot)
    }

    /// Queues `out` for every client without waiting for any; returns how many there are.
    pub fn broadcast(&self, out: Out) -> usize {
        self.broadcast_to(out, |_| true)
    }

    /// Queues `out` for every client that `to` picks.
    pub(crate) fn broadcast_to(&self, out: Out, to: impl Fn(&Peer) -> bool) -> usize {
        let peers = self.peers().clone();
        // Connections without the token of a device that asks for it get nothing.
        let watching: Vec<Slot> = self.core().watchers().map(|(slot, _)| slot).collect();
        let dropped = peers
            .iter()
            .filter(|p| watching.contains(&p.slot) && to(p) && p.outbox.push(out.clone()))
            .count() as u64;
        if dropped > 0 {
            self.stats().dropped_for_slow_clients += dropped;
        }
        peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));

    fn sim(args: &[&str]) -> Sim {
        Sim::new(Config::parse(args.iter().map(|s| s.to_string())).unwrap().unwrap(), Assets::default())
    }

    #[test]
    fn hello_describes_the_car_and_its_series() {
        let DeviceMsg::Hello(h) = sim(&["--name", "Unit Car", "--watchdog-ms", "250"]).hello() else {
            unreachable!()
        };
        assert_eq!((h.name.as_str(), h.watchdog_ms, h.pairing), ("Unit Car", Some(250), None));
        assert_eq!(h.caps, ["telemetry", "drive"]);
        let (name, meta) = &h.series[0];
        assert_eq!(name, "battery_v");
        assert_eq!((meta.unit.as_deref(), meta.min, meta.max), (Some("V"), Some(6.4), Some(8.4)));
        let DeviceMsg::Hello(h) = sim(&["--token", "s3cret", "--token-read-only"]).hello() else {
            unreachable!()
        };
        assert_eq!(h.pairing, Some(PairingMode::Control));
    }

    #[test]
    fn nothing_is_broadcast_to_a_connection_without_the_token() {
        let sim = sim(&["--token", "s3cret"]);
        let c = sim.client_connected(HOME).unwrap();
        assert_eq!(sim.broadcast(Out::Text("x".into())), 1, "one client is connected");
        assert!(c.peer.outbox.take().is_empty());
        let open = self::sim(&[]);
        let c = open.client_connected(HOME).unwrap();
        open.broadcast(Out::Text("x".into()));
        assert_eq!(c.peer.outbox.take().broadcast.len(), 1);
    }

    #[test]
    fn a_client_that_leaves_is_counted_out_and_the_car_stops_if_it_drove() {
        let sim = sim(&[]);
        let c = sim.client_connected(HOME).unwrap();
        let frame = r#"{"t":"drive","seq":1,"x":0,"y":0,"l":500,"r":500}"#;
        sim.run(Some(&c.peer), Some(frame), |d| d.frame(c.peer.slot, frame, 0));
        let car = sim.car();
        assert_eq!((car.cmd_l, car.last_command.as_deref()), (0.5, Some(frame)));
        drop(car);
        assert_eq!(sim.client_count(), 1);
        drop(c);
        assert_eq!(sim.client_count(), 0);
        assert!(!sim.car().moving());
        assert_eq!(sim.core().motion().failsafe.map(|f| f.as_str()), Some("driver_left"));
        assert_eq!(sim.car().stops.back().unwrap().reason, "driver disconnected");
    }

    #[test]
    fn the_device_core_has_a_place_for_every_connection_the_simulator_takes() {
        let sim = sim(&["--max-connections", "2"]);
        let (a, _b) = (sim.client_connected(HOME).unwrap(), sim.client_connected(HOME).unwrap());
        assert!(sim.client_connected(HOME).is_none());
        drop(a);
        assert!(sim.client_connected(HOME).is_some());
    }
}
