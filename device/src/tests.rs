//! The device's rules as a whole: what each frame does and who is told.

use super::*;
use core::net::Ipv4Addr;
use std::format;
use std::string::ToString;

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 4, 2));

fn settings(token: Option<&str>, pairing: PairingMode) -> Settings {
    Settings {
        name: "Test Car".into(),
        watchdog_ms: 300,
        token: token.map(Into::into),
        pairing,
        max_msg_rate: 200,
        max_clients: 4,
        addresses_kept: 16,
        series: vec![("battery_v".into(), SeriesMeta { unit: Some("V".into()), ..SeriesMeta::default() })],
        controls: Vec::new(),
    }
}

fn with_controls(token: Option<&str>) -> Device {
    use wsdeck_protocol::ControlKind;
    let mut s = settings(token, PairingMode::Required);
    let mut gauge = Control::new(
        "battery",
        ControlKind::Gauge { min: 6.0, max: 8.4, unit: None, warn: None, alarm: None },
    );
    gauge.series = Some("battery_v".into());
    s.controls =
        vec![Control::new("lights", ControlKind::Toggle), Control::new("horn", ControlKind::Button), gauge];
    Device::new(s)
}

fn open() -> Device {
    Device::new(settings(None, PairingMode::Control))
}

fn connect(d: &mut Device) -> Slot {
    d.open(HOME, 0).unwrap().0
}

fn send(slot: Slot, text: &str) -> Action {
    Action::Send(slot, text.to_string())
}

