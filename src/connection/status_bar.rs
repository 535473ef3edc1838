//! The status bar: link state, device name, round-trip time and message rate, always in view; and
//! for a device that cannot be pinged, that it is not, and how long it has been silent.

use super::session::{LinkState, Status};
use super::Connection;
use crate::dom::{self, el};
use leptos::prelude::*;
use web_sys::{Document, Element};

/// What the status bar shows for a status; [`StatusBar`] puts it on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// `data-state`: [`LinkState::name`].
    pub state: &'static str,
    /// Connected to a device that cannot be pinged (`data-heartbeat="off"`).
    pub no_heartbeat: bool,
    /// That device has been silent for a few seconds (`data-silent`).
    pub silent: bool,
    pub name: String,
    pub label: String,
    /// Why the device cannot be reached: a link to the Device page.
    pub why: Option<String>,
    /// A link to Settings to try another address.
    pub other_address: bool,
    pub rtt: String,
    pub rtt_title: &'static str,
    pub rate: String,
}

pub fn face(s: &Status) -> Face {
    let no_heartbeat = s.state == LinkState::Connected && !s.speaks_v1;
    Face {
        state: s.state.name(),
        no_heartbeat,
        silent: s.silent_s.is_some(),
        name: s.device_name.clone().unwrap_or_else(|| host_of(&s.url).to_string()),
        label: link_label(s),
        why: s.diagnosis.clone(),
        other_address: offers_other_address(s.state),
        rtt: match s.rtt_ms {
            Some(r) => format!("{r:.0} ms"),
            None if no_heartbeat => "no heartbeat".into(),
            None => "– ms".into(),
        },
        rtt_title: if no_heartbeat {
            "no heartbeat: this device does not answer pings, so the round-trip time is not known"
        } else {
            "round-trip time (median)"
        },
        rate: format!("{}/s", s.rate),
    }
}

/// The status bar. Plain DOM calls and one effect rather than `view!`: it is on the first screen,
/// in the main wasm (docs/SIZE.md, the first screen in plain DOM).
#[component]
pub fn StatusBar() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let host = NodeRef::<leptos::html::Header>::new();
    let bar = StoredValue::new_local(None::<Bar>);
    Effect::new(move |_| {
        let face = conn.status.with(face);
        let (Some(host), Some(doc)) = (host.get(), dom::window().and_then(|w| w.document())) else { return };
        bar.update_value(|b| b.get_or_insert_with(|| Bar::new(&doc, &host)).show(&doc, face));
    });
    view! { <header class="status" data-testid="status" node_ref=host></header> }
}

/// The status bar's elements, and what they show.
struct Bar {
    root: Element,
    who: Element,
    name: Element,
    label: Element,
    why: Option<Element>,
    other_address: Option<Element>,
    figures: Element,
    rtt: Element,
    rate: Element,
    /// What is on screen (`None` before the first status).
    drawn: Option<Face>,
}

impl Bar {
    fn new(doc: &Document, root: &Element) -> Bar {
        el(doc, root, "span", &[("class", "dot"), ("aria-hidden", "true")], "");
        let who = el(doc, root, "div", &[("class", "who")], "");
        let name = el(doc, &who, "strong", &[("class", "name"), ("data-testid", "device-name")], "");
        let label = el(
            doc,
            &who,
            "span",
            &[("class", "state"), ("data-testid", "link-state"), ("role", "status")],
            "",
        );
        let figures = el(doc, root, "div", &[("class", "figures")], "");
        let rtt = el(doc, &figures, "span", &[("data-testid", "rtt")], "");
        let rate = el(
            doc,
            &figures,
            "span",
            &[("title", "frames per second from the device"), ("data-testid", "rate")],
            "",
        );
        Bar {
            root: root.clone(),
            who,
            name,
            label,
            why: None,
            other_address: None,
            figures,
            rtt,
            rate,
            drawn: None,
        }
    }

