//! How the app reads values from firmware that does not speak wsdeck (docs/PROTOCOL.md, "What the
//! app reads"): numbers in strings, gap words, on/off, text; nested objects and arrays flattened to
//! dotted names; and plain-text lines such as `temp=21.5, hum=40` or `21.5,40.1`.
//!
//! Everything here is linear in the frame: at most [`MAX_VALUES`] values are taken, so the check
//! that keeps names unique never compares more than that many names, however many keys come.

use crate::{Reading, Telemetry, Value, BARE_NUMBER_SERIES};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Values taken from one frame; the rest are counted in [`Telemetry::skipped`] (the app shows at
/// most 64 series anyway).
pub const MAX_VALUES: usize = 64;
/// Parts of a flattened name: `a.b.c.d` is taken, `a.b.c.d.e` is skipped.
pub const MAX_NAME_PARTS: usize = 4;
/// Longest series name taken, in bytes (suffix included); longer ones are skipped.
pub const MAX_NAME_LEN: usize = 100;
/// Longest text reading kept, in characters: a longer one keeps its first 199 and ends with `…`.
pub const MAX_TEXT_CHARS: usize = 200;
/// Strings longer than this (in bytes, once trimmed) are never read as numbers.
const MAX_NUMBER_LEN: usize = 64;

/// What a string means as a reading (the same for a JSON string and a plain-text value): a
/// number, a gap word, on/off, or text (trimmed, and capped at [`MAX_TEXT_CHARS`]).
pub fn classify(s: &str) -> Reading {
    let t = s.trim();
    if t.len() <= MAX_NUMBER_LEN {
        if let Some(n) = crate::parse_f64(t) {
            return Reading::Num(n);
        }
    }
    if is_gap(t) {
        return Reading::Gap;
    }
    for (word, on) in [("on", true), ("off", false), ("true", true), ("false", false)] {
        if t.eq_ignore_ascii_case(word) {
            return Reading::Bool(on);
        }
    }
    Reading::Text(cap_text(t))
}

/// What C's `printf` and Arduino's `Serial.print` write for a float that is not a number: the
/// only words that make a lone value (`nan` on a line of its own) a reading.
const FLOAT_GAPS: [&str; 4] = ["nan", "inf", "infinity", "ovf"];

/// Words that mean "no valid value this time", case-insensitive, besides the float ones, the empty
/// string and dashes (`-`, `--`, ...).
const GAP_WORDS: [&str; 7] = ["null", "none", "nil", "undefined", "error", "err", "n/a"];

fn is_float_gap(t: &str) -> bool {
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    FLOAT_GAPS.iter().any(|w| unsigned.eq_ignore_ascii_case(w))
}

fn is_gap(t: &str) -> bool {
    t.bytes().all(|b| b == b'-') || is_float_gap(t) || GAP_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
}

/// The first [`MAX_TEXT_CHARS`] characters of `t`, or the first 199 and `…`: capped text is never
/// capped again, so it reads back the same.
fn cap_text(t: &str) -> String {
    match t.char_indices().nth(MAX_TEXT_CHARS) {
        None => t.into(),
        Some(_) => {
            let end = t.char_indices().nth(MAX_TEXT_CHARS - 1).map_or(t.len(), |(i, _)| i);
            format!("{}…", &t[..end])
        }
    }
}

/// One JSON value as a reading, if it is not an object or an array.
fn scalar(v: &Value) -> Option<Reading> {
    Some(match v {
        Value::Null => Reading::Gap,
        Value::Bool(b) => Reading::Bool(*b),
        Value::Num(n) if n.is_finite() => Reading::Num(*n),
        Value::Num(_) => Reading::Gap,
        Value::Str(s) => classify(s),
        Value::List(_) | Value::Obj(_) => return None,
    })
}

/// The readings of one frame, as they are taken: names unique, capped in count and length.
#[derive(Default)]
pub(crate) struct Readings {
    values: Vec<(String, Reading)>,
    skipped: u32,
    /// Name comparisons made to keep names unique (tests hold it to a bound).
    #[cfg(test)]
    compared: usize,
}

impl Readings {
    /// Takes `reading` as series `name`, or a `~2`, `~3` ... suffixed name if that is taken.
    fn push(&mut self, name: &str, reading: Reading) {
        if self.values.len() >= MAX_VALUES || name.len() > MAX_NAME_LEN {
            return self.skip(1);
        }
        if !self.taken(name) {
            self.values.push((name.into(), reading));
            return;
        }
        // At most MAX_VALUES names are taken, so one of the first MAX_VALUES + 1 suffixes is free.
        for n in 2..=MAX_VALUES + 1 {
            let candidate = format!("{name}~{n}");
            if candidate.len() > MAX_NAME_LEN {
                break;
            }
            if !self.taken(&candidate) {
                self.values.push((candidate, reading));
                return;
            }
        }
        self.skip(1);
    }

    fn taken(&mut self, name: &str) -> bool {
        #[cfg(test)]
        {
            self.compared += self.values.len();
        }
        self.values.iter().any(|(k, _)| k == name)
    }

    fn skip(&mut self, n: usize) {
        self.skipped = self.skipped.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// Takes every value of an object's entries (or an array's items, named `0`, `1`, ...) under
    /// `prefix`, at `depth` name segments.
    fn flatten<'v>(
        &mut self,
        prefix: &mut String,
        entries: impl Iterator<Item = (Key<'v>, &'v Value)>,
        depth: usize,
    ) {
        for (key, value) in entries {
            let len = prefix.len();
            if len > 0 {
                prefix.push('.');
            }
            // The key is added only when the name can still be taken: a 10 KiB key is never copied.
            let fits = prefix.len() + key.len() <= MAX_NAME_LEN;
            if fits {
                key.push_to(prefix);
            }
            match scalar(value) {
                Some(reading) if fits => self.push(prefix, reading),
                Some(_) => self.skip(1),
                None if fits && depth < MAX_NAME_PARTS => self.nested(prefix, value, depth + 1),
                None => self.skip(leaves(value)),
            }
            prefix.truncate(len);
        }
    }

    fn nested(&mut self, prefix: &mut String, value: &Value, depth: usize) {
        match value {
            Value::Obj(entries) => {
                self.flatten(prefix, entries.iter().map(|(k, v)| (Key::Name(k), v)), depth)
            }
            Value::List(items) => {
                self.flatten(prefix, items.iter().enumerate().map(|(i, v)| (Key::Index(i), v)), depth)
            }
            _ => {}
        }
    }

    /// Whether a JSON object or array without `t` reads as telemetry: anything was taken, or
    /// skipped (so that the app can say so).
    fn any(&self) -> bool {
        self.skipped > 0 || !self.values.is_empty()
    }

    /// Whether a line of text reads as telemetry: it has a number, an on/off or a gap in it (text
    /// alone, `Error: overheat`, is a message, not a reading), or values that were skipped.
    fn any_reading(&self) -> bool {
        self.skipped > 0 || self.values.iter().any(|(_, r)| !matches!(r, Reading::Text(_)))
    }

    fn into_telemetry(self, tagged: bool) -> Telemetry {
        Telemetry { ms: None, values: self.values, tagged, skipped: self.skipped }
    }
}

/// A name segment: an object's key or an array's index.
#[derive(Clone, Copy)]
enum Key<'a> {
    Name(&'a str),
    Index(usize),
}

impl Key<'_> {
    fn len(self) -> usize {
        match self {
            Key::Name(k) => k.len(),
            Key::Index(i) => digits(i),
        }
    }

    fn push_to(self, out: &mut String) {
        use core::fmt::Write;
        match self {
            Key::Name(k) => out.push_str(k),
            Key::Index(i) => {
                let _ = write!(out, "{i}");
            }
        }
    }
}

