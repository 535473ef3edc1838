//! What one client may send: a token bucket on its message rate, with the stop frame exempt
//! (safety first), and a verdict of abuse after seconds on end over the cap. Pure: time comes in
//! as `now_ms`. The limits are specified in docs/PROTOCOL.md ("Limits").

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
    rate: f64,
    burst: f64,
    tokens: f64,
    last_ms: u64,
    window_start_ms: u64,
    dropped_in_window: bool,
    /// Consecutive whole seconds in which something was dropped.
    strikes: u32,
    /// Messages dropped so far.
    pub dropped: u64,
}

impl RateCap {
    /// `rate` messages per second with a burst of a quarter second's worth (at least 10).
    pub fn new(rate: u32, now_ms: u64) -> RateCap {
        let burst = (f64::from(rate) / 4.0).max(10.0);
        RateCap {
            rate: f64::from(rate),
            burst,
            tokens: burst,
            last_ms: now_ms,
            window_start_ms: now_ms,
            dropped_in_window: false,
            strikes: 0,
            dropped: 0,
        }
    }

    pub fn burst(&self) -> u32 {
        self.burst as u32
    }

    /// Judges one message arriving at `now_ms`. A `safety_critical` message (a stop) is always
    /// processed; it uses a token when there is one, so a flood of stops is still a flood.
    pub fn check(&mut self, now_ms: u64, safety_critical: bool) -> Verdict {
        if self.rate == 0.0 {
            return Verdict::Process;
        }
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        self.tokens = (self.tokens + elapsed as f64 * self.rate / 1000.0).min(self.burst);
        let since = now_ms.saturating_sub(self.window_start_ms);
        if since >= 1000 {
            // A quiet second in between (or a second without drops) forgives.
            self.strikes = if since < 2000 && self.dropped_in_window { self.strikes + 1 } else { 0 };
            self.window_start_ms = now_ms;
            self.dropped_in_window = false;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Process;
        }
        if safety_critical {
            return Verdict::Process;
        }
        self.dropped += 1;
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

    /// Sends `n` messages evenly over `ms` starting at `t0`; returns how many were processed.
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
        let mut cap = RateCap::new(200, 0);
        assert_eq!(send(&mut cap, 0, 10_000, 1500), (1500, None));
        assert_eq!(cap.dropped, 0);
    }

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let mut cap = RateCap::new(200, 0);
        assert_eq!(cap.burst(), 50);
        // 1000 messages in the same millisecond: the burst passes, the rest is dropped.
        assert_eq!(send(&mut cap, 0, 0, 1000).0, 50);
        assert_eq!(cap.dropped, 950);
        // One second later the bucket is full again, not fuller.
        assert_eq!(send(&mut cap, 1000, 0, 1000).0, 50);
    }

    #[test]
    fn a_stop_is_never_dropped() {
        let mut cap = RateCap::new(200, 0);
        send(&mut cap, 0, 0, 1000);
        for t in 0..100 {
            assert_eq!(cap.check(t, true), Verdict::Process);
        }
    }

    #[test]
    fn seconds_on_end_over_the_cap_close_the_client() {
        let mut cap = RateCap::new(200, 0);
        // Twice the allowed rate.
        let (processed, closed_at) = send(&mut cap, 0, 20_000, 8000);
        let closed_at = closed_at.expect("closed for abuse");
        assert!((5000..6100).contains(&closed_at), "closed at {closed_at} ms");
        assert!(processed < 1300, "{processed}");
    }

    #[test]
    fn short_bursts_over_the_cap_are_forgiven() {
        let mut cap = RateCap::new(200, 0);
        for second in 0..20 {
            // 300 at once, then quiet for the rest of a 2-second period.
            let (_, closed) = send(&mut cap, second * 2000, 0, 300);
            assert_eq!(closed, None);
        }
        assert!(cap.dropped > 0);
    }

    #[test]
    fn zero_means_no_cap() {
        let mut cap = RateCap::new(0, 0);
        assert_eq!(send(&mut cap, 0, 0, 100_000), (100_000, None));
    }
}
