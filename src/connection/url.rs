//! Which WebSocket address to use: `?ws=` in the page address, else the one saved in Settings,
//! else `/ws` on the host that served the page.

use std::fmt;

/// Where a phone connected to an ESP32's own access point finds it; used when the page has no
/// host (opened from a file).
pub const SOFTAP_DEFAULT: &str = "ws://192.168.4.1/ws";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Query,
    Saved,
    PageHost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    Empty,
    Scheme(String),
    NoHost,
    Spaces,
    /// Browsers refuse `ws://` from an `https://` page.
    MixedContent,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Empty => f.write_str("enter the device's address, e.g. 192.168.4.1"),
            UrlError::Scheme(s) => write!(f, "`{s}` is not a WebSocket address: use ws:// or wss://"),
            UrlError::NoHost => f.write_str("the address has no host name or IP"),
            UrlError::Spaces => f.write_str("the address cannot contain spaces"),
            UrlError::MixedContent => {
                f.write_str("this page was loaded over https, so the browser only allows wss:// addresses")
            }
        }
    }
}

/// `ws://<host>/ws` for a page served over http, `wss://` over https.
pub fn default_url(page_protocol: &str, page_host: &str) -> String {
    if page_host.is_empty() {
        return SOFTAP_DEFAULT.to_string();
    }
    let scheme = if page_protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{page_host}/ws")
}

/// Turns what a person typed (`192.168.4.1`, `car.local:81`, `http://x/ws`) into a WebSocket URL.
pub fn normalize(input: &str, page_secure: bool) -> Result<String, UrlError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(UrlError::Empty);
    }
    if input.contains(char::is_whitespace) {
        return Err(UrlError::Spaces);
    }
    let (scheme, rest) = match input.split_once("://") {
        Some((s, rest)) => {
            let scheme = match s.to_ascii_lowercase().as_str() {
                "ws" | "http" => "ws",
                "wss" | "https" => "wss",
                _ => return Err(UrlError::Scheme(s.to_string())),
            };
            (scheme, rest)
        }
        None => (if page_secure { "wss" } else { "ws" }, input),
    };
    if page_secure && scheme == "ws" {
        return Err(UrlError::MixedContent);
    }
    let (host, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() || host.starts_with(':') {
        return Err(UrlError::NoHost);
    }
    let path = if path.is_empty() || path == "/" { "/ws" } else { path };
    Ok(format!("{scheme}://{host}{path}"))
}

/// Picks the address to connect to. An unusable `?ws=` or saved value is skipped.
pub fn resolve(
    query: Option<&str>,
    saved: Option<&str>,
    page_protocol: &str,
    page_host: &str,
) -> (String, Source) {
    let secure = page_protocol == "https:";
    if let Some(url) = query.and_then(|q| normalize(q, secure).ok()) {
        return (url, Source::Query);
    }
    if let Some(url) = saved.and_then(|s| normalize(s, secure).ok()) {
        return (url, Source::Saved);
    }
    (default_url(page_protocol, page_host), Source::PageHost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_follows_the_page() {
        assert_eq!(default_url("http:", "192.168.4.1"), "ws://192.168.4.1/ws");
        assert_eq!(default_url("http:", "127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
        assert_eq!(default_url("https:", "car.example"), "wss://car.example/ws");
        assert_eq!(default_url("file:", ""), SOFTAP_DEFAULT);
    }

    #[test]
    fn typed_addresses_are_completed() {
        assert_eq!(normalize(" 192.168.4.1 ", false).unwrap(), "ws://192.168.4.1/ws");
        assert_eq!(normalize("car.local:81", false).unwrap(), "ws://car.local:81/ws");
        assert_eq!(normalize("http://car.local/", false).unwrap(), "ws://car.local/ws");
        assert_eq!(normalize("ws://10.0.0.5:81/socket", false).unwrap(), "ws://10.0.0.5:81/socket");
        assert_eq!(normalize("HTTPS://x.y/ws?k=1", true).unwrap(), "wss://x.y/ws?k=1");
        assert_eq!(normalize("x.y", true).unwrap(), "wss://x.y/ws");
    }

    #[test]
    fn bad_addresses_say_why() {
        assert_eq!(normalize("  ", false), Err(UrlError::Empty));
        assert_eq!(normalize("ftp://x", false), Err(UrlError::Scheme("ftp".into())));
        assert_eq!(normalize("ws:///ws", false), Err(UrlError::NoHost));
        assert_eq!(normalize(":81", false), Err(UrlError::NoHost));
        assert_eq!(normalize("my car", false), Err(UrlError::Spaces));
        assert_eq!(normalize("ws://x", true), Err(UrlError::MixedContent));
        assert!(UrlError::MixedContent.to_string().contains("wss://"));
    }

    #[test]
    fn query_beats_saved_beats_page() {
        let r = resolve(Some("127.0.0.1:9"), Some("10.1.1.1"), "http:", "h:1");
        assert_eq!(r, ("ws://127.0.0.1:9/ws".into(), Source::Query));
        let r = resolve(None, Some("10.1.1.1"), "http:", "h:1");
        assert_eq!(r, ("ws://10.1.1.1/ws".into(), Source::Saved));
        let r = resolve(Some("ftp://bad"), None, "http:", "h:1");
        assert_eq!(r, ("ws://h:1/ws".into(), Source::PageHost));
    }
}
