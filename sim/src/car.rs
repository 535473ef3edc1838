//! The simulated differential-drive car: applies wheel commands, keeps one driver (the lease),
//! stops by itself when commands stop coming (the watchdog), and remembers every stop and why,
//! so that tests can check the app's safety promises from the device's side.

use std::collections::VecDeque;
use wsdeck_protocol::{Drive, DriveState, FULL};

/// Top wheel speed at a command of 1000, m/s.
pub const MAX_SPEED: f64 = 0.5;
/// Distance between the wheels, m.
pub const TRACK: f64 = 0.14;
/// A driver who sent nothing for this long may be replaced by another client's claim.
pub const IDLE_LEASE_MS: u64 = 2000;
const STOPS_KEPT: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub struct StopRecord {
    pub reason: String,
    pub at_ms: u64,
}

#[derive(Debug)]
pub struct Car {
    pub watchdog_ms: u64,
    pub x: f64,
    pub y: f64,
    /// Radians, 0 = facing +y ("north"), positive turns left.
    pub heading: f64,
    /// Wheel commands, -1..=1.
    pub cmd_l: f64,
    pub cmd_r: f64,
    pub armed: bool,
    pub driver: Option<u64>,
    pub failsafe: Option<&'static str>,
    /// The last accepted command as received.
    pub last_command: Option<String>,
    pub last_command_ms: u64,
    /// When the driver last sent anything.
    driver_seen_ms: u64,
    last_seq: Option<u32>,
    pub stops: VecDeque<StopRecord>,
    /// Drive frames ignored: from a non-driver, or older than the newest.
    pub ignored: u64,
}

impl Car {
    pub fn new(watchdog_ms: u64) -> Car {
        Car {
            watchdog_ms,
            x: 0.0,
            y: 0.0,
            heading: 0.0,
            cmd_l: 0.0,
            cmd_r: 0.0,
            armed: false,
            driver: None,
            failsafe: None,
            last_command: None,
            last_command_ms: 0,
            driver_seen_ms: 0,
            last_seq: None,
            stops: VecDeque::new(),
            ignored: 0,
        }
    }

    pub fn moving(&self) -> bool {
        self.cmd_l != 0.0 || self.cmd_r != 0.0
    }

    /// Applies a drive frame if `client` is the driver and the frame is newer than the last.
    /// A client that drives while nobody holds the lease takes it. Returns whether it was applied.
    pub fn drive(&mut self, client: u64, d: &Drive, raw: &str, now_ms: u64) -> bool {
        if self.driver.is_none() {
            self.take_lease(client, now_ms);
        }
        if self.driver != Some(client) || self.last_seq.is_some_and(|s| d.seq <= s) {
            self.ignored += 1;
            return false;
        }
        self.last_seq = Some(d.seq);
        self.driver_seen_ms = now_ms;
        let full = f64::from(FULL);
        self.cmd_l = f64::from(d.l) / full;
        self.cmd_r = f64::from(d.r) / full;
        self.armed = true;
        self.failsafe = None;
        self.last_command = Some(raw.to_string());
        self.last_command_ms = now_ms;
        true
    }

    /// A wheel command from the text dialect (no lease, no sequence numbers).
    pub fn drive_words(&mut self, l: f64, r: f64, raw: &str, now_ms: u64) {
        self.cmd_l = l;
        self.cmd_r = r;
        self.armed = true;
        self.failsafe = None;
        self.last_command = Some(raw.to_string());
        self.last_command_ms = now_ms;
    }

    /// A stop from any client is obeyed: a watcher's STOP is a safety feature.
    pub fn stop(&mut self, client: u64, seq: Option<u32>, reason: &str, now_ms: u64) {
        if self.driver == Some(client) {
            self.driver_seen_ms = now_ms;
            if let Some(seq) = seq {
                self.last_seq = Some(self.last_seq.map_or(seq, |s| s.max(seq)));
            }
        }
        self.halt(reason, now_ms);
        self.failsafe = None;
    }

    /// Asks for the lease; granted when free, already held, or the driver has been idle.
    pub fn claim(&mut self, client: u64, now_ms: u64) -> bool {
        let idle = now_ms.saturating_sub(self.driver_seen_ms) >= IDLE_LEASE_MS;
        match self.driver {
            Some(d) if d == client => true,
            Some(_) if !idle => false,
            _ => {
                if self.driver.is_some() {
                    self.halt("lease passed to another client", now_ms);
                }
                self.take_lease(client, now_ms);
                true
            }
        }
    }

    pub fn release(&mut self, client: u64, now_ms: u64) {
        if self.driver == Some(client) {
            self.driver = None;
            self.halt("driver released", now_ms);
        }
    }

    /// The client's socket closed.
    pub fn disconnected(&mut self, client: u64, now_ms: u64) {
        if self.driver == Some(client) {
            self.driver = None;
            if self.moving() || self.armed {
                self.halt("driver disconnected", now_ms);
                self.failsafe = Some("driver_left");
            }
        }
    }

