//! Everything the app knows about its device, updated from socket events and the clock: the link
//! state machine, what `hello` said, the latest telemetry, the event log and frame counters.
//! No browser API here: `socket.rs` feeds it events and carries out the actions it returns.

use super::link::{Action, CloseReason, Link, Phase, DEAD_AFTER_MS, QUICK_CLOSE_MS};
use super::pairing::{PairingState, PairingStatus};
use super::probe::{self, close_code_meaning, Answer};
use super::stats::RateMeter;
use crate::controls::model::Out;
use crate::controls::Panel;
use crate::device::log::{EventLog, Origin};
use crate::series::SeriesSet;
use wsdeck_protocol::{DeviceMsg, DriveState, Hello, LogLevel, MAX_FRAME_LEN};

/// How often a flood of malformed frames may add a line to the event log.
const MALFORMED_LOG_EVERY_MS: f64 = 1000.0;
/// After a failed attempt the app asks the address over HTTP why, at most this often.
const PROBE_EVERY_MS: f64 = 10_000.0;
/// Kinds of unusable frame the Device page lists (the most recent).
const UNUSED_KINDS: usize = 6;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Every frame received, good or bad.
    pub frames: u64,
    /// Frames that are not protocol v1 (bad JSON, wrong field types).
    pub malformed: u64,
    /// Frames over [`MAX_FRAME_LEN`], dropped unread.
    pub oversized: u64,
    /// Binary frames, which v1 does not use.
    pub binary: u64,
    /// Well-formed frames of a type this app does not know.
    pub unknown: u64,
    /// Frames with nothing to show: text that is not telemetry (a device's `OK`).
    pub ignored: u64,
    /// Frames that were not JSON (plain-text readings, `OK` replies): a hint that the device
    /// takes plain words rather than protocol v1.
    pub not_json: u64,
}

/// What the status bar shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LinkState {
    /// Trying to reach the device, which has never answered on this address.
    Connecting {
        attempt: u32,
        retry_in_ms: Option<f64>,
    },
    Connected,
    /// The link was up and is lost; trying again.
    Reconnecting {
        attempt: u32,
        retry_in_ms: Option<f64>,
    },
    /// The browser has no network.
    Offline,
}

impl LinkState {
    /// Stable name, used as `data-state` in the page.
    pub fn name(&self) -> &'static str {
        match self {
            LinkState::Connecting { .. } => "connecting",
            LinkState::Connected => "connected",
            LinkState::Reconnecting { .. } => "reconnecting",
            LinkState::Offline => "offline",
        }
    }
}

/// A snapshot for the UI, rounded so that it only changes when what is shown changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub state: LinkState,
    pub url: String,
    pub device_name: Option<String>,
    /// Median round-trip time in ms, to 0.1 ms.
    pub rtt_ms: Option<f64>,
    /// Frames per second, whole.
    pub rate: f64,
    pub counters: Counters,
    /// Who drives, as the device last said (`None` for devices without a lease).
    pub drive: Option<DriveState>,
    /// The pairing token: needed, sent, accepted (docs/PROTOCOL.md, Pairing).
    pub pairing: PairingStatus,
    /// The device has shown on this address that it speaks protocol v1 (a `hello`, or any object
    /// frame with a `t` field). Until then the app sends it only what the person does.
    pub speaks_v1: bool,
    /// Connected to a device that is not pinged (it has not spoken v1) and that has sent nothing
    /// for [`DEAD_AFTER_MS`] or more: whole seconds of silence. The link may be gone; nobody can
    /// tell until the socket closes.
    pub silent_s: Option<u64>,
    /// Why the device cannot be reached, as far as the app could find out.
    pub diagnosis: Option<String>,
    /// Connections in a row the device closed within a second of opening.
    pub quick_closes: u32,
}

/// A kind of frame the app could not use, for the Device page: "`OK`: not telemetry, ignored".
#[derive(Debug, Clone, PartialEq)]
pub struct Unused {
    pub preview: String,
    pub why: String,
    pub count: u64,
    pub last_ms: f64,
}

pub struct Session {
    link: Link,
    url: String,
    device: Option<Hello>,
    drive: Option<DriveState>,
    series: SeriesSet,
    /// The controls the device declared (docs/PROTOCOL.md, Controls).
    controls: Panel,
    log: EventLog,
    counters: Counters,
    rate: RateMeter,
    last_malformed_log_ms: f64,
    pairing: PairingState,
    speaks_v1: bool,
    /// The first and the last frame sent on this socket (previews), and how many: what a device
    /// that closes at once was objecting to.
    first_sent: Option<String>,
    last_sent: Option<String>,
    sent_on_socket: u64,
    diagnosis: Option<String>,
    /// An HTTP probe is under way, and when the last one started.
    probing: bool,
    last_probe_ms: f64,
    unused: Vec<Unused>,
}

impl Session {
    /// A session that starts connecting to `url` at once: carry out the returned action.
    pub fn new(url: String, now_ms: f64) -> (Session, Action) {
        Session::with_token(url, None, now_ms)
    }

