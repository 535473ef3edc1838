//! One WebSocket client of the simulated device. Two tasks per client: this one reads and acts on
//! the app's frames (under the frame-size and message-rate caps), a writer drains the client's
//! [`Outbox`](crate::outbox::Outbox). Reading never waits for writing, so a client that does not
//! read still has its `stop` obeyed at once. Closes follow RFC 6455: a client's Close is answered
//! with a Close, a protocol error closes with 1002, text that is not UTF-8 with 1007, a fragment
//! with 1003 ([`fragments`](crate::fragments)); a client that makes the device wait on it (too
//! many unread replies, a close it does not read) is dropped after [`CLOSE_WAIT`].

use crate::config::Dialect;
use crate::conns::Slot;
use crate::dispatch::{Action, CLOSE_WITHOUT_CODE};
use crate::fragments::{self, Gate};
use crate::http::{Request, Response};
use crate::{Out, Peer, Sim};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use wsdeck_device::{ABUSE_REASON, CLOSE_FULL, CLOSE_POLICY};
use wsdeck_protocol::{DeviceMsg, Log, LogLevel, MAX_FRAME_LEN};

/// The kernel's send buffer for a client, as small as a device's (lwIP's is a few KiB): a client
/// that stops reading backs up into its bounded outbox, where old telemetry is dropped, instead
/// of into megabytes of stale frames in the kernel.
const SEND_BUFFER: usize = 16 * 1024;
/// How long a closing connection may take to send what is queued and its close frame, and then
/// to close its side; after that it is dropped (a client that never reads cannot hold it).
pub const CLOSE_WAIT: Duration = Duration::from_secs(2);

type Sink = SplitSink<WebSocketStream<Gate<TcpStream>>, Message>;

/// The `Sec-WebSocket-Accept` value if `req` is a valid WebSocket upgrade (RFC 6455 §4.2.1), or
/// the refusal: 426 naming the version for a request that does not ask to upgrade or asks for
/// another version, 400 for a malformed upgrade.
pub fn accept_key(req: &Request) -> Result<String, Response> {
    let lists = |name: &str, token: &str| {
        req.headers
            .iter()
            .filter(|(k, _)| k == name)
            .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let upgrade_required = |why: &str| {
        Response::text(426, why).header("Upgrade", "websocket").header("Sec-WebSocket-Version", "13")
    };
    if !lists("upgrade", "websocket") {
        return Err(upgrade_required("this is the wsdeck WebSocket endpoint: connect with ws://"));
    }
    if req.method != "GET" {
        return Err(Response::text(405, "a WebSocket upgrade is a GET").header("Allow", "GET"));
    }
    if !lists("connection", "upgrade") {
        return Err(Response::text(400, "a WebSocket upgrade needs `Connection: Upgrade`"));
    }
    if req.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(upgrade_required("this device speaks WebSocket version 13"));
    }
    match req.header("sec-websocket-key").map(str::trim) {
        Some(key) if is_key(key) => Ok(derive_accept_key(key.as_bytes())),
        _ => Err(Response::text(400, "Sec-WebSocket-Key must be 16 bytes in base64")),
    }
}

/// Whether `key` is 16 bytes in base64: 22 characters, the last with 4 bits unused, then `==`.
fn is_key(key: &str) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = key.as_bytes();
    b.len() == 24
        && b[22..] == *b"=="
        && b[..22].iter().all(|c| ALPHABET.contains(c))
        && ALPHABET.iter().position(|c| *c == b[21]).is_some_and(|v| v & 0x0f == 0)
}

/// Why the reader stopped.
enum End {
    /// The connection ended (the client closed, or the socket failed): nothing more to send.
    Gone,
    /// We asked the writer to close (a limit, a protocol error, the client's own Close to answer).
    Closing,
}

