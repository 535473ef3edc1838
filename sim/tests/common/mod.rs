//! What the simulator's binary tests share: start it on a free loopback port with a tiny app,
//! speak HTTP and WebSocket to it, read `/sim/state`.
#![allow(dead_code)]

use flate2::read::GzDecoder;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};
use wsdeck_protocol::AppMsg;

pub struct Sim {
    pub child: Child,
    pub port: u16,
    _dist: TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const INDEX: &str = "<!doctype html><title>wsdeck</title><p>hello</p>";
pub const WASM: &[u8] = b"\0asm\x01\0\0\0 pretend this is an app";

pub fn start(args: &[&str]) -> Sim {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wsdeck-sim-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join("wsdeck-0123456789abcdef_bg.wasm"), WASM).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdeck-sim"))
        .args(["--bind", "127.0.0.1:0", "--no-qr", "--dist"])
        .arg(&dir)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("wsdeck-sim listening on http://127.0.0.1:")
        .and_then(|rest| rest.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line}"));
    Sim { child, port, _dist: TempDir(dir) }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub fn http(port: u16, method: &str, path: &str, extra: &str, body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines.filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.into(), v.into())).collect();
    Reply { status, headers, body: raw[split + 4..].to_vec() }
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

pub fn connect(port: u16) -> WebSocket<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (ws, _) = tungstenite::client(format!("ws://127.0.0.1:{port}/ws"), stream).unwrap();
    ws
}

pub fn next_text(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match ws.read().unwrap() {
            Message::Text(t) => return t.to_string(),
            Message::Binary(b) => return format!("binary:{}", b.len()),
            _ => continue,
        }
    }
}

/// Reads frames until `pred` accepts one (at most `limit` frames).
pub fn read_until(ws: &mut WebSocket<TcpStream>, limit: usize, pred: impl Fn(&str) -> bool) -> String {
    for _ in 0..limit {
        let text = next_text(ws);
        if pred(&text) {
            return text;
        }
    }
    panic!("no matching frame within {limit} frames");
}

pub fn state(port: u16) -> serde_json::Value {
    serde_json::from_slice(&http(port, "GET", "/sim/state", "", b"").body).unwrap()
}

pub fn car(port: u16) -> serde_json::Value {
    state(port)["car"].clone()
}

pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn drive(seq: u32, l: i16, r: i16) -> Message {
    Message::text(AppMsg::Drive(wsdeck_protocol::Drive { seq, x: 0, y: 0, l, r }).encode())
}

pub fn close_code(ws: &mut WebSocket<TcpStream>) -> Option<u16> {
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}
