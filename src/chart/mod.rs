//! Charts: every series a device streams, kept in ring buffers and drawn decimated to the pixel.
//! So far the data side: ring buffers and min/max decimation; the Charts page still shows tiles.

pub mod decimate;
pub mod ring;
