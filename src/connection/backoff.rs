//! Reconnect delays: exponential backoff with full jitter, so that a room full of phones does not
//! hammer a rebooting device in lock-step. The ceiling is low: a device that comes back must be
//! driven again within a second, and one attempt a second from a phone costs the device little.

/// First retry waits up to this long.
pub const BASE_MS: f64 = 250.0;
/// No retry waits longer than this (plus the attempt itself: a device back on the network is
/// reached within a second).
pub const CAP_MS: f64 = 800.0;

#[derive(Debug, Clone)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub const fn new() -> Backoff {
        Backoff { failures: 0 }
    }

    /// Failed attempts since the last successful open.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Counts one more failure and returns how long to wait before the next attempt:
    /// uniform in `[0, min(CAP, BASE * 2^failures)]`. `rand01` is uniform in `[0, 1)`.
    pub fn next_delay_ms(&mut self, rand01: f64) -> f64 {
        let ceiling = (BASE_MS * 2f64.powi(self.failures.min(16) as i32)).min(CAP_MS);
        self.failures = self.failures.saturating_add(1);
        rand01.clamp(0.0, 1.0) * ceiling
    }

    /// After a successful open the next loss starts from the shortest delay again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_from_250ms_to_an_800ms_cap() {
        let mut b = Backoff::new();
        let ceilings: Vec<f64> = (0..5).map(|_| b.next_delay_ms(1.0)).collect();
        assert_eq!(ceilings, [250.0, 500.0, 800.0, 800.0, 800.0]);
        assert_eq!(b.failures(), 5);
    }

    #[test]
    fn delay_is_jittered_over_the_whole_range() {
        let mut b = Backoff::new();
        assert_eq!(b.next_delay_ms(0.0), 0.0);
        assert_eq!(b.next_delay_ms(0.5), 250.0);
        for _ in 0..100 {
            b.next_delay_ms(0.3);
        }
        assert_eq!(b.next_delay_ms(0.3), 240.0);
    }

    #[test]
    fn reset_starts_over_and_huge_counts_do_not_overflow() {
        let mut b = Backoff::new();
        for _ in 0..100_000 {
            assert!(b.next_delay_ms(0.99) <= CAP_MS);
        }
        b.reset();
        assert_eq!(b.next_delay_ms(1.0), BASE_MS);
    }
}
