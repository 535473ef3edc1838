//! What each HTTP path answers: the app's assets, and the simulator's test hooks.

use crate::http::{Request, Response};
use crate::{Out, Sim};
use std::net::SocketAddr;
use std::sync::Arc;

const NOT_BUILT: &str = "<!doctype html><meta name=viewport content=\"width=device-width\">\
<title>wsdeck-sim</title><body style=\"font:16px system-ui;margin:2em\"><h1>wsdeck-sim is running</h1>\
<p>The app is not built, so there is nothing to serve yet. Run <code>cargo xtask run</code> in the \
wsdeck repository (it builds the app and starts this simulator), or pass <code>--dist DIR</code>.</p>\
<p>The WebSocket endpoint <code>/ws</code> works already.</p>";

/// `/sim/`: the car seen from above, live.
const CAR_VIEW: &str = include_str!("car_view.html");

/// The largest frame `POST /sim/send?repeat=N` makes.
const MAX_SENT: usize = 16 * 1024 * 1024;

/// The query parameter `name` as a number.
fn param<T: std::str::FromStr>(req: &Request, name: &str) -> Option<T> {
    req.query().split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

pub fn route(sim: &Arc<Sim>, req: &Request, peer: SocketAddr) -> Response {
    let path = req.path();
    if let Some(hook) = path.strip_prefix("/sim/") {
        // The handshake's guard first: a page reached through a rebound name reads nothing here, and
        // a page from another site (a browser on this computer is loopback too) changes nothing.
        if let Err(refusal) = crate::guard::check(&sim.config.guard, req.header("host"), req.header("origin"))
        {
            return Response::text(403, &format!("{refusal}\n"));
        }
        // Looking is open to anyone on the network; changing the simulator is for this computer.
        if req.method != "GET" && !peer.ip().is_loopback() {
            return Response::text(403, "the simulator's test hooks answer only to this computer");
        }
        return match (req.method.as_str(), hook) {
            ("GET", "") => {
                Response::new(200, "text/html; charset=utf-8", CAR_VIEW).header("Cache-Control", "no-cache")
            }
            ("GET", "state") => Response::new(200, "application/json", sim.dump(sim.uptime_ms()).to_string())
                .header("Cache-Control", "no-store"),
            ("POST", "send") => {
                let binary = req.query().split('&').any(|kv| kv == "binary=1");
                // The body is at most 64 KiB; a larger frame (for the app's own limit) is the
                // body repeated.
                let repeat: usize = param(req, "repeat").unwrap_or(1);
                if req.body.len().saturating_mul(repeat) > MAX_SENT {
                    return Response::text(413, "a frame of at most 16 MiB");
                }
                let frame = req.body.repeat(repeat);
                let out = if binary {
                    Out::Binary(frame.into())
                } else {
                    Out::Text(String::from_utf8_lossy(&frame).into_owned().into())
                };
                let receivers = sim.broadcast(out);
                Response::text(200, &format!("sent to {receivers} client(s)\n"))
            }
            ("POST", "stall") => {
                let ms = param(req, "ms").unwrap_or(3000);
                let ms = sim.stall(ms);
                Response::text(200, &format!("stalled for {ms} ms\n"))
            }
            (_, "state" | "send" | "stall") => Response::text(405, "wrong method"),
            _ => Response::text(404, "unknown test hook"),
        };
    }
    if req.method != "GET" && req.method != "HEAD" {
        return Response::text(405, "only GET and HEAD are served").header("Allow", "GET, HEAD");
    }
    let Some(asset) = sim.assets.get(&req.target) else {
        if sim.assets.is_empty() && (path == "/" || path == "/index.html") {
            return Response::new(503, "text/html; charset=utf-8", NOT_BUILT)
                .header("Cache-Control", "no-store");
        }
        return Response::text(404, "not found");
    };
    let fresh = req
        .header("if-none-match")
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == asset.etag || t.trim() == "*"));
    let resp = if fresh {
        Response { status: 304, headers: Vec::new(), body: Vec::new() }
    } else {
        Response::new(200, asset.mime, asset.gzip.clone()).header("Content-Encoding", "gzip")
    };
    let resp = resp.header("ETag", asset.etag.clone()).header("Cache-Control", asset.cache_control);
    match &asset.csp {
        Some(csp) => {
            resp.header("Content-Security-Policy", csp.clone()).header("X-Content-Type-Options", "nosniff")
        }
        None => resp.header("X-Content-Type-Options", "nosniff"),
    }
}
