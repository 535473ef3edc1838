//! One simulated device of a fleet on an MQTT broker (`--mqtt HOST:PORT --fleet N`), as plain
//! logic: its device core, its car and sensors, the apps it has heard from on its `down` topics,
//! and what each call publishes. The topics and QoS are docs/PROTOCOL.md "Over MQTT"; the
//! connections are [`fleet_mqtt`](crate::fleet_mqtt). Time comes in as `now_ms`.

use crate::car::Car;
use crate::config::Config;
use crate::model::Model;
use crate::telemetry;
use std::net::{IpAddr, Ipv4Addr};
use wsdeck_device::{Action, Device, Slot};
use wsdeck_protocol::{DeviceMsg, DriveState};

/// Who drives, whether it is armed and why it stopped: when this changes, `up` is told.
type Summary = (Option<u32>, bool, Option<wsdeck_device::motion::Failsafe>);

/// An app silent this long on `down` is forgotten, as a silent WebSocket is closed (the app pings
/// every second): if it drove, the car stops (`driver_left`) and its place is free again.
pub const APP_SILENT_MS: u64 = 10_000;
/// The log line about the battery, every this many ms.
const BATTERY_REPORT_MS: u64 = 30_000;

/// MQTT's delivery guarantees, as this module needs them (the connection maps them to the client's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    /// At most once: drive, stop, ping, pong, telemetry, log. A late one is worse than a lost one.
    AtMostOnce,
    /// At least once: hello, status, state, controls. Each says what holds now, so a repeat is harmless.
    AtLeastOnce,
}

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub topic: String,
    pub payload: String,
    pub qos: Qos,
    /// Kept by the broker for whoever subscribes later (hello, status).
    pub retain: bool,
}

/// The topics of device `id` (docs/PROTOCOL.md "Over MQTT").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `wsdeck/<id>/up`: frames for every app.
    pub up: String,
    /// `wsdeck/<id>/status`: `online`, retained; the last will says `offline`.
    pub status: String,
    /// `wsdeck/<id>/hello`: the hello again, retained, for a Fleet page that lists names without
    /// following every device's `up`.
    pub hello: String,
    /// `wsdeck/<id>/down/+`: what the device subscribes to; the last level names the app.
    pub down: String,
}

pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";

impl Topics {
    pub fn new(id: &str) -> Topics {
        Topics {
            up: format!("wsdeck/{id}/up"),
            status: format!("wsdeck/{id}/status"),
            hello: format!("wsdeck/{id}/hello"),
            down: format!("wsdeck/{id}/down/+"),
        }
    }

    /// `wsdeck/<id>/up/<app>`: frames for one app.
    pub fn up_to(&self, app: &str) -> String {
        format!("{}/{app}", self.up)
    }

    /// The app that published on `topic`, if it is one of this device's `down` topics.
    pub fn app_of<'a>(&self, topic: &'a str) -> Option<&'a str> {
        let app = topic.strip_prefix(self.down.strip_suffix('+')?)?;
        (!app.is_empty() && !app.contains(['/', '+', '#'])).then_some(app)
    }
}

pub use crate::fleet_broker::device_id;

/// An app the device heard from: its MQTT client id (the last level of its `down` topic), and
/// its place in the device core.
struct App {
    name: String,
    slot: Slot,
    last_heard_ms: u64,
}

pub struct Unit {
    pub id: String,
    pub topics: Topics,
    config: Config,
    core: Device,
    car: Car,
    model: Model,
    apps: Vec<App>,
    produced: u64,
    next_report_ms: u64,
}

/// Every app a core client stands for gets the same address: the broker hides where apps are.
const VIA_BROKER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

impl Unit {
    /// Device `n` of the fleet (from 1), by the flags: named `<--name> NN`, its own sensor noise.
    pub fn new(config: &Config, n: usize) -> Unit {
        let mut config = config.clone();
        config.name = format!("{} {n:02}", config.name);
        config.seed = config.seed.wrapping_add(n as u64);
        let mut settings = crate::device::settings(&config);
        // Apps on the broker, not sockets on the chip, take the core's places.
        settings.max_clients = settings.max_clients.min(64);
        let mut core = Device::new(settings);
        let mut car = Car::default();
        let (_, values) = config.controls().declare();
        for action in core.set_control(&values, 0) {
            if let Action::Control(i) = action {
                apply(&core, i, &mut car);
            }
        }
        let id = device_id(n);
        Unit {
            topics: Topics::new(&id),
            id,
            model: Model::new(config.seed),
            config,
            core,
            car,
            apps: Vec::new(),
            produced: 0,
            next_report_ms: BATTERY_REPORT_MS,
        }
    }

