//! One device's link over the broker, shaped like its WebSocket to the rest of the app: the
//! session asks it to open and close and hands it frames; it says when the "socket" opened
//! (the broker accepted us and the device's `status` is `online`), hands on the device's frames
//! from `up` and `up/<app>`, and says when it closed. The lease, the heartbeat, the watchdog
//! rules and every stop path stay in the session (src/connection/session.rs): this only carries.
//!
//! Addresses of the form `ws://host:9001/mqtt#<device id>` choose it ([`parse_address`]).

use super::mqtt::{Client, Login, Out};
use super::topics::{self, Topic};

/// Frames held until the device is seen on line (its retained hello may come first).
const EARLY_FRAMES: usize = 16;

/// `ws://host:9001/mqtt#sim-01` -> (`ws://host:9001/mqtt`, `sim-01`). A WebSocket address never
/// has a fragment, so `#` says "this device, through this broker".
pub fn parse_address(url: &str) -> Option<(&str, &str)> {
    let (broker, id) = url.split_once('#')?;
    (broker.starts_with("ws://") || broker.starts_with("wss://")).then_some(())?;
    topics::valid_id(id).then_some((broker, id))
}

/// The address of device `id` through `broker`.
pub fn address(broker: &str, id: &str) -> String {
    format!("{}#{id}", broker.trim_end_matches('#'))
}

/// What the browser side must do and tell the session.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Open the broker's WebSocket (subprotocol `mqtt`).
    OpenSocket,
    CloseSocket,
    /// Binary bytes for the broker.
    Send(Vec<u8>),
    /// Tell the session the link opened (`on_open`).
    Opened,
    /// A frame from the device for the session (`on_text`).
    Frame(String),
    /// Tell the session the link closed (`on_close` with 1006), and why.
    Closed(String),
}