#[test]
fn a_new_client_gets_hello_then_who_drives() {
    let mut d = open();
    let (slot, id) = d.open(HOME, 0).unwrap();
    assert_eq!(id, 1);
    let out = d.greeting(slot);
    let Action::Send(_, hello) = &out[0] else { panic!("{out:?}") };
    assert_eq!(
        hello,
        r#"{"t":"hello","v":1,"name":"Test Car","caps":["telemetry","drive"],"watchdog_ms":300,"series":{"battery_v":{"unit":"V"}}}"#
    );
    assert_eq!(out[1], Action::State(slot));
    assert_eq!(d.state_frame(slot), r#"{"t":"state","driver":null,"you":1,"armed":false,"failsafe":null}"#);
}

#[test]
fn pings_are_answered_and_bad_frames_counted() {
    let mut d = open();
    let slot = connect(&mut d);
    assert_eq!(d.frame(slot, r#"{"t":"ping","id":7}"#, 0), [send(slot, r#"{"t":"pong","id":7}"#)]);
    assert_eq!(d.frame(slot, "not json", 0), []);
    assert_eq!(d.frame(slot, r#"{"t":"frobnicate"}"#, 0), []);
    assert_eq!((d.stats.bad_frames, d.stats.pings_answered, d.stats.frames), (1, 1, 3));
}

#[test]
fn driving_arms_the_car_tells_everyone_and_the_watchdog_stops_it() {
    let mut d = open();
    let a = connect(&mut d);
    let b = connect(&mut d);
    let out = d.frame(a, r#"{"t":"drive","seq":1,"x":0,"y":500,"l":500,"r":-500}"#, 100);
    assert_eq!((d.motion().left, d.motion().right), (500, -500));
    assert_eq!(out, [Action::State(a), Action::State(b)]);
    assert_eq!(d.state_frame(b), r#"{"t":"state","driver":1,"you":2,"armed":true,"failsafe":null}"#);
    assert_eq!(d.tick(400), [], "300 ms after the frame is still in time");
    let out = d.tick(401);
    assert_eq!(out[0], Action::Halted(Halt { why: Why::Watchdog, at_ms: 401 }));
    assert_eq!(out[1..], [Action::State(a), Action::State(b)]);
    assert_eq!(d.state_frame(b), r#"{"t":"state","driver":1,"you":2,"armed":false,"failsafe":"watchdog"}"#);
}

#[test]
fn a_claim_is_answered_and_a_watchers_stop_is_obeyed() {
    let mut d = open();
    let a = connect(&mut d);
    let b = connect(&mut d);
    assert_eq!(d.frame(a, r#"{"t":"claim"}"#, 0), [Action::State(a), Action::State(b)]);
    d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 10);
    assert_eq!(d.frame(b, r#"{"t":"claim"}"#, 20), [Action::State(b)], "refused, and told who drives");
    d.frame(b, r#"{"t":"drive","seq":9,"l":-1000,"r":-1000}"#, 30);
    assert_eq!((d.motion().left, d.motion().ignored), (500, 1), "only the driver drives");
    let out = d.frame(b, r#"{"t":"stop","seq":1}"#, 40);
    assert_eq!(out[0], Action::Halted(Halt { why: Why::Stop(2), at_ms: 40 }));
    let Action::Halted(h) = &out[0] else { unreachable!() };
    assert_eq!(h.describe(), "stop from client #2");
    assert!(!d.motion().moving());
    assert_eq!(d.motion().driver, Some(1), "a stop does not take the lease");
}

#[test]
fn the_driver_leaving_stops_the_car() {
    let mut d = open();
    let a = connect(&mut d);
    let b = connect(&mut d);
    d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 0);
    let out = d.close(a, 0);
    assert!(!d.motion().moving());
    assert_eq!(out, [Action::Halted(Halt { why: Why::DriverLeft, at_ms: 0 }), Action::State(b)]);
    assert_eq!(
        d.state_frame(b),
        r#"{"t":"state","driver":null,"you":2,"armed":false,"failsafe":"driver_left"}"#
    );
    assert_eq!(d.close(a, 0), [], "a slot closes once");
}

#[test]
fn places_are_limited_and_freed() {
    let mut d = open();
    let slots: std::vec::Vec<Slot> = (0..4).map(|_| connect(&mut d)).collect();
    assert_eq!(d.open(HOME, 0).err(), Some(Full));
    d.close(slots[1], 0);
    assert_eq!(d.open(HOME, 0).unwrap(), (slots[1], 5), "the place is reused, the number is new");
}

#[test]
fn without_the_token_only_stop_is_obeyed_and_nothing_is_watched() {
    let mut d = Device::new(settings(Some("blue-tiger-42"), PairingMode::Required));
    let a = connect(&mut d);
    let out = d.greeting(a);
    assert_eq!(out.len(), 1, "hello only");
    let Action::Send(_, hello) = &out[0] else { panic!() };
    assert!(hello.ends_with(r#""pairing":"required"}"#), "{hello}");
    assert!(!d.may_watch(a) && !d.may_control(a));
    assert_eq!(d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 0), []);
    assert_eq!(d.frame(a, r#"{"t":"claim"}"#, 0), []);
    assert_eq!((d.motion().left, d.stats.unpaired_frames), (0, 2));
    assert_eq!(d.telemetry(r#"{"t":"tel","d":{}}"#), []);
    let wrong = d.frame(a, r#"{"t":"auth","token":"guess"}"#, 0);
    assert_eq!(wrong, [send(a, r#"{"t":"auth","ok":false,"retry_ms":1000}"#)]);
    let early = d.frame(a, r#"{"t":"auth","token":"blue-tiger-42"}"#, 400);
    assert_eq!(early, [send(a, r#"{"t":"auth","ok":false,"retry_ms":600}"#)]);
    let right = d.frame(a, r#"{"t":"auth","token":"blue-tiger-42"}"#, 1000);
    assert_eq!(right, [send(a, r#"{"t":"auth","ok":true}"#), Action::State(a)]);
    assert_eq!(d.wrong_tokens(), 1);
    assert_eq!(d.telemetry("tel").len(), 1);
    d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 1100);
    assert_eq!(d.motion().left, 500);
}

#[test]
fn with_control_pairing_anyone_watches_and_no_token_means_any_token_is_right() {
    let mut d = Device::new(settings(Some("s3cret"), PairingMode::Control));
    let a = connect(&mut d);
    assert!(d.may_watch(a) && !d.may_control(a));
    assert_eq!(d.greeting(a)[1], Action::State(a));
    let mut open = open();
    let b = connect(&mut open);
    assert_eq!(
        open.frame(b, r#"{"t":"auth","token":"anything"}"#, 0),
        [send(b, r#"{"t":"auth","ok":true}"#)]
    );
}

#[test]
fn a_flood_is_capped_but_its_stop_gets_through_and_it_is_closed_in_the_end() {
    let mut d = open();
    let a = connect(&mut d);
    d.frame(a, r#"{"t":"drive","seq":1,"l":500,"r":500}"#, 0);
    for i in 0..100 {
        d.frame(a, &format!(r#"{{"t":"ping","id":{i}}}"#), 1);
    }
    assert!(d.stats.rate_limited > 0);
    assert_eq!(d.client(a).unwrap().rate_limited as u64, d.stats.rate_limited);
    d.frame(a, r#"{"t":"stop","seq":2}"#, 1);
    assert!(!d.motion().moving(), "stop is never dropped");
    let closed = (0..8000u64).find_map(|i| {
        let out = d.frame(a, r#"{"t":"ping","id":1}"#, 2 + i * 20_000 / 8000);
        out.into_iter().find(|o| matches!(o, Action::Close(..)))
    });
    assert_eq!(closed, Some(Action::Close(a, CLOSE_POLICY, ABUSE_REASON)));
    assert_eq!(d.stats.closed_for_abuse, 1);
}

#[test]
fn the_words_dialect_drives_without_a_lease_and_its_stop_is_never_capped() {
    let mut d = open();
    let a = connect(&mut d);
    assert_eq!(d.words(a, "forward", 0), [Action::State(a)], "armed: everyone is told");
    assert_eq!((d.motion().left, d.motion().driver), (1000, None));
    assert_eq!(d.words(a, "jump", 1), []);
    assert_eq!(d.stats.bad_frames, 1);
    for _ in 0..100 {
        d.words(a, "left", 2);
    }
    assert_eq!(d.motion().left, -1000);
    d.words(a, "stop", 2);
    assert_eq!((d.motion().left, d.motion().right), (0, 0), "a flood's stop still stops");
}

#[test]
fn controls_are_declared_in_hello_and_their_values_sent_on_connect() {
    let mut d = with_controls(None);
    let a = connect(&mut d);
    let out = d.greeting(a);
    let Action::Send(_, hello) = &out[0] else { panic!() };
    assert!(hello.contains(r#""controls":[{"id":"lights","kind":"toggle","label":"lights"}"#), "{hello}");
    assert_eq!(
        out[1..],
        [Action::State(a), send(a, r#"{"t":"ctl","v":{"lights":false,"horn":false,"battery":6}}"#)]
    );
    let mut plain = open();
    let a = connect(&mut plain);
    let out = plain.greeting(a);
    let Action::Send(_, hello) = &out[0] else { panic!() };
    assert!(!hello.contains("controls"), "a device that declares nothing says nothing new");
    assert_eq!(out.len(), 2, "hello and who drives, no ctl");
}

#[test]
fn a_change_from_one_phone_is_told_to_every_phone_and_applied() {
    let mut d = with_controls(None);
    let (a, b) = (connect(&mut d), connect(&mut d));
    let out = d.frame(a, r#"{"t":"ctl","id":"lights","v":true,"seq":1}"#, 10);
    let told = r#"{"t":"ctl","v":{"lights":true}}"#;
    assert_eq!(out, [send(a, told), send(b, told), Action::Control(0)]);
    assert_eq!(d.panel().value("lights"), Some(&CtlValue::Bool(true)));
    assert_eq!(d.panel().get(0).unwrap().2.map(|c| c.by), Some(Some(1)));
    // The same value again: only the sender is answered, nothing is applied.
    assert_eq!(d.frame(b, r#"{"t":"ctl","id":"lights","v":true,"seq":1}"#, 20), [send(b, told)]);
}

#[test]
fn a_refused_change_is_answered_with_what_the_device_holds() {
    let mut d = with_controls(None);
    let a = connect(&mut d);
    let battery = r#"{"t":"ctl","v":{"battery":6}}"#;
    assert_eq!(
        d.frame(a, r#"{"t":"ctl","id":"battery","v":7.5,"seq":1}"#, 0),
        [send(a, battery)],
        "read-only"
    );
    assert_eq!(d.frame(a, r#"{"t":"ctl","id":"lights","v":"on","seq":2}"#, 0).len(), 1, "wrong kind");
    assert_eq!(d.frame(a, r#"{"t":"ctl","id":"fog","v":true,"seq":3}"#, 0), [], "unknown id");
    assert_eq!(d.stats.refused_ctl, 3);
    assert_eq!(
        d.set_control(&[("battery", CtlValue::Num(7.5))], 5)[0],
        send(a, r#"{"t":"ctl","v":{"battery":7.5}}"#)
    );
}

#[test]
fn a_held_horn_is_let_go_when_its_phone_leaves() {
    let mut d = with_controls(None);
    let (a, b) = (connect(&mut d), connect(&mut d));
    d.frame(a, r#"{"t":"ctl","id":"horn","v":true,"seq":1}"#, 0);
    assert_eq!(d.panel().value("horn"), Some(&CtlValue::Bool(true)));
    let out = d.close(a, 50);
    assert_eq!(out, [send(b, r#"{"t":"ctl","v":{"horn":false}}"#), Action::Control(1)]);
    assert_eq!(d.panel().value("horn"), Some(&CtlValue::Bool(false)));
}

#[test]
fn without_the_token_controls_are_neither_seen_nor_changed() {
    let mut d = with_controls(Some("s3cret"));
    let a = connect(&mut d);
    assert_eq!(d.greeting(a).len(), 1, "hello only");
    assert_eq!(d.frame(a, r#"{"t":"ctl","id":"lights","v":true,"seq":1}"#, 0), []);
    assert_eq!((d.stats.unpaired_frames, d.panel().value("lights")), (1, Some(&CtlValue::Bool(false))));
    let right = d.frame(a, r#"{"t":"auth","token":"s3cret"}"#, 0);
    assert_eq!(
        right[1..],
        [Action::State(a), send(a, r#"{"t":"ctl","v":{"lights":false,"horn":false,"battery":6}}"#)]
    );
}