    /// Puts what changed since the last time on the page.
    fn show(&mut self, doc: &Document, f: Face) {
        let before = self.drawn.take();
        let changed = |pick: fn(&Face) -> &str| before.as_ref().map(pick) != Some(pick(&f));
        let attr = |e: &Element, k: &str, v: Option<&str>| {
            let _ = match v {
                Some(v) => e.set_attribute(k, v),
                None => e.remove_attribute(k),
            };
        };
        if changed(|f| f.state) {
            attr(&self.root, "data-state", Some(f.state));
        }
        if changed(|f| if f.no_heartbeat { "off" } else { "on" }) {
            attr(&self.root, "data-heartbeat", Some(if f.no_heartbeat { "off" } else { "on" }));
        }
        if changed(|f| if f.silent { "silent" } else { "" }) {
            attr(&self.root, "data-silent", f.silent.then_some(""));
        }
        if changed(|f| &f.name) {
            self.name.set_text_content(Some(&f.name));
        }
        if changed(|f| &f.label) {
            self.label.set_text_content(Some(&f.label));
        }
        if changed(|f| &f.rtt) {
            self.rtt.set_text_content(Some(&f.rtt));
        }
        if changed(|f| f.rtt_title) {
            attr(&self.rtt, "title", Some(f.rtt_title));
        }
        if changed(|f| &f.rate) {
            self.rate.set_text_content(Some(&f.rate));
        }
        match (&f.why, &self.why) {
            (Some(w), Some(e)) if changed(|f| f.why.as_deref().unwrap_or_default()) => {
                e.set_text_content(Some(w));
                attr(e, "title", Some(w));
            }
            (Some(w), None) => {
                let attrs =
                    [("class", "why"), ("href", "#/device"), ("data-testid", "link-why"), ("title", w)];
                self.why = Some(el(doc, &self.who, "a", &attrs, w));
            }
            (None, Some(e)) => {
                e.remove();
                self.why = None;
            }
            _ => {}
        }
        match (f.other_address, &self.other_address) {
            (true, None) => {
                let attrs =
                    [("class", "status-link"), ("href", "#/settings"), ("data-testid", "change-device")];
                let a = el(doc, &self.root, "a", &attrs, "Address");
                let _ = self.root.insert_before(&a, Some(&self.figures));
                self.other_address = Some(a);
            }
            (false, Some(e)) => {
                e.remove();
                self.other_address = None;
            }
            _ => {}
        }
        self.drawn = Some(f);
    }
}

/// The words under the device name, for the whole status: a connected device that cannot be
/// pinged says so, and after a few silent seconds the link is "unknown", not "connected".
pub fn link_label(status: &Status) -> String {
    match (status.state, status.silent_s) {
        (LinkState::Connected, Some(s)) => format!("Link unknown · silent for {s} s"),
        (LinkState::Connected, None) if !status.speaks_v1 => "Connected · no heartbeat".into(),
        (state, _) => state_label(state),
    }
}

/// The words under the device name. A device that has never answered on this address is
/// "unreachable" from its first failed attempt: the app may have been opened away from it (an
/// installed app starts without the device), and the person should know it is not just slow.
pub fn state_label(state: LinkState) -> String {
    let retry = |word: &str, attempt: u32, retry_in_ms: Option<f64>| match retry_in_ms {
        Some(ms) => format!("{word} · attempt {attempt} in {:.1} s", ms / 1000.0),
        None if attempt > 1 => format!("{word} · attempt {attempt}…"),
        None => format!("{word}…"),
    };
    match state {
        LinkState::Connected => "Connected".into(),
        LinkState::Connecting { attempt: 1, retry_in_ms } => retry("Connecting", 1, retry_in_ms),
        LinkState::Connecting { attempt, retry_in_ms } => retry("Device unreachable", attempt, retry_in_ms),
        LinkState::Reconnecting { attempt, retry_in_ms } => retry("Reconnecting", attempt, retry_in_ms),
        LinkState::Offline => "Offline · retrying when the network is back".into(),
    }
}

