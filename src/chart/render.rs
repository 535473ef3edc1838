//! The Charts page's per-frame state and decisions, apart from the DOM: whether a frame draws at
//! all, each chart's size and cached layers, the theme; and, from the series store, what each
//! chart shows (span, lines, value range, crosshair readout). `view.rs` hands it canvases.

use super::decimate::{decimate, Column};
use super::draw::{ChartCache, Line, Theme};
use super::layout::ChartSpec;
use super::viewport::Span;
use crate::series::{Kind, SeriesSet};
use wsdeck_protocol::{Hello, SeriesMeta};

/// A pause in the data longer than this is drawn as a gap.
pub const GAP_MS: f64 = 2000.0;

/// What the data says about a frame; with the renderer's own changes (size, theme, arrangement,
/// the chart pointed at) everything a picture depends on. When it equals the last frame's,
/// nothing is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// The store's version; 0 while paused (new data does not change the picture).
    pub version: u64,
    pub window: f64,
    pub span: Span,
    pub cursor: Option<f64>,
    pub dpr: f64,
}

/// The time shown and the data's bounds, for a frame and for gestures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shown {
    pub span: Span,
    pub bounds: Span,
    /// The newest sample's time (or the pause's): the time axis counts back from it.
    pub newest: f64,
}

/// The span to draw: `zoom` when zoomed, else `window` ms back from the newest sample (or from
/// the pause). `None` before any sample.
pub fn shown(set: &SeriesSet, window: f64, paused_at: Option<f64>, zoom: Option<Span>) -> Option<Shown> {
    let (first, newest) =
        set.iter().filter_map(|s| s.ring()).fold((f64::INFINITY, f64::NEG_INFINITY), |b, r| {
            (b.0.min(r.first().map_or(f64::INFINITY, |s| s.0)), b.1.max(r.last().map_or(b.1, |s| s.0)))
        });
    if !newest.is_finite() {
        return None;
    }
    let newest = paused_at.unwrap_or(newest);
    let bounds = Span { t0: first.min(newest), t1: newest };
    let span = zoom.unwrap_or_else(|| Span::latest(first, newest, window));
    Some(Shown { span, bounds, newest })
}

/// One series of one chart, ready to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct LineData {
    pub name: String,
    pub label: String,
    pub unit: String,
    pub columns: Vec<Column>,
    pub whole: bool,
    pub on_off: bool,
}

/// What one chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub lines: Vec<LineData>,
    /// The range the device expects for these series, from its hello.
    pub range: (Option<f64>, Option<f64>),
}

impl ChartData {
    /// `columns`: pixel columns of the plotting area.
    pub fn new(
        set: &SeriesSet,
        device: Option<&Hello>,
        chart: &ChartSpec,
        span: Span,
        columns: usize,
    ) -> Self {
        let meta = |name: &str| -> Option<&SeriesMeta> {
            device?.series.iter().find(|(n, _)| n == name).map(|(_, m)| m)
        };
        let lines = chart
            .series
            .iter()
            .map(|name| {
                let series = set.get(name);
                let m = meta(name);
                LineData {
                    name: name.clone(),
                    label: m.and_then(|m| m.label.clone()).unwrap_or_else(|| name.clone()),
                    unit: m.and_then(|m| m.unit.clone()).unwrap_or_default(),
                    columns: series
                        .and_then(|s| s.ring())
                        .map(|r| decimate(r, span.t0, span.t1, columns, GAP_MS))
                        .unwrap_or_default(),
                    whole: series.is_some_and(|s| s.whole),
                    on_off: series.is_some_and(|s| s.kind == Kind::OnOff),
                }
            })
            .collect();
        let range = chart
            .series
            .iter()
            .filter_map(|n| meta(n))
            .fold((None, None), |(lo, hi), m| (pick(lo, m.min, f64::min), pick(hi, m.max, f64::max)));
        ChartData { lines, range }
    }

