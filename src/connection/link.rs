//! The connection's state machine, free of any browser API: when to open a socket, when to retry,
//! when to ping, and when a silent link is dead. Time comes in as `now_ms` (monotonic) and
//! randomness as `rand01`, so tests replay exact scenarios.
//!
//! A device is sent pings only once it has shown that it speaks protocol v1 ([`Link::heartbeat`]):
//! tutorial firmware drops the connection on a frame it does not expect, and cannot answer one.
//! Without a heartbeat there is no dead-link rule either; the socket closing is the only news.

use super::backoff::Backoff;
use super::pairing::Store;
use super::stats::RttWindow;
use std::collections::VecDeque;
use wsdeck_protocol::AppMsg;

/// Heartbeat period.
pub const PING_EVERY_MS: f64 = 1000.0;
/// A link that carried frames and then went silent this long is dead (a half-open TCP connection
/// never closes by itself).
pub const DEAD_AFTER_MS: f64 = 3000.0;
/// A socket still not open after this long is given up (phones can take 20 s to fail a connect to
/// an address that is gone).
pub const CONNECT_TIMEOUT_MS: f64 = 5000.0;
/// Pings awaiting their pong; older ones are forgotten.
const PENDING_PINGS: usize = 8;
/// A device that closes the connection sooner than this after it opened is probably refusing
/// something the app sent (or the app itself): the next attempts back off further instead of
/// starting over from the shortest delay.
pub const QUICK_CLOSE_MS: f64 = 1000.0;
/// Delays after quick closes: doubling from this, up to [`QUICK_CLOSE_CAP_MS`].
const QUICK_CLOSE_BASE_MS: f64 = 1000.0;
pub const QUICK_CLOSE_CAP_MS: f64 = 30_000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// A socket is opening.
    Connecting {
        since_ms: f64,
    },
    Connected {
        since_ms: f64,
    },
    /// The last attempt failed; the next one starts at `retry_at_ms`.
    Waiting {
        retry_at_ms: f64,
    },
    /// The browser reports no network at all; the next attempt starts when it comes back.
    Offline,
}

/// Why the link closed a socket itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No frame for [`DEAD_AFTER_MS`].
    Dead,
    /// Not open after [`CONNECT_TIMEOUT_MS`].
    Timeout,
    /// The user chose another address.
    Restart,
}

/// What the browser side must do, as the link and the session decide it.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a new socket (closing any old one first: never two at once).
    Open,
    /// Close the socket and forget it; its close event must not reach the link.
    Close(CloseReason),
    /// Send a text frame.
    Send(String),
    /// Save or forget this address's pairing token (the device accepted or refused it).
    Token(Store),
    /// Ask this `http://` address why the WebSocket did not open, and hand the answer to
    /// `Session::on_probe` (see `probe.rs`).
    Probe(String),
}

#[derive(Debug, Clone)]
pub struct Link {
    phase: Phase,
    backoff: Backoff,
    online: bool,
    ever_connected: bool,
    /// Frames received on the current socket, and when the last one came.
    frames_on_socket: u64,
    last_rx_ms: f64,
    next_ping_ms: f64,
    next_ping_id: u32,
    pending: VecDeque<(u32, f64)>,
    rtt: RttWindow,
    /// The device answers pings (it spoke protocol v1 on this address).
    heartbeat: bool,
    /// Connections in a row that the device closed within [`QUICK_CLOSE_MS`].
    quick_closes: u32,
}

