//! Telemetry tiles: the latest reading of every series a device streams (the readings themselves
//! live in `crate::series`).

mod tile;
mod tiles;

/// One reading as a tile shows it, for the Drive page's status strip too.
pub(crate) use tile::shown;
pub use tiles::Tiles;
