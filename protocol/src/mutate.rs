//! Seeded mutation of frames: a stand-in for the fuzzer (`fuzz/`, nightly + cargo-fuzz) that runs
//! in plain `cargo test` on stable Rust, so every test run throws thousands of hostile frames at
//! the decoders, exactly repeatably; and the properties both check. Not part of the wire format;
//! hidden from the docs.

use crate::{AppMsg, ControlKind, Controls, CtlValue, DeviceMsg, Hello, Reading, Telemetry};
use alloc::string::String;
use alloc::vec::Vec;

/// Pieces of JSON (and of things that are almost JSON) that random byte flips rarely produce.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u0000",
    "\\ud800",
    "\\udc00\\ud800",
    "-",
    "0",
    "-0",
    "1e308",
    "-1e400",
    "1e-320",
    "0.30000000000000004",
    "9007199254740993",
    "4294967295",
    "4294967296",
    "-1",
    "1001",
    "-1000",
    "32768",
    "NaN",
    "Infinity",
    "null",
    "true",
    "false",
    "\"t\"",
    "\"tel\"",
    "\"hello\"",
    "\"pong\"",
    "\"log\"",
    "\"state\"",
    "\"ping\"",
    "\"drive\"",
    "\"stop\"",
    "\"claim\"",
    "\"d\"",
    "\"id\"",
    "\"seq\"",
    "\"ms\"",
    "\"v\"",
    "\"caps\"",
    "\"series\"",
    "\"you\"",
    "\"driver\"",
    "\"armed\"",
    "\"failsafe\"",
    "\"level\"",
    "\"msg\"",
    // Controls (src/control.rs).
    "\"controls\"",
    "\"ctl\"",
    "\"kind\"",
    "\"label\"",
    "\"toggle\"",
    "\"button\"",
    "\"slider\"",
    "\"select\"",
    "\"gauge\"",
    "\"options\"",
    "\"min\"",
    "\"max\"",
    "\"step\"",
    "\"rate_hz\"",
    "\"max_len\"",
    "[{\"id\":\"a\",\"kind\":\"toggle\"}]",
    "{\"id\":\"a\",\"kind\":\"slider\",\"min\":5,\"max\":1}",
    "é",
    "😀",
    "\u{feff}",
    " ",
    "\n",
    "[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":",
    // What firmware that does not speak wsdeck sends (src/reading.rs).
    "\"23.12\"",
    "\" 1e3 \"",
    "\"NaN\"",
    "\"-inf\"",
    "\"Error\"",
    "\"\"",
    "\"n/a\"",
    "\"ON\"",
    "\"off\"",
    "\"IDLE\"",
    "\"12:03:04\"",
    "[0.1,0.2,9.8]",
    "{\"t\":21.5,\"h\":40}",
    "\"a.b\"",
    "\"x~2\"",
    "=",
    ": ",
    ";",
    "\t",
    "\r\n",
    "nan",
    "ovf",
    "--",
    "temp=",
    "OK",
    "+5",
    "\u{fffd}",
];

/// xorshift64* with a fixed seed: the same cases on every machine and every run.
pub struct Mutator(u64);