/// Whether the status bar offers a way to another address: once the device did not answer.
pub fn offers_other_address(state: LinkState) -> bool {
    match state {
        LinkState::Connected => false,
        LinkState::Connecting { attempt, .. } => attempt > 1,
        LinkState::Reconnecting { .. } | LinkState::Offline => true,
    }
}

/// `car.local:81` from `ws://car.local:81/ws`.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_naturally() {
        assert_eq!(state_label(LinkState::Connected), "Connected");
        assert_eq!(state_label(LinkState::Connecting { attempt: 1, retry_in_ms: None }), "Connecting…");
        assert_eq!(
            state_label(LinkState::Connecting { attempt: 2, retry_in_ms: Some(800.0) }),
            "Device unreachable · attempt 2 in 0.8 s"
        );
        assert_eq!(state_label(LinkState::Offline), "Offline · retrying when the network is back");
        assert_eq!(
            state_label(LinkState::Reconnecting { attempt: 3, retry_in_ms: Some(1200.0) }),
            "Reconnecting · attempt 3 in 1.2 s"
        );
        assert_eq!(
            state_label(LinkState::Reconnecting { attempt: 2, retry_in_ms: None }),
            "Reconnecting · attempt 2…"
        );
    }

    #[test]
    fn a_device_without_heartbeat_is_never_shown_as_fine_when_silent() {
        let (mut session, _) = crate::connection::session::Session::new("ws://10.0.0.2/ws".into(), 0.0);
        session.on_open(0.0, None);
        assert_eq!(link_label(&session.status(100.0)), "Connected · no heartbeat");
        assert_eq!(link_label(&session.status(4500.0)), "Link unknown · silent for 4 s");
        session.on_text(4600.0, r#"{"t":"hello"}"#);
        assert_eq!(link_label(&session.status(4700.0)), "Connected");
    }

    #[test]
    fn the_bar_shows_the_link_the_device_and_its_figures() {
        let (mut session, _) = crate::connection::session::Session::new("ws://10.0.0.2/ws".into(), 0.0);
        let f = face(&session.status(0.0));
        assert_eq!((f.state, f.name.as_str(), f.rtt.as_str()), ("connecting", "10.0.0.2", "– ms"));
        assert!(!f.other_address && f.why.is_none() && !f.no_heartbeat && !f.silent);
        session.on_open(10.0, None);
        let f = face(&session.status(100.0));
        assert_eq!(
            (f.state, f.rtt.as_str(), f.label.as_str()),
            ("connected", "no heartbeat", "Connected · no heartbeat")
        );
        assert!(f.no_heartbeat && f.rtt_title.starts_with("no heartbeat"));
        assert!(face(&session.status(4600.0)).silent, "silent for seconds");
        session.on_text(4700.0, r#"{"t":"hello","name":"Car"}"#);
        let f = face(&session.status(4800.0));
        assert_eq!((f.name.as_str(), f.rtt_title), ("Car", "round-trip time (median)"));
        assert!(!f.no_heartbeat && !f.silent);
    }

    #[test]
    fn another_address_is_offered_once_the_device_does_not_answer() {
        assert!(!offers_other_address(LinkState::Connected));
        assert!(!offers_other_address(LinkState::Connecting { attempt: 1, retry_in_ms: None }));
        assert!(offers_other_address(LinkState::Connecting { attempt: 2, retry_in_ms: None }));
        assert!(offers_other_address(LinkState::Reconnecting { attempt: 1, retry_in_ms: None }));
        assert!(offers_other_address(LinkState::Offline));
    }

    #[test]
    fn host_is_taken_from_the_url() {
        assert_eq!(host_of("ws://car.local:81/ws"), "car.local:81");
        assert_eq!(host_of("wss://x.y"), "x.y");
    }
}