pub async fn run(sim: Arc<Sim>, stream: TcpStream, early: Vec<u8>, peer_addr: SocketAddr, conn: Arc<Slot>) {
    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
    let gate = Gate::new(stream, early);
    let refused = gate.refused.clone();
    // Frames over the protocol's limit are refused before their payload is read.
    let config =
        WebSocketConfig::default().max_message_size(Some(MAX_FRAME_LEN)).max_frame_size(Some(MAX_FRAME_LEN));
    let ws = WebSocketStream::from_raw_socket(gate, Role::Server, Some(config)).await;
    let (mut sink, mut rx) = ws.split();
    let Some(client) = sim.client_connected(peer_addr.ip()) else {
        // The connection cap leaves the core a place for each; this is only a backstop.
        let full = CloseFrame { code: CloseCode::from(CLOSE_FULL), reason: "every place is taken".into() };
        let _ = sink.send(Message::Close(Some(full))).await;
        return;
    };
    let peer = client.peer.clone();
    conn.upgraded(sim.uptime_ms(), sim.may_control(&peer));

    if sim.config.hello {
        peer.outbox.reply(sim.hello().encode());
    }
    // A tutorial device's shape says nothing it would not.
    if sim.may_watch(&peer) && sim.config.profile.is_none() {
        if sim.config.dialect == Dialect::Json {
            peer.outbox.reply(sim.state_frame(peer.slot));
        }
        let msg = format!("wsdeck-sim: you are client #{} ({} connected)", client.id, sim.client_count());
        peer.outbox.reply(DeviceMsg::Log(Log { level: LogLevel::Info, msg }).encode());
    }

    let mut writer = tokio::spawn(write(sim.clone(), peer.clone(), sink));
    // A device that says hello talks to an app that pings every second: silence means nobody is
    // there. Tutorial firmware keeps a silent client, and so does the simulator in its shapes.
    let silent_close = (sim.config.hello && sim.config.silent_close_ms > 0)
        .then(|| Duration::from_millis(sim.config.silent_close_ms));
    let end = loop {
        let next = async {
            match silent_close {
                Some(limit) => tokio::time::timeout(limit, rx.next()).await.ok(),
                None => Some(rx.next().await),
            }
        };
        let incoming = tokio::select! {
            _ = &mut writer => break End::Gone,
            _ = conn.evicted.notified() => {
                peer.outbox.close(1008, "evicted: every connection place is taken");
                break End::Closing;
            }
            _ = refused.notified() => {
                peer.outbox.close(fragments::CLOSE_CODE, fragments::CLOSE_REASON);
                break End::Closing;
            }
            incoming = next => incoming,
        };
        let Some(incoming) = incoming else {
            sim.stats().closed_silent += 1;
            peer.outbox.close(1008, "nothing heard for seconds on end");
            break End::Closing;
        };
        conn.heard(sim.uptime_ms());
        let text = match incoming {
            Some(Ok(Message::Text(text))) => Some(text),
            Some(Ok(Message::Close(_))) => {
                // tungstenite queued the answering Close; reading once more sends it.
                let _ = tokio::time::timeout(CLOSE_WAIT, rx.next()).await;
                break End::Gone;
            }
            None | Some(Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                break End::Gone
            }
            Some(Err(WsError::Capacity(_))) => {
                sim.stats().frames_too_large += 1;
                peer.outbox.close(1009, "frame larger than 64 KiB");
                break End::Closing;
            }
            Some(Err(WsError::Protocol(_))) => {
                sim.stats().protocol_errors += 1;
                peer.outbox.close(1002, "protocol error");
                break End::Closing;
            }
            Some(Err(WsError::Utf8(_))) => {
                sim.stats().protocol_errors += 1;
                peer.outbox.close(1007, "text frame that is not UTF-8");
                break End::Closing;
            }
            Some(Err(_)) => break End::Gone,
            // Binary frames and pings count against the rate too (tungstenite answers pings).
            Some(Ok(_)) => None,
        };
        peer.frames_in.fetch_add(1, Ordering::Relaxed);
        if text.is_some() && sim.stalled() {
            continue;
        }
        let now = sim.uptime_ms();
        let Some(text) = text else {
            if sim.admit_other(&peer, now) {
                continue;
            }
            peer.outbox.close(CLOSE_POLICY, ABUSE_REASON);
            break End::Closing;
        };
        let actions = sim.on_app_frame(&peer, &text, now);
        if sim.may_control(&peer) {
            conn.paired();
        }
        if act(&peer, actions) {
            break End::Closing;
        }
    };
    if let End::Closing = end {
        // Let the writer send what is queued and the close frame, then read what the client still
        // sends until it closes too: dropping a socket with unread data resets the connection,
        // and the client might never see why it was closed. A client that reads nothing gets
        // CLOSE_WAIT for each, then its connection is dropped.
        if let Ok(Ok(Some(sink))) = tokio::time::timeout(CLOSE_WAIT, &mut writer).await {
            if let Ok(ws) = sink.reunite(rx) {
                let mut tcp = ws.into_inner().into_inner();
                let _ = tcp.shutdown().await;
                let mut sink = [0u8; 8192];
                let drain = async { while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {} };
                let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
            }
        }
    }
    writer.abort();
    drop(client);
}

