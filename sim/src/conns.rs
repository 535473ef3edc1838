//! The device's open connections, at most a fixed number at once (descriptors are finite, and
//! idle sockets must not lock the owner's phone out). When every place is taken, a new connection
//! takes the place of one that does least: a plain HTTP connection first, then a WebSocket silent
//! for [`SILENT_MS`], then (with pairing) an unpaired one; a paired WebSocket that talks is never
//! evicted. [`victim`] is the choice, pure; [`Conns`] keeps the places. docs/SECURITY.md.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// A WebSocket that sent nothing for this long may make room for a new connection (the app pings
/// every second), as in the reference firmware.
pub const SILENT_MS: u64 = 3000;

/// What one connection is doing, as [`victim`] weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub opened_ms: u64,
    /// `None` while it speaks HTTP (reading a request head, serving, or idle in keep-alive).
    pub websocket: Option<WsSeen>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsSeen {
    pub heard_ms: u64,
    /// It may control the car (paired, or the device asks for no token).
    pub paired: bool,
}

/// Which of `conns` makes room for a new connection at `now_ms`, if any: the oldest HTTP
/// connection, else the WebSocket silent longest (at least [`SILENT_MS`]), else the unpaired one
/// opened first.
pub fn victim(conns: &[Seen], now_ms: u64) -> Option<usize> {
    let oldest_by = |keep: &dyn Fn(&Seen) -> Option<u64>| {
        conns.iter().enumerate().filter_map(|(i, c)| keep(c).map(|k| (k, i))).min().map(|(_, i)| i)
    };
    oldest_by(&|c| c.websocket.is_none().then_some(c.opened_ms))
        .or_else(|| {
            oldest_by(&|c| {
                c.websocket.filter(|w| now_ms.saturating_sub(w.heard_ms) >= SILENT_MS).map(|w| w.heard_ms)
            })
        })
        .or_else(|| oldest_by(&|c| c.websocket.filter(|w| !w.paired).map(|_| c.opened_ms)))
}

/// One open connection's place. Dropping the last handle frees it.
pub struct Slot {
    pub id: u64,
    opened_ms: u64,
    websocket: AtomicBool,
    heard_ms: AtomicU64,
    paired: AtomicBool,
    /// Told when this connection must make room for another; its task closes it.
    pub evicted: Notify,
    conns: Arc<Inner>,
}

impl Slot {
    /// The connection became a WebSocket; `paired` as [`WsSeen::paired`].
    pub fn upgraded(&self, now_ms: u64, paired: bool) {
        self.heard_ms.store(now_ms, Ordering::Relaxed);
        self.paired.store(paired, Ordering::Relaxed);
        self.websocket.store(true, Ordering::Relaxed);
    }

    /// A frame came from the client.
    pub fn heard(&self, now_ms: u64) {
        self.heard_ms.store(now_ms, Ordering::Relaxed);
    }

    pub fn paired(&self) {
        self.paired.store(true, Ordering::Relaxed);
    }

    fn seen(&self) -> Seen {
        let websocket = self.websocket.load(Ordering::Relaxed).then(|| WsSeen {
            heard_ms: self.heard_ms.load(Ordering::Relaxed),
            paired: self.paired.load(Ordering::Relaxed),
        });
        Seen { opened_ms: self.opened_ms, websocket }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.conns.lock().retain(|s| s.id != self.id);
    }
}

struct Inner {
    /// The open connections' places; weak so that a place is freed when its tasks end.
    slots: Mutex<Vec<SlotRef>>,
}

