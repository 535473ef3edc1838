//! Controls a device declares (buttons, toggles, sliders, selects, text, gauges...) and the values
//! they carry in `ctl` frames (docs/PROTOCOL.md, "Controls"). A bad declaration is skipped on its
//! own with a note; the rest are kept.

use crate::Value;
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Declarations beyond this many are skipped, with one note for all of them.
pub const MAX_CONTROLS: usize = 128;
/// A control id longer than this (in bytes) is skipped.
pub const MAX_CONTROL_ID_LEN: usize = 32;
/// A longer label, unit, group, confirm question, option or colour is cut to this many characters.
pub const MAX_LABEL_CHARS: usize = 64;
/// Select options beyond this many are dropped; a select with none is skipped.
pub const MAX_OPTIONS: usize = 32;
/// A text control's `max_len` is capped to this (characters); also the longest text a `ctl`
/// carries.
pub const MAX_TEXT_LEN: u32 = 256;
/// A text control's `max_len` when the device gives none.
pub const DEFAULT_TEXT_LEN: u32 = 64;
/// Changes a second a slider or number sends while dragged, when the device gives no `rate_hz`.
pub const DEFAULT_RATE_HZ: f64 = 20.0;
/// `rate_hz` is capped to this range.
pub const MIN_RATE_HZ: f64 = 1.0;
pub const MAX_RATE_HZ: f64 = 50.0;
/// `min` and `max` of a slider, number or gauge when the device gives none.
pub const DEFAULT_MIN: f64 = 0.0;
pub const DEFAULT_MAX: f64 = 100.0;

/// One control as the device declared it, with defaults filled in and long text cut.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Control {
    /// Unique within the declaration; what `ctl` frames name.
    pub id: String,
    /// The id when the device gave none.
    pub label: String,
    pub kind: ControlKind,
    /// Controls of one group share a card, in declaration order.
    pub group: Option<String>,
    /// A question the app asks before sending a change.
    pub confirm: Option<String>,
    pub disabled: bool,
    /// Slider and number: at most this many changes a second while dragging.
    pub rate_hz: f64,
    /// Also shown on the Drive page.
    pub drive: bool,
    /// Read-only kinds: follow this telemetry series instead of values from `ctl`.
    pub series: Option<String>,
}

/// The range of a slider or number.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Range {
    pub min: f64,
    pub max: f64,
    /// Values are `min + k * step`; any value in range when `None`.
    pub step: Option<f64>,
    pub unit: Option<String>,
}

/// What a control is, with the fields of its kind.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum ControlKind {
    /// Momentary: `true` while held, `false` on release.
    Button,
    Toggle,
    Slider(Range),
    Number(Range),
    Select {
        options: Vec<String>,
    },
    Text {
        max_len: u32,
    },
    /// Read-only number with optional thresholds.
    Gauge {
        min: f64,
        max: f64,
        unit: Option<String>,
        warn: Option<f64>,
        alarm: Option<f64>,
    },
    /// Read-only on/off.
    Led {
        color: Option<String>,
    },
    /// Read-only text.
    Value,
}

/// A control's value in a `ctl` frame: on/off, a number or text, by kind.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum CtlValue {
    Bool(bool),
    Num(f64),
    Text(String),
}

/// A declaration that was not taken, and why: for the app's event log.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Skipped {
    /// Its place in the device's list (for "over 128 controls": the first one beyond).
    pub index: usize,
    /// Its id, when it had a usable one (cut to [`MAX_CONTROL_ID_LEN`] bytes when too long).
    pub id: Option<String>,
    /// One of [`Skipped::REASONS`].
    pub why: &'static str,
}

/// The controls a device declared, in its order, and the declarations skipped.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Controls {
    pub list: Vec<Control>,
    pub skipped: Vec<Skipped>,
}

impl ControlKind {
    /// The kind's name on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            ControlKind::Button => "button",
            ControlKind::Toggle => "toggle",
            ControlKind::Slider(_) => "slider",
            ControlKind::Number(_) => "number",
            ControlKind::Select { .. } => "select",
            ControlKind::Text { .. } => "text",
            ControlKind::Gauge { .. } => "gauge",
            ControlKind::Led { .. } => "led",
            ControlKind::Value => "value",
        }
    }
}

