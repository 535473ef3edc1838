//! Telemetry: the numbers a device streams, and the tiles that show their latest values.

pub mod store;
mod tiles;

pub use tiles::Tiles;
