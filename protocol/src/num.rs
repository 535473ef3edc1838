//! Decimal text to `f64`.
//!
//! By default this is `core`'s `f64::from_str`: correctly rounded, so every number survives a
//! round trip. That exactness costs the app's wasm 14 KB gzip (a 10 KB table of powers of five
//! and the big-number fallback), which the app cannot afford in a device's flash. With the
//! `compact-float` feature (the app turns it on for its wasm build only) numbers are read by
//! `compact` instead: exact for what devices send (up to 15 significant digits and a power of
//! ten up to 22, Clinger's fast path), within a few units in the last place otherwise. Plots and
//! tiles cannot show the difference; nothing reads a number from the app back exactly.

/// Decimal text (`-12.5`, `3e-4`, `+7`, `.5`, `5.`) to a finite `f64`; `None` for anything else,
/// including numbers too large for an `f64`.
pub fn parse_f64(text: &str) -> Option<f64> {
    #[cfg(feature = "compact-float")]
    let n = compact(text);
    #[cfg(not(feature = "compact-float"))]
    let n = text.parse::<f64>().ok();
    n.filter(|n| n.is_finite())
}

/// Exact powers of ten in an `f64`: 10^22 is the largest.
#[cfg(any(test, feature = "compact-float"))]
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// The reader behind `compact-float` (its tests run in every build).
#[cfg(any(test, feature = "compact-float"))]
fn compact(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    // Up to 19 significant digits are kept (they fit a u64); later ones only move the point.
    let mut mantissa: u64 = 0;
    let mut kept = 0u32;
    let mut exp10: i64 = 0;
    let mut any_digit = false;
    let mut after_point = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                any_digit = true;
                if mantissa == 0 && c == b'0' {
                    // Leading zeros carry no digits.
                    if after_point {
                        exp10 -= 1;
                    }
                } else if kept < 19 {
                    mantissa = mantissa * 10 + u64::from(c - b'0');
                    kept += 1;
                    if after_point {
                        exp10 -= 1;
                    }
                } else if !after_point {
                    exp10 += 1;
                }
            }
            b'.' if !after_point => after_point = true,
            _ => break,
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let exp_neg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            e = (e * 10 + i64::from(c - b'0')).min(100_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp10 += if exp_neg { -e } else { e };
    }
    if i != b.len() {
        return None;
    }
    let mut n = mantissa as f64;
    if mantissa == 0 || exp10 < -400 {
        n = 0.0;
    } else if exp10 > 400 {
        n = f64::INFINITY;
    } else {
        // One correctly rounded multiply or divide by an exact power of ten when both fit (exact
        // for mantissas up to 2^53); a few more, each rounding once, when they do not.
        let mut e = exp10;
        while e > 22 {
            n *= POW10[22];
            e -= 22;
        }
        while e < -22 {
            n /= POW10[22];
            e += 22;
        }
        if e >= 0 {
            n *= POW10[e as usize];
        } else {
            n /= POW10[(-e) as usize];
        }
    }
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutate::Mutator;
    use alloc::format;
    use alloc::string::String;

    #[test]
    fn reads_what_devices_send_exactly() {
        for text in [
            "0",
            "-0",
            "1",
            "-1",
            "12.5",
            "0.001",
            "23.456",
            "-273.15",
            "1e5",
            "1E-5",
            "3.3e+2",
            "9007199254740992",
            "123456789012345",
            "0.1",
            "0.2",
            "0.3",
            "1e22",
            "1e-22",
            "4.35",
            "100.0",
            "+7",
            ".5",
            "5.",
            "00012.50",
            "0.000123456789",
            "65535",
            "-32768",
        ] {
            let exact: f64 = text.parse().unwrap();
            assert_eq!(compact(text).map(f64::to_bits), Some(exact.to_bits()), "{text}");
        }
    }

    #[test]
    fn is_close_for_any_number() {
        let mut rng = Mutator::new(7);
        for i in 0..20_000u32 {
            let n = if i % 2 == 0 {
                f64::from_bits(rng.next_u64())
            } else {
                (rng.next_u64() % 2_000_000) as f64 / 10f64.powi((i % 40) as i32 - 20)
            };
            if !n.is_finite() {
                continue;
            }
            for text in [format!("{n}"), format!("{n:e}"), format!("{n:.3}")] {
                let exact: f64 = text.parse().unwrap();
                let got = compact(&text).unwrap();
                let tolerance = exact.abs() * 1e-14;
                // Subnormals have fewer digits to be exact in.
                if exact.abs() > 1e-300 {
                    assert!((got - exact).abs() <= tolerance, "{text}: {got} vs {exact}");
                } else {
                    assert!((got - exact).abs() <= 1e-300, "{text}: {got} vs {exact}");
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        for text in
            ["", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "12a", "--1", "1 ", " 1", "0x10", "inf", "NaN"]
        {
            assert_eq!(compact(text), None, "{text:?}");
        }
        assert_eq!(parse_f64("1e400"), None);
        assert_eq!(compact("1e-400"), Some(0.0));
        let long: String = core::iter::repeat_n('9', 400).collect();
        assert_eq!(compact(&long), Some(f64::INFINITY));
        assert_eq!(parse_f64(&long), None);
    }
}
