//! `wsdeck-sim`: a simulated wsdeck device. It serves the built app from memory exactly as
//! firmware does (gzip, ETag, cache policy) and speaks protocol v1 on `/ws`, so that the app can
//! be tried and tested without hardware. Flags: `wsdeck-sim --help`.

mod banner;
mod car;
mod config;
mod guard;
mod http;
mod limits;
mod model;
mod outbox;
mod pairing;
mod routes;
mod ws;

use car::Car;
use config::{Config, Dialect, TelFormat};
use outbox::Outbox;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::{Bytes, Utf8Bytes};
use wsdeck_protocol::{
    AppMsg, DeviceMsg, Hello, Log, LogLevel, Pairing, Reading, SeriesMeta, Telemetry, Value,
};
use wsdeck_sim::assets::Assets;
use wsdeck_sim::profile::{self, Heard};

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

/// A close code that is never sent: the close frame goes without a code, as Microdot's does.
pub const CLOSE_WITHOUT_CODE: u16 = 1005;

/// How often the car is simulated and its watchdog checked.
const CAR_STEP: std::time::Duration = std::time::Duration::from_millis(5);

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
    fn new(client: u64, at_ms: u64, text: &str) -> Noted {
        let auth = text.contains("auth") && matches!(AppMsg::decode(text), Ok(AppMsg::Auth { .. }));
        let frame = if auth {
            r#"{"t":"auth","token":"(not kept)"}"#.to_string()
        } else {
            text.chars().take(200).collect()
        };
        Noted { client, at_ms, frame }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({"client": self.client, "at_ms": self.at_ms, "frame": self.frame})
    }
}

fn keep(list: &mut VecDeque<Noted>, noted: Noted) {
    if list.len() == FRAMES_KEPT {
        list.pop_front();
    }
    list.push_back(noted);
}

