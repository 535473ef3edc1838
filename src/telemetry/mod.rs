//! Telemetry tiles: the latest reading of every series a device streams (the readings themselves
//! live in `crate::series`).

mod tile;
mod tiles;

pub use tiles::Tiles;
