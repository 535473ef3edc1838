//! Why a WebSocket did not open. A browser tells a page nothing about it (every failure is the same
//! close 1006), so after a failed attempt the app asks the same host over plain HTTP and says what
//! the answer shows: nothing there, a web server without that WebSocket, a refused origin or host.
//! From another origin the browser hides the answer (an opaque `no-cors` reply), and only "something
//! answers" is known. Pure: the glue does the request.

use super::status_bar::host_of;

/// What the HTTP request to the WebSocket's address got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The request failed: nothing listens there, or the address is unreachable.
    Nothing,
    /// Something answered, but from another origin the browser does not show what.
    Hidden,
    /// The HTTP status of a same-origin answer.
    Status(u16),
}

/// `http://car.local:81/ws` for `ws://car.local:81/ws` (`https` for `wss`).
/// `None` for a device behind a broker (`ws://host:9001/mqtt#sim-01`, src/fleet/carrier.rs): its
/// address is the broker's, which says nothing about the device.
pub fn http_url(ws_url: &str) -> Option<String> {
    if ws_url.contains('#') {
        return None;
    }
    let (scheme, rest) = ws_url.split_once("://")?;
    let scheme = match scheme {
        "ws" => "http",
        "wss" => "https",
        _ => return None,
    };
    Some(format!("{scheme}://{rest}"))
}

/// Whether a page at `page_origin` (`http://127.0.0.1:8080`) may read the answer from `ws_url`.
pub fn same_origin(ws_url: &str, page_origin: &str) -> bool {
    http_url(ws_url).is_some_and(|u| origin_of(&u) == page_origin.trim_end_matches('/'))
}

fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", host_of(rest)),
        None => url.to_string(),
    }
}

fn path_of(ws_url: &str) -> &str {
    let rest = ws_url.split_once("://").map(|(_, r)| r).unwrap_or(ws_url);
    match rest.find('/') {
        Some(i) => rest[i..].split(['?', '#']).next().unwrap_or("/"),
        None => "/",
    }
}

/// A sentence a person can act on.
pub fn explain(answer: Answer, ws_url: &str, page_origin: &str) -> String {
    let host = host_of(ws_url);
    let path = path_of(ws_url);
    match answer {
        Answer::Nothing => format!(
            "Nothing answers at {host}: is the device on, and is this phone on its network? \
             (Check the address in Settings.)"
        ),
        Answer::Hidden => format!(
            "Something answers at {host}, but the browser does not show this page what. \
             If it is a wsdeck device it may not accept pages from {page_origin} \
             (docs/SECURITY.md: --allow-origin, ALLOW_ORIGINS), or have no WebSocket at {path}."
        ),
        Answer::Status(403) => format!(
            "{host} refused this page (403): it does not accept the origin {page_origin} or the \
             host name {host}. Allow them on the device (docs/SECURITY.md: simulator \
             --allow-origin / --allow-host, firmware ALLOW_ORIGINS / ALLOW_HOSTS)."
        ),
        Answer::Status(404) => format!(
            "A web server answers at {host} but has no WebSocket at {path} (404). \
             Check the path in Settings (wsdeck devices use /ws)."
        ),
        Answer::Status(400 | 426) => format!(
            "{host} has a WebSocket at {path}, but it did not accept this one. It may be full \
             (too many phones) or refuse this page's origin {page_origin}."
        ),
        Answer::Status(503) => {
            format!("{host} answers 503 at {path}: the device is busy or full (too many phones).")
        }
        Answer::Status(s) if (200..400).contains(&s) => format!(
            "A web server answers at {host}, but {path} is not a WebSocket (HTTP {s}). \
             Check the path in Settings."
        ),
        Answer::Status(s) => format!("{host} answers HTTP {s} at {path}, and no WebSocket opened there."),
    }
}

/// What a close code after the socket had opened means for the person.
pub fn close_code_meaning(code: u16) -> String {
    match code {
        1000 => "closed by the device".into(),
        1001 => "the device is going away".into(),
        1002 => "the device saw a protocol error".into(),
        1006 => "the connection dropped".into(),
        1007 => "the device sent text that is not UTF-8, which browsers refuse".into(),
        1008 => "the device refused a frame as against its policy".into(),
        1009 => "a frame was too large for the device".into(),
        1011 => "the device hit an error".into(),
        1013 => "the device is full: too many phones are connected".into(),
        c => format!("close code {c}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "http://127.0.0.1:8080";

    #[test]
    fn the_http_address_is_the_websocket_address() {
        assert_eq!(http_url("ws://car.local:81/ws").as_deref(), Some("http://car.local:81/ws"));
        assert_eq!(http_url("wss://x.y/ws?k=1").as_deref(), Some("https://x.y/ws?k=1"));
        // A device through a broker is not probed over HTTP.
        assert_eq!(http_url("ws://127.0.0.1:9001/mqtt#sim-01"), None);
        assert_eq!(http_url("car.local"), None);
        assert!(same_origin("ws://127.0.0.1:8080/ws", PAGE));
        assert!(same_origin("ws://127.0.0.1:8080/ws", "http://127.0.0.1:8080/"));
        assert!(!same_origin("ws://127.0.0.1:9000/ws", PAGE));
        assert!(!same_origin("wss://127.0.0.1:8080/ws", PAGE));
    }

    #[test]
    fn each_answer_says_what_is_known_and_what_to_do() {
        let ws = "ws://10.0.0.7:81/ws";
        assert!(explain(Answer::Nothing, ws, PAGE).starts_with("Nothing answers at 10.0.0.7:81"));
        let hidden = explain(Answer::Hidden, ws, PAGE);
        assert!(hidden.contains("Something answers") && hidden.contains(PAGE), "{hidden}");
        let refused = explain(Answer::Status(403), ws, PAGE);
        assert!(refused.contains("403") && refused.contains("--allow-origin"), "{refused}");
        let missing = explain(Answer::Status(404), "ws://10.0.0.7:81/socket", PAGE);
        assert!(missing.contains("no WebSocket at /socket (404)"), "{missing}");
        assert!(explain(Answer::Status(200), ws, PAGE).contains("/ws is not a WebSocket (HTTP 200)"));
        assert!(explain(Answer::Status(426), ws, PAGE).contains("has a WebSocket at /ws"));
        assert!(explain(Answer::Status(500), ws, PAGE).contains("HTTP 500"));
        assert_eq!(path_of("ws://h"), "/");
    }

    #[test]
    fn close_codes_read_as_sentences() {
        assert!(close_code_meaning(1013).contains("too many phones"));
        assert!(close_code_meaning(1007).contains("not UTF-8"));
        assert_eq!(close_code_meaning(4001), "close code 4001");
    }
}
