//! The app's side of the pairing token (docs/PROTOCOL.md, Pairing): what to send after a `hello`
//! that asks for one, what the device's answer means, and what to keep. Pure: the token store
//! (localStorage, per device address) is the glue's business; this says what to save or forget.

use wsdeck_protocol::{AppMsg, PairingMode};

/// Where pairing stands on the current connection.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum PairingStatus {
    /// The device asks for no token (or has not said hello yet).
    #[default]
    NotNeeded,
    /// The device wants a token the app does not have: ask the person. After a wrong one, the
    /// device looks at no other before `retry_at_ms`.
    Needed {
        mode: PairingMode,
        wrong: bool,
        retry_at_ms: Option<f64>,
    },
    /// A token went out; the answer has not come.
    Sent {
        mode: PairingMode,
        token: String,
    },
    Paired,
}

impl PairingStatus {
    /// The device wants a token and this connection has not given the right one yet.
    pub fn blocks_control(&self) -> bool {
        matches!(self, PairingStatus::Needed { .. } | PairingStatus::Sent { .. })
    }
}

/// What the glue must do with the stored token after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Store {
    Save(String),
    Forget,
}

#[derive(Debug, Clone)]
pub struct PairingState {
    pub state: PairingStatus,
    /// The token remembered for this device's address.
    known: Option<String>,
}

impl PairingState {
    pub fn new(known: Option<String>) -> PairingState {
        PairingState { state: PairingStatus::NotNeeded, known }
    }

    /// A new connection: nothing is paired until the device says hello again.
    pub fn reset(&mut self) {
        self.state = PairingStatus::NotNeeded;
    }

    /// Another device address: its own remembered token.
    pub fn set_known(&mut self, known: Option<String>) {
        self.known = known;
        self.state = PairingStatus::NotNeeded;
    }

    /// The device said hello; returns the frame to send, if any.
    pub fn on_hello(&mut self, mode: Option<PairingMode>) -> Option<String> {
        let Some(mode) = mode else {
            self.state = PairingStatus::NotNeeded;
            return None;
        };
        match self.known.clone() {
            Some(token) => Some(self.send(mode, token)),
            None => {
                self.state = PairingStatus::Needed { mode, wrong: false, retry_at_ms: None };
                None
            }
        }
    }

    /// The person typed a token; returns the frame to send (none unless the device wants one).
    pub fn submit(&mut self, token: &str, now_ms: f64) -> Option<String> {
        let token = token.trim();
        let PairingStatus::Needed { mode, retry_at_ms, .. } = self.state.clone() else { return None };
        if token.is_empty() || token.chars().count() > wsdeck_protocol::MAX_TOKEN_CHARS {
            return None;
        }
        if retry_at_ms.is_some_and(|t| now_ms < t) {
            return None;
        }
        Some(self.send(mode, token.to_string()))
    }

    fn send(&mut self, mode: PairingMode, token: String) -> String {
        let frame = AppMsg::Auth { token: token.clone() }.encode();
        self.state = PairingStatus::Sent { mode, token };
        frame
    }

    /// The device's answer; returns what to do with the stored token.
    pub fn on_answer(&mut self, ok: bool, retry_ms: Option<u32>, now_ms: f64) -> Option<Store> {
        let PairingStatus::Sent { mode, token } = self.state.clone() else { return None };
        if ok {
            self.state = PairingStatus::Paired;
            self.known = Some(token.clone());
            return Some(Store::Save(token));
        }
        let retry_at_ms = retry_ms.map(|ms| now_ms + f64::from(ms));
        self.state = PairingStatus::Needed { mode, wrong: true, retry_at_ms };
        // A wrong token is forgotten at once: the person is asked again.
        self.known.take().map(|_| Store::Forget)
    }

    /// The device wants a token and this connection has not given the right one yet.
    pub fn blocks_control(&self) -> bool {
        self.state.blocks_control()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = r#"{"t":"auth","token":"blue-tiger-42"}"#;

    #[test]
    fn a_remembered_token_goes_out_right_after_hello() {
        let mut p = PairingState::new(Some("blue-tiger-42".into()));
        assert_eq!(p.on_hello(Some(PairingMode::Required)).as_deref(), Some(AUTH));
        assert!(p.blocks_control());
        assert_eq!(p.on_answer(true, None, 0.0), Some(Store::Save("blue-tiger-42".into())));
        assert_eq!(p.state, PairingStatus::Paired);
        assert!(!p.blocks_control());
    }

    #[test]
    fn without_a_token_the_person_is_asked() {
        let mut p = PairingState::new(None);
        assert_eq!(p.on_hello(Some(PairingMode::Control)), None);
        assert_eq!(
            p.state,
            PairingStatus::Needed { mode: PairingMode::Control, wrong: false, retry_at_ms: None }
        );
        assert_eq!(p.submit("  ", 0.0), None, "blank is not sent");
        assert_eq!(p.submit(" blue-tiger-42 ", 0.0).as_deref(), Some(AUTH));
        assert_eq!(p.on_answer(true, None, 5.0), Some(Store::Save("blue-tiger-42".into())));
    }

    #[test]
    fn a_wrong_token_is_forgotten_and_the_wait_is_kept() {
        let mut p = PairingState::new(Some("old".into()));
        p.on_hello(Some(PairingMode::Required));
        assert_eq!(p.on_answer(false, Some(2000), 1000.0), Some(Store::Forget));
        assert_eq!(
            p.state,
            PairingStatus::Needed { mode: PairingMode::Required, wrong: true, retry_at_ms: Some(3000.0) }
        );
        assert_eq!(p.submit("new", 2999.0), None, "not before the device will look at it");
        assert!(p.submit("new", 3000.0).is_some());
        // Wrong again: nothing left to forget.
        assert_eq!(p.on_answer(false, Some(4000), 3100.0), None);
    }

    #[test]
    fn devices_without_pairing_need_nothing() {
        let mut p = PairingState::new(Some("t".into()));
        assert_eq!(p.on_hello(None), None);
        assert!(!p.blocks_control());
        assert_eq!(p.submit("t", 0.0), None);
        assert_eq!(p.on_answer(true, None, 0.0), None, "an answer nobody asked for changes nothing");
    }

    #[test]
    fn a_new_connection_pairs_again_with_the_saved_token() {
        let mut p = PairingState::new(None);
        p.on_hello(Some(PairingMode::Required));
        p.submit("tok", 0.0);
        p.on_answer(true, None, 0.0);
        p.reset();
        assert!(!p.blocks_control());
        assert_eq!(p.on_hello(Some(PairingMode::Required)).as_deref(), Some(r#"{"t":"auth","token":"tok"}"#));
    }
}
