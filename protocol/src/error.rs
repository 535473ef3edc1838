//! Why a frame could not be decoded ([`DecodeError`]), with a stable name for counters and test
//! vectors and a message a person can act on.

use alloc::string::String;
use core::fmt;

/// Why a frame could not be decoded. The receiver counts it and carries on; no frame is fatal.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// Not valid JSON (or nested deeper than the parser allows).
    Json(String),
    /// Valid JSON, but not an object (the app's frames to a device are always objects).
    NotAnObject,
    /// A frame from a device with no reading in it: a reply such as `OK` or `Hello from ESP32`,
    /// text alone (`{"status":"ok"}`), a lone word. Its message reads after a preview of the
    /// frame: "`OK` is not telemetry: ignored".
    NotTelemetry,
    /// A known message type with a field of the wrong type or out of range.
    BadField {
        /// Message type (`t`).
        t: &'static str,
        /// Field name.
        field: &'static str,
    },
}

impl DecodeError {
    /// A short stable name, used in counters and test vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Json(_) => "json",
            DecodeError::NotAnObject => "not_an_object",
            DecodeError::NotTelemetry => "not_telemetry",
            DecodeError::BadField { .. } => "bad_field",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "not valid JSON: {e}"),
            DecodeError::NotAnObject => f.write_str("expected a JSON object, got another JSON value"),
            DecodeError::NotTelemetry => f.write_str("is not telemetry: ignored"),
            DecodeError::BadField { t, field } => {
                write!(f, "\"{t}\" message has a bad \"{field}\" field")
            }
        }
    }
}
