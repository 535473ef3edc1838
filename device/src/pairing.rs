//! The pairing token (docs/PROTOCOL.md, Pairing): how fast a wrong token may be tried again from
//! one address. The table's size is fixed when the device starts, as in the C++ core: a full
//! table forgets no address (a forgotten one could guess again at once, issue #13 item 1), and
//! the addresses it has no room for share one wait, so rotating addresses guess no faster than
//! one more address would.

use alloc::vec::Vec;
use core::net::IpAddr;
use wsdeck_protocol::DeviceMsg;

/// The wait after the first wrong token; it doubles with each further one.
pub const FIRST_WAIT_MS: u64 = 1000;
/// The longest wait.
pub const MAX_WAIT_MS: u64 = 60_000;

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

#[derive(Debug, Clone, Copy, Default)]
struct Lockout {
    failures: u32,
    /// Tokens are not looked at before this uptime.
    until_ms: u64,
}

/// Wrong tokens per remote address.
#[derive(Debug)]
pub struct Lockouts {
    /// At most `kept` addresses, allocated once.
    table: Vec<(IpAddr, Lockout)>,
    kept: usize,
    /// Every address the full table has no room for.
    overflow: Lockout,
    /// Wrong tokens seen.
    pub wrong: u32,
}

impl Lockouts {
    /// A table for `kept` addresses.
    pub fn new(kept: usize) -> Lockouts {
        Lockouts { table: Vec::with_capacity(kept), kept, overflow: Lockout::default(), wrong: 0 }
    }

    /// Checks `given` against `token` for a client at `addr`.
    pub fn check(&mut self, addr: IpAddr, given: &str, token: &str, now_ms: u64) -> Verdict {
        let index = self.table.iter().position(|(a, _)| *a == addr);
        let full = self.table.len() >= self.kept;
        let held = match index {
            Some(i) => Some(self.table[i].1),
            None if full => Some(self.overflow),
            None => None,
        };
        if let Some(l) = held {
            if now_ms < l.until_ms {
                return Verdict::Wait(l.until_ms - now_ms);
            }
        }
        if same(given.as_bytes(), token.as_bytes()) {
            // Forgets this address's wrong tokens, not the shared wait of the others.
            if let Some(i) = index {
                self.table.swap_remove(i);
            }
            return Verdict::Right;
        }
        self.wrong = self.wrong.saturating_add(1);
        let lockout = match index {
            Some(i) => &mut self.table[i].1,
            None if full => &mut self.overflow,
            None => {
                // Not full, so there is room.
                self.table.push((addr, Lockout::default()));
                let last = self.table.len() - 1;
                &mut self.table[last].1
            }
        };
        lockout.failures = lockout.failures.saturating_add(1);
        let wait = FIRST_WAIT_MS.saturating_mul(1 << (lockout.failures - 1).min(16)).min(MAX_WAIT_MS);
        lockout.until_ms = now_ms + wait;
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
    use core::net::Ipv4Addr;
    use std::vec::Vec;

    const KEPT: usize = 16;

    fn addr(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
    }

    #[test]
    fn wrong_tokens_wait_as_the_shared_cases_say() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../../firmware/core/test/shared_cases.json")).unwrap();
        let expected: Vec<u64> =
            cases["pairing_waits_ms"].as_array().unwrap().iter().map(|w| w.as_u64().unwrap()).collect();
        let mut l = Lockouts::new(KEPT);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..expected.len() {
            let Verdict::Wait(w) = l.check(addr(7), "guess", "secret", now) else { panic!("accepted") };
            waits.push(w);
            now += w;
        }
        assert_eq!(waits, expected);
    }

    #[test]
    fn tokens_during_the_wait_are_not_looked_at_and_the_right_one_resets() {
        let mut l = Lockouts::new(KEPT);
        assert_eq!(l.check(addr(7), "guess", "secret", 0), Verdict::Wait(1000));
        assert_eq!(l.check(addr(7), "secret", "secret", 400), Verdict::Wait(600));
        assert_eq!(l.check(addr(8), "secret", "secret", 400), Verdict::Right, "others are not held up");
        assert_eq!(l.check(addr(7), "secret", "secret", 1000), Verdict::Right);
        assert_eq!(l.check(addr(7), "guess", "secret", 1000), Verdict::Wait(1000));
        assert_eq!(l.wrong, 2);
    }

    #[test]
    fn addresses_beyond_a_full_table_share_one_wait() {
        let mut l = Lockouts::new(KEPT);
        for n in 0..KEPT as u8 {
            l.check(addr(n), "guess", "secret", 0);
        }
        assert_eq!(l.check(addr(100), "guess", "secret", 0), Verdict::Wait(1000));
        // Another new address during that wait: not looked at, even with the right token.
        assert_eq!(l.check(addr(101), "secret", "secret", 10), Verdict::Wait(990));
        assert_eq!(l.check(addr(102), "guess", "secret", 1000), Verdict::Wait(2000), "the shared wait grows");
        // The table forgot nobody.
        assert_eq!(l.check(addr(0), "guess", "secret", 1000), Verdict::Wait(2000));
    }

    /// The attack of issue #13 item 1: 300 addresses in rotation against a table of 256, a guess
    /// every 100 ms for ten minutes. With the oldest address forgotten to make room, every guess
    /// was checked (6000).
    #[test]
    fn rotating_addresses_guess_no_faster_than_the_table_allows() {
        let mut l = Lockouts::new(256);
        let at = |i: u32| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        let (mut checked, mut beyond_checked) = (0, 0);
        for n in 0..6000u64 {
            let i = (n % 300) as u32;
            let before = l.wrong;
            l.check(at(i), "guess", "secret", n * 100);
            if l.wrong > before {
                checked += 1;
                beyond_checked += u64::from(i >= 256);
            }
        }
        // An address alone gets 15 tokens checked in ten minutes (1, 2, 4 ... 32 s, then every
        // minute); the 44 beyond the table together get as many, not 44 times as many.
        assert!(beyond_checked <= 15, "{beyond_checked} tokens checked beyond the table");
        assert!(checked <= 257 * 15, "{checked} tokens checked");
    }

    #[test]
    fn the_answer_says_how_long_to_wait() {
        assert_eq!(Verdict::Right.answer().encode(), r#"{"t":"auth","ok":true}"#);
        assert_eq!(Verdict::Wait(1000).answer().encode(), r#"{"t":"auth","ok":false,"retry_ms":1000}"#);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"abc\0") && !same(b"", b"a"));
    }
}