fn digits(mut i: usize) -> usize {
    let mut n = 1;
    while i >= 10 {
        i /= 10;
        n += 1;
    }
    n
}

/// How many values (strings, numbers, booleans, nulls) are in `v`, without recursion: a caller of
/// [`crate::DeviceMsg::from_value`] may hand in a value nested deeper than the parser allows.
fn leaves(v: &Value) -> usize {
    let mut n = 0;
    let mut stack = alloc::vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Obj(entries) => stack.extend(entries.iter().map(|(_, v)| v)),
            Value::List(items) => stack.extend(items.iter()),
            _ => n += 1,
        }
    }
    n
}

/// The `d` of a `tel` frame: every value, flattened.
pub(crate) fn tel_values(d: &[(String, Value)]) -> Telemetry {
    let mut r = Readings::default();
    r.flatten(&mut String::new(), d.iter().map(|(k, v)| (Key::Name(k), v)), 1);
    r.into_telemetry(true)
}

/// An object without `t` (`{"temperature":"23.12","bme280":{"t":21.5}}`), or `None` if it is
/// empty.
pub(crate) fn bare_object(obj: &Value) -> Option<Telemetry> {
    let Value::Obj(entries) = obj else { return None };
    let mut r = Readings::default();
    r.flatten(&mut String::new(), entries.iter().map(|(k, v)| (Key::Name(k), v)), 1);
    r.any().then(|| r.into_telemetry(false))
}

