//! What the ESP32-C3 firmware decides without touching hardware: its settings for the shared
//! device core ([`device`]; the rules are wsdeck-device's), how the app's files are answered
//! ([`http`]), wheel commands to PWM ([`motor`]) and the telemetry frame ([`telemetry`]).
//! `no_std` + `alloc`; `cargo xtask firmware` tests it on the host, and main.rs wires it to the
//! chip.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod device;
pub mod http;
pub mod motor;
pub mod telemetry;
