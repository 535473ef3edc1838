//! Charts: every series a device streams, kept in ring buffers and drawn decimated to the pixel.

pub mod csv;
pub mod decimate;
pub mod draw;
pub mod history;
pub mod layout;
pub mod ring;
mod view;
pub mod viewport;

pub use view::Charts;
