//! The `serde` feature: every message of `vectors.json` survives a trip through serde_json, in
//! the shape the feature documents (serde's default, snake_case variants), which is not the wire
//! format.
#![cfg(feature = "serde")]

use serde_json::Value as Json;
use wsdeck_protocol::{AppMsg, DeviceMsg, Drive, LogLevel, Reading, Value};

fn vectors() -> Vec<Json> {
    let file: Json = serde_json::from_str(include_str!("../vectors.json")).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

#[test]
fn every_decoded_vector_round_trips_through_serde_json() {
    let mut checked = 0;
    for v in vectors() {
        let (name, frame) = (v["name"].as_str().unwrap(), v["frame"].as_str().unwrap());
        if v["from"] == "device" {
            let Ok(msg) = DeviceMsg::decode(frame) else { continue };
            let text = serde_json::to_string(&msg).unwrap();
            assert_eq!(serde_json::from_str::<DeviceMsg>(&text).unwrap(), msg, "{name}: {text}");
        } else {
            let Ok(msg) = AppMsg::decode(frame) else { continue };
            let text = serde_json::to_string(&msg).unwrap();
            assert_eq!(serde_json::from_str::<AppMsg>(&text).unwrap(), msg, "{name}: {text}");
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} vectors decoded");
}

#[test]
fn the_shape_is_serdes_default_with_snake_case_variants_not_the_wire_format() {
    assert_eq!(json(&AppMsg::Ping { id: 7 }), serde_json::json!({"ping": {"id": 7}}));
    assert_eq!(json(&AppMsg::Claim), serde_json::json!("claim"));
    let drive = Drive { seq: 3, x: 0, y: 500, l: 500, r: 500 };
    assert_eq!(
        json(&AppMsg::Drive(drive)),
        serde_json::json!({"drive": {"seq": 3, "x": 0, "y": 500, "l": 500, "r": 500}})
    );
    assert_eq!(json(&LogLevel::Warn), serde_json::json!("warn"));
    assert_eq!(json(&Reading::Num(23.5)), serde_json::json!({"num": 23.5}));
    assert_eq!(json(&Reading::Gap), serde_json::json!("gap"));
    // The wire frame of the same message is another text.
    assert_ne!(AppMsg::Ping { id: 7 }.encode(), serde_json::to_string(&AppMsg::Ping { id: 7 }).unwrap());
}

#[test]
fn a_value_is_the_json_it_holds_in_its_order() {
    let text = r#"{"z":1,"a":[true,null,"x"],"m":{"y":2.5}}"#;
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap(), text);
}

fn json<T: serde::Serialize>(value: &T) -> Json {
    serde_json::to_value(value).unwrap()
}
