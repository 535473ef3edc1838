//! What the simulator shares with the firmware bundle (`cargo xtask dist`): how each built file is
//! served, so that the simulator and a device send the same MIME type, ETag and cache policy.

pub mod assets;
pub mod profile;
