//! The time span the charts show, and how gestures (drag, pinch, wheel, double-tap) change it
//! while paused. Pure: positions come in as fractions of the plot's width (0 = left edge, 1 =
//! right edge) and pixels, and [`Gestures`] turns pointer events into [`Change`]s.

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

/// Where a pointer is on the chart under it, as the view measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct At {
    /// Across the page, CSS px.
    pub x: f64,
    /// Across the plotting area: 0 = left edge, 1 = right edge (outside it below 0 or above 1).
    pub frac: f64,
    /// The plotting area's width, CSS px.
    pub width: f64,
}

/// A pointer event on a chart. `mouse`: the pointer is a mouse (it hovers; fingers do not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pointer {
    Down {
        id: i32,
        mouse: bool,
        at: At,
    },
    Move {
        id: i32,
        mouse: bool,
        at: At,
    },
    /// Lifted, or cancelled by the browser.
    Up {
        id: i32,
        mouse: bool,
    },
    Leave {
        mouse: bool,
    },
    Wheel {
        at: At,
        delta_y: f64,
    },
    DoubleTap,
}

/// What a pointer event changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// The crosshair, as a fraction across the plot, or none.
    Cursor(Option<f64>),
    /// The span shown while paused; `None`: back to the whole window.
    Zoom(Option<Span>),
    /// The event is ours: the page must not scroll or zoom with it.
    Consume,
}

/// Fingers or the mouse on the charts. While running a pointer shows the crosshair only; while
/// paused it also pans (one finger or the mouse) and zooms (two fingers, or the wheel).
#[derive(Debug, Default)]
pub struct Gestures {
    /// Pointers that are down: id and last x.
    pointers: Vec<(i32, f64)>,
}

