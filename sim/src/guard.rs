//! Who may open the control socket: the device core's rule ([`wsdeck_device::guard`],
//! docs/SECURITY.md) with the allowlists from `--allow-origin` and `--allow-host`, and the 403
//! body that says what was refused and how to allow it.

use wsdeck_device::guard::Refusal;

/// The allowlists, from the flags.
pub type Policy = wsdeck_device::guard::Policy<Vec<String>>;

/// Checks a WebSocket upgrade's `Host` and `Origin` headers; the refusal says how to allow it.
pub fn check(policy: &Policy, host: Option<&str>, origin: Option<&str>) -> Result<(), String> {
    policy.check(host, origin).map_err(|refusal| match refusal {
        Refusal::Host => format!(
            "refused: this device does not answer to the name `{}` (allow it with --allow-host)",
            host.unwrap_or("").trim()
        ),
        Refusal::Origin => {
            let o = origin.unwrap_or("").trim();
            format!("refused: a page from {o} may not control this device (allow it with --allow-origin {o})")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_the_device_served_may_connect() {
        let p = Policy::default();
        assert_eq!(check(&p, Some("127.0.0.1:8080"), Some("http://127.0.0.1:8080")), Ok(()));
        assert_eq!(check(&p, Some("localhost:8080"), Some("http://localhost:8080")), Ok(()));
    }

    #[test]
    fn the_refusal_says_how_to_allow() {
        let p = Policy::default();
        let origin = check(&p, Some("127.0.0.1:8080"), Some("http://127.0.0.1:9999")).unwrap_err();
        assert!(origin.contains("--allow-origin http://127.0.0.1:9999"), "{origin}");
        let host = check(&p, Some("evil.example:8080"), Some("http://evil.example:8080")).unwrap_err();
        assert!(host.contains("`evil.example:8080`") && host.contains("--allow-host"), "{host}");
    }

    #[test]
    fn allowlists_open_what_the_owner_chose() {
        let p = Policy {
            allow_origins: vec!["http://127.0.0.1:9999".into()],
            allow_hosts: vec!["car.local".into()],
        };
        assert_eq!(check(&p, Some("127.0.0.1:8080"), Some("http://127.0.0.1:9999")), Ok(()));
        assert_eq!(check(&p, Some("car.local"), Some("http://car.local")), Ok(()));
        assert!(check(&p, Some("truck.local"), Some("http://truck.local")).is_err());
    }
}