/// A top-level array (`[21.5,40.1]`): `value1`, `value2`, ... as a line of comma-separated numbers
/// reads, flattened as an object's values are.
pub(crate) fn bare_list(items: &[Value]) -> Option<Telemetry> {
    let mut r = Readings::default();
    let mut name = String::new();
    for (i, v) in items.iter().enumerate() {
        name.clear();
        name.push_str(BARE_NUMBER_SERIES);
        Key::Index(i + 1).push_to(&mut name);
        match scalar(v) {
            Some(reading) => r.push(&name, reading),
            None => r.nested(&mut name, v, 2),
        }
    }
    r.any().then(|| r.into_telemetry(false))
}

/// A lone value (`23.5`, `"23.5"`, `nan` on a line of its own) as series `value`: only a number
/// or a float that is not a number. A lone word (`OK`, `Error`, `ON`, `null`) is a reply, not a
/// reading.
pub(crate) fn lone(reading: Reading, text: Option<&str>) -> Option<Telemetry> {
    let keep = match &reading {
        Reading::Num(_) => true,
        Reading::Gap => text.is_some_and(|t| is_float_gap(t.trim())),
        _ => false,
    };
    keep.then(|| Telemetry {
        values: alloc::vec![(BARE_NUMBER_SERIES.into(), reading)],
        ..Telemetry::default()
    })
}

/// A frame that is not JSON, as tutorial firmware prints it: `key=value` or `key: value` pairs
/// (`temp=21.5, hum=40`, `T:21.5;H:40`), or a list of numbers (`21.5,40.1`, `21.5\t40.1`,
/// `21.5 40.1`). `None` if the line is not telemetry (`OK`, `Hello from ESP32`, `Error: overheat`).
pub(crate) fn text_line(frame: &str) -> Option<Telemetry> {
    let line = frame.trim();
    if line.contains(['=', ':']) {
        pairs(line)
    } else {
        list(line)
    }
}

/// Separators between pairs; all ASCII, so cutting at them keeps UTF-8 whole.
fn is_sep(b: u8) -> bool {
    matches!(b, b',' | b';' | b' ' | b'\t' | b'\r' | b'\n')
}

/// `key=value` / `key: value` pairs; words that are not pairs (units: `temp=21.5 C`) are ignored.
fn pairs(line: &str) -> Option<Telemetry> {
    let b = line.as_bytes();
    let mut r = Readings::default();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && !is_sep(b[i]) && b[i] != b'=' && b[i] != b':' {
            i += 1;
        }
        let key = &line[start..i];
        let mut j = i;
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        if j < b.len() && matches!(b[j], b'=' | b':') {
            i = j + 1;
            while i < b.len() && matches!(b[i], b' ' | b'\t') {
                i += 1;
            }
            let from = i;
            while i < b.len() && !is_sep(b[i]) {
                i += 1;
            }
            if !key.is_empty() {
                r.push(key, classify(&line[from..i]));
            }
        }
    }
    r.any_reading().then(|| r.into_telemetry(false))
}

