//! The app's path for every incoming frame: `Session::on_text` / `on_binary` (what the socket
//! calls), with the clock ticking between frames. The input is a stream of frames separated by
//! 0xFF (never part of UTF-8 text); a chunk that is not UTF-8 arrives as a binary frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsdeck::connection::link::Action;
use wsdeck::connection::session::Session;

fuzz_target!(|data: &[u8]| {
    let (mut s, _) = Session::new("ws://127.0.0.1/ws".into(), 0.0);
    s.on_open(1.0, None);
    let mut now = 2.0;
    let mut frames = 0;
    for chunk in data.split(|b| *b == 0xFF) {
        frames += 1;
        now += (chunk.len() % 8) as f64 * 0.25;
        match std::str::from_utf8(chunk) {
            // A frame may make the app answer (the pairing token after a hello), never do more.
            Ok(text) => {
                for action in s.on_text(now, text) {
                    assert!(matches!(action, Action::Send(_) | Action::Token(_)), "{action:?}");
                }
            }
            Err(_) => s.on_binary(now, chunk.len()),
        }
        for action in s.tick(now, 0.5) {
            assert!(matches!(action, Action::Send(_)), "{action:?}");
        }
    }
    let status = s.status(now);
    assert_eq!(status.counters.frames, frames);
    assert!(s.series().len() <= wsdeck::series::MAX_SERIES);
});
