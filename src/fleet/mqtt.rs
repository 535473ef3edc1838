//! An MQTT 3.1.1 client as pure logic: it is handed the socket's events and the time, and returns
//! what to do ([`Out`]): open or close the WebSocket, send bytes, report a message or a change of
//! link. Packets are read and written by `mqttbytes` (no packet code here); nothing a broker
//! sends can make it panic. Keep-alive and reconnect follow the device link's rules
//! (src/connection/link.rs, backoff.rs): a ping each second of silence, dead after 3 s.

use crate::connection::backoff::Backoff;
use crate::connection::link::{CONNECT_TIMEOUT_MS, DEAD_AFTER_MS, PING_EVERY_MS};
use mqttbytes::v4::{self, Packet};
use mqttbytes::QoS;

/// Told to the broker in CONNECT, in whole seconds: it drops a client silent for 1.5 of them. The
/// app pings every second, so 2 s lets a phone's lost link free its place within 3 s.
pub const KEEP_ALIVE_S: u16 = 2;
/// Biggest packet read; a protocol v1 frame is far smaller (MAX_FRAME_LEN), plus its topic.
pub const MAX_PACKET: usize = 64 * 1024;
/// QoS 1 messages awaiting their PUBACK; older ones are forgotten (and counted).
const INFLIGHT: usize = 64;

/// Who the app is to the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// Not started, or stopped after a loss without reconnect.
    Idle,
    /// The WebSocket is opening, or open and CONNECT sent: waiting for CONNACK.
    Connecting { since_ms: f64 },
    /// CONNACK accepted.
    Up { since_ms: f64 },
    /// The next attempt starts at `retry_at_ms`.
    Waiting { retry_at_ms: f64 },
}

/// What the browser side must do, and what happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Open a new WebSocket (subprotocol `mqtt`), closing any old one.
    Open,
    /// Close the WebSocket; its close event must not come back.
    Close,
    /// Send these bytes as one binary message.
    Send(Vec<u8>),
    /// The broker accepted us and the subscriptions were sent.
    Connected,
    /// The link is gone (closed, refused, dead or unreadable); why, for a person.
    Lost(String),
    /// A message on a subscribed topic (text only: protocol v1 frames are UTF-8 JSON).
    Message { topic: String, payload: String, retained: bool },
}

/// Link counters, for the Device page and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub sent: u64,
    pub received: u64,
    /// Packets that could not be read (the link is closed on the first one).
    pub malformed: u64,
    /// Messages that were not UTF-8, dropped.
    pub not_text: u64,
    /// QoS 1 messages never acknowledged before the link went (or too many waited).
    pub unacked: u64,
}

#[derive(Debug, Clone)]
pub struct Client {
    login: Login,
    phase: Phase,
    /// Try again after a loss (the Fleet page); the device link decides itself (`reconnect` off).
    reconnect: bool,
    backoff: Backoff,
    socket_open: bool,
    buf: Vec<u8>,
    subs: Vec<String>,
    next_pkid: u16,
    inflight: Vec<u16>,
    last_rx_ms: f64,
    last_tx_ms: f64,
    counters: Counters,
}

