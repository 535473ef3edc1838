//! The charts on the Charts page: one canvas per series, drawn by a single animation-frame loop
//! that redraws only when data, the window, the size or the pause state changed.

use super::decimate::decimate;
use super::draw::{draw, Plot, Theme};
use super::history::History;
use crate::connection::Connection;
use crate::dom::{self, AnimationLoop};
use leptos::html::Div;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Time windows offered, in ms.
const WINDOWS: [(f64, &str); 4] =
    [(10_000.0, "10 s"), (60_000.0, "1 min"), (600_000.0, "10 min"), (f64::INFINITY, "All")];
/// A pause in the data longer than this is drawn as a gap.
const GAP_MS: f64 = 2000.0;

#[component]
pub fn Charts() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let window_ms = RwSignal::new(10_000.0_f64);
    let paused = RwSignal::new(false);
    let names = Memo::new(move |_| {
        conn.telemetry_frame.track();
        conn.with_session(|s| s.history().names().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default()
    });
    let root = NodeRef::<Div>::new();

    // Series the person hid, remembered per device (by its name, or its address).
    let device =
        Memo::new(move |_| conn.status.with(|s| s.device_name.clone().unwrap_or_else(|| s.url.clone())));
    let hidden = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| hidden.set(load_hidden(&device.get())));
    let toggle = move |name: String| {
        hidden.update(|h| {
            if let Some(i) = h.iter().position(|n| *n == name) {
                h.remove(i);
            } else {
                h.push(name);
            }
        });
        save_hidden(&device.get_untracked(), &hidden.get_untracked());
    };
    let shown_names = move || {
        let h = hidden.get();
        names.get().into_iter().filter(|n| !h.contains(n)).collect::<Vec<_>>()
    };
    let label = move |name: &str| {
        conn.with_session(|s| s.series_meta(name).and_then(|m| m.label.clone()))
            .flatten()
            .unwrap_or_else(|| name.to_string())
    };

    // What was drawn last: (data version, window, paused, width, height) per canvas.
    let drawn = StoredValue::new_local(Vec::<(String, (u64, u64, bool, u32, u32))>::new());
    // While paused, each series keeps the end of the window it had when the pause began.
    let frozen = StoredValue::new_local(Vec::<(String, f64)>::new());
    let theme = StoredValue::new_local(None::<Theme>);

    let frame = move |_t: f64| {
        let Some(root) = root.get_untracked() else { return };
        let (win, pause) = (window_ms.get_untracked(), paused.get_untracked());
        if theme.with_value(Option::is_none) {
            theme.set_value(read_theme(&root));
        }
        let Ok(canvases) = root.query_selector_all("canvas[data-series]") else { return };
        let dpr = dom::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
        let Some(version) = conn.with_session(|s| s.history().version()) else { return };
        for i in 0..canvases.length() {
            let Some(canvas) = canvases.item(i).and_then(|n| n.dyn_into::<HtmlCanvasElement>().ok()) else {
                continue;
            };
            let Some(name) = canvas.get_attribute("data-series") else { continue };
            // Crisp on HiDPI: the backing store follows the element's size times the pixel ratio.
            let (w, h) = (
                (f64::from(canvas.client_width()) * dpr) as u32,
                (f64::from(canvas.client_height()) * dpr) as u32,
            );
            if w == 0 || h == 0 {
                continue;
            }
            if canvas.width() != w || canvas.height() != h {
                canvas.set_width(w);
                canvas.set_height(h);
            }
            let key = (if pause { 0 } else { version }, win.to_bits(), pause, w, h);
            let unchanged = drawn.with_value(|d| d.iter().any(|(n, k)| *n == name && *k == key));
            if unchanged {
                continue;
            }
            let Some(ctx) = canvas
                .get_context("2d")
                .ok()
                .flatten()
                .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            else {
                continue;
            };
            conn.with_session(|s| {
                let history: &History = s.history();
                let Some(ring) = history.get(&name) else { return };
                let end = if pause {
                    let kept = frozen.with_value(|f| f.iter().find(|(n, _)| *n == name).map(|(_, t)| *t));
                    kept.unwrap_or_else(|| {
                        let t = ring.last().map(|s| s.0).unwrap_or(0.0);
                        frozen.update_value(|f| f.push((name.clone(), t)));
                        t
                    })
                } else {
                    ring.last().map(|s| s.0).unwrap_or(0.0)
                };
                let start =
                    if win.is_finite() { end - win } else { ring.first().map(|s| s.0).unwrap_or(end) };
                let columns = decimate(ring, start, end, w as usize, GAP_MS);
                let latest = columns.last().map(|c| c.last);
                let whole = s.telemetry().series().iter().any(|x| x.name == name && x.whole);
                let meta = s.series_meta(&name);
                let title = match meta.and_then(|m| m.label.as_deref()) {
                    Some(label) => label.to_string(),
                    None => name.clone(),
                };
                let unit = meta.and_then(|m| m.unit.as_deref()).unwrap_or("");
                let range = meta.map(|m| (m.min, m.max)).unwrap_or((None, None));
                theme.with_value(|t| {
                    if let Some(theme) = t {
                        let plot = Plot {
                            title: &title,
                            unit,
                            range,
                            columns: &columns,
                            latest,
                            whole,
                            window_ms: win,
                        };
                        draw(&ctx, f64::from(w), f64::from(h), dpr, &plot, theme);
                    }
                });
            });
            drawn.update_value(|d| {
                d.retain(|(n, _)| *n != name);
                d.push((name, key));
            });
        }
        if !pause {
            frozen.update_value(Vec::clear);
        }
    };
    let looper = SendWrapper::new(AnimationLoop::new(frame));
    on_cleanup(move || drop(looper.take()));

    view! {
        <div class="chart-bar">
            {WINDOWS
                .into_iter()
                .map(|(ms, label)| view! {
                    <button class="small" class:on=move || window_ms.get() == ms on:click=move |_| window_ms.set(ms)>
                        {label}
                    </button>
                })
                .collect_view()}
            <button class="small pause" data-testid="pause" on:click=move |_| paused.update(|p| *p = !*p)>
                {move || if paused.get() { "Resume" } else { "Pause" }}
            </button>
            <button class="small" data-testid="csv" on:click=move |_| export_csv(conn)>"CSV"</button>
            <button class="small" data-testid="clear" on:click=move |_| {
                conn.with_session_mut(|s| s.clear_history());
            }>"Clear"</button>
        </div>
        <div class="legend" data-testid="legend">
            <For each=move || names.get() key=|name| name.clone() let:name>
                {
                    let key = name.clone();
                    let off = Memo::new(move |_| hidden.with(|h| h.contains(&key)));
                    let text = label(&name);
                    let series = name.clone();
                    view! {
                        <button class="chip" class:off=move || off.get() data-series=series aria-pressed=move || (!off.get()).to_string()
                            on:click=move |_| toggle(name.clone())>{text}</button>
                    }
                }
            </For>
        </div>
        <div class="charts" node_ref=root data-testid="charts">
            <For each=shown_names key=|name| name.clone() let:name>
                <canvas class="chart" data-series=name></canvas>
            </For>
        </div>
    }
}

fn hidden_key(device: &str) -> String {
    format!("wsdeck.charts.hidden.{device}")
}

fn load_hidden(device: &str) -> Vec<String> {
    dom::storage_get(&hidden_key(device))
        .map(|v| v.split('\n').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

fn save_hidden(device: &str, hidden: &[String]) {
    let value = hidden.join("\n");
    dom::storage_set(&hidden_key(device), (!value.is_empty()).then_some(value.as_str()));
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
