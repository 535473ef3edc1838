//! Draws one series on a canvas: the decimated line (straight onto the canvas: one path of at most
//! four points per pixel column), a light grid, and labels. Colours come from the page's theme.

use super::decimate::{summary, Column};
use crate::telemetry::store::format_value;
use web_sys::CanvasRenderingContext2d;

pub struct Theme {
    pub text: String,
    pub muted: String,
    pub line: String,
    pub accent: String,
}

/// What one chart shows.
pub struct Plot<'a> {
    /// The series' label (its name when the device gave none).
    pub title: &'a str,
    pub unit: &'a str,
    /// The range the device expects; the scale starts there and grows to fit the data.
    pub range: (Option<f64>, Option<f64>),
    pub columns: &'a [Column],
    pub latest: Option<f64>,
    /// Every value was a whole number: labels without decimals.
    pub whole: bool,
    pub window_ms: f64,
}

/// Value range to show: the visible extremes with a margin, never empty, and at least the
/// device's expected range when it gave one.
pub fn y_range(columns: &[Column], expected: (Option<f64>, Option<f64>)) -> (f64, f64) {
    let (lo, hi) =
        columns.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| (lo.min(c.min), hi.max(c.max)));
    if let (Some(min), Some(max)) = expected {
        if min < max && min.is_finite() && max.is_finite() {
            return (lo.min(min), hi.max(max));
        }
    }
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        let pad = if lo.abs() > 1.0 { lo.abs() * 0.05 } else { 0.5 };
        return (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.08;
    (lo - pad, hi + pad)
}

/// Draws `plot` filling a canvas of `w` x `h` device pixels at `dpr` device pixels per CSS pixel.
pub fn draw(ctx: &CanvasRenderingContext2d, w: f64, h: f64, dpr: f64, plot: &Plot, theme: &Theme) {
    ctx.clear_rect(0.0, 0.0, w, h);
    let top = 22.0 * dpr;
    let bottom = h - 4.0 * dpr;
    let (lo, hi) = y_range(plot.columns, plot.range);
    let y = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);

    ctx.set_line_width(dpr);
    ctx.set_stroke_style_str(&theme.line);
    ctx.begin_path();
    for i in 0..=3 {
        let gy = top + (bottom - top) * f64::from(i) / 3.0;
        ctx.move_to(0.0, gy.round() + 0.5);
        ctx.line_to(w, gy.round() + 0.5);
    }
    ctx.stroke();

    ctx.set_stroke_style_str(&theme.accent);
    ctx.set_line_width(1.5 * dpr);
    ctx.set_line_join("round");
    ctx.begin_path();
    let mut started = false;
    for c in plot.columns {
        let x = c.col as f64 + 0.5;
        if !started || c.gap_before {
            ctx.move_to(x, y(c.first));
            started = true;
        } else {
            ctx.line_to(x, y(c.first));
        }
        if c.min != c.max {
            ctx.line_to(x, y(c.min));
            ctx.line_to(x, y(c.max));
        }
        ctx.line_to(x, y(c.last));
    }
    ctx.stroke();

    let font = |px: f64, weight: &str| format!("{weight} {}px system-ui, sans-serif", (px * dpr).round());
    ctx.set_text_baseline("top");
    ctx.set_font(&font(13.0, "600"));
    ctx.set_fill_style_str(&theme.text);
    ctx.set_text_align("left");
    let _ = ctx.fill_text(plot.title, 4.0 * dpr, 3.0 * dpr);
    if let Some(v) = plot.latest {
        ctx.set_text_align("right");
        let text = format!("{} {}", format_value(v, plot.whole), plot.unit);
        let _ = ctx.fill_text(text.trim_end(), w - 4.0 * dpr, 3.0 * dpr);
    }
    ctx.set_font(&font(11.0, ""));
    ctx.set_fill_style_str(&theme.muted);
    ctx.set_text_align("left");
    let _ = ctx.fill_text(&format_value(hi, false), 4.0 * dpr, top + 2.0 * dpr);
    ctx.set_text_baseline("bottom");
    let low = format_value(lo, false);
    let _ = ctx.fill_text(&low, 4.0 * dpr, bottom - 2.0 * dpr);
    let window = window_label(plot.window_ms);
    ctx.set_text_align("right");
    let _ = ctx.fill_text(&window, w - 4.0 * dpr, bottom - 2.0 * dpr);
    // The window's statistics along the bottom, between the scale and the window, where they fit.
    if let Some(s) = summary(plot.columns) {
        let width = |t: &str| ctx.measure_text(t).map(|m| m.width()).unwrap_or(f64::INFINITY);
        let f = |v: f64| format_value(v, plot.whole);
        let room = w - width(&low) - width(&window) - 24.0 * dpr;
        let long = format!("min {} · max {} · mean {}", f(s.min), f(s.max), format_value(s.mean, false));
        let short = format!("mean {}", format_value(s.mean, false));
        if let Some(text) = [long, short].into_iter().find(|t| width(t) <= room) {
            ctx.set_text_align("center");
            let _ = ctx.fill_text(&text, w / 2.0, bottom - 2.0 * dpr);
        }
    }
}

/// `last 10 s`, `last 1 min`, `all buffered`.
pub fn window_label(ms: f64) -> String {
    if !ms.is_finite() {
        "all buffered".to_string()
    } else if ms >= 60_000.0 {
        format!("last {:.0} min", ms / 60_000.0)
    } else {
        format!("last {:.0} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(min: f64, max: f64) -> Column {
        Column { col: 0, first: min, min, max, last: max, gap_before: false, sum: min + max, n: 2 }
    }

    #[test]
    fn range_has_margins_and_is_never_empty() {
        let none = (None, None);
        let (lo, hi) = y_range(&[col(0.0, 10.0)], none);
        assert!(lo < 0.0 && hi > 10.0);
        let (lo, hi) = y_range(&[col(5.0, 5.0)], none);
        assert!(lo < 5.0 && hi > 5.0);
        assert_eq!(y_range(&[], none), (0.0, 1.0));
    }

    #[test]
    fn the_devices_range_is_the_least_shown() {
        assert_eq!(y_range(&[col(20.0, 21.0)], (Some(0.0), Some(50.0))), (0.0, 50.0));
        assert_eq!(y_range(&[col(-5.0, 21.0)], (Some(0.0), Some(50.0))), (-5.0, 50.0));
        assert_eq!(y_range(&[], (Some(0.0), Some(50.0))), (0.0, 50.0));
    }

    #[test]
    fn windows_read_naturally() {
        assert_eq!(window_label(10_000.0), "last 10 s");
        assert_eq!(window_label(600_000.0), "last 10 min");
        assert_eq!(window_label(f64::INFINITY), "all buffered");
    }
}
