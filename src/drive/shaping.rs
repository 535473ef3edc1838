//! Stick maths, free of the DOM: dead zone, expo curve, speed limit, axis lock, and mixing a stick
//! position into the two wheel commands a differential-drive car needs.

use wsdeck_protocol::FULL;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shaping {
    /// Fraction of the stick's travel around the centre that reads as zero.
    pub dead_zone: f64,
    /// 0 is linear, 1 is cubic: finer control near the centre.
    pub expo: f64,
    /// Top speed as a fraction of full (the speed limit slider).
    pub limit: f64,
    /// Only the larger axis counts: straight lines and spins in place.
    pub axis_lock: bool,
}

impl Default for Shaping {
    fn default() -> Self {
        Shaping { dead_zone: 0.08, expo: 0.3, limit: 1.0, axis_lock: false }
    }
}

fn unit(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// A stick position (each axis -1..=1, right and up positive) shaped for driving. The dead zone
/// is radial, so diagonals are not cut, and output rises smoothly from zero at its edge.
pub fn shape_stick(x: f64, y: f64, s: &Shaping) -> (f64, f64) {
    let (mut x, mut y) = (unit(x), unit(y));
    if s.axis_lock {
        if x.abs() >= y.abs() {
            y = 0.0;
        } else {
            x = 0.0;
        }
    }
    let mag = x.hypot(y);
    let dz = s.dead_zone.clamp(0.0, 0.95);
    if mag <= dz {
        return (0.0, 0.0);
    }
    let scaled = (mag.min(1.0) - dz) / (1.0 - dz);
    let e = s.expo.clamp(0.0, 1.0);
    let curved = (1.0 - e) * scaled + e * scaled.powi(3);
    let k = curved * s.limit.clamp(0.0, 1.0) / mag;
    (x * k, y * k)
}

/// A D-pad direction (each axis -1, 0 or 1) at the speed limit; diagonals are as fast as straight.
pub fn shape_dpad(x: i8, y: i8, s: &Shaping) -> (f64, f64) {
    let (x, y) = (f64::from(x.signum()), f64::from(y.signum()));
    let mag = x.hypot(y);
    if mag == 0.0 {
        return (0.0, 0.0);
    }
    let k = s.limit.clamp(0.0, 1.0) / mag;
    (x * k, y * k)
}

/// Arcade mixing: one stick steers and throttles. Full right spins in place; forward-right turns
/// around the right wheel. Wheels are scaled down together when either would pass full, so the
/// turn keeps its shape.
pub fn arcade(x: f64, y: f64) -> (f64, f64) {
    let (l, r) = (y + x, y - x);
    let over = l.abs().max(r.abs());
    if over > 1.0 {
        (l / over, r / over)
    } else {
        (l, r)
    }
}

/// Integer units on the wire, -1000..=1000.
pub fn to_wire(v: f64) -> i16 {
    let full = f64::from(FULL);
    (unit(v) * full).round() as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINEAR: Shaping = Shaping { dead_zone: 0.0, expo: 0.0, limit: 1.0, axis_lock: false };

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9
    }

    #[test]
    fn dead_zone_is_radial_and_output_starts_at_zero_at_its_edge() {
        let s = Shaping { expo: 0.0, ..Shaping::default() };
        assert_eq!(shape_stick(0.05, 0.05, &s), (0.0, 0.0));
        assert_eq!(shape_stick(0.0, 0.08, &s), (0.0, 0.0));
        let just_out = shape_stick(0.0, 0.09, &s).1;
        assert!(just_out > 0.0 && just_out < 0.02, "{just_out}");
        assert!(close(shape_stick(0.0, 1.0, &s), (0.0, 1.0)));
        assert!(close(shape_stick(-1.0, 0.0, &s), (-1.0, 0.0)));
        // A diagonal keeps its direction.
        let (x, y) = shape_stick(0.5, 0.5, &s);
        assert!((x - y).abs() < 1e-12 && x > 0.0);
    }

    #[test]
    fn expo_softens_the_middle_but_keeps_the_ends() {
        let s = Shaping { dead_zone: 0.0, expo: 1.0, ..Shaping::default() };
        assert!(close(shape_stick(0.0, 0.5, &s), (0.0, 0.125)));
        assert!(close(shape_stick(0.0, -1.0, &s), (0.0, -1.0)));
        let half = Shaping { expo: 0.5, ..s };
        assert!(close(shape_stick(0.0, 0.5, &half), (0.0, 0.5 * 0.5 + 0.5 * 0.125)));
    }

    #[test]
    fn speed_limit_scales_everything() {
        let s = Shaping { limit: 0.4, ..LINEAR };
        assert!(close(shape_stick(0.0, 1.0, &s), (0.0, 0.4)));
        assert!(close(shape_dpad(1, 0, &s), (0.4, 0.0)));
    }

    #[test]
    fn axis_lock_keeps_the_larger_axis() {
        let s = Shaping { axis_lock: true, ..LINEAR };
        assert!(close(shape_stick(0.3, 0.9, &s), (0.0, 0.9)));
        assert!(close(shape_stick(-0.8, 0.2, &s), (-0.8, 0.0)));
    }

    #[test]
    fn out_of_range_and_nan_inputs_are_safe() {
        assert!(close(shape_stick(5.0, 0.0, &LINEAR), (1.0, 0.0)));
        assert_eq!(shape_stick(f64::NAN, f64::INFINITY, &LINEAR).0, 0.0);
        assert_eq!(to_wire(f64::NAN), 0);
        assert_eq!(to_wire(2.0), 1000);
        assert_eq!(to_wire(-0.4567), -457);
    }

    #[test]
    fn dpad_diagonals_are_full_speed_and_normalised() {
        let (x, y) = shape_dpad(1, 1, &LINEAR);
        assert!((x.hypot(y) - 1.0).abs() < 1e-12);
        assert_eq!(shape_dpad(0, 0, &LINEAR), (0.0, 0.0));
        assert_eq!(shape_dpad(0, -5, &LINEAR), (0.0, -1.0));
    }

    #[test]
    fn arcade_mixing_covers_the_cases_a_driver_feels() {
        assert_eq!(arcade(0.0, 1.0), (1.0, 1.0), "forward");
        assert_eq!(arcade(0.0, -1.0), (-1.0, -1.0), "reverse");
        assert_eq!(arcade(1.0, 0.0), (1.0, -1.0), "spin right");
        assert_eq!(arcade(-0.5, 0.0), (-0.5, 0.5), "slow spin left");
        let (l, r) = arcade(0.5, 0.5);
        assert!(close((l, r), (1.0, 0.0)), "forward-right pivots on the right wheel");
        // Normalised: never past full, ratio kept.
        for (x, y) in [(1.0, 1.0), (-1.0, 0.7), (0.3, -1.0)] {
            let (l, r) = arcade(x, y);
            assert!(l.abs() <= 1.0 && r.abs() <= 1.0);
            assert!(l.abs().max(r.abs()) > 0.999);
        }
    }
}
