//! Who may open the control socket (docs/SECURITY.md). A device on a LAN is an open door unless
//! shut:
//! - **Origin** (cross-site WebSocket hijacking): a browser page may connect only if this device
//!   served it (same scheme, host and port) or its origin is allowed.
//! - **Host** (DNS rebinding): the name the client used must be an IP address, `localhost` or an
//!   allowed name, so a hostile name that resolves to the device is refused.

use core::net::IpAddr;

/// The allowlists: `&'static [&'static str]` in firmware's config.rs, `Vec<String>` from the
/// simulator's flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy<L> {
    /// Extra origins, e.g. `http://192.168.4.1:8080`, exactly as browsers send them.
    pub allow_origins: L,
    /// Extra host names, e.g. `car.local`.
    pub allow_hosts: L,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The name the client used is not this device's.
    Host,
    /// A page from another origin asked to connect.
    Origin,
}

impl<L> Policy<L> {
    /// Checks a WebSocket upgrade's `Host` and `Origin` headers. Clients without an Origin header
    /// are not browsers and are let in.
    pub fn check<S: AsRef<str>>(&self, host: Option<&str>, origin: Option<&str>) -> Result<(), Refusal>
    where
        L: AsRef<[S]>,
    {
        let host = host.unwrap_or("").trim();
        if !self.host_allowed(host) {
            return Err(Refusal::Host);
        }
        let Some(origin) = origin.map(str::trim) else { return Ok(()) };
        let same = ["http://", "https://"]
            .iter()
            .any(|scheme| origin.strip_prefix(scheme).is_some_and(|rest| rest.eq_ignore_ascii_case(host)));
        if same || self.allow_origins.as_ref().iter().any(|o| o.as_ref().eq_ignore_ascii_case(origin)) {
            Ok(())
        } else {
            Err(Refusal::Origin)
        }
    }

    fn host_allowed<S: AsRef<str>>(&self, host: &str) -> bool
    where
        L: AsRef<[S]>,
    {
        let name = host_name(host);
        !name.is_empty()
            && (name.eq_ignore_ascii_case("localhost")
                || name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok()
                || self.allow_hosts.as_ref().iter().any(|h| h.as_ref().eq_ignore_ascii_case(name)))
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
            serde_json::from_str(include_str!("../../firmware/core/test/shared_cases.json")).unwrap();
        let list = |v: &serde_json::Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().into()).collect()).unwrap_or_default()
        };
        let mut checked = 0;
        for group in cases["handshake"].as_array().unwrap() {
            for case in group["cases"].as_array().unwrap() {
                let policy = Policy {
                    allow_origins: list(&case["allow_origins"]),
                    allow_hosts: list(&case["allow_hosts"]),
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
    fn the_page_the_device_served_may_connect_and_another_site_may_not() {
        let p: Policy<&[&str]> = Policy::default();
        assert_eq!(p.check(Some("[::1]:8080"), Some("http://[::1]:8080")), Ok(()));
        assert_eq!(p.check(Some("127.0.0.1:8080"), Some("http://127.0.0.1:9999")), Err(Refusal::Origin));
        assert_eq!(p.check(Some("evil.example:8080"), Some("http://evil.example:8080")), Err(Refusal::Host));
        assert_eq!(p.check(Some("127.0.0.1:8080"), None), Ok(()), "tools without Origin are let in");
        let named = Policy { allow_origins: &[][..], allow_hosts: &["car.local"][..] };
        assert_eq!(named.check(Some("car.local"), Some("http://car.local")), Ok(()));
    }
}
