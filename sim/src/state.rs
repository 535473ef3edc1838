//! `GET /sim/state`: everything tests and the car view read about the simulated device, as JSON.
//! Pairing tokens are never in it.

use crate::device::{Noted, Sim};
use crate::profile::Profile;
use std::sync::atomic::Ordering;
use wsdeck_device::limits::RateCap;
use wsdeck_protocol::CtlValue;
use wsdeck_protocol::PairingMode;

impl Sim {
    /// What `GET /sim/state` answers at uptime `now`.
    pub fn dump(&self, now: u64) -> serde_json::Value {
        let core = self.core();
        let m = core.motion();
        let car = self.car();
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
            "armed": m.armed,
            "driver": m.driver,
            "failsafe": m.failsafe.map(|f| f.as_str()),
            "watchdog_ms": m.watchdog_ms,
            "last_command": car.last_command,
            "last_command_ms": m.last_command_ms,
            "ignored_drive_frames": m.ignored,
            "headlights": car.headlights,
            "horn": car.horn,
            "pan_deg": car.pan_deg,
            "eco": car.eco,
            "display": car.display,
            "stops": car.stops.iter().map(|s| serde_json::json!({"reason": s.reason, "at_ms": s.at_ms})).collect::<Vec<_>>(),
        });
        drop(car);
        let peers: Vec<_> = self
            .peers()
            .iter()
            .map(|p| {
                let o = p.outbox.stats();
                let c = core.client(p.slot);
                serde_json::json!({
                    "id": p.id,
                    "frames_in": p.frames_in.load(Ordering::Relaxed),
                    "rate_limited": c.map_or(0, |c| c.rate_limited),
                    "sent": p.sent.load(Ordering::Relaxed),
                    "queued": o.queued,
                    "max_queued": o.max_queued,
                    "dropped": o.dropped,
                    "paired": c.is_some_and(|c| c.paired),
                })
            })
            .collect();
        let panel = core.panel();
        let controls: Vec<_> = (0..panel.controls().len())
            .filter_map(|i| panel.get(i))
            .map(|(c, v, change)| {
                let value = match v {
                    CtlValue::Bool(b) => serde_json::json!(b),
                    CtlValue::Num(n) => serde_json::json!(n),
                    CtlValue::Text(t) => serde_json::json!(t),
                };
                serde_json::json!({
                    "id": c.id,
                    "kind": c.kind.as_str(),
                    "value": value,
                    "by": change.and_then(|c| c.by),
                    "at_ms": change.map(|c| c.at_ms),
                })
            })
            .collect();
        let (cs, wrong_tokens) = (core.stats, core.wrong_tokens());
        drop(core);
        let s = self.stats();
        serde_json::json!({
            "car": car_json,
            "dialect": self.config.dialect.as_str(),
            "name": self.config.name,
            "uptime_ms": now,
            "rate_hz": self.config.rate_hz,
            "format": self.config.format.as_str(),
            "hello": self.config.hello,
            "clients": s.clients,
            "connections_total": s.connections_total,
            "telemetry_frames": s.telemetry_frames,
            "frames_from_app": s.frames_from_app,
            "pings_answered": cs.pings_answered,
            "bad_frames_from_app": s.bad_frames_from_app + cs.bad_frames,
            "dropped_for_slow_clients": s.dropped_for_slow_clients,
            "frames_too_large": s.frames_too_large,
            "rate_limited_frames": cs.rate_limited,
            "closed_for_abuse": cs.closed_for_abuse,
            "closed_silent": s.closed_silent,
            "protocol_errors": s.protocol_errors,
            "connections": {
                "open": self.conns.open(),
                "max": self.conns.max(),
                "evicted": self.conns.evictions.load(Ordering::Relaxed),
                "refused": self.conns.refused.load(Ordering::Relaxed),
            },
            "limits": {
                "max_frame_len": wsdeck_protocol::MAX_FRAME_LEN,
                "max_msg_rate": self.config.max_msg_rate,
                "burst": RateCap::new(self.config.max_msg_rate, 0).burst(),
                "client_queue": self.config.client_queue,
            },
            "client_list": peers,
            "pairing": self.config.pairing().map(PairingMode::as_str),
            "wrong_tokens": wrong_tokens,
            "unpaired_frames": cs.unpaired_frames,
            "controls": controls,
            "refused_ctl": cs.refused_ctl,
            "rss_kib": rss_kib(),
            "last_frame_from_app": s.last_frame_from_app,
            "profile": self.config.profile.map(Profile::name),
            "recent_frames": s.recent_frames.iter().map(Noted::json).collect::<Vec<_>>(),
            "unexpected_closes": s.unexpected_closes,
            "recent_unexpected": s.recent_unexpected.iter().map(Noted::json).collect::<Vec<_>>(),
            "last_telemetry": s.last_telemetry,
        })
    }
}

