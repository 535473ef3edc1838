//! Messages a device sends to the app.

use crate::{reading, Controls, CtlValue, DecodeError, Value};
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// Sent by the device right after the WebSocket opens. Optional: the app works without it.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Hello {
    /// Protocol version the device speaks (1 when absent).
    pub v: u32,
    /// Shown in the app's status bar; empty when the device gave none.
    pub name: String,
    /// Capabilities, e.g. `drive`, `telemetry`. Unknown ones are kept and ignored.
    pub caps: Vec<String>,
    /// The device stops its motors when no drive frame came for this long.
    pub watchdog_ms: Option<u32>,
    /// How to show some series, in the device's order. Series not listed still show, by name.
    pub series: Vec<(String, SeriesMeta)>,
    /// The device wants a pairing token (docs/PROTOCOL.md, Pairing).
    pub pairing: Option<PairingMode>,
    /// The controls it declares (docs/PROTOCOL.md, Controls); none when absent.
    pub controls: Controls,
}

/// What a device keeps from connections that have not sent its pairing token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum PairingMode {
    /// Anyone may watch; driving needs the token.
    Control,
    /// Nothing but `hello` until paired.
    Required,
}

impl PairingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PairingMode::Control => "control",
            PairingMode::Required => "required",
        }
    }

    /// An unknown mode is taken as the stricter one: the app asks for the token.
    pub fn parse(s: &str) -> PairingMode {
        match s {
            "control" => PairingMode::Control,
            _ => PairingMode::Required,
        }
    }
}

/// How to show one series; every field optional.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SeriesMeta {
    /// Human name, e.g. `Temperature`.
    pub label: Option<String>,
    /// Unit, e.g. `°C`.
    pub unit: Option<String>,
    /// Expected range, for the chart's initial scale.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Series with the same group share a chart.
    pub group: Option<String>,
}

/// Readings from the device. Order is the device's.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Telemetry {
    /// Device time in milliseconds (any epoch), if the device sent one.
    pub ms: Option<f64>,
    /// `(series, reading)` pairs, names unique within the frame.
    pub values: Vec<(String, Reading)>,
    /// It came as a `tel` frame (the device speaks protocol v1), not as a bare object, a number
    /// or a line of text from firmware that predates wsdeck.
    pub tagged: bool,
    /// Values in the frame that were not taken (nested too deep, a name too long, too many):
    /// counted so that the app can say so.
    pub skipped: u32,
}

/// One value of one series, as firmware sends it (docs/PROTOCOL.md, "Devices that do not speak
/// wsdeck"): a number (also from a string such as `"23.12"`), a gap (`"NaN"`, `"Error"`, `null`),
/// an on/off state, or text that is shown but not charted.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum Reading {
    Num(f64),
    /// No valid value this time: charts break the line, tiles show a dash.
    Gap,
    Bool(bool),
    Text(String),
}

impl Reading {
    /// The number a chart plots: on/off as 1/0, `None` for a gap or text.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Reading::Num(n) => Some(*n),
            Reading::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Reading::Gap | Reading::Text(_) => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }

    /// Unknown or missing levels read as `info`; `warning` and `err` are accepted as aliases.
    pub fn parse(s: Option<&str>) -> LogLevel {
        match s {
            Some("debug") | Some("trace") => LogLevel::Debug,
            Some("warn") | Some("warning") => LogLevel::Warn,
            Some("error") | Some("err") => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }
}

/// Who drives, and whether the device is moving under command. Broadcast by the device to every
/// client whenever it changes, and to a client when it connects.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DriveState {
    /// Client id of the driver, `None` when nobody drives.
    pub driver: Option<u32>,
    /// The receiving client's own id.
    pub you: Option<u32>,
    /// The motors follow drive commands (false after a stop, a failsafe or a release).
    pub armed: bool,
    /// Why the device stopped by itself (`watchdog`, `driver_left`), until the next command.
    pub failsafe: Option<String>,
}

/// A line for the app's event log.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Log {
    pub level: LogLevel,
    pub msg: String,
}

