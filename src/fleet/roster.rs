//! The Fleet page's model: every device seen on the broker (from its retained `status`, and its
//! retained `hello` once its `up` is followed), its name, whether it is on line, the age of its
//! last frame and two key values; sorted, filtered, and which devices' `up` to follow.
//!
//! **Telemetry of devices not shown is not subscribed**: `wsdeck/+/status` tells every device
//! (a few bytes each, retained), and `wsdeck/<id>/up` is followed only for the devices on the
//! page ([`Roster::follow`]), so 1 000 devices at 10 Hz do not all reach the phone.

use super::topics::{self, Topic};
use crate::series::format::{format_reading, sent_decimals};
use std::collections::BTreeMap;
use wsdeck_protocol::{DeviceMsg, Reading};

/// Devices kept at most; more are counted and not shown (a broker of a whole school).
pub const MAX_DEVICES: usize = 10_000;
/// Devices whose `up` is followed at most (cards on the page).
pub const MAX_FOLLOWED: usize = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub id: String,
    /// From `hello`; empty until it came.
    pub name: String,
    /// From `status`: `None` until one came.
    pub online: Option<bool>,
    /// When the last frame on `up` came (page time).
    pub last_frame_ms: Option<f64>,
    /// The two series shown on the card: the first two the hello lists, else the first two
    /// numbers of the telemetry. `(label, value as text)`.
    pub keys: Vec<(String, String)>,
    /// The hello's series order, labels and units (name, label, unit).
    series: Vec<(String, String, String)>,
}

impl Device {
    fn new(id: &str) -> Device {
        Device {
            id: id.to_string(),
            name: String::new(),
            online: None,
            last_frame_ms: None,
            keys: Vec::new(),
            series: Vec::new(),
        }
    }

    /// The name shown: the hello's, else the id.
    pub fn title(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Seconds since the last frame, if any came.
    pub fn age_s(&self, now_ms: f64) -> Option<f64> {
        self.last_frame_ms.map(|t| ((now_ms - t) / 1000.0).max(0.0))
    }

    fn on_frame(&mut self, now_ms: f64, payload: &str) {
        self.last_frame_ms = Some(now_ms);
        match DeviceMsg::decode(payload) {
            Ok(DeviceMsg::Hello(h)) => {
                self.name = h.name.chars().take(64).collect();
                self.series = h
                    .series
                    .iter()
                    .map(|(n, m)| {
                        let label = m.label.clone().unwrap_or_else(|| n.clone());
                        (n.clone(), label, m.unit.clone().unwrap_or_default())
                    })
                    .collect();
            }
            Ok(DeviceMsg::Telemetry(tel)) => self.on_telemetry(&tel.values),
            _ => {}
        }
    }

    fn on_telemetry(&mut self, values: &[(String, Reading)]) {
        let mut keys = Vec::with_capacity(2);
        if self.series.is_empty() {
            for (name, r) in values.iter().filter(|(_, r)| matches!(r, Reading::Num(_))).take(2) {
                keys.push((name.clone(), shown(r)));
            }
        } else {
            for (name, label, unit) in self.series.iter().take(2) {
                let old = self.keys.iter().find(|(l, _)| l == label).map(|(_, v)| v.clone());
                let text = match values.iter().find(|(n, _)| n == name) {
                    Some((_, r)) if unit.is_empty() => shown(r),
                    Some((_, r)) => format!("{} {unit}", shown(r)),
                    None => old.unwrap_or_else(|| "–".into()),
                };
                keys.push((label.clone(), text));
            }
        }
        if !keys.is_empty() {
            self.keys = keys;
        }
    }
}

/// A card's value as the device sent it (`7.42`, not `7.420`: cards are small).
fn shown(r: &Reading) -> String {
    match r {
        Reading::Num(v) if v.is_finite() => {
            let d = usize::from(sent_decimals(*v));
            format!("{v:.d$}")
        }
        r => format_reading(r, false),
    }
}

/// Which topics to subscribe to and unsubscribe from, after [`Roster::follow`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Follow {
    pub subscribe: Vec<String>,
    pub unsubscribe: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Roster {
    devices: BTreeMap<String, Device>,
    followed: Vec<String>,
    /// Devices not kept because [`MAX_DEVICES`] were.
    pub dropped: u64,
    version: u64,
}

impl Roster {
    /// Takes one message from the broker; whether the roster changed.
    pub fn on_message(&mut self, now_ms: f64, topic: &str, payload: &str) -> bool {
        let Some(topic) = topics::parse(topic) else { return false };
        let id = match topic {
            Topic::Status(id) | Topic::Up { id, for_app: None } => id,
            // Meant for one app: not the roster's business.
            Topic::Up { .. } => return false,
        };
        if !self.devices.contains_key(id) {
            if self.devices.len() >= MAX_DEVICES {
                self.dropped += 1;
                return false;
            }
            self.devices.insert(id.to_string(), Device::new(id));
        }
        let Some(d) = self.devices.get_mut(id) else { return false };
        match topic {
            Topic::Status(_) => d.online = Some(payload.trim() == "online"),
            _ => d.on_frame(now_ms, payload),
        }
        self.version += 1;
        true
    }

    /// Bumped on every change.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Device> {
        self.devices.get(id)
    }

