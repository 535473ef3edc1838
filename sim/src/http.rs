//! HTTP/1.1 as a device serves it: static gzip assets, the `/ws` upgrade and the `/sim/` test
//! hooks. Framing is hyper's (a kept implementation: chunked bodies, conflicting or invalid
//! lengths and the other request-smuggling shapes are refused with 400/501, issue #13 item 8);
//! what each path answers is [`routes`](crate::routes), on the plain [`Request`] and [`Response`]
//! below. A request head must arrive whole within [`HEAD_DEADLINE`] (slowloris), and only
//! `POST /sim/send` has its body read, at most [`MAX_BODY`].

use crate::conns::Slot;
use crate::{guard, ws, Sim};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::{header, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

const MAX_HEAD: usize = 16 * 1024;
/// The only body read is a frame for `/sim/send`: a frame is at most 64 KiB.
pub const MAX_BODY: usize = 64 * 1024;
/// A request head (and the wait for it on a kept-alive connection) must arrive whole within this.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// A body must arrive whole within this.
const BODY_DEADLINE: Duration = Duration::from_secs(10);

pub struct Request {
    pub method: String,
    /// Path with query, as sent (from an absolute-form target, its path and query).
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

    fn into_hyper(self) -> hyper::Response<Full<Bytes>> {
        let mut resp = hyper::Response::new(Full::new(Bytes::from(self.body)));
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in self.headers {
            if let Ok(value) = header::HeaderValue::from_str(&value) {
                resp.headers_mut().append(name, value);
            }
        }
        resp
    }
}

/// Serves one TCP connection until the client closes it, stays silent past [`HEAD_DEADLINE`],
/// upgrades to WebSocket (then [`ws::run`] has it), or must make room for another.
pub async fn serve(sim: Arc<Sim>, stream: TcpStream, peer: SocketAddr, slot: Arc<Slot>) {
    // Small frames (pong, stop) must not wait for Nagle; firmware sets TCP_NODELAY too.
    let _ = stream.set_nodelay(true);
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |req| answer(sim.clone(), slot.clone(), peer, req))
    };
    let conn = http1::Builder::new()
        // As a device: no clock to put in a Date header, header names as ESPAsyncWebServer sends them.
        .auto_date_header(false)
        .title_case_headers(true)
        .max_buf_size(MAX_HEAD)
        .header_read_timeout(HEAD_DEADLINE)
        .timer(TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        _ = conn => {}
        _ = slot.evicted.notified() => {}
    }
}

async fn answer(
    sim: Arc<Sim>,
    slot: Arc<Slot>,
    peer: SocketAddr,
    mut req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let upgrade = hyper::upgrade::on(&mut req);
    let (head, body) = req.into_parts();
    let mut req = match request(&head) {
        Ok(req) => req,
        Err(resp) => return Ok(resp.header("Connection", "close").into_hyper()),
    };
    if req.path() == "/ws" {
        if let Err(refusal) = guard::check(&sim.config.guard, req.header("host"), req.header("origin")) {
            return Ok(Response::text(403, &format!("{refusal}\n"))
                .header("Connection", "close")
                .into_hyper());
        }
        let accept = match ws::accept_key(&req) {
            Ok(accept) => accept,
            Err(resp) => return Ok(resp.into_hyper()),
        };
        tokio::spawn(async move {
            let Ok(upgraded) = upgrade.await else { return };
            let Ok(parts) = upgraded.downcast::<TokioIo<TcpStream>>() else { return };
            ws::run(sim, parts.io.into_inner(), parts.read_buf.to_vec(), peer, slot).await;
        });
        let resp = Response { status: 101, headers: Vec::new(), body: Vec::new() }
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", accept);
        return Ok(resp.into_hyper());
    }
    if req.method == "POST" && req.path() == "/sim/send" {
        match read_body(&head, body).await {
            Ok(bytes) => req.body = bytes,
            Err(resp) => return Ok(resp.header("Connection", "close").into_hyper()),
        }
    }
    Ok(crate::routes::route(&sim, &req, peer).into_hyper())
}

/// The plain request of a parsed head; a 400 when HTTP/1.1 comes without exactly one Host.
fn request(head: &hyper::http::request::Parts) -> Result<Request, Response> {
    let hosts = head.headers.get_all(header::HOST).iter().count();
    if hosts > 1 || (hosts == 0 && head.version == Version::HTTP_11) {
        return Err(Response::text(400, "an HTTP/1.1 request needs one Host header"));
    }
    let mut headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    // An absolute-form target names the host itself, and the Host header is ignored (RFC 9112
    // §3.2.2).
    if let Some(authority) = head.uri.authority() {
        headers.retain(|(k, _)| k != "host");
        headers.push(("host".into(), authority.as_str().to_string()));
    }
    let target = head.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_string();
    Ok(Request { method: head.method.as_str().to_string(), target, headers, body: Vec::new() })
}

async fn read_body(head: &hyper::http::request::Parts, body: Incoming) -> Result<Vec<u8>, Response> {
    let too_large = || Response::text(413, "a request body is at most 64 KiB");
    let declared =
        head.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_DEADLINE, Limited::new(body, MAX_BODY).collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes().to_vec()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(_)) => Err(Response::text(400, "the request body was cut short")),
        Err(_) => Err(Response::text(408, "the request body did not arrive in time")),
    }
}
