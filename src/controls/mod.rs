//! Controls the device declares (buttons, toggles, sliders, selects, text, numbers, gauges, leds,
//! values): `model.rs` decides what each shows and what goes out, `view.rs` draws them on the
//! Controls page and, for the `drive` ones, on the Drive page, with `gauge.rs` drawing each gauge
//! on a canvas. Without the `controls` feature
//! `off.rs` stands in for both (nothing declared is read).

#[cfg(feature = "controls")]
mod gauge;
pub mod model;
#[cfg(not(feature = "controls"))]
mod off;
#[cfg(feature = "controls")]
mod view;

#[cfg(feature = "controls")]
pub use model::Panel;
#[cfg(not(feature = "controls"))]
pub use off::{ControlsPage, DriveControls, Panel};
#[cfg(feature = "controls")]
pub use view::{ControlsPage, DriveControls};
