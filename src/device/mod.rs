//! The Device page: what the device said about itself, link figures, and the event log; and what
//! the app remembers per device (`prefs`).

pub mod log;
mod page;
pub mod prefs;

pub use page::DevicePage;
