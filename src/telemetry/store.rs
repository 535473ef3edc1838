//! The latest value of every series a device streams, kept outside the reactive graph: frames
//! arrive at up to 1 kHz, the tiles redraw a few times a second.

use wsdeck_protocol::Telemetry;

/// A device that sends thousands of distinct keys cannot grow the page without bound.
pub const MAX_SERIES: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub value: f64,
    /// Arrival time (monotonic ms).
    pub at_ms: f64,
    pub samples: u64,
    /// Every value so far was a whole number (a counter, dBm): shown without decimals.
    pub whole: bool,
}

#[derive(Debug, Default)]
pub struct Latest {
    series: Vec<Series>,
    changed: bool,
    /// Keys dropped because [`MAX_SERIES`] was reached.
    pub dropped_keys: u64,
}

impl Latest {
    pub fn push(&mut self, tel: &Telemetry, now_ms: f64) {
        for (name, value) in tel.values.iter().filter_map(|(n, r)| Some((n, r.as_f64()?))) {
            let value = &value;
            let full = self.series.len() >= MAX_SERIES;
            match self.series.iter_mut().find(|s| &s.name == name) {
                Some(s) => {
                    s.value = *value;
                    s.at_ms = now_ms;
                    s.samples += 1;
                    s.whole &= value.fract() == 0.0;
                }
                None if !full => self.series.push(Series {
                    name: name.clone(),
                    value: *value,
                    at_ms: now_ms,
                    samples: 1,
                    whole: value.fract() == 0.0,
                }),
                None => self.dropped_keys += 1,
            }
            self.changed = true;
        }
    }

    /// Series in the order they first appeared.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// True once after any change.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    pub fn clear(&mut self) {
        self.series.clear();
        self.changed = true;
    }
}

/// A reading as a tile shows it: a series of whole numbers without decimals, others with fewer
/// decimals as they grow (so that a value does not change width when it happens to be whole),
/// very large or small ones in exponent form.
pub fn format_value(v: f64, whole: bool) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let a = v.abs();
    if whole && a < 1e15 {
        format!("{v:.0}")
    } else if !(1e-3..1e6).contains(&a) && a != 0.0 {
        format!("{v:.3e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_protocol::Reading;

    fn tel(values: &[(&str, f64)]) -> Telemetry {
        Telemetry {
            ms: Some(5.0),
            values: values.iter().map(|(k, v)| (k.to_string(), Reading::Num(*v))).collect(),
            ..Telemetry::default()
        }
    }

    #[test]
    fn keeps_latest_value_in_first_seen_order() {
        let mut l = Latest::default();
        l.push(&tel(&[("temp", 21.5), ("speed", 0.4)]), 10.0);
        l.push(&tel(&[("rpm", 900.0), ("temp", 22.0)]), 20.0);
        let names: Vec<&str> = l.series().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["temp", "speed", "rpm"]);
        assert_eq!(l.series()[0].value, 22.0);
        assert_eq!(l.series()[0].samples, 2);
        assert_eq!(l.series()[0].at_ms, 20.0);
        assert_eq!(l.series()[1].at_ms, 10.0);
    }

    #[test]
    fn reports_changes_once() {
        let mut l = Latest::default();
        assert!(!l.take_changed());
        l.push(&tel(&[("a", 1.0)]), 0.0);
        assert!(l.take_changed());
        assert!(!l.take_changed());
        l.push(&tel(&[]), 0.0);
        assert!(!l.take_changed());
    }

    #[test]
    fn caps_the_number_of_series() {
        let mut l = Latest::default();
        for i in 0..100 {
            l.push(&tel(&[(&format!("k{i}"), 1.0)]), 0.0);
        }
        assert_eq!(l.series().len(), MAX_SERIES);
        assert_eq!(l.dropped_keys, 100 - MAX_SERIES as u64);
    }

    #[test]
    fn values_read_well() {
        assert_eq!(format_value(40.0, true), "40");
        assert_eq!(format_value(-3.0, true), "-3");
        assert_eq!(format_value(80.0, false), "80.00");
        assert_eq!(format_value(0.0, false), "0.000");
        assert_eq!(format_value(21.537, false), "21.54");
        assert_eq!(format_value(7.4123, false), "7.412");
        assert_eq!(format_value(123.456, false), "123.5");
        assert_eq!(format_value(0.0001234, false), "1.234e-4");
        assert_eq!(format_value(12345678.9, false), "1.235e7");
        assert_eq!(format_value(f64::NAN, true), "–");
    }

    #[test]
    fn a_series_stays_whole_until_a_fraction_arrives() {
        let mut l = Latest::default();
        l.push(&tel(&[("rssi", -51.0), ("dist", 80.0)]), 0.0);
        l.push(&tel(&[("rssi", -52.0), ("dist", 80.5)]), 1.0);
        l.push(&tel(&[("dist", 80.0)]), 2.0);
        assert!(l.series()[0].whole);
        assert!(!l.series()[1].whole);
    }
}
