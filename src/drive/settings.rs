//! Driving preferences, remembered on the phone: control layout, speed limit, send rate, and the
//! words of a tutorial car's text dialect.

use super::controller::{Dialect, Mode};
use crate::dom;

const MODE: &str = "wsdeck.drive.mode";
const LIMIT: &str = "wsdeck.drive.limit";
const RATE: &str = "wsdeck.drive.rate";
const WORDS: &str = "wsdeck.drive.words";
const AXIS_LOCK: &str = "wsdeck.drive.axis_lock";

#[derive(Debug, Clone, PartialEq)]
pub struct DriveSettings {
    pub mode: Mode,
    /// Speed limit, 0.1..=1.
    pub limit: f64,
    /// Motion frames per second, 5..=100.
    pub rate_hz: f64,
    pub dialect: Dialect,
    pub axis_lock: bool,
}

impl Default for DriveSettings {
    fn default() -> Self {
        DriveSettings {
            mode: Mode::Stick,
            limit: 1.0,
            rate_hz: super::sender::DEFAULT_RATE_HZ,
            dialect: Dialect::Json,
            axis_lock: false,
        }
    }
}

impl DriveSettings {
    pub fn load() -> DriveSettings {
        let mut s = Self::parse(
            dom::storage_get(MODE).as_deref(),
            dom::storage_get(LIMIT).as_deref(),
            dom::storage_get(RATE).as_deref(),
            dom::storage_get(WORDS).as_deref(),
        );
        s.axis_lock = dom::storage_get(AXIS_LOCK).is_some_and(|v| v == "1");
        s
    }

    pub fn save_axis_lock(on: bool) {
        dom::storage_set(AXIS_LOCK, on.then_some("1"));
    }

    /// Reads stored values; anything missing or unreadable keeps its default.
    pub fn parse(
        mode: Option<&str>,
        limit: Option<&str>,
        rate: Option<&str>,
        words: Option<&str>,
    ) -> DriveSettings {
        let d = DriveSettings::default();
        let num = |s: Option<&str>, lo: f64, hi: f64| {
            s.and_then(wsdeck_protocol::parse_f64).filter(|v| (lo..=hi).contains(v))
        };
        DriveSettings {
            mode: mode.and_then(Mode::from_slug).unwrap_or(d.mode),
            limit: num(limit, 0.1, 1.0).unwrap_or(d.limit),
            rate_hz: num(rate, 5.0, 100.0).unwrap_or(d.rate_hz),
            dialect: words.and_then(parse_words).map(Dialect::Words).unwrap_or(Dialect::Json),
            axis_lock: d.axis_lock,
        }
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

    /// `None` switches back to protocol v1.
    pub fn save_words(words: Option<&[String; 5]>) {
        dom::storage_set(WORDS, words.map(|w| w.join(",")).as_deref());
    }
}

/// `up,down,left,right,stop` (five non-empty words, commas between).
pub fn parse_words(s: &str) -> Option<[String; 5]> {
    let words: Vec<String> = s.split(',').map(|w| w.trim().to_string()).collect();
    if words.len() != 5 || words.iter().any(|w| w.is_empty()) {
        return None;
    }
    words.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_are_read_and_bad_ones_ignored() {
        let s = DriveSettings::parse(Some("tank"), Some("0.5"), Some("50"), Some("F, B, L, R, S"));
        assert_eq!(s.mode, Mode::Tank);
        assert_eq!(s.limit, 0.5);
        assert_eq!(s.rate_hz, 50.0);
        assert_eq!(s.dialect, Dialect::Words(["F", "B", "L", "R", "S"].map(String::from)));
        let bad = DriveSettings::parse(Some("fly"), Some("7"), Some("x"), Some("up,down"));
        assert_eq!(bad, DriveSettings::default());
    }

    #[test]
    fn words_need_all_five() {
        assert!(parse_words("up,down,left,right,stop").is_some());
        assert!(parse_words("up,down,left,right,").is_none());
        assert!(parse_words("up,down,left,right,stop,jump").is_none());
    }
}
