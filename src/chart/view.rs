//! The Charts page: a chart per group of series, drawn by one animation-frame loop that redraws
//! only when the data, the span, the crosshair, the size, the theme or the arrangement changed.
//! While paused, drag or wheel/pinch pans and zooms the time axis of every chart together.

use super::decimate::{decimate, Column};
use super::draw::{draw, plot_area, ChartCache, FrameBudget, Line, Plot, Theme};
use super::layout::{ChartSpec, Groups, Prefs};
use super::viewport::{pinch_factor, wheel_factor, Span};
use crate::connection::session::Session;
use crate::connection::Connection;
use crate::dom::{self, AnimationLoop};
use crate::telemetry::store::format_value;
use leptos::html::Div;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent, WheelEvent};

/// Time windows offered, in ms.
const WINDOWS: [(f64, &str); 4] =
    [(10_000.0, "10 s"), (60_000.0, "1 min"), (600_000.0, "10 min"), (f64::INFINITY, "All")];
/// A pause in the data longer than this is drawn as a gap.
const GAP_MS: f64 = 2000.0;

/// Everything a picture depends on: when it equals the last frame's, nothing is drawn.
#[derive(Clone, Copy, PartialEq, Default)]
struct FrameKey {
    version: u64,
    window: u64,
    span: (u64, u64),
    cursor: u64,
    dpr: u64,
    theme: u32,
    size: u32,
    charts: u32,
}

/// Fingers or the mouse on a chart: pointer id and its last x in CSS pixels.
#[derive(Default)]
struct Gesture {
    pointers: Vec<(i32, f64)>,
}

