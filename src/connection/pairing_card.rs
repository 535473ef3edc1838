//! Asks the person for the device's pairing token when the device wants one and the app has
//! none (or had a wrong one). Shown above every page: the device shows nothing until paired.
//!
//! Plain DOM calls and one effect rather than `view!`: the card is on the first screen, in the
//! main wasm (docs/SIZE.md, the first screen in plain DOM). What it says is [`face`]'s.

use super::pairing::PairingStatus;
use super::session::Status;
use super::Connection;
use crate::dom::{self, el, Listener};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element};
use wsdeck_protocol::PairingMode;

/// What the card shows: `None` when it is hidden.
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    pub message: String,
    /// The Pair button waits: a token is out, or the device takes no other yet.
    pub wait: bool,
}

pub fn face(s: &Status, now_ms: f64) -> Option<Face> {
    let name = s.device_name.as_deref().unwrap_or("This device");
    // Seconds left before the device looks at another token (the status refreshes every second).
    let wait_s = match s.pairing {
        PairingStatus::Needed { retry_at_ms: Some(t), .. } => ((t - now_ms) / 1000.0).ceil().max(0.0) as u64,
        _ => 0,
    };
    let message = match &s.pairing {
        PairingStatus::Needed { wrong: true, .. } => match wait_s {
            0 => "That token was wrong. Try again.".to_string(),
            s => format!("That token was wrong. The device takes another in {s} s."),
        },
        PairingStatus::Needed { mode: PairingMode::Control, .. } => {
            format!("{name} asks for its pairing token before it can be driven. You can watch without it.")
        }
        PairingStatus::Needed { .. } => format!("{name} asks for its pairing token."),
        PairingStatus::Sent { .. } => "Checking the token...".to_string(),
        _ => return None,
    };
    Some(Face { message, wait: wait_s > 0 || matches!(s.pairing, PairingStatus::Sent { .. }) })
}

#[component]
pub fn PairingCard() -> impl IntoView {
    let conn = expect_context::<Connection>();
    let host = NodeRef::<leptos::html::Section>::new();
    let card = StoredValue::new_local(None::<Card>);
    Effect::new(move |_| {
        conn.second.track();
        let face = conn.status.with(|s| face(s, dom::now_ms()));
        let (Some(host), Some(doc)) = (host.get(), dom::window().and_then(|w| w.document())) else { return };
        card.update_value(|c| c.get_or_insert_with(|| Card::new(conn, &doc, &host)).show(face));
    });
    on_cleanup(move || {
        card.try_update_value(|c| *c = None);
    });
    // Not a <form>: the page's other forms (Settings) are found by tests and by assistive tools
    // as the page's form; Enter in the field submits all the same.
    view! { <section class="card pairing" data-testid="pairing" hidden node_ref=host></section> }
}

/// The card's elements and listeners, and what it shows.
struct Card {
    root: Element,
    message: Element,
    submit: Element,
    /// What is on screen (`None`: hidden).
    drawn: Option<Face>,
    _listeners: [Listener; 2],
}

impl Card {
    fn new(conn: Connection, doc: &Document, root: &Element) -> Card {
        el(doc, root, "h2", &[], "Pairing");
        let message = el(doc, root, "p", &[("data-testid", "pairing-message")], "");
        let row = el(doc, root, "div", &[("class", "pairing-row")], "");
        let attrs = [
            ("type", "password"),
            ("autocomplete", "current-password"),
            ("maxlength", "64"),
            ("placeholder", "Pairing token"),
            ("aria-label", "Pairing token"),
            ("data-testid", "pairing-token"),
        ];
        let input = el(doc, &row, "input", &attrs, "");
        let submit =
            el(doc, &row, "button", &[("type", "button"), ("data-testid", "pairing-submit")], "Pair");
        let hint =
            "The token is set in the device's firmware. It is kept on this phone for this device's address.";
        el(doc, root, "p", &[("class", "hint")], hint);
        let token = input.clone();
        let send = move || {
            let value = js_sys::Reflect::get(&token, &"value".into()).ok().and_then(|v| v.as_string());
            conn.submit_token(&value.unwrap_or_default());
        };
        let on_enter = send.clone();
        let enter = Listener::new(&input, "keydown", move |ev| {
            if ev.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|k| k.key() == "Enter") {
                on_enter();
            }
        });
        let click = Listener::new(&submit, "click", move |_| send());
        Card { root: root.clone(), message, submit, drawn: None, _listeners: [enter, click] }
    }

    fn show(&mut self, face: Option<Face>) {
        if self.drawn == face {
            return;
        }
        let _ = match &face {
            Some(_) => self.root.remove_attribute("hidden"),
            None => self.root.set_attribute("hidden", ""),
        };
        // Hidden, it says nothing (a screen reader's virtual cursor could still reach old words).
        self.message.set_text_content(face.as_ref().map(|f| f.message.as_str()));
        if let Some(f) = &face {
            let _ = if f.wait {
                self.submit.set_attribute("disabled", "")
            } else {
                self.submit.remove_attribute("disabled")
            };
        }
        self.drawn = face;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::session::Session;

    fn status(pairing: PairingStatus, name: Option<&str>) -> Status {
        let (mut s, _) = Session::new("ws://10.0.0.2/ws".into(), 0.0);
        let mut status = s.status(0.0);
        status.pairing = pairing;
        status.device_name = name.map(String::from);
        status
    }

    #[test]
    fn the_card_says_what_the_device_wants_and_waits_while_it_must() {
        assert_eq!(face(&status(PairingStatus::NotNeeded, None), 0.0), None);
        assert_eq!(face(&status(PairingStatus::Paired, None), 0.0), None);
        let needed = |mode, wrong, retry_at_ms| PairingStatus::Needed { mode, wrong, retry_at_ms };
        let f = face(&status(needed(PairingMode::Control, false, None), Some("Car")), 0.0).unwrap();
        assert_eq!(
            f.message,
            "Car asks for its pairing token before it can be driven. You can watch without it."
        );
        assert!(!f.wait);
        let f = face(&status(needed(PairingMode::Required, false, None), None), 0.0).unwrap();
        assert_eq!(f.message, "This device asks for its pairing token.");
        let wrong = status(needed(PairingMode::Required, true, Some(5000.0)), None);
        let f = face(&wrong, 1200.0).unwrap();
        assert_eq!(f.message, "That token was wrong. The device takes another in 4 s.");
        assert!(f.wait, "no other token before the device takes one");
        let f = face(&wrong, 5000.0).unwrap();
        assert_eq!((f.message.as_str(), f.wait), ("That token was wrong. Try again.", false));
        let sent = PairingStatus::Sent { mode: PairingMode::Required, token: "t".into() };
        assert_eq!(
            face(&status(sent, None), 0.0),
            Some(Face { message: "Checking the token...".into(), wait: true })
        );
    }
}