    /// Advances the simulation by `dt_s` seconds, enforcing the watchdog first.
    pub fn step(&mut self, now_ms: u64, dt_s: f64) {
        if self.armed && now_ms.saturating_sub(self.last_command_ms) > self.watchdog_ms {
            self.halt("watchdog", now_ms);
            self.failsafe = Some("watchdog");
        }
        let (vl, vr) = (self.cmd_l * MAX_SPEED, self.cmd_r * MAX_SPEED);
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
        (self.cmd_l * MAX_SPEED, self.cmd_r * MAX_SPEED)
    }

    pub fn state_for(&self, client: u64) -> DriveState {
        DriveState {
            driver: self.driver.map(|d| d as u32),
            you: Some(client as u32),
            armed: self.armed,
            failsafe: self.failsafe.map(str::to_string),
        }
    }

    fn take_lease(&mut self, client: u64, now_ms: u64) {
        self.driver = Some(client);
        self.driver_seen_ms = now_ms;
        self.last_seq = None;
    }

    fn halt(&mut self, reason: &str, now_ms: u64) {
        self.cmd_l = 0.0;
        self.cmd_r = 0.0;
        self.armed = false;
        if self.stops.len() == STOPS_KEPT {
            self.stops.pop_front();
        }
        self.stops.push_back(StopRecord { reason: reason.to_string(), at_ms: now_ms });
    }
}

/// The legacy text dialect of tutorial cars: a word per frame.
pub fn words_to_wheels(word: &str) -> Option<(f64, f64)> {
    match word.trim().to_ascii_lowercase().as_str() {
        "up" | "forward" | "f" => Some((1.0, 1.0)),
        "down" | "back" | "backward" | "b" => Some((-1.0, -1.0)),
        "left" | "l" => Some((-1.0, 1.0)),
        "right" | "r" => Some((1.0, -1.0)),
        "stop" | "s" => Some((0.0, 0.0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(seq: u32, l: i16, r: i16) -> Drive {
        Drive { seq, x: 0, y: 0, l, r }
    }

    #[test]
    fn forward_moves_north_and_spin_turns_in_place() {
        let mut car = Car::new(300);
        car.drive(1, &d(1, 1000, 1000), "", 0);
        for i in 1..=10 {
            car.step(i * 10, 0.01);
        }
        assert!((car.y - 0.05).abs() < 1e-9 && car.x.abs() < 1e-9);
        car.drive(1, &d(2, 1000, -1000), "", 100);
        car.step(110, 0.01);
        assert!(car.heading > std::f64::consts::PI, "spinning right turns clockwise");
        assert!((car.y - 0.05).abs() < 1e-9);
    }

    #[test]
    fn watchdog_stops_a_car_left_without_commands() {
        let mut car = Car::new(300);
        car.drive(1, &d(1, 500, 500), "", 1000);
        car.step(1300, 0.0);
        assert!(car.moving());
        car.step(1301, 0.0);
        assert!(!car.moving());
        assert_eq!(car.failsafe, Some("watchdog"));
        assert_eq!(car.stops.back().unwrap(), &StopRecord { reason: "watchdog".into(), at_ms: 1301 });
    }

    #[test]
    fn only_the_driver_drives_and_old_frames_are_ignored() {
        let mut car = Car::new(300);
        assert!(car.claim(1, 0));
        assert!(!car.drive(2, &d(1, 1000, 1000), "", 10));
        assert!(!car.claim(2, 100));
        assert!(car.drive(1, &d(5, 300, 300), "", 100));
        assert!(!car.drive(1, &d(4, 1000, 1000), "", 110), "stale seq");
        assert_eq!(car.cmd_l, 0.3);
        assert_eq!(car.ignored, 2);
    }

    #[test]
    fn lease_passes_on_release_disconnect_or_idle() {
        let mut car = Car::new(300);
        car.claim(1, 0);
        car.release(1, 10);
        assert!(car.claim(2, 20));
        car.disconnected(2, 30);
        assert_eq!(car.driver, None);
        assert!(car.claim(3, 40));
        assert!(!car.claim(4, 40 + IDLE_LEASE_MS - 1));
        assert!(car.claim(4, 40 + IDLE_LEASE_MS));
        assert_eq!(car.driver, Some(4));
    }

    #[test]
    fn anyone_may_stop_and_a_leaving_driver_stops_the_car() {
        let mut car = Car::new(300);
        car.drive(1, &d(1, 800, 800), "", 0);
        car.stop(2, None, "stop from client 2", 10);
        assert!(!car.moving());
        car.drive(1, &d(2, 800, 800), "", 20);
        car.disconnected(1, 30);
        assert!(!car.moving());
        assert_eq!(car.failsafe, Some("driver_left"));
        let reasons: Vec<_> = car.stops.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons, ["stop from client 2", "driver disconnected"]);
    }

    #[test]
    fn words_of_tutorial_cars() {
        assert_eq!(words_to_wheels("up"), Some((1.0, 1.0)));
        assert_eq!(words_to_wheels(" STOP\n"), Some((0.0, 0.0)));
        assert_eq!(words_to_wheels("left"), Some((-1.0, 1.0)));
        assert_eq!(words_to_wheels("jump"), None);
    }
}