#[component]
pub fn Charts() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let window_ms = RwSignal::new(10_000.0_f64);
    // Set while paused: the newest sample's time when the pause began.
    let paused_at = RwSignal::new(None::<f64>);
    // Set while paused and zoomed or panned.
    let zoom = RwSignal::new(None::<Span>);
    // The crosshair, as a fraction across the plotting area.
    let cursor = RwSignal::new(None::<f64>);
    // The chart under the pointer (its `data-series`): the readout lists its series.
    let cursor_on = StoredValue::new_local(String::new());
    let readout = RwSignal::new(String::new());
    let arranging = RwSignal::new(false);
    let root = NodeRef::<Div>::new();

    let names = Memo::new(move |_| {
        conn.telemetry_frame.track();
        conn.with_session(|s| s.history().names().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default()
    });
    // The person's arrangement, remembered per device (by its name, or its address).
    let device =
        Memo::new(move |_| conn.status.with(|s| s.device_name.clone().unwrap_or_else(|| s.url.clone())));
    let prefs = RwSignal::new(Prefs::default());
    Effect::new(move |_| prefs.set(load_prefs(&device.get())));
    // The groups the device proposed (hello comes before telemetry, so names follow it).
    let groups = Memo::new(move |_| {
        names.track();
        conn.with_session(|s| {
            s.device()
                .map(|h| {
                    h.series
                        .iter()
                        .filter_map(|(n, m)| Some((n.clone(), m.group.clone()?)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default()
    });
    let change = move |f: &dyn Fn(&mut Prefs, &[String], &Groups)| {
        let (all, groups) = (names.get_untracked(), groups.get_untracked());
        prefs.update(|p| f(p, &all, &groups));
        save_prefs(&device.get_untracked(), &prefs.get_untracked());
    };
    let charts = Memo::new(move |_| prefs.with(|p| p.charts(&names.get(), &groups.get())));
    let ordered = Memo::new(move |_| prefs.with(|p| p.ordered(&names.get())));
    let label = move |name: &str| {
        conn.with_session(|s| s.series_meta(name).and_then(|m| m.label.clone()))
            .flatten()
            .unwrap_or_else(|| name.to_string())
    };

    // Outside changes that call for a redraw: size (ResizeObserver), theme, arrangement.
    let size_gen = Rc::new(Cell::new(0u32));
    let theme_gen = Rc::new(Cell::new(0u32));
    let charts_gen = Rc::new(Cell::new(0u32));
    {
        let charts_gen = charts_gen.clone();
        Effect::new(move |_| {
            charts.track();
            charts_gen.set(charts_gen.get().wrapping_add(1));
        });
    }
    let watch = StoredValue::new_local(None::<dom::ResizeWatch>);
    {
        let size_gen = size_gen.clone();
        Effect::new(move |_| {
            let Some(el) = root.get() else { return };
            let size_gen = size_gen.clone();
            watch.set_value(dom::ResizeWatch::new(&el, move || size_gen.set(size_gen.get().wrapping_add(1))));
        });
    }
    let theme = StoredValue::new_local(None::<Theme>);
    let scheme = {
        let theme_gen = theme_gen.clone();
        dom::on_color_scheme_change(move |_| {
            theme.set_value(None);
            theme_gen.set(theme_gen.get().wrapping_add(1));
        })
    };
    let scheme = SendWrapper::new(scheme);

    // The span each frame drew, and the data's bounds: gestures work from these.
    let shown = StoredValue::new_local(None::<(Span, Span)>);
    let last_key = StoredValue::new_local(None::<FrameKey>);
    // Each chart's size in CSS pixels, read once per (resize, arrangement).
    let sizes = StoredValue::new_local(((u32::MAX, u32::MAX), Vec::<(String, (i32, i32))>::new()));
    // Each chart's axes layer, by its series.
    let axes = StoredValue::new_local(Vec::<(String, ChartCache)>::new());

    let frame = move |t: f64| {
        let Some(root) = root.get_untracked() else { return };
        let dpr = dom::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
        let Some((version, first, newest)) = conn.with_session(|s| {
            let h = s.history();
            let bounds =
                h.names().filter_map(|n| h.get(n)).fold((f64::INFINITY, f64::NEG_INFINITY), |b, r| {
                    (
                        b.0.min(r.first().map_or(f64::INFINITY, |s| s.0)),
                        b.1.max(r.last().map_or(b.1, |s| s.0)),
                    )
                });
            (h.version(), bounds.0, bounds.1)
        }) else {
            return;
        };
        if !newest.is_finite() {
            shown.set_value(None);
            return;
        }
        let (win, pause) = (window_ms.get_untracked(), paused_at.get_untracked());
        let newest = pause.unwrap_or(newest);
        let bounds = Span { t0: first.min(newest), t1: newest };
        let span = zoom.get_untracked().unwrap_or_else(|| Span::latest(first, newest, win));
        shown.set_value(Some((span, bounds)));
        let key = FrameKey {
            version: if pause.is_some() { 0 } else { version },
            window: win.to_bits(),
            span: (span.t0.to_bits(), span.t1.to_bits()),
            cursor: cursor.get_untracked().map_or(u64::MAX, f64::to_bits),
            dpr: dpr.to_bits(),
            theme: theme_gen.get(),
            size: size_gen.get(),
            charts: charts_gen.get(),
        };
        if last_key.get_value() == Some(key) {
            return;
        }
        last_key.set_value(Some(key));
        if theme.with_value(Option::is_none) {
            theme.set_value(read_theme(&root));
        }
        let Ok(canvases) = root.query_selector_all("canvas[data-series]") else { return };
        let mut text = String::new();
        let mut budget = FrameBudget { now_ms: t, headers: 1, exact: pause.is_some() };
        for i in 0..canvases.length() {
            let Some(canvas) = canvases.item(i).and_then(|n| n.dyn_into::<HtmlCanvasElement>().ok()) else {
                continue;
            };
            let attr = canvas.get_attribute("data-series").unwrap_or_default();
            let pointed = cursor_on.with_value(|c| *c == attr);
            let series: Vec<&str> = attr.split(' ').filter(|s| !s.is_empty()).collect();
            // Crisp on HiDPI: the backing store follows the element's size times the pixel ratio.
            // The size is read only after a resize or a new arrangement: reading it every frame
            // would force a layout of the page that the tiles just changed.
            let (cw, ch) = sizes
                .with_value(|(gen, list)| {
                    (*gen == (key.size, key.charts))
                        .then(|| list.iter().find(|(k, _)| *k == attr).map(|(_, s)| *s))
                        .flatten()
                })
                .unwrap_or_else(|| {
                    let size = (canvas.client_width(), canvas.client_height());
                    sizes.update_value(|(gen, list)| {
                        if *gen != (key.size, key.charts) {
                            *gen = (key.size, key.charts);
                            list.clear();
                        }
                        list.push((attr.clone(), size));
                    });
                    size
                });
            let (w, h) = ((f64::from(cw) * dpr) as u32, (f64::from(ch) * dpr) as u32);
            if w == 0 || h == 0 {
                continue;
            }
            if canvas.width() != w || canvas.height() != h {
                canvas.set_width(w);
                canvas.set_height(h);
            }
            let Some(ctx) = canvas
                .get_context("2d")
                .ok()
                .flatten()
                .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            else {
                continue;
            };
            let (left, _, right, _) = plot_area(f64::from(w), f64::from(h), dpr, series.len());
            let columns = (right - left).max(1.0) as usize;
            conn.with_session(|s| {
                let data: Vec<(String, &str, Vec<Column>, bool)> = series
                    .iter()
                    .map(|name| {
                        let meta = s.series_meta(name);
                        let columns = s
                            .history()
                            .get(name)
                            .map(|r| decimate(r, span.t0, span.t1, columns, GAP_MS))
                            .unwrap_or_default();
                        let whole = s.telemetry().series().iter().any(|x| x.name == *name && x.whole);
                        let label = meta.and_then(|m| m.label.clone()).unwrap_or_else(|| name.to_string());
                        (label, meta.and_then(|m| m.unit.as_deref()).unwrap_or(""), columns, whole)
                    })
                    .collect();
                let lines: Vec<Line> = data
                    .iter()
                    .map(|(label, unit, columns, whole)| Line { label, unit, columns, whole: *whole })
                    .collect();
                let range =
                    series.iter().filter_map(|n| s.series_meta(n)).fold((None, None), |(lo, hi), m| {
                        (min_opt(lo, m.min, f64::min), min_opt(hi, m.max, f64::max))
                    });
                let plot = Plot { lines: &lines, range, span, newest, cursor: cursor.get_untracked() };
                theme.with_value(|t| {
                    let Some(theme) = t else { return };
                    axes.update_value(|caches| {
                        let i = caches.iter().position(|(k, _)| *k == attr).unwrap_or_else(|| {
                            caches.push((attr.clone(), ChartCache::default()));
                            caches.len() - 1
                        });
                        let dims = (f64::from(w), f64::from(h), dpr);
                        draw(&canvas, &ctx, dims, &plot, theme, &mut caches[i].1, &mut budget);
                    });
                });
                if let (Some(f), true) = (plot.cursor, pointed) {
                    readout_line(&mut text, s, &series, &lines, span.at(f));
                }
            });
        }
        // Forget the axes of charts that are gone.
        if axes.with_value(|c| c.len() > canvases.length() as usize) {
            let shown: Vec<String> = (0..canvases.length())
                .filter_map(|i| {
                    canvases.item(i)?.dyn_into::<web_sys::Element>().ok()?.get_attribute("data-series")
                })
                .collect();
            axes.update_value(|c| c.retain(|(k, _)| shown.contains(k)));
        }
        if let Some(f) = cursor.get_untracked() {
            let at = format!("{:.2} s", (span.at(f) - newest) / 1000.0);
            text = format!("{at}{text}");
        }
        if readout.with_untracked(|r| *r != text) {
            readout.set(text);
        }
    };
    let looper = SendWrapper::new(AnimationLoop::new(frame));
    on_cleanup(move || {
        drop(looper.take());
        drop(scheme.take());
        watch.set_value(None);
    });

    // Gestures. While running, a pointer shows the crosshair only; while paused it also pans
    // (one finger or the mouse) and zooms (two fingers, or the wheel).
    let gesture = StoredValue::new_local(Gesture::default());
    let plot_frac = move |ev: &web_sys::MouseEvent| -> Option<(f64, f64)> {
        let canvas = ev.target()?.dyn_into::<HtmlCanvasElement>().ok()?;
        let rect = canvas.get_bounding_client_rect();
        let series = canvas.get_attribute("data-series").unwrap_or_default();
        let n = series.split(' ').count();
        if cursor_on.with_value(|c| *c != series) {
            cursor_on.set_value(series);
            last_key.set_value(None);
        }
        let (left, _, right, _) = plot_area(rect.width(), rect.height(), 1.0, n);
        let x = f64::from(ev.client_x()) - rect.left();
        Some(((x - left) / (right - left), right - left))
    };
    let paused_span = move || {
        paused_at.get_untracked()?;
        shown.get_value()
    };
    let on_down = move |ev: PointerEvent| {
        let Some((frac, _)) = plot_frac(&ev) else { return };
        if let Some(t) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
            let _ = t.set_pointer_capture(ev.pointer_id());
        }
        gesture.update_value(|g| {
            g.pointers.retain(|p| p.0 != ev.pointer_id());
            g.pointers.push((ev.pointer_id(), f64::from(ev.client_x())));
        });
        cursor.set(Some(frac.clamp(0.0, 1.0)));
    };
    let on_move = move |ev: PointerEvent| {
        let Some((frac, width)) = plot_frac(&ev) else { return };
        let x = f64::from(ev.client_x());
        let (before, others) = gesture.with_value(|g| {
            let me = g.pointers.iter().find(|p| p.0 == ev.pointer_id()).map(|p| p.1);
            let others: Vec<f64> =
                g.pointers.iter().filter(|p| p.0 != ev.pointer_id()).map(|p| p.1).collect();
            (me, others)
        });
        let down = before.is_some();
        if ev.pointer_type() == "mouse" || down {
            cursor.set(Some(frac.clamp(0.0, 1.0)));
        }
        let (Some(before), Some((span, bounds))) = (before, paused_span()) else { return };
        gesture.update_value(|g| {
            if let Some(p) = g.pointers.iter_mut().find(|p| p.0 == ev.pointer_id()) {
                p.1 = x;
            }
        });
        let next = match others.first() {
            // Two fingers: the distance between them sets the zoom, around their midpoint.
            Some(&other) => {
                let factor = pinch_factor((before - other).abs(), (x - other).abs());
                let mid = frac - (x - (x + other) / 2.0) / width;
                span.zoom(mid, factor, bounds)
            }
            None => span.pan((x - before) / width, bounds),
        };
        if next != span {
            zoom.set(Some(next));
        }
    };
    let on_up = move |ev: PointerEvent| {
        gesture.update_value(|g| g.pointers.retain(|p| p.0 != ev.pointer_id()));
        if ev.pointer_type() != "mouse" {
            cursor.set(None);
        }
    };
    let on_wheel = move |ev: WheelEvent| {
        let Some((span, bounds)) = paused_span() else { return };
        let Some((frac, _)) = plot_frac(&ev) else { return };
        ev.prevent_default();
        let next = span.zoom(frac, wheel_factor(ev.delta_y()), bounds);
        if next != span {
            zoom.set(Some(next));
        }
    };
    let toggle_pause = move || {
        if paused_at.get_untracked().is_some() {
            paused_at.set(None);
            zoom.set(None);
        } else {
            let newest = shown.get_value().map_or(0.0, |(_, b)| b.t1);
            paused_at.set(Some(newest));
        }
    };

    view! {
        <div class="chart-bar">
            {WINDOWS
                .into_iter()
                .map(|(ms, label)| view! {
                    <button class="small" class:on=move || window_ms.get() == ms && zoom.get().is_none()
                        on:click=move |_| { window_ms.set(ms); zoom.set(None); }>
                        {label}
                    </button>
                })
                .collect_view()}
            <button class="small pause" data-testid="pause" aria-pressed=move || paused_at.get().is_some().to_string()
                on:click=move |_| toggle_pause()>
                {move || if paused_at.get().is_some() { "Resume" } else { "Pause" }}
            </button>
            <button class="small" data-testid="csv" on:click=move |_| export_csv(conn)>"CSV"</button>
            <button class="small" data-testid="clear" on:click=move |_| {
                zoom.set(None);
                conn.with_session_mut(|s| s.clear_history());
            }>"Clear"</button>
            <button class="small" data-testid="arrange" aria-expanded=move || arranging.get().to_string()
                on:click=move |_| arranging.update(|a| *a = !*a)>"Arrange"</button>
        </div>
        <p class="chart-hint" data-testid="hint">
            {move || match (paused_at.get().is_some(), zoom.get().is_some()) {
                (false, _) => "Touch or point at a chart to read its values. Pause to zoom and pan.",
                (true, false) => "Paused. Drag to pan, pinch or scroll to zoom.",
                (true, true) => "Zoomed. Double-tap a chart or pick a window to zoom out.",
            }}
        </p>
        <div class="legend" data-testid="legend">
            <For each=move || ordered.get() key=|name| name.clone() let:name>
                {
                    let key = name.clone();
                    let off = Memo::new(move |_| prefs.with(|p| p.is_hidden(&key)));
                    let text = label(&name);
                    let series = name.clone();
                    view! {
                        <button class="chip" class:off=move || off.get() data-series=series aria-pressed=move || (!off.get()).to_string()
                            on:click=move |_| change(&|p, all, _| p.toggle_hidden(&name, all))>{text}</button>
                    }
                }
            </For>
        </div>
        <Show when=move || arranging.get()>
            <div class="arrange" data-testid="arrange-panel">
                <For each=move || ordered.get() key=|name| name.clone() let:name>
                    {arrange_row(name, ordered, charts, label, change)}
                </For>
                <button class="small" data-testid="arrange-reset" on:click=move |_| change(&|p, _, _| p.reset())>
                    "Back to the device's layout"
                </button>
            </div>
        </Show>
        <div class="readout" data-testid="readout" class:on=move || cursor.get().is_some()>{move || readout.get()}</div>
        <div class="charts" node_ref=root data-testid="charts"
            on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointercancel=on_up
            on:pointerleave=move |ev: PointerEvent| if ev.pointer_type() == "mouse" { cursor.set(None) }
            on:wheel=on_wheel on:dblclick=move |_| zoom.set(None)>
            <For each=move || charts.get() key=|c: &ChartSpec| (c.key.clone(), c.series.clone()) let:chart>
                <canvas class="chart" data-chart=chart.key.clone() data-series=chart.series.join(" ")
                    style:height=format!("{}px", 120 + 17 * (chart.series.len() - 1))></canvas>
            </For>
        </div>
    }
}

/// One row of the arrange panel: move up/down, and which chart the series goes in.
fn arrange_row(
    name: String,
    ordered: Memo<Vec<String>>,
    charts: Memo<Vec<ChartSpec>>,
    label: impl Fn(&str) -> String + Copy + Send + Sync + 'static,
    change: impl Fn(&dyn Fn(&mut Prefs, &[String], &Groups)) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let me = name.clone();
    // The first other series on this one's chart: what the select shows.
    let partner = Memo::new(move |_| {
        charts.with(|cs| {
            cs.iter()
                .find(|c| c.series.contains(&me))
                .and_then(|c| c.series.iter().find(|s| **s != me).cloned())
                .unwrap_or_default()
        })
    });
    let (up, down, pick) = (name.clone(), name.clone(), name.clone());
    let others = {
        let name = name.clone();
        move || ordered.get().into_iter().filter(|n| *n != name).collect::<Vec<_>>()
    };
    view! {
        <div class="arrange-row" data-series=name.clone()>
            <span class="arrange-name">{label(&name)}</span>
            <button class="small" aria-label="Move up" on:click=move |_| change(&|p, all, g| p.move_by(&up, true, all, g))>"↑"</button>
            <button class="small" aria-label="Move down" on:click=move |_| change(&|p, all, g| p.move_by(&down, false, all, g))>"↓"</button>
            <select aria-label="Chart" prop:value=move || partner.get() on:change=move |ev| {
                let other = event_target_value(&ev);
                change(&|p, all, groups| {
                    if other.is_empty() {
                        p.set_alone(&pick, all);
                    } else {
                        p.join(&pick, &other, all, groups);
                    }
                });
            }>
                <option value="">"Own chart"</option>
                <For each=others key=|n| n.clone() let:other>
                    <option value=other.clone()>{format!("With {}", label(&other))}</option>
                </For>
            </select>
        </div>
    }
}

fn min_opt(a: Option<f64>, b: Option<f64>, f: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(f(a, b)),
        (a, b) => a.or(b),
    }
}

/// ` · Label value unit` for each series of a chart at time `t` (`–` where no sample is near).
fn readout_line(out: &mut String, s: &Session, series: &[&str], lines: &[Line], t: f64) {
    for (name, line) in series.iter().zip(lines) {
        let value = s
            .history()
            .get(name)
            .and_then(|r| r.nearest(t, GAP_MS))
            .map_or("–".to_string(), |(_, v)| format!("{} {}", format_value(v, line.whole), line.unit));
        out.push_str(&format!(" · {} {}", line.label, value.trim_end()));
    }
}

fn prefs_key(device: &str) -> String {
    format!("wsdeck.charts.layout.{device}")
}

fn load_prefs(device: &str) -> Prefs {
    dom::storage_get(&prefs_key(device)).map(|v| Prefs::parse(&v)).unwrap_or_default()
}

fn save_prefs(device: &str, prefs: &Prefs) {
    let value = prefs.serialize();
    dom::storage_set(&prefs_key(device), (!prefs.is_empty()).then_some(value.as_str()));
}

/// Downloads every buffered sample as `wsdeck-<device>-<date>.csv`.
fn export_csv(conn: Connection) {
    let Some((text, device)) = conn.with_session(|s| {
        let device =
            s.device().map(|h| h.name.clone()).filter(|n| !n.is_empty()).unwrap_or_else(|| "device".into());
        (super::csv::to_csv(s.history()), device)
    }) else {
        return;
    };
    let date = js_sys::Date::new_0().to_iso_string().as_string().unwrap_or_default();
    let stamp: String = date.chars().take(19).map(|c| if c == ':' { '-' } else { c }).collect();
    let device: String = device.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    dom::download(&format!("wsdeck-{device}-{stamp}.csv"), "text/csv", &text);
}

/// The page's colours, from its CSS variables.
fn read_theme(root: &web_sys::HtmlDivElement) -> Option<Theme> {
    let style = dom::window()?.get_computed_style(root).ok()??;
    let var = |name: &str, fallback: &str| {
        let v = style.get_property_value(name).unwrap_or_default().trim().to_string();
        if v.is_empty() {
            fallback.to_string()
        } else {
            v
        }
    };
    Some(Theme {
        text: var("--text", "#e8edf2"),
        muted: var("--muted", "#93a1b0"),
        line: var("--line", "#2a323c"),
        accent: var("--accent", "#4fb3ff"),
    })
}