impl Client {
    pub fn new(login: Login, reconnect: bool) -> Client {
        Client {
            login,
            phase: Phase::Idle,
            reconnect,
            backoff: Backoff::new(),
            socket_open: false,
            buf: Vec::new(),
            subs: Vec::new(),
            next_pkid: 1,
            inflight: Vec::new(),
            last_rx_ms: 0.0,
            last_tx_ms: 0.0,
            counters: Counters::default(),
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn is_up(&self) -> bool {
        matches!(self.phase, Phase::Up { .. })
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    pub fn login(&self) -> &Login {
        &self.login
    }

    /// Starts (or restarts) a connection now.
    pub fn connect(&mut self, now_ms: f64) -> Vec<Out> {
        self.reset_socket();
        self.phase = Phase::Connecting { since_ms: now_ms };
        vec![Out::Open]
    }

    /// Closes the link and stays idle.
    pub fn stop(&mut self) -> Vec<Out> {
        let was_open = self.socket_open || !matches!(self.phase, Phase::Idle | Phase::Waiting { .. });
        self.reset_socket();
        self.phase = Phase::Idle;
        if was_open {
            vec![Out::Close]
        } else {
            Vec::new()
        }
    }

    /// The WebSocket opened: say who we are.
    pub fn on_open(&mut self, now_ms: f64) -> Vec<Out> {
        if !matches!(self.phase, Phase::Connecting { .. }) {
            return Vec::new();
        }
        self.socket_open = true;
        self.last_rx_ms = now_ms;
        let mut connect = v4::Connect::new(self.login.client_id.as_str());
        connect.keep_alive = KEEP_ALIVE_S;
        connect.clean_session = true;
        if let Some(user) = &self.login.username {
            connect.set_login(user.as_str(), self.login.password.as_deref().unwrap_or(""));
        }
        let mut out = Vec::new();
        self.write(now_ms, &mut out, |b| connect.write(b));
        out
    }

    /// Bytes from the broker (one WebSocket message; a packet may span several).
    pub fn on_bytes(&mut self, now_ms: f64, rand01: f64, bytes: &[u8]) -> Vec<Out> {
        let mut out = Vec::new();
        if !self.socket_open {
            return out;
        }
        self.last_rx_ms = now_ms;
        self.buf.extend_from_slice(bytes);
        let mut stream = bytes::BytesMut::from(&self.buf[..]);
        loop {
            match v4::read(&mut stream, MAX_PACKET) {
                Ok(packet) => {
                    self.counters.received += 1;
                    self.on_packet(now_ms, rand01, packet, &mut out);
                    if !self.socket_open {
                        return out;
                    }
                }
                Err(mqttbytes::Error::InsufficientBytes(_)) => break,
                Err(e) => {
                    self.counters.malformed += 1;
                    self.lose(
                        now_ms,
                        rand01,
                        format!("the broker sent what is not MQTT 3.1.1 ({e:?})"),
                        &mut out,
                    );
                    return out;
                }
            }
        }
        self.buf = stream.to_vec();
        out
    }

    /// The WebSocket closed (or failed to open).
    pub fn on_close(&mut self, now_ms: f64, rand01: f64) -> Vec<Out> {
        let mut out = Vec::new();
        if matches!(self.phase, Phase::Idle | Phase::Waiting { .. }) {
            return out;
        }
        self.socket_open = false;
        let why = if self.is_up() { "the broker closed the connection" } else { "cannot reach the broker" };
        self.lose(now_ms, rand01, why.into(), &mut out);
        // The socket is already closed: no Close for it.
        out.retain(|o| *o != Out::Close);
        out
    }

    /// Heartbeat, dead link, connect timeout and retry; call every ~100 ms.
    pub fn tick(&mut self, now_ms: f64, rand01: f64) -> Vec<Out> {
        let mut out = Vec::new();
        match self.phase {
            Phase::Connecting { since_ms } if now_ms - since_ms >= CONNECT_TIMEOUT_MS => {
                self.lose(now_ms, rand01, "the broker did not answer in time".into(), &mut out);
            }
            Phase::Up { .. } if now_ms - self.last_rx_ms >= DEAD_AFTER_MS => {
                self.lose(now_ms, rand01, "the broker went silent".into(), &mut out);
            }
            Phase::Up { .. }
                if now_ms - self.last_tx_ms >= PING_EVERY_MS || now_ms - self.last_rx_ms >= PING_EVERY_MS =>
            {
                self.write(now_ms, &mut out, |b| v4::PingReq.write(b));
            }
            Phase::Waiting { retry_at_ms } if now_ms >= retry_at_ms => out = self.connect(now_ms),
            _ => {}
        }
        out
    }

    /// Subscribes (at QoS 1) now if up, and again on every reconnect.
    pub fn subscribe(&mut self, now_ms: f64, topic: &str) -> Vec<Out> {
        let mut out = Vec::new();
        if self.subs.iter().any(|s| s == topic) {
            return out;
        }
        self.subs.push(topic.to_string());
        if self.is_up() {
            let pkid = self.pkid();
            let mut sub = v4::Subscribe::new(topic, QoS::AtLeastOnce);
            sub.pkid = pkid;
            self.write(now_ms, &mut out, |b| sub.write(b));
        }
        out
    }

    pub fn unsubscribe(&mut self, now_ms: f64, topic: &str) -> Vec<Out> {
        let mut out = Vec::new();
        let before = self.subs.len();
        self.subs.retain(|s| s != topic);
        if self.subs.len() != before && self.is_up() {
            let mut unsub = v4::Unsubscribe::new(topic);
            unsub.pkid = self.pkid();
            self.write(now_ms, &mut out, |b| unsub.write(b));
        }
        out
    }

    pub fn subscriptions(&self) -> &[String] {
        &self.subs
    }

    /// Publishes `payload` if the link is up (QoS 0 or 1, never retained); empty if it is not.
    pub fn publish(&mut self, now_ms: f64, topic: &str, qos1: bool, payload: &str) -> Vec<Out> {
        let mut out = Vec::new();
        if !self.is_up() {
            return out;
        }
        let qos = if qos1 { QoS::AtLeastOnce } else { QoS::AtMostOnce };
        let mut publish = v4::Publish::new(topic, qos, payload.as_bytes());
        if qos1 {
            publish.pkid = self.pkid();
            if self.inflight.len() >= INFLIGHT {
                self.inflight.remove(0);
                self.counters.unacked += 1;
            }
            self.inflight.push(publish.pkid);
        }
        self.write(now_ms, &mut out, |b| publish.write(b));
        out
    }

    /// QoS 1 messages sent and not yet acknowledged.
    pub fn inflight(&self) -> usize {
        self.inflight.len()
    }

    fn on_packet(&mut self, now_ms: f64, rand01: f64, packet: Packet, out: &mut Vec<Out>) {
        match packet {
            Packet::ConnAck(ack) => {
                if !matches!(self.phase, Phase::Connecting { .. }) {
                    return;
                }
                if ack.code != v4::ConnectReturnCode::Success {
                    let why = match ack.code {
                        v4::ConnectReturnCode::BadUserNamePassword | v4::ConnectReturnCode::NotAuthorized => {
                            "the broker refused the user name or password (Settings, Broker)"
                        }
                        _ => "the broker refused the connection",
                    };
                    self.lose(now_ms, rand01, why.into(), out);
                    return;
                }
                self.phase = Phase::Up { since_ms: now_ms };
                self.backoff.reset();
                if !self.subs.is_empty() {
                    let mut sub = v4::Subscribe::empty_subscribe();
                    for s in &self.subs {
                        sub.add(s.clone(), QoS::AtLeastOnce);
                    }
                    sub.pkid = self.pkid();
                    self.write(now_ms, out, |b| sub.write(b));
                }
                out.push(Out::Connected);
            }
            Packet::Publish(p) => {
                if p.qos != QoS::AtMostOnce {
                    // QoS 2 is never asked for; answer PUBACK to either so the broker moves on.
                    let ack = v4::PubAck::new(p.pkid);
                    self.write(now_ms, out, |b| ack.write(b));
                }
                match String::from_utf8(p.payload.to_vec()) {
                    Ok(payload) => out.push(Out::Message { topic: p.topic, payload, retained: p.retain }),
                    Err(_) => self.counters.not_text += 1,
                }
            }
            Packet::PubAck(ack) => self.inflight.retain(|id| *id != ack.pkid),
            // PINGRESP, SUBACK, UNSUBACK: the link is alive (last_rx_ms), nothing else to do.
            _ => {}
        }
    }

    fn pkid(&mut self) -> u16 {
        let id = self.next_pkid;
        self.next_pkid = if id == u16::MAX { 1 } else { id + 1 };
        id
    }

    fn write(
        &mut self,
        now_ms: f64,
        out: &mut Vec<Out>,
        packet: impl FnOnce(&mut bytes::BytesMut) -> Result<usize, mqttbytes::Error>,
    ) {
        let mut b = bytes::BytesMut::new();
        // Only over-long topics or payloads fail to encode: such a message is dropped.
        if packet(&mut b).is_ok() {
            self.last_tx_ms = now_ms;
            self.counters.sent += 1;
            out.push(Out::Send(b.to_vec()));
        }
    }

    fn reset_socket(&mut self) {
        self.socket_open = false;
        self.buf.clear();
        self.counters.unacked += self.inflight.len() as u64;
        self.inflight.clear();
    }

    fn lose(&mut self, now_ms: f64, rand01: f64, why: String, out: &mut Vec<Out>) {
        let was = self.phase;
        self.reset_socket();
        out.push(Out::Close);
        if matches!(was, Phase::Up { .. } | Phase::Connecting { .. }) {
            out.push(Out::Lost(why));
        }
        self.phase = if self.reconnect {
            Phase::Waiting { retry_at_ms: now_ms + self.backoff.next_delay_ms(rand01) }
        } else {
            Phase::Idle
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Login {
        Login {
            client_id: "wsdeck-0badf00d".into(),
            username: Some("deck".into()),
            password: Some("pw".into()),
        }
    }

    fn bytes(p: impl FnOnce(&mut bytes::BytesMut) -> Result<usize, mqttbytes::Error>) -> Vec<u8> {
        let mut b = bytes::BytesMut::new();
        p(&mut b).unwrap();
        b.to_vec()
    }

    fn sent(out: &[Out]) -> Vec<Packet> {
        out.iter()
            .filter_map(|o| match o {
                Out::Send(b) => Some(v4::read(&mut bytes::BytesMut::from(&b[..]), MAX_PACKET).unwrap()),
                _ => None,
            })
            .collect()
    }

    fn connack() -> Vec<u8> {
        bytes(|b| v4::ConnAck::new(v4::ConnectReturnCode::Success, false).write(b))
    }

    /// A client up at t = 0 with `wsdeck/+/status` subscribed.
    fn up() -> Client {
        let mut c = Client::new(login(), true);
        c.subscribe(0.0, "wsdeck/+/status");
        assert_eq!(c.connect(0.0), vec![Out::Open]);
        c.on_open(0.0);
        c.on_bytes(0.0, 0.5, &connack());
        assert!(c.is_up());
        c
    }

    #[test]
    fn connects_with_client_id_and_login_then_subscribes() {
        let mut c = Client::new(login(), true);
        c.subscribe(0.0, "wsdeck/+/status");
        c.connect(0.0);
        let out = c.on_open(5.0);
        let Packet::Connect(connect) = &sent(&out)[0] else { panic!("{out:?}") };
        assert_eq!(connect.client_id, "wsdeck-0badf00d");
        assert_eq!(connect.keep_alive, KEEP_ALIVE_S);
        assert!(connect.clean_session);
        let l = connect.login.as_ref().unwrap();
        assert_eq!((l.username.as_str(), l.password.as_str()), ("deck", "pw"));
        let out = c.on_bytes(10.0, 0.5, &connack());
        let Packet::Subscribe(sub) = &sent(&out)[0] else { panic!("{out:?}") };
        assert_eq!(sub.filters[0].path, "wsdeck/+/status");
        assert_eq!(sub.filters[0].qos, QoS::AtLeastOnce);
        assert_eq!(out.last(), Some(&Out::Connected));
    }

    #[test]
    fn refused_login_is_lost_and_retried_by_the_device_link_backoff() {
        let mut c = Client::new(login(), true);
        c.connect(0.0);
        c.on_open(0.0);
        let refused = bytes(|b| v4::ConnAck::new(v4::ConnectReturnCode::BadUserNamePassword, false).write(b));
        let out = c.on_bytes(100.0, 1.0, &refused);
        assert_eq!(out[0], Out::Close);
        assert!(matches!(&out[1], Out::Lost(why) if why.contains("password")), "{out:?}");
        // First retry within 250 ms (backoff.rs), the next within 500 ms.
        assert_eq!(c.phase(), Phase::Waiting { retry_at_ms: 350.0 });
        assert_eq!(c.tick(349.0, 1.0), vec![]);
        assert_eq!(c.tick(350.0, 1.0), vec![Out::Open]);
        assert!(c.on_close(400.0, 1.0).iter().all(|o| *o != Out::Close));
        assert_eq!(c.phase(), Phase::Waiting { retry_at_ms: 900.0 });
    }

    #[test]
    fn pings_after_a_second_of_silence_and_is_dead_after_three() {
        let mut c = up();
        assert_eq!(c.tick(500.0, 0.5), vec![]);
        assert_eq!(sent(&c.tick(1000.0, 0.5)), vec![Packet::PingReq]);
        c.on_bytes(1010.0, 0.5, &bytes(|b| v4::PingResp.write(b)));
        assert_eq!(c.tick(1500.0, 0.5), vec![]);
        assert_eq!(sent(&c.tick(2010.0, 0.5)), vec![Packet::PingReq]);
        let out = c.tick(4010.0, 0.5);
        assert_eq!(out[0], Out::Close);
        assert!(matches!(&out[1], Out::Lost(w) if w.contains("silent")));
        assert!(matches!(c.phase(), Phase::Waiting { .. }));
    }

    #[test]
    fn a_busy_sender_still_pings_when_nothing_comes_back() {
        let mut c = up();
        for t in (50..1000).step_by(50) {
            c.publish(t as f64, "wsdeck/sim-01/down/me", false, "{}");
            assert!(c.tick(t as f64, 0.5).is_empty());
        }
        assert_eq!(sent(&c.tick(1000.0, 0.5)), vec![Packet::PingReq]);
    }

    #[test]
    fn connect_timeout_after_five_seconds() {
        let mut c = Client::new(login(), false);
        c.connect(0.0);
        assert!(c.tick(4999.0, 0.5).is_empty());
        let out = c.tick(5000.0, 0.5);
        assert_eq!(out[0], Out::Close);
        // Without reconnect the owner (the device link) decides when to try again.
        assert_eq!(c.phase(), Phase::Idle);
    }

    #[test]
    fn qos1_publish_waits_for_puback_and_qos0_does_not() {
        let mut c = up();
        let out = c.publish(10.0, "wsdeck/a/down/me", true, r#"{"t":"claim"}"#);
        let Packet::Publish(p) = &sent(&out)[0] else { panic!() };
        assert_eq!((p.qos, p.retain, &p.payload[..]), (QoS::AtLeastOnce, false, &br#"{"t":"claim"}"#[..]));
        assert_eq!(c.inflight(), 1);
        c.publish(11.0, "wsdeck/a/down/me", false, r#"{"t":"stop"}"#);
        assert_eq!(c.inflight(), 1);
        c.on_bytes(12.0, 0.5, &bytes(|b| v4::PubAck::new(p.pkid).write(b)));
        assert_eq!(c.inflight(), 0);
    }

    #[test]
    fn not_up_nothing_is_published() {
        let mut c = Client::new(login(), true);
        assert!(c.publish(0.0, "t", false, "x").is_empty());
    }

    #[test]
    fn messages_are_delivered_and_qos1_acknowledged_even_split_across_socket_messages() {
        let mut c = up();
        let mut p = v4::Publish::new("wsdeck/sim-01/up", QoS::AtLeastOnce, &br#"{"t":"hello"}"#[..]);
        p.pkid = 7;
        p.retain = true;
        let wire = bytes(|b| p.write(b));
        assert!(c.on_bytes(1.0, 0.5, &wire[..3]).is_empty());
        let out = c.on_bytes(2.0, 0.5, &wire[3..]);
        assert_eq!(sent(&out), vec![Packet::PubAck(v4::PubAck::new(7))]);
        assert_eq!(
            out[1],
            Out::Message {
                topic: "wsdeck/sim-01/up".into(),
                payload: r#"{"t":"hello"}"#.into(),
                retained: true
            }
        );
        let two = [
            bytes(|b| v4::Publish::new("a", QoS::AtMostOnce, "1").write(b)),
            bytes(|b| v4::Publish::new("b", QoS::AtMostOnce, "2").write(b)),
        ]
        .concat();
        let topics: Vec<_> = c
            .on_bytes(3.0, 0.5, &two)
            .into_iter()
            .filter_map(|o| if let Out::Message { topic, .. } = o { Some(topic) } else { None })
            .collect();
        assert_eq!(topics, ["a", "b"]);
    }

    #[test]
    fn subscriptions_are_sent_again_after_a_reconnect_and_unsubscribe_forgets() {
        let mut c = up();
        let out = c.subscribe(1.0, "wsdeck/sim-02/up");
        assert!(matches!(&sent(&out)[0], Packet::Subscribe(_)));
        c.on_close(2.0, 0.0);
        c.tick(2.0, 0.0);
        c.on_open(3.0);
        let out = c.on_bytes(4.0, 0.0, &connack());
        let Packet::Subscribe(s) = &sent(&out)[0] else { panic!() };
        let paths: Vec<_> = s.filters.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["wsdeck/+/status", "wsdeck/sim-02/up"]);
        let out = c.unsubscribe(5.0, "wsdeck/sim-02/up");
        assert!(matches!(&sent(&out)[0], Packet::Unsubscribe(u) if u.topics == ["wsdeck/sim-02/up"]));
        assert_eq!(c.subscriptions(), ["wsdeck/+/status"]);
    }

    /// Nothing from the network may panic (the release build aborts): random bytes, random
    /// mutations of real packets, in random slices.
    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut tel = v4::Publish::new("wsdeck/sim-01/up", QoS::AtLeastOnce, "{\"t\":\"tel\"}");
        tel.pkid = 9;
        let mut real = bytes(|b| tel.write(b));
        real.extend(connack());
        let mut malformed = 0;
        for round in 0..20_000 {
            let mut c = up();
            let mut data: Vec<u8> = if round % 2 == 0 {
                (0..rand() % 64).map(|_| rand() as u8).collect()
            } else {
                let mut d = real.clone();
                for _ in 0..1 + rand() % 4 {
                    let i = (rand() as usize) % d.len();
                    d[i] = rand() as u8;
                }
                d
            };
            data.truncate(1 + (rand() as usize) % (data.len() + 1));
            let cut = (rand() as usize) % (data.len() + 1);
            c.on_bytes(1.0, 0.5, &data[..cut]);
            c.on_bytes(2.0, 0.5, &data[cut..]);
            malformed += c.counters().malformed;
        }
        assert!(malformed > 1000, "the fuzzer must reach the error paths: {malformed}");
    }
}
