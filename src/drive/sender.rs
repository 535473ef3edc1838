//! What goes on the wire and when: motion is latest-wins at a fixed rate and re-sent while held
//! (the device's watchdog needs it); stop goes out at once, every time, past every limit.

use wsdeck_protocol::{AppMsg, Drive};

/// Motion frames per second by default.
pub const DEFAULT_RATE_HZ: f64 = 30.0;
/// While a control is held, the latest command is re-sent at least this often.
pub const KEEPALIVE_MS: f64 = 100.0;
/// Changes that may go out back to back before the rate applies: two touch moves that the
/// browser delivers in one frame both go out at once, while the average stays at the rate.
pub const BURST: f64 = 2.0;
/// Above this many bytes waiting in the socket, motion frames are skipped, not queued: a stale
/// command arriving late is worse than none.
pub const BUFFERED_LIMIT: u32 = 512;

/// A motion command in wire units (-1000..=1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Motion {
    pub x: i16,
    pub y: i16,
    pub l: i16,
    pub r: i16,
}

impl Motion {
    pub fn is_neutral(&self) -> bool {
        *self == Motion::default()
    }
}

#[derive(Debug, Clone)]
pub struct Sender {
    period_ms: f64,
    seq: u32,
    /// Token bucket for changed commands: refilled at the rate up to [`BURST`]. Repeats for the
    /// watchdog take no token, so they never delay the next change.
    tokens: f64,
    refilled_ms: f64,
    /// When any motion frame last went out (for the keepalive).
    last_motion_ms: f64,
    /// The command to keep sending; `None` after a stop.
    latest: Option<Motion>,
    /// `latest` changed and has not been sent.
    dirty: bool,
    /// Motion frames skipped because the socket was backed up.
    pub skipped: u64,
}

impl Sender {
    pub fn new(rate_hz: f64) -> Sender {
        let rate = if rate_hz.is_finite() && rate_hz > 0.0 { rate_hz.min(200.0) } else { DEFAULT_RATE_HZ };
        Sender {
            period_ms: 1000.0 / rate,
            seq: 0,
            tokens: BURST,
            refilled_ms: f64::NEG_INFINITY,
            last_motion_ms: f64::NEG_INFINITY,
            latest: None,
            dirty: false,
            skipped: 0,
        }
    }

    /// A new command from the controls. Sent at once if the rate allows, else on a later tick
    /// (only the newest is kept).
    pub fn set(&mut self, m: Motion, now_ms: f64, buffered: u32) -> Option<AppMsg> {
        if self.latest == Some(m) {
            return None;
        }
        self.latest = Some(m);
        self.dirty = true;
        self.tick(now_ms, buffered)
    }

    /// Sends `m` now, past the rate (a control was let go: the car follows at once).
    pub fn send_now(&mut self, m: Motion, now_ms: f64, buffered: u32) -> Option<AppMsg> {
        self.latest = Some(m);
        self.dirty = true;
        self.tokens = self.tokens.max(1.0);
        self.tick(now_ms, buffered)
    }

    /// Sends what is due: a changed command once the period has passed, or the held command
    /// again every [`KEEPALIVE_MS`].
    pub fn tick(&mut self, now_ms: f64, buffered: u32) -> Option<AppMsg> {
        let m = self.latest?;
        if now_ms > self.refilled_ms {
            let earned = if self.refilled_ms.is_finite() {
                (now_ms - self.refilled_ms) / self.period_ms
            } else {
                BURST
            };
            self.tokens = (self.tokens + earned).min(BURST);
            self.refilled_ms = now_ms;
        }
        let change_due = self.dirty && self.tokens >= 1.0;
        if !change_due && now_ms - self.last_motion_ms < KEEPALIVE_MS {
            return None;
        }
        if buffered > BUFFERED_LIMIT {
            self.skipped += 1;
            return None;
        }
        if change_due {
            self.tokens -= 1.0;
        }
        self.dirty = false;
        self.last_motion_ms = now_ms;
        self.seq = self.seq.wrapping_add(1);
        Some(AppMsg::Drive(Drive { seq: self.seq, x: m.x, y: m.y, l: m.l, r: m.r }))
    }

    /// Stop now. Never rate-limited, never skipped; clears the held command.
    pub fn stop(&mut self) -> AppMsg {
        self.latest = None;
        self.dirty = false;
        self.seq = self.seq.wrapping_add(1);
        AppMsg::Stop { seq: self.seq }
    }

