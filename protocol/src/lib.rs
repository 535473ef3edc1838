//! The wsdeck wire protocol, version 1: one JSON object per WebSocket text frame.
//!
//! Shared by the app, the simulator and Rust firmware; `no_std` + `alloc` so that it builds for
//! bare-metal targets such as the ESP32-C3. The format is specified in `docs/PROTOCOL.md`; the
//! examples there are the test vectors in `vectors.json`.
#![no_std]

extern crate alloc;

mod app;
mod control;
mod device;
mod error;
#[doc(hidden)]
pub mod mutate;
mod num;
mod reading;
mod value;

pub use app::{AppMsg, Drive, FULL, MAX_TOKEN_CHARS};
pub use control::{
    Control, ControlKind, Controls, CtlValue, Range, Skipped, DEFAULT_MAX, DEFAULT_MIN, DEFAULT_RATE_HZ,
    DEFAULT_TEXT_LEN, MAX_CONTROLS, MAX_CONTROL_ID_LEN, MAX_LABEL_CHARS, MAX_OPTIONS, MAX_RATE_HZ,
    MAX_TEXT_LEN, MIN_RATE_HZ,
};
pub use device::{DeviceMsg, DriveState, Hello, Log, LogLevel, PairingMode, Reading, SeriesMeta, Telemetry};
pub use error::DecodeError;
pub use num::parse_f64;
pub use reading::{classify, MAX_NAME_LEN, MAX_NAME_PARTS, MAX_TEXT_CHARS, MAX_VALUES};
pub use value::Value;

/// The protocol version this crate speaks (`"v"` in `hello`).
pub const VERSION: u32 = 1;

/// Frames longer than this (in bytes) are not parsed by the app: a device has no reason to send
/// them and parsing them would stall a phone.
pub const MAX_FRAME_LEN: usize = 64 * 1024;

/// The series name the app gives a bare number (`23.5`).
pub const BARE_NUMBER_SERIES: &str = "value";