/// The generator under its own name, for seeded noise elsewhere (the simulator's sensors).
pub type XorShift = Mutator;

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One of `seeds` with a few random edits: a field's value swapped for an awkward one (which
    /// keeps the JSON valid and reaches the message decoders), bytes changed, JSON tokens
    /// inserted, ranges cut or repeated, the tail of another seed spliced on. Often not UTF-8.
    pub fn mutate(&mut self, seeds: &[&str]) -> Vec<u8> {
        let mut out: Vec<u8> = seeds.get(self.below(seeds.len())).map_or(&[][..], |s| s.as_bytes()).to_vec();
        let edits = if self.below(4) == 0 { 1 + self.below(8) } else { 1 };
        for _ in 0..edits {
            let at = self.below(out.len() + 1);
            match self.below(10) {
                0..=3 => self.swap_value(&mut out),
                4 if !out.is_empty() => {
                    let i = self.below(out.len());
                    out[i] = self.next_u64() as u8;
                }
                5 | 6 => {
                    let token = TOKENS[self.below(TOKENS.len())].as_bytes();
                    out.splice(at..at, token.iter().copied());
                }
                7 => {
                    let end = (at + self.below(16)).min(out.len());
                    out.drain(at..end);
                }
                8 => {
                    let end = (at + self.below(32)).min(out.len());
                    let piece = out[at..end].to_vec();
                    out.splice(at..at, piece);
                }
                9 => {
                    let other = seeds.get(self.below(seeds.len())).map_or(&[][..], |s| s.as_bytes());
                    let from = self.below(other.len() + 1);
                    out.truncate(at);
                    out.extend_from_slice(&other[from..]);
                }
                _ => out.truncate(at),
            }
        }
        out
    }

    /// Replaces the value after a random `:` or `=` (up to the next `,`, `;` or `}`) with a token:
    /// in JSON and in `key=value` lines alike.
    fn swap_value(&mut self, out: &mut Vec<u8>) {
        let colons: Vec<usize> =
            out.iter().enumerate().filter(|(_, b)| matches!(b, b':' | b'=')).map(|(i, _)| i).collect();
        let Some(&colon) = colons.get(self.below(colons.len())) else { return };
        let start = colon + 1;
        let end = out[start..]
            .iter()
            .position(|b| matches!(b, b',' | b';' | b'}'))
            .map_or(out.len(), |n| start + n);
        let token = TOKENS[self.below(TOKENS.len())].as_bytes();
        out.splice(start..end, token.iter().copied());
    }
}

/// With `compact-float` numbers may move by a few ulp through a round trip (src/num.rs tests the
/// bound): the frame must still decode again, but is not compared.
const EXACT_NUMBERS: bool = cfg!(not(feature = "compact-float"));

/// What the fuzz targets and the mutation sweep assert about one frame from a device (panicking
/// when it does not hold); whether it decoded. The readings keep within their caps, with names
/// unique; the canonical frame decodes to the same readings (as a v1 `tel` frame, with nothing
/// left to skip) and is a fixed point.
pub fn check_device(text: &str) -> bool {
    let Ok(msg) = DeviceMsg::decode(text) else { return false };
    match &msg {
        DeviceMsg::Telemetry(tel) => check_readings(text, tel),
        DeviceMsg::Hello(Hello { controls, .. }) | DeviceMsg::Controls(controls) => {
            check_controls(text, controls)
        }
        DeviceMsg::Ctl(values) => {
            assert!(values.len() <= crate::MAX_CONTROLS, "{text:?}");
            assert!(values.iter().all(|(id, _)| !id.is_empty() && id.len() <= crate::MAX_CONTROL_ID_LEN));
        }
        _ => {}
    }
    let encoded = msg.encode();
    let again = DeviceMsg::decode(&encoded).unwrap_or_else(|e| panic!("{text:?} -> {encoded:?}: {e}"));
    assert!(again.speaks_v1(), "the canonical form is v1: {encoded:?}");
    if EXACT_NUMBERS {
        assert_eq!(again, as_v1(msg), "{text:?} -> {encoded:?}");
        assert_eq!(again.encode(), encoded, "canonical form is a fixed point");
    }
    true
}

fn check_readings(text: &str, tel: &Telemetry) {
    assert!(tel.values.len() <= crate::MAX_VALUES, "{text:?}");
    for (name, reading) in &tel.values {
        assert!(name.len() <= crate::MAX_NAME_LEN, "{text:?}");
        match reading {
            Reading::Num(n) => assert!(n.is_finite(), "{text:?}"),
            Reading::Text(t) => assert!(t.chars().count() <= crate::MAX_TEXT_CHARS, "{text:?}"),
            Reading::Gap | Reading::Bool(_) => {}
        }
    }
    let mut names: Vec<&str> = tel.values.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    assert!(names.windows(2).all(|w| w[0] != w[1]), "names unique: {text:?}");
}

