//! Many clients against the simulator at 1 kHz telemetry: the rate each one receives and how far
//! behind it falls, alone (the baseline) and among `--clients` others. Lag is measured per client
//! against its own fastest frame (the simulator's clock is not ours): `lag = (arrival - ms) -
//! min(arrival - ms)`, so it is the delay on top of the best the link did.

use super::{bench_dir, ws};
use crate::util::{cmd, root, run};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const RATE_HZ: u32 = 1000;

/// One client's figures over a run.
#[derive(Debug, Clone, Copy)]
struct ClientFigures {
    rate: f64,
    max_lag_ms: f64,
    p99_lag_ms: f64,
}

struct Sim(Child, u16);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn main(opts: &super::Options) -> Result<(), String> {
    run(cmd("cargo").args(["build", "--quiet", "--release", "-p", "wsdeck-sim"]))?;
    let bin = root().join("target/release/wsdeck-sim");
    let secs = opts.clients_secs;
    let mut runs = Vec::new();
    for (name, n) in [("baseline", 1), ("many", opts.clients)] {
        // A fresh simulator per run, so that counters and queues start empty.
        let sim = start(&bin)?;
        let before = state(sim.1)?;
        let figures = measure(sim.1, n, Duration::from_secs(secs))?;
        let after = state(sim.1)?;
        let delta = |k: &str| after[k].as_f64().unwrap_or(0.0) - before[k].as_f64().unwrap_or(0.0);
        let produced = delta("telemetry_frames") / (delta("uptime_ms") / 1000.0).max(1e-9);
        runs.push((name, n, figures, produced, delta("dropped_for_slow_clients") as u64));
    }

    println!("\nclients: {RATE_HZ} Hz telemetry, {secs} s per run, release simulator on 127.0.0.1");
    println!(
        "{:<9} {:>7} {:>10} {:>20} {:>13} {:>13} {:>9}",
        "run", "clients", "made/s", "recv/s min/med/max", "max lag ms", "p99 lag ms", "dropped"
    );
    let mut json_runs = Vec::new();
    let mut medians = Vec::new();
    for (name, n, figures, produced, dropped) in &runs {
        let mut rates: Vec<f64> = figures.iter().map(|f| f.rate).collect();
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        medians.push(median);
        let max_lag = figures.iter().map(|f| f.max_lag_ms).fold(0.0, f64::max);
        let p99 = figures.iter().map(|f| f.p99_lag_ms).fold(0.0, f64::max);
        println!(
            "{name:<9} {n:>7} {produced:>10.0} {:>20} {max_lag:>13.1} {p99:>13.1} {dropped:>9}",
            format!("{:.0}/{median:.0}/{:.0}", rates[0], rates[rates.len() - 1]),
        );
        json_runs.push(serde_json::json!({
            "name": name,
            "clients": n,
            "produced_per_s": produced.round(),
            "dropped_for_slow_clients": dropped,
            "median_rate": median.round(),
            "max_lag_ms": max_lag,
            "per_client": figures.iter().map(|f| serde_json::json!({
                "rate": f.rate.round(),
                "max_lag_ms": (f.max_lag_ms * 10.0).round() / 10.0,
                "p99_lag_ms": (f.p99_lag_ms * 10.0).round() / 10.0,
            })).collect::<Vec<_>>(),
        }));
    }
    let ratio = medians[1] / medians[0].max(1e-9);
    println!("median received rate, {} clients / 1 client: {ratio:.3}", opts.clients);
    let json = serde_json::json!({
        "telemetry_hz": RATE_HZ,
        "seconds": secs,
        "runs": json_runs,
        "median_rate_ratio": (ratio * 1000.0).round() / 1000.0,
        "lag": "per client: (arrival - frame ms) minus its minimum over the run",
    });
    let out = bench_dir()?.join("clients.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap_or_default())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}

fn start(bin: &std::path::Path) -> Result<Sim, String> {
    let dist = root().join("target/bench/empty-dist");
    std::fs::create_dir_all(&dist).map_err(|e| e.to_string())?;
    let mut child = std::process::Command::new(bin)
        // The clients only read: a device that says hello closes WebSockets silent for 10 s.
        .args(["--bind", "127.0.0.1:0", "--no-qr", "--silent-close-ms", "0"])
        .args(["--rate", &RATE_HZ.to_string(), "--dist"])
        .arg(&dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout).read_line(&mut line).map_err(|e| e.to_string())?;
    let port = line
        .trim()
        .strip_prefix("wsdeck-sim listening on http://127.0.0.1:")
        .and_then(|rest| rest.trim_end_matches('/').parse().ok())
        .ok_or(format!("unexpected first line from the simulator: {line}"))?;
    Ok(Sim(child, port))
}

fn state(port: u16) -> Result<serde_json::Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.write_all(b"GET /sim/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).map_err(|e| format!("/sim/state: {e}"))
}

/// `n` clients read telemetry for `dur` at once; each one's figures.
fn measure(port: u16, n: usize, dur: Duration) -> Result<Vec<ClientFigures>, String> {
    let clients: Vec<_> = (0..n)
        .map(|_| {
            let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
            ws::Client::open(stream, &format!("127.0.0.1:{port}"), "/ws").map_err(|e| format!("connect: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let epoch = Instant::now();
    let start = epoch + Duration::from_millis(500); // let every client connect and settle
    let threads: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            std::thread::spawn(move || -> Result<ClientFigures, String> {
                let mut offsets = Vec::new();
                let (mut first, mut last) = (None, start);
                loop {
                    let text = ws.read_text()?.ok_or("the simulator closed the connection")?;
                    let now = Instant::now();
                    if now >= start + dur {
                        break;
                    }
                    let Some(ms) = frame_ms(&text) else { continue };
                    if now < start {
                        continue;
                    }
                    first.get_or_insert(now);
                    last = now;
                    offsets.push(now.duration_since(epoch).as_secs_f64() * 1000.0 - ms);
                }
                let _ = ws.close();
                let secs = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64());
                let min = offsets.iter().copied().fold(f64::INFINITY, f64::min);
                let mut lags: Vec<f64> = offsets.iter().map(|o| o - min).collect();
                lags.sort_by(f64::total_cmp);
                let p99 = lags.get(lags.len() * 99 / 100).copied().unwrap_or(0.0);
                Ok(ClientFigures {
                    rate: if secs > 0.0 { (offsets.len().saturating_sub(1)) as f64 / secs } else { 0.0 },
                    max_lag_ms: lags.last().copied().unwrap_or(0.0),
                    p99_lag_ms: p99,
                })
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().map_err(|_| "a client thread panicked".to_string())?).collect()
}

/// The `ms` of a `tel` frame, read without a JSON library call per frame being the bottleneck.
fn frame_ms(text: &str) -> Option<f64> {
    let rest = text.strip_prefix(r#"{"t":"tel","ms":"#)?;
    rest[..rest.find(',')?].parse().ok()
}