    /// As [`Session::new`], with the pairing token remembered for `url`.
    pub fn with_token(url: String, token: Option<String>, now_ms: f64) -> (Session, Action) {
        let (link, first) = Link::new(now_ms);
        let mut log = EventLog::default();
        log.app(now_ms, LogLevel::Info, format!("connecting to {url}"));
        let session = Session {
            link,
            url,
            device: None,
            drive: None,
            series: SeriesSet::default(),
            controls: Panel::default(),
            log,
            counters: Counters::default(),
            rate: RateMeter::default(),
            last_malformed_log_ms: f64::NEG_INFINITY,
            pairing: PairingState::new(token),
            speaks_v1: false,
            first_sent: None,
            last_sent: None,
            sent_on_socket: 0,
            diagnosis: None,
            probing: false,
            last_probe_ms: f64::NEG_INFINITY,
            unused: Vec::new(),
        };
        (session, first)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn device(&self) -> Option<&Hello> {
        self.device.as_ref()
    }

    /// Every series the device streams: what the tiles show and the charts draw.
    pub fn series(&self) -> &SeriesSet {
        &self.series
    }

    pub fn series_mut(&mut self) -> &mut SeriesSet {
        &mut self.series
    }

    /// The controls the device declared, and what each shows.
    pub fn controls(&self) -> &Panel {
        &self.controls
    }

    /// Hands the controls an event (a person's change, the clock): what they send goes out as
    /// [`Action::Send`], what they note goes to the event log.
    pub fn control(&mut self, now_ms: f64, event: impl FnOnce(&mut Panel, f64) -> Vec<Out>) -> Vec<Action> {
        let out = event(&mut self.controls, now_ms);
        self.carry_out(now_ms, out)
    }

    fn carry_out(&mut self, now_ms: f64, out: Vec<Out>) -> Vec<Action> {
        let mut actions = Vec::new();
        for o in out {
            match o {
                Out::Send(msg) => actions.push(Action::Send(msg.encode())),
                Out::Note(level, text) => self.log.app(now_ms, level, text),
            }
        }
        actions
    }

    /// The releases of every button held here, to go out before this app closes the socket.
    fn release_before(&mut self, now_ms: f64, actions: Vec<Action>) -> Vec<Action> {
        if !actions.iter().any(|a| matches!(a, Action::Close(_))) {
            return actions;
        }
        let mut out = self.control(now_ms, Panel::release_all);
        out.extend(actions);
        out
    }

    /// What the device's hello said about a series (label, unit, range), if anything.
    pub fn series_meta(&self, name: &str) -> Option<&wsdeck_protocol::SeriesMeta> {
        self.device.as_ref()?.series.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    /// Forgets the buffered samples (the charts start empty; tiles keep their latest values).
    pub fn clear_history(&mut self) {
        self.series.clear_samples();
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    pub fn log_mut(&mut self) -> &mut EventLog {
        &mut self.log
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Frames the app could not use, most recent kind last.
    pub fn unused(&self) -> &[Unused] {
        &self.unused
    }

    /// The socket opened. `on_connect` is the message the person set to send this device on
    /// every connection (a sensor tutorial waits for `getReadings`), if any.
    pub fn on_open(&mut self, now_ms: f64, on_connect: Option<&str>) -> Vec<Action> {
        self.link.opened(now_ms);
        self.drive = None;
        self.pairing.reset();
        self.diagnosis = None;
        self.first_sent = None;
        self.last_sent = None;
        self.sent_on_socket = 0;
        self.log.app(now_ms, LogLevel::Info, format!("connected to {}", self.url));
        let mut actions = Vec::new();
        if !self.speaks_v1 && self.link.ever_connected() && self.counters.frames == 0 {
            self.log.app(
                now_ms,
                LogLevel::Info,
                "until this device says hello, the app sends it only what you do (no heartbeat)",
            );
        }
        if let Some(msg) = on_connect.filter(|m| !m.is_empty()) {
            self.log.app(now_ms, LogLevel::Info, format!("sending `{}` (set for this device)", preview(msg)));
            actions.push(Action::Send(msg.to_string()));
        }
        // A device that speaks v1 gets its first ping now, not at the next tick.
        actions.extend(self.link.tick(now_ms, 0.5));
        actions
    }

    /// A frame went out on the socket (whoever sent it).
    pub fn note_sent(&mut self, frame: &str) {
        self.sent_on_socket += 1;
        if self.first_sent.is_none() {
            self.first_sent = Some(preview(frame));
        } else {
            self.last_sent = Some(preview(frame));
        }
    }

    /// The socket closed, or could not be opened. `code` is the WebSocket close code.
    pub fn on_close(&mut self, now_ms: f64, code: u16, rand01: f64) -> Vec<Action> {
        let was = self.link.phase();
        self.controls.link_lost();
        let first_failure = self.link.failures() == 0;
        let delay = self.link.closed(now_ms, rand01);
        let next = format!("retrying in {:.1} s", delay / 1000.0);
        let why = close_code_meaning(code);
        match was {
            Phase::Connected { since_ms } if now_ms - since_ms < QUICK_CLOSE_MS => {
                let after = match (&self.first_sent, &self.last_sent) {
                    (None, _) => "before the app sent anything".to_string(),
                    (Some(first), None) => format!("right after the app sent `{first}`"),
                    (Some(first), Some(last)) => format!(
                        "after the app sent `{first}` and {} more (the last `{last}`)",
                        self.sent_on_socket - 1
                    ),
                };
                let up_s = (now_ms - since_ms) / 1000.0;
                let msg = format!(
                    "the device closed the connection {up_s:.1} s after it opened, {after} ({why}); waiting {:.1} s \
                     before trying again",
                    delay / 1000.0
                );
                self.log.app(now_ms, LogLevel::Warn, msg);
            }
            Phase::Connected { .. } => {
                self.log.app(now_ms, LogLevel::Warn, format!("connection lost ({why}); {next}"));
            }
            _ if first_failure => {
                self.log.app(now_ms, LogLevel::Warn, format!("cannot reach {}; {next}", self.url));
            }
            _ => {}
        }
        if matches!(code, 1008 | 1009 | 1013) && matches!(was, Phase::Connected { .. }) {
            self.diagnosis = Some(format!("The connection was closed: {why} (close {code})."));
        }
        if matches!(was, Phase::Connected { .. }) {
            return Vec::new();
        }
        self.probe(now_ms).into_iter().collect()
    }

    /// After an attempt that never opened: ask the address over HTTP why, one probe at a time and
    /// at most every [`PROBE_EVERY_MS`].
    fn probe(&mut self, now_ms: f64) -> Option<Action> {
        if self.probing || now_ms - self.last_probe_ms < PROBE_EVERY_MS {
            return None;
        }
        let url = probe::http_url(&self.url)?;
        self.probing = true;
        self.last_probe_ms = now_ms;
        Some(Action::Probe(url))
    }

    /// The answer to an [`Action::Probe`] of `probed`. `page_origin` is where the app was loaded
    /// from. An answer about an address no longer in use is dropped.
    pub fn on_probe(&mut self, now_ms: f64, probed: &str, answer: Answer, page_origin: &str) {
        if probe::http_url(&self.url).as_deref() != Some(probed) {
            return;
        }
        self.probing = false;
        if matches!(self.link.phase(), Phase::Connected { .. }) {
            return;
        }
        let text = probe::explain(answer, &self.url, page_origin);
        if self.diagnosis.as_ref() != Some(&text) {
            self.log.app(now_ms, LogLevel::Warn, text.clone());
            self.diagnosis = Some(text);
        }
    }

    /// A text frame arrived. Returns what to do about it (send the remembered pairing token,
    /// save or forget it).
    pub fn on_text(&mut self, now_ms: f64, text: &str) -> Vec<Action> {
        self.received(now_ms);
        if text.len() > MAX_FRAME_LEN {
            self.note_oversized(now_ms, text.len());
            return Vec::new();
        }
        if !looks_like_json(text) {
            self.counters.not_json += 1;
        }
        let msg = match DeviceMsg::decode(text) {
            Ok(msg) => msg,
            Err(e) if e.kind() == "not_telemetry" => {
                self.counters.ignored += 1;
                self.note_unused(now_ms, text, "not telemetry: ignored".into());
                return Vec::new();
            }
            Err(e) => {
                self.counters.malformed += 1;
                self.note_bad_frame(now_ms, format!("malformed frame ({e}): {}", preview(text)));
                self.note_unused(now_ms, text, format!("{e}: ignored"));
                return Vec::new();
            }
        };
        if msg.speaks_v1() && !self.speaks_v1 {
            self.speaks_v1 = true;
            self.link.heartbeat(now_ms);
        }
        let mut actions = Vec::new();
        match msg {
            DeviceMsg::Telemetry(tel) => {
                if tel.skipped > 0 {
                    let why = format!(
                        "{} values not taken (nested too deep, a name too long, or too many in one frame)",
                        tel.skipped
                    );
                    self.note_unused(now_ms, text, why);
                }
                self.series.push(tel, now_ms);
                self.controls.follow(&self.series);
            }
            DeviceMsg::Pong { id } => {
                self.link.pong(now_ms, id);
            }
            DeviceMsg::Hello(mut hello) => {
                let name = if hello.name.is_empty() { "unnamed device" } else { &hello.name };
                let msg = format!("device \"{name}\" says hello (protocol v{})", hello.v);
                self.log.app(now_ms, LogLevel::Info, msg);
                if let Some(frame) = self.pairing.on_hello(hello.pairing) {
                    self.log.app(now_ms, LogLevel::Info, "sending the pairing token");
                    actions.push(Action::Send(frame));
                }
                // Hello's controls live in the panel from here on (kept once, not twice).
                let controls = std::mem::take(&mut hello.controls);
                let out = self.controls.declare(controls);
                actions.extend(self.carry_out(now_ms, out));
                self.device = Some(hello);
            }
            DeviceMsg::Auth { ok, retry_ms } => {
                let note = match (ok, retry_ms) {
                    (true, _) => "paired: the device accepted the token".to_string(),
                    (false, Some(ms)) => format!(
                        "the device refused the pairing token (retry in {:.0} s)",
                        f64::from(ms) / 1000.0
                    ),
                    (false, None) => "the device refused the pairing token".to_string(),
                };
                self.log.app(now_ms, if ok { LogLevel::Info } else { LogLevel::Warn }, note);
                if let Some(store) = self.pairing.on_answer(ok, retry_ms, now_ms) {
                    actions.push(Action::Token(store));
                }
            }
            DeviceMsg::Log(log) => self.log.push(now_ms, log.level, Origin::Device, log.msg),
            DeviceMsg::State(state) => self.drive = Some(state),
            DeviceMsg::Controls(controls) => {
                let out = self.controls.declare(controls);
                actions.extend(self.carry_out(now_ms, out));
            }
            DeviceMsg::Ctl(values) => self.controls.on_device(values),
            DeviceMsg::Unknown { t } => {
                self.counters.unknown += 1;
                let why = format!("message type `{}` is not known to this app: ignored", preview(&t));
                self.note_unused(now_ms, text, why);
            }
        }
        actions
    }

    /// A text frame too large to read arrived (the browser side measures it before copying it in).
    pub fn on_oversized(&mut self, now_ms: f64, len: usize) {
        self.received(now_ms);
        self.note_oversized(now_ms, len);
    }

    /// A binary frame arrived; protocol v1 has none.
    pub fn on_binary(&mut self, now_ms: f64, len: usize) {
        self.received(now_ms);
        self.counters.binary += 1;
        self.note_bad_frame(now_ms, format!("ignored a binary frame of {len} bytes"));
    }

    pub fn tick(&mut self, now_ms: f64, rand01: f64) -> Vec<Action> {
        let mut actions = self.link.tick(now_ms, rand01);
        if actions.contains(&Action::Close(CloseReason::Timeout)) {
            // An address that never answers (a phone can take 20 s to fail): ask why too.
            actions.extend(self.probe(now_ms));
        }
        for action in &actions {
            let note = match action {
                Action::Close(CloseReason::Dead) => "no frame for 3 s: the link is dead; reconnecting",
                Action::Close(CloseReason::Timeout) => "connecting took too long; trying again",
                _ => continue,
            };
            self.log.app(now_ms, LogLevel::Warn, note);
        }
        self.release_before(now_ms, actions)
    }

    /// The page became visible again, was restored, or the network came back.
    pub fn wake(&mut self, now_ms: f64) -> Vec<Action> {
        self.link.wake(now_ms)
    }

    pub fn set_online(&mut self, online: bool, now_ms: f64) -> Vec<Action> {
        let note = if online { "network is back" } else { "the browser reports no network" };
        self.log.app(now_ms, if online { LogLevel::Info } else { LogLevel::Warn }, note);
        self.link.set_online(online, now_ms)
    }

    /// The person typed the device's pairing token: sends it if the device is waiting for one.
    pub fn submit_token(&mut self, token: &str, now_ms: f64) -> Vec<Action> {
        match self.pairing.submit(token, now_ms) {
            Some(frame) => vec![Action::Send(frame)],
            None => Vec::new(),
        }
    }

    /// Connects to another address, forgetting what the previous device said.
    pub fn set_url(&mut self, url: String, token: Option<String>, now_ms: f64) -> Vec<Action> {
        self.log.app(now_ms, LogLevel::Info, format!("connecting to {url}"));
        self.pairing.set_known(token);
        self.url = url;
        self.device = None;
        self.drive = None;
        self.series.clear();
        self.speaks_v1 = false;
        self.diagnosis = None;
        self.unused.clear();
        self.probing = false;
        self.last_probe_ms = f64::NEG_INFINITY;
        let actions = self.link.restart(now_ms);
        let actions = self.release_before(now_ms, actions);
        self.controls.clear();
        actions
    }

    pub fn status(&mut self, now_ms: f64) -> Status {
        let attempt = self.link.failures() + 1;
        let lost = self.link.ever_connected();
        let retry = |retry_in_ms: Option<f64>| {
            if lost {
                LinkState::Reconnecting { attempt, retry_in_ms }
            } else {
                LinkState::Connecting { attempt, retry_in_ms }
            }
        };
        let state = match self.link.phase() {
            Phase::Connected { .. } => LinkState::Connected,
            Phase::Connecting { .. } => retry(None),
            Phase::Waiting { retry_at_ms } => {
                retry(Some(((retry_at_ms - now_ms).max(0.0) / 100.0).ceil() * 100.0))
            }
            Phase::Offline => LinkState::Offline,
        };
        let connected = state == LinkState::Connected;
        let silent_s = match self.link.phase() {
            Phase::Connected { since_ms } if !self.link.has_heartbeat() => {
                let quiet = now_ms - self.link.last_frame_ms().unwrap_or(since_ms);
                (quiet >= DEAD_AFTER_MS).then(|| (quiet / 1000.0) as u64)
            }
            _ => None,
        };
        Status {
            state,
            url: self.url.clone(),
            device_name: self.device.as_ref().map(|h| h.name.clone()).filter(|n| !n.is_empty()),
            rtt_ms: self.link.rtt_ms().filter(|_| connected).map(|r| (r * 10.0).round() / 10.0),
            rate: self.rate.per_second(now_ms).round(),
            counters: self.counters,
            drive: self.drive.clone().filter(|_| connected),
            pairing: if connected { self.pairing.state.clone() } else { PairingStatus::NotNeeded },
            speaks_v1: self.speaks_v1,
            silent_s,
            diagnosis: self.diagnosis.clone().filter(|_| !connected),
            quick_closes: self.link.quick_closes(),
        }
    }

    fn received(&mut self, now_ms: f64) {
        self.link.received(now_ms);
        self.rate.count(now_ms);
        self.counters.frames += 1;
    }

    fn note_oversized(&mut self, now_ms: f64, len: usize) {
        self.counters.oversized += 1;
        let (kib, limit) = (len / 1024, MAX_FRAME_LEN / 1024);
        self.note_bad_frame(now_ms, format!("ignored a {kib} KiB frame (limit {limit} KiB)"));
    }

    /// Remembers a kind of frame the app could not use, for the Device page, counting repeats
    /// instead of listing them; a new kind also goes to the event log (at most once a second).
    fn note_unused(&mut self, now_ms: f64, frame: &str, why: String) {
        let shown = preview(frame);
        if let Some(i) = self.unused.iter().position(|u| u.preview == shown && u.why == why) {
            let mut u = self.unused.remove(i);
            u.count += 1;
            u.last_ms = now_ms;
            self.unused.push(u);
            return;
        }
        if self.unused.len() == UNUSED_KINDS {
            self.unused.remove(0);
        }
        self.note_bad_frame(now_ms, format!("`{shown}`: {why}"));
        self.unused.push(Unused { preview: shown, why, count: 1, last_ms: now_ms });
    }

    fn note_bad_frame(&mut self, now_ms: f64, text: String) {
        if now_ms - self.last_malformed_log_ms >= MALFORMED_LOG_EVERY_MS {
            self.last_malformed_log_ms = now_ms;
            self.log.app(now_ms, LogLevel::Warn, text);
        }
    }
}

/// Whether a frame is meant as JSON (an object or an array); numbers and text lines are not.
fn looks_like_json(text: &str) -> bool {
    matches!(text.trim_start().as_bytes().first(), Some(b'{' | b'['))
}

/// The first characters of a frame, for the event log.
fn preview(text: &str) -> String {
    const MAX: usize = 60;
    let mut p: String = text.chars().take(MAX).map(|c| if c.is_control() { '·' } else { c }).collect();
    if text.chars().nth(MAX).is_some() {
        p.push('…');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::pairing::Store;

    /// A session with a device that speaks protocol v1 (its hello came).
    fn session() -> Session {
        let (mut s, first) = Session::new("ws://127.0.0.1:8080/ws".into(), 0.0);
        assert_eq!(first, Action::Open);
        s.on_open(10.0, None);
        s.on_text(10.0, r#"{"t":"hello","v":1}"#);
        s
    }

    /// A session with firmware that never heard of wsdeck.
    fn legacy() -> Session {
        let (mut s, _) = Session::new("ws://127.0.0.1:8080/ws".into(), 0.0);
        assert_eq!(s.on_open(10.0, None), vec![], "nothing is sent on open");
        s
    }

    fn last_log(s: &Session) -> String {
        s.log().entries().last().map(|e| e.text.clone()).unwrap_or_default()
    }

    #[test]
    fn a_device_that_asks_for_a_token_gets_the_remembered_one_and_it_is_kept() {
        let (mut s, _) = Session::with_token("ws://10.0.0.7/ws".into(), Some("tok".into()), 0.0);
        s.on_open(10.0, None);
        assert_eq!(
            s.on_text(20.0, r#"{"t":"hello","name":"Car","pairing":"required"}"#),
            vec![Action::Send(r#"{"t":"auth","token":"tok"}"#.into())]
        );
        assert!(s.status(21.0).pairing.blocks_control());
        assert_eq!(
            s.on_text(30.0, r#"{"t":"auth","ok":true}"#),
            vec![Action::Token(Store::Save("tok".into()))]
        );
        assert_eq!(s.status(31.0).pairing, PairingStatus::Paired);
        assert!(last_log(&s).contains("paired"));
        // A wrong token on the next connection is forgotten, and the person is asked.
        s.on_close(40.0, 1006, 0.5);
        s.on_open(50.0, None);
        s.on_text(60.0, r#"{"t":"hello","name":"Car","pairing":"required"}"#);
        assert_eq!(
            s.on_text(70.0, r#"{"t":"auth","ok":false,"retry_ms":1000}"#),
            vec![Action::Token(Store::Forget)]
        );
        assert!(
            matches!(s.status(71.0).pairing, PairingStatus::Needed { wrong: true, retry_at_ms: Some(t), .. } if t == 1070.0)
        );
        assert!(s.submit_token("new", 500.0).is_empty(), "not before the device takes another");
        assert_eq!(s.submit_token("new", 1070.0), vec![Action::Send(r#"{"t":"auth","token":"new"}"#.into())]);
    }

    /// Everything the app would send on its own over a minute with this session.
    fn sent_in_a_minute(s: &mut Session, from_ms: f64, frame_every_ms: Option<f64>) -> Vec<Action> {
        let mut out = Vec::new();
        for i in 0..600 {
            let now = from_ms + f64::from(i) * 100.0;
            if let Some(every) = frame_every_ms {
                if (now - from_ms) % every == 0.0 {
                    out.extend(s.on_text(now, "OK"));
                }
            }
            out.extend(s.tick(now, 0.5));
        }
        out
    }

    #[test]
    fn a_device_that_never_said_hello_is_sent_nothing_unasked() {
        let mut s = legacy();
        // A tutorial car that answers `OK` now and then, and one that says nothing at all.
        assert_eq!(sent_in_a_minute(&mut s, 20.0, Some(5000.0)), vec![]);
        assert_eq!(s.status(60_000.0).state, LinkState::Connected);
        let mut silent = legacy();
        assert_eq!(sent_in_a_minute(&mut silent, 20.0, None), vec![]);
        assert_eq!(silent.status(60_020.0).state, LinkState::Connected, "never cycled by the dead-link rule");
    }

    #[test]
    fn without_a_heartbeat_the_status_says_so_and_silence_is_unknown_not_fine() {
        let mut s = legacy();
        s.on_text(100.0, "OK");
        let st = s.status(200.0);
        assert!(!st.speaks_v1);
        assert_eq!((st.rtt_ms, st.silent_s), (None, None));
        assert_eq!(s.status(3099.0).silent_s, None);
        assert_eq!(s.status(3100.0).silent_s, Some(3));
        assert_eq!(s.status(12_150.0).silent_s, Some(12));
        s.on_text(12_200.0, "OK");
        assert_eq!(s.status(12_300.0).silent_s, None);
        // A device that sent nothing since the socket opened counts from the open.
        let mut quiet = legacy();
        assert_eq!(quiet.status(5010.0).silent_s, Some(5));
    }

    #[test]
    fn any_object_with_a_t_field_turns_the_heartbeat_on() {
        let mut s = legacy();
        s.on_text(20.0, r#"{"temp":"21.5"}"#);
        assert!(sent_in_a_minute(&mut s, 30.0, None).is_empty(), "a bare object is not v1");
        let mut s = legacy();
        s.on_text(20.0, r#"{"t":"tel","d":{"temp":21.5}}"#);
        assert!(s.status(20.0).speaks_v1);
        assert!(matches!(s.tick(100.0, 0.5).as_slice(), [Action::Send(f)] if f.contains("ping")));
        // It stays known on this address across a reconnect, and is forgotten with the address.
        s.on_close(200.0, 1006, 0.5);
        assert!(s.status(300.0).speaks_v1);
        s.set_url("ws://10.0.0.8/ws".into(), None, 400.0);
        assert!(!s.status(400.0).speaks_v1);
    }

    #[test]
    fn the_message_set_for_a_device_goes_out_on_every_open() {
        let (mut s, _) = Session::new("ws://10.0.0.9/ws".into(), 0.0);
        assert_eq!(s.on_open(10.0, Some("getReadings")), vec![Action::Send("getReadings".into())]);
        assert!(last_log(&s).contains("getReadings"));
        s.on_close(5000.0, 1006, 0.5);
        assert_eq!(s.on_open(6000.0, Some("getReadings")), vec![Action::Send("getReadings".into())]);
        assert_eq!(s.on_open(7000.0, Some("")), vec![]);
    }

    #[test]
    fn a_device_that_closes_at_once_is_told_about_and_waited_for() {
        let mut s = legacy();
        s.note_sent("forward");
        s.on_close(210.0, 1006, 1.0);
        let log = last_log(&s);
        assert!(log.contains("0.2 s after it opened, right after the app sent `forward`"), "{log}");
        assert!(log.contains("; waiting 1.0 s before trying again"), "{log}");
        match s.status(220.0).state {
            LinkState::Reconnecting { retry_in_ms: Some(ms), .. } => assert_eq!(ms, 1000.0),
            other => panic!("{other:?}"),
        }
        // The first frame is what a device that drops the link at once most likely choked on.
        s.tick(2000.0, 1.0);
        s.on_open(2000.0, None);
        for frame in ["{\"t\":\"drive\",\"seq\":1}", "b", "c"] {
            s.note_sent(frame);
        }
        s.on_close(2100.0, 1006, 1.0);
        let log = last_log(&s);
        assert!(
            log.contains("after the app sent `{\"t\":\"drive\",\"seq\":1}` and 2 more (the last `c`)"),
            "{log}"
        );
    }

    #[test]
    fn a_failed_attempt_asks_the_address_over_http_and_says_why() {
        let (mut s, _) = Session::new("ws://10.0.0.7:81/ws".into(), 0.0);
        assert_eq!(s.on_close(100.0, 1006, 0.5), vec![Action::Probe("http://10.0.0.7:81/ws".into())]);
        // One probe at a time, and not more often than every 10 s.
        s.tick(1000.0, 0.5);
        assert_eq!(s.on_close(1100.0, 1006, 0.5), vec![]);
        s.on_probe(1200.0, "http://10.0.0.7:81/ws", Answer::Status(404), "http://10.0.0.7:81");
        s.on_probe(1201.0, "http://10.0.0.1/ws", Answer::Nothing, "http://10.0.0.7:81");
        let why = s.status(1200.0).diagnosis.unwrap();
        assert!(why.contains("no WebSocket at /ws (404)"), "{why}");
        assert!(last_log(&s).contains("404"));
        s.tick(2000.0, 0.5);
        assert_eq!(s.on_close(2100.0, 1006, 0.5), vec![]);
        s.tick(11_000.0, 0.5);
        assert_eq!(s.on_close(11_100.0, 1006, 0.5).len(), 1);
        // A connection that opens clears it; a later close is explained by its code.
        s.on_probe(11_200.0, "http://10.0.0.7:81/ws", Answer::Nothing, "http://10.0.0.7:81");
        s.tick(20_000.0, 0.5);
        s.on_open(20_000.0, None);
        assert_eq!(s.status(20_000.0).diagnosis, None);
        assert_eq!(s.on_close(25_000.0, 1013, 0.5), vec![], "an open socket needs no probe");
        assert!(s.status(25_000.0).diagnosis.unwrap().contains("too many phones"));
    }

    #[test]
    fn a_connect_that_times_out_is_probed_too() {
        let (mut s, _) = Session::new("ws://10.0.0.7/ws".into(), 0.0);
        let actions = s.tick(5000.0, 0.5);
        assert_eq!(
            actions,
            vec![Action::Close(CloseReason::Timeout), Action::Probe("http://10.0.0.7/ws".into())]
        );
    }

    #[test]
    fn frames_it_cannot_use_are_listed_once_each_and_counted() {
        let mut s = legacy();
        for i in 0..50 {
            s.on_text(100.0 + f64::from(i), "OK");
        }
        s.on_text(200.0, r#"{"t":"future"}"#);
        s.on_text(300.0, "OK");
        let unused = s.unused();
        assert_eq!(unused.len(), 2);
        assert_eq!((unused[1].preview.as_str(), unused[1].count), ("OK", 51));
        assert_eq!(unused[1].why, "not telemetry: ignored");
        assert!(unused[0].why.contains("`future`"));
        assert_eq!(s.counters().ignored, 51);
        assert_eq!(s.counters().not_json, 51);
        let lines = s.log().entries().filter(|e| e.text.contains("`OK`")).count();
        assert_eq!(lines, 1, "repeats do not flood the log");
    }

    #[test]
    fn hello_names_the_device() {
        let mut s = session();
        assert_eq!(s.status(20.0).device_name, None);
        s.on_text(20.0, r#"{"t":"hello","v":1,"name":"Car 1","caps":["drive"],"watchdog_ms":300}"#);
        assert_eq!(s.status(20.0).device_name.as_deref(), Some("Car 1"));
        assert_eq!(s.device().unwrap().watchdog_ms, Some(300));
        assert!(last_log(&s).contains("Car 1"));
    }

    #[test]
    fn hello_can_describe_series() {
        let mut s = session();
        s.on_text(20.0, r#"{"t":"hello","series":{"temp":{"label":"Temperature","unit":"°C"}}}"#);
        let meta = s.series_meta("temp").unwrap();
        assert_eq!((meta.label.as_deref(), meta.unit.as_deref()), (Some("Temperature"), Some("°C")));
        assert!(s.series_meta("other").is_none());
    }

    #[test]
    fn every_telemetry_shape_makes_series() {
        let mut s = session();
        s.on_text(20.0, r#"{"t":"tel","ms":1,"d":{"temp":21.5}}"#);
        s.on_text(21.0, r#"{"humidity":40}"#);
        s.on_text(22.0, "23.5");
        let names: Vec<_> = s.series().iter().map(|x| x.name.clone()).collect();
        assert_eq!(names, ["temp", "humidity", "value"]);
    }

    #[test]
    fn bad_frames_are_counted_logged_and_survived() {
        let mut s = session();
        s.on_text(20.0, "{ garbage");
        s.on_text(30.0, &"x".repeat(1024 * 1024));
        s.on_binary(40.0, 3);
        s.on_text(50.0, r#"{"t":"future_thing"}"#);
        s.on_text(60.0, "OK");
        s.on_text(2000.0, r#"{"t":"tel","d":{"temp":1}}"#);
        let c = s.counters();
        assert_eq!((c.frames, c.malformed, c.oversized, c.binary, c.unknown, c.ignored), (7, 1, 1, 1, 1, 1));
        assert_eq!(s.status(2000.0).state, LinkState::Connected);
        assert_eq!(s.series().get("temp").unwrap().value, wsdeck_protocol::Reading::Num(1.0));
        assert!(s
            .log()
            .entries()
            .any(|e| e.text.contains("malformed frame") && e.text.contains("{ garbage")));
    }

    #[test]
    fn a_flood_of_garbage_adds_one_log_line_a_second() {
        let mut s = session();
        let before = s.log().entries().count();
        for i in 0..1000 {
            s.on_text(100.0 + f64::from(i), "{not json");
        }
        assert_eq!(s.counters().malformed, 1000);
        assert_eq!(s.log().entries().count(), before + 1);
    }

    #[test]
    fn pong_gives_rtt_while_connected() {
        let mut s = session();
        let id = match s.tick(100.0, 0.5).as_slice() {
            [Action::Send(f)] => match wsdeck_protocol::AppMsg::decode(f).unwrap() {
                wsdeck_protocol::AppMsg::Ping { id } => id,
                m => panic!("{m:?}"),
            },
            a => panic!("{a:?}"),
        };
        s.on_text(123.45, &format!(r#"{{"t":"pong","id":{id}}}"#));
        assert_eq!(s.status(130.0).rtt_ms, Some(23.5));
        s.on_close(200.0, 1006, 0.5);
        assert_eq!(s.status(200.0).rtt_ms, None, "no RTT shown while the link is down");
    }

    #[test]
    fn loss_shows_reconnecting_with_a_countdown() {
        let mut s = session();
        s.on_close(2000.0, 1006, 1.0);
        match s.status(2010.0).state {
            LinkState::Reconnecting { attempt: 2, retry_in_ms: Some(ms) } => assert_eq!(ms, 300.0),
            other => panic!("{other:?}"),
        }
        assert!(last_log(&s).contains("connection dropped"));
        assert_eq!(s.tick(2250.0, 1.0), vec![Action::Open]);
        assert!(matches!(s.status(2250.0).state, LinkState::Reconnecting { retry_in_ms: None, .. }));
    }

    #[test]
    fn never_reached_is_connecting_not_reconnecting() {
        let (mut s, _) = Session::new("ws://127.0.0.1:1/ws".into(), 0.0);
        assert_eq!(s.status(0.0).state.name(), "connecting");
        s.on_close(5.0, 1006, 0.5);
        assert_eq!(s.status(6.0).state.name(), "connecting");
        assert!(last_log(&s).starts_with("cannot reach ws://127.0.0.1:1/ws"));
    }

    #[test]
    fn rate_counts_frames_per_second() {
        let mut s = session();
        for i in 0..100 {
            s.on_text(1000.0 + f64::from(i) * 10.0, "1");
        }
        assert_eq!(s.status(2000.0).rate, 100.0);
    }

    #[test]
    fn changing_address_forgets_the_old_device() {
        let mut s = session();
        s.on_text(20.0, r#"{"t":"hello","name":"Old"}"#);
        s.on_text(21.0, r#"{"t":"tel","d":{"a":1}}"#);
        let actions = s.set_url("ws://127.0.0.1:9/ws".into(), None, 30.0);
        assert_eq!(actions, vec![Action::Close(CloseReason::Restart), Action::Open]);
        assert_eq!(s.status(30.0).device_name, None);
        assert!(s.series().is_empty());
        assert_eq!(s.status(30.0).url, "ws://127.0.0.1:9/ws");
    }

    #[test]
    fn drive_state_is_shown_only_while_connected() {
        let mut s = session();
        s.on_text(20.0, r#"{"t":"state","driver":2,"you":2,"armed":true,"failsafe":null}"#);
        assert_eq!(s.status(20.0).drive.unwrap().driver, Some(2));
        s.on_close(30.0, 1006, 0.5);
        assert_eq!(s.status(30.0).drive, None);
    }

    /// The fuzz target `session` (fuzz/) on stable Rust: mutated test vectors fed to a session
    /// as a device would send them, interleaved with the clock. Nothing may panic, every frame is
    /// counted once, and the link stays up because frames keep coming.
    #[test]
    fn thousands_of_hostile_frames_are_survived_and_counted() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../protocol/vectors.json")).unwrap();
        let frames: Vec<&str> =
            file["vectors"].as_array().unwrap().iter().map(|v| v["frame"].as_str().unwrap()).collect();
        let mut m = wsdeck_protocol::mutate::Mutator::new(0x5E55);
        for _ in 0..10 {
            let mut s = session();
            let mut now = 20.0;
            for _ in 0..2000 {
                let bytes = m.mutate(&frames);
                now += (m.below(20) as f64) * 0.5;
                match std::str::from_utf8(&bytes) {
                    Ok(text) => {
                        for action in s.on_text(now, text) {
                            assert!(matches!(action, Action::Send(_) | Action::Token(_)), "{action:?}");
                        }
                    }
                    Err(_) => s.on_binary(now, bytes.len()),
                }
                for action in s.tick(now, 0.5) {
                    assert!(matches!(action, Action::Send(_)), "{action:?}");
                }
            }
            let c = s.counters();
            assert_eq!(c.frames, 2001, "every frame counted once, the hello too");
            assert!(c.malformed + c.oversized + c.binary + c.unknown < c.frames);
            assert_eq!(s.status(now).state, LinkState::Connected);
            assert!(s.series().len() <= crate::series::MAX_SERIES);
        }
    }

    #[test]
    #[cfg(feature = "controls")]
    fn declared_controls_come_from_hello_and_controls_frames_and_values_from_ctl() {
        let mut s = session();
        let hello = r#"{"t":"hello","v":1,"controls":[{"id":"lights","kind":"toggle"},
            {"id":"x","kind":"knob"},{"id":"horn","kind":"button"}]}"#;
        s.on_text(20.0, hello);
        assert_eq!(s.controls().controls().count(), 2);
        assert!(s.log().entries().any(|e| e.text == "control 1 (`x`) skipped: unknown kind"), "noted");
        s.on_text(30.0, r#"{"t":"ctl","v":{"lights":true}}"#);
        assert_eq!(s.controls().shown(0).unwrap().value, wsdeck_protocol::CtlValue::Bool(true));
        // A person's change goes out through the session, with its own seq.
        let sent = s.control(40.0, |p, now| p.set(0, wsdeck_protocol::CtlValue::Bool(false), now, 0));
        assert_eq!(sent, vec![Action::Send(r#"{"t":"ctl","id":"lights","v":false,"seq":1}"#.into())]);
        s.on_text(50.0, r#"{"t":"controls","controls":[{"id":"pan","kind":"slider"}]}"#);
        let ids: Vec<_> = s.controls().controls().map(|c| c.id.clone()).collect();
        assert_eq!(ids, ["pan"]);
        s.set_url("ws://10.0.0.2/ws".into(), None, 60.0);
        assert!(s.controls().is_empty(), "another device declares its own");
    }

    #[test]
    #[cfg(feature = "controls")]
    fn a_held_button_is_released_before_the_app_closes_a_dead_link() {
        let mut s = session();
        s.on_text(20.0, r#"{"t":"hello","v":1,"controls":[{"id":"horn","kind":"button"}]}"#);
        s.control(30.0, |p, now| p.press(0, true, now));
        let actions = s.tick(3100.0, 0.5);
        assert_eq!(actions[0], Action::Send(r#"{"t":"ctl","id":"horn","v":false,"seq":2}"#.into()));
        assert_eq!(actions[1], Action::Close(CloseReason::Dead));
    }

    #[test]
    #[cfg(not(feature = "controls"))]
    fn without_the_controls_feature_declarations_and_values_are_not_read() {
        let mut s = session();
        s.on_text(20.0, r#"{"t":"hello","v":1,"controls":[{"id":"horn","kind":"button"}]}"#);
        s.on_text(30.0, r#"{"t":"ctl","v":{"horn":true}}"#);
        assert!(s.controls().is_empty());
        assert_eq!(s.status(40.0).state, LinkState::Connected);
    }

    #[test]
    fn previews_are_short_and_printable() {
        assert_eq!(preview("a\u{0}b"), "a·b");
        assert_eq!(preview(&"y".repeat(100)).chars().count(), 61);
    }
}
