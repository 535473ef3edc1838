//! The simulated device's sensors: plausible, smoothly varying readings with seeded noise, so that
//! a person trying wsdeck sees something alive and tests see exactly repeatable numbers.

/// Sensor series, in the order the device sends them (the car adds wheel speeds and pose).
pub const SERIES: [&str; 4] = ["battery_v", "temp_c", "distance_cm", "rssi_dbm"];

// The protocol crate's xorshift64* (its fuzz mutator's generator): tiny, seeded, good enough for
// sensor noise.
use wsdeck_protocol::mutate::XorShift;

pub struct Model {
    rng: XorShift,
    rssi: f64,
}

impl Model {
    pub fn new(seed: u64) -> Model {
        Model { rng: XorShift::new(seed), rssi: -55.0 }
    }

    /// Readings at `t_ms` milliseconds since the device started.
    pub fn sample(&mut self, t_ms: u64) -> [(&'static str, f64); 4] {
        let t = t_ms as f64 / 1000.0;
        let noise = |rng: &mut XorShift, amp: f64| (rng.next_f64() * 2.0 - 1.0) * amp;
        // A 2S LiPo draining over ~15 minutes, then "recharged".
        let battery = 8.4 - (t % 900.0) / 900.0 * 1.6 + noise(&mut self.rng, 0.01);
        let temp = 24.0 + 3.0 * (t / 60.0).sin() + noise(&mut self.rng, 0.05);
        let distance = 20.0 + 80.0 * (0.5 + 0.5 * (t * 0.7).sin()) + noise(&mut self.rng, 0.5);
        self.rssi = (self.rssi + noise(&mut self.rng, 0.5)).clamp(-80.0, -35.0);
        let round = |v: f64, digits: i32| (v * 10f64.powi(digits)).round() / 10f64.powi(digits);
        [
            (SERIES[0], round(battery, 3)),
            (SERIES[1], round(temp, 2)),
            (SERIES[2], round(distance, 1)),
            (SERIES[3], round(self.rssi, 0)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_readings() {
        let (mut a, mut b) = (Model::new(7), Model::new(7));
        for t in (0..5000).step_by(50) {
            assert_eq!(a.sample(t), b.sample(t));
        }
        assert_ne!(Model::new(7).sample(0), Model::new(8).sample(0));
    }

    #[test]
    fn readings_stay_plausible_for_an_hour() {
        let mut m = Model::new(1);
        for t in (0..3_600_000).step_by(997) {
            let s = m.sample(t);
            assert!((6.7..=8.5).contains(&s[0].1), "battery {}", s[0].1);
            assert!((20.0..=28.0).contains(&s[1].1), "temp {}", s[1].1);
            assert!((19.0..=101.0).contains(&s[2].1), "distance {}", s[2].1);
            assert!((-80.0..=-35.0).contains(&s[3].1));
        }
    }

    #[test]
    fn readings_change_over_time() {
        let mut m = Model::new(1);
        let a = m.sample(0);
        let b = m.sample(1000);
        assert!(a.iter().zip(b.iter()).filter(|(x, y)| x.1 != y.1).count() >= 3);
    }

    #[test]
    fn uniform_noise_is_in_range() {
        let mut r = XorShift::new(0);
        for _ in 0..10_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
