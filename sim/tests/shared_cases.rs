//! The simulator's half of `firmware/core/test/shared_cases.json`: the handshake guard and the
//! pairing waits that the firmware core's host tests (core_test.cpp) read from the same table, so
//! that the two devices cannot part ways without a test failing.

use std::net::{IpAddr, Ipv4Addr};
use wsdeck_sim::guard::{Policy, Refusal};
use wsdeck_sim::pairing::{Lockouts, Verdict};

fn shared_cases() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../firmware/core/test/shared_cases.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

#[test]
fn the_shared_handshake_cases_hold() {
    let mut n = 0;
    for group in shared_cases()["handshake"].as_array().expect("handshake groups") {
        for case in group["cases"].as_array().expect("cases") {
            let policy = Policy {
                allow_origins: strings(&case["allow_origins"]),
                allow_hosts: strings(&case["allow_hosts"]),
            };
            let verdict = match policy.check(case["host"].as_str(), case["origin"].as_str()) {
                Ok(()) => "ok",
                Err(Refusal::Host(_)) => "bad_host",
                Err(Refusal::Origin(_)) => "bad_origin",
            };
            assert_eq!(verdict, case["expect"], "{}: {case}", group["name"]);
            n += 1;
        }
    }
    assert!(n >= 30, "only {n} cases");
}

#[test]
fn the_shared_pairing_waits_hold() {
    let want: Vec<u64> = shared_cases()["pairing_waits_ms"]
        .as_array()
        .expect("waits")
        .iter()
        .filter_map(|w| w.as_u64())
        .collect();
    let addr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
    let mut lockouts = Lockouts::default();
    let mut now = 0;
    let mut waits = Vec::new();
    for _ in &want {
        let Verdict::Wait(w) = lockouts.check(addr, "guess", "secret", now) else {
            panic!("a wrong token paired")
        };
        waits.push(w);
        now += w;
    }
    assert_eq!(waits, want);
}
