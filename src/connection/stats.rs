//! Link-quality figures: round-trip time as a rolling median, and frames per second.

use std::collections::VecDeque;

/// Median of the last `N` round-trip times: one slow pong on a busy WiFi channel does not make the
/// figure jump.
#[derive(Debug, Clone, Default)]
pub struct RttWindow {
    samples: VecDeque<f64>,
}

impl RttWindow {
    pub const N: usize = 15;

    pub fn push(&mut self, rtt_ms: f64) {
        if !rtt_ms.is_finite() || rtt_ms < 0.0 {
            return;
        }
        if self.samples.len() == Self::N {
            self.samples.pop_front();
        }
        self.samples.push_back(rtt_ms);
    }

    pub fn median(&self) -> Option<f64> {
        if self.samples.is_empty() {
            return None;
        }
        // Insertion sort: N is small, and a `sort_by` here would be one more copy of the standard
        // library's sort in the wasm (~1 KB).
        let mut sorted: Vec<f64> = Vec::with_capacity(self.samples.len());
        for &x in &self.samples {
            let at = sorted.partition_point(|&y| y.total_cmp(&x).is_le());
            sorted.insert(at, x);
        }
        let mid = sorted.len() / 2;
        Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

/// Frames per second over the last full second, in 100 ms buckets: O(1) per frame at any rate.
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    buckets: [u32; Self::BUCKETS],
    /// Index (time / 100 ms) of the newest bucket, the one still filling.
    head: i64,
}

impl RateMeter {
    /// Ten complete buckets plus the one filling.
    const BUCKETS: usize = 11;
    const BUCKET_MS: f64 = 100.0;

    pub fn count(&mut self, now_ms: f64) {
        self.advance(now_ms);
        let i = self.head.rem_euclid(Self::BUCKETS as i64) as usize;
        self.buckets[i] = self.buckets[i].saturating_add(1);
    }

    /// Frames per second over the last ten complete buckets.
    pub fn per_second(&mut self, now_ms: f64) -> f64 {
        self.advance(now_ms);
        let filling = self.head.rem_euclid(Self::BUCKETS as i64) as usize;
        let total: u32 =
            self.buckets.iter().enumerate().filter(|(i, _)| *i != filling).map(|(_, c)| *c).sum();
        f64::from(total) * 1000.0 / ((Self::BUCKETS - 1) as f64 * Self::BUCKET_MS)
    }

    fn advance(&mut self, now_ms: f64) {
        let idx = (now_ms / Self::BUCKET_MS).floor() as i64;
        if idx <= self.head {
            return;
        }
        let steps = (idx - self.head).min(Self::BUCKETS as i64);
        for s in 1..=steps {
            let i = (self.head + s).rem_euclid(Self::BUCKETS as i64) as usize;
            self.buckets[i] = 0;
        }
        self.head = idx;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ignores_a_single_outlier() {
        let mut w = RttWindow::default();
        assert_eq!(w.median(), None);
        for rtt in [10.0, 12.0, 900.0, 11.0, 13.0] {
            w.push(rtt);
        }
        assert_eq!(w.median(), Some(12.0));
        w.push(f64::NAN);
        w.push(-1.0);
        assert_eq!(w.median(), Some(12.0));
        w.push(14.0);
        assert_eq!(w.median(), Some(12.5));
    }

    #[test]
    fn median_window_forgets_old_samples() {
        let mut w = RttWindow::default();
        for _ in 0..RttWindow::N {
            w.push(500.0);
        }
        for _ in 0..RttWindow::N {
            w.push(20.0);
        }
        assert_eq!(w.median(), Some(20.0));
    }

    #[test]
    fn rate_counts_the_last_second() {
        let mut r = RateMeter::default();
        // 20 Hz for 3 s.
        for i in 0..60 {
            r.count(10_000.0 + f64::from(i) * 50.0);
        }
        assert_eq!(r.per_second(13_000.0), 20.0);
        // Silence: the rate falls to zero within a second.
        assert_eq!(r.per_second(14_100.0), 0.0);
    }

    #[test]
    fn rate_handles_1khz_and_clock_jumps() {
        let mut r = RateMeter::default();
        for i in 0..5000 {
            r.count(f64::from(i));
        }
        assert_eq!(r.per_second(5000.0), 1000.0);
        r.count(1e12);
        assert_eq!(r.per_second(1e12 + 100.0), 1.0);
        r.count(5.0); // a clock that went backwards counts in the newest bucket
        assert_eq!(r.per_second(1e12 + 200.0), 2.0);
    }
}
