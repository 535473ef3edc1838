//! Every series a device streams, in one store that the tiles and the charts both read: per
//! series its kind, latest reading, last good value and a ring buffer of samples to chart. Kept
//! outside the reactive graph: frames arrive at up to 1 kHz, the page redraws when
//! [`SeriesSet::version`] moved.

pub mod format;

use crate::chart::ring::{Ring, DEFAULT_CAPACITY};
use wsdeck_protocol::{Reading, Telemetry};

/// A device that sends thousands of distinct keys cannot grow the page without bound.
pub const MAX_SERIES: usize = 64;

/// What a series holds; it follows the last reading that was not a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Charted as a line.
    Number,
    /// Charted as a step between off (0) and on (1).
    OnOff,
    /// Shown on its tile, not charted.
    Text,
}

impl Kind {
    fn of(reading: &Reading) -> Option<Kind> {
        match reading {
            Reading::Num(_) => Some(Kind::Number),
            Reading::Bool(_) => Some(Kind::OnOff),
            Reading::Text(_) => Some(Kind::Text),
            Reading::Gap => None,
        }
    }

    /// Number and on/off series have a chart.
    pub fn charted(self) -> bool {
        self != Kind::Text
    }
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub kind: Kind,
    /// The last good reading (never [`Reading::Gap`] unless none came yet).
    pub value: Reading,
    /// When `value` arrived (monotonic ms).
    pub value_at_ms: f64,
    /// The latest reading was a gap: tiles show a dash, and when `value` came.
    pub gap: bool,
    /// When the latest reading, good or not, arrived.
    pub at_ms: f64,
    pub samples: u64,
    /// Every number so far was whole (a counter, dBm): shown without decimals.
    pub whole: bool,
    /// The most decimals a number of this series was sent with, up to 3 (`1013.25`: 2): tiles
    /// show at least these, so a reading is never shown rounded from what the device sent.
    pub decimals: u8,
    /// The samples to chart, for number and on/off series; a gap is a NaN sample.
    ring: Option<Ring>,
}

impl Series {
    fn new(name: String, now_ms: f64) -> Series {
        Series {
            name,
            kind: Kind::Number,
            value: Reading::Gap,
            value_at_ms: now_ms,
            gap: true,
            at_ms: now_ms,
            samples: 0,
            whole: true,
            decimals: 0,
            ring: Some(Ring::new(DEFAULT_CAPACITY)),
        }
    }

    /// The latest reading as it came: a gap, or the last good value.
    pub fn latest(&self) -> &Reading {
        if self.gap {
            &Reading::Gap
        } else {
            &self.value
        }
    }

    /// The samples to chart (`None` for text). A NaN value is a gap: the line breaks there.
    pub fn ring(&self) -> Option<&Ring> {
        self.ring.as_ref()
    }

    fn push(&mut self, reading: Reading, t: f64, now_ms: f64) {
        self.samples += 1;
        self.at_ms = now_ms;
        if let Some(kind) = Kind::of(&reading) {
            if kind != self.kind {
                // A different thing now: the old samples would draw nonsense on the new scale.
                self.kind = kind;
                self.whole = true;
                self.decimals = 0;
                self.ring = kind.charted().then(|| Ring::new(DEFAULT_CAPACITY));
            }
        }
        if let Some(ring) = &mut self.ring {
            ring.push(t, reading.as_f64().unwrap_or(f64::NAN));
        }
        if let Reading::Num(v) = reading {
            self.whole &= v.fract() == 0.0;
            self.decimals = self.decimals.max(format::sent_decimals(v));
        }
        self.gap = reading == Reading::Gap;
        if !self.gap {
            self.value = reading;
            self.value_at_ms = now_ms;
        }
    }
}

#[derive(Debug, Default)]
pub struct SeriesSet {
    series: Vec<Series>,
    /// Bumped on every change: the tiles and the chart loop redraw when it moved.
    version: u64,
    /// The version the tiles last saw.
    seen: u64,
    /// Readings dropped because [`MAX_SERIES`] was reached.
    pub dropped_keys: u64,
}

impl SeriesSet {
    /// Takes one frame's readings. Charts use device time (`ms`) when the frame has it, arrival
    /// time otherwise; tiles use arrival time.
    pub fn push(&mut self, tel: Telemetry, now_ms: f64) {
        let t = tel.ms.unwrap_or(now_ms);
        if !tel.values.is_empty() {
            self.version += 1;
        }
        for (name, reading) in tel.values {
            let i = match self.series.iter().position(|s| s.name == name) {
                Some(i) => i,
                None if self.series.len() < MAX_SERIES => {
                    self.series.push(Series::new(name, now_ms));
                    self.series.len() - 1
                }
                None => {
                    self.dropped_keys += 1;
                    continue;
                }
            };
            self.series[i].push(reading, t, now_ms);
        }
    }

