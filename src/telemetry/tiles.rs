//! One tile per series with its latest reading. Reads the non-reactive series store when the
//! connection's telemetry frame signal ticks.

use super::tile::{shown, Shown};
use crate::connection::session::LinkState;
use crate::connection::Connection;
use leptos::prelude::*;

#[component]
pub fn Tiles() -> impl IntoView {
    let conn = expect_context::<Connection>();
    // Names change rarely; the memo keeps the tile list from being rebuilt on every value.
    let names = Memo::new(move |_| {
        conn.telemetry_frame.track();
        conn.with_session(|s| s.series().iter().map(|x| x.name.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
    });
    view! {
        <Show
            when=move || names.with(|n| !n.is_empty())
            fallback=|| view! {
                <p class="empty" data-testid="no-telemetry">
                    "No telemetry yet. Every number the device sends appears here as a tile."
                </p>
            }
        >
            <div class="tiles" data-testid="tiles">
                <For each=move || names.get() key=|name| name.clone() let:name>
                    <Tile name=name/>
                </For>
            </div>
        </Show>
    }
}

#[component]
fn Tile(name: String) -> impl IntoView {
    let conn = expect_context::<Connection>();
    let key = name.clone();
    let reading = move || {
        conn.telemetry_frame.track();
        conn.second.track();
        let linked = conn.status.with(|s| s.state == LinkState::Connected);
        let now = crate::dom::now_ms();
        conn.with_session(|s| s.series().get(&key).map(|x| shown(x, now, linked))).flatten().unwrap_or_else(
            || Shown { value: crate::series::format::NONE.into(), note: None, unit: false, stale: true },
        )
    };
    let reading = Memo::new(move |_| reading());
    // Label and unit from the device's hello, when it gave them.
    let key = name.clone();
    let meta = Memo::new(move |_| {
        conn.status.with(|s| s.device_name.clone());
        conn.with_session(|s| s.series_meta(&key).map(|m| (m.label.clone(), m.unit.clone()))).flatten()
    });
    let series = name.clone();
    let label = move || meta.get().and_then(|m| m.0).unwrap_or_else(|| name.clone());
    let unit = move || {
        if reading.with(|r| r.unit) {
            meta.get().and_then(|m| m.1).unwrap_or_default()
        } else {
            String::new()
        }
    };
    let note = move || reading.with(|r| r.note.clone());
    view! {
        <div class="tile" class:stale=move || reading.with(|r| r.stale) data-series=series>
            <span class="tile-name">{label}</span>
            <span class="tile-value"><span class="num">{move || reading.with(|r| r.value.clone())}</span><small class="unit">{unit}</small></span>
            {move || note().map(|n| view! { <small class="tile-note">{n}</small> })}
        </div>
    }
}
