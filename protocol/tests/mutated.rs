//! The fuzz targets' properties (see `fuzz/`), checked on stable Rust in every `cargo test`: tens
//! of thousands of mutated test vectors (JSON, and the plain-text lines of firmware that does not
//! speak wsdeck), the same ones every run. No frame may panic a decoder, and whatever decodes must
//! survive encode -> decode with the same readings.

use serde_json::Value as Json;
use wsdeck_protocol::mutate::{check_app, check_device, Mutator};
use wsdeck_protocol::{AppMsg, DecodeError, DeviceMsg, Reading};

const CASES: usize = 30_000;

fn frames(from: &str) -> Vec<String> {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    let pick = |v: &&Json| from == "any" || v["from"] == from;
    vectors.iter().filter(pick).map(|v| v["frame"].as_str().unwrap().to_string()).collect()
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

/// The sweep reaches every reader of firmware that does not speak wsdeck, not only the JSON ones:
/// lines of text, flattened names, each kind of reading, frames that are not telemetry.
#[test]
fn the_sweep_reaches_the_readers_of_untagged_frames() {
    let seeds = frames("device");
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let mut m = Mutator::new(0x7E57);
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..CASES {
        let bytes = m.mutate(&seeds);
        let text = String::from_utf8_lossy(&bytes);
        check_device(&text);
        let mut see = |what| *seen.entry(what).or_default() += 1;
        match DeviceMsg::decode(&text) {
            Ok(DeviceMsg::Telemetry(tel)) => {
                see(if tel.tagged {
                    "tel"
                } else if text.trim_start().starts_with(['{', '[', '"']) {
                    "json"
                } else {
                    "line"
                });
                if tel.values.iter().any(|(k, _)| k.contains('.')) {
                    see("flattened");
                }
                if tel.values.iter().any(|(k, _)| k.contains('~')) {
                    see("suffixed");
                }
                if tel.skipped > 0 {
                    see("skipped");
                }
                for (_, r) in &tel.values {
                    see(match r {
                        Reading::Num(_) => "num",
                        Reading::Gap => "gap",
                        Reading::Bool(_) => "bool",
                        Reading::Text(_) => "text",
                    });
                }
            }
            Err(DecodeError::NotTelemetry) => see("not telemetry"),
            _ => {}
        }
    }
    let kinds = [
        "tel",
        "json",
        "line",
        "flattened",
        "suffixed",
        "skipped",
        "num",
        "gap",
        "bool",
        "text",
        "not telemetry",
    ];
    for kind in kinds {
        assert!(seen.get(kind).copied().unwrap_or(0) > 30, "{kind}: {seen:?}");
    }
}

/// The sweep reaches the controls' readers: declarations in hello and in `controls` frames, bad
/// ones skipped, values both ways.
#[test]
fn the_sweep_reaches_the_controls() {
    let seeds = frames("any");
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let mut m = Mutator::new(0xC7_7E57);
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..CASES {
        let bytes = m.mutate(&seeds);
        let text = String::from_utf8_lossy(&bytes);
        check_device(&text);
        check_app(&text);
        let mut see = |what| *seen.entry(what).or_default() += 1;
        match DeviceMsg::decode(&text) {
            Ok(DeviceMsg::Hello(h)) if !h.controls.list.is_empty() => see("hello with controls"),
            Ok(DeviceMsg::Controls(c)) => see(if c.skipped.is_empty() { "controls" } else { "skipped" }),
            Ok(DeviceMsg::Ctl(_)) => see("ctl from the device"),
            _ => {}
        }
        if let Ok(AppMsg::Ctl { .. }) = AppMsg::decode(&text) {
            see("ctl from the app");
        }
    }
    for kind in ["hello with controls", "controls", "skipped", "ctl from the device", "ctl from the app"] {
        assert!(seen.get(kind).copied().unwrap_or(0) > 30, "{kind}: {seen:?}");
    }
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