/// Queues what the device answers; true when it closes the connection (it asked to, or the client
/// let too many replies pile up unread).
fn act(peer: &Peer, actions: Vec<Action>) -> bool {
    let mut closing = false;
    for action in actions {
        match action {
            Action::Reply(reply) => closing |= !peer.outbox.reply(reply),
            Action::Close(code, reason) => {
                peer.outbox.close(code, reason);
                closing = true;
            }
        }
    }
    closing
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
            frames.push(Message::text(sim.state_frame(peer.slot)));
        }
        frames.extend(batch.broadcast.into_iter().filter_map(|out| match out {
            Out::Text(text) => Some(Message::Text(text)),
            Out::Binary(bytes) => Some(Message::Binary(bytes)),
            Out::State => None,
        }));
        if !lost {
            for frame in frames {
                peer.sent.fetch_add(1, Ordering::Relaxed);
                match sink.feed(frame).await {
                    Ok(()) => {}
                    // The client's Close came in: the reader answers it, nothing else goes out.
                    Err(WsError::Protocol(ProtocolError::SendAfterClosing)) => break,
                    Err(_) => return None,
                }
            }
        }
        if let Some((code, reason)) = batch.close {
            let frame = (code != CLOSE_WITHOUT_CODE)
                .then(|| CloseFrame { code: CloseCode::from(code), reason: reason.into() });
            sink.send(Message::Close(frame)).await.ok()?;
            return Some(sink);
        }
        match sink.flush().await {
            Ok(()) | Err(WsError::Protocol(ProtocolError::SendAfterClosing)) => {}
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade(extra: &[(&str, &str)], without: &str) -> Request {
        let mut headers: Vec<(String, String)> = [
            ("host", "127.0.0.1:8080"),
            ("upgrade", "websocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]
        .iter()
        .filter(|(k, _)| *k != without)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            headers.retain(|(name, _)| name != k);
            headers.push((k.to_string(), v.to_string()));
        }
        Request { method: "GET".into(), target: "/ws".into(), headers, body: Vec::new() }
    }

    fn status(r: Result<String, Response>) -> u16 {
        r.map_or_else(|resp| resp.status, |_| 101)
    }

    #[test]
    fn a_valid_upgrade_gets_the_rfc_s_accept_value() {
        assert_eq!(accept_key(&upgrade(&[], "")).ok().as_deref(), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    }

    #[test]
    fn a_malformed_upgrade_is_refused_with_what_is_wrong() {
        for bad in
            ["", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25j!Q=="]
        {
            assert_eq!(status(accept_key(&upgrade(&[("sec-websocket-key", bad)], ""))), 400, "key {bad:?}");
        }
        assert_eq!(status(accept_key(&upgrade(&[], "sec-websocket-key"))), 400);
        assert_eq!(status(accept_key(&upgrade(&[], "connection"))), 400);
        assert_eq!(status(accept_key(&upgrade(&[("connection", "keep-alive")], ""))), 400);
        let post = Request { method: "POST".into(), ..upgrade(&[], "") };
        assert_eq!(status(accept_key(&post)), 405);
    }

    #[test]
    fn a_426_names_the_version_it_speaks() {
        for req in [upgrade(&[], "upgrade"), upgrade(&[("sec-websocket-version", "8")], "")] {
            let resp = accept_key(&req).unwrap_err();
            assert_eq!(resp.status, 426);
            assert!(resp.headers.contains(&("Sec-WebSocket-Version", "13".into())));
        }
    }
}