struct SlotRef {
    id: u64,
    slot: std::sync::Weak<Slot>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<SlotRef>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The places for connections.
pub struct Conns {
    max: usize,
    next: AtomicU64,
    inner: Arc<Inner>,
    /// Connections that made room for another.
    pub evictions: AtomicU64,
    /// Connections refused because no place could be made.
    pub refused: AtomicU64,
}

impl Conns {
    pub fn new(max: usize) -> Conns {
        Conns {
            max: max.max(1),
            next: AtomicU64::new(1),
            inner: Arc::new(Inner { slots: Mutex::new(Vec::new()) }),
            evictions: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn open(&self) -> usize {
        self.inner.lock().len()
    }

    /// A place for a new connection at `now_ms`, making room if every place is taken (the
    /// evicted connection is told through [`Slot::evicted`] and counted out at once); `None` when
    /// no connection may make room.
    pub fn admit(&self, now_ms: u64) -> Option<Arc<Slot>> {
        let mut slots = self.inner.lock();
        if slots.len() >= self.max {
            let live: Vec<Arc<Slot>> = slots.iter().filter_map(|s| s.slot.upgrade()).collect();
            let seen: Vec<Seen> = live.iter().map(|s| s.seen()).collect();
            let Some(i) = victim(&seen, now_ms) else {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            };
            let gone = live[i].id;
            slots.retain(|s| s.id != gone);
            live[i].evicted.notify_one();
            self.evictions.fetch_add(1, Ordering::Relaxed);
            // `live` drops its handles after the lock (a last handle's Drop takes the lock).
            drop(slots);
            drop(live);
            slots = self.inner.lock();
        }
        let slot = Arc::new(Slot {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            opened_ms: now_ms,
            websocket: AtomicBool::new(false),
            heard_ms: AtomicU64::new(now_ms),
            paired: AtomicBool::new(false),
            evicted: Notify::new(),
            conns: self.inner.clone(),
        });
        slots.push(SlotRef { id: slot.id, slot: Arc::downgrade(&slot) });
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(opened_ms: u64) -> Seen {
        Seen { opened_ms, websocket: None }
    }

    fn ws(opened_ms: u64, heard_ms: u64, paired: bool) -> Seen {
        Seen { opened_ms, websocket: Some(WsSeen { heard_ms, paired }) }
    }

    #[test]
    fn plain_http_goes_first_then_the_silent_then_the_unpaired() {
        let now = 10_000;
        let all = [ws(0, 9_900, true), http(500), ws(100, 1_000, true), http(400), ws(50, 9_990, false)];
        assert_eq!(victim(&all, now), Some(3), "the oldest HTTP connection");
        let sockets = [ws(0, 9_900, true), ws(100, 2_000, true), ws(50, 1_000, true), ws(60, 9_990, false)];
        assert_eq!(victim(&sockets, now), Some(2), "the one silent longest");
        let talking = [ws(0, 9_900, true), ws(70, 9_990, false), ws(60, 9_990, false)];
        assert_eq!(victim(&talking, now), Some(2), "the unpaired one opened first");
    }

    #[test]
    fn a_paired_phone_that_talks_is_never_evicted() {
        let phones = [ws(0, 9_000, true), ws(10, 8_000, true)];
        assert_eq!(victim(&phones, 10_000), None);
        assert_eq!(victim(&phones, 8_000 + SILENT_MS), Some(1), "silent for 3 s: no longer talking");
    }

    #[test]
    fn a_full_table_makes_room_and_counts_the_evicted_out() {
        let conns = Conns::new(2);
        let a = conns.admit(0).unwrap();
        let b = conns.admit(10).unwrap();
        a.upgraded(0, true);
        b.upgraded(10, true);
        assert!(conns.admit(20).is_none(), "two paired phones, both talking");
        assert_eq!(conns.refused.load(Ordering::Relaxed), 1);
        let c = conns.admit(10 + SILENT_MS).unwrap();
        assert_eq!(conns.open(), 2);
        assert_eq!(conns.evictions.load(Ordering::Relaxed), 1);
        // `a` was heard last at 0: it was evicted, and its task learns it.
        {
            let told = a.evicted.notified();
            futures_util::pin_mut!(told);
            assert!(futures_util::FutureExt::now_or_never(told.as_mut()).is_some());
        }
        drop(a);
        assert_eq!(conns.open(), 2, "the evicted place was freed already");
        drop((b, c));
        assert_eq!(conns.open(), 0);
    }
}
