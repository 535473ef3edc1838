//! Charts: every number and on/off series a device streams, drawn from the series store's ring
//! buffers, decimated to the pixel.

pub mod csv;
pub mod decimate;
#[cfg(feature = "charts")]
pub mod draw;
pub mod layout;
#[cfg(feature = "charts")]
pub mod render;
pub mod ring;
#[cfg(feature = "charts")]
mod view;
pub mod viewport;

#[cfg(feature = "charts")]
pub use view::Charts;
