//! A JSON value whose objects keep the order of their keys, so that series appear in the order the
//! device sends them (serde_json's own `Value` sorts keys without `std`).

use alloc::string::String;
use alloc::vec::Vec;
#[cfg(any(test, feature = "serde"))]
use core::fmt;
#[cfg(any(test, feature = "serde"))]
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
#[cfg(any(test, feature = "serde"))]
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Any JSON value; numbers are `f64` (as in JavaScript), objects are ordered key/value pairs.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

impl Value {
    /// The value of `key` if this is an object that has it (the first one, if repeated).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A finite number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) if n.is_finite() => Some(*n),
            _ => None,
        }
    }

    /// A whole number that fits a `u32`.
    pub fn as_u32(&self) -> Option<u32> {
        let n = self.as_f64()?;
        (n >= 0.0 && n <= u32::MAX as f64 && n == (n as u32) as f64).then_some(n as u32)
    }

    /// A whole number from `-limit` to `limit`.
    pub fn as_i16_within(&self, limit: i16) -> Option<i16> {
        let n = self.as_f64()?;
        (n.abs() <= f64::from(limit) && n == f64::from(n as i16)).then_some(n as i16)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Serialises to compact JSON text as `serde_json::to_string` does (a test holds it to that;
    /// a rare non-whole number may end in the other of two equally short digits that both read
    /// back exactly). By hand: serde_json's writer and float tables were 1.2 KB gzip of the app,
    /// which only ever writes whole numbers.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Num(n) => write_number(*n, out),
            Value::Str(s) => write_string(s, out),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Obj(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// As [`serialize_number`], in serde_json's notation: shortest digits that read back exactly,
/// plain from 1e-5 to below 1e16 (`0.0001`, `12.5`, `9007199254740994.0`), else `1.5e+300`.
fn write_number(n: f64, out: &mut String) {
    use core::fmt::Write;
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if !n.is_finite() {
        out.push_str("null");
        return;
    }
    if n == (n as i64) as f64 && n.abs() <= EXACT {
        let _ = write!(out, "{}", n as i64);
        return;
    }
    // `{:e}` gives the shortest round-trip digits: `-1.2345e-7`.
    let sci = alloc::format!("{n:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa.strip_prefix('-').map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    out.push_str(sign);
    if (-5..=15).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            out.extend(core::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        } else {
            let point = exp as usize + 1;
            if digits.len() > point {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            } else {
                out.push_str(&digits);
                out.extend(core::iter::repeat_n('0', point - digits.len()));
                out.push_str(".0");
            }
        }
    } else {
        out.push_str(mantissa);
        let _ = write!(out, "e{}{}", if exp < 0 { '-' } else { '+' }, exp.unsigned_abs());
    }
}

/// A JSON string as serde_json writes it: `"` and `\` escaped, control characters as `\n` and
/// the like or `\u001f`, everything else as it is.
fn write_string(s: &str, out: &mut String) {
    use core::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses one frame's text (RFC 8259, as strict as serde_json: no trailing commas, no leading
/// zeros, no lone surrogates, at most 127 levels of nesting).
///
/// By hand rather than through serde_json: numbers go through `core`'s `f64::from_str`, which is
/// exact (correctly rounded), where serde_json is exact only with its `float_roundtrip` tables;
/// in the app's wasm this parser is 12.7 KB gzip smaller, and with `compact-float` the app's
/// wasm drops `f64::from_str` too (see `num.rs`). Frames are written by hand too ([`Value::to_json`]).
pub(crate) fn parse(frame: &str) -> Result<Value, crate::DecodeError> {
    let mut p = Parser { s: frame.as_bytes(), at: 0, depth: 0 };
    let v = p.value().and_then(|v| {
        p.ws();
        if p.at < p.s.len() {
            Err("trailing characters")
        } else {
            Ok(v)
        }
    });
    v.map_err(|e| crate::DecodeError::Json(alloc::format!("{e} at byte {}", p.at)))
}

/// serde_json's limit: 128 opening brackets fail, 127 parse.
const MAX_DEPTH: u32 = 127;

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: u32,
}

type Parsed<T> = Result<T, &'static str>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn eat(&mut self, word: &str) -> Parsed<()> {
        if self.s[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(())
        } else {
            Err("expected value")
        }
    }

    fn value(&mut self) -> Parsed<Value> {
        self.ws();
        match self.peek() {
            None => Err("EOF while parsing a value"),
            Some(b'n') => self.eat("null").map(|_| Value::Null),
            Some(b't') => self.eat("true").map(|_| Value::Bool(true)),
            Some(b'f') => self.eat("false").map(|_| Value::Bool(false)),
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Num),
            Some(open @ (b'[' | b'{')) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err("recursion limit exceeded");
                }
                self.at += 1;
                let v = if open == b'[' { self.list() } else { self.object() };
                self.depth -= 1;
                v
            }
            Some(_) => Err("expected value"),
        }
    }

    /// After `[`.
    fn list(&mut self) -> Parsed<Value> {
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        return Err("trailing comma");
                    }
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::List(items));
                }
                None => return Err("EOF while parsing a list"),
                Some(_) => return Err("expected `,` or `]`"),
            }
        }
    }

    /// After `{`.
    fn object(&mut self) -> Parsed<Value> {
        let mut entries = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Obj(entries));
        }
        loop {
            match self.peek() {
                Some(b'"') => {}
                None => return Err("EOF while parsing an object"),
                Some(_) => return Err("key must be a string"),
            }
            let key = self.string()?;
            self.ws();
            match self.peek() {
                Some(b':') => self.at += 1,
                None => return Err("EOF while parsing an object"),
                Some(_) => return Err("expected `:`"),
            }
            entries.push((key, self.value()?));
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        return Err("trailing comma");
                    }
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Obj(entries));
                }
                None => return Err("EOF while parsing an object"),
                Some(_) => return Err("expected `,` or `}`"),
            }
        }
    }

    /// At the opening `"`.
    fn string(&mut self) -> Parsed<String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character at once.
            let start = self.at;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            // The input is a `str` and the run stops only at ASCII bytes: a char boundary.
            out.push_str(core::str::from_utf8(&self.s[start..self.at]).map_err(|_| "invalid unicode")?);
            match self.peek() {
                None => return Err("EOF while parsing a string"),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = match self.peek() {
                        None => return Err("EOF while parsing a string"),
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let hi = self.hex4()?;
                            let code = match hi {
                                0xD800..=0xDBFF => {
                                    if self.s[self.at..].starts_with(b"\\u") {
                                        self.at += 2;
                                        let lo = self.hex4()?;
                                        if !(0xDC00..=0xDFFF).contains(&lo) {
                                            return Err("lone leading surrogate in hex escape");
                                        }
                                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                    } else {
                                        return Err("lone leading surrogate in hex escape");
                                    }
                                }
                                0xDC00..=0xDFFF => return Err("lone leading surrogate in hex escape"),
                                _ => hi,
                            };
                            out.push(char::from_u32(code).ok_or("invalid unicode code point")?);
                            continue;
                        }
                        Some(_) => return Err("invalid escape"),
                    };
                    self.at += 1;
                    out.push(c);
                }
                Some(_) => return Err("control character (\\u0000-\\u001F) found while parsing a string"),
            }
        }
    }

    /// Four hex digits after `\u`.
    fn hex4(&mut self) -> Parsed<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let d = match self.peek() {
                None => return Err("EOF while parsing a string"),
                Some(b) => (b as char).to_digit(16).ok_or("invalid escape")?,
            };
            n = n * 16 + d;
            self.at += 1;
        }
        Ok(n)
    }

    /// JSON's number grammar, then [`crate::parse_f64`] on exactly that text (correctly rounded
    /// unless built with `compact-float`); whole numbers that fit a `u64` by the shorter integer
    /// path, to the same result.
    fn number(&mut self) -> Parsed<f64> {
        let start = self.at;
        let neg = self.peek() == Some(b'-');
        self.at += usize::from(neg);
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err("invalid number");
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            None => return Err("EOF while parsing a value"),
            Some(_) => return Err("invalid number"),
        }
        let whole = self.at;
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
        }
        // Only ASCII bytes were taken.
        let text = core::str::from_utf8(&self.s[start..self.at]).map_err(|_| "invalid number")?;
        if self.at == whole {
            if let Ok(n) = text[usize::from(neg)..].parse::<u64>() {
                return Ok(if neg { -(n as f64) } else { n as f64 });
            }
        }
        crate::num::parse_f64(text).ok_or("number out of range")
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Parsed<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            None => Err("EOF while parsing a value"),
            Some(_) => Err("invalid number"),
        }
    }
}

