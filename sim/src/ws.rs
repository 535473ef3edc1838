//! One WebSocket client of the simulated device. Two tasks per client: this one reads and acts on
//! the app's frames (under the frame-size and message-rate caps), a writer drains the client's
//! [`Outbox`](crate::outbox::Outbox). Reading never waits for writing, so a client that does not
//! read still has its `stop` obeyed at once.

use crate::config::Dialect;
use crate::dispatch::{Action, CLOSE_WITHOUT_CODE};
use crate::limits::{RateCap, Verdict};
use crate::{car, http::Request, Out, Peer, Sim};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wsdeck_protocol::{AppMsg, DeviceMsg, Log, LogLevel, MAX_FRAME_LEN};

/// The kernel's send buffer for a client, as small as a device's (lwIP's is a few KiB): a client
/// that stops reading backs up into its bounded outbox, where old telemetry is dropped, instead
/// of into megabytes of stale frames in the kernel.
const SEND_BUFFER: usize = 16 * 1024;

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

/// The `Sec-WebSocket-Accept` value if `req` is a valid WebSocket upgrade.
pub fn accept_key(req: &Request) -> Option<String> {
    let upgrade = req.header("upgrade")?.eq_ignore_ascii_case("websocket");
    let version = req.header("sec-websocket-version")? == "13";
    let key = req.header("sec-websocket-key")?;
    (req.method == "GET" && upgrade && version).then(|| derive_accept_key(key.as_bytes()))
}

pub async fn run(sim: Arc<Sim>, stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
    let ws_peer_addr = stream.peer_addr().ok();
    // Frames over the protocol's limit are refused before their payload is read.
    let config =
        WebSocketConfig::default().max_message_size(Some(MAX_FRAME_LEN)).max_frame_size(Some(MAX_FRAME_LEN));
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
    let (sink, mut rx) = ws.split();
    let addr = ws_peer_addr.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let client = sim.client_connected(addr);
    let peer = client.peer.clone();

    if sim.config.hello {
        peer.outbox.reply(sim.hello().encode());
    }
    // A tutorial device's shape says nothing it would not.
    if peer.may_watch() && sim.config.profile.is_none() {
        if sim.config.dialect == Dialect::Json {
            peer.outbox.reply(sim.state_frame(client.id));
        }
        let msg = format!("wsdeck-sim: you are client #{} ({} connected)", client.id, sim.client_count());
        peer.outbox.reply(DeviceMsg::Log(Log { level: LogLevel::Info, msg }).encode());
    }

    let mut writer = tokio::spawn(write(sim.clone(), peer.clone(), sink));
    let mut cap = RateCap::new(sim.config.max_msg_rate, sim.uptime_ms());
    // Whether we asked the writer to close the connection (the client broke a limit).
    let we_close = loop {
        let incoming = tokio::select! {
            _ = &mut writer => break false,
            incoming = rx.next() => incoming,
        };
        let text = match incoming {
            Some(Ok(Message::Text(text))) => Some(text),
            Some(Ok(Message::Close(_))) | None => break false,
            Some(Err(WsError::Capacity(_))) => {
                sim.stats().frames_too_large += 1;
                peer.outbox.close(1009, "frame larger than 64 KiB");
                break true;
            }
            Some(Err(_)) => break false,
            // Binary frames and pings count against the rate too (tungstenite answers pings).
            Some(Ok(_)) => None,
        };
        peer.frames_in.fetch_add(1, Ordering::Relaxed);
        if text.is_some() && sim.stalled() {
            continue;
        }
        let stop = text.as_deref().is_some_and(|t| is_stop(sim.config.dialect, t));
        match cap.check(sim.uptime_ms(), stop) {
            Verdict::Process => {
                let actions = text.map(|t| sim.on_app_frame(&peer, &t, sim.uptime_ms())).unwrap_or_default();
                let mut closing = false;
                for action in actions {
                    match action {
                        Action::Reply(reply) => {
                            peer.outbox.reply(reply);
                        }
                        Action::Close(code, reason) => {
                            peer.outbox.close(code, reason);
                            closing = true;
                        }
                    }
                }
                if closing {
                    break true;
                }
            }
            Verdict::Drop => {
                peer.rate_limited.fetch_add(1, Ordering::Relaxed);
                sim.stats().rate_limited_frames += 1;
            }
            Verdict::Close => {
                peer.rate_limited.fetch_add(1, Ordering::Relaxed);
                let mut stats = sim.stats();
                stats.rate_limited_frames += 1;
                stats.closed_for_abuse += 1;
                drop(stats);
                peer.outbox.close(1008, "message rate over the cap for seconds on end");
                break true;
            }
        }
    };
    if we_close {
        // Let the writer send what is queued and the close frame, then read what the client still
        // sends until it closes too: dropping a socket with unread data resets the connection,
        // and the client might never see why it was closed.
        if let Ok(Ok(Some(sink))) = tokio::time::timeout(Duration::from_secs(2), &mut writer).await {
            if let Ok(ws) = sink.reunite(rx) {
                let mut tcp = ws.into_inner();
                let _ = tcp.shutdown().await;
                let mut sink = [0u8; 8192];
                let drain = async { while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {} };
                let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
            }
        }
    }
    writer.abort();
    drop(client);
}

/// Sends what the client's outbox holds, a batch at a time, until the connection fails or the
/// reader asks for a close (then returns the sink, after sending the close frame).
async fn write(sim: Arc<Sim>, peer: Arc<Peer>, mut sink: Sink) -> Option<Sink> {
    loop {
        peer.outbox.ready().await;
        let batch = peer.outbox.take();
        let lost = sim.stalled();
        let mut frames: Vec<Message> = batch.replies.into_iter().map(Message::text).collect();
        if batch.state && sim.config.speaks_protocol() {
            frames.push(Message::text(sim.state_frame(peer.id)));
        }
        frames.extend(batch.broadcast.into_iter().filter_map(|out| match out {
            Out::Text(text) => Some(Message::Text(text)),
            Out::Binary(bytes) => Some(Message::Binary(bytes)),
            Out::State => None,
        }));
        if !lost {
            for frame in frames {
                peer.sent.fetch_add(1, Ordering::Relaxed);
                sink.feed(frame).await.ok()?;
            }
        }
        if let Some((code, reason)) = batch.close {
            let frame = (code != CLOSE_WITHOUT_CODE)
                .then(|| CloseFrame { code: CloseCode::from(code), reason: reason.into() });
            sink.send(Message::Close(frame)).await.ok()?;
            return Some(sink);
        }
        sink.flush().await.ok()?;
    }
}

/// A stop frame is never dropped by the rate cap. The cheap test first: floods are mostly not
/// stops, and the few that contain the word are decoded once more.
fn is_stop(dialect: Dialect, text: &str) -> bool {
    match dialect {
        Dialect::Text => car::words_to_wheels(text) == Some((0.0, 0.0)),
        Dialect::Json => text.contains("stop") && matches!(AppMsg::decode(text), Ok(AppMsg::Stop { .. })),
    }
}
