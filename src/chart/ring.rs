//! A fixed-capacity ring buffer of `(time, value)` samples for one series: telemetry streams into
//! it at up to 1 kHz without allocating, and views read time windows out of it.

/// Samples kept per series by default: ten minutes at 100 Hz.
pub const DEFAULT_CAPACITY: usize = 60_000;

#[derive(Debug, Clone)]
pub struct Ring {
    cap: usize,
    /// Grow as samples come, up to `cap`: memory follows the data, not the capacity.
    t: Vec<f64>,
    v: Vec<f32>,
    /// Index of the oldest sample.
    head: usize,
    len: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring { cap: capacity.max(1), t: Vec::new(), v: Vec::new(), head: 0, len: 0 }
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a sample, dropping the oldest when full. Times must not go backwards: an earlier time
    /// (a device that rebooted) is raised to the latest, so the window search stays valid.
    pub fn push(&mut self, t: f64, v: f64) {
        // NaN and earlier times both become the latest time.
        let t = match self.last() {
            Some((last, _)) if t.is_nan() || t < last => last,
            None if t.is_nan() => 0.0,
            _ => t,
        };
        let cap = self.capacity();
        if self.t.len() < cap {
            self.t.push(t);
            self.v.push(v as f32);
            self.len += 1;
        } else {
            let tail = (self.head + self.len) % cap;
            self.t[tail] = t;
            self.v[tail] = v as f32;
            if self.len == cap {
                self.head = (self.head + 1) % cap;
            } else {
                self.len += 1;
            }
        }
    }

    /// The `i`-th sample, oldest first.
    pub fn get(&self, i: usize) -> Option<(f64, f64)> {
        (i < self.len).then(|| {
            let k = (self.head + i) % self.capacity();
            (self.t[k], f64::from(self.v[k]))
        })
    }

    pub fn first(&self) -> Option<(f64, f64)> {
        self.get(0)
    }

    pub fn last(&self) -> Option<(f64, f64)> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        (0..self.len).filter_map(|i| self.get(i))
    }

    /// Index of the first sample at or after `t` (binary search; `len()` if none).
    pub fn lower_bound(&self, t: f64) -> usize {
        let (mut lo, mut hi) = (0, self.len);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.get(mid).is_some_and(|(mt, _)| mt < t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Indices `[from, to)` of the samples with `t0 <= t <= t1`.
    pub fn window(&self, t0: f64, t1: f64) -> (usize, usize) {
        let from = self.lower_bound(t0);
        let mut to = self.lower_bound(t1);
        while to < self.len && self.get(to).is_some_and(|(t, _)| t <= t1) {
            to += 1;
        }
        (from, to.max(from))
    }

    /// The sample nearest to `t`, if one lies within `within` ms of it (the crosshair's value).
    pub fn nearest(&self, t: f64, within: f64) -> Option<(f64, f64)> {
        let i = self.lower_bound(t);
        let after = self.get(i);
        let before = i.checked_sub(1).and_then(|j| self.get(j));
        let best = match (before, after) {
            (Some(b), Some(a)) => Some(if t - b.0 <= a.0 - t { b } else { a }),
            (b, a) => b.or(a),
        }?;
        ((best.0 - t).abs() <= within).then_some(best)
    }

    pub fn clear(&mut self) {
        self.t.clear();
        self.v.clear();
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around_keeping_the_newest() {
        let mut r = Ring::new(4);
        for i in 0..10 {
            r.push(f64::from(i), f64::from(i) * 10.0);
        }
        assert_eq!(r.len(), 4);
        let all: Vec<_> = r.iter().collect();
        assert_eq!(all, [(6.0, 60.0), (7.0, 70.0), (8.0, 80.0), (9.0, 90.0)]);
        assert_eq!(r.first(), Some((6.0, 60.0)));
        assert_eq!(r.last(), Some((9.0, 90.0)));
        assert_eq!(r.get(4), None);
        assert_eq!(r.t.len(), 4, "no growth past capacity");
    }

    #[test]
    fn time_never_goes_backwards() {
        let mut r = Ring::new(8);
        r.push(100.0, 1.0);
        r.push(50.0, 2.0);
        r.push(f64::NAN, 3.0);
        let times: Vec<f64> = r.iter().map(|s| s.0).collect();
        assert_eq!(times, [100.0, 100.0, 100.0]);
    }

    #[test]
    fn window_selection_matches_a_linear_scan() {
        let mut r = Ring::new(50);
        for i in 0..120 {
            r.push(f64::from(i) * 2.5, 0.0);
        }
        for (t0, t1) in
            [(0.0, 1e9), (200.0, 210.0), (201.0, 201.0), (250.0, 260.0), (297.5, 297.5), (1e9, 2e9)]
        {
            let (from, to) = r.window(t0, t1);
            let expect: Vec<usize> =
                (0..r.len()).filter(|&i| r.get(i).is_some_and(|(t, _)| t >= t0 && t <= t1)).collect();
            let got: Vec<usize> = (from..to).collect();
            assert_eq!(got, expect, "window {t0}..{t1}");
        }
    }

    #[test]
    fn clear_empties() {
        let mut r = Ring::new(3);
        r.push(1.0, 1.0);
        r.clear();
        assert!(r.is_empty());
        r.push(0.5, 2.0);
        assert_eq!(r.first(), Some((0.5, 2.0)));
    }

    #[test]
    fn nearest_sample_within_reach() {
        let mut r = Ring::new(4);
        for (t, v) in [(0.0, 1.0), (10.0, 2.0), (20.0, 3.0), (30.0, 4.0), (40.0, 5.0)] {
            r.push(t, v);
        }
        assert_eq!(r.nearest(14.0, 100.0), Some((10.0, 2.0)));
        assert_eq!(r.nearest(16.0, 100.0), Some((20.0, 3.0)));
        assert_eq!(
            r.nearest(-50.0, 100.0),
            Some((10.0, 2.0)),
            "the oldest kept sample, not the overwritten one"
        );
        assert_eq!(r.nearest(99.0, 100.0), Some((40.0, 5.0)));
        assert_eq!(r.nearest(99.0, 10.0), None, "too far from any sample: no value");
        assert_eq!(Ring::new(2).nearest(0.0, 1.0), None);
    }
}