    /// What the device publishes on each (re)connection: hello (on `up` and on `hello`) and
    /// `online`, all retained, and who drives.
    pub fn connected(&self) -> Vec<Publish> {
        let retained = |topic: &str, payload: String| Publish {
            topic: topic.to_string(),
            payload,
            qos: Qos::AtLeastOnce,
            retain: true,
        };
        let hello = self.core.hello().encode();
        vec![
            retained(&self.topics.up, hello.clone()),
            retained(&self.topics.hello, hello),
            retained(&self.topics.status, ONLINE.into()),
            self.shared_state(),
        ]
    }

    /// A frame from the app that published on `topic`, at `now_ms`. A frame from an app not
    /// heard before first gives it a place in the core (refused when every place is taken).
    pub fn down(&mut self, topic: &str, text: &str, now_ms: u64) -> Vec<Publish> {
        let Some(name) = self.topics.app_of(topic) else { return Vec::new() };
        let mut out = Vec::new();
        let slot = match self.apps.iter_mut().find(|a| a.name == name) {
            Some(app) => {
                app.last_heard_ms = now_ms;
                app.slot
            }
            None => {
                let Ok((slot, _)) = self.core.open(VIA_BROKER, now_ms) else { return Vec::new() };
                self.apps.push(App { name: name.to_string(), slot, last_heard_ms: now_ms });
                // Hello is retained on `up`: the app has it already.
                let greeting = self.core.greeting(slot).into_iter().skip(1).collect();
                out.extend(self.route(greeting, self.core.motion().summary()));
                slot
            }
        };
        let before = self.core.motion().summary();
        let mut actions = self.core.frame(slot, text, now_ms);
        if actions.iter().any(|a| matches!(a, Action::Close(s, ..) if *s == slot)) {
            // Over the rate cap for seconds on end: it loses its place, and the lease if it held
            // it, as its socket would be closed.
            actions.extend(self.forget(slot, now_ms));
        }
        out.extend(self.route(actions, before));
        out
    }

    /// The watchdog's clock, apps gone silent, then the car's physics for `dt_s` seconds.
    pub fn tick(&mut self, now_ms: u64, dt_s: f64) -> Vec<Publish> {
        let before = self.core.motion().summary();
        let mut actions = self.core.tick(now_ms);
        let silent: Vec<Slot> = self
            .apps
            .iter()
            .filter(|a| now_ms.saturating_sub(a.last_heard_ms) >= APP_SILENT_MS)
            .map(|a| a.slot)
            .collect();
        for slot in silent {
            actions.extend(self.forget(slot, now_ms));
        }
        let out = self.route(actions, before);
        self.car.step(dt_s);
        out
    }

    /// The app in `slot` is gone: the core closes its place (the car stops if it drove).
    fn forget(&mut self, slot: Slot, now_ms: u64) -> Vec<Action> {
        self.apps.retain(|a| a.slot != slot);
        self.core.close(slot, now_ms)
    }

    /// One telemetry frame on `up` (and the battery's log line now and then).
    pub fn telemetry(&mut self, now_ms: u64) -> Vec<Publish> {
        let readings = telemetry::readings(self.model.sample(now_ms), &self.car);
        let Some(frame) = telemetry::frame(&self.config, self.produced, now_ms, &readings) else {
            return Vec::new();
        };
        self.produced += 1;
        let mut out = vec![self.publish(&self.topics.up, frame)];
        if now_ms >= self.next_report_ms {
            self.next_report_ms = now_ms + BATTERY_REPORT_MS;
            if let Some(log) = telemetry::battery_log(&self.config, readings[0].1) {
                out.push(self.publish(&self.topics.up, log));
            }
        }
        out
    }

    /// The car, to read.
    pub fn car(&self) -> &Car {
        &self.car
    }

    /// The device core, to read.
    pub fn core(&self) -> &Device {
        &self.core
    }

    /// The apps it keeps a place for, by name.
    pub fn apps(&self) -> impl Iterator<Item = &str> {
        self.apps.iter().map(|a| a.name.as_str())
    }

    /// `payload` on `topic` at the QoS its kind of frame travels at.
    fn publish(&self, topic: &str, payload: String) -> Publish {
        Publish { topic: topic.to_string(), qos: qos_of(&payload), payload, retain: false }
    }