/// What the device does after a frame from the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Reply(String),
    /// Close the connection (after what is queued) with this code and reason.
    Close(u16, &'static str),
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
    fn may_control(&self) -> bool {
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
    unpaired_frames: AtomicU64,
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
        }
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn peers(&self) -> MutexGuard<'_, Vec<Arc<Peer>>> {
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
            watching: AtomicBool::new(pairing != Some(Pairing::Required)),
            asked_for_readings: AtomicBool::new(false),
        });
        self.peers().push(peer.clone());
        let mut stats = self.stats();
        stats.clients += 1;
        stats.connections_total += 1;
        Client { id, peer, sim: self }
    }

    /// Loses every frame, both ways, for `ms`, as a WiFi link that drops without closing.
    pub fn stall(&self, ms: u64) {
        self.stalled_until_ms.store(self.uptime_ms() + ms, Ordering::Relaxed);
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

    /// The drive state as `client` sees it.
    pub fn state_frame(&self, client: u64) -> String {
        let car = self.car.lock().unwrap_or_else(|e| e.into_inner());
        DeviceMsg::State(car.state_for(client)).encode()
    }

    /// Queues `out` for every client without waiting for any; returns how many there are.
    pub fn broadcast(&self, out: Out) -> usize {
        self.broadcast_to(out, |_| true)
    }

    /// Queues `out` for every client that `to` picks.
    fn broadcast_to(&self, out: Out, to: impl Fn(&Peer) -> bool) -> usize {
        let peers = self.peers().clone();
        // Connections without the token of a device that asks for it get nothing.
        let dropped =
            peers.iter().filter(|p| p.may_watch() && to(p) && p.outbox.push(out.clone())).count() as u64;
        if dropped > 0 {
            self.stats().dropped_for_slow_clients += dropped;
        }
        peers.len()
    }

    /// Acts on a frame from `peer` and says what to send back or do.
    pub fn on_app_frame(&self, peer: &Peer, text: &str) -> Vec<Action> {
        let client = peer.id;
        let now = self.uptime_ms();
        {
            let mut stats = self.stats();
            stats.frames_from_app += 1;
            let noted = Noted::new(client, now, text);
            stats.last_frame_from_app = Some(noted.frame.clone());
            keep(&mut stats.recent_frames, noted);
        }
        if let Some(profile) = self.config.profile {
            return match profile.on_frame(text) {
                Heard::Word { l, r, reply } => {
                    self.with_car(|car| car.drive_words(l, r, text, now));
                    reply.map(|r| Action::Reply(r.to_string())).into_iter().collect()
                }
                Heard::Subscribe => {
                    peer.asked_for_readings.store(true, Ordering::Relaxed);
                    // The tutorial answers with the readings at once.
                    self.stats().last_telemetry.clone().map(Action::Reply).into_iter().collect()
                }
                Heard::Ignored => {
                    self.stats().bad_frames_from_app += 1;
                    Vec::new()
                }
                Heard::Close => {
                    let mut stats = self.stats();
                    stats.unexpected_closes += 1;
                    keep(&mut stats.recent_unexpected, Noted::new(client, now, text));
                    vec![Action::Close(CLOSE_WITHOUT_CODE, "")]
                }
            };
        }
        self.on_protocol_frame(peer, text, now).map(Action::Reply).into_iter().collect()
    }

    /// A frame for a device that speaks protocol v1 or takes the words of `--dialect text`.
    fn on_protocol_frame(&self, peer: &Peer, text: &str, now: u64) -> Option<String> {
        let client = peer.id;
        if self.config.dialect == Dialect::Text {
            // A tutorial car: a word per frame, no JSON, no lease, no watchdog.
            match car::words_to_wheels(text) {
                Some((l, r)) => self.with_car(|car| car.drive_words(l, r, text, now)),
                None => self.stats().bad_frames_from_app += 1,
            }
            return None;
        }
        let msg = match AppMsg::decode(text) {
            Ok(msg) => msg,
            Err(_) => {
                self.stats().bad_frames_from_app += 1;
                return None;
            }
        };
        let control = matches!(msg, AppMsg::Drive(_) | AppMsg::Claim | AppMsg::Release);
        if control && !peer.may_control() {
            // Stop is never refused; everything else that moves the car needs the token.
            self.unpaired_frames.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match msg {
            AppMsg::Auth { token } => Some(self.on_auth(peer, &token, now)),
            AppMsg::Ping { id } => {
                self.stats().pings_answered += 1;
                Some(DeviceMsg::Pong { id }.encode())
            }
            AppMsg::Drive(d) => {
                self.with_car(|car| car.drive(client, &d, text, now));
                None
            }
            AppMsg::Stop { seq } => {
                self.with_car(|car| car.stop(client, Some(seq), &format!("stop from client #{client}"), now));
                None
            }
            AppMsg::Claim => {
                self.with_car(|car| car.claim(client, now));
                // Granted or not, the client learns who drives.
                Some(self.state_frame(client))
            }
            AppMsg::Release => {
                self.with_car(|car| car.release(client, now));
                None
            }
            AppMsg::Unknown { .. } => None,
        }
    }

    /// A pairing token from `peer`: right (it may now watch and control), or wrong and how long
    /// its address must wait.
    fn on_auth(&self, peer: &Peer, given: &str, now: u64) -> String {
        let Some(token) = &self.config.token else {
            return DeviceMsg::Auth { ok: true, retry_ms: None }.encode();
        };
        let verdict =
            self.lockouts.lock().unwrap_or_else(|e| e.into_inner()).check(peer.addr, given, token, now);
        match verdict {
            pairing::Verdict::Right => {
                let first = !peer.paired.swap(true, Ordering::Relaxed);
                let was_watching = peer.watching.swap(true, Ordering::Relaxed);
                if first && !was_watching {
                    // It saw nothing so far: who drives comes right after the answer.
                    peer.outbox.push(Out::State);
                }
                DeviceMsg::Auth { ok: true, retry_ms: None }.encode()
            }
            pairing::Verdict::Wait(ms) => {
                DeviceMsg::Auth { ok: false, retry_ms: Some(ms.min(u64::from(u32::MAX)) as u32) }.encode()
            }
        }
    }

    pub fn state_json(&self) -> String {
        let car = self.car.lock().unwrap_or_else(|e| e.into_inner());
        let (wl, wr) = car.wheel_speeds();
        let car_json = serde_json::json!({
            "x_m": car.x,
            "y_m": car.y,
            "heading_deg": car.heading.to_degrees(),
            "l": car.cmd_l,
            "r": car.cmd_r,
            "wheel_l_mps": wl,
            "wheel_r_mps": wr,
            "moving": car.moving(),
            "armed": car.armed,
            "driver": car.driver,
            "failsafe": car.failsafe,
            "watchdog_ms": car.watchdog_ms,
            "last_command": car.last_command,
            "last_command_ms": car.last_command_ms,
            "ignored_drive_frames": car.ignored,
            "stops": car.stops.iter().map(|s| serde_json::json!({"reason": s.reason, "at_ms": s.at_ms})).collect::<Vec<_>>(),
        });
        drop(car);
        let peers: Vec<_> = self
            .peers()
            .iter()
            .map(|p| {
                let o = p.outbox.stats();
                serde_json::json!({
                    "id": p.id,
                    "frames_in": p.frames_in.load(Ordering::Relaxed),
                    "rate_limited": p.rate_limited.load(Ordering::Relaxed),
                    "sent": p.sent.load(Ordering::Relaxed),
                    "queued": o.queued,
                    "max_queued": o.max_queued,
                    "dropped": o.dropped,
                    "paired": p.paired.load(Ordering::Relaxed),
                })
            })
            .collect();
        let s = self.stats();
        serde_json::json!({
            "car": car_json,
            "dialect": self.config.dialect.as_str(),
            "name": self.config.name,
            "uptime_ms": self.uptime_ms(),
            "rate_hz": self.config.rate_hz,
            "format": self.config.format.as_str(),
            "hello": self.config.hello,
            "clients": s.clients,
            "connections_total": s.connections_total,
            "telemetry_frames": s.telemetry_frames,
            "frames_from_app": s.frames_from_app,
            "pings_answered": s.pings_answered,
            "bad_frames_from_app": s.bad_frames_from_app,
            "dropped_for_slow_clients": s.dropped_for_slow_clients,
            "frames_too_large": s.frames_too_large,
            "rate_limited_frames": s.rate_limited_frames,
            "closed_for_abuse": s.closed_for_abuse,
            "limits": {
                "max_frame_len": wsdeck_protocol::MAX_FRAME_LEN,
                "max_msg_rate": self.config.max_msg_rate,
                "burst": limits::RateCap::new(self.config.max_msg_rate, 0).burst(),
                "client_queue": self.config.client_queue,
            },
            "client_list": peers,
            "pairing": self.config.pairing().map(Pairing::as_str),
            "wrong_tokens": self.lockouts.lock().unwrap_or_else(|e| e.into_inner()).wrong,
            "unpaired_frames": self.unpaired_frames.load(Ordering::Relaxed),
            "rss_kib": rss_kib(),
            "last_frame_from_app": s.last_frame_from_app,
            "profile": self.config.profile.map(profile::Profile::name),
            "recent_frames": s.recent_frames.iter().map(Noted::json).collect::<Vec<_>>(),
            "unexpected_closes": s.unexpected_closes,
            "recent_unexpected": s.recent_unexpected.iter().map(Noted::json).collect::<Vec<_>>(),
            "last_telemetry": s.last_telemetry,
        })
        .to_string()
    }

    /// The telemetry frame for one set of readings, in the configured shape; `n` frames went
    /// before it.
    fn telemetry_frame(&self, n: u64, t_ms: u64, readings: &[(&'static str, f64)]) -> Option<String> {
        if let Some(profile) = self.config.profile {
            let get = |name: &str| readings.iter().find(|(k, _)| *k == name).map_or(0.0, |(_, v)| *v);
            let sample = profile::Sample {
                n,
                t_ms,
                temp_c: get("temp_c"),
                battery_v: get("battery_v"),
                wheel_l_mps: get("wheel_l_mps"),
            };
            return profile.frame(&sample);
        }
        Some(match self.config.format {
            TelFormat::Tel => DeviceMsg::Telemetry(Telemetry {
                ms: Some(t_ms as f64),
                values: readings.iter().map(|(k, v)| (k.to_string(), Reading::Num(*v))).collect(),
                tagged: true,
                skipped: 0,
            })
            .encode(),
            TelFormat::Bare => {
                Value::Obj(readings.iter().map(|(k, v)| (k.to_string(), Value::Num(*v))).collect()).to_json()
            }
            TelFormat::Number => Value::Num(readings[1].1).to_json(),
        })
    }
}

/// Produces telemetry at the configured rate, and a log line about the battery now and then.
async fn telemetry(sim: Arc<Sim>) {
    let Some(period) = sim.config.period() else { return };
    let mut model = model::Model::new(sim.config.seed);
    let mut ticks = tokio::time::interval(period);
    // A late tick is skipped, as a device's sampling timer would: a burst of catch-up frames would
    // carry the same `ms` with different readings.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_report_ms = 30_000;
    let mut produced = 0;
    loop {
        ticks.tick().await;
        let t_ms = sim.uptime_ms();
        let mut readings = model.sample(t_ms).to_vec();
        {
            let car = sim.car.lock().unwrap_or_else(|e| e.into_inner());
            let (wl, wr) = car.wheel_speeds();
            let round = |v: f64| (v * 1000.0).round() / 1000.0;
            readings.extend([("wheel_l_mps", round(wl)), ("wheel_r_mps", round(wr))]);
            readings.extend([("x_m", round(car.x)), ("y_m", round(car.y))]);
            readings.push(("heading_deg", (car.heading.to_degrees() * 10.0).round() / 10.0));
        }
        if sim.peers().is_empty() {
            continue;
        }
        let Some(frame) = sim.telemetry_frame(produced, t_ms, &readings) else { return };
        produced += 1;
        // A profile that waits for `getReadings` sends only to connections that asked.
        let waits = sim.config.profile.is_some_and(|p| p.waits_for_request());
        let asked = |p: &Peer| !waits || p.asked_for_readings.load(Ordering::Relaxed);
        let any = sim.peers().iter().any(|p| asked(p));
        if any {
            sim.broadcast_to(Out::Text(frame.clone().into()), asked);
        }
        let mut stats = sim.stats();
        stats.telemetry_frames += u64::from(any);
        stats.last_telemetry = Some(frame);
        drop(stats);
        if t_ms >= next_report_ms && sim.config.format == TelFormat::Tel && sim.config.profile.is_none() {
            next_report_ms = t_ms + 30_000;
            let volts = readings[0].1;
            let level = if volts < 7.0 { LogLevel::Warn } else { LogLevel::Info };
            let msg = format!("battery {volts:.2} V");
            sim.broadcast(Out::Text(DeviceMsg::Log(Log { level, msg }).encode().into()));
        }
    }
}

/// Resident memory of this process (Linux), so tests can see that nothing piles up.
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

/// Moves the car and runs its watchdog, whether or not telemetry is on.
async fn drive_car(sim: Arc<Sim>) {
    let mut ticks = tokio::time::interval(CAR_STEP);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = sim.uptime_ms();
    loop {
        ticks.tick().await;
        let now = sim.uptime_ms();
        let dt = (now - last) as f64 / 1000.0;
        last = now;
        sim.with_car(|car| car.step(now, dt));
    }
}

fn main() -> ExitCode {
    let config = match Config::parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{}", config::usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("wsdeck-sim: {e}\n\n{}", config::usage());
            return ExitCode::from(2);
        }
    };
    let assets = match Assets::load(&config.dist) {
        Ok(assets) => assets,
        Err(e) => {
            eprintln!("wsdeck-sim: cannot read {}: {e}", config.dist.display());
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wsdeck-sim: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(Arc::new(Sim::new(config, assets))))
}

async fn serve(sim: Arc<Sim>) -> ExitCode {
    let listener = match TcpListener::bind(sim.config.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "wsdeck-sim: cannot listen on {}: {e}\n(is another wsdeck-sim running? choose a port with --bind 0.0.0.0:8081)",
                sim.config.bind
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(sim.config.bind);
    banner::print(&sim, addr);
    tokio::spawn(telemetry(sim.clone()));
    tokio::spawn(drive_car(sim.clone()));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(http::serve(sim.clone(), stream, peer));
            }
            // Out of file descriptors and the like: wait and go on, as firmware would.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}
