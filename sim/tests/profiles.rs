//! `wsdeck-sim --profile NAME`: devices shaped like tutorial firmware, as the app meets them.
//! Each test starts the real binary on a free loopback port.

mod common;

use common::*;
use std::net::TcpStream;
use std::time::Duration;
use tungstenite::{Message, WebSocket};
use wsdeck_protocol::AppMsg;

/// How a connection ended, as the client saw it.
#[derive(Debug, PartialEq)]
enum End {
    /// A close frame, with its code if it had one.
    Close(Option<u16>),
    /// The TCP connection ended without a close frame.
    Dropped,
}

/// Reads until the connection ends; the text frames that came before.
fn read_to_end(ws: &mut WebSocket<TcpStream>) -> (Vec<String>, End) {
    let mut texts = Vec::new();
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => return (texts, End::Close(frame.map(|f| u16::from(f.code)))),
            Ok(Message::Text(t)) => texts.push(t.to_string()),
            Ok(_) => continue,
            Err(_) => return (texts, End::Dropped),
        }
    }
}

/// The text frames that arrive within `ms` (a device that should stay silent sends none).
fn frames_within(ws: &mut WebSocket<TcpStream>, ms: u64) -> Vec<String> {
    let until = std::time::Instant::now() + Duration::from_millis(ms);
    let mut texts = Vec::new();
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        ws.get_mut().set_read_timeout(Some(left)).unwrap();
        match ws.read() {
            Ok(Message::Text(t)) => texts.push(t.to_string()),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    ws.get_mut().set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    texts
}

fn ping(id: u32) -> Message {
    Message::text(AppMsg::Ping { id }.encode())
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn the_tutorial_car_answers_ok_drives_and_drops_the_link_on_a_ping() {
    let sim = start(&["--profile", "tutorial-car", "--watchdog-ms", "30000"]);
    let mut ws = connect(sim.port);
    ws.send(Message::text("forward")).unwrap();
    assert_eq!(next_text(&mut ws), "OK", "no hello, no log: the answer is the first frame");
    wait_for("forward", || car(sim.port)["l"] == 1.0 && car(sim.port)["r"] == 1.0);
    ws.send(Message::text("left")).unwrap();
    assert_eq!(next_text(&mut ws), "OK");
    wait_for("left", || car(sim.port)["l"] == -1.0);
    ws.send(Message::text("stop")).unwrap();
    assert_eq!(next_text(&mut ws), "OK");
    wait_for("stop", || car(sim.port)["moving"] == false);

    // The app's ping raises in the car's handler: the car closes, as Microdot does (no code).
    ws.send(ping(1)).unwrap();
    assert_eq!(read_to_end(&mut ws), (Vec::new(), End::Close(None)));
    drop(ws);
    wait_for("the close", || state(sim.port)["clients"] == 0);
    let s = state(sim.port);
    assert_eq!(s["profile"], "tutorial-car");
    assert_eq!(s["connections_total"], 1);
    assert_eq!(s["unexpected_closes"], 1);
    assert_eq!(s["recent_unexpected"][0]["frame"], r#"{"t":"ping","id":1}"#);
    let heard: Vec<_> = s["recent_frames"].as_array().unwrap().iter().map(|f| f["frame"].clone()).collect();
    assert_eq!(heard, ["forward", "left", "stop", r#"{"t":"ping","id":1}"#]);
    assert_eq!(s["frames_from_app"], 4);

    // Any JSON, or a word it does not know, does the same; its own words never do.
    for unexpected in [r#"{"cmd":"forward"}"#, "up"] {
        let mut ws = connect(sim.port);
        ws.send(Message::text("reverse")).unwrap();
        assert_eq!(next_text(&mut ws), "OK");
        ws.send(Message::text(unexpected)).unwrap();
        assert_eq!(read_to_end(&mut ws).1, End::Close(None), "{unexpected}");
    }
    wait_for("3 closes", || state(sim.port)["unexpected_closes"] == 3);
    let s = state(sim.port);
    assert_eq!(s["connections_total"], 3);
    assert_eq!(s["recent_unexpected"][2]["frame"], "up");
    assert_eq!(s["car"]["l"], -1.0, "reverse drove the car");
}

#[test]
fn the_tutorial_car_sends_nothing_it_was_not_asked_for() {
    let sim = start(&["--profile", "tutorial-car", "--rate", "50"]);
    let mut ws = connect(sim.port);
    assert_eq!(frames_within(&mut ws, 500), Vec::<String>::new(), "no hello, telemetry or log");
    assert_eq!(state(sim.port)["telemetry_frames"], 0);
}

#[test]
fn the_silent_car_drives_and_never_says_a_word() {
    let sim = start(&["--profile", "silent-car", "--watchdog-ms", "30000"]);
    let mut ws = connect(sim.port);
    ws.send(Message::text("forward")).unwrap();
    wait_for("forward", || car(sim.port)["moving"] == true);
    // A ping is ignored, not fatal: it only listens.
    ws.send(ping(1)).unwrap();
    ws.send(Message::text("right")).unwrap();
    wait_for("right", || car(sim.port)["l"] == 1.0 && car(sim.port)["r"] == -1.0);
    assert_eq!(frames_within(&mut ws, 2000), Vec::<String>::new());
    ws.send(Message::text("stop")).unwrap();
    wait_for("stop", || car(sim.port)["moving"] == false);
    let s = state(sim.port);
    assert_eq!(s["connections_total"], 1);
    assert_eq!(s["clients"], 1, "still on the first connection");
    assert_eq!(s["unexpected_closes"], 0);
    assert_eq!(s["bad_frames_from_app"], 1);
    assert_eq!(s["telemetry_frames"], 0);
}

#[test]
fn string_readings_come_only_after_get_readings() {
    let sim = start(&["--profile", "string-readings", "--rate", "20"]);
    let mut asks = connect(sim.port);
    let mut never_asks = connect(sim.port);
    // The device samples all along, but a connection gets nothing until it asks.
    wait_for("a first reading", || !state(sim.port)["last_telemetry"].is_null());
    assert_eq!(frames_within(&mut asks, 300), Vec::<String>::new());
    asks.send(ping(1)).unwrap();
    asks.send(Message::text("getReadings")).unwrap();
    let mut gap = false;
    for _ in 0..25 {
        let text = next_text(&mut asks);
        let v = json(&text);
        let mut keys: Vec<_> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["humidity", "pressure", "temperature"], "{text}");
        for key in keys {
            let reading = v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string: {text}"));
            assert!(reading == "nan" || reading.parse::<f64>().is_ok(), "{text}");
        }
        gap |= v["humidity"] == "nan";
    }
    assert!(gap, "now and then a reading fails");
    assert_eq!(frames_within(&mut never_asks, 300), Vec::<String>::new());
    let s = state(sim.port);
    assert_eq!(s["unexpected_closes"], 0, "the ping was ignored");
    assert_eq!(s["clients"], 2);
}

#[test]
fn string_readings_come_once_a_second_by_default() {
    let sim = start(&["--profile", "string-readings"]);
    assert_eq!(state(sim.port)["rate_hz"], 1);
}

/// The first `n` frames of a profile that streams, after a ping it must not answer.
fn first_frames(profile: &str, n: usize) -> Vec<String> {
    let sim = start(&["--profile", profile, "--rate", "50"]);
    let mut ws = connect(sim.port);
    ws.send(ping(1)).unwrap();
    let frames: Vec<_> = (0..n).map(|_| next_text(&mut ws)).collect();
    for f in &frames {
        let tagged = serde_json::from_str::<serde_json::Value>(f).is_ok_and(|v| v.get("t").is_some());
        assert!(!tagged, "{profile} sent something wsdeck-specific: {f}");
    }
    assert_eq!(state(sim.port)["pings_answered"], 0);
    frames
}

#[test]
fn text_frames_are_pairs_and_csv_in_turn() {
    let frames = first_frames("text-frames", 6);
    let pairs = frames.iter().filter(|f| f.starts_with("temp=") && f.contains(", hum=")).count();
    let csv = frames
        .iter()
        .filter(|f| f.split(',').count() == 2 && f.split(',').all(|n| n.parse::<f64>().is_ok()))
        .count();
    assert_eq!((pairs, csv), (3, 3), "{frames:?}");
}

#[test]
fn nested_frames_have_objects_an_array_and_words() {
    for text in first_frames("nested", 5) {
        let v = json(&text);
        assert!(v["bme280"]["t"].is_number() && v["bme280"]["h"].is_number(), "{text}");
        let accel = v["accel"].as_array().unwrap();
        assert!(accel.len() == 3 && accel.iter().all(|a| a.is_number()), "{text}");
        assert!(["IDLE", "RUN"].contains(&v["state"].as_str().unwrap()), "{text}");
        assert!(["ON", "OFF"].contains(&v["relay"].as_str().unwrap()), "{text}");
    }
}

#[test]
fn spaced_names_come_as_they_are() {
    for text in first_frames("spaced-names", 5) {
        let v = json(&text);
        let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["a/b \"q\"", "battery (V)", "left wheel", "température °C", "温度"], "{text}");
        assert!(v.as_object().unwrap().values().all(|x| x.is_number()), "{text}");
    }
}

#[test]
fn a_profile_sets_its_own_shape() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck-sim"))
        .args(["--profile", "nested", "--format", "bare"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("drop --format"));
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck-sim")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for name in ["tutorial-car", "string-readings", "text-frames", "nested", "spaced-names", "silent-car"] {
        assert!(help.contains(&format!("\n  {name} ")), "{name} is not in --help");
    }
    assert!(help.contains("getReadings"));
}