    /// The devices matching `filter` (in name or id, any case), on line first, then by name.
    pub fn view(&self, filter: &str) -> Vec<&Device> {
        let filter = filter.trim().to_lowercase();
        let mut list: Vec<&Device> = self
            .devices
            .values()
            .filter(|d| {
                filter.is_empty()
                    || d.id.to_lowercase().contains(&filter)
                    || d.name.to_lowercase().contains(&filter)
            })
            .collect();
        list.sort_by(|a, b| {
            let rank = |d: &Device| d.online != Some(true);
            rank(a)
                .cmp(&rank(b))
                .then_with(|| a.title().to_lowercase().cmp(&b.title().to_lowercase()))
                .then_with(|| a.id.cmp(&b.id))
        });
        list
    }

    /// Follows the `up` of exactly the devices `shown` (at most [`MAX_FOLLOWED`]); says what to
    /// subscribe and unsubscribe.
    pub fn follow<'a>(&mut self, shown: impl IntoIterator<Item = &'a str>) -> Follow {
        let want: Vec<String> = shown.into_iter().take(MAX_FOLLOWED).map(topics::up).collect();
        let follow = Follow {
            subscribe: want.iter().filter(|t| !self.followed.contains(t)).cloned().collect(),
            unsubscribe: self.followed.iter().filter(|t| !want.contains(t)).cloned().collect(),
        };
        self.followed = want;
        follow
    }

    pub fn followed(&self) -> &[String] {
        &self.followed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = r#"{"t":"hello","v":1,"name":"Car 3","caps":["drive","telemetry"],"series":{"batt":{"label":"Battery","unit":"V"},"temp":{"unit":"°C"},"rssi":{}}}"#;

    #[test]
    fn devices_appear_from_status_and_get_their_name_from_hello() {
        let mut r = Roster::default();
        assert!(r.on_message(0.0, "wsdeck/sim-03/status", "online"));
        assert_eq!(r.get("sim-03").unwrap().title(), "sim-03");
        assert_eq!(r.get("sim-03").unwrap().online, Some(true));
        r.on_message(10.0, "wsdeck/sim-03/up", HELLO);
        let d = r.get("sim-03").unwrap();
        assert_eq!((d.title(), d.last_frame_ms), ("Car 3", Some(10.0)));
        r.on_message(20.0, "wsdeck/sim-03/status", "offline");
        assert_eq!(r.get("sim-03").unwrap().online, Some(false));
        assert!(!r.on_message(30.0, "wsdeck/sim-03/up/someone-else", HELLO));
        assert!(!r.on_message(30.0, "elsewhere/x", "online"));
    }

    #[test]
    fn two_key_values_from_the_hello_series_with_units() {
        let mut r = Roster::default();
        r.on_message(0.0, "wsdeck/a/up", HELLO);
        r.on_message(1.0, "wsdeck/a/up", r#"{"t":"tel","d":{"rssi":-60,"temp":21.5,"batt":7.42}}"#);
        let keys = &r.get("a").unwrap().keys;
        assert_eq!(keys, &[("Battery".into(), "7.42 V".into()), ("temp".into(), "21.5 °C".into())]);
        // A frame without one keeps its last value.
        r.on_message(2.0, "wsdeck/a/up", r#"{"t":"tel","d":{"batt":7.4}}"#);
        assert_eq!(r.get("a").unwrap().keys[1].1, "21.5 °C");
        assert_eq!(r.get("a").unwrap().age_s(3000.0), Some(2.998));
    }

    #[test]
    fn without_a_hello_the_first_two_numbers() {
        let mut r = Roster::default();
        r.on_message(0.0, "wsdeck/b/up", r#"{"t":"tel","d":{"on":true,"x":1,"y":2,"z":3}}"#);
        assert_eq!(r.get("b").unwrap().keys, [("x".into(), "1".into()), ("y".into(), "2".into())]);
    }

    #[test]
    fn sorted_online_first_then_by_name_and_filtered() {
        let mut r = Roster::default();
        for (id, s) in [("c", "online"), ("a", "offline"), ("b", "online")] {
            r.on_message(0.0, &topics::status(id), s);
        }
        r.on_message(0.0, "wsdeck/c/up", HELLO);
        let ids: Vec<_> = r.view("").iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["b", "c", "a"]);
        let ids: Vec<_> = r.view(" CAR ").iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["c"]);
        assert_eq!(r.view("a").len(), 2, "id a and name Car");
    }

    #[test]
    fn follows_only_what_is_shown() {
        let mut r = Roster::default();
        let f = r.follow(["a", "b"]);
        assert_eq!(f.subscribe, ["wsdeck/a/up", "wsdeck/b/up"]);
        assert!(f.unsubscribe.is_empty());
        let f = r.follow(["b", "c"]);
        assert_eq!(
            (f.subscribe, f.unsubscribe),
            (vec!["wsdeck/c/up".to_string()], vec!["wsdeck/a/up".to_string()])
        );
        assert_eq!(r.follow(["b", "c"]), Follow::default());
        let many: Vec<String> = (0..500).map(|i| format!("d{i}")).collect();
        r.follow(many.iter().map(|s| s.as_str()));
        assert_eq!(r.followed().len(), MAX_FOLLOWED);
    }

    #[test]
    fn keeps_at_most_ten_thousand_devices() {
        let mut r = Roster::default();
        for i in 0..MAX_DEVICES + 5 {
            r.on_message(0.0, &topics::status(&format!("d{i}")), "online");
        }
        assert_eq!((r.len(), r.dropped), (MAX_DEVICES, 5));
        // Known devices still update.
        r.on_message(0.0, "wsdeck/d1/status", "offline");
        assert_eq!(r.get("d1").unwrap().online, Some(false));
    }
}