impl CtlValue {
    /// A JSON value as a control value: `null`, lists and objects are none.
    pub fn from_value(v: &Value) -> Option<CtlValue> {
        match v {
            Value::Bool(b) => Some(CtlValue::Bool(*b)),
            Value::Num(n) if n.is_finite() => Some(CtlValue::Num(*n)),
            Value::Str(s) => Some(CtlValue::Text(cut(s, MAX_TEXT_LEN as usize))),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            CtlValue::Bool(b) => Value::Bool(*b),
            CtlValue::Num(n) => Value::Num(*n),
            CtlValue::Text(s) => Value::Str(s.clone()),
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            CtlValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            CtlValue::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            CtlValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl Control {
    /// A control of `kind` with every optional field at its default.
    pub fn new(id: &str, kind: ControlKind) -> Control {
        Control {
            id: id.to_owned(),
            label: id.to_owned(),
            kind,
            group: None,
            confirm: None,
            disabled: false,
            rate_hz: DEFAULT_RATE_HZ,
            drive: false,
            series: None,
        }
    }

    /// Gauge, led and value: the device sets them, the app only shows them.
    pub fn read_only(&self) -> bool {
        matches!(self.kind, ControlKind::Gauge { .. } | ControlKind::Led { .. } | ControlKind::Value)
    }

    /// The value this control would hold for `v`, or `None` when `v` is wrong for its kind:
    /// on/off for button, toggle and led; a number for slider, number and gauge (clamped to
    /// `min..=max`, snapped to `step` from `min`); one of the options for select; text cut to
    /// `max_len` characters for text, and to [`MAX_TEXT_LEN`] for value (which also shows a
    /// number as text). A device applies this to every `ctl` from an app; the app to what it shows.
    pub fn accept(&self, v: &CtlValue) -> Option<CtlValue> {
        match (&self.kind, v) {
            (ControlKind::Button | ControlKind::Toggle | ControlKind::Led { .. }, CtlValue::Bool(b)) => {
                Some(CtlValue::Bool(*b))
            }
            (ControlKind::Slider(r) | ControlKind::Number(r), CtlValue::Num(n)) if n.is_finite() => {
                Some(CtlValue::Num(snap(*n, r.min, r.max, r.step)))
            }
            (ControlKind::Gauge { min, max, .. }, CtlValue::Num(n)) if n.is_finite() => {
                Some(CtlValue::Num(n.max(*min).min(*max)))
            }
            (ControlKind::Select { options }, CtlValue::Text(s)) => {
                options.iter().any(|o| o == s).then(|| v.clone())
            }
            (ControlKind::Text { max_len }, CtlValue::Text(s)) => {
                Some(CtlValue::Text(cut(s, *max_len as usize)))
            }
            (ControlKind::Value, CtlValue::Text(s)) => Some(CtlValue::Text(cut(s, MAX_TEXT_LEN as usize))),
            (ControlKind::Value, CtlValue::Num(n)) if n.is_finite() => {
                Some(CtlValue::Text(Value::Num(*n).to_json()))
            }
            _ => None,
        }
    }

    /// What the control holds before the device says otherwise: off, `min`, the first option, "".
    pub fn initial(&self) -> CtlValue {
        match &self.kind {
            ControlKind::Button | ControlKind::Toggle | ControlKind::Led { .. } => CtlValue::Bool(false),
            ControlKind::Slider(r) | ControlKind::Number(r) => CtlValue::Num(r.min),
            ControlKind::Gauge { min, .. } => CtlValue::Num(*min),
            ControlKind::Select { options } => CtlValue::Text(options.first().cloned().unwrap_or_default()),
            ControlKind::Text { .. } | ControlKind::Value => CtlValue::Text(String::new()),
        }
    }

    /// Reads one declaration; `Err` is why it is skipped.
    fn from_value(v: &Value) -> Result<Control, (Option<String>, &'static str)> {
        if !matches!(v, Value::Obj(_)) {
            return Err((None, Skipped::NOT_AN_OBJECT));
        }
        let id = match v.get("id").and_then(Value::as_str) {
            None | Some("") => return Err((None, Skipped::NO_ID)),
            Some(id) if id.len() > MAX_CONTROL_ID_LEN => {
                return Err((Some(cut_bytes(id, MAX_CONTROL_ID_LEN)), Skipped::ID_TOO_LONG))
            }
            Some(id) => id,
        };
        let fail = |why| Err((Some(id.to_owned()), why));
        let text = |k: &str| match v.get(k).and_then(Value::as_str) {
            None | Some("") => None,
            Some(s) => Some(cut(s, MAX_LABEL_CHARS)),
        };
        let num = |k: &str| v.get(k).and_then(Value::as_f64);
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        let range = || {
            let (min, max) = (num("min").unwrap_or(DEFAULT_MIN), num("max").unwrap_or(DEFAULT_MAX));
            (min <= max).then_some((min, max))
        };
        let kind = match v.get("kind").and_then(Value::as_str) {
            None => return fail(Skipped::NO_KIND),
            Some("button") => ControlKind::Button,
            Some("toggle") => ControlKind::Toggle,
            Some(k @ ("slider" | "number")) => {
                let Some((min, max)) = range() else { return fail(Skipped::MIN_OVER_MAX) };
                let step = num("step").filter(|s| *s > 0.0);
                let r = Range { min, max, step, unit: text("unit") };
                if k == "slider" {
                    ControlKind::Slider(r)
                } else {
                    ControlKind::Number(r)
                }
            }
            Some("select") => {
                let mut options: Vec<String> = Vec::new();
                if let Some(Value::List(items)) = v.get("options") {
                    for o in items.iter().filter_map(Value::as_str).filter(|o| !o.is_empty()) {
                        let o = cut(o, MAX_LABEL_CHARS);
                        if options.len() < MAX_OPTIONS && !options.contains(&o) {
                            options.push(o);
                        }
                    }
                }
                if options.is_empty() {
                    return fail(Skipped::NO_OPTIONS);
                }
                ControlKind::Select { options }
            }
            Some("text") => {
                let max_len = v.get("max_len").and_then(Value::as_u32).unwrap_or(DEFAULT_TEXT_LEN);
                ControlKind::Text { max_len: max_len.clamp(1, MAX_TEXT_LEN) }
            }
            Some("gauge") => {
                let Some((min, max)) = range() else { return fail(Skipped::MIN_OVER_MAX) };
                ControlKind::Gauge { min, max, unit: text("unit"), warn: num("warn"), alarm: num("alarm") }
            }
            Some("led") => ControlKind::Led { color: text("color") },
            Some("value") => ControlKind::Value,
            Some(_) => return fail(Skipped::UNKNOWN_KIND),
        };
        let read_only =
            matches!(kind, ControlKind::Gauge { .. } | ControlKind::Led { .. } | ControlKind::Value);
        Ok(Control {
            id: id.to_owned(),
            label: text("label").unwrap_or_else(|| id.to_owned()),
            kind,
            group: text("group"),
            confirm: text("confirm"),
            disabled: flag("disabled"),
            rate_hz: num("rate_hz").map_or(DEFAULT_RATE_HZ, |r| r.clamp(MIN_RATE_HZ, MAX_RATE_HZ)),
            drive: flag("drive"),
            series: match v.get("series").and_then(Value::as_str) {
                Some(s) if read_only && !s.is_empty() => Some(cut_bytes(s, crate::MAX_NAME_LEN)),
                _ => None,
            },
        })
    }

    /// The declaration in canonical form: `id`, `kind`, `label`, the kind's fields, then the
    /// common ones that are not at their default.
    pub fn to_value(&self) -> Value {
        let mut o: Vec<(String, Value)> = Vec::new();
        let mut put = |k: &str, v: Value| o.push((k.to_owned(), v));
        let s = |s: &str| Value::Str(s.to_owned());
        put("id", s(&self.id));
        put("kind", s(self.kind.as_str()));
        put("label", s(&self.label));
        match &self.kind {
            ControlKind::Button | ControlKind::Toggle | ControlKind::Value => {}
            ControlKind::Slider(r) | ControlKind::Number(r) => {
                put("min", Value::Num(r.min));
                put("max", Value::Num(r.max));
                if let Some(step) = r.step {
                    put("step", Value::Num(step));
                }
                if let Some(unit) = &r.unit {
                    put("unit", s(unit));
                }
            }
            ControlKind::Select { options } => {
                put("options", Value::List(options.iter().map(|o| s(o)).collect()))
            }
            ControlKind::Text { max_len } => put("max_len", Value::Num(f64::from(*max_len))),
            ControlKind::Gauge { min, max, unit, warn, alarm } => {
                put("min", Value::Num(*min));
                put("max", Value::Num(*max));
                if let Some(unit) = unit {
                    put("unit", s(unit));
                }
                for (k, n) in [("warn", warn), ("alarm", alarm)] {
                    if let Some(n) = n {
                        put(k, Value::Num(*n));
                    }
                }
            }
            ControlKind::Led { color } => {
                if let Some(color) = color {
                    put("color", s(color));
                }
            }
        }
        for (k, v) in [("group", &self.group), ("confirm", &self.confirm)] {
            if let Some(v) = v {
                put(k, s(v));
            }
        }
        if self.disabled {
            put("disabled", Value::Bool(true));
        }
        if self.rate_hz != DEFAULT_RATE_HZ {
            put("rate_hz", Value::Num(self.rate_hz));
        }
        if self.drive {
            put("drive", Value::Bool(true));
        }
        if let Some(series) = &self.series {
            put("series", s(series));
        }
        Value::Obj(o)
    }
}

impl Skipped {
    pub const NOT_AN_OBJECT: &'static str = "not an object";
    pub const NO_ID: &'static str = "no id";
    pub const ID_TOO_LONG: &'static str = "id too long";
    pub const DUPLICATE_ID: &'static str = "duplicate id";
    pub const NO_KIND: &'static str = "no kind";
    pub const UNKNOWN_KIND: &'static str = "unknown kind";
    pub const MIN_OVER_MAX: &'static str = "min > max";
    pub const NO_OPTIONS: &'static str = "select without options";
    pub const TOO_MANY: &'static str = "over 128 controls";
    pub const NOT_A_LIST: &'static str = "controls is not a list";
    /// Every `why` there is.
    pub const REASONS: [&'static str; 10] = [
        Self::NOT_AN_OBJECT,
        Self::NO_ID,
        Self::ID_TOO_LONG,
        Self::DUPLICATE_ID,
        Self::NO_KIND,
        Self::UNKNOWN_KIND,
        Self::MIN_OVER_MAX,
        Self::NO_OPTIONS,
        Self::TOO_MANY,
        Self::NOT_A_LIST,
    ];
}

/// The note for the event log: "control 3 (`horn`) skipped: duplicate id".
impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.id, self.why) {
            (_, Skipped::TOO_MANY) => write!(f, "controls from {} on skipped: {}", self.index, self.why),
            (_, Skipped::NOT_A_LIST) => write!(f, "controls skipped: {}", self.why),
            (Some(id), why) => write!(f, "control {} (`{id}`) skipped: {why}", self.index),
            (None, why) => write!(f, "control {} skipped: {why}", self.index),
        }
    }
}

