//! `wsdeck-sim`: a simulated wsdeck device. It serves the built app from memory exactly as
//! firmware does (gzip, ETag, cache policy) and speaks protocol v1 on `/ws`, so that the app can
//! be tried and tested without hardware. Flags: `wsdeck-sim --help`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use wsdeck_sim::assets::Assets;
use wsdeck_sim::config::{self, Config};
use wsdeck_sim::{banner, controls, http, telemetry, Sim};

/// How often the car is simulated and its watchdog checked.
const CAR_STEP: Duration = Duration::from_millis(5);

/// Moves the car and runs its watchdog, whether or not telemetry is on. On a thread of its own,
/// not a task of the runtime the sockets share: however hard clients keep those tasks busy, the
/// watchdog fires on time (issue #13 item 3).
fn drive_car(sim: Arc<Sim>) {
    let mut last = sim.uptime_ms();
    loop {
        std::thread::sleep(CAR_STEP);
        let now = sim.uptime_ms();
        let dt = (now - last) as f64 / 1000.0;
        last = now;
        sim.tick(now, dt);
    }
}

/// Raises the soft limit on open descriptors to the hard one, so that the connection cap, not
/// the descriptor table, decides who is refused; returns the soft limit now.
#[cfg(unix)]
fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        if limit.rlim_cur < limit.rlim_max && libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            limit = raised;
        }
    }
    // rlim_t is not u64 on every platform.
    #[allow(clippy::unnecessary_cast)]
    Some(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
fn raise_descriptor_limit() -> Option<u64> {
    None
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
    if config.mqtt.is_some() {
        return match tokio::runtime::Runtime::new() {
            Ok(runtime) => {
                runtime.block_on(wsdeck_sim::fleet_mqtt::run(config));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("wsdeck-sim: cannot start: {e}");
                ExitCode::FAILURE
            }
        };
    }
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
    if let Some(limit) = raise_descriptor_limit() {
        // Each connection is a descriptor; the files, the listener and the runtime take a few more.
        if limit < config.max_connections as u64 + 64 {
            eprintln!(
                "wsdeck-sim: only {limit} open files are allowed; --max-connections {} may run out \
                 of them first (raise `ulimit -n`)",
                config.max_connections
            );
        }
    }
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
    tokio::spawn(telemetry::run(sim.clone()));
    tokio::spawn(controls::run(sim.clone()));
    let car = sim.clone();
    std::thread::spawn(move || drive_car(car));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => match sim.conns.admit(sim.uptime_ms()) {
                Some(slot) => {
                    tokio::spawn(http::serve(sim.clone(), stream, peer, slot));
                }
                None => {
                    tokio::spawn(refuse(stream));
                }
            },
            // Out of file descriptors and the like: wait and go on, as firmware would.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Every connection place is taken by clients that may not be evicted: say so and close.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body = "every connection place of this device is taken\n";
    let resp = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(resp.as_bytes())).await;
}
