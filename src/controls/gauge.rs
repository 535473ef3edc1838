//! A gauge as one canvas: its bar and its reading drawn together. A reading at telemetry rate
//! then changes one canvas's pixels and nothing else on the page, where a bar and a text in the
//! DOM had the browser restyle, lay out and repaint the page for every value (30 gauges at 50 Hz:
//! frame p95 6.75 ms in the DOM against 4.18 ms drawn in one run, docs/SIZE.md "Controls"). The
//! canvas is the meter a screen reader reads (`role="meter"`, its value and text kept current by
//! `view.rs`).

use super::model::Level;
use crate::dom;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, Element, HtmlCanvasElement};

/// Room between the bar and the reading, in CSS pixels.
const GAP_PX: f64 = 10.0;
/// The bar's height and corner radius, in CSS pixels.
const BAR_PX: f64 = 14.0;

/// The colours and font gauges are drawn with, read from the page's CSS (its theme, or the
/// system's colours when forced colours are on).
#[derive(Default)]
pub struct Look {
    track: String,
    ok: String,
    warn: String,
    bad: String,
    text: String,
    /// `font-size` in CSS pixels and `font-family` of the canvas.
    font: (f64, String),
    /// Forced colours: everything in the text colour, the track outlined.
    forced: bool,
}

impl Look {
    /// The look of gauges inside `host`.
    pub fn read(host: &Element) -> Look {
        let forced = dom::window()
            .and_then(|w| w.match_media("(forced-colors: active)").ok().flatten())
            .is_some_and(|m| m.matches());
        let names = ["color", "font-size", "font-family", "--line", "--ok", "--warn", "--bad"];
        let mut v = dom::css_values(host, &names).into_iter();
        let mut next = || v.next().unwrap_or_default();
        let (text, size, family) = (next(), next(), next());
        let mut var = || if forced { text.clone() } else { next() };
        let (track, ok, warn, bad) = (var(), var(), var(), var());
        let size = wsdeck_protocol::parse_f64(size.trim_end_matches("px")).unwrap_or(16.0);
        Look { track, ok, warn, bad, font: (size, family), forced, text }
    }

    fn fill(&self, level: Level) -> &str {
        match level {
            Level::Ok => &self.ok,
            Level::Warn => &self.warn,
            Level::Alarm => &self.bad,
        }
    }

    /// The reading's colour and weight: the level's colour past a threshold, bold in alarm.
    fn reading(&self, level: Level) -> (&str, &'static str) {
        match level {
            Level::Ok => (&self.text, "400"),
            Level::Warn => (&self.warn, "400"),
            Level::Alarm => (&self.bad, "700"),
        }
    }
}

/// One gauge's canvas, sized to the box CSS gives it at the screen's pixel ratio.
pub struct Gauge {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    /// `min`, `max`, `warn`, `alarm`.
    range: (f64, f64, Option<f64>, Option<f64>),
    /// The widest reading the range gives (with its unit), to keep room for.
    widest: String,
    /// CSS width and height, pixel ratio, and the reading's width in device pixels.
    size: (f64, f64, f64, f64),
    /// The font weight the context has now: a canvas parses a font each time it is set, so it
    /// is set only when it changes (30 gauges at telemetry rate).
    weight: std::cell::Cell<&'static str>,
}

impl Gauge {
    pub fn new(
        canvas: &Element,
        range: (f64, f64, Option<f64>, Option<f64>),
        widest: String,
    ) -> Option<Gauge> {
        let canvas: HtmlCanvasElement = canvas.clone().dyn_into().ok()?;
        let ctx = canvas.get_context("2d").ok()??.dyn_into().ok()?;
        Some(Gauge { canvas, ctx, range, widest, size: (0.0, 0.0, 0.0, 0.0), weight: Default::default() })
    }

    /// The CSS size of the canvas's box (none while the page is hidden).
    pub fn measure(&self) -> (f64, f64) {
        (f64::from(self.canvas.client_width()), f64::from(self.canvas.client_height()))
    }