/// By hand: derived, `why` would tie the input's lifetime to `'static`. It is matched back to one
/// of [`Skipped::REASONS`].
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Skipped {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Skipped, D::Error> {
        #[derive(serde::Deserialize)]
        struct Owned {
            index: usize,
            id: Option<String>,
            why: String,
        }
        let s = Owned::deserialize(d)?;
        let why = Skipped::REASONS.iter().find(|r| **r == s.why).copied();
        let why =
            why.ok_or_else(|| serde::de::Error::custom(alloc::format!("unknown reason {:?}", s.why)))?;
        Ok(Skipped { index: s.index, id: s.id, why })
    }
}

impl Controls {
    /// Reads a `controls` list: every declaration that is good, in order; every other one noted
    /// in `skipped` (only the first [`MAX_CONTROLS`] are looked at, one note for the rest).
    pub fn parse(list: &Value) -> Controls {
        let mut out = Controls::default();
        let Value::List(items) = list else {
            if !matches!(list, Value::Null) {
                out.skipped.push(Skipped { index: 0, id: None, why: Skipped::NOT_A_LIST });
            }
            return out;
        };
        for (index, item) in items.iter().enumerate() {
            if index == MAX_CONTROLS {
                out.skipped.push(Skipped { index, id: None, why: Skipped::TOO_MANY });
                break;
            }
            match Control::from_value(item) {
                Ok(c) if out.get(&c.id).is_some() => {
                    out.skipped.push(Skipped { index, id: Some(c.id), why: Skipped::DUPLICATE_ID })
                }
                Ok(c) => out.list.push(c),
                Err((id, why)) => out.skipped.push(Skipped { index, id, why }),
            }
        }
        out
    }

