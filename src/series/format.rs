//! Readings as text, the same on tiles, chart headers and the crosshair readout.

use wsdeck_protocol::Reading;

/// A dash: no value.
pub const NONE: &str = "–";

/// A number as a tile shows it: a series of whole numbers without decimals, others with fewer
/// decimals as they grow (so that a value does not change width when it happens to be whole),
/// very large or small ones in exponent form.
pub fn format_value(v: f64, whole: bool) -> String {
    if !v.is_finite() {
        return NONE.to_string();
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

/// A number as a tile shows it: as [`format_value`], with at least `decimals` decimals where it
/// has a fixed point (a device that sends `1013.25` sees `1013.25`, not `1013.2`).
pub fn format_value_with(v: f64, whole: bool, decimals: u8) -> String {
    let a = v.abs();
    let fixed = v.is_finite() && !whole && (a == 0.0 || (1e-3..1e6).contains(&a));
    let shown = format_value(v, whole);
    if !fixed {
        return shown;
    }
    let has = shown.split_once('.').map_or(0, |(_, f)| f.len());
    let want = usize::from(decimals.min(3));
    if want > has {
        format!("{v:.want$}")
    } else {
        shown
    }
}

/// How many decimals the shortest decimal form of `v` has, up to 3 (more reads as 3): what the
/// device most likely sent. No allocation: it runs for every sample.
pub fn sent_decimals(v: f64) -> u8 {
    if !v.is_finite() {
        return 0;
    }
    let mut scaled = v;
    for k in 0..3u8 {
        if (scaled - scaled.round()).abs() <= 1e-9 * scaled.abs().max(1.0) {
            return k;
        }
        scaled *= 10.0;
    }
    3
}

/// An on/off state in words.
pub fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

/// A charted sample of an on/off series (0 or 1) in words; a gap (NaN) is a dash.
pub fn on_off_sample(v: f64) -> &'static str {
    if v.is_nan() {
        NONE
    } else {
        on_off(v >= 0.5)
    }
}

/// Text readings are cut to this many characters on a tile (a device may send a whole page).
const MAX_TEXT_CHARS: usize = 48;

/// Any reading: numbers as [`format_value`], on/off in words, text as it came (cut short), a
/// gap as a dash.
pub fn format_reading(r: &Reading, whole: bool) -> String {
    match r {
        Reading::Num(v) => format_value(*v, whole),
        Reading::Bool(b) => on_off(*b).to_string(),
        Reading::Text(t) if t.chars().count() > MAX_TEXT_CHARS => {
            let cut: String = t.chars().take(MAX_TEXT_CHARS - 1).collect();
            format!("{cut}…")
        }
        Reading::Text(t) => t.clone(),
        Reading::Gap => NONE.to_string(),
    }
}

/// How long ago, short: `now`, `12 s ago`, `3 min ago`, `2 h ago`.
pub fn ago(ms: f64) -> String {
    let s = (ms.max(0.0) / 1000.0).floor();
    if s < 1.0 {
        "now".to_string()
    } else if s < 120.0 {
        format!("{s:.0} s ago")
    } else if s < 7200.0 {
        format!("{:.0} min ago", (s / 60.0).floor())
    } else {
        format!("{:.0} h ago", (s / 3600.0).floor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_is_never_shown_with_fewer_decimals_than_it_came_with() {
        assert_eq!(sent_decimals(1013.25), 2);
        assert_eq!(sent_decimals(23.12), 2);
        assert_eq!(sent_decimals(45.2), 1);
        assert_eq!(sent_decimals(40.0), 0);
        assert_eq!(sent_decimals(7.412_345_6), 3);
        assert_eq!(format_value_with(1013.25, false, 2), "1013.25");
        assert_eq!(format_value_with(1013.2, false, 2), "1013.20", "the width stays");
        assert_eq!(format_value_with(23.12, false, 2), "23.12");
        assert_eq!(format_value_with(3.9, false, 1), "3.900", "never fewer than before");
        assert_eq!(format_value_with(40.0, true, 0), "40");
        assert_eq!(format_value_with(1.5e7, false, 3), "1.500e7");
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
    fn every_reading_has_words() {
        assert_eq!(format_reading(&Reading::Num(21.5), false), "21.50");
        assert_eq!(format_reading(&Reading::Bool(true), false), "on");
        assert_eq!(format_reading(&Reading::Bool(false), true), "off");
        assert_eq!(format_reading(&Reading::Text("12:03:04".into()), false), "12:03:04");
        assert_eq!(format_reading(&Reading::Gap, false), "–");
        let long = format_reading(&Reading::Text("温".repeat(10_000)), false);
        assert_eq!(long.chars().count(), MAX_TEXT_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!((on_off_sample(1.0), on_off_sample(0.0), on_off_sample(f64::NAN)), ("on", "off", "–"));
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(ago(400.0), "now");
        assert_eq!(ago(-5.0), "now");
        assert_eq!(ago(12_300.0), "12 s ago");
        assert_eq!(ago(185_000.0), "3 min ago");
        assert_eq!(ago(3.0 * 3600e3), "3 h ago");
    }
}