/// One decoded frame from a device.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum DeviceMsg {
    Hello(Hello),
    /// `tel` frames decode to this, and so do the shapes of firmware that does not speak wsdeck:
    /// objects without `t`, bare numbers, arrays, lines of text (docs/PROTOCOL.md, "What the app
    /// reads").
    Telemetry(Telemetry),
    /// Answer to the app's `ping` with the same id.
    Pong {
        id: u32,
    },
    /// Driver lease and motor state.
    State(DriveState),
    Log(Log),
    /// The answer to the app's pairing token: right, or wrong and how long the device will not
    /// look at another one from this address.
    Auth {
        ok: bool,
        retry_ms: Option<u32>,
    },
    /// A new set of controls, replacing the one from `hello` or an earlier `controls` frame.
    Controls(Controls),
    /// Control values, id -> value: every control's on connect, then each change, whoever made
    /// it. The device is the source of truth: this confirms an app's `ctl`.
    Ctl(Vec<(String, CtlValue)>),
    /// A message type this version does not know. Receivers ignore it and count it.
    Unknown {
        t: String,
    },
}

impl Reading {
    fn to_value(&self) -> Value {
        match self {
            Reading::Num(n) => Value::Num(*n),
            Reading::Gap => Value::Null,
            Reading::Bool(b) => Value::Bool(*b),
            Reading::Text(t) => Value::Str(t.clone()),
        }
    }
}

impl DeviceMsg {
    /// True when the frame shows that the device speaks protocol v1: `hello`, or any object with
    /// a `t` field. Until a device has sent one, the app sends it only what the person does.
    pub fn speaks_v1(&self) -> bool {
        match self {
            DeviceMsg::Telemetry(tel) => tel.tagged,
            _ => true,
        }
    }

    /// Decodes one text frame. Never panics; unknown fields are ignored. A frame that is not JSON
    /// is read as a line of text (`temp=21.5, hum=40`, `21.5,40.1`; docs/PROTOCOL.md, "What the
    /// app reads"), unless it starts with `{`: that is broken JSON.
    pub fn decode(frame: &str) -> Result<DeviceMsg, DecodeError> {
        match crate::value::parse(frame) {
            Ok(value) => Self::from_value(value),
            Err(e) if frame.trim_start().starts_with('{') => Err(e),
            Err(_) => reading::text_line(frame).map(DeviceMsg::Telemetry).ok_or(DecodeError::NotTelemetry),
        }
    }

