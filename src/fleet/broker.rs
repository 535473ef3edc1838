//! The broker this phone uses for fleet mode: its address and login as Settings saves them (in
//! localStorage, like every setting; the password too, in plain text: docs/SECURITY.md), and the
//! phone's own MQTT client id, which names it in every device's lease.

use super::mqtt::Login;
use crate::dom;

const URL_KEY: &str = "wsdeck.broker.url";
const USER_KEY: &str = "wsdeck.broker.user";
const PASSWORD_KEY: &str = "wsdeck.broker.password";
const CLIENT_ID_KEY: &str = "wsdeck.broker.client_id";

/// What Settings keeps about the broker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Broker {
    /// `ws://host:9001/mqtt`; empty when none is set.
    pub url: String,
    pub username: String,
    pub password: String,
}

impl Broker {
    pub fn load() -> Broker {
        let get = |k| dom::storage_get(k).unwrap_or_default();
        Broker { url: get(URL_KEY), username: get(USER_KEY), password: get(PASSWORD_KEY) }
    }

    pub fn save(&self) {
        let set = |k, v: &str| dom::storage_set(k, Some(v).filter(|v| !v.is_empty()));
        set(URL_KEY, &self.url);
        set(USER_KEY, &self.username);
        set(PASSWORD_KEY, &self.password);
    }

    /// How this phone logs in, with its client id.
    pub fn login(&self) -> Login {
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        Login { client_id: client_id(), username: some(&self.username), password: some(&self.password) }
    }
}

/// `ws://host:9001/mqtt` from what a person typed (`host:9001`, `ws://host:9001`, `wss://…`).
pub fn normalize(input: &str) -> Result<String, &'static str> {
    let s = input.trim();
    if s.is_empty() {
        return Err("Type the broker's address, e.g. ws://192.168.1.10:9001/mqtt");
    }
    if s.contains(['#', ' ']) {
        return Err("A broker address has no spaces and no #");
    }
    let with_scheme = if s.starts_with("ws://") || s.starts_with("wss://") {
        s.to_string()
    } else if s.contains("://") {
        return Err("The broker's address starts with ws:// or wss:// (MQTT over WebSocket)");
    } else {
        format!("ws://{s}")
    };
    let after = with_scheme.split_once("://").map(|(_, r)| r).unwrap_or_default();
    Ok(if after.contains('/') { with_scheme } else { format!("{with_scheme}/mqtt") })
}

/// `wsdeck-` and 8 hex digits, made once per phone and kept: two phones never share a place in a
/// device's lease, and one phone keeps its place across reloads.
pub fn client_id() -> String {
    if let Some(id) = dom::storage_get(CLIENT_ID_KEY).filter(|id| valid_client_id(id)) {
        return id;
    }
    let id = make_client_id(dom::random());
    dom::storage_set(CLIENT_ID_KEY, Some(&id));
    id
}

pub fn make_client_id(rand01: f64) -> String {
    format!("wsdeck-{:08x}", (rand01.clamp(0.0, 1.0) * f64::from(u32::MAX)) as u32)
}

fn valid_client_id(id: &str) -> bool {
    id.len() == 15 && id.starts_with("wsdeck-") && id[7..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_completed_to_mqtt_over_websocket() {
        assert_eq!(normalize("127.0.0.1:9001").unwrap(), "ws://127.0.0.1:9001/mqtt");
        assert_eq!(normalize(" ws://h:9001 ").unwrap(), "ws://h:9001/mqtt");
        assert_eq!(normalize("wss://broker.example/mqtt").unwrap(), "wss://broker.example/mqtt");
        assert!(normalize("").is_err());
        assert!(normalize("http://h:9001").is_err());
        assert!(normalize("ws://h/mqtt#x").is_err());
    }

    #[test]
    fn client_ids_are_wsdeck_and_eight_hex_digits() {
        assert_eq!(make_client_id(0.0), "wsdeck-00000000");
        assert_eq!(make_client_id(1.0), "wsdeck-ffffffff");
        assert!(valid_client_id(&make_client_id(0.37)));
        assert!(!valid_client_id("wsdeck-xyz"));
    }
}
