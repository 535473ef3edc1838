//! Runs every entry of `vectors.json` (shared with the simulator and the reference firmware).

use serde_json::Value as Json;
use wsdeck_protocol::{AppMsg, DeviceMsg, Reading};

#[test]
fn every_vector_decodes_as_documented() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 20);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let frame = v["frame"].as_str().unwrap();
        let got = match v["from"].as_str().unwrap() {
            "device" => DeviceMsg::decode(frame).map(|m| m.encode()).map_err(|e| e.kind()),
            "app" => AppMsg::decode(frame).map(|m| m.encode()).map_err(|e| e.kind()),
            other => panic!("{name}: unknown direction {other}"),
        };
        match (canonical(v), v.get("error")) {
            (Some(expect), None) => assert_eq!(got, Ok(expect.to_string()), "{name}"),
            (None, Some(error)) => assert_eq!(got, Err(error.as_str().unwrap()), "{name}"),
            _ => panic!("{name}: needs exactly one of expect / reads / error"),
        }
    }
}

/// A vector's canonical frame: `expect`, or `reads` where it holds readings that are not numbers.
fn canonical(v: &Json) -> Option<&str> {
    match (v["expect"].as_str(), v["reads"].as_str()) {
        (Some(frame), None) | (None, Some(frame)) => Some(frame),
        _ => None,
    }
}

/// The reference firmware's tests encode every device `expect` with an encoder that writes numbers
/// only; `reads` holds the rest.
#[test]
fn reads_is_used_exactly_where_a_reading_is_not_a_number() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    for v in file["vectors"].as_array().unwrap() {
        let Some(frame) = canonical(v) else { continue };
        let Ok(DeviceMsg::Telemetry(tel)) = DeviceMsg::decode(frame) else {
            assert!(v.get("reads").is_none(), "{}: reads is for telemetry", v["name"]);
            continue;
        };
        let numbers_only = tel.values.iter().all(|(_, r)| matches!(r, Reading::Num(_)));
        assert_eq!(v.get("expect").is_some(), numbers_only, "{}", v["name"]);
    }
}

/// Telemetry speaks protocol v1 only when it came as a `tel` frame; every other message does.
#[test]
fn only_tagged_frames_speak_v1() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    for v in file["vectors"].as_array().unwrap().iter().filter(|v| v["from"] == "device") {
        let frame = v["frame"].as_str().unwrap();
        let Ok(msg) = DeviceMsg::decode(frame) else { continue };
        let v1 = !matches!(msg, DeviceMsg::Telemetry(_)) || frame.contains("\"t\":\"tel\"");
        assert_eq!(msg.speaks_v1(), v1, "{}", v["name"]);
    }
}

#[test]
fn canonical_frames_are_fixed_points() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    for v in file["vectors"].as_array().unwrap() {
        let (Some(expect), "device") = (canonical(v), v["from"].as_str().unwrap()) else {
            continue;
        };
        let again = DeviceMsg::decode(expect).unwrap().encode();
        assert_eq!(again, expect, "{}", v["name"]);
    }
}

#[test]
fn no_input_panics() {
    // A cheap stand-in for the fuzzer: every prefix and every single-byte corruption of every
    // vector must decode to Ok or Err, never panic.
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    for v in file["vectors"].as_array().unwrap() {
        let frame = v["frame"].as_str().unwrap().as_bytes();
        for cut in 0..frame.len() {
            if let Ok(s) = std::str::from_utf8(&frame[..cut]) {
                let _ = DeviceMsg::decode(s);
                let _ = AppMsg::decode(s);
            }
            for b in [b'{', b'}', b'"', b'0', b'\\', b'e', b'-', b' '] {
                let mut m = frame.to_vec();
                m[cut] = b;
                if let Ok(s) = std::str::from_utf8(&m) {
                    let _ = DeviceMsg::decode(s);
                    let _ = AppMsg::decode(s);
                }
            }
        }
    }
}

/// Every frame in the first column of docs/PROTOCOL.md's "What the app reads" table is a vector,
/// so that the page cannot say what the decoder does not do.
#[test]
fn the_docs_table_of_readings_is_made_of_vectors() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    let frames: Vec<&str> =
        file["vectors"].as_array().unwrap().iter().map(|v| v["frame"].as_str().unwrap().trim()).collect();
    let doc = include_str!("../../docs/PROTOCOL.md");
    let section = doc.split("### What the app reads").nth(1).expect("the section is there");
    let section = section.split("\n### ").next().unwrap();
    let mut checked = 0;
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split(" | ").next().unwrap();
        for (i, span) in first.split('`').enumerate() {
            if i % 2 == 1 {
                assert!(frames.contains(&span.trim()), "docs/PROTOCOL.md shows {span:?}, which is no vector");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "{checked} frames checked");
}

/// Every example in docs/PROTOCOL.md's "Controls" section is a vector's frame or canonical
/// form, so that the page shows what the decoder does.
#[test]
fn the_docs_examples_of_controls_are_vectors() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    let known: Vec<&str> =
        vectors.iter().flat_map(|v| [v["frame"].as_str(), canonical(v)]).flatten().collect();
    let doc = include_str!("../../docs/PROTOCOL.md");
    let section = doc.split("\n## Controls\n").nth(1).expect("the section is there");
    let section = section.split("\n## ").next().unwrap();
    let mut checked = 0;
    for block in section.split("```json\n").skip(1) {
        let example = block.split("\n```").next().unwrap().trim();
        assert!(known.contains(&example), "docs/PROTOCOL.md shows {example:?}, which is no vector");
        checked += 1;
    }
    for (i, span) in section.split('`').enumerate() {
        if i % 2 == 1 && span.starts_with("{\"t\":") {
            assert!(known.contains(&span), "docs/PROTOCOL.md shows {span:?}, which is no vector");
            checked += 1;
        }
    }
    assert!(checked >= 9, "{checked} examples checked");
}
