//! `wsdeck-sim`: a simulated wsdeck device. It serves the built app from memory exactly as
//! firmware does (gzip, ETag, cache policy) and speaks protocol v1 on `/ws`, so that the app can
//! be tried and tested without hardware. Flags: `wsdeck-sim --help`.

mod assets;
mod banner;
mod config;
mod http;
mod model;
mod routes;
mod ws;

use assets::Assets;
use config::{Config, TelFormat};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use wsdeck_protocol::{AppMsg, DeviceMsg, Hello, Log, LogLevel, Telemetry, Value};

/// A frame for every connected client.
#[derive(Clone, Debug)]
pub enum Out {
    Text(Arc<str>),
    Binary(Arc<[u8]>),
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
    pub last_frame_from_app: Option<String>,
}

pub struct Sim {
    pub config: Config,
    pub assets: Assets,
    pub tx: broadcast::Sender<Out>,
    started: Instant,
    stats: Mutex<Stats>,
    next_client: AtomicU64,
}

/// Held while a client is connected; counts it out when dropped.
pub struct Client<'a> {
    pub id: u64,
    sim: &'a Sim,
}

impl Drop for Client<'_> {
    fn drop(&mut self) {
        self.sim.stats().clients -= 1;
    }
}

impl Sim {
    pub fn new(config: Config, assets: Assets) -> Sim {
        // Room for ~1 s of telemetry at 1 kHz; a client further behind skips ahead.
        let (tx, _) = broadcast::channel(1024);
        Sim {
            config,
            assets,
            tx,
            started: Instant::now(),
            stats: Mutex::default(),
            next_client: AtomicU64::new(1),
        }
    }

    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn client_connected(&self) -> Client<'_> {
        let mut stats = self.stats();
        stats.clients += 1;
        stats.connections_total += 1;
        Client { id: self.next_client.fetch_add(1, Ordering::Relaxed), sim: self }
    }

    pub fn client_count(&self) -> usize {
        self.stats().clients
    }

    pub fn hello(&self) -> DeviceMsg {
        DeviceMsg::Hello(Hello {
            v: wsdeck_protocol::VERSION,
            name: self.config.name.clone(),
            caps: vec!["telemetry".into()],
            watchdog_ms: None,
        })
    }

    /// Sends `out` to every client; returns how many there are.
    pub fn broadcast(&self, out: Out) -> usize {
        self.tx.send(out).unwrap_or(0)
    }

    /// Records a frame from the app and returns the answer to send back, if any.
    pub fn on_app_frame(&self, text: &str) -> Option<String> {
        let (reply, msg) = ws::reply(text);
        let mut stats = self.stats();
        stats.frames_from_app += 1;
        stats.last_frame_from_app = Some(text.chars().take(200).collect());
        match msg {
            Ok(AppMsg::Ping { .. }) => stats.pings_answered += 1,
            Ok(_) => {}
            Err(_) => stats.bad_frames_from_app += 1,
        }
        reply
    }

    pub fn state_json(&self) -> String {
        let s = self.stats();
        serde_json::json!({
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
            "last_frame_from_app": s.last_frame_from_app,
        })
        .to_string()
    }

    /// The telemetry frame for one set of readings, in the configured shape.
    fn telemetry_frame(&self, t_ms: u64, readings: &[(&str, f64)]) -> String {
        match self.config.format {
            TelFormat::Tel => DeviceMsg::Telemetry(Telemetry {
                ms: Some(t_ms as f64),
                values: readings.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            })
            .encode(),
            TelFormat::Bare => {
                Value::Obj(readings.iter().map(|(k, v)| (k.to_string(), Value::Num(*v))).collect()).to_json()
            }
            TelFormat::Number => Value::Num(readings[1].1).to_json(),
        }
    }
}

/// Produces telemetry at the configured rate, and a log line about the battery now and then.
async fn telemetry(sim: Arc<Sim>) {
    let Some(period) = sim.config.period() else { return };
    let mut model = model::Model::new(sim.config.seed);
    let mut ticks = tokio::time::interval(period);
    let mut next_report_ms = 30_000;
    loop {
        ticks.tick().await;
        let t_ms = sim.uptime_ms();
        let readings = model.sample(t_ms);
        if sim.tx.receiver_count() == 0 {
            continue;
        }
        let frame = sim.telemetry_frame(t_ms, &readings);
        sim.broadcast(Out::Text(frame.into()));
        sim.stats().telemetry_frames += 1;
        if t_ms >= next_report_ms && sim.config.format == TelFormat::Tel {
            next_report_ms = t_ms + 30_000;
            let volts = readings[0].1;
            let level = if volts < 7.0 { LogLevel::Warn } else { LogLevel::Info };
            let msg = format!("battery {volts:.2} V");
            sim.broadcast(Out::Text(DeviceMsg::Log(Log { level, msg }).encode().into()));
        }
    }
}

fn main() -> ExitCode {
    let config = match Config::parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{}", config::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("wsdeck-sim: {e}\n\n{}", config::USAGE);
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
