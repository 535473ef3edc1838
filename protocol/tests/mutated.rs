//! The fuzz targets' properties (see `fuzz/`), checked on stable Rust in every `cargo test`: tens
//! of thousands of mutated test vectors, the same ones every run. No frame may panic a decoder,
//! and whatever decodes must survive encode -> decode unchanged.

use serde_json::Value as Json;
use wsdeck_protocol::mutate::Mutator;
use wsdeck_protocol::{AppMsg, DeviceMsg};

const CASES: usize = 30_000;

fn frames(from: &str) -> Vec<String> {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    let pick = |v: &&Json| from == "any" || v["from"] == from;
    vectors.iter().filter(pick).map(|v| v["frame"].as_str().unwrap().to_string()).collect()
}

/// With `compact-float` numbers may move by a few ulp through a round trip (src/num.rs tests the
/// bound): the frame must still decode again, but is not compared.
const EXACT_NUMBERS: bool = cfg!(not(feature = "compact-float"));

/// What every fuzz target asserts about one device frame; whether it decoded.
fn check_device(text: &str) -> bool {
    let Ok(msg) = DeviceMsg::decode(text) else { return false };
    let encoded = msg.encode();
    let again = DeviceMsg::decode(&encoded).unwrap_or_else(|e| panic!("{text:?} -> {encoded:?}: {e}"));
    if EXACT_NUMBERS {
        assert_eq!(again, msg, "{text:?} -> {encoded:?}");
        assert_eq!(again.encode(), encoded, "canonical form is a fixed point");
    }
    true
}

fn check_app(text: &str) -> bool {
    let Ok(msg) = AppMsg::decode(text) else { return false };
    let encoded = msg.encode();
    let again = AppMsg::decode(&encoded).unwrap_or_else(|e| panic!("{text:?} -> {encoded:?}: {e}"));
    if EXACT_NUMBERS {
        assert_eq!(again, msg, "{text:?} -> {encoded:?}");
    }
    true
}

#[test]
fn mutated_device_frames_decode_or_fail_cleanly_and_round_trip() {
    let seeds = frames("any");
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let mut m = Mutator::new(0xDEC0DE);
    let mut decoded = 0;
    for _ in 0..CASES {
        let bytes = m.mutate(&seeds);
        let text = String::from_utf8_lossy(&bytes);
        decoded += usize::from(check_device(&text));
    }
    // The mutations must stay close enough to JSON to reach the message decoders.
    assert!(decoded > CASES / 10, "only {decoded} of {CASES} cases decoded");
}

#[test]
fn mutated_app_frames_decode_or_fail_cleanly_and_round_trip() {
    let seeds = frames("app");
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let mut m = Mutator::new(0xA99);
    let mut decoded = 0;
    for _ in 0..CASES {
        let bytes = m.mutate(&seeds);
        let text = String::from_utf8_lossy(&bytes);
        decoded += usize::from(check_app(&text));
    }
    assert!(decoded > CASES / 20, "only {decoded} of {CASES} cases decoded");
}

#[test]
fn crashes_the_fuzzer_found_stay_fixed() {
    // Inputs libFuzzer reduced a failure to (fuzz/artifacts), kept as regression cases.
    for text in include_str!("fuzz_regressions.txt").lines().filter(|l| !l.starts_with('#')) {
        check_device(text);
        check_app(text);
    }
}