/// Resident memory of this process (Linux), so tests can see that nothing piles up.
fn rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4)
}

#[cfg(test)]
mod tests {
    use crate::assets::Assets;
    use crate::config::Config;
    use crate::Sim;
    use std::net::IpAddr;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));

    fn sim(args: &[&str]) -> Sim {
        Sim::new(Config::parse(args.iter().map(|s| s.to_string())).unwrap().unwrap(), Assets::default())
    }

    #[test]
    fn it_counts_connections_and_keeps_the_last_frames() {
        let sim = sim(&["--profile", "silent-car"]);
        let a = sim.client_connected(HOME).unwrap();
        drop(sim.client_connected(HOME).unwrap());
        sim.on_app_frame(&a.peer, "forward", 5);
        sim.on_app_frame(&a.peer, "stop", 9);
        let d = sim.dump(10);
        assert_eq!((d["connections_total"].as_u64(), d["clients"].as_u64()), (Some(2), Some(1)));
        assert_eq!(d["profile"], "silent-car");
        assert_eq!(d["frames_from_app"], 2);
        assert_eq!(d["recent_frames"][1], serde_json::json!({"client": a.id, "at_ms": 9, "frame": "stop"}));
        assert_eq!(d["car"]["last_command"], "stop");
        assert_eq!(d["uptime_ms"], 10);
        for _ in 0..100 {
            sim.on_app_frame(&a.peer, "left", 20);
        }
        assert_eq!(sim.dump(30)["recent_frames"].as_array().unwrap().len(), 32, "the last 32 are kept");
    }

    #[test]
    fn it_shows_each_controls_value_and_who_changed_it_last() {
        let sim = sim(&[]);
        let c = sim.client_connected(HOME).unwrap();
        sim.on_app_frame(&c.peer, r#"{"t":"ctl","id":"lights","v":true,"seq":1}"#, 7);
        let d = sim.dump(10);
        let lights = &d["controls"][0];
        assert_eq!(
            (&lights["id"], &lights["value"], &lights["by"], &lights["at_ms"]),
            (&"lights".into(), &true.into(), &c.id.into(), &7.into())
        );
        assert_eq!(d["controls"][3]["value"], 0.0, "the camera starts straight ahead");
        assert_eq!(d["car"]["headlights"], true);
        assert!(sim.dump(0)["controls"].as_array().unwrap().len() == 6);
        let plain = self::sim(&["--controls", "none"]);
        assert_eq!(plain.dump(0)["controls"], serde_json::json!([]));
    }

    #[test]
    fn it_never_shows_a_pairing_token() {
        let sim = sim(&["--token", "blue-tiger-42"]);
        let c = sim.client_connected(HOME).unwrap();
        sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"blue-tiger-42"}"#, 0);
        let d = sim.dump(0);
        assert!(!d.to_string().contains("blue-tiger"), "{d}");
        assert_eq!(d["last_frame_from_app"], r#"{"t":"auth","token":"(not kept)"}"#);
        assert_eq!(d["client_list"][0]["paired"], true);
    }
}
