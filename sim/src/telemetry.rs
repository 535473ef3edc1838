//! The telemetry the simulated device streams: readings from its sensors and its car, in the
//! configured shape (`tel` frames, bare objects, a bare number, or a profile's), at the configured
//! rate, with a log line about the battery now and then.

use crate::car::Car;
use crate::config::{Config, TelFormat};
use crate::device::{Peer, Sim};
use crate::model;
use crate::profile;
use crate::Out;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use wsdeck_protocol::{DeviceMsg, Log, LogLevel, Reading, Telemetry, Value};

/// How often the battery is reported in the log, ms.
const BATTERY_REPORT_MS: u64 = 30_000;

/// One set of readings: the sensors', then the car's wheel speeds and pose.
pub fn readings(sensors: [(&'static str, f64); 4], car: &Car) -> Vec<(&'static str, f64)> {
    let (wl, wr) = car.wheel_speeds();
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    let mut readings = sensors.to_vec();
    readings.extend([("wheel_l_mps", round(wl)), ("wheel_r_mps", round(wr))]);
    readings.extend([("x_m", round(car.x)), ("y_m", round(car.y))]);
    readings.push(("heading_deg", (car.heading.to_degrees() * 10.0).round() / 10.0));
    readings
}

/// The telemetry frame for `readings` taken at `t_ms`, in the configured shape; `n` frames went
/// before it. `None` for a device that sends no readings.
pub fn frame(config: &Config, n: u64, t_ms: u64, readings: &[(&'static str, f64)]) -> Option<String> {
    let get = |name: &str| readings.iter().find(|(k, _)| *k == name).map_or(0.0, |(_, v)| *v);
    if let Some(profile) = config.profile {
        let sample = profile::Sample {
            n,
            t_ms,
            temp_c: get("temp_c"),
            battery_v: get("battery_v"),
            wheel_l_mps: get("wheel_l_mps"),
        };
        return profile.frame(&sample);
    }
    Some(match config.format {
        TelFormat::Tel => DeviceMsg::Telemetry(Telemetry {
            ms: Some(if config.unix_ms { unix_ms() } else { t_ms as f64 }),
            values: readings.iter().map(|(k, v)| (k.to_string(), Reading::Num(*v))).collect(),
            tagged: true,
            skipped: 0,
        })
        .encode(),
        TelFormat::Bare => {
            Value::Obj(readings.iter().map(|(k, v)| (k.to_string(), Value::Num(*v))).collect()).to_json()
        }
        TelFormat::Number => Value::Num(get("temp_c")).to_json(),
    })
}

/// Now as Unix time in ms, rounded to the microsecond (`--unix-ms`).
fn unix_ms() -> f64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (since.as_micros() as f64) / 1000.0
}

/// The log frame about the battery, a warning when it runs low; `None` for a device that sends
/// no log.
pub fn battery_log(config: &Config, volts: f64) -> Option<String> {
    if config.format != TelFormat::Tel || config.profile.is_some() {
        return None;
    }
    let level = if volts < 7.0 { LogLevel::Warn } else { LogLevel::Info };
    Some(DeviceMsg::Log(Log { level, msg: format!("battery {volts:.2} V") }).encode())
}

/// Produces telemetry at the configured rate, and a log line about the battery now and then.
pub async fn run(sim: Arc<Sim>) {
    let Some(period) = sim.config.period() else { return };
    let mut model = model::Model::new(sim.config.seed);
    let mut ticks = tokio::time::interval(period);
    // A late tick is skipped, as a device's sampling timer would: a burst of catch-up frames would
    // carry the same `ms` with different readings.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_report_ms = BATTERY_REPORT_MS;
    let mut produced = 0;
    loop {
        ticks.tick().await;
        let t_ms = sim.uptime_ms();
        let readings = readings(model.sample(t_ms), &sim.car());
        if sim.peers().is_empty() {
            continue;
        }
        let Some(frame) = frame(&sim.config, produced, t_ms, &readings) else { return };
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
        if t_ms >= next_report_ms {
            next_report_ms = t_ms + BATTERY_REPORT_MS;
            if let Some(log) = battery_log(&sim.config, readings[0].1) {
                sim.broadcast(Out::Text(log.into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config(args: &[&str]) -> Config {
        Config::parse(args.iter().map(|s| s.to_string())).unwrap().unwrap()
    }

    fn sample() -> Vec<(&'static str, f64)> {
        let mut car = Car::default();
        car.command(1000, 500);
        readings(model::Model::new(1).sample(0), &car)
    }

    #[test]
    fn readings_are_the_sensors_then_the_car() {
        let names: Vec<_> = sample().iter().map(|(k, _)| *k).collect();
        assert_eq!(names[..4], model::SERIES);
        assert_eq!(names[4..], ["wheel_l_mps", "wheel_r_mps", "x_m", "y_m", "heading_deg"]);
        assert_eq!(sample()[4].1, 0.5, "a full command is the car's top speed");
    }

    #[test]
    fn each_format_has_its_shape() {
        let r = sample();
        let tel = frame(&config(&[]), 0, 1234, &r).unwrap();
        assert!(tel.starts_with(r#"{"t":"tel","ms":1234,"d":{"battery_v":"#), "{tel}");
        let bare = frame(&config(&["--format", "bare"]), 0, 1234, &r).unwrap();
        assert!(bare.starts_with(r#"{"battery_v":"#) && !bare.contains(r#""t":"#), "{bare}");
        let number = frame(&config(&["--format", "number"]), 0, 1234, &r).unwrap();
        assert_eq!(number.parse::<f64>().unwrap(), r[1].1, "the temperature alone");
    }

    #[test]
    fn with_unix_ms_the_frame_carries_the_time_it_was_made() {
        let before = unix_ms();
        let tel = frame(&config(&["--unix-ms"]), 0, 1234, &sample()).unwrap();
        let after = unix_ms();
        let Ok(DeviceMsg::Telemetry(t)) = DeviceMsg::decode(&tel) else { panic!("{tel}") };
        let ms = t.ms.unwrap();
        assert!((before..=after).contains(&ms), "{before} <= {ms} <= {after}");
    }

    #[test]
    fn a_profile_sends_its_own_shape_or_nothing() {
        let r = sample();
        let spaced = frame(&config(&["--profile", "spaced-names"]), 3, 0, &r).unwrap();
        assert!(spaced.starts_with(r#"{"left wheel":0.5,"#), "{spaced}");
        assert_eq!(frame(&config(&["--profile", "tutorial-car"]), 0, 0, &r), None);
    }

    #[test]
    fn the_battery_log_is_protocol_v1_only() {
        assert!(battery_log(&config(&[]), 6.9).unwrap().contains(r#""level":"warn""#));
        assert!(battery_log(&config(&[]), 8.0).unwrap().contains("battery 8.00 V"));
        assert_eq!(battery_log(&config(&["--format", "bare"]), 8.0), None);
        assert_eq!(battery_log(&config(&["--profile", "nested"]), 8.0), None);
    }
}
