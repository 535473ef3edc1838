//! The firmware's half of the device's rules: what config.rs sets ([`Setup`]), turned into the
//! device core's [`Settings`] with this car's series and limits. The rules themselves are the
//! shared core's (wsdeck-device, device/ at the repository root), the same crate the simulator
//! runs for every decision, so the e2e tests against the simulator exercise them.

use alloc::string::String;
use alloc::vec::Vec;
use wsdeck_device::controls::Panel;
use wsdeck_device::guard::Refusal;
use wsdeck_device::Settings;
use wsdeck_protocol::{Control, ControlKind, CtlValue, PairingMode, SeriesMeta};

/// WebSocket clients at once (one web task each); the next one is closed with 1013.
pub const MAX_CLIENTS: usize = 4;
/// Addresses whose wrong pairing tokens are remembered one by one; the rest share one wait.
pub const ADDRESSES_KEPT: usize = 16;

/// How the device describes its series in hello: name, label, unit, range, group.
const SERIES: [(&str, &str, &str, f64, f64, &str); 3] = [
    ("battery_v", "Battery", "V", 6.4, 8.4, "power"),
    ("rssi_dbm", "WiFi signal", "dBm", -90.0, -30.0, "link"),
    ("temp_c", "Chip temperature", "°C", 20.0, 80.0, "env"),
];

/// What a builder sets in config.rs.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Shown in the app's status bar.
    pub name: &'static str,
    /// The wheels stop when no drive frame came for this long.
    pub watchdog_ms: u32,
    /// The pairing token; `None` lets anyone on the WiFi drive.
    pub token: Option<&'static str>,
    /// With a token: whether connections without it may watch.
    pub pairing: PairingMode,
    /// Messages per second per client; 0 for no cap.
    pub max_msg_rate: u32,
}

impl Setup {
    /// The device core's settings for this car.
    pub fn settings(&self) -> Settings {
        Settings {
            name: self.name.into(),
            watchdog_ms: self.watchdog_ms,
            token: self.token.map(String::from),
            pairing: self.pairing,
            max_msg_rate: self.max_msg_rate,
            max_clients: MAX_CLIENTS,
            addresses_kept: ADDRESSES_KEPT,
            series: series(),
            controls: controls(),
        }
    }
}

fn series() -> Vec<(String, SeriesMeta)> {
    SERIES
        .iter()
        .map(|&(name, label, unit, min, max, group)| {
            let meta = SeriesMeta {
                label: Some(label.into()),
                unit: Some(unit.into()),
                min: Some(min),
                max: Some(max),
                group: Some(group.into()),
            };
            (name.into(), meta)
        })
        .collect()
}

/// The car's switches, shown in the app (and beside the pad on the Drive page): the headlights
/// and the horn, each on a pin of config.rs. The horn is a button: it sounds while held, and the
/// core lets go of it when the phone holding it leaves.
fn controls() -> Vec<Control> {
    let mut lights = Control::new("lights", ControlKind::Toggle);
    lights.label = "Headlights".into();
    let mut horn = Control::new("horn", ControlKind::Button);
    horn.label = "Horn".into();
    [lights, horn]
        .into_iter()
        .map(|mut c| {
            c.group = Some("Car".into());
            c.drive = true;
            c
        })
        .collect()
}

/// The levels of the lights' and the horn's pins for what the device holds (high = on).
pub fn switches(panel: &Panel) -> (bool, bool) {
    let on = |id| panel.value(id) == Some(&CtlValue::Bool(true));
    (on("lights"), on("horn"))
}

/// The body of the 403 answer: what was refused and where to allow it.
pub fn refusal_message(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::Host => {
            "refused: this device does not answer to that name (add it to ALLOW_HOSTS in config.rs)\n"
        }
        Refusal::Origin => {
            "refused: a page from that origin may not control this device (add it to ALLOW_ORIGINS in config.rs)\n"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};
    use wsdeck_device::{Action, Device};

    const SETUP: Setup = Setup {
        name: "Test Car",
        watchdog_ms: 300,
        token: None,
        pairing: PairingMode::Required,
        max_msg_rate: 200,
    };

    #[test]
    fn hello_names_the_car_and_its_three_series() {
        let mut d = Device::new(SETUP.settings());
        let (slot, _) = d.open(IpAddr::V4(Ipv4Addr::new(192, 168, 4, 2)), 0).unwrap();
        let Action::Send(_, hello) = &d.greeting(slot)[0] else { panic!() };
        assert!(
            hello.starts_with(
                r#"{"t":"hello","v":1,"name":"Test Car","caps":["telemetry","drive"],"watchdog_ms":300,"series":{"battery_v":"#
            ),
            "{hello}"
        );
        assert!(hello.contains(r#""temp_c":{"label":"Chip temperature""#), "{hello}");
        assert!(!hello.contains("pairing"), "no token, no pairing");
    }

    #[test]
    fn places_are_as_many_as_the_web_tasks() {
        let mut d = Device::new(SETUP.settings());
        let home = IpAddr::V4(Ipv4Addr::new(192, 168, 4, 2));
        assert!((0..MAX_CLIENTS).all(|_| d.open(home, 0).is_ok()));
        assert!(d.open(home, 0).is_err());
    }

    #[test]
    fn the_lights_and_horn_follow_the_phones_and_the_horn_stops_when_its_phone_leaves() {
        let mut d = Device::new(SETUP.settings());
        let home = IpAddr::V4(Ipv4Addr::new(192, 168, 4, 2));
        let (slot, _) = d.open(home, 0).unwrap();
        assert_eq!(switches(d.panel()), (false, false));
        d.frame(slot, r#"{"t":"ctl","id":"lights","v":true,"seq":1}"#, 0);
        let out = d.frame(slot, r#"{"t":"ctl","id":"horn","v":true,"seq":2}"#, 0);
        assert!(out.contains(&Action::Control(1)), "{out:?}");
        assert_eq!(switches(d.panel()), (true, true));
        d.close(slot, 10);
        assert_eq!(switches(d.panel()), (true, false), "the lights stay, the horn stops");
    }

    #[test]
    fn the_refusal_says_where_to_allow() {
        assert!(refusal_message(Refusal::Origin).contains("ALLOW_ORIGINS"));
        assert!(refusal_message(Refusal::Host).contains("ALLOW_HOSTS"));
    }
}
