//! Controls the device declares (buttons, toggles, sliders, selects, text, numbers, gauges, leds,
//! values): `model.rs` decides what each shows and what goes out, `view.rs` draws them on the
//! Controls page and, for the `drive` ones, on the Drive page.

pub mod model;
mod view;

pub use view::{ControlsPage, DriveControls};
