//! The time span the charts show, and how zoom and pan change it while paused. Pure: positions
//! come in as fractions of the plot's width (0 = left edge, 1 = right edge).

/// The narrowest span a zoom may reach, in ms.
pub const MIN_SPAN_MS: f64 = 50.0;

/// A span of data time `[t0, t1]`, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub t0: f64,
    pub t1: f64,
}

impl Span {
    pub fn width(&self) -> f64 {
        self.t1 - self.t0
    }

    /// The time under a position across the plot.
    pub fn at(&self, frac: f64) -> f64 {
        self.t0 + frac * self.width()
    }

    /// Where a time falls across the plot.
    pub fn frac(&self, t: f64) -> f64 {
        if self.width() > 0.0 {
            (t - self.t0) / self.width()
        } else {
            0.0
        }
    }

    /// The span shown when not zoomed: `window` ms back from the newest sample, or all of it.
    pub fn latest(first: f64, last: f64, window: f64) -> Span {
        if window.is_finite() {
            Span { t0: last - window, t1: last }
        } else if last > first {
            Span { t0: first, t1: last }
        } else {
            Span { t0: last - 1000.0, t1: last }
        }
    }

    /// Zooms by `factor` (> 1 shows less time) keeping the time under `frac` where it is, then
    /// keeps the result inside `bounds` (the buffered data).
    pub fn zoom(self, frac: f64, factor: f64, bounds: Span) -> Span {
        if !(factor.is_finite() && factor > 0.0) {
            return self;
        }
        let frac = frac.clamp(0.0, 1.0);
        let anchor = self.at(frac);
        let width = (self.width() / factor).clamp(MIN_SPAN_MS, bounds.width().max(MIN_SPAN_MS));
        Span { t0: anchor - frac * width, t1: anchor + (1.0 - frac) * width }.inside(bounds)
    }

    /// Moves the span by `dfrac` of its width (positive: the picture follows a finger moving
    /// right, so earlier data comes into view), within `bounds`.
    pub fn pan(self, dfrac: f64, bounds: Span) -> Span {
        if !dfrac.is_finite() {
            return self;
        }
        let dt = dfrac * self.width();
        Span { t0: self.t0 - dt, t1: self.t1 - dt }.inside(bounds)
    }

    /// Shifted (not shrunk, unless wider than `bounds`) to lie within `bounds`.
    fn inside(self, bounds: Span) -> Span {
        let width = self.width();
        if width >= bounds.width() {
            return if width <= MIN_SPAN_MS { Span { t0: bounds.t1 - width, t1: bounds.t1 } } else { bounds };
        }
        if self.t0 < bounds.t0 {
            Span { t0: bounds.t0, t1: bounds.t0 + width }
        } else if self.t1 > bounds.t1 {
            Span { t0: bounds.t1 - width, t1: bounds.t1 }
        } else {
            self
        }
    }
}

/// Two fingers that were `before` apart (in px) and are now `now` apart: the zoom factor.
pub fn pinch_factor(before: f64, now: f64) -> f64 {
    if before > 1.0 && now > 1.0 {
        now / before
    } else {
        1.0
    }
}

/// A mouse wheel's `deltaY` as a zoom factor: one notch (100 px) zooms by 1.25, up is in.
pub fn wheel_factor(delta_y: f64) -> f64 {
    if delta_y.is_finite() {
        1.25f64.powf(-delta_y.clamp(-500.0, 500.0) / 100.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Span = Span { t0: 0.0, t1: 60_000.0 };

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn the_live_span_ends_at_the_newest_sample() {
        assert_eq!(Span::latest(0.0, 50_000.0, 10_000.0), Span { t0: 40_000.0, t1: 50_000.0 });
        assert_eq!(Span::latest(5.0, 50_000.0, f64::INFINITY), Span { t0: 5.0, t1: 50_000.0 });
        // A single sample still gives a span to draw in.
        assert!(Span::latest(7.0, 7.0, f64::INFINITY).width() > 0.0);
    }

    #[test]
    fn zoom_keeps_the_time_under_the_pointer_in_place() {
        let s = Span { t0: 10_000.0, t1: 20_000.0 };
        let z = s.zoom(0.25, 2.0, ALL);
        assert!(close(z.width(), 5000.0));
        assert!(close(z.at(0.25), s.at(0.25)), "{z:?}");
        // Zooming out again restores it.
        let back = z.zoom(0.25, 0.5, ALL);
        assert!(close(back.t0, s.t0) && close(back.t1, s.t1), "{back:?}");
    }

    #[test]
    fn zoom_stops_at_a_minimum_span_and_at_the_data() {
        let s = Span { t0: 10_000.0, t1: 20_000.0 };
        assert!(close(s.zoom(0.5, 1e9, ALL).width(), MIN_SPAN_MS));
        assert_eq!(s.zoom(0.5, 1e-9, ALL), ALL, "never wider than the buffered data");
        let edge = Span { t0: 0.0, t1: 10_000.0 }.zoom(0.0, 0.5, ALL);
        assert_eq!(edge, Span { t0: 0.0, t1: 20_000.0 }, "shifted back inside, not cut");
        assert_eq!(s.zoom(0.5, f64::NAN, ALL), s);
        assert_eq!(s.zoom(0.5, -2.0, ALL), s);
    }

    #[test]
    fn pan_follows_the_finger_and_stops_at_the_ends() {
        let s = Span { t0: 30_000.0, t1: 40_000.0 };
        // Finger moves right by a tenth of the plot: earlier data comes into view.
        assert_eq!(s.pan(0.1, ALL), Span { t0: 29_000.0, t1: 39_000.0 });
        assert_eq!(s.pan(-0.1, ALL), Span { t0: 31_000.0, t1: 41_000.0 });
        assert_eq!(s.pan(100.0, ALL), Span { t0: 0.0, t1: 10_000.0 });
        assert_eq!(s.pan(-100.0, ALL), Span { t0: 50_000.0, t1: 60_000.0 });
        assert_eq!(s.pan(f64::INFINITY, ALL), s);
    }

    #[test]
    fn gestures_become_zoom_factors() {
        assert_eq!(pinch_factor(100.0, 200.0), 2.0);
        assert_eq!(pinch_factor(0.0, 200.0), 1.0);
        assert!(wheel_factor(-100.0) > 1.0 && wheel_factor(100.0) < 1.0);
        assert!(close(wheel_factor(100.0) * wheel_factor(-100.0), 1.0));
        assert_eq!(wheel_factor(f64::NAN), 1.0);
    }

    #[test]
    fn positions_and_times_convert_both_ways() {
        let s = Span { t0: 1000.0, t1: 3000.0 };
        assert_eq!(s.at(0.5), 2000.0);
        assert_eq!(s.frac(2500.0), 0.75);
        assert_eq!(Span { t0: 5.0, t1: 5.0 }.frac(9.0), 0.0);
    }
}
