//! Fragmented messages are refused, as the reference firmware does (the app never sends them):
//! tungstenite would assemble them out of sight of the rate cap, and an unfinished message
//! followed by empty continuation frames for ever was never counted, dropped or closed (issue #13
//! item 3). [`Scan`] follows the frame headers of what a client sends (pure); [`Gate`] wraps the
//! socket, passes the bytes before the first fragment, and then nothing more, telling its owner.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// The close code for a refused fragment (1003: "a type of data it cannot accept"), as firmware.
pub const CLOSE_CODE: u16 = 1003;
pub const CLOSE_REASON: &str = "fragmented messages are not read";

/// Where the client's byte stream is: in a frame header (with the bytes of it seen so far) or in
/// a payload (with the bytes still to skip).
#[derive(Debug, Clone, Default)]
pub struct Scan {
    head: Vec<u8>,
    payload_left: u64,
}

impl Scan {
    /// Follows `bytes`; `Some(i)` when a fragment (a data frame without FIN, or a continuation
    /// frame) starts at `bytes[i]`: what comes before it may be read, nothing from there on.
    pub fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.payload_left > 0 {
                let skip = self.payload_left.min((bytes.len() - i) as u64);
                self.payload_left -= skip;
                i += skip as usize;
                continue;
            }
            if self.head.is_empty() {
                let (fin, opcode) = (bytes[i] & 0x80 != 0, bytes[i] & 0x0f);
                if opcode == 0 || (!fin && opcode < 8) {
                    return Some(i);
                }
            }
            self.head.push(bytes[i]);
            i += 1;
            if let Some(len) = payload_len(&self.head) {
                self.payload_left = len;
                self.head.clear();
            }
        }
        None
    }
}

/// The payload length once `head` is a whole frame header.
fn payload_len(head: &[u8]) -> Option<u64> {
    let b1 = *head.get(1)?;
    let mask = if b1 & 0x80 != 0 { 4 } else { 0 };
    let (extra, len) = match b1 & 0x7f {
        126 => (2, head.get(2..4).map(|b| u64::from(u16::from_be_bytes([b[0], b[1]])))),
        127 => (8, head.get(2..10).map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0xff; 8])))),
        n => (0, Some(u64::from(n))),
    };
    (head.len() == 2 + extra + mask).then_some(len?)
}

/// A client's socket as tungstenite reads it: bytes up to the first fragment, then nothing.
pub struct Gate<S> {
    inner: S,
    /// Bytes read past the handshake before the upgrade, served first.
    early: Vec<u8>,
    scan: Scan,
    shut: bool,
    /// Told once when a fragment arrives.
    pub refused: Arc<Notify>,
}

impl<S> Gate<S> {
    pub fn new(inner: S, early: Vec<u8>) -> Gate<S> {
        Gate { inner, early, scan: Scan::default(), shut: false, refused: Arc::new(Notify::new()) }
    }

    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Keeps what may be read of the `new` bytes that `buf` ends with; false when none may.
    fn pass(&mut self, buf: &mut ReadBuf<'_>, before: usize) -> bool {
        let new = &buf.filled()[before..];
        match self.scan.feed(new) {
            None => true,
            Some(i) => {
                buf.set_filled(before + i);
                self.shut = true;
                self.refused.notify_one();
                i > 0
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Gate<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        // After a fragment nothing is read again: the owner closes the connection.
        if self.shut {
            return Poll::Pending;
        }
        let before = buf.filled().len();
        if !self.early.is_empty() {
            let n = self.early.len().min(buf.remaining());
            let early: Vec<u8> = self.early.drain(..n).collect();
            buf.put_slice(&early);
        } else {
            match Pin::new(&mut self.inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            if buf.filled().len() == before {
                return Poll::Ready(Ok(()));
            }
        }
        if self.pass(buf, before) {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gate<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![u8::from(fin) << 7 | opcode];
        match payload.len() {
            n @ 0..=125 => f.push(0x80 | n as u8),
            n @ 126..=65535 => {
                f.push(0x80 | 126);
                f.extend((n as u16).to_be_bytes());
            }
            n => {
                f.push(0x80 | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        f.extend([1, 2, 3, 4]);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]));
        f
    }

    #[test]
    fn whole_messages_and_control_frames_pass_byte_by_byte() {
        let mut stream = frame(true, 1, br#"{"t":"ping","id":1}"#);
        stream.extend(frame(true, 9, b"hi"));
        stream.extend(frame(true, 2, &[7; 300]));
        stream.extend(frame(true, 1, &vec![b'x'; 70_000]));
        stream.extend(frame(true, 8, &[3, 232]));
        let mut scan = Scan::default();
        for b in &stream {
            assert_eq!(scan.feed(std::slice::from_ref(b)), None);
        }
        assert_eq!(Scan::default().feed(&stream), None);
    }

    #[test]
    fn a_fragment_is_refused_where_it_starts() {
        let first = frame(true, 1, b"ok");
        for fragment in [frame(false, 1, b"{\"t\":"), frame(false, 2, b""), frame(true, 0, b"")] {
            let mut stream = first.clone();
            stream.extend(&fragment);
            stream.extend(frame(true, 0, b""));
            assert_eq!(Scan::default().feed(&stream), Some(first.len()));
        }
        // Split anywhere, the offset is within the piece that holds the fragment's first byte.
        let mut stream = first.clone();
        stream.extend(frame(false, 1, b"{"));
        let mut scan = Scan::default();
        assert_eq!(scan.feed(&stream[..3]), None);
        assert_eq!(scan.feed(&stream[3..]), Some(first.len() - 3));
    }

    #[test]
    fn a_huge_announced_length_is_skipped_not_stored() {
        let mut scan = Scan::default();
        let head = [0x81, 0x80 | 127, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4];
        assert_eq!(scan.feed(&head), None);
        assert_eq!(scan.feed(&[0u8; 4096]), None, "payload bytes, whatever they look like");
        assert_eq!(scan.payload_left, 0x7fff_ffff - 4096);
    }

    #[tokio::test]
    async fn the_gate_reads_up_to_the_fragment_then_tells() {
        use tokio::io::AsyncReadExt;
        let mut bytes = frame(true, 1, b"ok");
        let whole = bytes.len();
        bytes.extend(frame(false, 1, b"no"));
        let mut gate = Gate::new(&bytes[2..], bytes[..2].to_vec());
        let refused = gate.refused.clone();
        let mut got = vec![0u8; whole];
        gate.read_exact(&mut got).await.unwrap();
        assert_eq!(got, bytes[..whole]);
        let more = tokio::time::timeout(std::time::Duration::from_millis(20), gate.read_u8()).await;
        assert!(more.is_err(), "nothing after the fragment is read");
        tokio::time::timeout(std::time::Duration::from_secs(1), refused.notified()).await.unwrap();
    }
}
