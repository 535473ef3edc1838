//! wsdeck: drive and watch a WiFi device from a phone. `main.rs` mounts [`App`]; each capability
//! has its folder (`connection/`, `controls/`, `series/`, `telemetry/`, `chart/`, `drive/`,
//! `device/`, `pwa/`), `shell/` holds the page frame and `dom.rs` the owned browser handles
//! (docs/ARCHITECTURE.md).

pub mod chart;
pub mod connection;
pub mod controls;
pub mod device;
pub mod dom;
pub mod drive;
#[cfg(feature = "fleet")]
pub mod fleet;
pub mod pwa;
pub mod series;
pub mod shell;
pub mod telemetry;

use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    connection::provide_connection();
    pwa::provide_pwa();
    view! { <shell::Shell/> }
}
