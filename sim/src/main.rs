//! `wsdeck-sim`: a simulated wsdeck device. It serves the built app from memory exactly as
//! firmware does (gzip, ETag, cache policy) and speaks protocol v1 on `/ws`, so that the app can
//! be tried and tested without hardware. Flags: `wsdeck-sim --help`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use wsdeck_sim::assets::Assets;
use wsdeck_sim::config::{self, Config};
use wsdeck_sim::{banner, http, telemetry, Sim};

/// How often the car is simulated and its watchdog checked.
const CAR_STEP: Duration = Duration::from_millis(5);

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
    tokio::spawn(telemetry::run(sim.clone()));
    tokio::spawn(drive_car(sim.clone()));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(http::serve(sim.clone(), stream, peer));
            }
            // Out of file descriptors and the like: wait and go on, as firmware would.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}
