//! The simulated differential-drive car: its physics (wheel commands to pose) and every stop
//! and why, so that tests can check the app's safety promises from the device's side. Who may
//! drive, the watchdog and why the wheels stopped are the device core's
//! ([`wsdeck_device::motion`]); this only moves the car as the core's wheel commands say.

use std::collections::VecDeque;
use wsdeck_device::motion::Halt;
use wsdeck_protocol::FULL;

/// Top wheel speed at a command of 1000, m/s.
pub const MAX_SPEED: f64 = 0.5;
/// Distance between the wheels, m.
pub const TRACK: f64 = 0.14;
const STOPS_KEPT: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct StopRecord {
    pub reason: String,
    pub at_ms: u64,
}

#[derive(Debug, Default)]
pub struct Car {
    pub x: f64,
    pub y: f64,
    /// Radians, 0 = facing +y ("north"), positive turns left.
    pub heading: f64,
    /// Wheel commands, -1..=1, as the device core last set them.
    pub cmd_l: f64,
    pub cmd_r: f64,
    /// The last wheel command the core applied, as received.
    pub last_command: Option<String>,
    pub stops: VecDeque<StopRecord>,
    /// What the declared controls set (sim/src/controls.rs).
    pub headlights: bool,
    pub horn: bool,
    /// The camera's pan, degrees, positive to the left.
    pub pan_deg: f64,
    /// The eco drive profile: half the top speed.
    pub eco: bool,
    pub display: String,
}

impl Car {
    pub fn moving(&self) -> bool {
        self.cmd_l != 0.0 || self.cmd_r != 0.0
    }

    /// Takes the core's wheel commands (-1000..=1000).
    pub fn command(&mut self, l: i16, r: i16) {
        let full = f64::from(FULL);
        self.cmd_l = f64::from(l) / full;
        self.cmd_r = f64::from(r) / full;
    }

    /// Remembers a stop the core made.
    pub fn record(&mut self, halt: &Halt) {
        if self.stops.len() == STOPS_KEPT {
            self.stops.pop_front();
        }
        self.stops.push_back(StopRecord { reason: halt.describe(), at_ms: halt.at_ms });
    }

    /// Advances the simulation by `dt_s` seconds.
    pub fn step(&mut self, dt_s: f64) {
        let (vl, vr) = self.wheel_speeds();
        let v = (vl + vr) / 2.0;
        let w = (vr - vl) / TRACK;
        self.heading = (self.heading + w * dt_s).rem_euclid(std::f64::consts::TAU);
        self.x -= v * self.heading.sin() * dt_s;
        self.y += v * self.heading.cos() * dt_s;
        // Keep the car on a 4 m x 4 m floor.
        self.x = self.x.clamp(-2.0, 2.0);
        self.y = self.y.clamp(-2.0, 2.0);
    }

    pub fn wheel_speeds(&self) -> (f64, f64) {
        let top = if self.eco { MAX_SPEED / 2.0 } else { MAX_SPEED };
        (self.cmd_l * top, self.cmd_r * top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_device::motion::Why;

    #[test]
    fn forward_moves_north_and_spin_turns_in_place() {
        let mut car = Car::default();
        car.command(1000, 1000);
        for _ in 1..=10 {
            car.step(0.01);
        }
        assert!((car.y - 0.05).abs() < 1e-9 && car.x.abs() < 1e-9);
        car.command(1000, -1000);
        car.step(0.01);
        assert!(car.heading > std::f64::consts::PI, "spinning right turns clockwise");
        assert!((car.y - 0.05).abs() < 1e-9);
        assert_eq!(car.wheel_speeds(), (MAX_SPEED, -MAX_SPEED));
    }

    #[test]
    fn the_floor_holds_the_car_and_the_last_stops_are_kept() {
        let mut car = Car::default();
        car.command(1000, 1000);
        car.step(100.0);
        assert_eq!(car.y, 2.0);
        for at_ms in 0..60 {
            car.record(&Halt { why: Why::Watchdog, at_ms });
        }
        assert_eq!(car.stops.len(), STOPS_KEPT);
        assert_eq!(car.stops.back(), Some(&StopRecord { reason: "watchdog".into(), at_ms: 59 }));
    }
}
