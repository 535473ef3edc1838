//! Min/max decimation: any number of samples become at most one column per pixel, keeping each
//! column's exact extremes, so the drawn line costs pixels, not samples, and no spike is lost.
//! A NaN sample is a gap the device reported: the line breaks there and no extreme includes it.

use super::ring::Ring;

/// One pixel column of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// 0..width, left to right.
    pub col: usize,
    pub first: f64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
    /// The data had a gap (a NaN sample, or none for longer than `gap_ms`) just before this
    /// column's first sample: the line must break here. A column that a gap splits is two
    /// columns with the same `col`.
    pub gap_before: bool,
    /// Sum and count of the column's samples, for an exact mean of the window.
    pub sum: f64,
    pub n: u32,
}

/// Last, min, max and mean of the samples behind some columns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub last: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

pub fn summary(columns: &[Column]) -> Option<Summary> {
    let last = columns.last()?.last;
    let (min, max, sum, n) =
        columns.iter().fold((f64::INFINITY, f64::NEG_INFINITY, 0.0, 0u64), |(lo, hi, s, n), c| {
            (lo.min(c.min), hi.max(c.max), s + c.sum, n + u64::from(c.n))
        });
    (n > 0).then(|| Summary { last, min, max, mean: sum / n as f64 })
}