/// A declaration keeps within its caps: at most 128 controls with unique, short ids and cut
/// labels, a range the right way round, a select with options; at most one note per declaration
/// looked at, and one for the rest.
fn check_controls(text: &str, c: &Controls) {
    assert!(c.list.len() <= crate::MAX_CONTROLS, "{text:?}");
    assert!(c.list.len() + c.skipped.len() <= crate::MAX_CONTROLS + 1, "{text:?}");
    for (i, control) in c.list.iter().enumerate() {
        assert!(!control.id.is_empty() && control.id.len() <= crate::MAX_CONTROL_ID_LEN, "{text:?}");
        assert!(c.list[..i].iter().all(|o| o.id != control.id), "ids unique: {text:?}");
        assert!(control.label.chars().count() <= crate::MAX_LABEL_CHARS, "{text:?}");
        assert!((crate::MIN_RATE_HZ..=crate::MAX_RATE_HZ).contains(&control.rate_hz), "{text:?}");
        match &control.kind {
            ControlKind::Slider(r) | ControlKind::Number(r) => assert!(r.min <= r.max, "{text:?}"),
            ControlKind::Gauge { min, max, .. } => assert!(min <= max, "{text:?}"),
            ControlKind::Select { options } => {
                assert!(!options.is_empty() && options.len() <= crate::MAX_OPTIONS, "{text:?}")
            }
            ControlKind::Text { max_len } => assert!((1..=crate::MAX_TEXT_LEN).contains(max_len), "{text:?}"),
            _ => {}
        }
        // Whatever a control is, its initial value is one it accepts; and a value it took is taken
        // again unchanged (the app shows the device's confirmed value as it is), within range.
        assert_eq!(control.accept(&control.initial()), Some(control.initial()), "{text:?}");
        for probe in PROBES.iter().cloned().chain(options(control)) {
            let Some(took) = control.accept(&probe) else { continue };
            assert_eq!(control.accept(&took), Some(took.clone()), "{text:?}: {probe:?}");
            if let (ControlKind::Slider(r) | ControlKind::Number(r), CtlValue::Num(n)) =
                (&control.kind, &took)
            {
                assert!((r.min..=r.max).contains(n), "{text:?}: {probe:?} -> {n}");
            }
        }
    }
}

/// Values of every type and awkward size, offered to every control a sweep declares.
const PROBES: [CtlValue; 9] = [
    CtlValue::Bool(true),
    CtlValue::Bool(false),
    CtlValue::Num(-1e300),
    CtlValue::Num(-1.0),
    CtlValue::Num(0.3),
    CtlValue::Num(31.0),
    CtlValue::Num(12345.678),
    CtlValue::Num(1e300),
    CtlValue::Text(String::new()),
];

fn options(control: &crate::Control) -> Vec<CtlValue> {
    match &control.kind {
        ControlKind::Select { options } => options.iter().map(|o| CtlValue::Text(o.clone())).collect(),
        _ => alloc::vec![CtlValue::Text("é".repeat(300))],
    }
}

/// The message as its canonical form reads back: telemetry from firmware that does not speak
/// wsdeck becomes a `tel` frame, and what was skipped (readings, control declarations) is no
/// longer there to count.
fn as_v1(msg: DeviceMsg) -> DeviceMsg {
    match msg {
        DeviceMsg::Telemetry(tel) => DeviceMsg::Telemetry(Telemetry { tagged: true, skipped: 0, ..tel }),
        DeviceMsg::Hello(h) => {
            DeviceMsg::Hello(Hello { controls: Controls { skipped: Vec::new(), ..h.controls }, ..h })
        }
        DeviceMsg::Controls(c) => DeviceMsg::Controls(Controls { skipped: Vec::new(), ..c }),
        other => other,
    }
}

/// [`check_device`] for a frame from the app (what a device decodes).
pub fn check_app(text: &str) -> bool {
    let Ok(msg) = AppMsg::decode(text) else { return false };
    let encoded = msg.encode();
    let again = AppMsg::decode(&encoded).unwrap_or_else(|e| panic!("{text:?} -> {encoded:?}: {e}"));
    if EXACT_NUMBERS {
        assert_eq!(again, msg, "{text:?} -> {encoded:?}");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_cases() {
        let seeds = ["{\"t\":\"ping\",\"id\":7}", "23.5"];
        let (mut a, mut b) = (Mutator::new(3), Mutator::new(3));
        for _ in 0..100 {
            assert_eq!(a.mutate(&seeds), b.mutate(&seeds));
        }
        assert_eq!(Mutator::new(1).mutate(&[]).len(), Mutator::new(1).mutate(&[]).len());
    }
}
