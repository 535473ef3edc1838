//! One client's outbound frames. The telemetry loop and the car push into it without ever
//! waiting; the client's writer task drains it. What it keeps when the client is behind is the
//! device core's policy ([`wsdeck_device::outbox`]): telemetry (and other broadcast frames) is
//! drop-oldest, replies (hello, pong, auth) are never dropped, the drive state is latest-wins.

use crate::Out;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;
use wsdeck_device::outbox::{place, Class, Place, Room, UNREAD_REASON};
use wsdeck_device::CLOSE_POLICY;

/// Replies waiting for a client that does not read: past this many it is closed (1008), since
/// it keeps asking (pings) without listening.
pub const MAX_REPLIES: usize = 256;

/// The next frames for the writer, in the order to send them.
#[derive(Debug, Default)]
pub struct Batch {
    pub replies: Vec<String>,
    /// Send this client's view of the drive state.
    pub state: bool,
    pub broadcast: Vec<Out>,
    /// Close the connection with this code and reason after sending the rest.
    pub close: Option<(u16, &'static str)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty() && !self.state && self.broadcast.is_empty() && self.close.is_none()
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OutboxStats {
    /// Frames waiting now.
    pub queued: usize,
    /// The most that ever waited at once.
    pub max_queued: usize,
    /// Old broadcast frames dropped to make room for new ones.
    pub dropped: u64,
    /// Frames handed to the writer.
    pub taken: u64,
}

struct Inner {
    replies: VecDeque<String>,
    state: bool,
    broadcast: VecDeque<Out>,
    close: Option<(u16, &'static str)>,
    stats: OutboxStats,
}

pub struct Outbox {
    capacity: usize,
    inner: Mutex<Inner>,
    wake: Notify,
}

impl Outbox {
    /// `capacity`: broadcast frames kept for a client that is behind.
    pub fn new(capacity: usize) -> Outbox {
        Outbox {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                replies: VecDeque::new(),
                state: false,
                broadcast: VecDeque::with_capacity(capacity.clamp(1, 4096)),
                close: None,
                stats: OutboxStats::default(),
            }),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The room the device core's queue policy ([`wsdeck_device::outbox`]) sees in this outbox.
    fn room(&self) -> Room {
        Room { broadcast: self.capacity, replies: MAX_REPLIES, drop_oldest: true }
    }

    /// Queues a frame for every client (or marks the drive state as due); the oldest waiting one
    /// goes when full. Returns whether one was dropped.
    pub fn push(&self, out: Out) -> bool {
        let class = if matches!(out, Out::State) { Class::State } else { Class::Broadcast };
        let dropped = {
            let mut inner = self.lock();
            let dropped = match place(class, inner.replies.len(), inner.broadcast.len(), self.room()) {
                Place::Mark => {
                    inner.state = true;
                    false
                }
                Place::Queue => {
                    inner.broadcast.push_back(out);
                    false
                }
                Place::QueueDroppingOldest => {
                    inner.broadcast.pop_front();
                    inner.broadcast.push_back(out);
                    true
                }
                Place::Drop | Place::Close => true,
            };
            inner.stats.dropped += u64::from(dropped);
            inner.note_queued();
            dropped
        };
        self.wake.notify_one();
        dropped
    }

    /// Queues an answer to this client. Never dropped; `false` when the client has let
    /// [`MAX_REPLIES`] pile up (then it is being closed).
    pub fn reply(&self, frame: String) -> bool {
        let ok = {
            let mut inner = self.lock();
            if place(Class::Reply, inner.replies.len(), inner.broadcast.len(), self.room()) == Place::Close {
                inner.close.get_or_insert((CLOSE_POLICY, UNREAD_REASON));
                false
            } else {
                inner.replies.push_back(frame);
                inner.note_queued();
                true
            }
        };
        self.wake.notify_one();
        ok
    }

    /// Asks the writer to send what is queued for this client, then close with `code`.
    pub fn close(&self, code: u16, reason: &'static str) {
        self.lock().close.get_or_insert((code, reason));
        self.wake.notify_one();
    }

    /// Everything waiting, emptied out.
    pub fn take(&self) -> Batch {
        let mut inner = self.lock();
        let batch = Batch {
            replies: inner.replies.drain(..).collect(),
            state: std::mem::take(&mut inner.state),
            broadcast: inner.broadcast.drain(..).collect(),
            close: inner.close,
        };
        inner.stats.taken += (batch.replies.len() + batch.broadcast.len() + usize::from(batch.state)) as u64;
        inner.stats.queued = 0;
        batch
    }

    /// Waits until something is queued (returns at once if something was queued since the last
    /// `take`).
    pub async fn ready(&self) {
        self.wake.notified().await
    }

    pub fn stats(&self) -> OutboxStats {
        self.lock().stats
    }
}

impl Inner {
    fn note_queued(&mut self) {
        self.stats.queued = self.replies.len() + self.broadcast.len() + usize::from(self.state);
        self.stats.max_queued = self.stats.max_queued.max(self.stats.queued);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Out {
        Out::Text(s.into())
    }

    fn texts(b: &Batch) -> Vec<String> {
        b.broadcast
            .iter()
            .map(|o| match o {
                Out::Text(t) => t.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_client_behind_keeps_the_newest_telemetry() {
        let o = Outbox::new(3);
        for i in 0..10 {
            o.push(text(&i.to_string()));
        }
        let s = o.stats();
        assert_eq!((s.queued, s.max_queued, s.dropped), (3, 3, 7));
        assert_eq!(texts(&o.take()), ["7", "8", "9"]);
        assert_eq!(o.stats().queued, 0);
    }

    #[test]
    fn replies_and_state_are_never_dropped_by_telemetry() {
        let o = Outbox::new(2);
        assert!(o.reply("pong 1".into()));
        o.push(Out::State);
        for i in 0..100 {
            o.push(text(&i.to_string()));
        }
        o.push(Out::State);
        assert!(o.reply("pong 2".into()));
        let b = o.take();
        assert_eq!(b.replies, ["pong 1", "pong 2"]);
        assert!(b.state, "latest-wins: one state frame, sent with the current state");
        assert_eq!(texts(&b), ["98", "99"]);
        assert!(o.take().is_empty());
    }

    #[test]
    fn a_client_that_only_asks_is_closed() {
        let o = Outbox::new(2);
        for i in 0..MAX_REPLIES {
            assert!(o.reply(format!("pong {i}")));
        }
        assert!(!o.reply("one too many".into()));
        assert_eq!(o.take().close, Some((1008, "too many unread replies")));
    }
}
