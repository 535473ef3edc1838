//! One tile per series with its latest reading. Reads the non-reactive series store when the
//! connection's telemetry frame signal ticks (and each second, for staleness).
//!
//! Built with plain DOM calls and one effect, not `view!`: the tiles are on the first screen, in
//! the main wasm, and a keyed `For` of `Tile` components with their memos cost ~4 KiB gzip more
//! of it (docs/SIZE.md). What a tile shows is decided in `tile.rs`; here each tile's elements are
//! only touched where that changed.

use super::tile::{shown, Shown};
use crate::connection::session::{LinkState, Session};
use crate::connection::Connection;
use crate::dom::{self, el};
use leptos::prelude::*;
use web_sys::{Document, Element};

#[component]
pub fn Tiles() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let host = NodeRef::<leptos::html::Div>::new();
    let board = StoredValue::new_local(Board::default());
    Effect::new(move |_| {
        conn.telemetry_frame.track();
        conn.second.track();
        // The link's state makes tiles stale; a new hello brings labels and units.
        let linked = conn.status.with(|s| s.state == LinkState::Connected);
        let (Some(host), Some(doc)) = (host.get(), dom::window().and_then(|w| w.document())) else { return };
        let now = dom::now_ms();
        board.update_value(|b| {
            conn.with_session(|s| b.show(&doc, &host, s, now, linked));
        });
    });
    view! { <div class="tiles-host" node_ref=host></div> }
}

/// What is on the page: the "no telemetry" line, or the grid and its tiles in series order.
#[derive(Default)]
struct Board {
    empty: Option<Element>,
    grid: Option<Element>,
    tiles: Vec<TileView>,
}

impl Board {
    fn show(&mut self, doc: &Document, host: &Element, s: &Session, now: f64, linked: bool) {
        let series = s.series();
        if series.is_empty() {
            if self.empty.is_none() {
                *self = Board::default();
                host.set_text_content(None);
                let text = "No telemetry yet. Every number the device sends appears here as a tile.";
                let attrs = [("class", "empty"), ("data-testid", "no-telemetry")];
                self.empty = Some(el(doc, host, "p", &attrs, text));
            }
            return;
        }
        let grid = match &self.grid {
            Some(g) => g.clone(),
            None => {
                *self = Board::default();
                host.set_text_content(None);
                let g = el(doc, host, "div", &[("class", "tiles"), ("data-testid", "tiles")], "");
                self.grid = Some(g.clone());
                g
            }
        };
        // Names change rarely (a new series): then the tiles are put in the store's order again,
        // each kept with its elements, a new one made, a gone one removed.
        if !self.tiles.iter().map(|t| &t.name).eq(series.iter().map(|x| &x.name)) {
            let mut old = std::mem::take(&mut self.tiles);
            for x in series.iter() {
                let tile = match old.iter().position(|t| t.name == x.name) {
                    Some(i) => old.swap_remove(i),
                    None => TileView::new(doc, &grid, &x.name),
                };
                let _ = grid.append_child(&tile.root);
                self.tiles.push(tile);
            }
            old.iter().for_each(|t| t.root.remove());
        }
        for (tile, x) in self.tiles.iter_mut().zip(series.iter()) {
            // Label and unit from the device's hello, when it gave them.
            let meta = s.series_meta(&x.name);
            let shown = shown(x, now, linked);
            let label = meta.and_then(|m| m.label.as_deref()).unwrap_or(&x.name);
            let unit = meta.and_then(|m| m.unit.as_deref()).filter(|_| shown.unit).unwrap_or_default();
            tile.show(doc, label, unit, shown);
        }
    }
}

/// One tile's elements, and what they show.
struct TileView {
    name: String,
    root: Element,
    label: Element,
    num: Element,
    unit: Element,
    /// Under a gap: the last good value and its age.
    note: Option<Element>,
    /// What is on screen: label, unit, reading (`None` before the first).
    drawn: Option<(String, String, Shown)>,
}

impl TileView {
    fn new(doc: &Document, grid: &Element, name: &str) -> TileView {
        let root = el(doc, grid, "div", &[("class", "tile"), ("data-series", name)], "");
        let label = el(doc, &root, "span", &[("class", "tile-name")], "");
        let value = el(doc, &root, "span", &[("class", "tile-value")], "");
        let num = el(doc, &value, "span", &[("class", "num")], "");
        let unit = el(doc, &value, "small", &[("class", "unit")], "");
        TileView { name: name.to_string(), root, label, num, unit, note: None, drawn: None }
    }

    /// Puts what changed since the last time on the page.
    fn show(&mut self, doc: &Document, label: &str, unit: &str, shown: Shown) {
        let (l, u, b) = match &self.drawn {
            Some((l, u, b)) => (Some(l.as_str()), Some(u.as_str()), Some(b)),
            None => (None, None, None),
        };
        if b == Some(&shown) && l == Some(label) && u == Some(unit) {
            return;
        }
        if l != Some(label) {
            self.label.set_text_content(Some(label));
        }
        if u != Some(unit) {
            self.unit.set_text_content(Some(unit));
        }
        if b.map(|b| &b.value) != Some(&shown.value) {
            self.num.set_text_content(Some(&shown.value));
        }
        if b.map(|b| b.stale) != Some(shown.stale) {
            let _ = self.root.set_attribute("class", if shown.stale { "tile stale" } else { "tile" });
        }
        if b.map(|b| &b.note) != Some(&shown.note) {
            match (&shown.note, &self.note) {
                (Some(n), Some(e)) => e.set_text_content(Some(n)),
                (Some(n), None) => {
                    self.note = Some(el(doc, &self.root, "small", &[("class", "tile-note")], n))
                }
                (None, Some(e)) => {
                    e.remove();
                    self.note = None;
                }
                (None, None) => {}
            }
        }
        self.drawn = Some((label.to_string(), unit.to_string(), shown));
    }
}