    /// Who drives as an app that sent nothing sees it (`you` null), on `up`.
    fn shared_state(&self) -> Publish {
        let state = DriveState { you: None, ..self.core.motion().state_for(0) };
        self.publish(&self.topics.up, DeviceMsg::State(state).encode())
    }

    /// Carries out the core's actions: the car takes the wheel commands; a frame the core sends to
    /// every app goes once on `up`, one for a single app on its `up/<app>`; each app's view of who
    /// drives (`you` set) goes to it, and when who drives changed since `before`, the view of an
    /// app that sent nothing goes on `up`.
    fn route(&mut self, actions: Vec<Action>, before: Summary) -> Vec<Publish> {
        let m = self.core.motion();
        self.car.command(m.left, m.right);
        let everyone: Vec<Slot> = self.core.watchers().map(|(slot, _)| slot).collect();
        let mut out: Vec<Publish> = Vec::new();
        let mut shared: Vec<&String> = Vec::new();
        for action in &actions {
            match action {
                Action::Send(_, text) if shared.contains(&text) => {}
                Action::Send(slot, text) => {
                    let to_all = everyone.len() > 1
                        && !one_app_only(text)
                        && everyone.iter().all(|s| actions.contains(&Action::Send(*s, text.clone())));
                    if to_all {
                        shared.push(text);
                        out.push(self.publish(&self.topics.up, text.clone()));
                    } else if let Some(app) = self.name_of(*slot) {
                        out.push(self.publish(&self.topics.up_to(app), text.clone()));
                    }
                }
                Action::State(slot) => {
                    if let Some(app) = self.name_of(*slot) {
                        out.push(self.publish(&self.topics.up_to(app), self.core.state_frame(*slot)));
                    }
                }
                Action::Halted(halt) => self.car.record(halt),
                Action::Control(i) => apply(&self.core, *i, &mut self.car),
                // No socket to close: the app was forgotten (`down`).
                Action::Close(..) => {}
            }
        }
        if self.core.motion().summary() != before {
            out.push(self.shared_state());
        }
        out
    }

    fn name_of(&self, slot: Slot) -> Option<&str> {
        self.apps.iter().find(|a| a.slot == slot).map(|a| a.name.as_str())
    }
}

/// An answer meant for its asker alone, even when it is the only app.
fn one_app_only(text: &str) -> bool {
    matches!(DeviceMsg::decode(text), Ok(DeviceMsg::Pong { .. } | DeviceMsg::Auth { .. }))
}

/// The QoS a frame travels at (docs/PROTOCOL.md "Over MQTT"): what says how things are now
/// (hello, state, control values) at least once; streams and answers at most once.
fn qos_of(text: &str) -> Qos {
    match DeviceMsg::decode(text) {
        Ok(DeviceMsg::Hello(_) | DeviceMsg::State(_) | DeviceMsg::Ctl(..)) => Qos::AtLeastOnce,
        _ => Qos::AtMostOnce,
    }
}

