//! What the simulated device does with each frame from the app: protocol v1 (ping, drive, stop,
//! claim, release, auth) and the words of `--dialect text` as the device core decides
//! ([`wsdeck_device`]), or a profile's shape. Returns what to send back or do as a list of
//! [`Action`]s; time comes in as `now` (ms since start).

use crate::config::Dialect;
use crate::device::{keep, Noted, Peer, Sim};
use crate::profile::Heard;
use std::sync::atomic::Ordering;
use wsdeck_device::limits::Verdict;
use wsdeck_device::{words, ABUSE_REASON, CLOSE_POLICY};
use wsdeck_protocol::{AppMsg, FULL};

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
    /// Judges a message that is not text (binary, a ping) by the client's rate cap; `false` when
    /// the client is to be closed for staying over it.
    pub fn admit_other(&self, peer: &Peer, now: u64) -> bool {
        self.core().admit(peer.slot, now, false) != Verdict::Close
    }

    /// Acts on a frame from `peer` that came at `now` and says what to send back or do. Every
    /// frame passes the client's rate cap first, a stop always.
    pub fn on_app_frame(&self, peer: &Peer, text: &str, now: u64) -> Vec<Action> {
        match self.core().admit(peer.slot, now, self.is_stop(text)) {
            Verdict::Process => {}
            Verdict::Drop => return Vec::new(),
            Verdict::Close => return vec![Action::Close(CLOSE_POLICY, ABUSE_REASON)],
        }
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
                    let wheel = |v: f64| (v * f64::from(FULL)) as i16;
                    self.run(Some(peer), Some(text), |d| d.drive_words(wheel(l), wheel(r), now));
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
        if self.config.dialect == Dialect::Text {
            // A tutorial car: a word per frame, no JSON, no lease.
            return self.run(Some(peer), Some(text), |d| d.handle_word(text, now));
        }
        self.run(Some(peer), Some(text), |d| d.handle(peer.slot, text, now))
    }

    /// A stop frame is never dropped by the rate cap. The cheap test first: floods are mostly not
    /// stops, and the few that contain the word are decoded once more.
    fn is_stop(&self, text: &str) -> bool {
        match self.config.dialect {
            Dialect::Text => words::wheels(text) == Some((0, 0)),
            Dialect::Json => text.contains("stop") && matches!(AppMsg::decode(text), Ok(AppMsg::Stop { .. })),
        }
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
        let c = sim.client_connected(HOME).unwrap();
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"ping","id":7}"#, 0), reply(r#"{"t":"pong","id":7}"#));
        assert_eq!(sim.on_app_frame(&c.peer, "not json", 0), []);
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"frobnicate"}"#, 0), [], "unknown types are ignored");
        assert_eq!(sim.stats().frames_from_app, 3);
        let core = sim.core();
        assert_eq!((core.stats.pings_answered, core.stats.bad_frames), (1, 1));
    }

    #[test]
    fn a_claim_is_answered_with_who_drives_and_the_driver_moves_the_car() {
        let sim = sim(&[]);
        let (a, b) = (sim.client_connected(HOME).unwrap(), sim.client_connected(HOME).unwrap());
        assert_eq!(sim.on_app_frame(&a.peer, r#"{"t":"claim"}"#, 0), []);
        assert!(a.peer.outbox.take().state, "granted: its view of who drives is due");
        assert!(b.peer.outbox.take().state, "and the other's");
        assert_eq!(
            sim.state_frame(a.peer.slot),
            format!(r#"{{"t":"state","driver":{},"you":{},"armed":false,"failsafe":null}}"#, a.id, a.id)
        );
        sim.on_app_frame(&a.peer, r#"{"t":"drive","seq":1,"x":0,"y":500,"l":500,"r":500}"#, 10);
        assert_eq!(sim.car().cmd_l, 0.5);
        // The other client is told who drives, and its drive frames are ignored.
        sim.on_app_frame(&b.peer, r#"{"t":"claim"}"#, 20);
        assert!(b.peer.outbox.take().state);
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
        let c = sim.client_connected(HOME).unwrap();
        assert!(!sim.may_watch(&c.peer) && !sim.may_control(&c.peer));
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"claim"}"#, 0), []);
        assert_eq!(sim.core().stats.unpaired_frames, 1);
        let wrong = sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"guess"}"#, 0);
        assert_eq!(wrong, reply(r#"{"t":"auth","ok":false,"retry_ms":1000}"#));
        let early = sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"blue-tiger-42"}"#, 400);
        assert_eq!(early, reply(r#"{"t":"auth","ok":false,"retry_ms":600}"#));
        let right = sim.on_app_frame(&c.peer, r#"{"t":"auth","token":"blue-tiger-42"}"#, 1000);
        assert_eq!(right[0], Action::Reply(r#"{"t":"auth","ok":true}"#.into()));
        assert!(
            matches!(&right[1], Action::Reply(ctl) if ctl.starts_with(r#"{"t":"ctl","v":{"lights":false"#))
        );
        assert!(sim.may_watch(&c.peer) && sim.may_control(&c.peer));
        assert!(c.peer.outbox.take().state, "who drives comes right after the answer");
    }

    #[test]
    fn the_words_dialect_drives_without_a_lease() {
        let sim = sim(&["--dialect", "text"]);
        let c = sim.client_connected(HOME).unwrap();
        assert_eq!(sim.on_app_frame(&c.peer, "up", 0), []);
        assert_eq!(sim.core().motion().driver, None);
        assert_eq!(sim.car().cmd_l, 1.0);
        assert_eq!(sim.car().last_command.as_deref(), Some("up"));
        sim.on_app_frame(&c.peer, r#"{"t":"ping","id":1}"#, 10);
        assert_eq!(sim.core().stats.bad_frames, 1, "no JSON in this dialect");
    }

    #[test]
    fn a_flood_is_capped_and_its_stop_still_stops() {
        let sim = sim(&["--max-msg-rate", "20"]);
        let c = sim.client_connected(HOME).unwrap();
        sim.on_app_frame(&c.peer, r#"{"t":"drive","seq":1,"x":0,"y":0,"l":500,"r":500}"#, 0);
        for i in 0..100 {
            sim.on_app_frame(&c.peer, &format!(r#"{{"t":"ping","id":{i}}}"#), 1);
        }
        assert!(sim.core().stats.rate_limited > 0);
        assert_eq!(sim.stats().frames_from_app, 10, "the burst of 10 went through, no more");
        sim.on_app_frame(&c.peer, r#"{"t":"stop","seq":2}"#, 1);
        assert!(!sim.car().moving());
    }

    #[test]
    fn the_tutorial_car_answers_ok_and_closes_on_a_ping() {
        let sim = sim(&["--profile", "tutorial-car"]);
        let c = sim.client_connected(HOME).unwrap();
        assert_eq!(sim.on_app_frame(&c.peer, "forward", 0), reply("OK"));
        assert!(sim.car().moving());
        let ping = r#"{"t":"ping","id":1}"#;
        assert_eq!(sim.on_app_frame(&c.peer, ping, 50), [Action::Close(CLOSE_WITHOUT_CODE, "")]);
        let s = sim.stats();
        assert_eq!(s.unexpected_closes, 1);
        let closed = s.recent_unexpected.back().unwrap();
        assert_eq!((closed.client, closed.at_ms, closed.frame.as_str()), (c.id, 50, ping));
        assert_eq!(sim.core().stats.pings_answered, 0);
    }

    #[test]
    fn controls_drive_the_car_and_a_held_horn_stops_when_its_phone_goes() {
        let sim = sim(&[]);
        let (a, b) = (sim.client_connected(HOME).unwrap(), sim.client_connected(HOME).unwrap());
        let told = sim.on_app_frame(&a.peer, r#"{"t":"ctl","id":"profile","v":"eco","seq":1}"#, 0);
        assert_eq!(told, reply(r#"{"t":"ctl","v":{"profile":"eco"}}"#));
        assert_eq!(
            b.peer.outbox.take().replies,
            [r#"{"t":"ctl","v":{"profile":"eco"}}"#],
            "the other phone too"
        );
        assert!(sim.car().eco);
        sim.on_app_frame(&a.peer, r#"{"t":"ctl","id":"horn","v":true,"seq":2}"#, 10);
        assert!(sim.car().horn);
        drop(a);
        assert!(!sim.car().horn, "let go when its phone left");
        assert_eq!(
            b.peer.outbox.take().replies.last().map(String::as_str),
            Some(r#"{"t":"ctl","v":{"horn":false}}"#)
        );
    }

    #[test]
    fn string_readings_start_when_asked() {
        let sim = sim(&["--profile", "string-readings"]);
        let c = sim.client_connected(HOME).unwrap();
        assert_eq!(sim.on_app_frame(&c.peer, r#"{"t":"ping","id":1}"#, 0), [], "ignored, not answered");
        assert_eq!(sim.on_app_frame(&c.peer, "getReadings", 0), [], "nothing sampled yet");
        assert!(c.peer.asked_for_readings.load(Ordering::Relaxed));
        sim.stats().last_telemetry = Some(r#"{"temperature":"21.50"}"#.into());
        assert_eq!(sim.on_app_frame(&c.peer, "getReadings", 0), reply(r#"{"temperature":"21.50"}"#));
    }
}
