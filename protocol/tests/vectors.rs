//! Runs every entry of `vectors.json` (shared with the simulator and the reference firmware).

use serde_json::Value as Json;
use wsdeck_protocol::{AppMsg, DeviceMsg};

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
        match (v.get("expect"), v.get("error")) {
            (Some(expect), None) => assert_eq!(got, Ok(expect.as_str().unwrap().to_string()), "{name}"),
            (None, Some(error)) => assert_eq!(got, Err(error.as_str().unwrap()), "{name}"),
            _ => panic!("{name}: needs exactly one of expect / error"),
        }
    }
}

#[test]
fn canonical_frames_are_fixed_points() {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    for v in file["vectors"].as_array().unwrap() {
        let (Some(expect), "device") = (v["expect"].as_str(), v["from"].as_str().unwrap()) else {
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
