//! What the simulated device does with each frame from the app: protocol v1 (ping, drive, stop,
//! claim, release, auth), the words of `--dialect text`, or a profile's shape. Returns what to
//! send back or do as a list of [`Action`]s; time comes in as `now` (ms since start).

use crate::car;
use crate::config::Dialect;
use crate::device::{keep, Noted, Peer, Sim};
use crate::pairing;
use crate::profile::Heard;
use crate::Out;
use std::sync::atomic::Ordering;
use wsdeck_protocol::{AppMsg, DeviceMsg};

/// A close code that is never sent: the close frame goes without a code, as Microdot's does.
pub const CLOSE_WITHOUT_CODE: u16 = 1005;

/// What the device does after a frame from the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Reply(String),
    /// Close the connection (after what is queued) with this code and reason.
    Close(u16, &'static str),
}

impl Sim {
    /// Acts on a frame from `peer` that came at `now` and says what to send back or do.
    pub fn on_app_frame(&self, peer: &Peer, text: &str, now: u64) -> Vec<Action> {
        let client = peer.id;
        {
            let mut stats = self.stats();
            stats.frames_from_app += 1;
            let noted = Noted::new(client, now, text);
            stats.last_frame_from_app = Some(noted.frame.clone());
            keep(&mut stats.recent_frames, noted);
        }
        if let Some(profile) = self.config.profile {
            return match profile.on_frame(text) {
                Heard::Word { l, r, reply } => {
                    self.with_car(|car| car.drive_words(l, r, text, now));
                    reply.map(|r| Action::Reply(r.to_string())).into_iter().collect()
                }
                Heard::Subscribe => {
                    peer.asked_for_readings.store(true, Ordering::Relaxed);
                    // The tutorial answers with the readings at once.
                    self.stats().last_telemetry.clone().map(Action::Reply).into_iter().collect()
                }
                Heard::Ignored => {
                    self.stats().bad_frames_from_app += 1;
                    Vec::new()
                }
                Heard::Close => {
                    let mut stats = self.stats();
                    stats.unexpected_closes += 1;
                    keep(&mut stats.recent_unexpected, Noted::new(client, now, text));
                    vec![Action::Close(CLOSE_WITHOUT_CODE, "")]
                }
            };
        }
        self.on_protocol_frame(peer, text, now).map(Action::Reply).into_iter().collect()
    }

    /// A frame for a device that speaks protocol v1 or takes the words of `--dialect text`.
    fn on_protocol_frame(&self, peer: &Peer, text: &str, now: u64) -> Option<String> {
        let client = peer.id;
        if self.config.dialect == Dialect::Text {
            // A tutorial car: a word per frame, no JSON, no lease, no watchdog.
            match car::words_to_wheels(text) {
                Some((l, r)) => self.with_car(|car| car.drive_words(l, r, text, now)),
                None => self.stats().bad_frames_from_app += 1,
            }
            return None;
        }
        let msg = match AppMsg::decode(text) {
            Ok(msg) => msg,
            Err(_) => {
                self.stats().bad_frames_from_app += 1;
                return None;
            }
        };
        let control = matches!(msg, AppMsg::Drive(_) | AppMsg::Claim | AppMsg::Release);
        if control && !peer.may_control() {
            // Stop is never refused; everything else that moves the car needs the token.
            self.unpaired_frames.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        match msg {
            AppMsg::Auth { token } => Some(self.on_auth(peer, &token, now)),
            AppMsg::Ping { id } => {
                self.stats().pings_answered += 1;
                Some(DeviceMsg::Pong { id }.encode())
            }
            AppMsg::Drive(d) => {
                self.with_car(|car| car.drive(client, &d, text, now));
                None
            }
            AppMsg::Stop { seq } => {
                self.with_car(|car| car.stop(client, Some(seq), &format!("stop from client #{client}"), now));
                None
            }
            AppMsg::Claim => {
                self.with_car(|car| car.claim(client, now));
                // Granted or not, the client learns who drives.
                Some(self.state_frame(client))
            }
            AppMsg::Release => {
                self.with_car(|car| car.release(client, now));
                None
            }
            AppMsg::Unknown { .. } => None,
        }
    }

    /// A pairing token from `peer`: right (it may now watch and control), or wrong and how long
    /// its address must wait.
    fn on_auth(&self, peer: &Peer, given: &str, now: u64) -> String {
        let Some(token) = &self.config.token else {
            return DeviceMsg::Auth { ok: true, retry_ms: None }.encode();
        };
        let verdict = self.lockouts().check(peer.addr, given, token, now);
        if verdict == pairing::Verdict::Right {
            let first = !peer.paired.swap(true, Ordering::Relaxed);
            let was_watching = peer.watching.swap(true, Ordering::Relaxed);
            if first && !was_watching {
                // It saw nothing so far: who drives comes right after the answer.
                peer.outbox.push(Out::State);
            }
        }
        verdict.answer().encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::Assets;
    use crate::config::Config;
    use std::net::IpAddr;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));

    fn sim(args: &[&str]) -> Sim {
        Sim::new(Config::parse(args.iter().map(|s| s.to_string())).unwrap().unwrap(), Assets::default())
    }

    fn reply(text: &str) -> Vec<Action> {
        vec![Action::Reply(text.to_string())]
    }

