//! Draws one chart on a canvas. Axes, grid and tick labels come from plotters (plotters-canvas);
//! the data lines do not: plotters builds a path element per segment, so the decimated polyline
//! (at most four points per pixel column) is stroked straight onto the same canvas, in the
//! plotting area plotters laid out. A header above names each series with its colour, last value
//! and the window's min/max/mean. On/off series are drawn as steps on an off..on scale.

use super::decimate::{summary, Column};
use super::viewport::Span;
use crate::series::format::{format_value, on_off_sample};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// The page's colours, read from its CSS variables.
pub struct Theme {
    pub text: String,
    pub muted: String,
    pub line: String,
    pub accent: String,
}

/// Line colours after the theme's accent, distinct in light and dark themes.
const PALETTE: [&str; 5] = ["#f28e2b", "#3ecf7a", "#e15759", "#b07aa1", "#c9a227"];

impl Theme {
    /// The colour of the `i`th line of a chart.
    pub fn series_color(&self, i: usize) -> &str {
        match i {
            0 => &self.accent,
            i => PALETTE[(i - 1) % PALETTE.len()],
        }
    }
}

/// One series in a chart.
pub struct Line<'a> {
    pub label: &'a str,
    pub unit: &'a str,
    pub columns: &'a [Column],
    /// Every value was a whole number: labels without decimals.
    pub whole: bool,
    /// An on/off series (values 0 and 1): drawn as a step, read as off/on.
    pub on_off: bool,
}

impl Line<'_> {
    /// A value of this series in words.
    pub fn format(&self, v: f64) -> String {
        if self.on_off {
            on_off_sample(v).to_string()
        } else {
            format_value(v, self.whole)
        }
    }
}

/// What one chart shows.
pub struct Plot<'a> {
    pub lines: &'a [Line<'a>],
    /// The range the device expects; the scale starts there and grows to fit the data.
    pub range: (Option<f64>, Option<f64>),
    /// The data time shown, left to right.
    pub span: Span,
    /// The newest sample's time: the time axis counts back from it.
    pub newest: f64,
    /// The crosshair, as a fraction across the plotting area.
    pub cursor: Option<f64>,
}

/// Where the plotting area lies in a `w` x `h` canvas, in device pixels: `(left, top, right,
/// bottom)`. The header needs a row per series.
pub fn plot_area(w: f64, h: f64, dpr: f64, lines: usize) -> (f64, f64, f64, f64) {
    // The top tick label is centred on the top grid line: half of it must clear the last row.
    let header = (HEADER_TOP + HEADER_ROW * lines.max(1) as f64 + TICK_PX * 0.6 + 1.0) * dpr;
    let left = 58.0 * dpr;
    let right = w - 14.0 * dpr;
    let bottom = h - 18.0 * dpr;
    (left, header.min(h), right.max(left + 1.0), bottom.max(header + 1.0))
}

/// Header rows (13 px text, one per series) from this far down, CSS px.
const HEADER_TOP: f64 = 3.0;
const HEADER_ROW: f64 = 17.0;
/// Tick labels' font size, CSS px.
const TICK_PX: f64 = 11.0;

/// The value range of a chart of on/off series alone: off at the bottom, on at the top.
pub const ON_OFF_RANGE: (f64, f64) = (-0.25, 1.25);

/// A tick on an off..on scale: `off` at 0, `on` at 1, nothing between.
pub fn on_off_tick(v: f64) -> &'static str {
    if v.abs() < 1e-6 {
        "off"
    } else if (v - 1.0).abs() < 1e-6 {
        "on"
    } else {
        ""
    }
}

/// Value range to show: the visible extremes with a margin, widened to round numbers (so that it
/// changes seldom and the axes can be reused), never empty, and at least the device's expected
/// range when it gave one.
pub fn y_range(columns: &[Column], expected: (Option<f64>, Option<f64>)) -> (f64, f64) {
    let (lo, hi) = data_range(columns, expected);
    if (Some(lo), Some(hi)) == expected {
        return (lo, hi);
    }
    nice_range(lo, hi)
}

/// `lo..hi` widened outwards to multiples of a 1, 2 or 5 step (a quarter of the range or less).
pub fn nice_range(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (lo, hi);
    }
    let raw = span / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

