//! The pairing token (docs/PROTOCOL.md, Pairing): who may control the device, and how fast a
//! wrong token may be tried again from one address. Pure: time comes in as `now_ms`.

use std::collections::HashMap;
use std::net::IpAddr;
use wsdeck_protocol::DeviceMsg;

/// The wait after the first wrong token; it doubles with each further one.
pub const FIRST_WAIT_MS: u64 = 1000;
/// The longest wait.
pub const MAX_WAIT_MS: u64 = 60_000;
/// Addresses remembered at once. A full table forgets none to make room (a forgotten address
/// could guess again at once, issue #13 item 1): every address beyond it shares one more wait.
pub const MAX_ADDRESSES: usize = 256;

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

/// Wrong tokens in a row and until when the next is not looked at, for one address or for all
/// the addresses beyond the table.
#[derive(Debug, Default, Clone, Copy)]
struct Lockout {
    wrong: u32,
    until_ms: u64,
}

impl Lockout {
    fn wait(&self, now_ms: u64) -> Option<u64> {
        (now_ms < self.until_ms).then(|| self.until_ms - now_ms)
    }

    /// One more wrong token at `now_ms`; the wait it earns.
    fn wrong_at(&mut self, now_ms: u64) -> u64 {
        self.wrong = self.wrong.saturating_add(1);
        let wait = FIRST_WAIT_MS.saturating_mul(1 << (self.wrong - 1).min(16)).min(MAX_WAIT_MS);
        self.until_ms = now_ms.saturating_add(wait);
        wait
    }
}

/// Wrong tokens per remote address, and the one wait shared by addresses the table has no room for.
#[derive(Default)]
pub struct Lockouts {
    by_addr: HashMap<IpAddr, Lockout>,
    beyond: Lockout,
    /// Wrong tokens seen, for `/sim/state`.
    pub wrong: u64,
}

impl Lockouts {
    /// Checks `given` against `token` for a client at `addr`.
    pub fn check(&mut self, addr: IpAddr, given: &str, token: &str, now_ms: u64) -> Verdict {
        let known = self.by_addr.contains_key(&addr);
        let full = !known && self.by_addr.len() >= MAX_ADDRESSES;
        let lockout = if full { self.beyond } else { self.by_addr.get(&addr).copied().unwrap_or_default() };
        if let Some(wait) = lockout.wait(now_ms) {
            return Verdict::Wait(wait);
        }
        if same(given.as_bytes(), token.as_bytes()) {
            // The address's wrong tokens are forgotten; the shared wait stays for the others.
            self.by_addr.remove(&addr);
            return Verdict::Right;
        }
        self.wrong += 1;
        let lockout = if full { &mut self.beyond } else { self.by_addr.entry(addr).or_default() };
        Verdict::Wait(lockout.wrong_at(now_ms))
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

    fn addr(i: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn a_full_table_forgets_no_one_and_the_addresses_beyond_it_share_one_wait() {
        let mut l = Lockouts::default();
        for i in 0..MAX_ADDRESSES as u32 {
            assert_eq!(l.check(addr(i), "guess", "secret", 0), Verdict::Wait(1000));
        }
        assert_eq!(l.check(addr(1000), "guess", "secret", 10), Verdict::Wait(1000));
        // The first address is still remembered, with the time it has left.
        assert_eq!(l.check(addr(0), "secret", "secret", 20), Verdict::Wait(980));
        // Another address beyond the table waits with the first: even the right token.
        assert_eq!(l.check(addr(1001), "secret", "secret", 30), Verdict::Wait(980));
        assert_eq!(l.check(addr(1001), "secret", "secret", 1010), Verdict::Right);
        assert_eq!(
            l.check(addr(1002), "guess", "secret", 1020),
            Verdict::Wait(2000),
            "the shared wait stays"
        );
    }

    /// The attack of issue #13 item 1: 300 addresses in rotation, a guess every 100 ms for ten
    /// minutes. With the oldest address forgotten to make room, every guess was checked (6000).
    #[test]
    fn rotating_addresses_guess_no_faster_than_the_table_allows() {
        let mut l = Lockouts::default();
        let (mut checked, mut beyond_checked) = (0, 0);
        for n in 0..6000u64 {
            let i = (n % 300) as u32;
            let before = l.wrong;
            l.check(addr(i), "guess", "secret", n * 100);
            if l.wrong > before {
                checked += 1;
                beyond_checked += u64::from(i as usize >= MAX_ADDRESSES);
            }
        }
        // An address alone gets 15 tokens checked in ten minutes (1, 2, 4 ... 32 s, then every
        // minute); the 44 beyond the table together get as many, not 44 times as many.
        assert!(beyond_checked <= 15, "{beyond_checked} tokens checked beyond the table");
        assert!(checked <= (MAX_ADDRESSES as u64 + 1) * 15, "{checked} tokens checked");
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
