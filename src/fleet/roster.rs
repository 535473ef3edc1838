//! The Fleet page's model: every device seen on the broker (from its retained `status` and its
//! retained `hello`, on the `hello` topic or on `up` once that is followed), its name, whether it is on line, the age of its
//! last frame and two key values; sorted, filtered, and which devices' `up` to follow.
//!
//! **Telemetry of devices not shown is not subscribed**: `wsdeck/+/status` and `wsdeck/+/hello`
//! tell every device and its name (retained, once each), and `wsdeck/<id>/up` is followed only for the devices on the
//! page ([`Roster::follow`]), so 1 000 devices at 10 Hz do not all reach the phone.

use super::topics::{self, Topic};
use crate::series::format::{format_reading, sent_decimals};
use std::collections::BTreeMap;
use std::ops::Add;
use wsdeck_protocol::{DeviceMsg, Hello, Reading};

/// Devices kept at most; more are counted and not shown (a broker of a whole school).
pub const MAX_DEVICES: usize = 10_000;
/// Devices whose `up` is followed at most (cards on the page).
pub const MAX_FOLLOWED: usize = 60;
/// The cards' grid, as style/main.css `.fleet-cards` lays it out: columns at least this wide...
pub const CARD_MIN_PX: f64 = 160.0;
/// ...this far apart, both ways.
pub const GAP_PX: f64 = 10.0;

/// How the list sits on the page: `cols` cards a row (as CSS `repeat(auto-fill, minmax(160px,
/// 1fr))` counts them), rows `row_px` apart. **The list is virtual**: it is as tall as all its
/// rows, and only the rows in view (and one more each side) have cards, so a broker of 1 000
/// devices makes a dozen cards and follows a dozen `up` topics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub cols: usize,
    pub row_px: f64,
}

impl Grid {
    /// For a list `width_px` wide whose cards are `card_px` tall.
    pub fn new(width_px: f64, card_px: f64) -> Grid {
        let cols = ((width_px + GAP_PX) / (CARD_MIN_PX + GAP_PX)).floor().max(1.0) as usize;
        Grid { cols, row_px: card_px.max(1.0) + GAP_PX }
    }

    /// The height of all of a list of `n`.
    pub fn height_px(&self, n: usize) -> f64 {
        (n.div_ceil(self.cols) as f64 * self.row_px - GAP_PX).max(0.0)
    }

    /// Which of a list of `n` get cards, when the list's top is `top_px` below the top of a
    /// view `view_px` tall (negative once scrolled past): the rows in view and one more each
    /// side, at most [`MAX_FOLLOWED`] cards. The first starts `start / cols * row_px` down.
    pub fn shown(&self, n: usize, top_px: f64, view_px: f64) -> std::ops::Range<usize> {
        let rows = n.div_ceil(self.cols) as f64;
        let first = ((-top_px / self.row_px).floor() - 1.0).clamp(0.0, rows) as usize;
        let last = ((view_px - top_px) / self.row_px).ceil().add(1.0).clamp(0.0, rows) as usize;
        let start = (first * self.cols).min(n);
        start..(last * self.cols).clamp(start, n).min(start + MAX_FOLLOWED)
    }

    /// How far down the card of `start` sits.
    pub fn offset_px(&self, start: usize) -> f64 {
        (start / self.cols) as f64 * self.row_px
    }
}

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

    /// A frame on `up`.
    fn on_frame(&mut self, now_ms: f64, payload: &str) {
        self.last_frame_ms = Some(now_ms);
        match DeviceMsg::decode(payload) {
            Ok(DeviceMsg::Hello(h)) => self.on_hello(&h),
            Ok(DeviceMsg::Telemetry(tel)) => self.on_telemetry(&tel.values),
            _ => {}
        }
    }

    /// What came on the device's `hello` topic: retained, so not a sign of life.
    fn on_hello_topic(&mut self, payload: &str) {
        if let Ok(DeviceMsg::Hello(h)) = DeviceMsg::decode(payload) {
            self.on_hello(&h);
        }
    }

    fn on_hello(&mut self, h: &Hello) {
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
            Topic::Status(id) | Topic::Hello(id) | Topic::Up { id, for_app: None } => id,
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
            Topic::Hello(_) => d.on_hello_topic(payload),
            Topic::Up { .. } => d.on_frame(now_ms, payload),
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
    fn a_name_from_the_hello_topic_without_following_up_and_no_age_from_it() {
        let mut r = Roster::default();
        assert!(r.on_message(0.0, "wsdeck/sim-40/hello", HELLO));
        let d = r.get("sim-40").unwrap();
        assert_eq!((d.title(), d.last_frame_ms, d.online), ("Car 3", None, None));
        assert!(r.followed().is_empty());
        // The telemetry that comes once the card is followed shows the hello's series.
        r.on_message(5.0, "wsdeck/sim-40/up", r#"{"t":"tel","d":{"batt":7.4,"temp":20}}"#);
        assert_eq!(r.get("sim-40").unwrap().keys[0], ("Battery".into(), "7.4 V".into()));
        // Not a hello: ignored, the name stays.
        r.on_message(6.0, "wsdeck/sim-40/hello", r#"{"t":"tel","d":{"x":1}}"#);
        assert_eq!(r.get("sim-40").unwrap().title(), "Car 3");
    }

    #[test]
    fn the_grid_counts_columns_as_css_auto_fill_does() {
        // A 390 px phone: 366 px of list, two columns; a laptop's 936 px, five.
        assert_eq!(Grid::new(366.0, 96.0).cols, 2);
        assert_eq!(Grid::new(936.0, 96.0).cols, 5);
        assert_eq!(Grid::new(100.0, 96.0).cols, 1);
        assert_eq!(Grid::new(f64::NAN, f64::NAN), Grid { cols: 1, row_px: 1.0 + GAP_PX });
        let g = Grid::new(366.0, 96.0);
        assert_eq!(g.row_px, 106.0);
        assert_eq!(g.height_px(0), 0.0);
        assert_eq!(g.height_px(1000), 500.0 * 106.0 - 10.0);
    }

    #[test]
    fn only_the_rows_in_view_and_one_more_each_side_get_cards() {
        let g = Grid::new(366.0, 96.0);
        // The list 120 px down a 700 px view: rows 0 to 5 in view, and one below.
        assert_eq!(g.shown(1000, 120.0, 700.0), 0..14);
        // Scrolled 10 000 px down: rows 93 to 99 in view, one above and one below.
        let r = g.shown(1000, 120.0 - 10_000.0, 700.0);
        assert_eq!(r, 184..202);
        assert_eq!(g.offset_px(r.start), 92.0 * 106.0);
        // At the end, and past it.
        assert_eq!(g.shown(1000, -60_000.0, 700.0), 1000..1000);
        assert_eq!(g.shown(1000, -52_500.0, 700.0).end, 1000);
        // A short list: all of it; none: nothing.
        assert_eq!(g.shown(5, 0.0, 700.0), 0..5);
        assert_eq!(g.shown(0, 0.0, 700.0), 0..0);
        // A view taller than 60 cards' rows still makes at most 60.
        assert_eq!(g.shown(1000, 0.0, 10_000.0), 0..MAX_FOLLOWED);
        // Nothing from the page can make it panic.
        for (top, view) in [(f64::NAN, 700.0), (0.0, f64::INFINITY), (f64::NEG_INFINITY, -1.0)] {
            let r = g.shown(1000, top, view);
            assert!(r.start <= r.end && r.end <= 1000 && r.len() <= MAX_FOLLOWED, "{r:?}");
        }
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