#[cfg(any(test, feature = "serde"))]
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

#[cfg(any(test, feature = "serde"))]
struct ValueVisitor;

#[cfg(any(test, feature = "serde"))]
impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Num(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.into()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            entries.push(entry);
        }
        Ok(Value::Obj(entries))
    }
}

#[cfg(any(test, feature = "serde"))]
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Num(n) => serialize_number(*n, serializer),
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Obj(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Whole numbers are written without a fraction (`7`, not `7.0`) so that C firmware can read ids
/// and times as integers; NaN and infinities, which JSON cannot carry, become `null`.
#[cfg(any(test, feature = "serde"))]
fn serialize_number<S: Serializer>(n: f64, serializer: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if !n.is_finite() {
        serializer.serialize_unit()
    } else if n == (n as i64) as f64 && n.abs() <= EXACT {
        serializer.serialize_i64(n as i64)
    } else {
        serializer.serialize_f64(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn objects_keep_key_order() {
        let v = parse(r#"{"z":1,"a":2,"m":{"y":1,"b":2}}"#);
        assert_eq!(v.to_json(), r#"{"z":1,"a":2,"m":{"y":1,"b":2}}"#);
    }

    #[test]
    fn numbers_round_trip_as_integers_when_whole() {
        assert_eq!(Value::Num(7.0).to_json(), "7");
        assert_eq!(Value::Num(-3.0).to_json(), "-3");
        assert_eq!(Value::Num(21.5).to_json(), "21.5");
        assert_eq!(Value::Num(f64::NAN).to_json(), "null");
        assert_eq!(Value::List(vec![Value::Num(f64::INFINITY)]).to_json(), "[null]");
    }

    #[test]
    fn u32_extraction_rejects_fractions_negatives_and_overflow() {
        assert_eq!(parse("7").as_u32(), Some(7));
        assert_eq!(parse("7.5").as_u32(), None);
        assert_eq!(parse("-1").as_u32(), None);
        assert_eq!(parse("4294967296").as_u32(), None);
        assert_eq!(parse("\"7\"").as_u32(), None);
    }

    /// Same value to the bit (`-0.0` is not `0.0`) or both rejected.
    fn same_as_serde_json(text: &str) {
        fn bits(v: &Value) -> String {
            match v {
                Value::Num(n) => alloc::format!("n{:x}", n.to_bits()),
                Value::Str(s) => alloc::format!("s{s:?}"),
                Value::List(items) => {
                    alloc::format!("[{}]", items.iter().map(bits).collect::<Vec<_>>().join(","))
                }
                Value::Obj(entries) => {
                    let inner =
                        entries.iter().map(|(k, v)| alloc::format!("{k:?}:{}", bits(v))).collect::<Vec<_>>();
                    alloc::format!("{{{}}}", inner.join(","))
                }
                other => alloc::format!("{other:?}"),
            }
        }
        let ours = super::parse(text).map(|v| bits(&v)).map_err(|_| ());
        let theirs = serde_json::from_str::<Value>(text).map(|v| bits(&v)).map_err(|_| ());
        assert_eq!(ours, theirs, "{text:?}");
    }

    #[test]
    #[cfg_attr(
        feature = "compact-float",
        ignore = "compact-float reads numbers within a few ulp: num.rs tests that"
    )]
    fn parser_agrees_with_serde_json() {
        let cases = [
            "0",
            "-0",
            "-0.0",
            "-0e3",
            "0e99999999999",
            "1e-400",
            "1e309",
            "-1e309",
            "1.7976931348623157e308",
            "2.4703282292062328e-324",
            "238888882888828888888828",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "9007199254740993",
            "0.1",
            "0.30000000000000004",
            "1.",
            ".5",
            "01",
            "-",
            "-a",
            "+1",
            "1e",
            "1e+",
            "1E-2",
            "2.5e+3",
            "1.0e",
            "00",
            "-01",
            "1.2.3",
            "1 2",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "\"\\ude00\"",
            "\"\\ud83d\\u0041\"",
            "\"\\u00e9\\n\\t\\/\\b\\f\\r\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "\"a\tb\"",
            "\"\u{7f}é✓\"",
            "\"abc",
            "\"\\",
            "",
            " ",
            " null ",
            "nul",
            "nullx",
            "true",
            "tru",
            "false",
            "[]",
            "[ ]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[1",
            "{}",
            "{ }",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{\"a\":}",
            "{a:1}",
            "{\"a\":1",
            "{\"a\":1,\"a\":2}",
            "{1:2}",
            "\u{feff}1",
            "[\r\n\t1 ]",
            "\u{a0}1",
            "{\"t\":\"tel\",\"d\":{\"x\":-1.5e-3}}",
        ];
        for text in cases {
            same_as_serde_json(text);
        }
        for depth in [126, 127, 128, 129] {
            same_as_serde_json(&("[".repeat(depth) + &"]".repeat(depth)));
            same_as_serde_json(&("{\"a\":".repeat(depth) + "1" + &"}".repeat(depth)));
        }
        // The test vectors, mutated as the fuzz targets do.
        let file: Value = serde_json::from_str(include_str!("../vectors.json")).unwrap();
        let Some(Value::List(vectors)) = file.get("vectors") else { panic!("no vectors") };
        let seeds: Vec<&str> = vectors.iter().filter_map(|v| v.get("frame")?.as_str()).collect();
        assert!(seeds.len() > 30, "{} seeds", seeds.len());
        let mut m = crate::mutate::Mutator::new(0x5EED);
        for _ in 0..50_000 {
            let bytes = m.mutate(&seeds);
            same_as_serde_json(&alloc::string::String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn writer_agrees_with_serde_json() {
        // serde_json's digits, or where two shortest forms are equally short and both read back
        // exactly (`-1039818681721334.3` / `.2`), core's pick, which is the closer one.
        let same = |v: Value| {
            let (ours, theirs) = (v.to_json(), serde_json::to_string(&v).unwrap());
            if ours != theirs {
                assert_eq!(ours.len(), theirs.len(), "{v:?}");
                assert_eq!(parse(&ours), v, "{ours} reads back");
            }
        };
        let mut m = crate::mutate::Mutator::new(0xF10A7);
        for n in [
            0.1,
            -0.0,
            1e-5,
            1.5e-5,
            9.99e-6,
            1e15 + 0.5,
            9007199254740994.0,
            -9007199254740994.0,
            1e16,
            1.5e16,
        ]
        .into_iter()
        .chain([1e300, -2.5e-300, 5e-324, f64::MAX, f64::MIN_POSITIVE, 123456.789, 1e21, 1e-7, 3.0e100])
        .collect::<Vec<_>>()
        {
            same(Value::Num(n));
        }
        for i in 0..300_000 {
            let r = m.next_u64();
            let n =
                if i % 2 == 0 { f64::from_bits(r) } else { (r % 2_000_000) as f64 / 10f64.powi(i % 25 - 5) };
            same(Value::Num(n));
        }
        let text: String =
            (0u32..0x80).filter_map(char::from_u32).chain(['é', '✓', '😀', '\u{2028}']).collect();
        same(Value::Obj(vec![(
            text.clone(),
            Value::List(vec![Value::Str(text), Value::Null, Value::Bool(false)]),
        )]));
        same(parse(r#"{"t":"tel","ms":12.5,"d":{"a":-1.5e-7,"b":[1,2.25,true,{}],"c":null}}"#));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(serde_json::from_str::<Value>(&deep).is_err());
        assert!(super::parse(&deep).is_err());
    }
}
