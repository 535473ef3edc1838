//! `cargo xtask fleet`: Debian's mosquitto on loopback with a generated config, ACL and passwords
//! (target/fleet/), a simulated fleet on it, and dist/ served by a simulator of its own; stops
//! them, by the PIDs it started, on Ctrl-C. docs/FLEET.md.

// The broker's setup is the simulator's file, so that the fleet test (sim/tests/fleet.rs) runs
// the same config, ACL and passwords as this task; it needs only std.
#[path = "../../sim/src/fleet_broker.rs"]
#[allow(dead_code)]
pub mod broker;

use crate::util::{cmd, root};
use crate::Flags;
use broker::{Broker, APP_USER};
use std::os::unix::process::CommandExt;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Simulated devices unless `--devices` says otherwise.
pub const DEVICES: usize = 5;

/// Debian's mosquitto, installed by apt when missing (one `apt-get update` first).
pub fn ensure_mosquitto() -> Result<(), String> {
    let there = std::path::Path::new(broker::MOSQUITTO).exists()
        && std::path::Path::new(broker::MOSQUITTO_PASSWD).exists();
    crate::tools::ensure_debian(&[("mosquitto", there)])
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// A child in a process group of its own: Ctrl-C reaches this task only, which stops it.
fn spawn(c: &mut std::process::Command) -> Result<Child, String> {
    c.process_group(0).spawn().map_err(|e| format!("cannot start {:?}: {e}", c.get_program()))
}

/// Stops `child` by its PID and waits for it.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

pub fn main(flags: &Flags) -> Result<(), String> {
    ensure_mosquitto()?;
    let sim = crate::run::build_sim()?;
    let devices = flags.fleet_devices.unwrap_or(DEVICES);
    let dist = root().join("dist");
    let broker = Broker {
        mqtt_port: broker::free_port()?,
        ws_port: broker::free_port()?,
        // Not mosquitto's `http_dir`: 2.0.11 sends no Content-Type, and Chromium then never runs
        // the app. A simulator serves dist/ instead (below), as a device would.
        http_dir: None,
        devices: (1..=devices).map(broker::device_id).collect(),
    };
    let dir = root().join("target/fleet");
    let written = broker.write(&dir)?;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, on_interrupt as *const () as libc::sighandler_t);
    }
    let mut mosquitto = spawn(cmd(broker::MOSQUITTO).arg("-c").arg(&written.config))?;
    if !broker::wait_for_port(broker.mqtt_port, 50) {
        stop(&mut mosquitto);
        return Err(format!("mosquitto did not listen on 127.0.0.1:{} within 5 s", broker.mqtt_port));
    }
    let mut fleet = match spawn(
        cmd(&sim.to_string_lossy())
            .args(["--mqtt", &format!("127.0.0.1:{}", broker.mqtt_port), "--fleet", &devices.to_string()])
            .arg("--mqtt-password-file")
            .arg(&written.device_password_file)
            .args(&flags.sim_args),
    ) {
        Ok(child) => child,
        Err(e) => {
            stop(&mut mosquitto);
            return Err(e);
        }
    };
    let (mqtt, ws) = (broker.mqtt_port, broker.ws_port);
    // The deck: dist/ from a simulator of its own (a quiet device at /ws that nobody needs).
    let mut deck = None;
    let served = if dist.is_dir() {
        let port = broker::free_port()?;
        let started = spawn(
            cmd(&sim.to_string_lossy())
                .args(["--bind", &format!("127.0.0.1:{port}"), "--no-qr", "--rate", "0", "--name", "deck"])
                .arg("--dist")
                .arg(&dist),
        );
        match started {
            Ok(child) => deck = Some(child),
            Err(e) => {
                stop(&mut fleet);
                stop(&mut mosquitto);
                return Err(e);
            }
        }
        format!("  the app            http://127.0.0.1:{port}/#/fleet (broker ws://127.0.0.1:{ws}/mqtt in Settings)\n")
    } else {
        "  (no dist/ to serve: `cargo xtask dist` builds it)\n".into()
    };
    println!(
        "\nxtask: mosquitto (pid {}) and {devices} simulated devices (pid {}); Ctrl-C stops both\n\
         \x20 MQTT               mqtt://127.0.0.1:{mqtt}\n\
         \x20 MQTT over WebSocket ws://127.0.0.1:{ws}/mqtt\n{served}\
         \x20 apps log in as     {APP_USER}, password in {}\n\
         \x20 watch              mosquitto_sub -p {mqtt} -u {APP_USER} -P \"$(cat {})\" -v -t 'wsdeck/+/status' -t 'wsdeck/+/up'\n\
         \x20 config             {}\n",
        mosquitto.id(),
        fleet.id(),
        written.app_password_file.display(),
        written.app_password_file.display(),
        written.config.display(),
    );
    let result = loop {
        std::thread::sleep(Duration::from_millis(100));
        if INTERRUPTED.load(Ordering::Relaxed) {
            break Ok(());
        }
        if let Ok(Some(status)) = mosquitto.try_wait() {
            break Err(format!("mosquitto stopped ({status})"));
        }
        if let Ok(Some(status)) = fleet.try_wait() {
            break Err(format!("the simulated fleet stopped ({status})"));
        }
    };
    if let Some(deck) = deck.as_mut() {
        stop(deck);
    }
    // The fleet first: the broker then says `offline` for each device, by its last will.
    stop(&mut fleet);
    stop(&mut mosquitto);
    println!("\nxtask: stopped mosquitto and the fleet");
    result
}