    /// Interprets an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<DeviceMsg, DecodeError> {
        let untagged =
            |tel: Option<Telemetry>| tel.map(DeviceMsg::Telemetry).ok_or(DecodeError::NotTelemetry);
        let obj = match value {
            obj @ Value::Obj(_) => obj,
            Value::List(items) => return untagged(reading::bare_list(&items)),
            Value::Str(s) => return untagged(reading::lone(reading::classify(&s), Some(&s))),
            Value::Num(n) if n.is_finite() => return untagged(reading::lone(Reading::Num(n), None)),
            _ => return Err(DecodeError::NotTelemetry),
        };
        let t = match obj.get("t") {
            None => return untagged(reading::bare_object(&obj)),
            Some(Value::Str(t)) => t.as_str(),
            Some(_) => return Err(DecodeError::BadField { t: "?", field: "t" }),
        };
        match t {
            "hello" => decode_hello(&obj).map(DeviceMsg::Hello),
            "tel" => decode_tel(&obj).map(DeviceMsg::Telemetry),
            "pong" => match obj.get("id").and_then(Value::as_u32) {
                Some(id) => Ok(DeviceMsg::Pong { id }),
                None => Err(DecodeError::BadField { t: "pong", field: "id" }),
            },
            "log" => Ok(DeviceMsg::Log(Log {
                level: LogLevel::parse(obj.get("level").and_then(Value::as_str)),
                msg: obj.get("msg").and_then(Value::as_str).unwrap_or_default().to_owned(),
            })),
            "state" => decode_state(&obj).map(DeviceMsg::State),
            "auth" => {
                let bad = |field| DecodeError::BadField { t: "auth", field };
                let ok = match obj.get("ok") {
                    Some(Value::Bool(b)) => *b,
                    _ => return Err(bad("ok")),
                };
                let retry_ms = match obj.get("retry_ms") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.as_u32().ok_or(bad("retry_ms"))?),
                };
                Ok(DeviceMsg::Auth { ok, retry_ms })
            }
            #[cfg(feature = "controls")]
            "controls" => match obj.get("controls") {
                Some(list @ Value::List(_)) => Ok(DeviceMsg::Controls(Controls::parse(list))),
                _ => Err(DecodeError::BadField { t: "controls", field: "controls" }),
            },
            #[cfg(feature = "controls")]
            "ctl" => match obj.get("v").and_then(crate::control::values) {
                Some(values) => Ok(DeviceMsg::Ctl(values)),
                None => Err(DecodeError::BadField { t: "ctl", field: "v" }),
            },
            other => Ok(DeviceMsg::Unknown { t: other.to_owned() }),
        }
    }

    /// The message as a JSON value in its canonical v1 form.
    pub fn to_value(&self) -> Value {
        let mut o = ObjBuilder::new(match self {
            DeviceMsg::Hello(_) => "hello",
            DeviceMsg::Telemetry(_) => "tel",
            DeviceMsg::Pong { .. } => "pong",
            DeviceMsg::State(_) => "state",
            DeviceMsg::Log(_) => "log",
            DeviceMsg::Auth { .. } => "auth",
            DeviceMsg::Controls(_) => "controls",
            DeviceMsg::Ctl(_) => "ctl",
            DeviceMsg::Unknown { t } => t,
        });
        match self {
            DeviceMsg::Hello(h) => {
                o.num("v", f64::from(h.v));
                o.str("name", &h.name);
                let caps = h.caps.iter().map(|c| Value::Str(c.clone())).collect();
                o.put("caps", Value::List(caps));
                if let Some(w) = h.watchdog_ms {
                    o.num("watchdog_ms", f64::from(w));
                }
                if !h.series.is_empty() {
                    let series = h.series.iter().map(|(name, m)| (name.clone(), m.to_value())).collect();
                    o.put("series", Value::Obj(series));
                }
                if let Some(p) = h.pairing {
                    o.str("pairing", p.as_str());
                }
                if !h.controls.is_empty() {
                    o.put("controls", h.controls.to_value());
                }
            }
            DeviceMsg::Controls(c) => o.put("controls", c.to_value()),
            DeviceMsg::Ctl(values) => {
                let v = values.iter().map(|(id, v)| (id.clone(), v.to_value())).collect();
                o.put("v", Value::Obj(v));
            }
            DeviceMsg::Auth { ok, retry_ms } => {
                o.put("ok", Value::Bool(*ok));
                if let Some(ms) = retry_ms {
                    o.num("retry_ms", f64::from(*ms));
                }
            }
            DeviceMsg::Telemetry(tel) => {
                if let Some(ms) = tel.ms {
                    o.num("ms", ms);
                }
                let d = tel.values.iter().map(|(k, v)| (k.clone(), v.to_value())).collect();
                o.put("d", Value::Obj(d));
            }
            DeviceMsg::Pong { id } => o.num("id", f64::from(*id)),
            DeviceMsg::State(st) => {
                let id = |v: Option<u32>| v.map(|n| Value::Num(f64::from(n))).unwrap_or(Value::Null);
                o.put("driver", id(st.driver));
                o.put("you", id(st.you));
                o.put("armed", Value::Bool(st.armed));
                o.put("failsafe", st.failsafe.clone().map(Value::Str).unwrap_or(Value::Null));
            }
            DeviceMsg::Log(log) => {
                o.str("level", log.level.as_str());
                o.str("msg", &log.msg);
            }
            DeviceMsg::Unknown { .. } => {}
        }
        o.0
    }

    /// Encodes the message as one text frame.
    pub fn encode(&self) -> String {
        self.to_value().to_json()
    }
}

