//! The least WebSocket client (RFC 6455) the clients bench needs: open, read text messages, close.
//! Blocking, one thread per client, against our own simulator on loopback; written here so that
//! xtask does not compile a WebSocket library for one benchmark.

use std::io::{BufRead, BufReader, Read, Write};

/// One open connection over `S` (a `TcpStream`; a byte buffer in tests).
pub struct Client<S: Read + Write> {
    stream: BufReader<S>,
}

const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;
/// Frames the client sends are masked (RFC 6455 5.3); the key need not be secret here.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// The simulator's frames are far smaller; a bigger length means the stream is out of step.
const MAX_MESSAGE: usize = 1 << 20;

impl<S: Read + Write> Client<S> {
    /// Sends the opening handshake for `path` on `host` and reads the `101` answer.
    pub fn open(mut stream: S, host: &str, path: &str) -> Result<Client<S>, String> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).map_err(|e| format!("handshake: {e}"))?;
        let mut stream = BufReader::new(stream);
        let mut status = String::new();
        stream.read_line(&mut status).map_err(|e| format!("handshake: {e}"))?;
        if status.split(' ').nth(1) != Some("101") {
            return Err(format!("handshake: the server answered `{}`", status.trim_end()));
        }
        loop {
            let mut line = String::new();
            if stream.read_line(&mut line).map_err(|e| format!("handshake: {e}"))? == 0 {
                return Err("handshake: the server closed during its headers".into());
            }
            if line == "\r\n" || line == "\n" {
                return Ok(Client { stream });
            }
        }
    }

    /// The next text message; `None` once the server closed. Binary messages are skipped, pings
    /// answered.
    pub fn read_text(&mut self) -> Result<Option<String>, String> {
        let mut message = Vec::new();
        let mut text = false;
        loop {
            let (fin, opcode, payload) = self.frame()?;
            match opcode {
                CLOSE => return Ok(None),
                PING => self.send(PONG, &payload)?,
                PONG => {}
                CONTINUATION | TEXT | BINARY => {
                    if opcode != CONTINUATION {
                        (message, text) = (Vec::new(), opcode == TEXT);
                    }
                    message.extend_from_slice(&payload);
                    if message.len() > MAX_MESSAGE {
                        return Err(format!("a message of over {MAX_MESSAGE} bytes"));
                    }
                    if fin && text {
                        return String::from_utf8(message)
                            .map(Some)
                            .map_err(|_| "text that is not UTF-8".into());
                    }
                }
                other => return Err(format!("unknown opcode {other:#x}")),
            }
        }
    }

    /// Sends a close frame (the server's answer is not waited for).
    pub fn close(&mut self) -> Result<(), String> {
        self.send(CLOSE, &[])
    }

    fn frame(&mut self) -> Result<(bool, u8, Vec<u8>), String> {
        let read = |s: &mut BufReader<S>, buf: &mut [u8]| s.read_exact(buf).map_err(|e| format!("read: {e}"));
        let mut head = [0u8; 2];
        read(&mut self.stream, &mut head)?;
        let (fin, opcode, masked) = (head[0] & 0x80 != 0, head[0] & 0x0f, head[1] & 0x80 != 0);
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                read(&mut self.stream, &mut b)?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                read(&mut self.stream, &mut b)?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let len = usize::try_from(len).ok().filter(|&n| n <= MAX_MESSAGE).ok_or("a frame too long")?;
        let mut key = [0u8; 4];
        if masked {
            read(&mut self.stream, &mut key)?;
        }
        let mut payload = vec![0u8; len];
        read(&mut self.stream, &mut payload)?;
        payload.iter_mut().enumerate().for_each(|(i, b)| *b ^= key[i % 4]);
        Ok((fin, opcode, payload))
    }

    /// One final, masked frame of at most 125 bytes (pongs echo a ping's, which is no longer).
    fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), String> {
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len().min(125) as u8];
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().take(125).enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        self.stream.get_mut().write_all(&frame).map_err(|e| format!("write: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// What the server sent, and what the client wrote back.
    struct Wire {
        from_server: Cursor<Vec<u8>>,
        to_server: Vec<u8>,
    }

    impl Read for Wire {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.from_server.read(buf)
        }
    }

    impl Write for Wire {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.to_server.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn client(frames: &[u8]) -> Client<Wire> {
        let mut from_server = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec();
        from_server.extend_from_slice(frames);
        Client::open(Wire { from_server: Cursor::new(from_server), to_server: Vec::new() }, "h", "/ws")
            .unwrap()
    }

    #[test]
    fn reads_text_messages_of_every_length_encoding_and_in_pieces() {
        let long = "x".repeat(300);
        let mut frames = vec![0x81, 2, b'h', b'i'];
        frames.extend([0x81, 126, 1, 44]);
        frames.extend(long.as_bytes());
        frames.extend([0x82, 1, 0xff]); // binary: skipped
        frames.extend([0x01, 2, b'a', b'b', 0x80, 1, b'c']); // "ab" + "c"
        frames.extend([0x88, 0]);
        let mut c = client(&frames);
        assert_eq!(c.read_text(), Ok(Some("hi".into())));
        assert_eq!(c.read_text(), Ok(Some(long)));
        assert_eq!(c.read_text(), Ok(Some("abc".into())));
        assert_eq!(c.read_text(), Ok(None));
        let request = String::from_utf8_lossy(&c.stream.get_ref().to_server).to_string();
        assert!(
            request.starts_with("GET /ws HTTP/1.1\r\nHost: h\r\n") && request.contains("Upgrade: websocket")
        );
    }

    #[test]
    fn answers_a_ping_with_a_masked_pong_and_closes_masked() {
        let mut c = client(&[0x89, 1, b'p', 0x81, 1, b'k']);
        assert_eq!(c.read_text(), Ok(Some("k".into())));
        c.close().unwrap();
        let wire = &c.stream.get_ref().to_server;
        let sent = &wire[wire.len() - 13..];
        assert_eq!(sent[..2], [0x8A, 0x81]);
        assert_eq!(sent[6] ^ sent[2], b'p');
        assert_eq!(sent[7..9], [0x88, 0x80]);
    }

    #[test]
    fn refuses_a_server_that_does_not_switch_or_breaks_off() {
        let wire = |s: &[u8]| Wire { from_server: Cursor::new(s.to_vec()), to_server: Vec::new() };
        let err = Client::open(wire(b"HTTP/1.1 403 Forbidden\r\n\r\n"), "h", "/ws").err().unwrap();
        assert!(err.contains("403 Forbidden"), "{err}");
        let mut c = client(&[0x81, 5, b'a']);
        assert!(c.read_text().unwrap_err().starts_with("read:"));
    }
}
