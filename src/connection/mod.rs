//! The connection to the device: one WebSocket at a time, reconnecting forever, with a heartbeat
//! that measures round-trip time and notices a dead link.

pub mod backoff;
pub mod link;
pub mod pairing;
mod pairing_card;
pub mod session;
mod socket;
pub mod stats;
mod status_bar;
pub mod url;

pub use pairing_card::PairingCard;
pub use socket::{provide_connection, Connection};
pub use status_bar::StatusBar;