/// Numbers separated by commas, semicolons, tabs or spaces (the first of those the line has);
/// empty fields and gap words are gaps, a trailing separator ends the line. Every field must be a
/// number or a gap, and at least one a number or a float gap (`nan`).
fn list(line: &str) -> Option<Telemetry> {
    let sep = [',', ';', '\t'].into_iter().find(|c| line.contains(*c));
    let mut fields: Vec<&str> = match sep {
        Some(c) => line.split(c).map(str::trim).collect(),
        None => line.split_whitespace().collect(),
    };
    if fields.len() > 1 && fields.last() == Some(&"") {
        fields.pop();
    }
    if fields.len() == 1 {
        return lone(classify(fields[0]), Some(fields[0]));
    }
    let mut any = false;
    for f in &fields {
        match classify(f) {
            Reading::Num(_) => any = true,
            Reading::Gap => any |= is_float_gap(f),
            _ => return None,
        }
    }
    if !any {
        return None;
    }
    let mut r = Readings::default();
    for (i, f) in fields.iter().enumerate() {
        if r.values.len() >= MAX_VALUES {
            r.skip(fields.len() - i);
            break;
        }
        r.push(&format!("{BARE_NUMBER_SERIES}{}", i + 1), classify(f));
    }
    Some(r.into_telemetry(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecodeError, DeviceMsg};
    use alloc::string::ToString;
    use alloc::vec;

    fn num(n: f64) -> Reading {
        Reading::Num(n)
    }
    fn text(s: &str) -> Reading {
        Reading::Text(s.into())
    }

    /// The telemetry a frame decodes to, or the error's kind.
    fn read(frame: &str) -> Result<Telemetry, &'static str> {
        match DeviceMsg::decode(frame) {
            Ok(DeviceMsg::Telemetry(t)) => Ok(t),
            Ok(other) => panic!("{frame:?} decoded to {other:?}"),
            Err(e) => Err(e.kind()),
        }
    }

    /// The `(name, reading)` pairs of an untagged frame with nothing skipped.
    fn values(frame: &str) -> Vec<(String, Reading)> {
        let t = read(frame).unwrap_or_else(|e| panic!("{frame:?}: {e}"));
        assert!(!t.tagged, "{frame:?}");
        assert_eq!(t.skipped, 0, "{frame:?}");
        t.values
    }

    fn pairs(list: &[(&str, Reading)]) -> Vec<(String, Reading)> {
        list.iter().map(|(k, r)| (k.to_string(), r.clone())).collect()
    }

    #[test]
    fn numbers_in_strings_are_numbers() {
        for (s, n) in [
            ("23.12", 23.12),
            (" 23.1 ", 23.1),
            ("1e3", 1000.0),
            ("+5", 5.0),
            ("-0.5", -0.5),
            ("\t42\n", 42.0),
            (".5", 0.5),
        ] {
            assert_eq!(classify(s), num(n), "{s:?}");
        }
        assert_eq!(
            values(r#"{"temperature":"23.12","humidity":"45.20","pressure":"1013.25"}"#),
            pairs(&[("temperature", num(23.12)), ("humidity", num(45.2)), ("pressure", num(1013.25))])
        );
    }

    #[test]
    fn gap_words_are_gaps_never_zero() {
        for s in [
            "NaN",
            "nan",
            "-nan",
            "inf",
            "-inf",
            "+INF",
            "Infinity",
            "-Infinity",
            "ovf",
            "Error",
            "ERR",
            "",
            "  ",
            "null",
            "None",
            "nil",
            "undefined",
            "n/a",
            "N/A",
            "-",
            "--",
            "---",
        ] {
            assert_eq!(classify(s), Reading::Gap, "{s:?}");
        }
        assert_eq!(
            values(r#"{"t1":"nan","t2":null,"t3":"Error","t4":"","t5":"--"}"#),
            pairs(&[
                ("t1", Reading::Gap),
                ("t2", Reading::Gap),
                ("t3", Reading::Gap),
                ("t4", Reading::Gap),
                ("t5", Reading::Gap)
            ])
        );
    }

    #[test]
    fn on_off_and_booleans_are_on_off() {
        for (s, b) in [("ON", true), ("on", true), ("Off", false), ("true", true), ("FALSE", false)] {
            assert_eq!(classify(s), Reading::Bool(b), "{s:?}");
        }
        assert_eq!(
            values(r#"{"led":true,"relay":"OFF","fan":"on"}"#),
            pairs(&[
                ("led", Reading::Bool(true)),
                ("relay", Reading::Bool(false)),
                ("fan", Reading::Bool(true))
            ])
        );
    }

    #[test]
    fn other_strings_are_text_trimmed_and_capped() {
        assert_eq!(
            values(r#"{"time":"12:03:04","state":" IDLE ","temp":21.5}"#),
            pairs(&[("time", text("12:03:04")), ("state", text("IDLE")), ("temp", num(21.5))])
        );
        // An object of text alone is telemetry too (a status a device pushes); a line is not.
        assert_eq!(values(r#"{"state":"IDLE"}"#), pairs(&[("state", text("IDLE"))]));
        assert_eq!(values(r#"["OK"]"#), pairs(&[("value1", text("OK"))]));
        assert_eq!(read("state=IDLE"), Err("not_telemetry"));
        for s in ["0x10", "1,5", "23.1 C", "yes", "1e400"] {
            assert_eq!(classify(s), text(s), "{s:?}");
        }
        // 60 KiB of text keeps 200 characters (the last one an ellipsis), cut at a char boundary.
        let long = "é".repeat(30 * 1024);
        let Reading::Text(kept) = classify(&long) else { panic!() };
        assert_eq!(kept.chars().count(), MAX_TEXT_CHARS);
        assert_eq!(kept, "é".repeat(199) + "…");
        assert_eq!(classify(&kept), Reading::Text(kept.clone()), "capped text reads back the same");
        let digits = "9".repeat(300) + "x";
        assert!(matches!(classify(&digits), Reading::Text(t) if t.ends_with('…')));
        assert_eq!(classify(&"1".repeat(65)), text(&"1".repeat(65)), "too long to be a number");
    }

    #[test]
    fn nested_objects_and_arrays_flatten_with_dots() {
        assert_eq!(
            values(
                r#"{"bme280":{"t":21.5,"h":40},"accel":[0.1,0.2,9.8],"gps":{"fix":true,"pos":[{"lat":"1.5"}]}}"#
            ),
            pairs(&[
                ("bme280.t", num(21.5)),
                ("bme280.h", num(40.0)),
                ("accel.0", num(0.1)),
                ("accel.1", num(0.2)),
                ("accel.2", num(9.8)),
                ("gps.fix", Reading::Bool(true)),
                ("gps.pos.0.lat", num(1.5)),
            ])
        );
        let tel = read(r#"{"t":"tel","ms":5,"d":{"imu":{"gyro":[1,2]},"mode":"auto","gap":null}}"#).unwrap();
        assert!(tel.tagged);
        assert_eq!(tel.ms, Some(5.0));
        assert_eq!(
            tel.values,
            pairs(&[
                ("imu.gyro.0", num(1.0)),
                ("imu.gyro.1", num(2.0)),
                ("mode", text("auto")),
                ("gap", Reading::Gap)
            ])
        );
    }

    #[test]
    fn depth_count_and_name_length_are_capped_and_what_is_left_is_counted() {
        let t = read(r#"{"a":{"b":{"c":{"d":1,"e":{"f":2,"g":[3,4]}}}},"x":5}"#).unwrap();
        assert_eq!(t.values, pairs(&[("a.b.c.d", num(1.0)), ("x", num(5.0))]));
        assert_eq!(t.skipped, 3, "f, g.0 and g.1 are too deep");

        let many: String = (0..100).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>().join(",");
        let t = read(&format!("{{{many}}}")).unwrap();
        assert_eq!(t.values.len(), MAX_VALUES);
        assert_eq!(t.values[63], ("k63".to_string(), num(63.0)));
        assert_eq!(t.skipped, 36);

        let long = "n".repeat(MAX_NAME_LEN + 1);
        let fits = "n".repeat(MAX_NAME_LEN);
        let t = read(&format!(r#"{{"{long}":1,"{fits}":2,"{long}":{{"a":[1,2]}},"ok":3}}"#)).unwrap();
        assert_eq!(t.values, pairs(&[(&fits, num(2.0)), ("ok", num(3.0))]));
        assert_eq!(t.skipped, 3);
        // A 10 KiB name on its own: skipped, and the frame says so rather than vanishing.
        let t = read(&format!(r#"{{"{}":1}}"#, "x".repeat(10 * 1024))).unwrap();
        assert_eq!((t.values.len(), t.skipped), (0, 1));
    }

    #[test]
    fn names_that_collide_get_a_stable_suffix() {
        assert_eq!(
            values(r#"{"a.b":1,"a":{"b":2},"a.b~2":3,"x":4,"x":5}"#),
            pairs(&[
                ("a.b", num(1.0)),
                ("a.b~2", num(2.0)),
                ("a.b~2~2", num(3.0)),
                ("x", num(4.0)),
                ("x~2", num(5.0))
            ])
        );
        assert_eq!(values("a=1 a=2 a=3"), pairs(&[("a", num(1.0)), ("a~2", num(2.0)), ("a~3", num(3.0))]));
        // A suffix that would make the name too long is not taken.
        let fits = "n".repeat(MAX_NAME_LEN);
        let t = read(&format!(r#"{{"{fits}":1,"{fits}":2}}"#)).unwrap();
        assert_eq!((t.values.len(), t.skipped), (1, 1));
    }

    #[test]
    fn names_keep_every_character() {
        let names = ["left wheel", "battery (V)", "a/b", "say \"hi\"", "温度", "🔋", "x.y", "[0]", " pad "];
        let body: Vec<String> =
            names.iter().map(|n| format!("{}:1", crate::Value::Str(n.to_string()).to_json())).collect();
        let got: Vec<String> =
            values(&format!("{{{}}}", body.join(","))).into_iter().map(|(k, _)| k).collect();
        assert_eq!(got, names);
    }

    #[test]
    fn plain_text_pairs() {
        let both = pairs(&[("temp", num(21.5)), ("hum", num(40.0))]);
        for line in [
            "temp=21.5, hum=40",
            "temp=21.5;hum=40",
            "temp=21.5 hum=40",
            "temp: 21.5, hum: 40",
            "temp = 21.5\thum:40\r\n",
        ] {
            assert_eq!(values(line), both, "{line:?}");
        }
        assert_eq!(values("T:21.5;H:40"), pairs(&[("T", num(21.5)), ("H", num(40.0))]));
        assert_eq!(
            values("Temperature: 21.5 C, Humidity: 40 %, state=IDLE, led=ON, time=12:03:04, rssi=nan, x="),
            pairs(&[
                ("Temperature", num(21.5)),
                ("Humidity", num(40.0)),
                ("state", text("IDLE")),
                ("led", Reading::Bool(true)),
                ("time", text("12:03:04")),
                ("rssi", Reading::Gap),
                ("x", Reading::Gap),
            ])
        );
        assert_eq!(values("status: Error"), pairs(&[("status", Reading::Gap)]));
    }

    #[test]
    fn plain_text_numbers() {
        let two = pairs(&[("value1", num(21.5)), ("value2", num(40.1))]);
        for line in ["21.5,40.1", "21.5, 40.1", "21.5;40.1", "21.5\t40.1", "21.5 40.1", "21.5,40.1,\r\n"] {
            assert_eq!(values(line), two, "{line:?}");
        }
        assert_eq!(
            values("21.5,,nan,40"),
            pairs(&[
                ("value1", num(21.5)),
                ("value2", Reading::Gap),
                ("value3", Reading::Gap),
                ("value4", num(40.0))
            ])
        );
        assert_eq!(values("+5"), pairs(&[("value", num(5.0))]));
        assert_eq!(values("nan\r\n"), pairs(&[("value", Reading::Gap)]));
        assert_eq!(values("-inf"), pairs(&[("value", Reading::Gap)]));
        assert_eq!(values("\"23.5\""), pairs(&[("value", num(23.5))]));
        assert_eq!(values("[21.5,40.1]"), two);
        assert_eq!(
            values(r#"[1,"OFF",null,[2,3]]"#),
            pairs(&[
                ("value1", num(1.0)),
                ("value2", Reading::Bool(false)),
                ("value3", Reading::Gap),
                ("value4.0", num(2.0)),
                ("value4.1", num(3.0)),
            ])
        );
        let t = read(&vec!["1"; 100].join(",")).unwrap();
        assert_eq!((t.values.len(), t.skipped), (MAX_VALUES, 36));
        assert_eq!(t.values[63].0, "value64");
    }

    #[test]
    fn lines_that_are_not_telemetry_are_said_to_be() {
        for frame in [
            "OK",
            "Hello",
            "Hello from ESP32",
            "ESP32 booted 3 times",
            "Error: overheat",
            "Error",
            "ON",
            "null",
            "true",
            "\"OK\"",
            "\"\"",
            "",
            "   ",
            "--,--",
            "21.5,hello",
            "12:03:04",
            "[]",
            "[INFO] booting",
            "{}",
            r#"{"a":{}}"#,
        ] {
            assert_eq!(read(frame).map(|t| t.values), Err("not_telemetry"), "{frame:?}");
        }
        let e = DeviceMsg::decode("OK").unwrap_err();
        assert_eq!(e, DecodeError::NotTelemetry);
        assert_eq!(format!("`OK` {e}"), "`OK` is not telemetry: ignored");
        // Broken JSON stays a JSON error: it was meant as an object.
        assert_eq!(read(r#"{"t":"tel","d":{"#), Err("json"));
        assert_eq!(read(r#" {temp=21.5}"#), Err("json"));
    }

    #[test]
    fn untagged_frames_do_not_speak_v1_and_tel_frames_do() {
        for frame in ["23.5", "temp=1", "21.5,40", "[1,2]", r#"{"a":"1"}"#, "\"7\""] {
            assert!(!DeviceMsg::decode(frame).unwrap().speaks_v1(), "{frame:?}");
        }
        let tel = DeviceMsg::decode(r#"{"t":"tel","d":{"state":"IDLE"}}"#).unwrap();
        assert!(tel.speaks_v1(), "a tel frame of text alone is still telemetry");
    }

    #[test]
    fn hostile_shapes_are_cheap() {
        // A 64 KiB frame of tiny keys: 64 taken, the rest counted, and the names compared a bounded
        // number of times however many keys came.
        // The same key over and over is the worst case for unique names: every one collides.
        let worst = |keys: usize| {
            let frame = format!("{{{}}}", vec!["\"\":0"; keys].join(","));
            assert!(frame.len() <= crate::MAX_FRAME_LEN);
            let crate::Value::Obj(entries) = crate::value::parse(&frame).unwrap() else { panic!() };
            let mut r = Readings::default();
            r.flatten(&mut String::new(), entries.iter().map(|(k, v)| (Key::Name(k), v)), 1);
            (r.values.len(), r.skipped as usize, r.compared)
        };
        let keys = crate::MAX_FRAME_LEN / 5;
        let (taken, skipped, compared) = worst(keys);
        assert_eq!((taken, taken + skipped), (MAX_VALUES, keys));
        assert_eq!(compared, worst(100).2, "work stops growing once 64 values are taken");
        assert!(compared < 100_000, "{compared}");
        // 32 000 numbers in a line of text and in an array: 64 taken, the rest counted.
        let line = vec!["1"; crate::MAX_FRAME_LEN / 2].join(",");
        let t = read(&line).unwrap();
        assert_eq!((t.values.len(), t.skipped as usize), (MAX_VALUES, crate::MAX_FRAME_LEN / 2 - MAX_VALUES));
        let t = read(&format!("[{line}]")).unwrap();
        assert_eq!((t.values.len(), t.skipped as usize), (MAX_VALUES, crate::MAX_FRAME_LEN / 2 - MAX_VALUES));

        // Deep nesting: the parser refuses it before it gets here.
        assert_eq!(read(&"{\"a\":".repeat(10_000)), Err("json"));
        assert_eq!(read(&("[".repeat(10_000) + &"]".repeat(10_000))), Err("not_telemetry"));
        // A value nested deeper than the parser allows, handed in directly: counted, no recursion.
        let mut deep = crate::Value::Num(1.0);
        for _ in 0..1000 {
            deep = crate::Value::Obj(vec![("a".into(), deep)]);
        }
        let Ok(DeviceMsg::Telemetry(t)) = DeviceMsg::from_value(deep) else { panic!() };
        assert_eq!((t.values.len(), t.skipped), (0, 1));

        // A 60 KiB string value and a 60 KiB line of text.
        let t = read(&format!(r#"{{"s":"{}"}}"#, "x".repeat(60 * 1024))).unwrap();
        assert!(matches!(&t.values[0].1, Reading::Text(s) if s.chars().count() == MAX_TEXT_CHARS));
        assert_eq!(read(&"x".repeat(60 * 1024)), Err("not_telemetry"));
        let t = read(&format!("{}=1", "k".repeat(60 * 1024))).unwrap();
        assert_eq!((t.values.len(), t.skipped), (0, 1));
        // Invalid UTF-8 arrives replaced (decode takes text); the replacement is kept as it is.
        let lossy = alloc::string::String::from_utf8_lossy(b"t\xffemp=21.5").into_owned();
        assert_eq!(values(&lossy), pairs(&[("t\u{fffd}emp", num(21.5))]));
    }
}
