//! One WebSocket client of the simulated device: hello on connect, telemetry from the broadcast,
//! pong for every ping.

use crate::http::Request;
use crate::{Out, Sim};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wsdeck_protocol::{DeviceMsg, Log, LogLevel};

/// Frames from the app larger than this close the connection, as on a device with little RAM.
const MAX_INCOMING: usize = 16 * 1024;

/// The `Sec-WebSocket-Accept` value if `req` is a valid WebSocket upgrade.
pub fn accept_key(req: &Request) -> Option<String> {
    let upgrade = req.header("upgrade")?.eq_ignore_ascii_case("websocket");
    let version = req.header("sec-websocket-version")? == "13";
    let key = req.header("sec-websocket-key")?;
    (req.method == "GET" && upgrade && version).then(|| derive_accept_key(key.as_bytes()))
}

pub async fn run(sim: Arc<Sim>, stream: TcpStream) {
    let config =
        WebSocketConfig::default().max_message_size(Some(MAX_INCOMING)).max_frame_size(Some(MAX_INCOMING));
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
    let (mut tx, mut rx) = ws.split();
    let mut telemetry = sim.tx.subscribe();
    let client = sim.client_connected();

    let mut greeting = Vec::new();
    if sim.config.hello {
        greeting.push(sim.hello().encode());
    }
    if sim.config.dialect == crate::config::Dialect::Json {
        greeting.push(sim.state_frame(client.id));
    }
    let msg = format!("wsdeck-sim: you are client #{} ({} connected)", client.id, sim.client_count());
    greeting.push(DeviceMsg::Log(Log { level: LogLevel::Info, msg }).encode());
    for frame in greeting {
        if tx.send(Message::text(frame)).await.is_err() {
            return;
        }
    }

    loop {
        tokio::select! {
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Text(_))) if sim.stalled() => {}
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = sim.on_app_frame(client.id, &text) {
                        if tx.send(Message::text(reply)).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {} // binary frames and control frames: tungstenite answers pings
            },
            out = telemetry.recv() => {
                let msg = match out {
                    Ok(Out::Text(text)) => Message::text(text.to_string()),
                    Ok(Out::Binary(bytes)) => Message::binary(bytes.to_vec()),
                    Ok(Out::State) if sim.config.dialect == crate::config::Dialect::Json => {
                        Message::text(sim.state_frame(client.id))
                    }
                    Ok(Out::State) => continue,
                    Err(RecvError::Lagged(n)) => {
                        // A slow client loses old telemetry rather than slowing everyone down.
                        sim.stats().dropped_for_slow_clients += n;
                        continue;
                    }
                    Err(RecvError::Closed) => break,
                };
                if sim.stalled() {
                    continue;
                }
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
        }
    }
    drop(client);
}