fn data_range(columns: &[Column], expected: (Option<f64>, Option<f64>)) -> (f64, f64) {
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

/// A tick label on the value axis: short, without float noise (`0.30000000000000004` -> `0.3`).
pub fn value_tick(v: f64) -> String {
    let a = v.abs();
    let text = if a >= 1000.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A tick label on the time axis, `s` seconds before the newest sample: `-12 s`, `-2.5 min`,
/// `now`. Minutes once the span shown is over two minutes.
pub fn time_tick(s: f64, span_s: f64) -> String {
    if s.abs() < 1e-6 {
        return "now".to_string();
    }
    let (v, unit) = if span_s > 120.0 { (s / 60.0, "min") } else { (s, "s") };
    let digits = if (v.round() - v).abs() < 1e-6 {
        0
    } else if ((v * 10.0).round() - v * 10.0).abs() < 1e-6 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// `#rrggbb` (or `#rgb`) as plotters' colour; grey for anything else.
pub fn parse_color(css: &str) -> RGBColor {
    let hex = css.trim().trim_start_matches('#');
    let digit = |i: usize, n: usize| u8::from_str_radix(hex.get(i..i + n)?, 16).ok();
    let rgb = match hex.len() {
        6 => digit(0, 2).zip(digit(2, 2)).zip(digit(4, 2)).map(|((r, g), b)| (r, g, b)),
        3 => digit(0, 1).zip(digit(1, 1)).zip(digit(2, 1)).map(|((r, g), b)| (r * 17, g * 17, b * 17)),
        _ => None,
    };
    let (r, g, b) = rgb.unwrap_or((128, 128, 128));
    RGBColor(r, g, b)
}

/// What one chart drew last time, kept on canvases of their own and copied in most frames: the
/// axes change only with the size, the value range or the span; the header's numbers are redrawn
/// at most every [`HEADER_MS`] (faster than anyone reads them), one header per frame.
/// Drop it when the theme changes: the keys do not hold the colours.
#[derive(Default)]
pub struct ChartCache {
    axes: Option<HtmlCanvasElement>,
    axes_key: Option<AxesKey>,
    header: Option<(HtmlCanvasElement, CanvasRenderingContext2d)>,
    header_key: Option<HeaderKey>,
    header_at: f64,
}

/// Everything the axes layer depends on besides the theme.
#[derive(Debug, Clone, PartialEq)]
pub struct AxesKey {
    /// Canvas width and height in device pixels, and the pixel ratio.
    pub size: (f64, f64, f64),
    /// The time axis, in seconds from the newest sample.
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub lines: usize,
    pub unit: String,
    pub on_off: bool,
}

/// Everything the header's layout depends on besides the theme and its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderKey {
    /// Canvas width, header height, pixel ratio.
    size: (f64, f64, f64),
    /// Each line's label and unit.
    lines: Vec<(String, String)>,
}

impl HeaderKey {
    fn new(size: (f64, f64, f64), plot: &Plot) -> HeaderKey {
        HeaderKey {
            size,
            lines: plot.lines.iter().map(|l| (l.label.to_string(), l.unit.to_string())).collect(),
        }
    }

    /// Without building a key (and allocating) every frame.
    fn matches(&self, size: (f64, f64, f64), plot: &Plot) -> bool {
        self.size == size
            && self.lines.len() == plot.lines.len()
            && self.lines.iter().zip(plot.lines).all(|((label, unit), l)| label == l.label && unit == l.unit)
    }
}

/// How often a header's numbers may change, in ms.
pub const HEADER_MS: f64 = 100.0;

/// Shared by the charts drawn in one animation frame.
pub struct FrameBudget {
    pub now_ms: f64,
    /// Headers that may still be redrawn for their numbers alone in this frame.
    pub headers: u32,
    /// Paused: the numbers must match the picture exactly, whatever the time.
    pub exact: bool,
}

/// Draws `plot` filling a canvas of `w` x `h` device pixels at `dpr` device pixels per CSS pixel.
pub fn draw(
    canvas: &HtmlCanvasElement,
    ctx: &CanvasRenderingContext2d,
    (w, h, dpr): (f64, f64, f64),
    plot: &Plot,
    theme: &Theme,
    cache: &mut ChartCache,
    budget: &mut FrameBudget,
) {
    ctx.clear_rect(0.0, 0.0, w, h);
    let (left, top, right, bottom) = plot_area(w, h, dpr, plot.lines.len());
    let on_off = !plot.lines.is_empty() && plot.lines.iter().all(|l| l.on_off);
    let (lo, hi) = if on_off {
        ON_OFF_RANGE
    } else {
        let all: Vec<Column> = plot.lines.iter().flat_map(|l| l.columns.iter().copied()).collect();
        y_range(&all, plot.range)
    };
    let unit = match plot.lines.first() {
        Some(first) if plot.lines.iter().all(|l| l.unit == first.unit) => first.unit,
        _ => "",
    };
    let x = ((plot.span.t0 - plot.newest) / 1000.0, (plot.span.t1 - plot.newest) / 1000.0);
    let key =
        AxesKey { size: (w, h, dpr), x, y: (lo, hi), lines: plot.lines.len(), unit: unit.into(), on_off };
    if cache.axes_key.as_ref() != Some(&key) || cache.axes.is_none() {
        let layer = cache.axes.take().or_else(new_canvas);
        if let Some(layer) = &layer {
            layer.set_width(w as u32);
            layer.set_height(h as u32);
            axes(layer, (left, top, right, bottom), &key, theme);
        }
        cache.axes = layer;
        cache.axes_key = Some(key);
    }
    match (&cache.axes, &cache.axes_key) {
        (Some(layer), _) => {
            let _ = ctx.draw_image_with_html_canvas_element(layer, 0.0, 0.0);
        }
        (None, Some(key)) => axes(canvas, (left, top, right, bottom), key, theme),
        (None, None) => {}
    }

    // The data, clipped to the plotting area: one polyline per series, broken at gaps.
    ctx.save();
    ctx.begin_path();
    ctx.rect(left, top, right - left, bottom - top);
    ctx.clip();
    let y = |v: f64| bottom - (v - lo) / (hi - lo) * (bottom - top);
    ctx.set_line_width(1.5 * dpr);
    ctx.set_line_join("round");
    for (i, line) in plot.lines.iter().enumerate() {
        ctx.set_stroke_style_str(theme.series_color(i));
        ctx.begin_path();
        let mut prev: Option<f64> = None;
        for c in line.columns {
            let x = left + c.col as f64 + 0.5;
            match prev {
                Some(last) if !c.gap_before => {
                    // A step holds the previous state until the change.
                    if line.on_off {
                        ctx.line_to(x, y(last));
                    }
                    ctx.line_to(x, y(c.first));
                }
                _ => ctx.move_to(x, y(c.first)),
            }
            prev = Some(c.last);
            if c.min != c.max {
                ctx.line_to(x, y(c.min));
                ctx.line_to(x, y(c.max));
            }
            ctx.line_to(x, y(c.last));
        }
        ctx.stroke();
    }
    if let Some(f) = plot.cursor {
        let x = (left + f * (right - left)).round() + 0.5;
        ctx.set_line_width(dpr);
        ctx.set_stroke_style_str(&theme.muted);
        ctx.begin_path();
        ctx.move_to(x, top);
        ctx.line_to(x, bottom);
        ctx.stroke();
    }
    ctx.restore();

    // The header: redrawn when its layout changed, else at most every HEADER_MS, one per frame.
    let size = (w, top, dpr);
    let stale = !cache.header_key.as_ref().is_some_and(|k| k.matches(size, plot)) || cache.header.is_none();
    let due = budget.exact || (budget.now_ms - cache.header_at >= HEADER_MS && budget.headers > 0);
    if stale || due || cache.header.is_none() {
        if !stale {
            budget.headers = budget.headers.saturating_sub(1);
        }
        if cache.header.is_none() {
            cache.header = new_canvas().and_then(|c| Some((c.clone(), context(&c)?)));
        }
        match &cache.header {
            Some((layer, layer_ctx)) => {
                if layer.width() != w as u32 || layer.height() != top as u32 {
                    layer.set_width(w as u32);
                    layer.set_height(top.max(1.0) as u32);
                } else {
                    layer_ctx.clear_rect(0.0, 0.0, w, top);
                }
                header(layer_ctx, (w, dpr), plot, theme);
            }
            None => header(ctx, (w, dpr), plot, theme),
        }
        if stale {
            cache.header_key = Some(HeaderKey::new(size, plot));
        }
        cache.header_at = budget.now_ms;
    }
    if let Some((layer, _)) = &cache.header {
        let _ = ctx.draw_image_with_html_canvas_element(layer, 0.0, 0.0);
    }
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    use wasm_bindgen::JsCast;
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

fn new_canvas() -> Option<HtmlCanvasElement> {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()?.document()?;
    doc.create_element("canvas").ok()?.dyn_into().ok()
}

/// Grid, axes and tick labels, by plotters, on the area [`plot_area`] gave.
fn axes(
    canvas: &HtmlCanvasElement,
    (left, top, right, bottom): (f64, f64, f64, f64),
    key: &AxesKey,
    theme: &Theme,
) {
    let ((w, h, dpr), (x0, x1), (lo, hi), unit) = (key.size, key.x, key.y, key.unit.as_str());
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else { return };
    let root = backend.into_drawing_area();
    let span_s = x1 - x0;
    let built = ChartBuilder::on(&root)
        .margin_top(top as u32)
        .margin_right((w - right) as u32)
        .y_label_area_size(left as u32)
        .x_label_area_size((h - bottom) as u32)
        .build_cartesian_2d(x0..x1, lo..hi);
    let Ok(mut chart) = built else { return };
    let muted = parse_color(&theme.muted);
    let grid = parse_color(&theme.line);
    // `FontFamily::Name` rather than a `&str`: plotters' `From<&str>` lowercases the name, which
    // would pull Unicode case tables (~10 KB) into the wasm.
    let font = FontDesc::new(FontFamily::Name("system-ui, sans-serif"), TICK_PX * dpr, FontStyle::Normal)
        .color(&muted);
    let x_fmt = |s: &f64| time_tick(*s, span_s);
    let y_fmt = |v: &f64| {
        if key.on_off {
            return on_off_tick(*v).to_string();
        }
        let tick = value_tick(*v);
        // Units on the axis where they fit; the header always shows them.
        if unit.is_empty() || tick.chars().count() + unit.chars().count() > 6 {
            tick
        } else {
            format!("{tick} {unit}")
        }
    };
    let _ = chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(if key.on_off { 3 } else { 4 })
        .max_light_lines(0)
        .bold_line_style(grid.stroke_width(dpr as u32))
        .axis_style(grid.stroke_width(dpr as u32))
        .set_all_tick_mark_size((3.0 * dpr) as u32)
        .label_style(font)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw();
}

/// A row per series: colour swatch and label on the left; on the right the window's min, max and
/// mean where there is room, and the last value.
fn header(ctx: &CanvasRenderingContext2d, (w, dpr): (f64, f64), plot: &Plot, theme: &Theme) {
    let font = |px: f64, weight: &str| format!("{weight} {}px system-ui, sans-serif", (px * dpr).round());
    let width = |t: &str| ctx.measure_text(t).map(|m| m.width()).unwrap_or(f64::INFINITY);
    ctx.set_text_baseline("top");
    for (i, line) in plot.lines.iter().enumerate() {
        let y = (HEADER_TOP + HEADER_ROW * i as f64) * dpr;
        ctx.set_fill_style_str(theme.series_color(i));
        ctx.fill_rect(4.0 * dpr, y + 3.0 * dpr, 9.0 * dpr, 9.0 * dpr);
        ctx.set_font(&font(13.0, "600"));
        ctx.set_fill_style_str(&theme.text);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(line.label, 18.0 * dpr, y);
        let Some(s) = summary(line.columns) else { continue };
        let f = |v: f64| line.format(v);
        let last = format!("{} {}", f(s.last), line.unit);
        let last = last.trim_end();
        ctx.set_text_align("right");
        let _ = ctx.fill_text(last, w - 4.0 * dpr, y);
        let last_w = width(last);
        let used = 18.0 * dpr + width(line.label) + last_w + 20.0 * dpr;
        ctx.set_font(&font(11.0, ""));
        ctx.set_fill_style_str(&theme.muted);
        let (long, short) = if line.on_off {
            let on = format!("on {:.0} % of the time", s.mean * 100.0);
            (on.clone(), on)
        } else {
            let mean = format_value(s.mean, false);
            (format!("min {} · max {} · mean {mean}", f(s.min), f(s.max)), format!("mean {mean}"))
        };
        if let Some(text) = [long, short].into_iter().find(|t| width(t) <= w - used) {
            let _ = ctx.fill_text(&text, w - 4.0 * dpr - last_w - 10.0 * dpr, y + 2.0 * dpr);
        }
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
        let (lo, hi) = y_range(&[col(-5.0, 21.0)], (Some(0.0), Some(50.0)));
        assert!(lo <= -5.0 && hi >= 50.0, "data beyond the expected range widens it: {lo} {hi}");
        assert_eq!(y_range(&[], (Some(0.0), Some(50.0))), (0.0, 50.0));
    }

    #[test]
    fn ranges_widen_to_round_numbers() {
        assert_eq!(nice_range(0.3, 9.7), (0.0, 10.0));
        assert_eq!(nice_range(21.13, 24.87), (21.0, 25.0));
        assert_eq!(nice_range(-63.2, -41.5), (-70.0, -40.0));
        let (lo, hi) = nice_range(7.9012, 7.9088);
        assert!(lo <= 7.9012 && hi >= 7.9088 && hi - lo < 0.02, "{lo} {hi}");
        assert_eq!(nice_range(5.0, 5.0), (5.0, 5.0));
        assert_eq!(nice_range(f64::NAN, 1.0).1, 1.0);
        // Small changes of the data give the same range.
        assert_eq!(nice_range(0.31, 9.69), nice_range(0.3, 9.7));
    }

    #[test]
    fn ticks_read_naturally() {
        assert_eq!(value_tick(0.1 + 0.2), "0.3");
        assert_eq!(value_tick(25.0), "25");
        assert_eq!(value_tick(7.25), "7.25");
        assert_eq!(value_tick(-0.0001), "0");
        assert_eq!(value_tick(12345.6), "12346");
        assert_eq!(time_tick(0.0, 10.0), "now");
        assert_eq!(time_tick(-5.0, 10.0), "-5 s");
        assert_eq!(time_tick(-2.5, 10.0), "-2.5 s");
        assert_eq!(time_tick(-150.0, 600.0), "-2.5 min");
        assert_eq!(time_tick(-480.0, 600.0), "-8 min");
    }

    #[test]
    fn plot_area_leaves_room_for_a_header_row_per_series() {
        let (l, t, r, b) = plot_area(400.0, 120.0, 1.0, 1);
        assert!(l > 0.0 && r < 400.0 && t > 0.0 && b < 120.0 && l < r && t < b);
        let (_, t2, _, _) = plot_area(400.0, 120.0, 1.0, 2);
        assert!(t2 > t);
        // Doubling the pixel ratio doubles every margin.
        let (l2, t2, r2, b2) = plot_area(800.0, 240.0, 2.0, 1);
        assert_eq!((l2, t2, r2, b2), (l * 2.0, t * 2.0, r * 2.0, b * 2.0));
        // The top tick label (centred on the top grid line) clears the last header row's text.
        for n in 1..=4 {
            let (_, t, _, _) = plot_area(400.0, 400.0, 1.0, n);
            let last_row_bottom = HEADER_TOP + HEADER_ROW * (n - 1) as f64 + 13.0 * 1.2;
            assert!(t - TICK_PX * 0.6 >= last_row_bottom, "{n} rows: plot top {t}");
        }
        // Never inverted, however small.
        let (l, t, r, b) = plot_area(10.0, 10.0, 1.0, 3);
        assert!(l < r && t < b);
    }

    #[test]
    fn on_off_reads_in_words() {
        assert_eq!(
            (on_off_tick(0.0), on_off_tick(1.0), on_off_tick(0.5), on_off_tick(-0.0)),
            ("off", "on", "", "off")
        );
        let (lo, hi) = ON_OFF_RANGE;
        assert!(lo < 0.0 && hi > 1.0, "both states clear of the edges");
        let columns = [col(0.0, 1.0)];
        let line = |on_off| Line { label: "pump", unit: "", columns: &columns, whole: true, on_off };
        assert_eq!(
            (line(true).format(1.0), line(true).format(0.0), line(true).format(f64::NAN)),
            ("on".into(), "off".into(), "–".into())
        );
        assert_eq!(line(false).format(1.0), "1");
    }

    #[test]
    fn colours_parse_or_fall_back_to_grey() {
        assert_eq!(parse_color("#4fb3ff"), RGBColor(0x4f, 0xb3, 0xff));
        assert_eq!(parse_color(" #fff "), RGBColor(255, 255, 255));
        assert_eq!(parse_color("rgb(1,2,3)"), RGBColor(128, 128, 128));
        assert_eq!(parse_color("#ééé"), RGBColor(128, 128, 128));
    }
}
