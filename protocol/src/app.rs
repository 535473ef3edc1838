//! Messages the app sends to a device.

use crate::device::ObjBuilder;
use crate::{DecodeError, Value};
use alloc::borrow::ToOwned;
use alloc::string::String;

/// One frame from the app. `drive`, `stop`, `claim` and `release` are reserved for the driving
/// controls and decode as [`AppMsg::Unknown`] in this version.
#[derive(Debug, Clone, PartialEq)]
pub enum AppMsg {
    /// Heartbeat, sent every second; the device answers `pong` with the same id.
    Ping { id: u32 },
    /// A type this version does not know. Devices ignore it.
    Unknown { t: String },
}

impl AppMsg {
    /// Decodes one text frame (device side). Never panics; unknown fields are ignored.
    pub fn decode(frame: &str) -> Result<AppMsg, DecodeError> {
        let value = crate::value::parse(frame)?;
        let t = match value.get("t") {
            Some(Value::Str(t)) => t.as_str(),
            Some(_) => return Err(DecodeError::BadField { t: "?", field: "t" }),
            None => return Err(DecodeError::NotAnObject),
        };
        match t {
            "ping" => match value.get("id").and_then(Value::as_u32) {
                Some(id) => Ok(AppMsg::Ping { id }),
                None => Err(DecodeError::BadField { t: "ping", field: "id" }),
            },
            other => Ok(AppMsg::Unknown { t: other.to_owned() }),
        }
    }

    /// Encodes the message as one text frame.
    pub fn encode(&self) -> String {
        match self {
            AppMsg::Ping { id } => {
                let mut o = ObjBuilder::new("ping");
                o.put("id", Value::Num(f64::from(*id)));
                o.0.to_json()
            }
            AppMsg::Unknown { t } => ObjBuilder::new(t).0.to_json(),
        }
    }
}
