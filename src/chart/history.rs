//! Every series' recent history, for the charts: one ring buffer per series, fed with each
//! telemetry frame. Device time (`ms`) when the frame has it, arrival time otherwise.

use super::ring::{Ring, DEFAULT_CAPACITY};
use crate::telemetry::store::MAX_SERIES;
use wsdeck_protocol::Telemetry;

#[derive(Debug, Default)]
pub struct History {
    series: Vec<(String, Ring)>,
    /// Bumped on every change: the chart loop redraws when it moved.
    version: u64,
}

impl History {
    pub fn push(&mut self, tel: &Telemetry, now_ms: f64) {
        let t = tel.ms.unwrap_or(now_ms);
        for (name, value) in tel.values.iter().filter_map(|(n, r)| Some((n, r.as_f64()?))) {
            let value = &value;
            let index = match self.series.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None if self.series.len() < MAX_SERIES => {
                    self.series.push((name.clone(), Ring::new(DEFAULT_CAPACITY)));
                    self.series.len() - 1
                }
                None => continue,
            };
            self.series[index].1.push(t, *value);
        }
        if !tel.values.is_empty() {
            self.version += 1;
        }
    }

    pub fn get(&self, name: &str) -> Option<&Ring> {
        self.series.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.series.iter().map(|(n, _)| n.as_str())
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn clear(&mut self) {
        self.series.clear();
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_protocol::Reading;

    fn tel(ms: Option<f64>, values: &[(&str, f64)]) -> Telemetry {
        Telemetry {
            ms,
            values: values.iter().map(|(k, v)| (k.to_string(), Reading::Num(*v))).collect(),
            ..Telemetry::default()
        }
    }

    #[test]
    fn device_time_when_present_arrival_time_otherwise() {
        let mut h = History::default();
        h.push(&tel(Some(5000.0), &[("a", 1.0)]), 10.0);
        h.push(&tel(None, &[("b", 2.0)]), 20.0);
        assert_eq!(h.get("a").unwrap().last(), Some((5000.0, 1.0)));
        assert_eq!(h.get("b").unwrap().last(), Some((20.0, 2.0)));
        assert_eq!(h.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(h.version(), 2);
    }

    #[test]
    fn empty_frames_change_nothing() {
        let mut h = History::default();
        h.push(&tel(None, &[]), 0.0);
        assert_eq!(h.version(), 0);
    }
}
