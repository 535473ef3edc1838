//! What the Drive page's status strip says when the phone is held sideways and the full status
//! bar gives way to the pads: the link in one word, and the one series worth a glance mid-drive
//! (the battery when the device has one, else its first series).

use crate::connection::session::LinkState;

/// The link in one word, for a strip too narrow for the status bar's sentence.
pub fn link_word(state: LinkState, silent: bool) -> &'static str {
    match state {
        LinkState::Connected if silent => "Silent",
        LinkState::Connected => "Connected",
        LinkState::Connecting { attempt: 1, .. } => "Connecting",
        LinkState::Connecting { .. } => "Unreachable",
        LinkState::Reconnecting { .. } => "Reconnecting",
        LinkState::Offline => "Offline",
    }
}

/// The series the strip shows, from `(name, label)` in the device's order: the first whose name
/// or label speaks of a battery (`battery_v`, `vbat`, "Battery"), else the first of all.
pub fn pick<'a>(series: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Option<&'a str> {
    let battery = |s: &str| s.to_ascii_lowercase().contains("bat");
    let mut first = None;
    for (name, label) in series {
        if battery(name) || label.is_some_and(battery) {
            return Some(name);
        }
        first = first.or(Some(name));
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_battery_is_shown_wherever_it_comes_and_however_it_is_named() {
        assert_eq!(pick([("temp_c", None), ("battery_v", None)]), Some("battery_v"));
        assert_eq!(pick([("rssi", None), ("VBAT", None)]), Some("VBAT"));
        assert_eq!(pick([("t", Some("Temperature")), ("v1", Some("Battery"))]), Some("v1"));
        assert_eq!(pick([("a", None), ("bat", None), ("battery", None)]), Some("bat"), "the first battery");
    }

    #[test]
    fn without_a_battery_the_first_series_is_shown() {
        assert_eq!(pick([("temp_c", Some("Temperature")), ("rssi_dbm", None)]), Some("temp_c"));
        assert_eq!(pick([]), None);
    }

    #[test]
    fn the_link_word_never_calls_a_silent_link_connected() {
        assert_eq!(link_word(LinkState::Connected, false), "Connected");
        assert_eq!(link_word(LinkState::Connected, true), "Silent");
        assert_eq!(link_word(LinkState::Connecting { attempt: 1, retry_in_ms: None }, false), "Connecting");
        assert_eq!(
            link_word(LinkState::Connecting { attempt: 3, retry_in_ms: Some(500.0) }, false),
            "Unreachable"
        );
        assert_eq!(
            link_word(LinkState::Reconnecting { attempt: 1, retry_in_ms: None }, false),
            "Reconnecting"
        );
        assert_eq!(link_word(LinkState::Offline, false), "Offline");
    }
}
