use alloc::string::String;
use core::fmt;

/// Why a frame could not be decoded. The receiver counts it and carries on; no frame is fatal.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// Not valid JSON (or nested deeper than the parser allows).
    Json(String),
    /// Valid JSON, but neither an object nor a number (a string, an array, `true`, `null`).
    NotAnObject,
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
            DecodeError::BadField { .. } => "bad_field",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Json(e) => write!(f, "not valid JSON: {e}"),
            DecodeError::NotAnObject => {
                f.write_str("expected a JSON object or a number, got another JSON value")
            }
            DecodeError::BadField { t, field } => {
                write!(f, "\"{t}\" message has a bad \"{field}\" field")
            }
        }
    }
}
