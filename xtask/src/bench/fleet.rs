//! `cargo xtask bench --only fleet` (issue #16): 100 simulated devices at 10 Hz through one local
//! mosquitto, with the config, ACL and passwords `cargo xtask fleet` generates, to one deck in
//! headless Chromium. e2e/bench/fleet.mjs starts the broker, the fleet and the pages and measures;
//! this builds what it needs and writes the broker's files (docs/FLEET.md, "The benchmark").

use super::bench_dir;
use crate::fleet::broker::{self, Broker};
use crate::util::{cmd, root, run};
use crate::{run as run_task, tools};

/// Simulated devices on the broker, and their telemetry rate (the figures).
const DEVICES: usize = 100;
const RATE_HZ: u32 = 10;

pub fn main(soak_secs: u64) -> Result<(), String> {
    tools::ensure_test_tools()?;
    crate::fleet::ensure_mosquitto()?;
    run_task::build_app(true)?;
    let sim = run_task::build_sim()?;
    let dir = bench_dir()?;
    let broker = Broker {
        mqtt_port: broker::free_port()?,
        ws_port: broker::free_port()?,
        http_dir: None,
        devices: (1..=DEVICES).map(broker::device_id).collect(),
    };
    let written = broker.write(&dir.join("fleet-broker"))?;
    run(cmd("node")
        .arg(root().join("e2e/bench/fleet.mjs"))
        .arg(dir.join("fleet.json"))
        .env("WSDECK_SIM", &sim)
        .env("WSDECK_DIST", root().join("dist"))
        .env("WSDECK_CHROMIUM", tools::CHROMIUM)
        .env("WSDECK_MOSQUITTO", broker::MOSQUITTO)
        .env("WSDECK_FLEET_CONF", &written.config)
        .env("WSDECK_FLEET_MQTT_PORT", broker.mqtt_port.to_string())
        .env("WSDECK_FLEET_WS_PORT", broker.ws_port.to_string())
        .env("WSDECK_FLEET_APP_USER", broker::APP_USER)
        .env("WSDECK_FLEET_APP_PASSWORD_FILE", &written.app_password_file)
        .env("WSDECK_FLEET_DEVICE_PASSWORD_FILE", &written.device_password_file)
        .env("WSDECK_FLEET_DEVICES", DEVICES.to_string())
        .env("WSDECK_FLEET_RATE", RATE_HZ.to_string())
        .env("WSDECK_BENCH_FLEET_S", soak_secs.to_string()))
}