    #[test]
    fn pings_are_answered_and_what_is_not_json_is_counted() {
        let sim = sim(&[]);
        let c = sim.client_connected(HOME);
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"ping","id":7}"#, 0), reply(r#"{"t":"pong","id":7}"#));
        assert_eq!(sim.on_app_frame(&c.peer, "not json", 0), []);
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"frobnicate"}"#, 0), [], "unknown types are ignored");
        let s = sim.stats();
        assert_eq!((s.frames_from_app, s.pings_answered, s.bad_frames_from_app), (3, 1, 1));
    }

    #[test]
    fn a_claim_is_answered_with_who_drives_and_the_driver_moves_the_car() {
        let sim = sim(&[]);
        let (a, b) = (sim.client_connected(HOME), sim.client_connected(HOME));
        let granted = sim.on_app_frame(&a.peer, r#"{"t":"claim"}"#, 0);
        assert_eq!(
            granted,
            reply(&format!(
                r#"{{"t":"state","driver":{},"you":{},"armed":false,"failsafe":null}}"#,
                a.id, a.id
            ))
        );
        sim.on_app_frame(&a.peer, r#"{"t":"drive","seq":1,"x":0,"y":500,"l":500,"r":500}"#, 10);
        assert_eq!(sim.car().cmd_l, 0.5);
        // The other client is told who drives, and its drive frames are ignored.
        let refused = sim.on_app_frame(&b.peer, r#"{"t":"claim"}"#, 20);
        assert_eq!(
            refused,
            reply(&format!(
                r#"{{"t":"state","driver":{},"you":{},"armed":true,"failsafe":null}}"#,
                a.id, b.id
            ))
        );
        sim.on_app_frame(&b.peer, r#"{"t":"drive","seq":1,"x":0,"y":-1000,"l":-1000,"r":-1000}"#, 30);
        assert_eq!(sim.car().cmd_l, 0.5);
        // ... but its stop is obeyed.
        sim.on_app_frame(&b.peer, r#"{"t":"stop","seq":2}"#, 40);
        assert!(!sim.car().moving());
        assert_eq!(sim.car().stops.back().unwrap().reason, format!("stop from client #{}", b.id));
    }

    #[test]
    fn without_the_token_only_stop_is_obeyed_and_wrong_tokens_wait() {
        let sim = sim(&["--token", "blue-tiger-42"]);
        let c = sim.client_connected(HOME);
        assert!(!c.peer.may_watch() && !c.peer.may_control());
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"claim"}"#, 0), []);
        assert_eq!(sim.unpaired_frames.load(Ordering::Relaxed), 1);
        let wrong = sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"guess"}"#, 0);
        assert_eq!(wrong, reply(r#"{"t":"auth","ok":false,"retry_ms":1000}"#));
        let early = sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"blue-tiger-42"}"#, 400);
        assert_eq!(early, reply(r#"{"t":"auth","ok":false,"retry_ms":600}"#));
        let right = sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"blue-tiger-42"}"#, 1000);
        assert_eq!(right, reply(r#"{"t":"auth","ok":true}"#));
        assert!(c.peer.may_watch() && c.peer.may_control());
        assert!(c.peer.outbox.take().state, "who drives comes right after the answer");
    }

    #[test]
    fn the_words_dialect_drives_without_a_lease() {
        let sim = sim(&["--dialect", "text"]);
        let c = sim.client_connected(HOME);
        assert_eq!(sim.on_app_frame(&c.peer, "up", 0), []);
        let car = sim.car();
        assert_eq!((car.cmd_l, car.driver), (1.0, None));
        drop(car);
        sim.on_app_frame(&c.peer, r#"{"t":"ping","id":1}"#, 10);
        assert_eq!(sim.stats().bad_frames_from_app, 1, "no JSON in this dialect");
    }

    #[test]
    fn the_tutorial_car_answers_ok_and_closes_on_a_ping() {
        let sim = sim(&["--profile", "tutorial-car"]);
        let c = sim.client_connected(HOME);
        assert_eq!(sim.on_app_frame(&c.peer, "forward", 0), reply("OK"));
        assert!(sim.car().moving());
        let ping = r#"{"t":"ping","id":1}"#;
        assert_eq!(sim.on_app_frame(&c.peer, ping, 50), [Action::Close(CLOSE_WITHOUT_CODE, "")]);
        let s = sim.stats();
        assert_eq!(s.unexpected_closes, 1);
        let closed = s.recent_unexpected.back().unwrap();
        assert_eq!((closed.client, closed.at_ms, closed.frame.as_str()), (c.id, 50, ping));
        assert_eq!(s.pings_answered, 0);
    }

    #[test]
    fn string_readings_start_when_asked() {
        let sim = sim(&["--profile", "string-readings"]);
        let c = sim.client_connected(HOME);
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"ping","id":1}"#, 0), [], "ignored, not answered");
        assert_eq!(sim.on_app_frame(&c.peer, "getReadings", 0), [], "nothing sampled yet");
        assert!(c.peer.asked_for_readings.load(Ordering::Relaxed));
        sim.stats().last_telemetry = Some(r#"{"temperature":"21.50"}"#.into());
        assert_eq!(sim.on_app_frame(&c.peer, "getReadings", 0), reply(r#"{"temperature":"21.50"}"#));
    }
}
