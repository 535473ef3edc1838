//! Messages the app sends to a device.

use crate::device::ObjBuilder;
use crate::{CtlValue, DecodeError, Value, MAX_CONTROL_ID_LEN};
use alloc::borrow::ToOwned;
use alloc::string::String;

/// Largest magnitude of a drive axis or wheel command.
pub const FULL: i16 = 1000;

/// A motion command: stick position and the wheel commands the app already mixed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Drive {
    /// Increases with every drive or stop frame; a device ignores frames older than the newest.
    pub seq: u32,
    /// Steering, right positive, -1000..=1000.
    pub x: i16,
    /// Throttle, forward positive, -1000..=1000.
    pub y: i16,
    /// Left wheel, -1000..=1000: map straight to PWM.
    pub l: i16,
    /// Right wheel, -1000..=1000.
    pub r: i16,
}

impl Drive {
    pub fn is_neutral(&self) -> bool {
        self.x == 0 && self.y == 0 && self.l == 0 && self.r == 0
    }
}

/// A pairing token is at most this many characters.
pub const MAX_TOKEN_CHARS: usize = 64;

/// One frame from the app.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum AppMsg {
    /// Heartbeat, sent every second; the device answers `pong` with the same id.
    Ping {
        id: u32,
    },
    Drive(Drive),
    /// Stop now. Never rate-limited or skipped by the app.
    Stop {
        seq: u32,
    },
    /// Asks to become the driver.
    Claim,
    /// Gives up driving.
    Release,
    /// The device's pairing token, sent after a `hello` that asks for one.
    Auth {
        token: String,
    },
    /// A person changed a control (docs/PROTOCOL.md, Controls): `v` is on/off, a number or text
    /// by its kind. The device checks it against its declaration ([`crate::Control::accept`]).
    Ctl {
        id: String,
        v: CtlValue,
        /// As for drive frames: increases with every frame.
        seq: u32,
    },
    /// A type this version does not know. Devices ignore it.
    Unknown {
        t: String,
    },
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
            "drive" => {
                let seq = seq(&value, "drive")?;
                let axis = |field: &'static str| match value.get(field) {
                    None => Ok(0),
                    Some(v) => v.as_i16_within(FULL).ok_or(DecodeError::BadField { t: "drive", field }),
                };
                Ok(AppMsg::Drive(Drive { seq, x: axis("x")?, y: axis("y")?, l: axis("l")?, r: axis("r")? }))
            }
            "stop" => Ok(AppMsg::Stop { seq: seq(&value, "stop")? }),
            "claim" => Ok(AppMsg::Claim),
            "release" => Ok(AppMsg::Release),
            "auth" => match value.get("token").and_then(Value::as_str) {
                Some(token) if token.chars().count() <= MAX_TOKEN_CHARS => {
                    Ok(AppMsg::Auth { token: token.to_owned() })
                }
                _ => Err(DecodeError::BadField { t: "auth", field: "token" }),
            },
            "ctl" => {
                let bad = |field| DecodeError::BadField { t: "ctl", field };
                let id = match value.get("id").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() && id.len() <= MAX_CONTROL_ID_LEN => id.to_owned(),
                    _ => return Err(bad("id")),
                };
                let v = value.get("v").and_then(CtlValue::from_value).ok_or(bad("v"))?;
                Ok(AppMsg::Ctl { id, v, seq: seq(&value, "ctl")? })
            }
            other => Ok(AppMsg::Unknown { t: other.to_owned() }),
        }
    }

    /// Encodes the message as one text frame.
    pub fn encode(&self) -> String {
        let num = |n: i64| Value::Num(n as f64);
        let o = match self {
            AppMsg::Ping { id } => ObjBuilder::new("ping").with("id", num(i64::from(*id))),
            AppMsg::Drive(d) => ObjBuilder::new("drive")
                .with("seq", num(i64::from(d.seq)))
                .with("x", num(i64::from(d.x)))
                .with("y", num(i64::from(d.y)))
                .with("l", num(i64::from(d.l)))
                .with("r", num(i64::from(d.r))),
            AppMsg::Stop { seq } => ObjBuilder::new("stop").with("seq", num(i64::from(*seq))),
            AppMsg::Claim => ObjBuilder::new("claim"),
            AppMsg::Release => ObjBuilder::new("release"),
            AppMsg::Auth { token } => ObjBuilder::new("auth").with("token", Value::Str(token.clone())),
            AppMsg::Ctl { id, v, seq } => ObjBuilder::new("ctl")
                .with("id", Value::Str(id.clone()))
                .with("v", v.to_value())
                .with("seq", num(i64::from(*seq))),
            AppMsg::Unknown { t } => ObjBuilder::new(t),
        };
        o.0.to_json()
    }
}

fn seq(value: &Value, t: &'static str) -> Result<u32, DecodeError> {
    value.get("seq").and_then(Value::as_u32).ok_or(DecodeError::BadField { t, field: "seq" })
}