    pub fn get(&self, id: &str) -> Option<&Control> {
        self.list.iter().find(|c| c.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The list in canonical form (skipped declarations are not written).
    pub fn to_value(&self) -> Value {
        Value::List(self.list.iter().map(Control::to_value).collect())
    }
}

/// The `v` object of a device's `ctl` frame: id -> value, at most [`MAX_CONTROLS`] of them; an
/// entry with an id too long or a value that is none of on/off, number, text is left out.
#[cfg_attr(not(feature = "controls"), allow(dead_code))]
pub(crate) fn values(v: &Value) -> Option<Vec<(String, CtlValue)>> {
    let Value::Obj(entries) = v else { return None };
    Some(
        entries
            .iter()
            .filter(|(id, _)| !id.is_empty() && id.len() <= MAX_CONTROL_ID_LEN)
            .filter_map(|(id, v)| Some((id.clone(), CtlValue::from_value(v)?)))
            .take(MAX_CONTROLS)
            .collect(),
    )
}

/// `n` clamped to `min..=max` and, with a step, moved to the nearest `min + k * step` that is in
/// range (a step too fine for the range's magnitude is ignored). Steps such as 0.1 are snapped as `(10 * min + k) / 10`, so that 0.3 reads 0.3 and not
/// 0.30000000000000004.
fn snap(n: f64, min: f64, max: f64, step: Option<f64>) -> f64 {
    // Not f64::clamp: it panics when min > max, which a hand-built Control may have.
    let n = n.max(min).min(max);
    let Some(step) = step.filter(|s| s.is_finite() && *s > 0.0) else { return n };
    // Beyond 10^12 steps from zero a step is finer than an f64 can tell apart: not snapped.
    if min.abs().max(max.abs()) / step > 1e12 {
        return n;
    }
    let mut k = round((n - min) / step);
    let at = |k: f64| {
        let per_unit = 1.0 / step;
        let (whole, scaled_min) = (round(per_unit), min * round(per_unit));
        let exact = per_unit >= 1.0
            && (per_unit - whole).abs() <= 1e-9 * whole
            && (scaled_min - round(scaled_min)).abs() <= 1e-6
            && whole <= 1e9;
        if exact {
            (round(scaled_min) + k) / whole
        } else {
            min + k * step
        }
    };
    let mut out = at(k);
    if out > max {
        k -= 1.0;
        out = at(k);
    }
    out.max(min).min(max)
}

/// `f64::round` without `std`.
fn round(n: f64) -> f64 {
    if n.abs() >= 4_503_599_627_370_496.0 {
        return n; // 2^52: already whole
    }
    let t = n as i64 as f64;
    let frac = n - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// `s` cut to at most `n` characters.
fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((end, _)) => s[..end].to_owned(),
        None => s.to_owned(),
    }
}

/// `s` cut to at most `n` bytes, on a character boundary.
fn cut_bytes(s: &str, n: usize) -> String {
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;

    fn parse(list: &str) -> Controls {
        Controls::parse(&crate::value::parse(list).unwrap())
    }

    fn ids(c: &Controls) -> Vec<&str> {
        c.list.iter().map(|c| c.id.as_str()).collect()
    }

    fn notes(c: &Controls) -> Vec<(usize, Option<&str>, &str)> {
        c.skipped.iter().map(|s| (s.index, s.id.as_deref(), s.why)).collect()
    }

    fn one(decl: &str) -> Control {
        let c = parse(&format!("[{decl}]"));
        assert_eq!(c.skipped, vec![], "{decl}");
        c.list.into_iter().next().unwrap()
    }

    #[test]
    fn every_bad_declaration_is_skipped_on_its_own_and_the_rest_kept() {
        let c = parse(
            r#"[
            {"id":"lights","kind":"toggle","label":"Headlights"},
            {"id":"k","kind":"knob"},
            {"kind":"button","label":"no id"},
            {"id":"","kind":"button"},
            {"id":7,"kind":"button"},
            {"id":"lights","kind":"button"},
            {"id":"pan","kind":"slider","min":90,"max":-90},
            {"id":"g","kind":"gauge","min":1,"max":0},
            {"id":"mode","kind":"select","options":[]},
            {"id":"mode2","kind":"select","options":[1,null,""]},
            {"id":"nokind"},
            "horn",
            {"id":"0123456789abcdef0123456789abcdefX","kind":"button"},
            {"id":"horn","kind":"button"}
        ]"#,
        );
        assert_eq!(ids(&c), ["lights", "horn"]);
        assert_eq!(
            notes(&c),
            [
                (1, Some("k"), Skipped::UNKNOWN_KIND),
                (2, None, Skipped::NO_ID),
                (3, None, Skipped::NO_ID),
                (4, None, Skipped::NO_ID),
                (5, Some("lights"), Skipped::DUPLICATE_ID),
                (6, Some("pan"), Skipped::MIN_OVER_MAX),
                (7, Some("g"), Skipped::MIN_OVER_MAX),
                (8, Some("mode"), Skipped::NO_OPTIONS),
                (9, Some("mode2"), Skipped::NO_OPTIONS),
                (10, Some("nokind"), Skipped::NO_KIND),
                (11, None, Skipped::NOT_AN_OBJECT),
                (12, Some("0123456789abcdef0123456789abcdef"), Skipped::ID_TOO_LONG),
            ]
        );
        assert_eq!(c.skipped[0].to_string(), "control 1 (`k`) skipped: unknown kind");
        assert_eq!(c.skipped[1].to_string(), "control 2 skipped: no id");
    }