/// What the control at `index` now holds does to the car.
fn apply(core: &Device, index: usize, car: &mut Car) {
    if let Some((control, value, _)) = core.panel().get(index) {
        crate::controls::apply(car, &control.id, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit() -> Unit {
        let config = Config::parse(["--watchdog-ms", "300"].map(String::from)).unwrap().unwrap();
        Unit::new(&config, 3)
    }

    const DRIVE: &str = r#"{"t":"drive","seq":1,"x":0,"y":0,"l":500,"r":500}"#;

    fn on<'a>(out: &'a [Publish], topic: &str) -> Vec<&'a str> {
        out.iter().filter(|p| p.topic == topic).map(|p| p.payload.as_str()).collect()
    }

    #[test]
    fn on_connect_hello_on_up_and_on_hello_and_online_are_retained() {
        let u = unit();
        assert_eq!(u.id, "sim-03");
        let out = u.connected();
        let hello = &out[0];
        assert_eq!(
            (hello.topic.as_str(), hello.retain, hello.qos),
            ("wsdeck/sim-03/up", true, Qos::AtLeastOnce)
        );
        assert!(hello.payload.contains(r#""name":"wsdeck sim 03""#), "{}", hello.payload);
        assert_eq!(
            (out[1].topic.as_str(), out[1].payload.as_str(), out[1].retain, out[1].qos),
            ("wsdeck/sim-03/hello", hello.payload.as_str(), true, Qos::AtLeastOnce)
        );
        assert_eq!(
            (out[2].topic.as_str(), out[2].payload.as_str(), out[2].retain),
            ("wsdeck/sim-03/status", ONLINE, true)
        );
    }

    #[test]
    fn a_drive_from_an_app_moves_the_car_and_the_watchdog_stops_it() {
        let mut u = unit();
        let out = u.down("wsdeck/sim-03/down/phone-a", DRIVE, 1000);
        assert!(u.car().moving());
        let shared = on(&out, "wsdeck/sim-03/up");
        assert!(
            shared.iter().any(|s| s.contains(r#""armed":true"#) && s.contains(r#""you":null"#)),
            "{out:?}"
        );
        let own = on(&out, "wsdeck/sim-03/up/phone-a");
        assert!(own.iter().any(|s| s.contains(r#""t":"state""#) && !s.contains(r#""you":null"#)), "{out:?}");
        assert!(u.tick(1200, 0.2).is_empty(), "within the watchdog nothing changes");
        let out = u.tick(1301, 0.1);
        assert!(!u.car().moving());
        assert!(
            on(&out, "wsdeck/sim-03/up").iter().any(|s| s.contains(r#""failsafe":"watchdog""#)),
            "{out:?}"
        );
    }

    #[test]
    fn a_stop_stops_it_and_another_app_sees_who_drives() {
        let mut u = unit();
        u.down("wsdeck/sim-03/down/phone-b", r#"{"t":"ping","id":1}"#, 0);
        u.down("wsdeck/sim-03/down/phone-a", DRIVE, 10);
        let out = u.down("wsdeck/sim-03/down/phone-a", r#"{"t":"stop","seq":2}"#, 20);
        assert!(!u.car().moving());
        assert_eq!(u.car().stops.back().map(|s| s.reason.as_str()), Some("stop from client #2"));
        assert!(
            on(&out, "wsdeck/sim-03/up/phone-b").iter().any(|s| s.contains(r#""armed":false"#)),
            "{out:?}"
        );
    }

    #[test]
    fn a_pong_goes_to_its_asker_only_and_telemetry_to_everyone_at_most_once() {
        let mut u = unit();
        let out = u.down("wsdeck/sim-03/down/phone-a", r#"{"t":"ping","id":7}"#, 0);
        let pong = out.iter().find(|p| p.payload.contains("pong")).unwrap();
        assert_eq!((pong.topic.as_str(), pong.qos), ("wsdeck/sim-03/up/phone-a", Qos::AtMostOnce));
        let tel = u.telemetry(50);
        assert_eq!(
            (tel[0].topic.as_str(), tel[0].qos, tel[0].retain),
            ("wsdeck/sim-03/up", Qos::AtMostOnce, false)
        );
        assert!(tel[0].payload.starts_with(r#"{"t":"tel""#));
    }

    #[test]
    fn frames_on_other_topics_are_not_taken() {
        let mut u = unit();
        for topic in [
            "wsdeck/sim-04/down/phone-a",
            "wsdeck/sim-03/down/",
            "wsdeck/sim-03/up",
            "wsdeck/sim-03/down/a/b",
        ] {
            assert!(u.down(topic, DRIVE, 0).is_empty(), "{topic}");
        }
        assert!(!u.car().moving());
        assert_eq!(u.apps().count(), 0);
    }

    #[test]
    fn an_app_over_the_rate_cap_for_seconds_on_end_loses_its_place_and_the_lease() {
        let mut u = unit();
        u.down("wsdeck/sim-03/down/flood", DRIVE, 0);
        assert_eq!(u.core().motion().driver, Some(1));
        let ping = r#"{"t":"ping","id":1}"#;
        let mut t = 0;
        while u.apps().count() == 1 && t < 10_000 {
            t += 1;
            u.down("wsdeck/sim-03/down/flood", ping, t);
        }
        assert!((5_000..6_000).contains(&t), "forgotten after {t} ms at 1000 frames a second");
        assert_eq!(u.core().motion().driver, None);
        assert!(!u.car().moving());
    }

    #[test]
    fn an_app_silent_for_ten_seconds_is_forgotten_and_its_lease_ends() {
        let mut u = unit();
        u.down("wsdeck/sim-03/down/phone-a", DRIVE, 0);
        u.tick(APP_SILENT_MS - 1, 0.0);
        assert_eq!(u.apps().collect::<Vec<_>>(), ["phone-a"]);
        u.tick(APP_SILENT_MS, 0.0);
        assert_eq!(u.apps().count(), 0);
        assert_eq!(u.core().motion().driver, None);
    }
}