    /// Fits the canvas to its box, `(w, h)` as [`Gauge::measure`] read it (after a resize, a
    /// zoom or a new theme); nothing to draw on while it has no box.
    pub fn fit(&mut self, (w, h): (f64, f64), look: &Look) {
        let dpr = dom::window().map_or(1.0, |w| w.device_pixel_ratio());
        self.canvas.set_width((w * dpr).round() as u32);
        self.canvas.set_height((h * dpr).round() as u32);
        // A new size resets the context's state.
        self.ctx.set_font(&font(look, "700", dpr));
        self.weight.set("700");
        self.ctx.set_text_align("right");
        self.ctx.set_text_baseline("middle");
        let text = self.ctx.measure_text(&self.widest).map_or(0.0, |m| m.width());
        self.size = (w, h, dpr, text);
    }

    /// Draws the reading `v`, shown as `text`.
    pub fn draw(&self, v: f64, text: &str, look: &Look) {
        let (w, h, dpr, text_w) = self.size;
        let (min, max, warn, alarm) = self.range;
        let ctx = &self.ctx;
        ctx.clear_rect(0.0, 0.0, w * dpr, h * dpr);
        let level = Level::of(v, warn, alarm);
        let (bar_w, fill_w) = bar(w * dpr, text_w, GAP_PX * dpr, fraction(v, min, max));
        let (y, bar_h) = ((h - BAR_PX) / 2.0 * dpr, BAR_PX * dpr);
        let r = bar_h / 2.0;
        let rect = |width: f64| {
            ctx.begin_path();
            let _ = ctx.round_rect_with_f64(0.0, y, width, bar_h, r.min(width / 2.0));
        };
        rect(bar_w);
        if look.forced {
            ctx.set_stroke_style_str(&look.text);
            ctx.set_line_width(dpr);
            ctx.stroke();
        } else {
            ctx.set_fill_style_str(&look.track);
            ctx.fill();
        }
        if fill_w > 0.0 {
            rect(fill_w);
            ctx.set_fill_style_str(look.fill(level));
            ctx.fill();
        }
        let (colour, weight) = look.reading(level);
        if self.weight.replace(weight) != weight {
            ctx.set_font(&font(look, weight, dpr));
        }
        ctx.set_fill_style_str(colour);
        let _ = ctx.fill_text(text, w * dpr, h * dpr / 2.0);
    }
}

/// The canvas font, in whole device pixels (an integer is written without the float formatter).
fn font(look: &Look, weight: &str, dpr: f64) -> String {
    format!("{weight} {}px {}", (look.font.0 * dpr).round() as u32, look.font.1)
}

/// How far along `min..=max` the value `v` is, 0 to 1 (a value outside the range pins the bar).
pub fn fraction(v: f64, min: f64, max: f64) -> f64 {
    let f = (v - min) / (max - min);
    if f.is_finite() {
        (f * 1000.0).round().clamp(0.0, 1000.0) / 1000.0
    } else {
        0.0
    }
}

/// The bar's width on a canvas `w` wide that keeps `text_w` and a `gap` for the reading, and its
/// fill's at `fraction` (a bar too narrow to draw is none).
fn bar(w: f64, text_w: f64, gap: f64, fraction: f64) -> (f64, f64) {
    let bar_w = (w - text_w - gap).max(0.0);
    (bar_w, bar_w * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_leaves_room_for_the_reading_and_fills_by_the_value() {
        assert_eq!(bar(300.0, 60.0, 20.0, 0.5), (220.0, 110.0));
        assert_eq!(bar(300.0, 60.0, 20.0, 0.0).1, 0.0);
        // No room: no bar, never a negative width.
        assert_eq!(bar(50.0, 60.0, 20.0, 1.0), (0.0, 0.0));
    }

    #[test]
    fn fractions_pin_to_the_range() {
        assert_eq!(fraction(50.0, 0.0, 100.0), 0.5);
        assert_eq!(fraction(-5.0, 0.0, 100.0), 0.0);
        assert_eq!(fraction(500.0, 0.0, 100.0), 1.0);
        assert_eq!(fraction(1.0, 1.0, 1.0), 0.0);
        assert_eq!(fraction(3.3, 0.0, 10.0), 0.33);
    }
}