impl Link {
    /// A link that starts connecting at once: the caller opens the first socket.
    pub fn new(now_ms: f64) -> (Link, Action) {
        let link = Link {
            phase: Phase::Connecting { since_ms: now_ms },
            backoff: Backoff::new(),
            online: true,
            ever_connected: false,
            frames_on_socket: 0,
            last_rx_ms: now_ms,
            next_ping_ms: now_ms,
            next_ping_id: 1,
            pending: VecDeque::new(),
            rtt: RttWindow::default(),
            heartbeat: false,
            quick_closes: 0,
        };
        (link, Action::Open)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn ever_connected(&self) -> bool {
        self.ever_connected
    }

    /// Failed attempts since the last successful open.
    pub fn failures(&self) -> u32 {
        self.backoff.failures()
    }

    /// Median round-trip time of recent pings on the current socket.
    pub fn rtt_ms(&self) -> Option<f64> {
        self.rtt.median()
    }

    /// Whether the device is pinged (it has shown it speaks protocol v1).
    pub fn has_heartbeat(&self) -> bool {
        self.heartbeat
    }

    /// When the last frame arrived on the current socket, if any did.
    pub fn last_frame_ms(&self) -> Option<f64> {
        (self.frames_on_socket > 0).then_some(self.last_rx_ms)
    }

    /// Connections in a row the device closed right after they opened.
    pub fn quick_closes(&self) -> u32 {
        self.quick_closes
    }

    /// The device showed that it speaks protocol v1: ping it from now on (the first ping at once),
    /// and hold it to the dead-link rule.
    pub fn heartbeat(&mut self, now_ms: f64) {
        if !self.heartbeat {
            self.heartbeat = true;
            self.next_ping_ms = now_ms;
            // Silence is counted from now: before, nobody was listening for it.
            self.last_rx_ms = self.last_rx_ms.max(now_ms);
        }
    }

    /// The socket opened.
    pub fn opened(&mut self, now_ms: f64) {
        self.phase = Phase::Connected { since_ms: now_ms };
        self.ever_connected = true;
        self.backoff.reset();
        self.frames_on_socket = 0;
        self.last_rx_ms = now_ms;
        self.next_ping_ms = now_ms;
        self.pending.clear();
        self.rtt.clear();
    }

    /// The socket closed or failed to open (the browser's `close` event). Returns the delay until
    /// the next attempt.
    pub fn closed(&mut self, now_ms: f64, rand01: f64) -> f64 {
        let delay = match self.phase {
            Phase::Connected { since_ms } if now_ms - since_ms < QUICK_CLOSE_MS => {
                // Opened and closed at once: whatever the device objects to, retrying fast would
                // only repeat it. Wait longer each time.
                self.quick_closes = self.quick_closes.saturating_add(1);
                let ceiling = QUICK_CLOSE_BASE_MS * 2f64.powi(self.quick_closes.min(16) as i32 - 1);
                ceiling.min(QUICK_CLOSE_CAP_MS) * (0.5 + 0.5 * rand01.clamp(0.0, 1.0))
            }
            Phase::Connected { .. } => {
                // The link was up for a while: the next loss starts from the shortest delay again.
                self.quick_closes = 0;
                self.backoff.next_delay_ms(rand01)
            }
            _ => self.backoff.next_delay_ms(rand01),
        };
        self.phase =
            if self.online { Phase::Waiting { retry_at_ms: now_ms + delay } } else { Phase::Offline };
        self.pending.clear();
        delay
    }

    /// Any frame arrived.
    pub fn received(&mut self, now_ms: f64) {
        self.frames_on_socket += 1;
        self.last_rx_ms = now_ms;
    }

    /// A pong arrived; returns its round-trip time if it answers a ping still remembered.
    pub fn pong(&mut self, now_ms: f64, id: u32) -> Option<f64> {
        let pos = self.pending.iter().position(|(pid, _)| *pid == id)?;
        let sent = self.pending[pos].1;
        self.pending.drain(..=pos);
        let rtt = (now_ms - sent).max(0.0);
        self.rtt.push(rtt);
        Some(rtt)
    }

    /// Called every ~100 ms.
    pub fn tick(&mut self, now_ms: f64, rand01: f64) -> Vec<Action> {
        match self.phase {
            Phase::Connected { .. } => {
                if !self.heartbeat {
                    return Vec::new();
                }
                if self.frames_on_socket > 0 && now_ms - self.last_rx_ms >= DEAD_AFTER_MS {
                    self.closed(now_ms, rand01);
                    return vec![Action::Close(CloseReason::Dead)];
                }
                if now_ms >= self.next_ping_ms {
                    let id = self.next_ping_id;
                    self.next_ping_id = self.next_ping_id.wrapping_add(1);
                    if self.pending.len() == PENDING_PINGS {
                        self.pending.pop_front();
                    }
                    self.pending.push_back((id, now_ms));
                    self.next_ping_ms = now_ms + PING_EVERY_MS;
                    return vec![Action::Send(AppMsg::Ping { id }.encode())];
                }
                Vec::new()
            }
            Phase::Connecting { since_ms } if now_ms - since_ms >= CONNECT_TIMEOUT_MS => {
                self.closed(now_ms, rand01);
                vec![Action::Close(CloseReason::Timeout)]
            }
            Phase::Waiting { retry_at_ms } if now_ms >= retry_at_ms => self.connect(now_ms),
            _ => Vec::new(),
        }
    }

    /// The network came back, the tab became visible, or the page was restored: retry now
    /// instead of waiting out the backoff, and check a connected link at once.
    pub fn wake(&mut self, now_ms: f64) -> Vec<Action> {
        match self.phase {
            Phase::Waiting { .. } | Phase::Offline if self.online => self.connect(now_ms),
            Phase::Connected { .. } => {
                self.next_ping_ms = now_ms;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The browser's `online` / `offline` events.
    pub fn set_online(&mut self, online: bool, now_ms: f64) -> Vec<Action> {
        self.online = online;
        match (online, self.phase) {
            (true, _) => self.wake(now_ms),
            (false, Phase::Waiting { .. }) => {
                self.phase = Phase::Offline;
                Vec::new()
            }
            (false, _) => Vec::new(),
        }
    }

    /// Drops the current socket and connects afresh (another address was chosen).
    pub fn restart(&mut self, now_ms: f64) -> Vec<Action> {
        self.backoff.reset();
        self.ever_connected = false;
        self.heartbeat = false;
        self.quick_closes = 0;
        self.rtt.clear();
        let mut actions = vec![Action::Close(CloseReason::Restart)];
        actions.extend(self.connect(now_ms));
        actions
    }

    fn connect(&mut self, now_ms: f64) -> Vec<Action> {
        self.phase = Phase::Connecting { since_ms: now_ms };
        self.frames_on_socket = 0;
        self.pending.clear();
        vec![Action::Open]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link to a device that speaks protocol v1.
    fn connected(now: f64) -> Link {
        let (mut link, first) = Link::new(0.0);
        assert_eq!(first, Action::Open);
        link.opened(now);
        link.heartbeat(now);
        link
    }

    #[test]
    fn a_device_that_has_not_spoken_v1_is_never_pinged_nor_declared_dead() {
        let (mut link, _) = Link::new(0.0);
        link.opened(10.0);
        // It answers a command with `OK` once, then stays silent for a minute.
        link.received(500.0);
        for t in (0..600).map(|i| f64::from(i) * 100.0) {
            assert!(link.tick(t, 0.5).is_empty(), "nothing unasked at {t} ms");
        }
        assert!(matches!(link.phase(), Phase::Connected { .. }));
        assert_eq!(link.last_frame_ms(), Some(500.0));
        assert!(!link.has_heartbeat());
        // Once it says hello, it is pinged at once and the dead-link rule holds.
        link.heartbeat(60_000.0);
        ping_id(&link.tick(60_000.0, 0.5));
        assert_eq!(link.tick(63_000.0, 0.5), vec![Action::Close(CloseReason::Dead)]);
    }

    #[test]
    fn a_device_that_closes_right_after_opening_is_not_hammered() {
        let (mut link, _) = Link::new(0.0);
        let mut now = 0.0;
        let mut delays = Vec::new();
        for _ in 0..8 {
            link.opened(now);
            let delay = link.closed(now + 200.0, 1.0);
            delays.push(delay);
            now += 200.0 + delay;
            assert_eq!(link.tick(now, 1.0), vec![Action::Open]);
        }
        assert_eq!(delays, [1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 30000.0, 30000.0, 30000.0]);
        assert_eq!(link.quick_closes(), 8);
        // Eight attempts took over two minutes, where the plain backoff would have made ~10 a
        // second; and a connection that then stays up resets it.
        assert!(now > 120_000.0);
        link.opened(now);
        assert_eq!(link.closed(now + 5000.0, 1.0), 250.0);
        assert_eq!(link.quick_closes(), 0);
    }

    #[test]
    fn quick_close_delays_are_jittered_but_never_short() {
        let (mut link, _) = Link::new(0.0);
        link.opened(0.0);
        assert_eq!(link.closed(100.0, 0.0), 500.0);
    }

    fn ping_id(actions: &[Action]) -> u32 {
        match actions {
            [Action::Send(frame)] => match AppMsg::decode(frame) {
                Ok(AppMsg::Ping { id }) => id,
                other => panic!("expected a ping, got {other:?}"),
            },
            other => panic!("expected one send, got {other:?}"),
        }
    }

    #[test]
    fn pings_every_second_and_measures_rtt() {
        let mut link = connected(0.0);
        let first = ping_id(&link.tick(0.0, 0.5));
        assert!(link.tick(500.0, 0.5).is_empty());
        let second = ping_id(&link.tick(1000.0, 0.5));
        assert_eq!(second, first + 1);
        link.received(1012.0);
        assert_eq!(link.pong(1012.0, second), Some(12.0));
        assert_eq!(link.rtt_ms(), Some(12.0));
        // The first ping's pong, late, is forgotten with it.
        assert_eq!(link.pong(1013.0, first), None);
        assert_eq!(link.pong(1014.0, 999), None);
    }

    #[test]
    fn silence_after_frames_is_a_dead_link() {
        let mut link = connected(0.0);
        link.received(100.0);
        for t in (200..=3000).step_by(100) {
            let t = f64::from(t);
            let actions = link.tick(t, 0.5);
            assert!(!actions.contains(&Action::Close(CloseReason::Dead)), "dead too early at {t}");
        }
        let actions = link.tick(3100.0, 0.5);
        assert_eq!(actions, vec![Action::Close(CloseReason::Dead)]);
        assert!(matches!(link.phase(), Phase::Waiting { .. }));
    }

    #[test]
    fn a_device_that_never_sent_a_frame_is_not_declared_dead() {
        let mut link = connected(0.0);
        for i in 0..100 {
            let actions = link.tick(f64::from(i) * 100.0, 0.5);
            assert!(actions.iter().all(|a| matches!(a, Action::Send(_))));
        }
        assert!(matches!(link.phase(), Phase::Connected { .. }));
    }

    #[test]
    fn retries_with_backoff_then_resets_after_success() {
        let (mut link, _) = Link::new(0.0);
        assert_eq!(link.closed(10.0, 1.0), 250.0);
        assert_eq!(link.phase(), Phase::Waiting { retry_at_ms: 260.0 });
        assert!(link.tick(259.0, 1.0).is_empty());
        assert_eq!(link.tick(260.0, 1.0), vec![Action::Open]);
        assert_eq!(link.closed(270.0, 1.0), 500.0);
        assert_eq!(link.tick(770.0, 1.0), vec![Action::Open]);
        assert_eq!(link.failures(), 2);
        link.opened(800.0);
        assert_eq!(link.failures(), 0);
        assert_eq!(link.closed(5800.0, 1.0), 250.0);
    }

    #[test]
    fn a_hanging_connect_times_out() {
        let (mut link, _) = Link::new(0.0);
        assert!(link.tick(4999.0, 0.5).is_empty());
        assert_eq!(link.tick(5000.0, 0.5), vec![Action::Close(CloseReason::Timeout)]);
        assert!(matches!(link.phase(), Phase::Waiting { .. }));
    }

    #[test]
    fn wake_retries_at_once() {
        let (mut link, _) = Link::new(0.0);
        for _ in 0..6 {
            link.closed(0.0, 1.0);
        }
        assert_eq!(link.phase(), Phase::Waiting { retry_at_ms: super::super::backoff::CAP_MS });
        assert_eq!(link.wake(100.0), vec![Action::Open]);
        assert_eq!(link.phase(), Phase::Connecting { since_ms: 100.0 });
        assert!(link.wake(150.0).is_empty(), "never two sockets at once");
    }

    #[test]
    fn wake_on_a_connected_link_pings_now() {
        let mut link = connected(0.0);
        ping_id(&link.tick(0.0, 0.5));
        assert!(link.tick(200.0, 0.5).is_empty());
        assert!(link.wake(300.0).is_empty());
        ping_id(&link.tick(300.0, 0.5));
    }

    #[test]
    fn offline_holds_retries_until_online() {
        let (mut link, _) = Link::new(0.0);
        link.closed(0.0, 0.5);
        assert!(link.set_online(false, 10.0).is_empty());
        assert_eq!(link.phase(), Phase::Offline);
        assert!(link.tick(60_000.0, 0.5).is_empty());
        link.closed(60_000.0, 0.5);
        assert_eq!(link.phase(), Phase::Offline);
        assert_eq!(link.set_online(true, 60_100.0), vec![Action::Open]);
    }

    #[test]
    fn restart_closes_then_opens() {
        let mut link = connected(0.0);
        link.closed(10.0, 1.0);
        assert_eq!(link.restart(20.0), vec![Action::Close(CloseReason::Restart), Action::Open]);
        assert!(!link.ever_connected());
        assert_eq!(link.failures(), 0);
    }

    #[test]
    fn ping_ids_wrap_without_panicking() {
        let mut link = connected(0.0);
        link.next_ping_id = u32::MAX;
        assert_eq!(ping_id(&link.tick(0.0, 0.5)), u32::MAX);
        assert_eq!(ping_id(&link.tick(1000.0, 0.5)), 0);
    }
}