/// Decimates the samples with `t0 <= t <= t1` into `width` columns. Columns with no sample are
/// left out; a NaN sample, or consecutive samples further apart than `gap_ms`, mark a gap.
pub fn decimate(ring: &Ring, t0: f64, t1: f64, width: usize, gap_ms: f64) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::with_capacity(width.min(ring.len()));
    let span = t1 - t0;
    if width == 0 || span.is_nan() || span <= 0.0 {
        return out;
    }
    let (from, to) = ring.window(t0, t1);
    let scale = width as f64 / span;
    let before = from.checked_sub(1).and_then(|i| ring.get(i));
    let mut prev_t = before.map(|s| s.0);
    let mut broken = before.is_some_and(|s| s.1.is_nan());
    for i in from..to {
        let Some((t, v)) = ring.get(i) else { break };
        if v.is_nan() {
            broken = true;
            prev_t = Some(t);
            continue;
        }
        let col = (((t - t0) * scale) as usize).min(width - 1);
        let gap = std::mem::take(&mut broken) || prev_t.is_some_and(|p| t - p > gap_ms);
        prev_t = Some(t);
        match out.last_mut() {
            Some(c) if c.col == col && !gap => {
                c.min = c.min.min(v);
                c.max = c.max.max(v);
                c.last = v;
                c.sum += v;
                c.n += 1;
            }
            _ => out.push(Column { col, first: v, min: v, max: v, last: v, gap_before: gap, sum: v, n: 1 }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference that does the obvious thing for every column.
    fn brute(samples: &[(f64, f64)], t0: f64, t1: f64, width: usize) -> Vec<(usize, f64, f64)> {
        let mut cols = Vec::new();
        for col in 0..width {
            let inside: Vec<f64> = samples
                .iter()
                .filter(|(t, _)| *t >= t0 && *t <= t1)
                .filter(|(t, _)| (((t - t0) * width as f64 / (t1 - t0)) as usize).min(width - 1) == col)
                .map(|s| s.1)
                .collect();
            if !inside.is_empty() {
                let min = inside.iter().copied().fold(f64::INFINITY, f64::min);
                let max = inside.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                cols.push((col, min, max));
            }
        }
        cols
    }

    fn noise(seed: &mut u64) -> f64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed % 10_000) as f64 / 100.0 - 50.0
    }

    #[test]
    fn extremes_match_a_brute_force_reference() {
        let mut seed = 0x1234_5678_u64;
        for (n, width, cap) in [(1000, 37, 2000), (5000, 300, 3000), (50, 400, 100), (7, 1, 10)] {
            let mut ring = Ring::new(cap);
            let mut samples = Vec::new();
            let mut t = 0.0;
            for _ in 0..n {
                t += 1.0 + (noise(&mut seed).abs() / 10.0).floor();
                // Values that survive the ring's f32 storage exactly.
                let v = f64::from(noise(&mut seed) as f32);
                ring.push(t, v);
                samples.push((t, v));
            }
            let kept = &samples[samples.len().saturating_sub(cap)..];
            let (t0, t1) = (kept[kept.len() / 4].0, t);
            let cols = decimate(&ring, t0, t1, width, f64::INFINITY);
            let got: Vec<_> = cols.iter().map(|c| (c.col, c.min, c.max)).collect();
            assert_eq!(got, brute(kept, t0, t1, width), "n={n} width={width}");
            // The window's mean, exactly.
            let inside: Vec<f64> = kept.iter().filter(|(t, _)| *t >= t0 && *t <= t1).map(|s| s.1).collect();
            let mean = inside.iter().sum::<f64>() / inside.len() as f64;
            assert!((summary(&cols).unwrap().mean - mean).abs() < 1e-9, "mean n={n}");
        }
    }

    #[test]
    fn first_and_last_keep_the_line_continuous() {
        let mut ring = Ring::new(100);
        for (t, v) in [(0.0, 5.0), (1.0, 9.0), (2.0, 1.0), (3.0, 4.0)] {
            ring.push(t, v);
        }
        let cols = decimate(&ring, 0.0, 4.0, 1, f64::INFINITY);
        assert_eq!(
            cols,
            [Column {
                col: 0,
                first: 5.0,
                min: 1.0,
                max: 9.0,
                last: 4.0,
                gap_before: false,
                sum: 19.0,
                n: 4
            }]
        );
        let s = summary(&cols).unwrap();
        assert_eq!((s.last, s.min, s.max, s.mean), (4.0, 1.0, 9.0, 4.75));
        assert_eq!(summary(&[]), None);
    }

    #[test]
    fn a_pause_in_the_data_is_a_gap_not_a_line() {
        let mut ring = Ring::new(100);
        for t in [0.0, 10.0, 20.0, 2000.0, 2010.0] {
            ring.push(t, 1.0);
        }
        let cols = decimate(&ring, 0.0, 2010.0, 201, 500.0);
        let gaps: Vec<usize> = cols.iter().filter(|c| c.gap_before).map(|c| c.col).collect();
        assert_eq!(gaps, [200]);
    }

    #[test]
    fn columns_never_exceed_the_width() {
        let mut ring = Ring::new(100_000);
        for i in 0..100_000 {
            ring.push(f64::from(i), f64::from(i % 7));
        }
        let cols = decimate(&ring, 0.0, 99_999.0, 640, 10.0);
        assert_eq!(cols.len(), 640);
        assert!(cols.iter().all(|c| c.min == 0.0 && c.max == 6.0));
        assert!(decimate(&ring, 5.0, 5.0, 640, 10.0).is_empty());
        assert!(decimate(&ring, 0.0, 10.0, 0, 10.0).is_empty());
    }

    #[test]
    fn a_reported_gap_breaks_the_line_and_stays_out_of_the_extremes() {
        let mut ring = Ring::new(100);
        for (t, v) in [(0.0, 5.0), (1.0, 9.0), (2.0, f64::NAN), (3.0, 1.0), (4.0, 4.0), (50.0, 7.0)] {
            ring.push(t, v);
        }
        // One pixel for all: the gap splits the column in two, neither holds a NaN or a 0.
        let cols = decimate(&ring, 0.0, 50.0, 1, f64::INFINITY);
        let got: Vec<_> = cols.iter().map(|c| (c.col, c.first, c.min, c.max, c.last, c.gap_before)).collect();
        assert_eq!(got, [(0, 5.0, 5.0, 9.0, 9.0, false), (0, 1.0, 1.0, 7.0, 7.0, true)]);
        let s = summary(&cols).unwrap();
        assert_eq!((s.min, s.max, s.mean), (1.0, 9.0, 26.0 / 5.0));
        // Wide: the gap breaks between columns.
        let cols = decimate(&ring, 0.0, 50.0, 50, f64::INFINITY);
        let gaps: Vec<usize> = cols.iter().filter(|c| c.gap_before).map(|c| c.col).collect();
        assert_eq!(gaps, [3]);
        assert!(cols.iter().all(|c| !c.min.is_nan() && !c.max.is_nan() && !c.first.is_nan()));
        // A window that starts right after the gap starts broken; one that holds only gaps is empty.
        let cols = decimate(&ring, 2.5, 50.0, 10, f64::INFINITY);
        assert!(cols[0].gap_before);
        assert!(decimate(&ring, 1.5, 2.5, 10, f64::INFINITY).is_empty());
    }

    #[test]
    fn gaps_in_a_long_stream_match_a_reference_that_skips_them() {
        let mut seed = 0x9E37_79B9_u64;
        let mut ring = Ring::new(10_000);
        let mut samples = Vec::new();
        for i in 0..10_000 {
            let v = if i % 97 == 0 { f64::NAN } else { f64::from(noise(&mut seed) as f32) };
            ring.push(f64::from(i), v);
            samples.push((f64::from(i), v));
        }
        let cols = decimate(&ring, 0.0, 9999.0, 300, f64::INFINITY);
        // Merged back per pixel, the extremes are those of the good samples.
        let mut merged: Vec<(usize, f64, f64)> = Vec::new();
        for c in &cols {
            match merged.last_mut() {
                Some(m) if m.0 == c.col => {
                    m.1 = m.1.min(c.min);
                    m.2 = m.2.max(c.max);
                }
                _ => merged.push((c.col, c.min, c.max)),
            }
        }
        let good: Vec<(f64, f64)> = samples.into_iter().filter(|s| !s.1.is_nan()).collect();
        assert_eq!(merged, brute(&good, 0.0, 9999.0, 300));
        assert_eq!(cols.iter().filter(|c| c.gap_before).count(), (0..10_000).step_by(97).count());
        assert!(cols.len() <= 2 * 300, "at most one split per gap");
    }
}
