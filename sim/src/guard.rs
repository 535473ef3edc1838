//! Who may open the control socket. A device on a LAN is an open door unless shut:
//! - **Origin** (cross-site WebSocket hijacking): a browser page may connect only if it was served
//!   by this device (same scheme, host and port) or its origin is allowed with `--allow-origin`.
//!   Clients without an Origin header are not browsers and are let in.
//! - **Host** (DNS rebinding): the name the client used must be an IP address, `localhost`, or a
//!   name allowed with `--allow-host`; a hostile name that resolves to the device is refused.
//!
//! See docs/SECURITY.md.

use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Extra origins, e.g. `http://192.168.4.1`, exactly as browsers send them.
    pub allow_origins: Vec<String>,
    /// Extra host names, e.g. `car.local`.
    pub allow_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Host(String),
    Origin(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Host(h) => write!(
                f,
                "refused: this device does not answer to the name `{h}` (allow it with --allow-host)"
            ),
            Refusal::Origin(o) => write!(
                f,
                "refused: a page from {o} may not control this device (allow it with --allow-origin {o})"
            ),
        }
    }
}

impl Policy {
    /// Checks a WebSocket upgrade's `Host` and `Origin` headers.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>) -> Result<(), Refusal> {
        let host = host.unwrap_or("").trim();
        if !self.host_allowed(host) {
            return Err(Refusal::Host(host.to_string()));
        }
        let Some(origin) = origin.map(str::trim) else { return Ok(()) };
        let same = ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme).is_some_and(|rest| rest.eq_ignore_ascii_case(host)));
        if same || self.allow_origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Ok(())
        } else {
            Err(Refusal::Origin(origin.to_string()))
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        let name = host_name(host);
        !name.is_empty()
            && (name.eq_ignore_ascii_case("localhost")
                || name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok()
                || self.allow_hosts.iter().any(|h| h.eq_ignore_ascii_case(name)))
    }
}

/// `car.local` from `car.local:8080`, `[::1]` from `[::1]:8080`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map(|(name, _)| name).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_the_device_served_may_connect() {
        let p = Policy::default();
        assert_eq!(p.check(Some("127.0.0.1:8080"), Some("http://127.0.0.1:8080")), Ok(()));
        assert_eq!(p.check(Some("192.168.4.1"), Some("http://192.168.4.1")), Ok(()));
        assert_eq!(p.check(Some("localhost:8080"), Some("http://localhost:8080")), Ok(()));
        assert_eq!(p.check(Some("[::1]:8080"), Some("http://[::1]:8080")), Ok(()));
    }

    #[test]
    fn another_site_may_not() {
        let p = Policy::default();
        let other_port = p.check(Some("127.0.0.1:8080"), Some("http://127.0.0.1:9999"));
        assert_eq!(other_port, Err(Refusal::Origin("http://127.0.0.1:9999".into())));
        assert!(p.check(Some("127.0.0.1:8080"), Some("https://evil.example")).is_err());
        assert!(p.check(Some("127.0.0.1:8080"), Some("null")).is_err());
    }

    #[test]
    fn dns_rebinding_names_are_refused() {
        let p = Policy::default();
        // The attacker's name resolves to the device, so Origin and Host agree: Host catches it.
        let r = p.check(Some("evil.example:8080"), Some("http://evil.example:8080"));
        assert_eq!(r, Err(Refusal::Host("evil.example:8080".into())));
        assert!(p.check(None, None).is_err());
    }

    #[test]
    fn allowlists_open_what_the_owner_chose() {
        let p = Policy {
            allow_origins: vec!["http://127.0.0.1:9999".into()],
            allow_hosts: vec!["car.local".into()],
        };
        assert_eq!(p.check(Some("127.0.0.1:8080"), Some("http://127.0.0.1:9999")), Ok(()));
        assert_eq!(p.check(Some("car.local"), Some("http://car.local")), Ok(()));
        assert!(p.check(Some("truck.local"), Some("http://truck.local")).is_err());
    }

    #[test]
    fn tools_without_origin_are_let_in() {
        assert_eq!(Policy::default().check(Some("127.0.0.1:8080"), None), Ok(()));
    }

    #[test]
    fn the_refusal_says_how_to_allow() {
        let r = Refusal::Origin("http://127.0.0.1:9999".into()).to_string();
        assert!(r.contains("--allow-origin http://127.0.0.1:9999"));
    }
}