    /// Series in the order they first appeared.
    pub fn iter(&self) -> impl Iterator<Item = &Series> {
        self.series.iter()
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    pub fn get(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }

    /// The samples of a charted series.
    pub fn ring(&self, name: &str) -> Option<&Ring> {
        self.get(name)?.ring()
    }

    /// The names of the series that have a chart, in the order they first appeared.
    pub fn charted(&self) -> impl Iterator<Item = &str> {
        self.series.iter().filter(|s| s.kind.charted()).map(|s| s.name.as_str())
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    /// True once after any change.
    pub fn take_changed(&mut self) -> bool {
        let changed = self.seen != self.version;
        self.seen = self.version;
        changed
    }

    /// Forgets the charts' samples; tiles keep their latest values.
    pub fn clear_samples(&mut self) {
        for ring in self.series.iter_mut().filter_map(|s| s.ring.as_mut()) {
            ring.clear();
        }
        self.version += 1;
    }

    /// Forgets every series (another device).
    pub fn clear(&mut self) {
        self.series.clear();
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tel(ms: Option<f64>, values: &[(&str, Reading)]) -> Telemetry {
        Telemetry {
            ms,
            values: values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            ..Telemetry::default()
        }
    }

    fn num(v: f64) -> Reading {
        Reading::Num(v)
    }

    fn samples(set: &SeriesSet, name: &str) -> Vec<(f64, f64)> {
        set.ring(name).map(|r| r.iter().collect()).unwrap_or_default()
    }

    #[test]
    fn keeps_the_latest_value_in_first_seen_order() {
        let mut s = SeriesSet::default();
        s.push(tel(Some(5.0), &[("temp", num(21.5)), ("speed", num(0.4))]), 10.0);
        s.push(tel(Some(6.0), &[("rpm", num(900.0)), ("temp", num(22.0))]), 20.0);
        let names: Vec<&str> = s.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["temp", "speed", "rpm"]);
        let temp = s.get("temp").unwrap();
        assert_eq!((temp.latest(), temp.samples, temp.at_ms), (&num(22.0), 2, 20.0));
        assert_eq!(s.get("speed").unwrap().at_ms, 10.0);
        assert_eq!(samples(&s, "temp"), [(5.0, 21.5), (6.0, 22.0)]);
    }

    #[test]
    fn charts_use_device_time_when_present_arrival_time_otherwise() {
        let mut s = SeriesSet::default();
        s.push(tel(Some(5000.0), &[("a", num(1.0))]), 10.0);
        s.push(tel(None, &[("b", num(2.0))]), 20.0);
        assert_eq!(samples(&s, "a"), [(5000.0, 1.0)]);
        assert_eq!(samples(&s, "b"), [(20.0, 2.0)]);
        assert_eq!(s.charted().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn reports_changes_once_and_ignores_empty_frames() {
        let mut s = SeriesSet::default();
        assert!(!s.take_changed());
        s.push(tel(None, &[("a", num(1.0))]), 0.0);
        assert_eq!(s.version(), 1);
        assert!(s.take_changed());
        assert!(!s.take_changed());
        s.push(tel(None, &[]), 0.0);
        assert!(!s.take_changed());
        assert_eq!(s.version(), 1);
    }

    #[test]
    fn a_gap_breaks_the_chart_keeps_the_last_good_value_and_is_never_zero() {
        let mut s = SeriesSet::default();
        s.push(tel(Some(1.0), &[("t", num(21.5))]), 100.0);
        s.push(tel(Some(2.0), &[("t", Reading::Gap)]), 200.0);
        let t = s.get("t").unwrap();
        assert!(t.gap);
        assert_eq!(t.latest(), &Reading::Gap);
        assert_eq!((&t.value, t.value_at_ms, t.at_ms), (&num(21.5), 100.0, 200.0));
        assert_eq!(t.kind, Kind::Number, "a gap does not change the kind");
        let ring = s.ring("t").unwrap();
        assert_eq!(ring.len(), 2);
        assert!(ring.last().unwrap().1.is_nan(), "a gap is a break in the line, not 0");
        s.push(tel(Some(3.0), &[("t", num(22.0))]), 300.0);
        assert!(!s.get("t").unwrap().gap);
        assert_eq!(s.get("t").unwrap().latest(), &num(22.0));
    }

    #[test]
    fn a_series_that_starts_with_a_gap_has_no_value_yet() {
        let mut s = SeriesSet::default();
        s.push(tel(None, &[("x", Reading::Gap)]), 5.0);
        let x = s.get("x").unwrap();
        assert_eq!((x.latest(), &x.value, x.kind), (&Reading::Gap, &Reading::Gap, Kind::Number));
    }

    #[test]
    fn on_off_is_charted_as_zero_and_one_text_is_not_charted() {
        let mut s = SeriesSet::default();
        s.push(
            tel(Some(1.0), &[("pump", Reading::Bool(true)), ("state", Reading::Text("IDLE".into()))]),
            1.0,
        );
        s.push(
            tel(Some(2.0), &[("pump", Reading::Bool(false)), ("state", Reading::Text("RUN".into()))]),
            2.0,
        );
        assert_eq!(s.get("pump").unwrap().kind, Kind::OnOff);
        assert_eq!(samples(&s, "pump"), [(1.0, 1.0), (2.0, 0.0)]);
        let state = s.get("state").unwrap();
        assert_eq!((state.kind, state.latest()), (Kind::Text, &Reading::Text("RUN".into())));
        assert!(s.ring("state").is_none());
        assert_eq!(s.charted().collect::<Vec<_>>(), ["pump"], "text has no chart");
    }

    #[test]
    fn the_kind_follows_what_arrives_and_starts_a_fresh_chart() {
        let mut s = SeriesSet::default();
        s.push(tel(Some(1.0), &[("m", num(3.0))]), 1.0);
        s.push(tel(Some(2.0), &[("m", num(4.0))]), 2.0);
        s.push(tel(Some(3.0), &[("m", Reading::Text("Error 7".into()))]), 3.0);
        assert_eq!(s.get("m").unwrap().kind, Kind::Text);
        assert!(s.ring("m").is_none());
        s.push(tel(Some(4.0), &[("m", Reading::Bool(true))]), 4.0);
        assert_eq!(s.get("m").unwrap().kind, Kind::OnOff);
        assert_eq!(samples(&s, "m"), [(4.0, 1.0)], "no numbers on the on/off scale");
        s.push(tel(Some(5.0), &[("m", num(0.5))]), 5.0);
        let m = s.get("m").unwrap();
        assert_eq!((m.kind, m.whole, m.samples), (Kind::Number, false, 5));
        assert_eq!(samples(&s, "m"), [(5.0, 0.5)]);
    }

    #[test]
    fn a_series_stays_whole_until_a_fraction_arrives() {
        let mut s = SeriesSet::default();
        s.push(tel(None, &[("rssi", num(-51.0)), ("dist", num(80.0))]), 0.0);
        s.push(tel(None, &[("rssi", num(-52.0)), ("dist", num(80.5)), ("rssi", Reading::Gap)]), 1.0);
        s.push(tel(None, &[("dist", num(80.0))]), 2.0);
        assert!(s.get("rssi").unwrap().whole, "a gap is not a fraction");
        assert!(!s.get("dist").unwrap().whole);
    }

    #[test]
    fn caps_the_number_of_series() {
        let mut s = SeriesSet::default();
        for i in 0..100 {
            s.push(tel(None, &[(&format!("k{i}"), num(1.0))]), 0.0);
        }
        assert_eq!(s.len(), MAX_SERIES);
        assert_eq!(s.dropped_keys, 100 - MAX_SERIES as u64);
        s.push(tel(None, &[("k0", num(2.0))]), 1.0);
        assert_eq!(s.get("k0").unwrap().latest(), &num(2.0), "known series still update");
    }

    #[test]
    fn any_name_is_a_series_of_its_own() {
        let names =
            ["left wheel", "battery (V)", "a.b", "say \"hi\"", "🔋", "温度", "a,b", "line\nbreak", ""];
        let mut s = SeriesSet::default();
        let values: Vec<(&str, Reading)> = names.iter().map(|n| (*n, num(1.0))).collect();
        s.push(tel(None, &values), 0.0);
        assert_eq!(s.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), names);
        assert!(names.iter().all(|n| s.ring(n).is_some_and(|r| r.len() == 1)));
    }

    #[test]
    fn clearing_samples_keeps_the_tiles() {
        let mut s = SeriesSet::default();
        s.push(tel(Some(1.0), &[("a", num(1.0))]), 0.0);
        s.clear_samples();
        assert!(s.ring("a").unwrap().is_empty());
        assert_eq!(s.get("a").unwrap().latest(), &num(1.0));
        s.clear();
        assert!(s.is_empty());
    }
}