/// What the connection hands a device's carrier, through [`carry`].
#[derive(Debug)]
pub enum Input<'a> {
    /// The session's `Open`: a new carrier for device `.1`, logging in as `.0`.
    Start(Login, &'a str),
    SocketOpen,
    SocketBytes(&'a [u8]),
    SocketClose,
    /// The connection's tick (the MQTT keep-alive).
    Tick,
    /// A frame from the session; the answer's bool says whether it went out.
    Send(&'a str),
}

/// The connection's one way into the carrier in `slot` (created by [`Input::Start`]): what it
/// says, and for [`Input::Send`] whether the frame went out. With `split` this code and the MQTT
/// client's are in the Fleet page's wasm chunk (src/shell/chunks.rs), loaded before a broker link
/// opens, so a phone on one device's WebSocket never fetches them.
pub fn carry(slot: &mut Option<Carrier>, now_ms: f64, input: Input<'_>) -> (bool, Vec<Event>) {
    if let Input::Start(login, device) = input {
        let mut carrier = Carrier::new(login, device);
        let events = carrier.open(now_ms);
        *slot = Some(carrier);
        return (true, events);
    }
    let Some(carrier) = slot.as_mut() else { return (false, Vec::new()) };
    match input {
        Input::Start(..) => (false, Vec::new()),
        Input::SocketOpen => (true, carrier.on_socket_open(now_ms)),
        Input::SocketBytes(bytes) => (true, carrier.on_socket_bytes(now_ms, bytes)),
        Input::SocketClose => (true, carrier.on_socket_close(now_ms)),
        Input::Tick => (true, carrier.tick(now_ms)),
        Input::Send(frame) => carrier.send(now_ms, frame),
    }
}

#[derive(Debug, Clone)]
pub struct Carrier {
    client: Client,
    device: String,
    /// The broker accepted us and the subscriptions went out.
    up: bool,
    /// The device's last `status` said `online`.
    online: bool,
    /// The session was told the link opened.
    opened: bool,
    early: Vec<String>,
}

impl Carrier {
    /// A carrier for `device`; nothing happens until [`Carrier::open`].
    pub fn new(login: Login, device: &str) -> Carrier {
        // The session reconnects by its own rules: one attempt per `open`.
        let mut client = Client::new(login, false);
        let me = client.login().client_id.clone();
        for topic in [topics::status(device), topics::up(device), topics::up_for(device, &me)] {
            client.subscribe(0.0, &topic);
        }
        Carrier {
            client,
            device: device.to_string(),
            up: false,
            online: false,
            opened: false,
            early: Vec::new(),
        }
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn is_open(&self) -> bool {
        self.opened
    }

    /// The session's `Open`.
    pub fn open(&mut self, now_ms: f64) -> Vec<Event> {
        self.reset();
        let out = self.client.connect(now_ms);
        self.map(out)
    }

    /// The session's `Close`: no `Closed` comes back.
    pub fn close(&mut self) -> Vec<Event> {
        self.reset();
        let out = self.client.stop();
        self.map(out).into_iter().filter(|e| !matches!(e, Event::Closed(_))).collect()
    }

    /// A frame from the session, at the QoS its kind travels at (docs/PROTOCOL.md); false when
    /// the link is not open (as a closed WebSocket's send).
    pub fn send(&mut self, now_ms: f64, frame: &str) -> (bool, Vec<Event>) {
        if !self.opened {
            return (false, Vec::new());
        }
        let topic = topics::down(&self.device, &self.client.login().client_id);
        let out = self.client.publish(now_ms, &topic, topics::qos1(frame), frame);
        let sent = out.iter().any(|o| matches!(o, Out::Send(_)));
        (sent, self.map(out))
    }

    pub fn on_socket_open(&mut self, now_ms: f64) -> Vec<Event> {
        let out = self.client.on_open(now_ms);
        self.map(out)
    }

    pub fn on_socket_bytes(&mut self, now_ms: f64, bytes: &[u8]) -> Vec<Event> {
        let out = self.client.on_bytes(now_ms, 0.5, bytes);
        self.map(out)
    }

    pub fn on_socket_close(&mut self, now_ms: f64) -> Vec<Event> {
        let out = self.client.on_close(now_ms, 0.5);
        self.map(out)
    }

    /// The MQTT keep-alive (the session's own heartbeat runs over it, as `ping` frames).
    pub fn tick(&mut self, now_ms: f64) -> Vec<Event> {
        let out = self.client.tick(now_ms, 0.5);
        self.map(out)
    }

    fn reset(&mut self) {
        self.up = false;
        self.online = false;
        self.opened = false;
        self.early.clear();
    }

    fn map(&mut self, out: Vec<Out>) -> Vec<Event> {
        let mut events = Vec::new();
        for o in out {
            match o {
                Out::Open => events.push(Event::OpenSocket),
                Out::Close => events.push(Event::CloseSocket),
                Out::Send(b) => events.push(Event::Send(b)),
                Out::Connected => self.up = true,
                Out::Lost(why) => {
                    let was = self.opened || self.up;
                    self.reset();
                    if was || !why.is_empty() {
                        events.push(Event::Closed(why));
                    }
                }
                Out::Message { topic, payload, .. } => self.on_message(&topic, payload, &mut events),
            }
        }
        if self.up && self.online && !self.opened {
            self.opened = true;
            events.push(Event::Opened);
            events.extend(self.early.drain(..).map(Event::Frame));
        }
        events
    }

    fn on_message(&mut self, topic: &str, payload: String, events: &mut Vec<Event>) {
        let me = self.client.login().client_id.as_str();
        match topics::parse(topic) {
            Some(Topic::Status(id)) if id == self.device => {
                let online = payload.trim() == "online";
                if self.online && !online {
                    // The device left (its last will): the session's socket closed.
                    let why = "the device went off line (its broker status)".to_string();
                    let out = self.client.stop();
                    self.reset();
                    events.extend(self.map(out));
                    events.push(Event::Closed(why));
                    return;
                }
                self.online = online;
            }
            Some(Topic::Up { id, for_app }) if id == self.device && for_app.is_none_or(|a| a == me) => {
                // The `state` on `up` is as an app that sent nothing sees it (`you` null); ours,
                // with `you`, comes on `up/<app>`. Taking both would make the driver "watch".
                if for_app.is_none() && is_state(&payload) {
                    return;
                }
                if self.opened {
                    events.push(Event::Frame(payload));
                } else if self.early.len() < EARLY_FRAMES {
                    self.early.push(payload);
                }
            }
            _ => {}
        }
    }
}

fn is_state(frame: &str) -> bool {
    frame.contains("\"state\"")
        && matches!(wsdeck_protocol::DeviceMsg::decode(frame), Ok(wsdeck_protocol::DeviceMsg::State(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use mqttbytes::v4::{self, Packet};
    use mqttbytes::QoS;

    const ME: &str = "wsdeck-0badf00d";

    fn carrier() -> Carrier {
        Carrier::new(Login { client_id: ME.into(), username: None, password: None }, "sim-01")
    }

    fn wire(p: impl FnOnce(&mut BytesMut) -> Result<usize, mqttbytes::Error>) -> Vec<u8> {
        let mut b = BytesMut::new();
        p(&mut b).unwrap();
        b.to_vec()
    }

    fn publish(topic: &str, payload: &str) -> Vec<u8> {
        wire(|b| v4::Publish::new(topic, QoS::AtMostOnce, payload).write(b))
    }

    fn packets(events: &[Event]) -> Vec<Packet> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Send(b) => Some(v4::read(&mut BytesMut::from(&b[..]), 1 << 16).unwrap()),
                _ => None,
            })
            .collect()
    }

    /// Broker up, subscriptions sent.
    fn connected() -> Carrier {
        let mut c = carrier();
        assert_eq!(c.open(0.0), vec![Event::OpenSocket]);
        c.on_socket_open(1.0);
        let ev = c.on_socket_bytes(
            2.0,
            &wire(|b| v4::ConnAck::new(v4::ConnectReturnCode::Success, false).write(b)),
        );
        let Packet::Subscribe(s) = &packets(&ev)[0] else { panic!("{ev:?}") };
        let paths: Vec<_> = s.filters.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["wsdeck/sim-01/status", "wsdeck/sim-01/up", "wsdeck/sim-01/up/wsdeck-0badf00d"]);
        c
    }

    #[test]
    fn carry_starts_a_carrier_and_hands_it_every_input() {
        let mut slot = None;
        let login = Login { client_id: ME.into(), username: None, password: None };
        // Nothing to carry before a start: nothing goes out, nothing is made up.
        assert_eq!(carry(&mut slot, 0.0, Input::Send("{}")), (false, Vec::new()));
        assert_eq!(carry(&mut slot, 0.0, Input::Tick), (false, Vec::new()));
        assert_eq!(carry(&mut slot, 0.0, Input::Start(login, "sim-01")), (true, vec![Event::OpenSocket]));
        assert_eq!(slot.as_ref().map(Carrier::device), Some("sim-01"));
        let (_, ev) = carry(&mut slot, 1.0, Input::SocketOpen);
        assert!(matches!(packets(&ev)[..], [Packet::Connect(_)]), "{ev:?}");
        let connack = wire(|b| v4::ConnAck::new(v4::ConnectReturnCode::Success, false).write(b));
        let (_, ev) = carry(&mut slot, 2.0, Input::SocketBytes(&connack));
        assert!(matches!(packets(&ev)[..], [Packet::Subscribe(_)]), "{ev:?}");
        // Not open until the device is seen on line: a frame does not go out.
        assert_eq!(carry(&mut slot, 3.0, Input::Send(r#"{"t":"ping","id":1}"#)), (false, Vec::new()));
        let (_, ev) = carry(&mut slot, 4.0, Input::SocketBytes(&publish("wsdeck/sim-01/status", "online")));
        assert_eq!(ev, vec![Event::Opened]);
        let (sent, ev) = carry(&mut slot, 5.0, Input::Send(r#"{"t":"ping","id":1}"#));
        assert!(sent);
        assert!(
            matches!(&packets(&ev)[..], [Packet::Publish(p)] if p.topic == "wsdeck/sim-01/down/wsdeck-0badf00d")
        );
        let (_, ev) = carry(&mut slot, 6.0, Input::SocketClose);
        assert!(matches!(&ev[..], [Event::Closed(_)]), "{ev:?}");
    }

    #[test]
    fn addresses_with_a_device_choose_the_broker() {
        assert_eq!(
            parse_address("ws://127.0.0.1:9001/mqtt#sim-01"),
            Some(("ws://127.0.0.1:9001/mqtt", "sim-01"))
        );
        assert_eq!(parse_address("ws://127.0.0.1:8080/ws"), None);
        assert_eq!(parse_address("ws://h/mqtt#a/b"), None);
        assert_eq!(parse_address("http://h/mqtt#a"), None);
        assert_eq!(address("ws://h:9001/mqtt", "sim-02"), "ws://h:9001/mqtt#sim-02");
    }

    #[test]
    fn opens_when_the_device_is_online_and_hands_on_the_held_hello_after() {
        let mut c = connected();
        assert!(c.on_socket_bytes(3.0, &publish("wsdeck/sim-01/up", r#"{"t":"hello"}"#)).is_empty());
        let ev = c.on_socket_bytes(4.0, &publish("wsdeck/sim-01/status", "online"));
        assert_eq!(ev, vec![Event::Opened, Event::Frame(r#"{"t":"hello"}"#.into())]);
        let ev =
            c.on_socket_bytes(5.0, &publish("wsdeck/sim-01/up/wsdeck-0badf00d", r#"{"t":"pong","id":1}"#));
        assert_eq!(ev, vec![Event::Frame(r#"{"t":"pong","id":1}"#.into())]);
        // The state everyone sees (`you` null) is not ours: ours comes on up/<app>.
        let everyone = r#"{"t":"state","driver":2,"you":null,"armed":true,"failsafe":null}"#;
        assert!(c.on_socket_bytes(5.5, &publish("wsdeck/sim-01/up", everyone)).is_empty());
        let ours = r#"{"t":"state","driver":2,"you":2,"armed":true,"failsafe":null}"#;
        assert_eq!(
            c.on_socket_bytes(5.6, &publish("wsdeck/sim-01/up/wsdeck-0badf00d", ours)),
            vec![Event::Frame(ours.into())]
        );
        // Another app's frames and another device's are not ours.
        assert!(c.on_socket_bytes(6.0, &publish("wsdeck/sim-01/up/other", "{}")).is_empty());
        assert!(c.on_socket_bytes(6.0, &publish("wsdeck/sim-02/up", "{}")).is_empty());
    }

    #[test]
    fn an_offline_device_does_not_open_and_its_last_will_closes() {
        let mut c = connected();
        assert!(c.on_socket_bytes(3.0, &publish("wsdeck/sim-01/status", "offline")).is_empty());
        assert!(!c.is_open());
        c.on_socket_bytes(4.0, &publish("wsdeck/sim-01/status", "online"));
        assert!(c.is_open());
        let ev = c.on_socket_bytes(5.0, &publish("wsdeck/sim-01/status", "offline"));
        assert_eq!(ev[0], Event::CloseSocket);
        assert!(matches!(&ev[1], Event::Closed(w) if w.contains("off line")), "{ev:?}");
        assert!(!c.is_open());
        assert!(!c.send(6.0, r#"{"t":"stop","seq":1}"#).0);
    }

    #[test]
    fn frames_go_down_under_our_client_id_drive_at_qos0_claim_at_qos1() {
        let mut c = connected();
        c.on_socket_bytes(3.0, &publish("wsdeck/sim-01/status", "online"));
        let (sent, ev) = c.send(4.0, r#"{"t":"drive","seq":1,"x":0,"y":500,"l":500,"r":500}"#);
        assert!(sent);
        let Packet::Publish(p) = &packets(&ev)[0] else { panic!() };
        assert_eq!(
            (p.topic.as_str(), p.qos, p.retain),
            ("wsdeck/sim-01/down/wsdeck-0badf00d", QoS::AtMostOnce, false)
        );
        let (_, ev) = c.send(5.0, r#"{"t":"claim"}"#);
        let Packet::Publish(p) = &packets(&ev)[0] else { panic!() };
        assert_eq!(p.qos, QoS::AtLeastOnce);
    }

    #[test]
    fn a_lost_broker_closes_the_session_link_once_and_close_says_nothing_back() {
        let mut c = connected();
        c.on_socket_bytes(3.0, &publish("wsdeck/sim-01/status", "online"));
        let ev = c.on_socket_close(10.0);
        assert!(matches!(&ev[..], [Event::Closed(_)]), "{ev:?}");
        assert!(c.on_socket_close(11.0).is_empty());
        let mut c = connected();
        c.on_socket_bytes(3.0, &publish("wsdeck/sim-01/status", "online"));
        assert_eq!(c.close(), vec![Event::CloseSocket]);
        // A dead broker (3 s silent) is a lost link too.
        let mut c = connected();
        c.on_socket_bytes(3.0, &publish("wsdeck/sim-01/status", "online"));
        let ev = c.tick(3100.0);
        assert!(ev.iter().any(|e| matches!(e, Event::Closed(_))), "{ev:?}");
    }
}
