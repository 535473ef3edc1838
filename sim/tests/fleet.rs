//! The simulated fleet on a real mosquitto (docs/FLEET.md), started by the test on free loopback
//! ports with the generated config, ACL and passwords: an app sees every device's retained hello
//! and `online`, drives one, sees the watchdog stop it, and sees `offline` by last will when the
//! simulator dies; a device may not publish on another device's topics nor read its `down`, a
//! wrong password is refused, and a broker restart is survived. Needs Debian's
//! mosquitto: `cargo xtask test` installs it and runs this (`-- --ignored`).

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;
use wsdeck_sim::fleet_broker::{self, Broker, APP_USER};

/// A child process stopped by its PID when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An MQTT client of the test's own, subscribed to `topics` on every (re)connection, and what it
/// receives as (topic, payload).
async fn client(
    port: u16,
    id: &str,
    user: &str,
    password: &str,
    topics: &[&str],
) -> (AsyncClient, mpsc::Receiver<(String, String)>) {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_credentials(user, password).set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(opts, 256);
    let (tx, rx) = mpsc::channel(4096);
    let (subscriber, topics) = (client.clone(), topics.iter().map(|t| t.to_string()).collect::<Vec<_>>());
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    for topic in &topics {
                        let _ = subscriber.try_subscribe(topic.clone(), QoS::AtLeastOnce);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let text = String::from_utf8_lossy(&p.payload).into_owned();
                    if tx.send((p.topic, text)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    (client, rx)
}

/// Starts mosquitto with the generated config and waits until it listens.
fn mosquitto(config: &std::path::Path, port: u16) -> Running {
    let child = Command::new(fleet_broker::MOSQUITTO)
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto runs");
    assert!(fleet_broker::wait_for_port(port, 50), "mosquitto did not listen on {port}");
    Running(child)
}

/// Reads until every device has said `online` (and, with `hello`, its hello on `up` and on
/// `hello`).
async fn all_online(rx: &mut mpsc::Receiver<(String, String)>, devices: &[String], hello: bool, what: &str) {
    let (mut hellos, mut names, mut online) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    until(rx, 10, what, |topic, text| {
        let id = topic.split('/').nth(1).unwrap_or("").to_string();
        let is_hello = text.contains(r#""t":"hello""#);
        if topic.ends_with("/up") && is_hello {
            hellos.insert(id);
        } else if topic.ends_with("/hello") && is_hello {
            names.insert(id);
        } else if topic.ends_with("/status") && text == "online" {
            online.insert(id);
        }
        let all = |set: &BTreeSet<String>| set.len() == devices.len();
        all(&online) && (!hello || (all(&hellos) && all(&names)))
    })
    .await;
    assert_eq!(online.into_iter().collect::<Vec<_>>(), devices);
}

/// Reads messages until `done` says so, failing after `secs` with what it was waiting for.
async fn until(
    rx: &mut mpsc::Receiver<(String, String)>,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&str, &str) -> bool,
) {
    let wait = async {
        while let Some((topic, text)) = rx.recv().await {
            if done(&topic, &text) {
                return;
            }
        }
    };
    timeout(Duration::from_secs(secs), wait).await.unwrap_or_else(|_| panic!("no {what} within {secs} s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs /usr/sbin/mosquitto (cargo xtask test installs it and runs this)"]
async fn a_fleet_on_mosquitto_is_seen_driven_fenced_restarted_and_left_by_last_will() {
    let dir = std::env::temp_dir().join(format!("wsdeck-fleet-test-{}", std::process::id()));
    let devices: Vec<String> = (1..=3).map(wsdeck_sim::fleet::device_id).collect();
    let broker = Broker {
        mqtt_port: fleet_broker::free_port().unwrap(),
        ws_port: fleet_broker::free_port().unwrap(),
        http_dir: None,
        devices: devices.clone(),
    };
    let written = broker.write(&dir).unwrap();
    let mut broker_process = mosquitto(&written.config, broker.mqtt_port);
    let mut sim = Running(
        Command::new(env!("CARGO_BIN_EXE_wsdeck-sim"))
            .args(["--mqtt", &format!("127.0.0.1:{}", broker.mqtt_port), "--fleet", "3"])
            .args(["--rate", "10", "--watchdog-ms", "300", "--mqtt-password-file"])
            .arg(&written.device_password_file)
            .stdout(Stdio::null())
            .spawn()
            .expect("the simulator runs"),
    );

    let app_topics = ["wsdeck/+/status", "wsdeck/+/hello", "wsdeck/+/up", "wsdeck/+/up/+"];
    let (app, mut rx) =
        client(broker.mqtt_port, "app-test", APP_USER, &written.app_password, &app_topics).await;
    all_online(&mut rx, &devices, true, "3 hellos (on up and on hello) and 3 online").await;

    // Drives sim-02 at 20 Hz for half a second: it says it is armed, to everyone.
    for seq in 1..=10 {
        let drive = format!(r#"{{"t":"drive","seq":{seq},"x":0,"y":500,"l":500,"r":500}}"#);
        app.publish("wsdeck/sim-02/down/app-test", QoS::AtMostOnce, false, drive).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until(&mut rx, 5, "sim-02 armed", |topic, text| {
        topic == "wsdeck/sim-02/up" && text.contains(r#""t":"state""#) && text.contains(r#""armed":true"#)
    })
    .await;
    // No more drive frames: its watchdog stops it.
    until(&mut rx, 5, "sim-02 stopped by its watchdog", |topic, text| {
        topic == "wsdeck/sim-02/up"
            && text.contains(r#""armed":false"#)
            && text.contains(r#""failsafe":"watchdog""#)
    })
    .await;

    // A device that logs in as sim-01 may not speak for sim-02, nor hear what is sent to it: the
    // broker drops those.
    let password = std::fs::read_to_string(&written.device_password_file).unwrap();
    let probe_topics = ["wsdeck/sim-02/down/+", "wsdeck/sim-01/down/+"];
    let (probe, mut heard) =
        client(broker.mqtt_port, "acl-probe", "sim-01", password.trim(), &probe_topics).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for topic in
        ["wsdeck/sim-02/up", "wsdeck/sim-02/hello", "wsdeck/sim-02/status", "wsdeck/sim-02/up/app-test"]
    {
        probe.publish(topic, QoS::AtLeastOnce, false, "forged").await.unwrap();
    }
    probe.publish("wsdeck/sim-01/up/app-test", QoS::AtLeastOnce, false, "its own").await.unwrap();
    until(&mut rx, 5, "the probe's frame on its own topic", |topic, text| {
        assert_ne!(text, "forged", "the broker let sim-01 publish on {topic}");
        text == "its own"
    })
    .await;
    let ping = r#"{"t":"ping","id":1}"#;
    app.publish("wsdeck/sim-02/down/app-test", QoS::AtLeastOnce, false, ping).await.unwrap();
    app.publish("wsdeck/sim-01/down/app-test", QoS::AtLeastOnce, false, ping).await.unwrap();
    until(&mut heard, 5, "a frame to sim-01 heard by sim-01", |topic, _| {
        assert_ne!(topic, "wsdeck/sim-02/down/app-test", "sim-01 heard what was sent to sim-02");
        topic == "wsdeck/sim-01/down/app-test"
    })
    .await;
    let (_, mut refused) =
        client(broker.mqtt_port, "intruder", APP_USER, "not-the-password", &app_topics).await;
    assert!(timeout(Duration::from_millis(500), refused.recv()).await.is_err(), "a wrong password got in");

    // The broker restarts (it keeps nothing: no retained hello survives): every device comes back
    // on its own, says hello and online again, and the app sees them.
    drop(broker_process);
    broker_process = mosquitto(&written.config, broker.mqtt_port);
    all_online(&mut rx, &devices, true, "3 hellos and 3 online after a broker restart").await;

    // Killed without a clean disconnect: the broker says offline for every device.
    sim.0.kill().unwrap();
    let _ = sim.0.wait();
    let mut offline = BTreeSet::new();
    until(&mut rx, 15, "3 offline by last will", |topic, text| {
        if topic.ends_with("/status") && text == "offline" {
            offline.insert(topic.to_string());
        }
        offline.len() == 3
    })
    .await;
    drop(broker_process);
    let _ = std::fs::remove_dir_all(&dir);
}