impl Gestures {
    /// `paused`: the span shown and the data's bounds, when paused; gestures move the span only
    /// then.
    pub fn on(&mut self, event: Pointer, paused: Option<(Span, Span)>) -> Vec<Change> {
        let cursor = |at: At| Change::Cursor(Some(at.frac.clamp(0.0, 1.0)));
        let zoom = |span: Span, next: Span| (next != span).then_some(Change::Zoom(Some(next)));
        match event {
            Pointer::Down { id, at, .. } => {
                self.pointers.retain(|p| p.0 != id);
                self.pointers.push((id, at.x));
                vec![cursor(at)]
            }
            Pointer::Move { id, mouse, at } => {
                let before = self.pointers.iter().find(|p| p.0 == id).map(|p| p.1);
                let other = self.pointers.iter().find(|p| p.0 != id).map(|p| p.1);
                let mut out = Vec::new();
                if mouse || before.is_some() {
                    out.push(cursor(at));
                }
                let (Some(before), Some((span, bounds))) = (before, paused) else { return out };
                if let Some(p) = self.pointers.iter_mut().find(|p| p.0 == id) {
                    p.1 = at.x;
                }
                let next = match other {
                    // Two fingers: the distance between them sets the zoom, around their midpoint.
                    Some(other) => {
                        let factor = pinch_factor((before - other).abs(), (at.x - other).abs());
                        let mid = at.frac - (at.x - (at.x + other) / 2.0) / at.width;
                        span.zoom(mid, factor, bounds)
                    }
                    None => span.pan((at.x - before) / at.width, bounds),
                };
                out.extend(zoom(span, next));
                out
            }
            Pointer::Up { id, mouse } => {
                self.pointers.retain(|p| p.0 != id);
                if mouse {
                    Vec::new()
                } else {
                    vec![Change::Cursor(None)]
                }
            }
            Pointer::Leave { mouse: true } => vec![Change::Cursor(None)],
            Pointer::Leave { mouse: false } => Vec::new(),
            Pointer::Wheel { at, delta_y } => {
                let Some((span, bounds)) = paused else { return Vec::new() };
                let mut out = vec![Change::Consume];
                out.extend(zoom(span, span.zoom(at.frac, wheel_factor(delta_y), bounds)));
                out
            }
            Pointer::DoubleTap => vec![Change::Zoom(None)],
        }
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

    /// A pointer at `frac` across a 300 px plot that starts 50 px into the page.
    fn at(frac: f64) -> At {
        At { x: 50.0 + frac * 300.0, frac, width: 300.0 }
    }

    fn zoomed(out: &[Change]) -> Option<Span> {
        out.iter().find_map(|c| match c {
            Change::Zoom(s) => *s,
            _ => None,
        })
    }

    #[test]
    fn running_a_pointer_only_moves_the_crosshair() {
        let mut g = Gestures::default();
        assert_eq!(
            g.on(Pointer::Move { id: 1, mouse: true, at: at(0.3) }, None),
            [Change::Cursor(Some(0.3))]
        );
        assert_eq!(
            g.on(Pointer::Down { id: 1, mouse: true, at: at(1.5) }, None),
            [Change::Cursor(Some(1.0))]
        );
        assert_eq!(
            g.on(Pointer::Move { id: 1, mouse: true, at: at(0.2) }, None),
            [Change::Cursor(Some(0.2))]
        );
        assert_eq!(g.on(Pointer::Up { id: 1, mouse: true }, None), [], "a mouse keeps its crosshair");
        assert_eq!(g.on(Pointer::Leave { mouse: true }, None), [Change::Cursor(None)]);
        assert_eq!(g.on(Pointer::Wheel { at: at(0.5), delta_y: -100.0 }, None), [], "the page scrolls");
        // A finger that hovers does not exist; one that lifts takes its crosshair away.
        assert_eq!(g.on(Pointer::Move { id: 2, mouse: false, at: at(0.5) }, None), []);
        g.on(Pointer::Down { id: 2, mouse: false, at: at(0.5) }, None);
        assert_eq!(g.on(Pointer::Up { id: 2, mouse: false }, None), [Change::Cursor(None)]);
    }

    #[test]
    fn paused_a_drag_pans_with_the_finger() {
        let s = Span { t0: 30_000.0, t1: 40_000.0 };
        let mut g = Gestures::default();
        g.on(Pointer::Down { id: 1, mouse: false, at: at(0.5) }, Some((s, ALL)));
        let out = g.on(Pointer::Move { id: 1, mouse: false, at: at(0.6) }, Some((s, ALL)));
        assert_eq!(out[0], Change::Cursor(Some(0.6)));
        let next = zoomed(&out).unwrap();
        assert!(close(next.t0, 29_000.0) && close(next.t1, 39_000.0), "{next:?}");
        // The next move counts from where the finger is now, not from where it went down.
        let out = g.on(Pointer::Move { id: 1, mouse: false, at: at(0.7) }, Some((next, ALL)));
        assert!(close(zoomed(&out).unwrap().t0, 28_000.0));
        g.on(Pointer::Up { id: 1, mouse: false }, Some((next, ALL)));
        assert_eq!(g.on(Pointer::Move { id: 1, mouse: false, at: at(0.9) }, Some((next, ALL))), []);
    }

    #[test]
    fn paused_two_fingers_apart_zoom_in_around_their_middle() {
        let s = Span { t0: 10_000.0, t1: 20_000.0 };
        let mut g = Gestures::default();
        g.on(Pointer::Down { id: 1, mouse: false, at: at(0.4) }, Some((s, ALL)));
        g.on(Pointer::Down { id: 2, mouse: false, at: at(0.6) }, Some((s, ALL)));
        let out = g.on(Pointer::Move { id: 2, mouse: false, at: at(0.8) }, Some((s, ALL)));
        let next = zoomed(&out).unwrap();
        assert!(close(next.width(), s.width() / 2.0), "twice as far apart: half the time, {next:?}");
        // The time under the fingers' midpoint stays under it.
        assert!(close(next.at(0.6), s.at(0.6)), "{next:?}");
        // Together again: back out.
        let out = g.on(Pointer::Move { id: 2, mouse: false, at: at(0.6) }, Some((next, ALL)));
        assert!(close(zoomed(&out).unwrap().width(), s.width()));
    }

    #[test]
    fn paused_the_wheel_zooms_and_double_tap_zooms_out() {
        let s = Span { t0: 10_000.0, t1: 20_000.0 };
        let mut g = Gestures::default();
        let out = g.on(Pointer::Wheel { at: at(0.25), delta_y: -100.0 }, Some((s, ALL)));
        assert_eq!(out[0], Change::Consume);
        let next = zoomed(&out).unwrap();
        assert!(close(next.width(), s.width() / 1.25) && close(next.at(0.25), s.at(0.25)));
        // Zoomed all the way out already: nothing changes, the event is still ours.
        assert_eq!(g.on(Pointer::Wheel { at: at(0.5), delta_y: 500.0 }, Some((ALL, ALL))), [Change::Consume]);
        assert_eq!(g.on(Pointer::DoubleTap, Some((next, ALL))), [Change::Zoom(None)]);
    }
}