    /// A command is being held (motion frames keep going out).
    pub fn holding(&self) -> bool {
        self.latest.is_some_and(|m| !m.is_neutral())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fwd(y: i16) -> Motion {
        Motion { x: 0, y, l: y, r: y }
    }

    /// Through the wire and back, as the device reads it.
    fn decode(msg: &AppMsg) -> AppMsg {
        AppMsg::decode(&msg.encode()).unwrap()
    }

    #[test]
    fn first_command_goes_out_at_once() {
        let mut s = Sender::new(30.0);
        let f = s.set(fwd(500), 1000.0, 0).expect("sent at once");
        assert_eq!(decode(&f), AppMsg::Drive(Drive { seq: 1, x: 0, y: 500, l: 500, r: 500 }));
    }

    #[test]
    fn latest_wins_past_a_burst_of_two() {
        let mut s = Sender::new(30.0);
        s.set(fwd(100), 0.0, 0).unwrap();
        assert!(s.set(fwd(200), 5.0, 0).is_some(), "a second change in the same frame goes out too");
        assert!(s.set(fwd(300), 10.0, 0).is_none());
        assert!(s.set(fwd(400), 20.0, 0).is_none());
        assert!(s.tick(30.0, 0).is_none());
        let f = s.tick(38.4, 0).expect("a token after 1/30 s");
        assert!(matches!(decode(&f), AppMsg::Drive(Drive { y: 400, seq: 3, .. })));
    }

    #[test]
    fn the_average_rate_is_the_rate() {
        let mut s = Sender::new(30.0);
        let sent = (0..1000)
            .filter(|i| s.set(fwd(if i % 2 == 0 { 100 } else { 200 }), f64::from(*i), 0).is_some())
            .count()
            + (0..1000).filter(|i| s.tick(f64::from(*i) + 0.5, 0).is_some()).count();
        // One second of changes every millisecond: 30 a second plus the burst.
        assert!((30..=33).contains(&sent), "{sent}");
    }

    #[test]
    fn a_held_command_is_repeated_for_the_watchdog() {
        let mut s = Sender::new(30.0);
        s.set(fwd(700), 0.0, 0).unwrap();
        assert!(s.tick(99.0, 0).is_none());
        assert!(s.tick(100.0, 0).is_some());
        assert!(s.tick(150.0, 0).is_none());
        assert!(s.tick(200.0, 0).is_some());
        assert!(s.holding());
    }

    #[test]
    fn a_repeat_for_the_watchdog_does_not_delay_the_next_change() {
        let mut s = Sender::new(30.0);
        s.set(fwd(700), 0.0, 0).unwrap();
        assert!(s.tick(100.0, 0).is_some(), "repeat");
        assert!(s.set(fwd(800), 101.0, 0).is_some(), "a change 1 ms after a repeat goes out at once");
        assert!(s.set(fwd(900), 102.0, 0).is_some(), "burst");
        assert!(s.set(fwd(1000), 103.0, 0).is_none(), "then changes keep to the rate");
    }

    #[test]
    fn backed_up_socket_skips_motion_but_never_stop() {
        let mut s = Sender::new(30.0);
        assert!(s.set(fwd(700), 0.0, 10_000).is_none());
        assert_eq!(s.skipped, 1);
        let stop = s.stop();
        assert!(matches!(decode(&stop), AppMsg::Stop { .. }));
        assert!(s.tick(500.0, 0).is_none(), "nothing is held after a stop");
        assert!(!s.holding());
    }

    #[test]
    fn seq_increases_across_drive_and_stop() {
        let mut s = Sender::new(30.0);
        let mut seqs = Vec::new();
        for (i, frame) in
            [s.set(fwd(1), 0.0, 0).unwrap(), s.stop(), s.set(fwd(2), 100.0, 0).unwrap(), s.stop()]
                .into_iter()
                .enumerate()
        {
            let seq = match decode(&frame) {
                AppMsg::Drive(d) => d.seq,
                AppMsg::Stop { seq } => seq,
                other => panic!("{i}: {other:?}"),
            };
            seqs.push(seq);
        }
        assert_eq!(seqs, [1, 2, 3, 4]);
    }

    #[test]
    fn silly_rates_fall_back_to_the_default() {
        assert_eq!(Sender::new(0.0).period_ms, 1000.0 / DEFAULT_RATE_HZ);
        assert_eq!(Sender::new(f64::NAN).period_ms, 1000.0 / DEFAULT_RATE_HZ);
    }
}
