//! The motors' master: wheel commands, one driver (the lease), and the watchdog that stops the
//! wheels when commands stop coming. Every call that stops the wheels says why (a [`Halt`]);
//! time comes in as `now_ms`. The simulator adds its physics around it (sim/src/car.rs), the
//! firmware its PWM (firmware/esp32c3/src/motors.rs).

use wsdeck_protocol::{Drive, DriveState};

/// A driver who sent nothing for this long may be replaced by another client's claim.
pub const IDLE_LEASE_MS: u64 = 2000;

/// Why the device stopped by itself, as `state` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failsafe {
    Watchdog,
    DriverLeft,
}

impl Failsafe {
    pub fn as_str(self) -> &'static str {
        match self {
            Failsafe::Watchdog => "watchdog",
            Failsafe::DriverLeft => "driver_left",
        }
    }
}

/// Why the wheels were stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A stop frame from this client (anyone's stop is obeyed).
    Stop(u32),
    Watchdog,
    /// The driver's socket closed while the wheels were armed or turning.
    DriverLeft,
    Released,
    /// An idle driver's lease went to another client.
    LeasePassed,
}

/// The wheels were stopped at `at_ms`, for this reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Halt {
    pub why: Why,
    pub at_ms: u64,
}

#[derive(Debug)]
pub struct Motion {
    pub watchdog_ms: u64,
    /// Wheel commands, -1000..=1000.
    pub left: i16,
    pub right: i16,
    pub armed: bool,
    pub driver: Option<u32>,
    pub failsafe: Option<Failsafe>,
    /// When the last wheel command was applied.
    pub last_command_ms: u64,
    /// Wheel commands applied so far (drive frames and words).
    pub commands: u64,
    /// When the driver last sent anything.
    driver_seen_ms: u64,
    last_seq: Option<u32>,
    /// Drive frames ignored: from a non-driver, or older than the newest.
    pub ignored: u64,
}

impl Motion {
    pub fn new(watchdog_ms: u32) -> Motion {
        Motion {
            watchdog_ms: u64::from(watchdog_ms),
            left: 0,
            right: 0,
            armed: false,
            driver: None,
            failsafe: None,
            last_command_ms: 0,
            commands: 0,
            driver_seen_ms: 0,
            last_seq: None,
            ignored: 0,
        }
    }

    /// Who drives and whether it moves: when this changes, every client is told.
    pub fn summary(&self) -> (Option<u32>, bool, Option<Failsafe>) {
        (self.driver, self.armed, self.failsafe)
    }

    pub fn state_for(&self, client: u32) -> DriveState {
        DriveState {
            driver: self.driver,
            you: Some(client),
            armed: self.armed,
            failsafe: self.failsafe.map(|f| f.as_str().into()),
        }
    }

    /// Applies a drive frame if `client` is the driver and the frame is newer than the last. A
    /// client that drives while nobody holds the lease takes it. Returns whether it was applied.
    pub fn drive(&mut self, client: u32, d: &Drive, now_ms: u64) -> bool {
        if self.driver.is_none() {
            self.take_lease(client, now_ms);
        }
        if self.driver != Some(client) || self.last_seq.is_some_and(|s| d.seq <= s) {
            self.ignored = self.ignored.saturating_add(1);
            return false;
        }
        self.last_seq = Some(d.seq);
        self.driver_seen_ms = now_ms;
        self.command(d.l, d.r, now_ms);
        true
    }

    /// A wheel command from a tutorial car's words: no lease, no sequence numbers.
    pub fn drive_words(&mut self, l: i16, r: i16, now_ms: u64) {
        self.command(l, r, now_ms);
    }

    /// A stop from any client is obeyed: a watcher's STOP is a safety feature.
    pub fn stop(&mut self, client: u32, seq: u32, now_ms: u64) -> Halt {
        if self.driver == Some(client) {
            self.driver_seen_ms = now_ms;
            self.last_seq = Some(self.last_seq.map_or(seq, |s| s.max(seq)));
        }
        self.failsafe = None;
        self.halt(Why::Stop(client), now_ms)
    }

    /// Asks for the lease; granted when free, already held, or the driver has been idle.
    pub fn claim(&mut self, client: u32, now_ms: u64) -> Option<Halt> {
        let idle = now_ms.saturating_sub(self.driver_seen_ms) >= IDLE_LEASE_MS;
        match self.driver {
            Some(d) if d == client => None,
            Some(_) if !idle => None,
            held => {
                let halt = held.map(|_| self.halt(Why::LeasePassed, now_ms));
                self.take_lease(client, now_ms);
                halt
            }
        }
    }

    pub fn release(&mut self, client: u32, now_ms: u64) -> Option<Halt> {
        (self.driver == Some(client)).then(|| {
            self.driver = None;
            self.halt(Why::Released, now_ms)
        })
    }

    /// The client's socket closed.
    pub fn disconnected(&mut self, client: u32, now_ms: u64) -> Option<Halt> {
        if self.driver != Some(client) {
            return None;
        }
        self.driver = None;
        (self.armed || self.moving()).then(|| {
            self.failsafe = Some(Failsafe::DriverLeft);
            self.halt(Why::DriverLeft, now_ms)
        })
    }

