//! Topic names of protocol v1 over MQTT (docs/PROTOCOL.md, "Over MQTT"): which device a topic
//! belongs to and what it carries.

/// Every topic starts with this level.
pub const ROOT: &str = "wsdeck";
/// Every device's `status` (retained `online`, last will `offline`): the roster's online flag.
pub const ALL_STATUS: &str = "wsdeck/+/status";
/// Every device's retained `hello` again on a topic of its own: names and key series without
/// following every device's telemetry.
pub const ALL_HELLO: &str = "wsdeck/+/hello";

/// A device id may be a topic level: not empty, no `/`, `+`, `#` (nor a NUL).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && !id.contains(['/', '+', '#', '\0'])
}

pub fn status(id: &str) -> String {
    format!("{ROOT}/{id}/status")
}

pub fn up(id: &str) -> String {
    format!("{ROOT}/{id}/up")
}

/// Frames for one app only (its `state`, `pong`, answers).
pub fn up_for(id: &str, app: &str) -> String {
    format!("{ROOT}/{id}/up/{app}")
}

/// Where app `app` writes to device `id`; the last level names the app in the device's lease.
pub fn down(id: &str, app: &str) -> String {
    format!("{ROOT}/{id}/down/{app}")
}

/// What a topic an app receives is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic<'a> {
    Status(&'a str),
    Hello(&'a str),
    /// `up` (`for_app` None) or `up/<app>`.
    Up {
        id: &'a str,
        for_app: Option<&'a str>,
    },
}

/// Reads a topic from the broker; `None` for anything else (ignored).
pub fn parse(topic: &str) -> Option<Topic<'_>> {
    let mut levels = topic.split('/');
    if levels.next()? != ROOT {
        return None;
    }
    let id = levels.next().filter(|id| valid_id(id))?;
    let kind = levels.next()?;
    let rest = levels.next();
    if levels.next().is_some() {
        return None;
    }
    match (kind, rest) {
        ("status", None) => Some(Topic::Status(id)),
        ("hello", None) => Some(Topic::Hello(id)),
        ("up", app) if app.is_none_or(valid_id) => Some(Topic::Up { id, for_app: app }),
        _ => None,
    }
}

/// Whether a frame goes at QoS 1: what says how things are (`claim`, `release`, `ctl`, `auth`).
/// `drive`, `stop` and `ping` go at QoS 0: a late wheel command is worse than a lost one, and the
/// device's watchdog stops the wheels whatever the broker does.
///
/// Read from the frame's start as the protocol crate writes it (`{"t":"drive",...`), not by
/// decoding: this runs for every wheel frame, and a decoder of app frames is not otherwise in the
/// app.
pub fn qos1(frame: &str) -> bool {
    let kind = frame.strip_prefix(r#"{"t":""#).and_then(|rest| rest.split_once('"')).map(|(t, _)| t);
    !matches!(kind, Some("drive" | "stop" | "ping"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_protocol() {
        assert_eq!(status("sim-01"), "wsdeck/sim-01/status");
        assert_eq!(up("sim-01"), "wsdeck/sim-01/up");
        assert_eq!(up_for("sim-01", "wsdeck-0badf00d"), "wsdeck/sim-01/up/wsdeck-0badf00d");
        assert_eq!(down("sim-01", "wsdeck-0badf00d"), "wsdeck/sim-01/down/wsdeck-0badf00d");
    }

    #[test]
    fn parses_what_an_app_receives_and_nothing_else() {
        assert_eq!(parse("wsdeck/sim-01/status"), Some(Topic::Status("sim-01")));
        assert_eq!(parse("wsdeck/sim-01/hello"), Some(Topic::Hello("sim-01")));
        assert_eq!(parse("wsdeck/sim-01/up"), Some(Topic::Up { id: "sim-01", for_app: None }));
        assert_eq!(parse("wsdeck/sim-01/up/me"), Some(Topic::Up { id: "sim-01", for_app: Some("me") }));
        for other in [
            "wsdeck/sim-01/down/me",
            "wsdeck/sim-01/hello/x",
            "wsdeck//up",
            "other/sim-01/up",
            "wsdeck/a/up/b/c",
            "wsdeck/a",
            "",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }

    #[test]
    fn wheel_commands_and_pings_at_qos0_the_rest_at_qos1() {
        assert!(!qos1(r#"{"t":"drive","seq":1,"x":0,"y":0}"#));
        assert!(!qos1(r#"{"t":"stop","seq":2}"#));
        assert!(!qos1(r#"{"t":"ping","id":3}"#));
        assert!(qos1(r#"{"t":"claim"}"#));
        assert!(qos1(r#"{"t":"ctl","id":"led","v":true}"#));
        assert!(qos1("not json"));
        assert!(qos1(r#"{"t":"drivex"}"#));
        // As the app writes them.
        use wsdeck_protocol::{AppMsg, Drive};
        let drive = AppMsg::Drive(Drive { seq: 1, x: 0, y: 0, l: 0, r: 0 });
        for (msg, q1) in [
            (drive, false),
            (AppMsg::Stop { seq: 2 }, false),
            (AppMsg::Ping { id: 3 }, false),
            (AppMsg::Claim, true),
        ] {
            assert_eq!(qos1(&msg.encode()), q1, "{msg:?}");
        }
    }

    #[test]
    fn ids_cannot_hold_wildcards() {
        assert!(valid_id("sim-01"));
        for bad in ["", "a/b", "a+", "#", &"x".repeat(65)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
