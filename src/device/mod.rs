//! The Device page: what the device said about itself, link figures, and the event log.

pub mod log;
mod page;

pub use page::DevicePage;
