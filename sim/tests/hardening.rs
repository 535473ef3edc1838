//! What an attacker on the same WiFi, or a page open in the same browser, can do to the simulator
//! with hand-built HTTP requests and WebSocket frames (issue #13), each against the real binary.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::Message;
use wsdeck_protocol::AppMsg;

/// Sends `raw` as is and reads until the server closes (or 5 s pass); the status of each response.
fn statuses(port: u16, raw: &[u8]) -> Vec<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    text.match_indices("HTTP/1.1 ").filter_map(|(i, _)| text[i + 9..].get(..3)?.parse().ok()).collect()
}

/// The whole answer to one request sent as is.
fn answer(port: u16, raw: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

/// A masked client frame.
fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![u8::from(fin) << 7 | opcode];
    match payload.len() {
        n @ 0..=125 => f.push(0x80 | n as u8),
        n => {
            f.push(0x80 | 126);
            f.extend((n as u16).to_be_bytes());
        }
    }
    f.extend([9, 8, 7, 6]);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ [9, 8, 7, 6][i % 4]));
    f
}

const WS_HEAD: &str = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";

#[test]
fn item_2_the_state_answers_only_to_its_own_names() {
    let sim = start(&["--rate", "0"]);
    let rebound =
        answer(sim.port, "GET /sim/state HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    assert!(!rebound.contains("uptime_ms"));
    assert_eq!(http(sim.port, "GET", "/sim/state", "", b"").status, 200);
    let page = answer(sim.port, "GET /sim/ HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n");
    assert!(page.starts_with("HTTP/1.1 403"), "{page}");
}

#[test]
fn item_5_test_hooks_refuse_other_sites_and_the_stall_is_capped() {
    let sim = start(&["--rate", "0"]);
    let mut ws = connect(sim.port);
    next_text(&mut ws);
    // A page from another site posting with `mode: "no-cors"`: the browser sends its Origin.
    let foreign = http(sim.port, "POST", "/sim/send", "Origin: http://evil.example\r\n", b"{\"t\":\"tel\"}");
    assert_eq!(foreign.status, 403);
    let stall = http(sim.port, "POST", "/sim/stall?ms=60000", "Origin: https://evil.example\r\n", b"");
    assert_eq!(stall.status, 403);
    let rebound =
        answer(sim.port, "POST /sim/stall HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 0\r\n\r\n");
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    // The device's own page and tools (no Origin) may.
    let own = "Origin: http://127.0.0.1\r\n";
    assert_eq!(http(sim.port, "POST", "/sim/send", own, b"from the car view").status, 200);
    read_until(&mut ws, 20, |t| t == "from the car view");
    // A stall is at most a minute, and a huge one is not an overflow.
    let huge = http(sim.port, "POST", "/sim/stall?ms=18446744073709551615", "", b"");
    assert_eq!(String::from_utf8_lossy(&huge.body), "stalled for 60000 ms\n");
    assert_eq!(http(sim.port, "POST", "/sim/stall?ms=0", "", b"").status, 200);
    assert_eq!(state(sim.port)["clients"], 1);
}

#[test]
fn item_8_request_framing_is_strict() {
    let sim = start(&["--rate", "0"]);
    let bad = |headers: &str| {
        let raw = format!("POST /sim/send HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\nhello");
        statuses(sim.port, raw.as_bytes())
    };
    for length in ["abc", "-1", "+5", "18446744073709551616", "5, 6"] {
        assert_eq!(bad(&format!("Content-Length: {length}\r\n")), [400], "Content-Length: {length}");
    }
    assert_eq!(bad("Content-Length: 5\r\nContent-Length: 6\r\n"), [400], "two lengths");
    assert_eq!(bad("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), [400], "length and chunked");
    let unknown = bad("Transfer-Encoding: gzip\r\n");
    assert!(unknown == [400] || unknown == [501], "{unknown:?}");
    // A chunked body is a body, not the next request.
    let chunked = "POST /sim/send HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\
                   5\r\nhello\r\n0\r\n\r\nGET /sim/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert_eq!(statuses(sim.port, chunked.as_bytes()), [200, 200]);
}

#[test]
fn item_9_only_a_frame_for_sim_send_is_read_and_at_most_64_kib() {
    let sim = start(&["--rate", "0"]);
    assert_eq!(http(sim.port, "POST", "/sim/send", "", &vec![b'x'; 64 * 1024]).status, 200);
    assert_eq!(http(sim.port, "POST", "/sim/send", "", &vec![b'x'; 64 * 1024 + 1]).status, 413);
    // A larger frame, for the app's own limit, is a body repeated.
    let mut ws = connect(sim.port);
    next_text(&mut ws);
    assert_eq!(http(sim.port, "POST", "/sim/send?repeat=1048576", "", b"x").status, 200);
    assert_eq!(read_until(&mut ws, 50, |t| t.len() > 64 * 1024).len(), 1 << 20);
    assert_eq!(http(sim.port, "POST", "/sim/send?repeat=1000", "", &vec![b'x'; 64 * 1024]).status, 413);
    let chunked = format!(
        "POST /sim/send HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        100_000,
        "y".repeat(100_000)
    );
    assert_eq!(statuses(sim.port, chunked.as_bytes()), [413], "chunked, over the cap");
    // Elsewhere a body is not read: the answer comes before it is sent.
    let mut s = TcpStream::connect(("127.0.0.1", sim.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000000\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 405");
}

#[test]
fn item_11_handshakes_and_heads_are_checked() {
    let sim = start(&["--rate", "0"]);
    let upgrade =
        |extra: &str| answer(sim.port, &format!("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n"));
    for key in ["", "not base64 at all", "dGhlIHNhbXBsZSBub25jZQ", "AAAA"] {
        let a = upgrade(&format!("{WS_HEAD}Sec-WebSocket-Key: {key}\r\n"));
        assert!(a.starts_with("HTTP/1.1 400"), "key {key:?}: {a}");
    }
    assert!(upgrade(WS_HEAD).starts_with("HTTP/1.1 400"), "no key");
    let no_connection =
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    assert!(upgrade(no_connection).starts_with("HTTP/1.1 400"), "no Connection: Upgrade");
    for a in [
        upgrade(""),
        upgrade("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
    ] {
        assert!(a.starts_with("HTTP/1.1 426"), "{a}");
        assert!(a.to_ascii_lowercase().contains("\r\nsec-websocket-version: 13\r\n"), "{a}");
    }
    let good = upgrade(&format!("{WS_HEAD}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
    assert!(good.starts_with("HTTP/1.1 101"), "{good}");
    assert!(good.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{good}");
    // HTTP/1.1 needs a Host; HTTP/1.0 does not.
    assert!(answer(sim.port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n").starts_with("HTTP/1.1 400"));
    let old = answer(sim.port, "GET / HTTP/1.0\r\n\r\n");
    assert!(old.starts_with("HTTP/1.0 200") || old.starts_with("HTTP/1.1 200"), "{old}");
    // An absolute-form target is the path it names, and its host is the one the guard checks.
    let absolute = format!(
        "GET http://127.0.0.1:{}/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        sim.port
    );
    assert!(answer(sim.port, &absolute).starts_with("HTTP/1.1 200"));
    let rebound =
        "GET http://evil.example/sim/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    assert!(answer(sim.port, rebound).starts_with("HTTP/1.1 403"));
}

#[test]
fn item_7_a_close_is_answered_and_broken_frames_get_their_codes() {
    let sim = start(&["--rate", "0"]);
    let mut ws = connect(sim.port);
    next_text(&mut ws);
    ws.close(None).unwrap();
    let answered = loop {
        match ws.read() {
            Ok(Message::Close(_)) => break true,
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed) => break true,
            Err(_) => break false,
        }
    };
    assert!(answered, "the client's Close was not answered with a Close");
    for (bytes, code) in [
        (frame(true, 0x3, b"reserved"), 1002),
        (frame(true, 0x1, &[0xc3, 0x28]), 1007),
        (frame(false, 0x9, b"ping"), 1002),
    ] {
        let mut ws = connect(sim.port);
        next_text(&mut ws);
        ws.get_mut().write_all(&bytes).unwrap();
        assert_eq!(close_code(&mut ws), Some(code), "{bytes:?}");
    }
    assert_eq!(state(sim.port)["protocol_errors"], 3);
}

#[test]
fn item_3_a_fragmented_message_is_refused_with_1003() {
    let sim = start(&["--rate", "0"]);
    let mut ws = connect(sim.port);
    next_text(&mut ws);
    ws.get_mut().write_all(&frame(false, 0x1, b"{\"t\":")).unwrap();
    for _ in 0..100 {
        ws.get_mut().write_all(&frame(false, 0x0, b"")).unwrap();
    }
    assert_eq!(close_code(&mut ws), Some(1003));
    wait_for("the client to be counted out", || state(sim.port)["clients"] == 0);
}

/// One attacker's connection: an unfinished message, then empty continuation frames as fast as
/// the socket takes them; reconnects when closed, until `until`.
fn continuation_flood(port: u16, until: Instant) {
    let mut batch = Vec::new();
    for _ in 0..4096 {
        batch.extend(frame(false, 0x0, b""));
    }
    while Instant::now() < until {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else { continue };
        let Ok((mut ws, _)) = tungstenite::client(format!("ws://127.0.0.1:{port}/ws"), stream) else {
            continue;
        };
        if ws.get_mut().write_all(&frame(false, 0x1, b"{")).is_err() {
            continue;
        }
        while Instant::now() < until && ws.get_mut().write_all(&batch).is_ok() {}
    }
}

/// Pings as fast as the socket takes them (counted and dropped by the rate cap).
fn ping_flood(port: u16, until: Instant) {
    let mut batch = Vec::new();
    for id in 0..1000 {
        batch.extend(frame(true, 0x1, AppMsg::Ping { id }.encode().as_bytes()));
    }
    while Instant::now() < until {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else { continue };
        let Ok((mut ws, _)) = tungstenite::client(format!("ws://127.0.0.1:{port}/ws"), stream) else {
            continue;
        };
        ws.get_mut().set_nonblocking(false).unwrap();
        while Instant::now() < until && ws.get_mut().write_all(&batch).is_ok() {}
    }
}

#[test]
fn item_3_the_watchdog_stops_the_car_on_time_under_a_flood() {
    let sim = start(&["--rate", "20"]);
    let mut driver = connect(sim.port);
    wait_for("the driver", || state(sim.port)["clients"] == 1);
    driver.send(Message::text(AppMsg::Claim.encode())).unwrap();
    driver.send(drive(1, 600, 600)).unwrap();
    wait_for("the car to move", || car(sim.port)["moving"] == true);
    let until = Instant::now() + Duration::from_secs(3);
    // Four connections of continuation frames (with the old cap, the watchdog came 0.6-1.5 s late
    // here) and one of pings.
    let floods: Vec<_> = (0..5)
        .map(|i| {
            let port = sim.port;
            std::thread::spawn(
                move || if i < 4 { continuation_flood(port, until) } else { ping_flood(port, until) },
            )
        })
        .collect();
    // Drive for a second under the flood, then let go without a stop: only the watchdog stops it.
    for seq in 2..40 {
        driver.send(drive(seq, 600, 600)).unwrap();
        std::thread::sleep(Duration::from_millis(25));
    }
    for f in floods {
        f.join().unwrap();
    }
    wait_for("the watchdog", || car(sim.port)["moving"] == false);
    let c = car(sim.port);
    let stop = c["stops"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(stop["reason"], "watchdog", "{c}");
    // By the simulator's own clock: the stop's time against the last drive frame it took.
    let late = stop["at_ms"].as_u64().unwrap() - c["last_command_ms"].as_u64().unwrap();
    println!("the watchdog stopped the car {late} ms after the last drive frame");
    assert!(late <= c["watchdog_ms"].as_u64().unwrap() + 100, "stopped {late} ms after the last drive frame");
}

#[test]
fn item_4_silent_websockets_are_closed_when_the_device_says_hello() {
    let sim = start(&["--rate", "20", "--silent-close-ms", "500"]);
    let mut silent = connect(sim.port);
    assert_eq!(close_code(&mut silent), Some(1008));
    assert_eq!(state(sim.port)["closed_silent"], 1);
    // A client that pings stays.
    let mut app = connect(sim.port);
    for id in 0..10 {
        app.send(Message::text(AppMsg::Ping { id }.encode())).unwrap();
        read_until(&mut app, 50, |t| t.contains("pong"));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(state(sim.port)["closed_silent"], 1);
    // Tutorial firmware keeps a silent client: so does a profile, and a device without hello.
    for args in [["--profile", "tutorial-car"], ["--no-hello", "--rate"]] {
        let args: Vec<&str> = args.iter().copied().chain(["0", "--silent-close-ms", "300"]).collect();
        let args =
            if args[0] == "--profile" { vec![args[0], args[1], "--silent-close-ms", "300"] } else { args };
        let quiet = start(&args);
        let _ws = connect(quiet.port);
        std::thread::sleep(Duration::from_millis(900));
        assert_eq!(state(quiet.port)["clients"], 1, "{args:?}");
    }
}

#[test]
fn item_4_squatters_make_room_for_the_app() {
    let sim = start(&["--rate", "0", "--max-connections", "4", "--token", "s3cret"]);
    // Four unpaired WebSockets and slow request heads take every place.
    let mut squatters: Vec<_> = (0..3).map(|_| connect(sim.port)).collect();
    let mut slow = TcpStream::connect(("127.0.0.1", sim.port)).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    wait_for("the squatters", || state(sim.port)["clients"] == 3);
    // The owner's phone still gets in and pairs.
    let mut phone = connect(sim.port);
    next_text(&mut phone);
    phone.send(Message::text(AppMsg::Auth { token: "s3cret".into() }.encode())).unwrap();
    read_until(&mut phone, 5, |t| t == r#"{"t":"auth","ok":true}"#);
    let s = state(sim.port);
    assert!(s["connections"]["evicted"].as_u64().unwrap() >= 2, "{}", s["connections"]);
    assert!(s["connections"]["open"].as_u64().unwrap() <= 4);
    // The oldest unpaired squatter was told why.
    assert_eq!(close_code(&mut squatters.remove(0)), Some(1008));
    let mut rest = [0u8; 16];
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(matches!(slow.read(&mut rest), Ok(0) | Err(_)), "the slow head was dropped");
}

#[test]
fn item_4_a_request_head_has_a_deadline_however_slowly_it_comes() {
    let sim = start(&["--rate", "0"]);
    let mut s = TcpStream::connect(("127.0.0.1", sim.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(400))).unwrap();
    let head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    s.write_all(head).unwrap();
    // A byte every 400 ms restarted the old idle timer for ever.
    let began = Instant::now();
    let closed = loop {
        assert!(began.elapsed() < Duration::from_secs(20), "the slow head is still held");
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => break true,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {
            }
            Err(_) => break true,
        }
        if s.write_all(b"a").is_err() {
            break true;
        }
    };
    assert!(closed);
}

#[test]
fn item_4_the_descriptor_limit_is_raised_at_start() {
    use std::os::unix::process::CommandExt;
    let dir = std::env::temp_dir().join(format!("wsdeck-sim-fds-{}", std::process::id()));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_wsdeck-sim"));
    cmd.args(["--bind", "127.0.0.1:0", "--no-qr", "--rate", "0", "--dist"]).arg(&dir);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; it lowers the soft limit of the child only.
    unsafe {
        cmd.pre_exec(|| {
            let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut l);
            l.rlim_cur = 256.min(l.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line)
        .unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let row = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let nums: Vec<&str> = row.split_whitespace().skip(3).take(2).collect();
    assert_eq!(nums[0], nums[1], "soft limit raised to the hard one: {row}");
}

#[test]
fn item_10_a_client_that_never_reads_is_closed_and_freed() {
    let sim = start(&["--rate", "1000", "--max-msg-rate", "0"]);
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], sim.port)).into()).unwrap();
    let (mut ws, _) =
        tungstenite::client(format!("ws://127.0.0.1:{}/ws", sim.port), TcpStream::from(socket)).unwrap();
    wait_for("the client", || state(sim.port)["clients"] == 1);
    // Telemetry fills the buffers; then it keeps asking (pings) and never reads an answer.
    std::thread::sleep(Duration::from_millis(500));
    let mut pings = Vec::new();
    for id in 0..2000 {
        pings.extend(frame(true, 0x1, AppMsg::Ping { id }.encode().as_bytes()));
    }
    ws.get_mut().set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = ws.get_mut().write_all(&pings);
    wait_for("the connection to be dropped", || state(sim.port)["clients"] == 0);
    wait_for("its place to be freed", || state(sim.port)["connections"]["open"] == 1);
}
