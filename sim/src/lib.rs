//! The simulated wsdeck device as a library: what it keeps ([`device`]), what it does with each
//! frame ([`dispatch`]), the car, the telemetry it streams, the profiles of tutorial firmware, the
//! `/sim/state` dump, and the HTTP and WebSocket serving around them. `main.rs` only parses the
//! flags and starts the tasks. [`assets`] serves the built app by wsdeck-serving's rules (serving/),
//! which `cargo xtask dist` also writes into the firmware bundle, so that the simulator and a
//! device send the same MIME type, ETag and cache policy.

pub mod assets;
pub mod banner;
pub mod car;
pub mod config;
pub mod conns;
pub mod controls;
pub mod device;
pub mod dispatch;
pub mod fleet;
pub mod fleet_broker;
pub mod fleet_mqtt;
pub mod fragments;
pub mod guard;
pub mod http;
pub mod model;
pub mod outbox;
pub mod profile;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod ws;

pub use device::{Out, Peer, Sim};
