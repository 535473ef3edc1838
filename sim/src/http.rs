//! A deliberately small HTTP/1.1 server, shaped like a device's: static gzip assets, the `/ws`
//! upgrade, and the `/sim/` test hooks. Keep-alive is supported; nothing is streamed.

use crate::{ws, Sim};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;
const IDLE: Duration = Duration::from_secs(30);

pub struct Request {
    pub method: String,
    /// Path with query, as sent.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    fn wants_close(&self) -> bool {
        self.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close"))
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: vec![("Content-Type", content_type.to_string())], body: body.into() }
    }

    pub fn text(status: u16, body: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if self.status != 304 {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Serves one TCP connection until the client closes it, goes idle, or upgrades to WebSocket.
pub async fn serve(sim: Arc<Sim>, mut stream: TcpStream, peer: SocketAddr) {
    // Small frames (pong, stop) must not wait for Nagle; firmware sets TCP_NODELAY too.
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    loop {
        let req = match read_request(&mut stream, &mut buf).await {
            Ok(Some(req)) => req,
            Ok(None) => return,
            Err(resp) => {
                let _ = stream.write_all(&resp.header("Connection", "close").to_bytes(false)).await;
                return;
            }
        };
        if req.path() == "/ws" {
            if let Err(refusal) = sim.config.guard.check(req.header("host"), req.header("origin")) {
                let resp = Response::text(403, &format!("{refusal}\n"));
                let _ = stream.write_all(&resp.header("Connection", "close").to_bytes(false)).await;
                return;
            }
            if let Some(accept) = ws::accept_key(&req) {
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {accept}\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_ok() {
                    ws::run(sim, stream).await;
                }
                return;
            }
            let resp = Response::text(426, "this is the wsdeck WebSocket endpoint: connect with ws://");
            let _ = stream.write_all(&resp.to_bytes(false)).await;
            return;
        }
        let resp = crate::routes::route(&sim, &req, peer);
        let close = req.wants_close();
        let bytes = resp.to_bytes(req.method == "HEAD");
        if stream.write_all(&bytes).await.is_err() || close {
            return;
        }
    }
}

/// `Ok(None)` when the client closed or stayed idle; `Err` carries the error response to send.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Request>, Response> {
    let head_len = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(Response::text(431, "request head too large"));
        }
        if !fill(stream, buf).await {
            return Ok(None);
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&buf[..head_len]) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(Response::text(400, "malformed request")),
    }
    let mut req = Request {
        method: parsed.method.unwrap_or("GET").to_string(),
        target: parsed.path.unwrap_or("/").to_string(),
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
            .collect(),
        body: Vec::new(),
    };
    let body_len: usize = req.header("content-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    if body_len > MAX_BODY {
        return Err(Response::text(413, "request body too large"));
    }
    while buf.len() < head_len + body_len {
        if !fill(stream, buf).await {
            return Ok(None);
        }
    }
    req.body = buf[head_len..head_len + body_len].to_vec();
    buf.drain(..head_len + body_len);
    Ok(Some(req))
}

/// Reads more bytes; false on close, error or idle timeout.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            buf.extend_from_slice(&chunk[..n]);
            true
        }
        _ => false,
    }
}