fn decode_hello(obj: &Value) -> Result<Hello, DecodeError> {
    let bad = |field| DecodeError::BadField { t: "hello", field };
    let v = match obj.get("v") {
        None => 1,
        Some(v) => v.as_u32().ok_or(bad("v"))?,
    };
    let name = match obj.get("name") {
        None | Some(Value::Null) => String::new(),
        Some(n) => n.as_str().ok_or(bad("name"))?.to_owned(),
    };
    let caps = match obj.get("caps") {
        Some(Value::List(items)) => items.iter().filter_map(|c| Some(c.as_str()?.to_owned())).collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(bad("caps")),
    };
    let watchdog_ms = match obj.get("watchdog_ms") {
        None | Some(Value::Null) => None,
        Some(w) => Some(w.as_u32().ok_or(bad("watchdog_ms"))?),
    };
    let series = match obj.get("series") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Obj(entries)) => {
            entries.iter().filter_map(|(k, v)| Some((k.clone(), SeriesMeta::from_value(v)?))).collect()
        }
        Some(_) => return Err(bad("series")),
    };
    let pairing = match obj.get("pairing") {
        None | Some(Value::Null) => None,
        Some(p) => Some(PairingMode::parse(p.as_str().unwrap_or_default())),
    };
    // Without the `controls` feature (an app built without controls) declarations are not read.
    #[cfg(feature = "controls")]
    let controls = obj.get("controls").map(Controls::parse).unwrap_or_default();
    #[cfg(not(feature = "controls"))]
    let controls = Controls::default();
    Ok(Hello { v, name, caps, watchdog_ms, series, pairing, controls })
}

impl SeriesMeta {
    /// Reads one entry of `series`; fields of the wrong type are ignored, a non-object is skipped.
    fn from_value(v: &Value) -> Option<SeriesMeta> {
        if !matches!(v, Value::Obj(_)) {
            return None;
        }
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let num = |k: &str| v.get(k).and_then(Value::as_f64);
        Some(SeriesMeta {
            label: text("label"),
            unit: text("unit"),
            min: num("min"),
            max: num("max"),
            group: text("group"),
        })
    }

    fn to_value(&self) -> Value {
        let mut fields = Vec::new();
        let mut text = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                fields.push((k.to_owned(), Value::Str(v.clone())));
            }
        };
        text("label", &self.label);
        text("unit", &self.unit);
        for (k, v) in [("min", self.min), ("max", self.max)] {
            if let Some(v) = v {
                fields.push((k.to_owned(), Value::Num(v)));
            }
        }
        if let Some(g) = &self.group {
            fields.push(("group".to_owned(), Value::Str(g.clone())));
        }
        Value::Obj(fields)
    }
}

fn decode_state(obj: &Value) -> Result<DriveState, DecodeError> {
    let bad = |field| DecodeError::BadField { t: "state", field };
    let id = |field: &'static str| match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u32().map(Some).ok_or(bad(field)),
    };
    Ok(DriveState {
        driver: id("driver")?,
        you: id("you")?,
        armed: match obj.get("armed") {
            None | Some(Value::Null) => false,
            Some(v) => v.as_bool().ok_or(bad("armed"))?,
        },
        failsafe: match obj.get("failsafe") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_str().ok_or(bad("failsafe"))?.to_owned()),
        },
    })
}

fn decode_tel(obj: &Value) -> Result<Telemetry, DecodeError> {
    let ms = match obj.get("ms") {
        None | Some(Value::Null) => None,
        Some(ms) => Some(ms.as_f64().ok_or(DecodeError::BadField { t: "tel", field: "ms" })?),
    };
    let tel = match obj.get("d") {
        None | Some(Value::Null) => reading::tel_values(&[]),
        Some(Value::Obj(d)) => reading::tel_values(d),
        Some(_) => return Err(DecodeError::BadField { t: "tel", field: "d" }),
    };
    Ok(Telemetry { ms, ..tel })
}

/// Builds an object with `t` first, as the docs show it.
pub(crate) struct ObjBuilder(pub(crate) Value);

impl ObjBuilder {
    pub(crate) fn new(t: &str) -> ObjBuilder {
        ObjBuilder(Value::Obj(alloc::vec![("t".to_owned(), Value::Str(t.to_owned()))]))
    }
    pub(crate) fn put(&mut self, k: &str, v: Value) {
        if let Value::Obj(entries) = &mut self.0 {
            entries.push((k.to_owned(), v));
        }
    }
    pub(crate) fn with(mut self, k: &str, v: Value) -> ObjBuilder {
        self.put(k, v);
        self
    }
    fn num(&mut self, k: &str, n: f64) {
        self.put(k, Value::Num(n));
    }
    fn str(&mut self, k: &str, s: &str) {
        self.put(k, Value::Str(s.to_owned()));
    }
}
