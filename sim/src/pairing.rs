//! The pairing token (docs/PROTOCOL.md, Pairing): who may control the device, and how fast a
//! wrong token may be tried again from one address. Pure: time comes in as `now_ms`.

use std::collections::HashMap;
use std::net::IpAddr;
use wsdeck_protocol::DeviceMsg;

/// The wait after the first wrong token; it doubles with each further one.
pub const FIRST_WAIT_MS: u64 = 1000;
/// The longest wait.
pub const MAX_WAIT_MS: u64 = 60_000;
/// Addresses remembered at once; the one locked out longest ago is forgotten first.
const MAX_ADDRESSES: usize = 256;

/// What the device answers to a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Right,
    /// Wrong, or not looked at: try again in this many ms.
    Wait(u64),
}

impl Verdict {
    /// What the device says to the app (`{"t":"auth",...}`).
    pub fn answer(self) -> DeviceMsg {
        match self {
            Verdict::Right => DeviceMsg::Auth { ok: true, retry_ms: None },
            Verdict::Wait(ms) => {
                DeviceMsg::Auth { ok: false, retry_ms: Some(ms.min(u64::from(u32::MAX)) as u32) }
            }
        }
    }
}

/// Wrong tokens per remote address: how many in a row, and until when the next is not looked at.
#[derive(Default)]
pub struct Lockouts {
    by_addr: HashMap<IpAddr, (u32, u64)>,
    /// Wrong tokens seen, for `/sim/state`.
    pub wrong: u64,
}

impl Lockouts {
    /// Checks `given` against `token` for a client at `addr`.
    pub fn check(&mut self, addr: IpAddr, given: &str, token: &str, now_ms: u64) -> Verdict {
        if let Some(&(_, until)) = self.by_addr.get(&addr) {
            if now_ms < until {
                return Verdict::Wait(until - now_ms);
            }
        }
        if same(given.as_bytes(), token.as_bytes()) {
            self.by_addr.remove(&addr);
            return Verdict::Right;
        }
        self.wrong += 1;
        if self.by_addr.len() >= MAX_ADDRESSES && !self.by_addr.contains_key(&addr) {
            if let Some(oldest) = self.by_addr.iter().min_by_key(|(_, (_, until))| *until).map(|(a, _)| *a) {
                self.by_addr.remove(&oldest);
            }
        }
        let entry = self.by_addr.entry(addr).or_insert((0, 0));
        entry.0 = entry.0.saturating_add(1);
        let wait = FIRST_WAIT_MS.saturating_mul(1 << (entry.0 - 1).min(16)).min(MAX_WAIT_MS);
        entry.1 = now_ms + wait;
        Verdict::Wait(wait)
    }
}

/// Compares in time that depends only on the lengths, not on where the first difference is.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let diff = (0..n).fold(a.len() ^ b.len(), |acc, i| {
        acc | usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0))
    });
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 8));

    #[test]
    fn the_right_token_pairs() {
        let mut l = Lockouts::default();
        assert_eq!(l.check(A, "blue-tiger-42", "blue-tiger-42", 0), Verdict::Right);
        assert_eq!(l.wrong, 0);
    }

    #[test]
    fn wrong_tokens_wait_longer_each_time_up_to_a_minute() {
        let mut l = Lockouts::default();
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..9 {
            let Verdict::Wait(w) = l.check(A, "guess", "secret", now) else { panic!("accepted") };
            waits.push(w);
            now += w;
        }
        assert_eq!(waits, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    }

    #[test]
    fn tokens_during_the_wait_are_not_looked_at() {
        let mut l = Lockouts::default();
        assert_eq!(l.check(A, "guess", "secret", 0), Verdict::Wait(1000));
        // Even the right token waits: guessing fast must not pay.
        assert_eq!(l.check(A, "secret", "secret", 400), Verdict::Wait(600));
        assert_eq!(l.wrong, 1);
        assert_eq!(l.check(A, "secret", "secret", 1000), Verdict::Right);
        // Right resets the count: the next wrong one waits 1 s again.
        assert_eq!(l.check(A, "guess", "secret", 1000), Verdict::Wait(1000));
    }

    #[test]
    fn other_addresses_are_not_held_up() {
        let mut l = Lockouts::default();
        l.check(A, "guess", "secret", 0);
        assert_eq!(l.check(B, "secret", "secret", 10), Verdict::Right);
    }

    #[test]
    fn the_answer_says_how_long_to_wait() {
        assert_eq!(Verdict::Right.answer().encode(), r#"{"t":"auth","ok":true}"#);
        assert_eq!(Verdict::Wait(1000).answer().encode(), r#"{"t":"auth","ok":false,"retry_ms":1000}"#);
        let far = Verdict::Wait(u64::MAX).answer();
        assert!(matches!(far, DeviceMsg::Auth { ok: false, retry_ms: Some(u32::MAX) }));
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abc\0"));
        assert!(!same(b"", b"a"));
        assert!(same(b"", b""));
    }
}
