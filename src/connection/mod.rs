//! The connection to the device: one WebSocket at a time, reconnecting forever, with a heartbeat
//! that measures round-trip time and notices a dead link once the device speaks protocol v1, and
//! nothing unasked for a device that does not.

pub mod backoff;
pub mod link;
pub mod pairing;
mod pairing_card;
pub mod probe;
pub mod session;
mod socket;
pub mod stats;
mod status_bar;
pub mod url;

pub use pairing_card::PairingCard;
pub use socket::{provide_connection, Connection};
pub use status_bar::StatusBar;
