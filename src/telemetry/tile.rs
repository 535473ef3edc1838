//! What one tile shows for a series at a moment: pure, so that every reading kind is tested
//! without a browser.

use crate::series::format::{ago, format_reading, format_value_with, NONE};
use crate::series::Series;
use wsdeck_protocol::Reading;

/// A tile whose series sent nothing for this long is shown as stale, as are all tiles while the
/// link is down.
pub const STALE_MS: f64 = 3000.0;

/// A tile's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The big text: a number, `on`/`off`, text, or a dash for a gap.
    pub value: String,
    /// Small, under a gap: the last good value and when it came (`21.5 · 12 s ago`).
    pub note: Option<String>,
    /// The unit goes after numbers only.
    pub unit: bool,
    pub stale: bool,
}

pub fn shown(s: &Series, now_ms: f64, linked: bool) -> Shown {
    let stale = !linked || now_ms - s.at_ms > STALE_MS;
    let good = match s.value {
        Reading::Gap => None,
        _ => Some(format_reading(&s.value, s.whole)),
    };
    if s.gap {
        let note = good.map(|v| format!("{v} · {}", ago(now_ms - s.value_at_ms)));
        return Shown { value: NONE.to_string(), note, unit: false, stale };
    }
    let value = match &s.value {
        Reading::Num(v) => format_value_with(*v, s.whole, s.decimals),
        _ => good.unwrap_or_else(|| NONE.to_string()),
    };
    Shown { value, note: None, unit: matches!(s.value, Reading::Num(_)), stale }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::SeriesSet;
    use wsdeck_protocol::Telemetry;

    fn series(readings: &[(f64, Reading)]) -> SeriesSet {
        let mut set = SeriesSet::default();
        for (at, r) in readings {
            set.push(Telemetry { values: vec![("x".into(), r.clone())], ..Telemetry::default() }, *at);
        }
        set
    }

    fn show(readings: &[(f64, Reading)], now: f64) -> Shown {
        shown(series(readings).get("x").unwrap(), now, true)
    }

    #[test]
    fn numbers_show_as_before_with_their_unit() {
        let s = show(&[(0.0, Reading::Num(21.537))], 100.0);
        assert_eq!(s, Shown { value: "21.537".into(), note: None, unit: true, stale: false }, "as sent");
        assert_eq!(show(&[(0.0, Reading::Num(1013.25))], 0.0).value, "1013.25", "not rounded to 1013.2");
        assert_eq!(show(&[(0.0, Reading::Num(21.5))], 0.0).value, "21.50");
        assert_eq!(show(&[(0.0, Reading::Num(-51.0))], 0.0).value, "-51");
    }

    #[test]
    fn a_gap_shows_a_dash_and_when_the_last_good_value_came() {
        let s = show(&[(1000.0, Reading::Num(21.5)), (2000.0, Reading::Gap)], 13_500.0);
        assert_eq!(s.value, "–");
        assert_eq!(s.note.as_deref(), Some("21.50 · 12 s ago"));
        assert!(!s.unit, "no unit after a dash");
        assert!(s.stale, "nothing came for 11.5 s");
        let never = show(&[(0.0, Reading::Gap)], 10.0);
        assert_eq!((never.value.as_str(), never.note), ("–", None));
    }

    #[test]
    fn on_off_and_text_tiles_say_what_came() {
        let on = show(&[(0.0, Reading::Bool(true))], 0.0);
        assert_eq!((on.value.as_str(), on.unit), ("on", false));
        assert_eq!(show(&[(0.0, Reading::Bool(false))], 0.0).value, "off");
        let text = show(&[(0.0, Reading::Text("IDLE".into()))], 0.0);
        assert_eq!((text.value.as_str(), text.unit), ("IDLE", false));
        let gap = show(&[(0.0, Reading::Bool(true)), (500.0, Reading::Gap)], 2500.0);
        assert_eq!((gap.value.as_str(), gap.note.as_deref()), ("–", Some("on · 2 s ago")));
    }

    #[test]
    fn stale_when_silent_or_unlinked() {
        let set = series(&[(0.0, Reading::Num(1.0))]);
        let x = set.get("x").unwrap();
        assert!(!shown(x, STALE_MS, true).stale);
        assert!(shown(x, STALE_MS + 1.0, true).stale);
        assert!(shown(x, 0.0, false).stale);
    }
}