    pub fn lines(&self) -> Vec<Line<'_>> {
        self.lines
            .iter()
            .map(|l| Line {
                label: &l.label,
                unit: &l.unit,
                columns: &l.columns,
                whole: l.whole,
                on_off: l.on_off,
            })
            .collect()
    }

    /// ` · Label value unit` for each series at time `t` (`–` where no sample is near, or the
    /// device reported a gap).
    pub fn readout(&self, set: &SeriesSet, t: f64, out: &mut String) {
        for (data, line) in self.lines.iter().zip(self.lines()) {
            let value = set
                .ring(&data.name)
                .and_then(|r| r.nearest(t, GAP_MS))
                .filter(|(_, v)| !v.is_nan())
                .map_or("–".to_string(), |(_, v)| format!("{} {}", line.format(v), line.unit));
            out.push_str(&format!(" · {} {}", line.label, value.trim_end()));
        }
    }
}

fn pick(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

/// What the Charts page keeps from frame to frame.
#[derive(Default)]
pub struct ChartsRenderer {
    last: Option<(Frame, u32)>,
    /// Bumped by every outside change that calls for a redraw.
    generation: u32,
    /// Bumped when sizes may have changed (resize, another arrangement).
    layout: u32,
    /// Each chart's size in CSS pixels, by chart key, measured in layout `sizes_of`.
    sizes: Vec<(String, (i32, i32))>,
    sizes_of: u32,
    /// Each chart's cached layers, by chart key.
    caches: Vec<(String, ChartCache)>,
    theme: Option<Theme>,
    /// The key of the chart under the pointer: the readout lists its series.
    pointed: String,
}

impl ChartsRenderer {
    /// The charts changed size.
    pub fn resized(&mut self) {
        self.layout += 1;
        self.generation += 1;
    }

    /// Charts came, went or changed their series.
    pub fn rearranged(&mut self) {
        self.resized();
    }

    /// The colour scheme changed: the theme is read again, every cached layer redrawn.
    pub fn theme_changed(&mut self) {
        self.theme = None;
        self.caches.clear();
        self.generation += 1;
    }

    /// The pointer is on the chart `key`.
    pub fn point_at(&mut self, key: &str) {
        if self.pointed != key {
            self.pointed = key.to_string();
            self.generation += 1;
        }
    }

    pub fn pointed(&self) -> &str {
        &self.pointed
    }

    /// Whether this frame draws: something it depends on changed since the last one drawn.
    pub fn due(&mut self, frame: Frame) -> bool {
        let key = (frame, self.generation);
        if self.last == Some(key) {
            return false;
        }
        self.last = Some(key);
        true
    }

    /// A chart's size in CSS pixels: measured once per resize or arrangement, since reading it
    /// every frame would force a layout of the page that the tiles just changed.
    pub fn size(&mut self, chart: &str, measure: impl FnOnce() -> (i32, i32)) -> (i32, i32) {
        if self.sizes_of != self.layout {
            self.sizes_of = self.layout;
            self.sizes.clear();
        }
        if let Some((_, size)) = self.sizes.iter().find(|(k, _)| k == chart) {
            return *size;
        }
        let size = measure();
        self.sizes.push((chart.to_string(), size));
        size
    }

    /// Reads the theme if it is not known yet.
    pub fn load_theme(&mut self, read: impl FnOnce() -> Option<Theme>) {
        if self.theme.is_none() {
            self.theme = read();
        }
    }

    /// The theme and the cached layers of a chart, once the theme is known.
    pub fn layers(&mut self, chart: &str) -> Option<(&Theme, &mut ChartCache)> {
        let theme = self.theme.as_ref()?;
        let i = match self.caches.iter().position(|(k, _)| k == chart) {
            Some(i) => i,
            None => {
                self.caches.push((chart.to_string(), ChartCache::default()));
                self.caches.len() - 1
            }
        };
        Some((theme, &mut self.caches[i].1))
    }

    /// Forgets what it kept for charts that are gone.
    pub fn retain(&mut self, charts: &[ChartSpec]) {
        let shown = |k: &String| charts.iter().any(|c| c.key == *k);
        self.caches.retain(|(k, _)| shown(k));
        self.sizes.retain(|(k, _)| shown(k));
    }

    /// The chart keys it keeps layers for, in the order they were first drawn.
    pub fn cached(&self) -> impl Iterator<Item = &str> {
        self.caches.iter().map(|(k, _)| k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wsdeck_protocol::{Reading, Telemetry};

    fn frame(version: u64) -> Frame {
        Frame { version, window: 10_000.0, span: Span { t0: 0.0, t1: 10.0 }, cursor: None, dpr: 2.0 }
    }

    fn theme() -> Option<Theme> {
        Some(Theme {
            text: "#fff".into(),
            muted: "#999".into(),
            line: "#333".into(),
            accent: "#4fb3ff".into(),
        })
    }

    fn spec(key: &str, series: &[&str]) -> ChartSpec {
        ChartSpec { key: key.into(), series: series.iter().map(|s| s.to_string()).collect() }
    }

    fn set(frames: &[(f64, &[(&str, Reading)])]) -> SeriesSet {
        let mut set = SeriesSet::default();
        for (ms, values) in frames {
            let values = values.iter().map(|(n, r)| (n.to_string(), r.clone())).collect();
            set.push(Telemetry { ms: Some(*ms), values, ..Telemetry::default() }, 0.0);
        }
        set
    }

    #[test]
    fn a_frame_draws_only_when_something_changed() {
        let mut r = ChartsRenderer::default();
        assert!(r.due(frame(1)));
        assert!(!r.due(frame(1)), "the same picture is not drawn twice");
        assert!(r.due(frame(2)), "new data");
        assert!(r.due(Frame { cursor: Some(0.5), ..frame(2) }), "the crosshair moved");
        assert!(!r.due(Frame { cursor: Some(0.5), ..frame(2) }));
        r.resized();
        assert!(r.due(Frame { cursor: Some(0.5), ..frame(2) }), "a new size");
        r.theme_changed();
        assert!(r.due(Frame { cursor: Some(0.5), ..frame(2) }), "a new theme");
        r.point_at("series:a b");
        assert!(r.due(Frame { cursor: Some(0.5), ..frame(2) }), "another chart's readout");
        r.point_at("series:a b");
        assert!(!r.due(Frame { cursor: Some(0.5), ..frame(2) }));
        assert_eq!(r.pointed(), "series:a b");
    }

    #[test]
    fn sizes_are_measured_once_per_layout_by_chart_key() {
        let mut r = ChartsRenderer::default();
        let mut measured = 0;
        let mut measure = |size| {
            measured += 1;
            size
        };
        assert_eq!(r.size("series:left wheel", || measure((300, 120))), (300, 120));
        assert_eq!(r.size("series:left wheel", || measure((999, 999))), (300, 120));
        assert_eq!(
            r.size("series:left", || measure((200, 120))),
            (200, 120),
            "a name that is a prefix is another chart"
        );
        r.resized();
        assert_eq!(r.size("series:left wheel", || measure((400, 137))), (400, 137));
        assert_eq!(measured, 3);
    }

    #[test]
    fn layers_wait_for_the_theme_and_are_kept_per_chart_until_it_goes() {
        let mut r = ChartsRenderer::default();
        assert!(r.layers("series:a").is_none(), "nothing to draw with before the theme is read");
        r.load_theme(theme);
        r.load_theme(|| panic!("read once"));
        assert!(r.layers("series:a b").is_some());
        assert!(r.layers("group:x").is_some());
        assert!(r.layers("series:a b").is_some());
        assert_eq!(r.cached().collect::<Vec<_>>(), ["series:a b", "group:x"]);
        r.retain(&[spec("group:x", &["a", "b"])]);
        assert_eq!(r.cached().collect::<Vec<_>>(), ["group:x"]);
        r.theme_changed();
        assert_eq!(r.cached().count(), 0, "a new theme redraws every layer");
        assert!(r.layers("group:x").is_none(), "and is read again");
    }

    #[test]
    fn the_span_follows_the_newest_sample_or_the_pause() {
        assert_eq!(shown(&SeriesSet::default(), 10_000.0, None, None), None);
        let s = set(&[(1000.0, &[("a", Reading::Num(1.0))]), (30_000.0, &[("b", Reading::Gap)])]);
        let live = shown(&s, 10_000.0, None, None).unwrap();
        assert_eq!(live.span, Span { t0: 20_000.0, t1: 30_000.0 });
        assert_eq!(live.bounds, Span { t0: 1000.0, t1: 30_000.0 });
        let paused = shown(&s, f64::INFINITY, Some(25_000.0), None).unwrap();
        assert_eq!((paused.span, paused.newest), (Span { t0: 1000.0, t1: 25_000.0 }, 25_000.0));
        let zoom = Span { t0: 2000.0, t1: 3000.0 };
        assert_eq!(shown(&s, 10_000.0, Some(25_000.0), Some(zoom)).unwrap().span, zoom);
    }

    #[test]
    fn a_chart_shows_its_series_by_name_whatever_the_name() {
        let names = ["left wheel", "a.b", "say \"hi\"", "🔋", "温度"];
        let values: Vec<(&str, Reading)> = names.iter().map(|n| (*n, Reading::Num(2.0))).collect();
        let s = set(&[(0.0, &values), (100.0, &values)]);
        let chart = spec("group:all", &names);
        let data = ChartData::new(&s, None, &chart, Span { t0: 0.0, t1: 100.0 }, 100);
        assert_eq!(data.lines.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(), names);
        assert!(data.lines.iter().all(|l| l.columns.len() == 2), "every line has its samples");
        let mut text = String::new();
        data.readout(&s, 100.0, &mut text);
        assert_eq!(text, " · left wheel 2 · a.b 2 · say \"hi\" 2 · 🔋 2 · 温度 2");
    }

    #[test]
    fn labels_units_and_ranges_come_from_hello() {
        let s = set(&[(0.0, &[("temp", Reading::Num(21.5)), ("hum", Reading::Num(40.0))])]);
        let hello = wsdeck_protocol::DeviceMsg::decode(
            r#"{"t":"hello","series":{"temp":{"label":"Temperature","unit":"°C","min":15,"max":35},"hum":{"min":0,"max":100}}}"#,
        );
        let Ok(wsdeck_protocol::DeviceMsg::Hello(hello)) = hello else { panic!("{hello:?}") };
        let data = ChartData::new(
            &s,
            Some(&hello),
            &spec("group:env", &["temp", "hum"]),
            Span { t0: -1.0, t1: 1.0 },
            10,
        );
        assert_eq!((data.lines[0].label.as_str(), data.lines[0].unit.as_str()), ("Temperature", "°C"));
        assert_eq!((data.lines[1].label.as_str(), data.lines[1].unit.as_str()), ("hum", ""));
        assert_eq!(data.range, (Some(0.0), Some(100.0)));
        let mut text = String::new();
        data.readout(&s, 0.0, &mut text);
        assert_eq!(text, " · Temperature 21.50 °C · hum 40");
    }

    #[test]
    fn the_readout_says_off_on_and_dashes_a_gap() {
        let s = set(&[
            (0.0, &[("pump", Reading::Bool(true)), ("t", Reading::Num(1.5))]),
            (100.0, &[("pump", Reading::Bool(false)), ("t", Reading::Gap)]),
        ]);
        let data = ChartData::new(
            &s,
            None,
            &spec("group:g", &["pump", "t", "missing"]),
            Span { t0: 0.0, t1: 100.0 },
            50,
        );
        assert!(data.lines[0].on_off && !data.lines[1].on_off);
        let mut at_start = String::new();
        data.readout(&s, 0.0, &mut at_start);
        assert_eq!(at_start, " · pump on · t 1.500 · missing –");
        let mut at_end = String::new();
        data.readout(&s, 100.0, &mut at_end);
        assert_eq!(at_end, " · pump off · t – · missing –", "a gap reads as a dash, not 0");
    }
}