    #[test]
    fn a_thousand_controls_keep_the_first_128_with_one_note_for_the_rest() {
        let list: Vec<String> = (0..1000).map(|i| format!(r#"{{"id":"b{i}","kind":"button"}}"#)).collect();
        let c = parse(&format!("[{}]", list.join(",")));
        assert_eq!(c.list.len(), MAX_CONTROLS);
        assert_eq!(c.list[127].id, "b127");
        assert_eq!(notes(&c), [(128, None, Skipped::TOO_MANY)]);
        assert_eq!(c.skipped[0].to_string(), "controls from 128 on skipped: over 128 controls");
    }

    #[test]
    fn a_10_kib_label_is_cut_not_skipped() {
        let long = "é".repeat(10 * 1024);
        let c = one(&format!(
            r#"{{"id":"x","kind":"slider","label":"{long}","unit":"{long}","group":"{long}","confirm":"{long}"}}"#
        ));
        assert_eq!(c.label.chars().count(), MAX_LABEL_CHARS);
        assert_eq!(c.group.unwrap().chars().count(), MAX_LABEL_CHARS);
        assert_eq!(c.confirm.unwrap().chars().count(), MAX_LABEL_CHARS);
        let ControlKind::Slider(r) = c.kind else { panic!() };
        assert_eq!(r.unit.unwrap().chars().count(), MAX_LABEL_CHARS);
        let opts: Vec<String> = (0..100).map(|i| format!("\"{i}{long}\"")).collect();
        let c = one(&format!(r#"{{"id":"s","kind":"select","options":[{}]}}"#, opts.join(",")));
        let ControlKind::Select { options } = c.kind else { panic!() };
        assert_eq!(options.len(), MAX_OPTIONS);
        assert!(options.iter().all(|o| o.chars().count() == MAX_LABEL_CHARS));
    }

    #[test]
    fn defaults_and_caps() {
        let c = one(r#"{"id":"pan","kind":"slider"}"#);
        assert_eq!(c.label, "pan", "the id when no label");
        assert_eq!(c.kind, ControlKind::Slider(Range { min: 0.0, max: 100.0, step: None, unit: None }));
        assert_eq!(
            (c.rate_hz, c.disabled, c.drive, &c.group, &c.confirm),
            (20.0, false, false, &None, &None)
        );
        assert_eq!(one(r#"{"id":"a","kind":"slider","rate_hz":500}"#).rate_hz, MAX_RATE_HZ);
        assert_eq!(one(r#"{"id":"a","kind":"slider","rate_hz":0}"#).rate_hz, MIN_RATE_HZ);
        assert_eq!(one(r#"{"id":"a","kind":"slider","rate_hz":"fast"}"#).rate_hz, DEFAULT_RATE_HZ);
        assert_eq!(one(r#"{"id":"t","kind":"text"}"#).kind, ControlKind::Text { max_len: 64 });
        assert_eq!(
            one(r#"{"id":"t","kind":"text","max_len":100000}"#).kind,
            ControlKind::Text { max_len: 256 }
        );
        let step = |decl| match one(decl).kind {
            ControlKind::Slider(r) | ControlKind::Number(r) => r.step,
            _ => panic!(),
        };
        assert_eq!(step(r#"{"id":"a","kind":"number","step":-1}"#), None);
        assert_eq!(step(r#"{"id":"a","kind":"number","step":0.5}"#), Some(0.5));
        // Wrong types read as absent; unknown fields are ignored.
        let c = one(r#"{"id":"l","kind":"led","label":5,"disabled":"yes","color":"amber","blink":true}"#);
        assert_eq!((c.label.as_str(), c.disabled), ("l", false));
        assert_eq!(c.kind, ControlKind::Led { color: Some("amber".into()) });
        // Only read-only kinds follow a series.
        assert_eq!(one(r#"{"id":"b","kind":"gauge","series":"bat"}"#).series.as_deref(), Some("bat"));
        assert_eq!(one(r#"{"id":"b","kind":"toggle","series":"bat"}"#).series, None);
        // Not a list: nothing, and a note unless it is null.
        assert_eq!(notes(&parse(r#"{"id":"a"}"#)), [(0, None, Skipped::NOT_A_LIST)]);
        assert_eq!(parse("null"), Controls::default());
    }

    #[test]
    fn canonical_form_reads_back_the_same() {
        let c = parse(
            r#"[{"id":"pan","kind":"slider","min":-90,"max":90,"step":5,"unit":"°","label":"Camera",
                "group":"cam","confirm":"Sure?","disabled":true,"rate_hz":10,"drive":true},
               {"id":"bat","kind":"gauge","min":3,"max":4.2,"unit":"V","warn":3.5,"alarm":3.3,"series":"battery"},
               {"id":"mode","kind":"select","options":["eco","sport","eco"]},
               {"id":"msg","kind":"text","max_len":20},{"id":"up","kind":"value"},{"id":"led","kind":"led"}]"#,
        );
        let text = c.to_value().to_json();
        assert_eq!(parse(&text), c);
        assert!(text.starts_with(
            r#"[{"id":"pan","kind":"slider","label":"Camera","min":-90,"max":90,"step":5,"unit":"°","group":"cam","confirm":"Sure?","disabled":true,"rate_hz":10,"drive":true}"#
        ), "{text}");
    }

    fn accept(decl: &str, v: CtlValue) -> Option<CtlValue> {
        one(decl).accept(&v)
    }

    use CtlValue::{Bool, Num, Text};

    /// Any range and step: a snapped value is in range, on the step, and snaps to itself (a value
    /// the device confirmed is taken again unchanged).
    #[test]
    fn snapping_is_in_range_and_stable() {
        let mut m = crate::mutate::Mutator::new(0x57E9);
        let pick = |m: &mut crate::mutate::Mutator| {
            let scale = [1e-3, 0.1, 1.0, 5.0, 100.0, 1e6, 1e15, 1e300][m.below(8)];
            ((m.next_f64() - 0.5) * 2.0 * scale * 10.0 * 10.0).round() / 10.0
        };
        for _ in 0..100_000 {
            let (a, b) = (pick(&mut m), pick(&mut m));
            let (min, max) = if a <= b { (a, b) } else { (b, a) };
            let step = [None, Some(0.1), Some(0.25), Some(1.0), Some(3.0), Some(0.05), Some(7.3), Some(1e-9)]
                [m.below(8)];
            let n = pick(&mut m);
            let once = snap(n, min, max, step);
            assert!((min..=max).contains(&once), "{n} in {min}..{max} step {step:?} -> {once}");
            assert_eq!(snap(once, min, max, step), once, "{n} in {min}..{max} step {step:?}");
        }
        assert_eq!(snap(0.31, 0.0, 1.0, Some(0.1)), 0.3);
        assert_eq!(snap(0.7, 0.0, 1.0, Some(0.05)), 0.7);
        assert_eq!(snap(5.0, 10.0, 0.0, None), 0.0, "min > max does not panic");
    }

    #[test]
    fn accept_and_initial_of_every_kind() {
        for kind in ["button", "toggle", "led"] {
            let decl = format!(r#"{{"id":"a","kind":"{kind}"}}"#);
            assert_eq!(one(&decl).initial(), Bool(false));
            assert_eq!(accept(&decl, Bool(true)), Some(Bool(true)));
            assert_eq!(accept(&decl, Num(1.0)), None, "{kind}");
            assert_eq!(accept(&decl, Text("on".into())), None, "{kind}");
        }
        for kind in ["slider", "number"] {
            let decl = format!(r#"{{"id":"a","kind":"{kind}","min":-90,"max":90,"step":5}}"#);
            assert_eq!(one(&decl).initial(), Num(-90.0));
            assert_eq!(accept(&decl, Num(31.0)), Some(Num(30.0)), "snapped to the step from min");
            assert_eq!(accept(&decl, Num(500.0)), Some(Num(90.0)), "clamped");
            assert_eq!(accept(&decl, Num(-1e300)), Some(Num(-90.0)));
            assert_eq!(accept(&decl, Num(f64::NAN)), None);
            assert_eq!(accept(&decl, Bool(true)), None);
            assert_eq!(accept(&decl, Text("30".into())), None);
        }
        // A step that does not divide the range never goes past max; decimal steps stay decimal.
        assert_eq!(
            accept(r#"{"id":"a","kind":"slider","min":0,"max":10,"step":3}"#, Num(10.0)),
            Some(Num(9.0))
        );
        assert_eq!(
            accept(r#"{"id":"a","kind":"slider","min":0,"max":1,"step":0.1}"#, Num(0.31)),
            Some(Num(0.3))
        );
        assert_eq!(
            accept(r#"{"id":"a","kind":"number","min":-0.3,"max":1,"step":0.1}"#, Num(0.12)),
            Some(Num(0.1))
        );
        assert_eq!(accept(r#"{"id":"a","kind":"number","min":1,"max":2}"#, Num(1.2345)), Some(Num(1.2345)));
        let gauge = r#"{"id":"g","kind":"gauge","min":3,"max":4.2}"#;
        assert_eq!(one(gauge).initial(), Num(3.0));
        assert_eq!(accept(gauge, Num(3.71)), Some(Num(3.71)));
        assert_eq!(accept(gauge, Num(9.0)), Some(Num(4.2)));
        assert_eq!(accept(gauge, Bool(true)), None);
        let select = r#"{"id":"m","kind":"select","options":["eco","sport"]}"#;
        assert_eq!(one(select).initial(), Text("eco".into()));
        assert_eq!(accept(select, Text("sport".into())), Some(Text("sport".into())));
        assert_eq!(accept(select, Text("turbo".into())), None);
        assert_eq!(accept(select, Num(1.0)), None);
        let text = r#"{"id":"t","kind":"text","max_len":5}"#;
        assert_eq!(one(text).initial(), Text("".into()));
        assert_eq!(accept(text, Text("héllo world".into())), Some(Text("héllo".into())));
        assert_eq!(accept(text, Num(5.0)), None);
        let value = r#"{"id":"v","kind":"value"}"#;
        assert_eq!(one(value).initial(), Text("".into()));
        assert_eq!(accept(value, Text("x".repeat(1000))), Some(Text("x".repeat(256))));
        assert_eq!(accept(value, Num(12.5)), Some(Text("12.5".into())), "a number shows as text");
        assert_eq!(accept(value, Bool(true)), None);
        assert_eq!(
            ["button", "toggle", "slider", "number", "select", "text", "gauge", "led", "value"]
                .map(|k| one(&format!(r#"{{"id":"a","kind":"{k}","options":["x"]}}"#)).read_only()),
            [false, false, false, false, false, false, true, true, true]
        );
    }
}
