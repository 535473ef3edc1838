//! The Charts page: toolbar, legend, arrange panel and a canvas per chart of the `charts` memo,
//! drawn by one animation-frame loop. What a frame draws and keeps is decided by
//! [`ChartsRenderer`]; pointer events become span changes in [`Gestures`]. This file only wires
//! them to the DOM.

use super::draw::{draw, plot_area, FrameBudget, Theme};
use super::layout::{ChartSpec, Groups, Prefs};
use super::render::{shown, ChartData, ChartsRenderer, Frame, Shown};
use super::viewport::{At, Change, Gestures, Pointer, Span};
use crate::connection::Connection;
use crate::dom::{self, AnimationLoop};
use leptos::html::Div;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, PointerEvent, WheelEvent};

/// Time windows offered, in ms.
const WINDOWS: [(f64, &str); 4] =
    [(10_000.0, "10 s"), (60_000.0, "1 min"), (600_000.0, "10 min"), (f64::INFINITY, "All")];

/// The canvases on the page by chart key, registered as they mount: the frame loop finds each
/// chart of the `charts` memo here, and a pointer event its chart, without reading the DOM back.
#[derive(Default)]
struct Canvases {
    next: u64,
    list: Vec<(u64, String, HtmlCanvasElement)>,
}

impl Canvases {
    /// An id for a canvas about to mount.
    fn reserve(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    fn add(&mut self, id: u64, key: String, canvas: HtmlCanvasElement) {
        self.list.push((id, key, canvas));
    }

    fn remove(&mut self, id: u64) {
        self.list.retain(|(i, _, _)| *i != id);
    }

    /// The newest canvas of a chart (a chart whose series changed is replaced by a new canvas).
    fn get(&self, key: &str) -> Option<&HtmlCanvasElement> {
        self.list.iter().rev().find(|(_, k, _)| k == key).map(|(_, _, c)| c)
    }

    fn key_of(&self, canvas: &HtmlCanvasElement) -> Option<&str> {
        self.list.iter().find(|(_, _, c)| c == canvas).map(|(_, k, _)| k.as_str())
    }
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
    let readout = RwSignal::new(String::new());
    let arranging = RwSignal::new(false);
    let root = NodeRef::<Div>::new();

    // The charted series (numbers and on/off; text has tiles only), as they first came.
    let names = Memo::new(move |_| {
        conn.telemetry_frame.track();
        conn.with_session(|s| s.series().charted().map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default()
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
    // The only source of what is drawn.
    let charts = Memo::new(move |_| prefs.with(|p| p.charts(&names.get(), &groups.get())));
    let ordered = Memo::new(move |_| prefs.with(|p| p.ordered(&names.get())));
    let label = move |name: &str| {
        conn.with_session(|s| s.series_meta(name).and_then(|m| m.label.clone()))
            .flatten()
            .unwrap_or_else(|| name.to_string())
    };

    let renderer = StoredValue::new_local(ChartsRenderer::default());
    let canvases = StoredValue::new_local(Canvases::default());
    // Outside changes that call for a redraw: arrangement, size (ResizeObserver), theme.
    Effect::new(move |_| {
        charts.track();
        renderer.update_value(ChartsRenderer::rearranged);
    });
    let watch = StoredValue::new_local(None::<dom::ResizeWatch>);
    Effect::new(move |_| {
        let Some(el) = root.get() else { return };
        watch.set_value(dom::ResizeWatch::new(&el, move || renderer.update_value(ChartsRenderer::resized)));
    });
    let scheme = dom::on_colours_change(move |_| renderer.update_value(ChartsRenderer::theme_changed));
    let scheme = SendWrapper::new(scheme);

    // The span each frame drew, and the data's bounds: gestures work from these.
    let last_shown = StoredValue::new_local(None::<Shown>);

    let frame = move |t: f64| {
        let Some(root) = root.get_untracked() else { return };
        let dpr = dom::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
        let (window, pause) = (window_ms.get_untracked(), paused_at.get_untracked());
        let Some((version, now)) = conn
            .with_session(|s| (s.series().version(), shown(s.series(), window, pause, zoom.get_untracked())))
        else {
            return;
        };
        last_shown.set_value(now);
        let Some(now) = now else { return };
        let cursor = cursor.get_untracked();
        let version = if pause.is_some() { 0 } else { version };
        let frame = Frame { version, window, span: now.span, cursor, dpr };
        if !renderer.try_update_value(|r| r.due(frame)).unwrap_or(false) {
            return;
        }
        renderer.update_value(|r| r.load_theme(|| read_theme(&root)));
        let mut text = String::new();
        let mut budget = FrameBudget { now_ms: t, headers: 1, exact: pause.is_some() };
        conn.with_session(|s| {
            charts.with_untracked(|specs| {
                renderer.update_value(|r| {
                    for spec in specs {
                        let Some(canvas) = canvases.with_value(|c| c.get(&spec.key).cloned()) else {
                            continue;
                        };
                        let Some(data) = draw_chart(r, &canvas, spec, dpr, |columns| {
                            ChartData::new(s.series(), s.device(), spec, now.span, columns)
                        }) else {
                            continue;
                        };
                        let plot = super::draw::Plot {
                            lines: &data.lines(),
                            range: data.range,
                            span: now.span,
                            newest: now.newest,
                            cursor,
                        };
                        if let (Some(ctx), Some((theme, cache))) = (context(&canvas), r.layers(&spec.key)) {
                            let dims = (f64::from(canvas.width()), f64::from(canvas.height()), dpr);
                            draw(&canvas, &ctx, dims, &plot, theme, cache, &mut budget);
                        }
                        if let (Some(f), true) = (cursor, r.pointed() == spec.key) {
                            data.readout(s.series(), now.span.at(f), &mut text);
                        }
                    }
                    r.retain(specs);
                });
            });
        });
        if let Some(f) = cursor {
            text = format!("{:.2} s{text}", (now.span.at(f) - now.newest) / 1000.0);
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

    // Gestures: the state machine says what changes, this carries it out.
    let gestures = StoredValue::new_local(Gestures::default());
    let paused = move || {
        paused_at.get_untracked()?;
        last_shown.get_value().map(|s| (s.span, s.bounds))
    };
    let gesture = move |event: Pointer, dom_event: &web_sys::Event| {
        let changes = gestures.try_update_value(|g| g.on(event, paused())).unwrap_or_default();
        for change in changes {
            match change {
                Change::Cursor(c) => cursor.set(c),
                Change::Zoom(z) => zoom.set(z),
                Change::Consume => dom_event.prevent_default(),
            }
        }
    };
    // Where the pointer is on the chart under it; that chart's series go in the readout.
    let at = move |ev: &web_sys::MouseEvent| -> Option<At> {
        let canvas = ev.target()?.dyn_into::<HtmlCanvasElement>().ok()?;
        let key = canvases.with_value(|c| c.key_of(&canvas).map(str::to_string))?;
        let lines = charts.with_untracked(|cs| cs.iter().find(|c| c.key == key).map(|c| c.series.len()))?;
        renderer.update_value(|r| r.point_at(&key));
        let rect = canvas.get_bounding_client_rect();
        let (left, _, right, _) = plot_area(rect.width(), rect.height(), 1.0, lines);
        let x = f64::from(ev.client_x());
        Some(At { x, frac: (x - rect.left() - left) / (right - left), width: right - left })
    };
    let mouse = |ev: &PointerEvent| ev.pointer_type() == "mouse";
    let on_down = move |ev: PointerEvent| {
        let Some(at) = at(&ev) else { return };
        if let Some(t) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
            let _ = t.set_pointer_capture(ev.pointer_id());
        }
        gesture(Pointer::Down { id: ev.pointer_id(), mouse: mouse(&ev), at }, &ev);
    };
    let on_move = move |ev: PointerEvent| {
        let Some(at) = at(&ev) else { return };
        gesture(Pointer::Move { id: ev.pointer_id(), mouse: mouse(&ev), at }, &ev);
    };
    let on_up = move |ev: PointerEvent| gesture(Pointer::Up { id: ev.pointer_id(), mouse: mouse(&ev) }, &ev);
    let on_leave = move |ev: PointerEvent| gesture(Pointer::Leave { mouse: mouse(&ev) }, &ev);
    let on_wheel = move |ev: WheelEvent| {
        let Some(at) = at(&ev) else { return };
        gesture(Pointer::Wheel { at, delta_y: ev.delta_y() }, &ev);
    };
    let on_double = move |ev: web_sys::MouseEvent| gesture(Pointer::DoubleTap, &ev);
    let toggle_pause = move || {
        if paused_at.get_untracked().is_some() {
            paused_at.set(None);
            zoom.set(None);
        } else {
            let newest = last_shown.get_value().map_or(0.0, |s| s.bounds.t1);
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
            on:pointerleave=on_leave on:wheel=on_wheel on:dblclick=on_double>
            <For each=move || charts.get() key=|c: &ChartSpec| (c.key.clone(), c.series.clone()) let:chart>
                {chart_canvas(chart, canvases, label)}
            </For>
        </div>
    }
}

/// A chart's canvas, registered by its key while it is on the page. Its fallback content names
/// its series (for assistive technology, and for tests to find a chart by what it shows).
fn chart_canvas(
    chart: ChartSpec,
    canvases: StoredValue<Canvases, LocalStorage>,
    label: impl Fn(&str) -> String,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Canvas>::new();
    let id = canvases.try_update_value(Canvases::reserve).unwrap_or_default();
    let key = chart.key.clone();
    node.on_load(move |canvas| canvases.update_value(|c| c.add(id, key, canvas)));
    on_cleanup(move || canvases.update_value(|c| c.remove(id)));
    let labels: Vec<String> = chart.series.iter().map(|n| label(n)).collect();
    let (aria, height) = (labels.join(", "), format!("{}px", 120 + 17 * (chart.series.len() - 1)));
    view! {
        <canvas class="chart" node_ref=node data-chart=chart.key.clone() role="img" aria-label=aria style:height=height>
            {chart.series.into_iter().zip(labels).map(|(name, label)| view! { <span data-series=name>{label}</span> }).collect_view()}
        </canvas>
    }
}

/// Sizes a chart's canvas (crisp on HiDPI: the backing store follows the element's size times the
/// pixel ratio) and gathers its data for the plotting area's width. `None`: nothing to draw on.
fn draw_chart(
    r: &mut ChartsRenderer,
    canvas: &HtmlCanvasElement,
    spec: &ChartSpec,
    dpr: f64,
    data: impl FnOnce(usize) -> ChartData,
) -> Option<ChartData> {
    let (cw, ch) = r.size(&spec.key, || (canvas.client_width(), canvas.client_height()));
    let (w, h) = ((f64::from(cw) * dpr) as u32, (f64::from(ch) * dpr) as u32);
    if w == 0 || h == 0 {
        return None;
    }
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let (left, _, right, _) = plot_area(f64::from(w), f64::from(h), dpr, spec.series.len());
    Some(data((right - left).max(1.0) as usize))
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
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
        (super::csv::to_csv(s.series()), device)
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
    let mut v = dom::css_values(root, &["--text", "--muted", "--line", "--accent"]).into_iter();
    let mut var = |fallback: &str| v.next().filter(|v| !v.is_empty()).unwrap_or_else(|| fallback.to_string());
    Some(Theme { text: var("#e8edf2"), muted: var("#93a1b0"), line: var("#2a323c"), accent: var("#4fb3ff") })
}
