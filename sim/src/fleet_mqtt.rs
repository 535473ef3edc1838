//! The simulated fleet on a broker (`--mqtt HOST:PORT --fleet N`): each [`Unit`] on its own
//! MQTT 3.1.1 connection (rumqttc) that logs in as the device's id, with a retained last will
//! `offline` on its status topic; what it publishes and when is the unit's, its clock a 5 ms
//! step. It reconnects every second while the broker is away, and says hello again when back.

use crate::config::Config;
use crate::fleet::{Publish, Qos, Unit, OFFLINE};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often each device's watchdog is checked and its car moved.
const STEP: Duration = Duration::from_millis(5);
/// The broker drops a device silent for 1.5 times this and publishes its last will.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Requests queued for one connection; past it a publish is dropped, as a device's full socket
/// buffer drops telemetry.
const QUEUE: usize = 256;
/// A frame from an app longer than this is not read (the protocol's frames are a few hundred bytes).
const MAX_PACKET: usize = 16 * 1024;

/// What one device's connection hands its device.
enum Link {
    /// (Re)connected: subscribe and say hello again.
    Up,
    /// The connection is lost: nothing is published until it is back.
    Down,
    /// A frame on one of its `down` topics.
    Frame(String, String),
}

/// Runs `--fleet` devices on the broker at `--mqtt` until the process is stopped.
pub async fn run(config: Config) {
    let Some((host, port)) = config.mqtt.clone() else { return };
    let units: Vec<Unit> = (1..=config.fleet).map(|n| Unit::new(&config, n)).collect();
    let first = units.first().map_or(String::new(), |u| u.id.clone());
    let last = units.last().map_or(String::new(), |u| u.id.clone());
    println!(
        "wsdeck-sim: {} simulated device(s) {first}..{last} on mqtt://{host}:{port}\n  \
         topics wsdeck/<id>/up, wsdeck/<id>/up/<app>, wsdeck/<id>/down/<app>, wsdeck/<id>/hello, wsdeck/<id>/status \
         (docs/FLEET.md)",
        units.len()
    );
    let mut tasks = tokio::task::JoinSet::new();
    for unit in units {
        let mut opts = MqttOptions::new(unit.id.clone(), host.clone(), port);
        opts.set_keep_alive(KEEP_ALIVE)
            .set_clean_session(true)
            .set_max_packet_size(MAX_PACKET, MAX_PACKET)
            .set_last_will(LastWill::new(unit.topics.status.clone(), OFFLINE, QoS::AtLeastOnce, true));
        if let Some(password) = &config.mqtt_password {
            opts.set_credentials(unit.id.clone(), password.clone());
        }
        tasks.spawn(device(unit, opts, config.period()));
    }
    while tasks.join_next().await.is_some() {}
}

/// One device: its connection's events, its step and its telemetry, in one loop.
async fn device(mut unit: Unit, opts: MqttOptions, period: Option<Duration>) {
    let (client, events) = AsyncClient::new(opts, QUEUE);
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let connection = tokio::spawn(connection(unit.id.clone(), unit.topics.clone(), events, tx));
    let started = Instant::now();
    let now = || started.elapsed().as_millis() as u64;
    let mut step = tokio::time::interval(STEP);
    step.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut tel = tokio::time::interval(period.unwrap_or(Duration::from_secs(3600)));
    tel.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut online = false;
    let mut last_step = now();
    loop {
        let out = tokio::select! {
            link = rx.recv() => match link {
                Some(Link::Up) => {
                    online = true;
                    let _ = client.try_subscribe(unit.topics.down.clone(), QoS::AtLeastOnce);
                    unit.connected()
                }
                Some(Link::Down) => {
                    online = false;
                    Vec::new()
                }
                Some(Link::Frame(topic, text)) => unit.down(&topic, &text, now()),
                None => break,
            },
            _ = step.tick() => {
                let t = now();
                let dt = (t - last_step) as f64 / 1000.0;
                last_step = t;
                unit.tick(t, dt)
            }
            _ = tel.tick(), if period.is_some() && online => unit.telemetry(now()),
        };
        if online {
            for p in out {
                send(&client, p);
            }
        }
    }
    connection.abort();
}

/// Queues `p` without waiting: a device does not stop its loop for a slow broker.
fn send(client: &AsyncClient, p: Publish) {
    let qos = match p.qos {
        Qos::AtMostOnce => QoS::AtMostOnce,
        Qos::AtLeastOnce => QoS::AtLeastOnce,
    };
    let _ = client.try_publish(p.topic, qos, p.retain, p.payload);
}

/// Drives the connection (rumqttc reconnects on the next poll after an error) and hands the
/// device what it needs. Says once why it cannot reach the broker, and again when that changes.
async fn connection(
    id: String,
    topics: crate::fleet::Topics,
    mut events: rumqttc::EventLoop,
    tx: mpsc::Sender<Link>,
) {
    let mut last_error = String::new();
    loop {
        let link = match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                if !last_error.is_empty() {
                    println!("wsdeck-sim: {id}: on the broker again");
                    last_error.clear();
                }
                Some(Link::Up)
            }
            Ok(Event::Incoming(Packet::Publish(p))) if topics.app_of(&p.topic).is_some() => {
                // Text frames only, as the WebSocket link takes them.
                String::from_utf8(p.payload.to_vec()).ok().map(|text| Link::Frame(p.topic, text))
            }
            Ok(_) => None,
            Err(e) => {
                let error = e.to_string();
                if error != last_error {
                    println!("wsdeck-sim: {id}: broker: {error} (trying again every second)");
                    last_error = error;
                }
                if tx.send(Link::Down).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                None
            }
        };
        if let Some(link) = link {
            if tx.send(link).await.is_err() {
                return;
            }
        }
    }
}