    /// The watchdog: no wheel command for longer than `watchdog_ms` stops the wheels.
    pub fn tick(&mut self, now_ms: u64) -> Option<Halt> {
        (self.armed && now_ms.saturating_sub(self.last_command_ms) > self.watchdog_ms).then(|| {
            self.failsafe = Some(Failsafe::Watchdog);
            self.halt(Why::Watchdog, now_ms)
        })
    }

    pub fn moving(&self) -> bool {
        self.left != 0 || self.right != 0
    }

    fn command(&mut self, l: i16, r: i16, now_ms: u64) {
        self.left = l;
        self.right = r;
        self.armed = true;
        self.failsafe = None;
        self.last_command_ms = now_ms;
        self.commands += 1;
    }

    fn take_lease(&mut self, client: u32, now_ms: u64) {
        self.driver = Some(client);
        self.driver_seen_ms = now_ms;
        self.last_seq = None;
    }

    fn halt(&mut self, why: Why, now_ms: u64) -> Halt {
        self.left = 0;
        self.right = 0;
        self.armed = false;
        Halt { why, at_ms: now_ms }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(seq: u32, l: i16, r: i16) -> Drive {
        Drive { seq, x: 0, y: 0, l, r }
    }

    #[test]
    fn the_watchdog_stops_the_wheels_when_frames_stop() {
        let mut car = Motion::new(300);
        car.drive(1, &drive(1, 500, 500), 1000);
        car.tick(1300);
        assert_eq!((car.left, car.armed), (500, true), "300 ms is still in time");
        car.tick(1301);
        assert_eq!((car.left, car.right, car.armed, car.failsafe), (0, 0, false, Some(Failsafe::Watchdog)));
        car.drive(1, &drive(2, 200, 200), 1400);
        assert_eq!((car.left, car.failsafe), (200, None), "the next command clears the failsafe");
    }

    #[test]
    fn only_the_driver_drives_and_old_frames_are_ignored() {
        let mut car = Motion::new(300);
        car.drive(1, &drive(5, 500, 500), 0);
        car.drive(2, &drive(9, -1000, -1000), 10);
        car.drive(1, &drive(4, 100, 100), 20);
        assert_eq!((car.driver, car.left, car.ignored), (Some(1), 500, 2));
    }

    #[test]
    fn anyones_stop_is_obeyed() {
        let mut car = Motion::new(300);
        car.drive(1, &drive(1, 500, 500), 0);
        car.stop(2, 1, 10);
        assert!(!car.moving() && !car.armed);
        assert_eq!(car.driver, Some(1), "a stop does not take the lease");
    }

    #[test]
    fn an_idle_driver_hands_over_after_two_seconds() {
        let mut car = Motion::new(300);
        car.claim(1, 0);
        car.claim(2, 1999);
        assert_eq!(car.driver, Some(1));
        car.claim(2, 2000);
        assert_eq!(car.driver, Some(2));
        car.drive(2, &drive(1, 300, 300), 2010);
        assert_eq!(car.left, 300, "the new driver's sequence starts afresh");
    }

    #[test]
    fn a_driver_that_leaves_stops_the_car_and_says_why() {
        let mut car = Motion::new(300);
        car.drive(1, &drive(1, 500, 500), 0);
        car.disconnected(2, 5);
        assert!(car.moving());
        car.disconnected(1, 5);
        assert_eq!((car.driver, car.moving(), car.failsafe), (None, false, Some(Failsafe::DriverLeft)));
        car.claim(3, 10);
        car.release(3, 20);
        assert_eq!(car.driver, None);
    }

    #[test]
    fn every_stop_says_why() {
        let mut car = Motion::new(300);
        car.drive(1, &drive(1, 800, 800), 0);
        assert_eq!(car.stop(2, 1, 10), Halt { why: Why::Stop(2), at_ms: 10 });
        assert_eq!(car.claim(2, 100), None, "the driver is not idle yet");
        assert_eq!(car.claim(2, 10 + IDLE_LEASE_MS), Some(Halt { why: Why::LeasePassed, at_ms: 2010 }));
        assert_eq!(car.release(1, 2020), None, "no longer the driver");
        assert_eq!(car.release(2, 2030).map(|h| h.why), Some(Why::Released));
        car.drive(3, &drive(1, 100, 100), 2040);
        assert_eq!(car.tick(2340), None);
        assert_eq!(car.tick(2341).map(|h| h.why), Some(Why::Watchdog));
        assert_eq!(car.disconnected(3, 2400), None, "stopped already: nothing to stop");
        assert_eq!(car.failsafe, Some(Failsafe::Watchdog));
    }

    #[test]
    fn words_drive_without_a_lease_and_the_watchdog_still_holds() {
        let mut car = Motion::new(300);
        car.drive_words(1000, -1000, 0);
        assert_eq!((car.left, car.right, car.driver, car.commands), (1000, -1000, None, 1));
        assert_eq!(car.tick(301).map(|h| h.why), Some(Why::Watchdog));
    }
}
