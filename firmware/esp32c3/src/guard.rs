//! Who may open the control socket: the simulator's rule (sim/src/guard.rs, docs/SECURITY.md),
//! without `std`. A browser page may connect only if this device served it or its origin is
//! allowed; the Host a client used must be an IP address, `localhost` or an allowed name, so a
//! hostile name that resolves to the device (DNS rebinding) is refused.

use core::net::IpAddr;

/// The allowlists, set in config.rs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// Extra origins, e.g. `http://192.168.4.1:8080`, exactly as browsers send them.
    pub allow_origins: &'static [&'static str],
    /// Extra host names, e.g. `car.local`.
    pub allow_hosts: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Host,
    Origin,
}

impl Refusal {
    /// The body of the 403 answer: what was refused and where to allow it.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Host => "refused: this device does not answer to that name (add it to ALLOW_HOSTS in config.rs)\n",
            Refusal::Origin => {
                "refused: a page from that origin may not control this device (add it to ALLOW_ORIGINS in config.rs)\n"
            }
        }
    }
}

impl Policy {
    /// Checks a WebSocket upgrade's `Host` and `Origin` headers.
    pub fn check(&self, host: Option<&str>, origin: Option<&str>) -> Result<(), Refusal> {
        let host = host.unwrap_or("").trim();
        if !self.host_allowed(host) {
            return Err(Refusal::Host);
        }
        let Some(origin) = origin.map(str::trim) else { return Ok(()) };
        let same = ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme).is_some_and(|rest| rest.eq_ignore_ascii_case(host)));
        if same || self.allow_origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            Ok(())
        } else {
            Err(Refusal::Origin)
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
    use std::string::String;
    use std::vec::Vec;

    /// The handshake table the simulator and the C++ core pass too.
    #[test]
    fn the_shared_handshake_cases_pass() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../core/test/shared_cases.json")).unwrap();
        let leak = |v: &serde_json::Value| -> &'static [&'static str] {
            let list: Vec<&'static str> = v
                .as_array()
                .map(|a| a.iter().map(|s| &*String::from(s.as_str().unwrap()).leak()).collect())
                .unwrap_or_default();
            list.leak()
        };
        let mut checked = 0;
        for group in cases["handshake"].as_array().unwrap() {
            for case in group["cases"].as_array().unwrap() {
                let policy = Policy {
                    allow_origins: leak(&case["allow_origins"]),
                    allow_hosts: leak(&case["allow_hosts"]),
                };
                let got = match policy.check(case["host"].as_str(), case["origin"].as_str()) {
                    Ok(()) => "ok",
                    Err(Refusal::Host) => "bad_host",
                    Err(Refusal::Origin) => "bad_origin",
                };
                assert_eq!(got, case["expect"], "{}: {case}", group["name"]);
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked} cases");
    }

    #[test]
    fn the_refusal_says_where_to_allow() {
        assert!(Refusal::Origin.message().contains("ALLOW_ORIGINS"));
        assert!(Refusal::Host.message().contains("ALLOW_HOSTS"));
    }
}
