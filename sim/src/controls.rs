//! The controls the simulated device declares (`--controls`): the car's headlights, horn, camera
//! pan, drive profile, display text and battery gauge, or a hundred of them for the benchmark.
//! What they do to the car is here too ([`apply`]); which values are taken, who changed them and
//! the release of a held horn are the device core's ([`wsdeck_device::controls`]).

use crate::car::Car;
use crate::Sim;
use std::sync::Arc;
use std::time::Duration;
use wsdeck_protocol::{Control, ControlKind, CtlValue, Range};

/// Which set of controls the device declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    /// None: a device that never heard of controls.
    None,
    /// The car's.
    Car,
    /// 100 controls of every kind, 30 read-only ones changing at 50 Hz (`cargo xtask bench`).
    Many,
}

/// The read-only controls of [`Set::Many`] that the device changes, and how often.
pub const MANY_CHANGING: usize = 30;
pub const MANY_HZ: u32 = 50;

impl Set {
    pub const NAMES: [&'static str; 3] = ["car", "none", "many"];

    pub fn parse(s: &str) -> Option<Set> {
        match s {
            "car" => Some(Set::Car),
            "none" => Some(Set::None),
            "many" => Some(Set::Many),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Set::None => "none",
            Set::Car => "car",
            Set::Many => "many",
        }
    }

    /// The declaration, and the values the device starts with where they are not the initial ones.
    pub fn declare(self) -> (Vec<Control>, Vec<(&'static str, CtlValue)>) {
        match self {
            Set::None => (Vec::new(), Vec::new()),
            Set::Car => car(),
            Set::Many => (many(), Vec::new()),
        }
    }
}

fn control(id: &str, label: &str, group: &str, kind: ControlKind) -> Control {
    let mut c = Control::new(id, kind);
    c.label = label.into();
    c.group = Some(group.into());
    c
}

fn car() -> (Vec<Control>, Vec<(&'static str, CtlValue)>) {
    let mut lights = control("lights", "Headlights", "Car", ControlKind::Toggle);
    lights.drive = true;
    let mut horn = control("horn", "Horn", "Car", ControlKind::Button);
    horn.drive = true;
    let profile = control(
        "profile",
        "Drive profile",
        "Car",
        ControlKind::Select { options: vec!["sport".into(), "eco".into()] },
    );
    let pan = Range { min: -90.0, max: 90.0, step: Some(1.0), unit: Some("°".into()) };
    let pan = control("pan", "Camera pan", "Camera", ControlKind::Slider(pan));
    let display = control("display", "Display text", "Display", ControlKind::Text { max_len: 32 });
    let gauge =
        ControlKind::Gauge { min: 6.4, max: 8.4, unit: Some("V".into()), warn: Some(7.0), alarm: Some(6.6) };
    let mut battery = control("battery", "Battery", "Power", gauge);
    battery.series = Some("battery_v".into());
    (vec![lights, horn, profile, pan, display, battery], vec![("pan", CtlValue::Num(0.0))])
}

fn many() -> Vec<Control> {
    let range = || Range { min: 0.0, max: 100.0, step: Some(1.0), unit: Some("%".into()) };
    (0..100)
        .map(|i| {
            let group = format!("Bank {}", i / 10 + 1);
            let (id, kind) = match i {
                0..MANY_CHANGING => (
                    format!("g{i}"),
                    ControlKind::Gauge {
                        min: 0.0,
                        max: 100.0,
                        unit: Some("%".into()),
                        warn: Some(80.0),
                        alarm: Some(95.0),
                    },
                ),
                30..60 => (format!("t{i}"), ControlKind::Toggle),
                60..80 => (format!("s{i}"), ControlKind::Slider(range())),
                80..90 => (format!("b{i}"), ControlKind::Button),
                _ => (format!("l{i}"), ControlKind::Led { color: None }),
            };
            control(&id, &id, &group, kind)
        })
        .collect()
}

/// The values of [`Set::Many`]'s changing gauges at tick `n`.
pub fn many_values(n: u64) -> Vec<(String, CtlValue)> {
    (0..MANY_CHANGING).map(|i| (format!("g{i}"), CtlValue::Num(((n + i as u64 * 7) % 101) as f64))).collect()
}

/// With [`Set::Many`]: the device changes its 30 gauges [`MANY_HZ`] times a second, each time in
/// one `ctl` frame to every watcher.
pub async fn run(sim: Arc<Sim>) {
    if sim.config.controls() != Set::Many {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_millis(1000 / u64::from(MANY_HZ)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    for n in 0.. {
        ticks.tick().await;
        let values = many_values(n);
        let values: Vec<(&str, CtlValue)> = values.iter().map(|(id, v)| (id.as_str(), v.clone())).collect();
        let now = sim.uptime_ms();
        sim.run(None, None, |d| d.set_control(&values, now));
    }
}

/// What a control's new value does to the car.
pub fn apply(car: &mut Car, id: &str, v: &CtlValue) {
    match (id, v) {
        ("lights", CtlValue::Bool(on)) => car.headlights = *on,
        ("horn", CtlValue::Bool(on)) => car.horn = *on,
        ("pan", CtlValue::Num(deg)) => car.pan_deg = *deg,
        ("profile", CtlValue::Text(p)) => car.eco = p == "eco",
        ("display", CtlValue::Text(t)) => car.display = t.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_car_declares_six_controls_that_all_parse_back() {
        let (list, start) = Set::Car.declare();
        let ids: Vec<_> = list.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["lights", "horn", "profile", "pan", "display", "battery"]);
        let back = wsdeck_protocol::Controls::parse(
            &wsdeck_protocol::Controls { list: list.clone(), skipped: vec![] }.to_value(),
        );
        assert_eq!((back.list, back.skipped.len()), (list, 0));
        assert_eq!(start, [("pan", CtlValue::Num(0.0))]);
        assert!(Set::None.declare().0.is_empty());
    }

    #[test]
    fn many_is_a_hundred_with_thirty_changing() {
        let list = many();
        assert_eq!(list.len(), 100);
        assert_eq!(list.iter().filter(|c| c.read_only()).count(), 40);
        assert_eq!(many_values(3).len(), MANY_CHANGING);
        assert_ne!(many_values(3), many_values(4));
    }

    #[test]
    fn eco_halves_the_top_speed_and_the_lights_show() {
        let mut car = Car::default();
        car.command(1000, 1000);
        let sport = car.wheel_speeds();
        apply(&mut car, "profile", &CtlValue::Text("eco".into()));
        apply(&mut car, "lights", &CtlValue::Bool(true));
        assert_eq!(car.wheel_speeds().0 * 2.0, sport.0);
        assert!(car.headlights);
    }
}
