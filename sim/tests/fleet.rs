//! The simulated fleet on a real mosquitto (docs/FLEET.md), started by the test on free loopback
//! ports with the generated config, ACL and passwords: an app sees every device's retained hello
//! and `online`, drives one, sees the watchdog stop it, and sees `offline` by last will when the
//! simulator dies; a device may not publish on another device's topics. Needs Debian's
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

/// An MQTT client of the test's own, and what it receives as (topic, payload).
async fn client(
    port: u16,
    id: &str,
    user: &str,
    password: &str,
) -> (AsyncClient, mpsc::Receiver<(String, String)>) {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_credentials(user, password).set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = AsyncClient::new(opts, 256);
    let (tx, rx) = mpsc::channel(4096);
    tokio::spawn(async move {
        loop {
            match events.poll().await {
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
async fn a_fleet_on_mosquitto_is_seen_driven_stopped_by_its_watchdog_and_left_by_last_will() {
    let dir = std::env::temp_dir().join(format!("wsdeck-fleet-test-{}", std::process::id()));
    let devices: Vec<String> = (1..=3).map(wsdeck_sim::fleet::device_id).collect();
    let broker = Broker {
        mqtt_port: fleet_broker::free_port().unwrap(),
        ws_port: fleet_broker::free_port().unwrap(),
        http_dir: None,
        devices: devices.clone(),
    };
    let written = broker.write(&dir).unwrap();
    let _mosquitto = Running(
        Command::new(fleet_broker::MOSQUITTO)
            .arg("-c")
            .arg(&written.config)
            .stdout(Stdio::null())
            .spawn()
            .expect("mosquitto runs"),
    );
    assert!(fleet_broker::wait_for_port(broker.mqtt_port, 50), "mosquitto did not listen");
    let mut sim = Running(
        Command::new(env!("CARGO_BIN_EXE_wsdeck-sim"))
            .args(["--mqtt", &format!("127.0.0.1:{}", broker.mqtt_port), "--fleet", "3"])
            .args(["--rate", "10", "--watchdog-ms", "300", "--mqtt-password-file"])
            .arg(&written.device_password_file)
            .stdout(Stdio::null())
            .spawn()
            .expect("the simulator runs"),
    );

    let (app, mut rx) = client(broker.mqtt_port, "app-test", APP_USER, &written.app_password).await;
    for topic in ["wsdeck/+/status", "wsdeck/+/up", "wsdeck/+/up/+"] {
        app.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    }
    let (mut hellos, mut online) = (BTreeSet::new(), BTreeSet::new());
    until(&mut rx, 10, "3 hellos and 3 online", |topic, text| {
        let id = topic.split('/').nth(1).unwrap_or("").to_string();
        if topic.ends_with("/up") && text.contains(r#""t":"hello""#) {
            hellos.insert(id);
        } else if topic.ends_with("/status") && text == "online" {
            online.insert(id);
        }
        hellos.len() == 3 && online.len() == 3
    })
    .await;
    assert_eq!(hellos.into_iter().collect::<Vec<_>>(), devices);

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

    // A device that logs in as sim-01 may not speak for sim-02: the broker drops those.
    let password = std::fs::read_to_string(&written.device_password_file).unwrap();
    let (probe, _) = client(broker.mqtt_port, "acl-probe", "sim-01", password.trim()).await;
    for topic in ["wsdeck/sim-02/up", "wsdeck/sim-02/status", "wsdeck/sim-02/up/app-test"] {
        probe.publish(topic, QoS::AtLeastOnce, false, "forged").await.unwrap();
    }
    probe.publish("wsdeck/sim-01/up/app-test", QoS::AtLeastOnce, false, "its own").await.unwrap();
    until(&mut rx, 5, "the probe's frame on its own topic", |topic, text| {
        assert_ne!(text, "forged", "the broker let sim-01 publish on {topic}");
        text == "its own"
    })
    .await;

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
    let _ = std::fs::remove_dir_all(&dir);
}
