//! What one client may send (docs/PROTOCOL.md, Limits): a token bucket on its message rate with
//! `stop` exempt, and a verdict of abuse after seconds on end over the cap. Counted in
//! thousandths of a message, as the C++ core counts it (no floating point on the chip's path).

/// A client over its rate cap in this many consecutive seconds is closed (1008).
pub const ABUSE_SECONDS: u32 = 5;

/// What to do with one incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Process,
    /// Over the cap: dropped unread, counted.
    Drop,
    /// Over the cap for [`ABUSE_SECONDS`] seconds: close the connection with 1008.
    Close,
}

#[derive(Debug, Clone)]
pub struct RateCap {
    /// Messages per second; 0 means no cap.
    rate: u64,
    burst_milli: u64,
    tokens_milli: u64,
    last_ms: u64,
    window_start_ms: u64,
    dropped_in_window: bool,
    /// Consecutive whole seconds in which something was dropped.
    strikes: u32,
}

impl RateCap {
    /// `rate` messages per second with a burst of a quarter second's worth (at least 10).
    /// Messages that may come at once after a quiet while.
    pub fn burst(&self) -> u32 {
        (self.burst_milli / 1000) as u32
    }

    pub fn new(rate: u32, now_ms: u64) -> RateCap {
        let burst_milli = (u64::from(rate) * 250).max(10_000);
        RateCap {
            rate: u64::from(rate),
            burst_milli,
            tokens_milli: burst_milli,
            last_ms: now_ms,
            window_start_ms: now_ms,
            dropped_in_window: false,
            strikes: 0,
        }
    }

    /// Judges one message arriving at `now_ms`. A `safety_critical` message (a stop) is always
    /// processed; it uses a token when there is one, so a flood of stops is still a flood.
    pub fn check(&mut self, now_ms: u64, safety_critical: bool) -> Verdict {
        if self.rate == 0 {
            return Verdict::Process;
        }
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens_milli =
            self.tokens_milli.saturating_add(elapsed.saturating_mul(self.rate)).min(self.burst_milli);
        let since = now_ms.saturating_sub(self.window_start_ms);
        if since >= 1000 {
            // A quiet second in between (or a second without drops) forgives.
            self.strikes = if since < 2000 && self.dropped_in_window { self.strikes + 1 } else { 0 };
            self.window_start_ms = now_ms;
            self.dropped_in_window = false;
        }
        if self.tokens_milli >= 1000 {
            self.tokens_milli -= 1000;
            return Verdict::Process;
        }
        if safety_critical {
            return Verdict::Process;
        }
        self.dropped_in_window = true;
        if self.strikes >= ABUSE_SECONDS {
            Verdict::Close
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `n` messages evenly over `ms` from `t0`: how many were processed, and when it closed.
    fn send(cap: &mut RateCap, t0: u64, ms: u64, n: u64) -> (u64, Option<u64>) {
        let mut processed = 0;
        for i in 0..n {
            let at = t0 + i * ms / n;
            match cap.check(at, false) {
                Verdict::Process => processed += 1,
                Verdict::Drop => {}
                Verdict::Close => return (processed, Some(at)),
            }
        }
        (processed, None)
    }

    #[test]
    fn within_the_rate_nothing_is_dropped() {
        assert_eq!(send(&mut RateCap::new(200, 0), 0, 10_000, 1500), (1500, None));
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let mut cap = RateCap::new(200, 0);
        assert_eq!((cap.burst(), RateCap::new(20, 0).burst()), (50, 10));
        assert_eq!(send(&mut cap, 0, 0, 1000).0, 50);
        assert_eq!(send(&mut cap, 1000, 0, 1000).0, 50, "full again after a second, not fuller");
    }

    #[test]
    fn a_stop_is_never_dropped() {
        let mut cap = RateCap::new(200, 0);
        send(&mut cap, 0, 0, 1000);
        assert!((0..100).all(|t| cap.check(t, true) == Verdict::Process));
    }

    #[test]
    fn seconds_on_end_over_the_cap_close_the_client() {
        let mut cap = RateCap::new(200, 0);
        let (processed, closed_at) = send(&mut cap, 0, 20_000, 8000);
        let closed_at = closed_at.expect("closed for abuse");
        assert!((5000..6100).contains(&closed_at), "closed at {closed_at} ms");
        assert!(processed < 1300, "{processed}");
    }

    #[test]
    fn short_bursts_over_the_cap_are_forgiven_and_zero_means_no_cap() {
        let mut cap = RateCap::new(200, 0);
        assert!((0..20).all(|s| send(&mut cap, s * 2000, 0, 300).1.is_none()));
        assert_eq!(send(&mut RateCap::new(0, 0), 0, 0, 100_000), (100_000, None));
    }
}
