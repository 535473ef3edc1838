//! Driving preferences of this phone, the same for every device: control layout, speed limit,
//! send rate, axis lock. What depends on the device (plain words, extra words) is kept per
//! device address in [`crate::device::prefs`].

use super::controller::Mode;
use crate::dom;

const MODE: &str = "wsdeck.drive.mode";
const LIMIT: &str = "wsdeck.drive.limit";
const RATE: &str = "wsdeck.drive.rate";
const AXIS_LOCK: &str = "wsdeck.drive.axis_lock";

#[derive(Debug, Clone, PartialEq)]
pub struct DrivePrefs {
    pub mode: Mode,
    /// Speed limit, 0.1..=1.
    pub limit: f64,
    /// Motion frames per second, 5..=100.
    pub rate_hz: f64,
    pub axis_lock: bool,
}

impl Default for DrivePrefs {
    fn default() -> Self {
        DrivePrefs {
            mode: Mode::Stick,
            limit: 1.0,
            rate_hz: super::sender::DEFAULT_RATE_HZ,
            axis_lock: false,
        }
    }
}

impl DrivePrefs {
    pub fn load() -> DrivePrefs {
        Self::parse(
            dom::storage_get(MODE).as_deref(),
            dom::storage_get(LIMIT).as_deref(),
            dom::storage_get(RATE).as_deref(),
            dom::storage_get(AXIS_LOCK).as_deref(),
        )
    }

    /// Reads stored values; anything missing or unreadable keeps its default.
    pub fn parse(
        mode: Option<&str>,
        limit: Option<&str>,
        rate: Option<&str>,
        axis_lock: Option<&str>,
    ) -> DrivePrefs {
        let d = DrivePrefs::default();
        let num = |s: Option<&str>, lo: f64, hi: f64| {
            s.and_then(wsdeck_protocol::parse_f64).filter(|v| (lo..=hi).contains(v))
        };
        DrivePrefs {
            mode: mode.and_then(Mode::from_slug).unwrap_or(d.mode),
            limit: num(limit, 0.1, 1.0).unwrap_or(d.limit),
            rate_hz: num(rate, 5.0, 100.0).unwrap_or(d.rate_hz),
            axis_lock: axis_lock == Some("1"),
        }
    }

    pub fn save_axis_lock(on: bool) {
        dom::storage_set(AXIS_LOCK, on.then_some("1"));
    }

    pub fn save_mode(mode: Mode) {
        dom::storage_set(MODE, Some(mode.slug()));
    }

    pub fn save_limit(limit: f64) {
        dom::storage_set(LIMIT, Some(&limit.to_string()));
    }

    pub fn save_rate(rate_hz: f64) {
        dom::storage_set(RATE, Some(&rate_hz.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_read_and_bad_ones_ignored() {
        let s = DrivePrefs::parse(Some("tank"), Some("0.5"), Some("50"), Some("1"));
        assert_eq!(s, DrivePrefs { mode: Mode::Tank, limit: 0.5, rate_hz: 50.0, axis_lock: true });
        let bad = DrivePrefs::parse(Some("fly"), Some("7"), Some("x"), Some("yes"));
        assert_eq!(bad, DrivePrefs::default());
        assert_eq!(DrivePrefs::parse(None, Some("NaN"), Some("1e9"), None), DrivePrefs::default());
    }
}
