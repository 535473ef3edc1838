//! What the simulator prints when it starts: where to open the app, with a QR code for a phone.

use crate::Sim;
use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};

pub fn print(sim: &Sim, addr: SocketAddr) {
    let port = addr.port();
    let local = if addr.ip().is_unspecified() || addr.ip().is_loopback() {
        format!("http://127.0.0.1:{port}/")
    } else {
        format!("http://{}:{port}/", addr.ip())
    };
    let lan: Vec<String> = if addr.ip().is_unspecified() {
        lan_addresses().into_iter().map(|ip| format!("http://{ip}:{port}/")).collect()
    } else {
        Vec::new()
    };
    let mut out = std::io::stdout().lock();
    // The first line is read by tests and tools: keep its shape.
    let _ = writeln!(out, "wsdeck-sim listening on {local}");
    if sim.assets.is_empty() {
        let _ = writeln!(
            out,
            "  warning: {} has no built app; run `cargo xtask run` to build it",
            sim.config.dist.display()
        );
    } else {
        let kib = sim.assets.gzip_total() as f64 / 1024.0;
        let _ = writeln!(
            out,
            "  serving {} files from {} ({kib:.1} KiB gzip)",
            sim.assets.len(),
            sim.config.dist.display()
        );
    }
    if let Some(profile) = sim.config.profile {
        let rate =
            if profile.sends_readings() { format!(", {} Hz", sim.config.rate_hz) } else { String::new() };
        let _ = writeln!(out, "  device: profile {}{rate} (see --help), WebSocket at /ws", profile.name());
    } else {
        let _ = writeln!(
            out,
            "  device \"{}\": telemetry {} Hz as {}{}, WebSocket at /ws",
            sim.config.name,
            sim.config.rate_hz,
            sim.config.format.as_str(),
            if sim.config.hello { "" } else { ", no hello" }
        );
    }
    let _ = writeln!(out, "\n  Open on this computer:  {local}   (the car from above: {local}sim/)");
    for url in &lan {
        let _ = writeln!(out, "  Open on a phone (same WiFi): {url}");
    }
    if let (Some(url), true) = (lan.first(), sim.config.qr) {
        if let Ok(code) = QrCode::new(url.as_bytes()) {
            // Light modules drawn as blocks: on a dark terminal the code reads dark-on-light, as
            // phone cameras expect, with a light quiet zone around it.
            let image = code
                .render::<Dense1x2>()
                .dark_color(Dense1x2::Light)
                .light_color(Dense1x2::Dark)
                .quiet_zone(true)
                .build();
            let _ = writeln!(out, "\n  Scan with the phone's camera:\n{image}");
        }
    }
    let _ = out.flush();
}

/// IPv4 addresses of this computer that a phone on the same network could reach.
fn lan_addresses() -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .collect();
    ips.sort();
    ips.dedup();
    ips
}
