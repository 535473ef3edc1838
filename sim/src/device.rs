//! The simulated device as every connection shares it: its clients and their outboxes, the car,
//! the counters `/sim/state` reports, and what it says in hello. Reading frames is in
//! [`dispatch`](crate::dispatch), the telemetry it streams in [`telemetry`](crate::telemetry).

use crate::assets::Assets;
use crate::car::Car;
use crate::config::Config;
use crate::conns::Conns;
use crate::outbox::Outbox;
use crate::pairing;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio_tungstenite::tungstenite::{Bytes, Utf8Bytes};
use wsdeck_protocol::{AppMsg, DeviceMsg, Hello, PairingMode, SeriesMeta};

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
    pub frames_from_app: u64,
    pub pings_answered: u64,
    pub bad_frames_from_app: u64,
    pub dropped_for_slow_clients: u64,
    /// Frames from the app over `MAX_FRAME_LEN` (each closed its connection with 1009).
    pub frames_too_large: u64,
    /// Frames from the app dropped by the per-client message rate cap.
    pub rate_limited_frames: u64,
    /// Connections closed with 1008 for staying over the rate cap.
    pub closed_for_abuse: u64,
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

/// A connected client as the device keeps it: its outbound queue and its counters.
pub struct Peer {
    pub id: u64,
    pub outbox: Outbox,
    /// Messages received from it (before any cap).
    pub frames_in: AtomicU64,
    /// Of those, dropped by the rate cap.
    pub rate_limited: AtomicU64,
    /// Frames written to it.
    pub sent: AtomicU64,
    /// Where it connects from: wrong pairing tokens are counted per address.
    pub addr: IpAddr,
    /// It sent the pairing token (always true when the device asks for none).
    pub paired: AtomicBool,
    /// It may receive telemetry, state and log: paired, or the device lets anyone watch.
    pub watching: AtomicBool,
    /// It asked for readings (a profile that waits for `getReadings`).
    pub asked_for_readings: AtomicBool,
}

impl Peer {
    pub fn may_control(&self) -> bool {
        self.paired.load(Ordering::Relaxed)
    }

    pub fn may_watch(&self) -> bool {
        self.watching.load(Ordering::Relaxed)
    }
}

pub struct Sim {
    pub config: Config,
    pub assets: Assets,
    /// Every connected client, in connection order.
    peers: Mutex<Vec<Arc<Peer>>>,
    started: Instant,
    stats: Mutex<Stats>,
    car: Mutex<Car>,
    /// Until this uptime the link is "stalled": frames both ways are lost, nothing closes.
    stalled_until_ms: AtomicU64,
    next_client: AtomicU64,
    /// Wrong pairing tokens per remote address.
    lockouts: Mutex<pairing::Lockouts>,
    /// Control frames (drive, claim, release) ignored from connections without the token.
    pub(crate) unpaired_frames: AtomicU64,
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
        self.sim.with_car(|car| car.disconnected(self.id, now));
    }
}

impl Sim {
    pub fn new(config: Config, assets: Assets) -> Sim {
        let car = Mutex::new(Car::new(config.watchdog_ms));
        let conns = Conns::new(config.max_connections);
        Sim {
            config,
            assets,
            peers: Mutex::default(),
            started: Instant::now(),
            stats: Mutex::default(),
            car,
            stalled_until_ms: AtomicU64::new(0),
            next_client: AtomicU64::new(1),
            lockouts: Mutex::default(),
            unpaired_frames: AtomicU64::new(0),
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

    pub fn client_connected(&self, addr: IpAddr) -> Client<'_> {
        let id = self.next_client.fetch_add(1, Ordering::Relaxed);
        let pairing = self.config.pairing();
        let peer = Arc::new(Peer {
            id,
            outbox: Outbox::new(self.config.client_queue),
            frames_in: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            addr,
            paired: AtomicBool::new(pairing.is_none()),
            watching: AtomicBool::new(pairing != Some(PairingMode::Required)),
            asked_for_readings: AtomicBool::new(false),
        });
        self.peers().push(peer.clone());
        let mut stats = self.stats();
        stats.clients += 1;
        stats.connections_total += 1;
        Client { id, peer, sim: self }
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
        DeviceMsg::Hello(Hello {
            v: wsdeck_protocol::VERSION,
            name: self.config.name.clone(),
            caps: vec!["telemetry".into(), "drive".into()],
            watchdog_ms: Some(self.config.watchdog_ms as u32),
            pairing: self.config.pairing(),
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
        })
    }

    /// Runs `f` on the car and tells every client if who drives, or whether it is armed, changed.
    pub fn with_car<R>(&self, f: impl FnOnce(&mut Car) -> R) -> R {
        let (r, changed) = {
            let mut car = self.car.lock().unwrap_or_else(|e| e.into_inner());
            let before = (car.driver, car.armed, car.failsafe);
            let r = f(&mut car);
            (r, before != (car.driver, car.armed, car.failsafe))
        };
        if changed {
            self.broadcast(Out::State);
        }
        r
    }

    /// The car as it is now, to read (changes go through [`Sim::with_car`]).
    pub fn car(&self) -> MutexGuard<'_, Car> {
        self.car.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wrong pairing tokens per remote address.
    pub(crate) fn lockouts(&self) -> MutexGuard<'_, pairing::Lockouts> {
        self.lockouts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The drive state as `client` sees it.
    pub fn state_frame(&self, client: u64) -> String {
        let car = self.car();
        DeviceMsg::State(car.state_for(client)).encode()
    }

    /// Queues `out` for every client without waiting for any; returns how many there are.
    pub fn broadcast(&self, out: Out) -> usize {
        self.broadcast_to(out, |_| true)
    }

    /// Queues `out` for every client that `to` picks.
    pub(crate) fn broadcast_to(&self, out: Out, to: impl Fn(&Peer) -> bool) -> usize {
        let peers = self.peers().clone();
        // Connections without the token of a device that asks for it get nothing.
        let dropped =
            peers.iter().filter(|p| p.may_watch() && to(p) && p.outbox.push(out.clone())).count() as u64;
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
    }

    #[test]
    fn nothing_is_broadcast_to_a_connection_without_the_token() {
        let sim = sim(&["--token", "s3cret"]);
        let c = sim.client_connected(HOME);
        assert_eq!(sim.broadcast(Out::Text("x".into())), 1, "one client is connected");
        assert!(c.peer.outbox.take().is_empty());
        let open = self::sim(&[]);
        let c = open.client_connected(HOME);
        open.broadcast(Out::Text("x".into()));
        assert_eq!(c.peer.outbox.take().broadcast.len(), 1);
    }

    #[test]
    fn a_client_that_leaves_is_counted_out_and_the_car_stops_if_it_drove() {
        let sim = sim(&[]);
        let c = sim.client_connected(HOME);
        let id = c.id;
        sim.with_car(|car| {
            car.drive(id, &wsdeck_protocol::Drive { seq: 1, x: 0, y: 0, l: 500, r: 500 }, "", 0)
        });
        assert_eq!(sim.client_count(), 1);
        drop(c);
        assert_eq!(sim.client_count(), 0);
        assert!(!sim.car().moving());
        assert_eq!(sim.car().failsafe, Some("driver_left"));
    }
}
