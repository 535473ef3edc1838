//! Charts: every series a device streams, kept in ring buffers and drawn decimated to the pixel.

pub mod csv;
pub mod decimate;
#[cfg(feature = "charts")]
pub mod draw;
pub mod history;
pub mod layout;
pub mod ring;
#[cfg(feature = "charts")]
mod view;
pub mod viewport;

#[cfg(feature = "charts")]
pub use view::Charts;
