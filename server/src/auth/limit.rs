//! Login failures limited per account and client address, per address, and per account from
//! everywhere (a back-off, never a lockout).
//!
//! Pure: the caller passes `now`. An attempt is counted **before** its password is checked
//! ([`LoginLimiter::reserve`]), so guesses fired at once cannot all pass the check-then-count
//! gap; a good login gives its slot back ([`LoginLimiter::succeeded`]).
//!
//! Why three counters: a limit on the account alone lets anyone lock on-call out during an
//! incident by failing five times from anywhere. So the hard limit is per (account, address);
//! an address that fails under many names is limited on its own; and an account failing from
//! many addresses (a botnet) makes *unknown* addresses back off, doubling the wait per failure
//! up to a cap, while an address that logged into that account before goes on as usual.

use std::collections::{HashMap, VecDeque};

/// Most keys remembered; when full the oldest are forgotten first, so a flood of made-up names
/// cannot grow memory without bound and cannot wipe everyone else's counts either.
pub const MAX_KEYS: usize = 10_000;

/// Longest account name kept in a key; real login names are at most 64 characters.
pub const MAX_NAME_IN_KEY: usize = 64;

/// Addresses remembered per account as having logged into it.
const KNOWN_PER_ACCOUNT: usize = 8;

/// Longest back-off an unknown address waits on an account failing from everywhere.
pub const MAX_BACKOFF_MS: i64 = 60_000;

/// Failed-login audit entries written per window across everyone; beyond this they are
/// counted and the next entry says how many were not written one by one.
pub const MAX_FAILURE_ENTRIES_PER_WINDOW: usize = 30;

/// The limits, from `[auth]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures allowed for one account from one address within the window.
    pub per_account_address: u32,
    /// Failures allowed from one address (any accounts) within the window.
    pub per_address: u32,
    /// Failures of one account from everywhere after which unknown addresses back off.
    pub account_backoff_after: u32,
    /// The window, milliseconds.
    pub window_ms: i64,
}

/// A counted attempt, to give back when the password was right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    account: String,
    address: String,
    at_ms: i64,
}

/// Failure counts by key, the addresses known per account, and the audit budget.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: HashMap<String, VecDeque<i64>>,
    known: HashMap<String, VecDeque<String>>,
    limits: Limits,
    written: VecDeque<i64>,
    suppressed: u64,
}

/// The account part of a key: at most [`MAX_NAME_IN_KEY`] characters.
fn account_key(account: &str) -> &str {
    match account.char_indices().nth(MAX_NAME_IN_KEY) {
        Some((at, _)) => &account[..at],
        None => account,
    }
}

fn keys(account: &str, address: &str) -> [String; 3] {
    let account = account_key(account);
    [format!("pair:{address}\n{account}"), format!("address:{address}"), format!("account:{account}")]
}

impl LoginLimiter {
    /// A limiter with these limits.
    pub fn new(limits: Limits) -> Self {
        LoginLimiter { failures: HashMap::new(), known: HashMap::new(), limits, written: VecDeque::new(), suppressed: 0 }
    }

    fn recent(&mut self, key: &str, now: i64) -> &[i64] {
        let window = self.limits.window_ms;
        match self.failures.get_mut(key) {
            Some(times) => {
                while times.front().is_some_and(|t| now - t >= window) {
                    times.pop_front();
                }
                times.make_contiguous()
            }
            None => &[],
        }
    }

    /// Milliseconds to wait before `account` may be tried from `address`, or None to go ahead.
    fn wait_ms(&mut self, account: &str, address: &str, now: i64) -> Option<i64> {
        let [pair, by_address, by_account] = keys(account, address);
        let window = self.limits.window_ms;
        let mut wait = None::<i64>;
        for (key, limit) in [(pair, self.limits.per_account_address), (by_address, self.limits.per_address)] {
            let times = self.recent(&key, now);
            if times.len() >= limit as usize {
                // Free again when the oldest counted failure leaves the window.
                let free_at = times[times.len() - limit as usize] + window;
                wait = Some(wait.unwrap_or(0).max(free_at - now));
            }
        }
        let known = self.known.get(account_key(account)).is_some_and(|a| a.iter().any(|k| k == address));
        if !known {
            let after = self.limits.account_backoff_after as usize;
            let times = self.recent(&by_account, now);
            if times.len() >= after {
                // 1 s at the threshold, doubling with each failure past it, at most the cap.
                let excess = (times.len() - after).min(16) as u32;
                let backoff = (1000i64 << excess).min(MAX_BACKOFF_MS);
                let free_at = times[times.len() - 1] + backoff;
                if free_at > now {
                    wait = Some(wait.unwrap_or(0).max(free_at - now));
                }
            }
        }
        wait
    }

    /// Counts an attempt of `account` from `address` before its password is checked, or says
    /// how many seconds to wait (at least 1).
    pub fn reserve(&mut self, account: &str, address: &str, now: i64) -> Result<Attempt, u64> {
        if let Some(ms) = self.wait_ms(account, address, now) {
            return Err(((ms + 999) / 1000).max(1) as u64);
        }
        self.make_room(now);
        for key in keys(account, address) {
            self.failures.entry(key).or_default().push_back(now);
        }
        Ok(Attempt { account: account_key(account).to_string(), address: address.to_string(), at_ms: now })
    }

    /// A good login: its attempt no longer counts, the pair's failures are forgiven, and the
    /// address is known for the account from now on (the account-wide back-off spares it).
    pub fn succeeded(&mut self, attempt: &Attempt) {
        self.give_back(attempt);
        let [pair, _, _] = keys(&attempt.account, &attempt.address);
        self.failures.remove(&pair);
        if self.known.len() >= MAX_KEYS && !self.known.contains_key(&attempt.account) {
            // Forget some account's addresses rather than grow: it only means a back-off again.
            if let Some(k) = self.known.keys().next().cloned() {
                self.known.remove(&k);
            }
        }
        let known = self.known.entry(attempt.account.clone()).or_default();
        known.retain(|a| *a != attempt.address);
        known.push_back(attempt.address.clone());
        while known.len() > KNOWN_PER_ACCOUNT {
            known.pop_front();
        }
    }

    /// An attempt that was never checked (the server was too busy): it does not count.
    pub fn succeeded_without_login(&mut self, attempt: &Attempt) {
        self.give_back(attempt);
    }

    fn give_back(&mut self, attempt: &Attempt) {
        for key in keys(&attempt.account, &attempt.address) {
            if let Some(times) = self.failures.get_mut(&key) {
                if let Some(i) = times.iter().rposition(|t| *t == attempt.at_ms) {
                    times.remove(i);
                }
            }
        }
    }

    /// Keeps the table under [`MAX_KEYS`]: expired keys go first, then the eighth whose newest
    /// failure is oldest. Everyone else's counts stay.
    fn make_room(&mut self, now: i64) {
        if self.failures.len() + 3 <= MAX_KEYS {
            return;
        }
        let window = self.limits.window_ms;
        self.failures.retain(|_, times| times.back().is_some_and(|t| now - t < window));
        if self.failures.len() + 3 <= MAX_KEYS {
            return;
        }
        let mut newest: Vec<(i64, String)> =
            self.failures.iter().map(|(k, t)| (t.back().copied().unwrap_or(i64::MIN), k.clone())).collect();
        newest.sort_unstable();
        for (_, key) in newest.into_iter().take(MAX_KEYS / 8) {
            self.failures.remove(&key);
        }
    }

    /// Whether a failed login may be written to the audit log now: Some(n) with how many were
    /// not written one by one since the last that was, None to leave it to the log line.
    pub fn audit_failure(&mut self, now: i64) -> Option<u64> {
        let window = self.limits.window_ms;
        while self.written.front().is_some_and(|t| now - t >= window) {
            self.written.pop_front();
        }
        if self.written.len() >= MAX_FAILURE_ENTRIES_PER_WINDOW {
            self.suppressed += 1;
            return None;
        }
        self.written.push_back(now);
        Some(std::mem::take(&mut self.suppressed))
    }

    /// Keys held (for tests and the bound).
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    /// Whether no failure is held.
    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { per_account_address: 3, per_address: 5, account_backoff_after: 6, window_ms: 60_000 }
    }

    /// Fails `account` from `address` at `now` (a reserved attempt that was not given back).
    fn fail(l: &mut LoginLimiter, account: &str, address: &str, now: i64) {
        l.reserve(account, address, now).expect("allowed");
    }

    #[test]
    fn failures_are_limited_per_account_and_address_and_per_address() {
        let mut l = LoginLimiter::new(limits());
        for t in 0..3 {
            fail(&mut l, "alice", "10.0.0.1", t * 1000);
        }
        // (account, address, now, wait in seconds or None)
        let table = [
            ("alice", "10.0.0.1", 3_000, Some(57)), // the pair is spent until 0 + 60 s
            ("alice", "10.0.0.9", 3_000, None),     // another address still may: no lockout from anywhere
            ("bob", "10.0.0.1", 3_000, None),       // the address has 2 left
            ("alice", "10.0.0.1", 59_500, Some(1)), // rounds up, never 0
            ("alice", "10.0.0.1", 60_000, None),    // the first failure left the window
        ];
        for (account, address, now, want) in table {
            assert_eq!(l.wait_ms(account, address, now).map(|ms| ((ms + 999) / 1000) as u64), want, "{account} {address} {now}");
        }
        // Five failures from one address under five names spend the address, not the names.
        let mut l = LoginLimiter::new(limits());
        for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
            fail(&mut l, name, "10.0.0.1", i as i64 * 1000);
        }
        assert_eq!(l.reserve("dave", "10.0.0.1", 6_000), Err(54));
        assert!(l.reserve("dave", "10.0.0.2", 6_000).is_ok());
    }

    #[test]
    fn the_attempt_counts_before_the_check_so_a_burst_gets_only_the_limit() {
        let mut l = LoginLimiter::new(limits());
        // Sixty guesses at the same instant, none finished yet.
        let allowed = (0..60).filter(|_| l.reserve("alice", "10.0.0.1", 1_000).is_ok()).count();
        assert_eq!(allowed, 3);
    }

    #[test]
    fn a_good_login_gives_its_slot_back_and_forgives_the_pair() {
        let mut l = LoginLimiter::new(limits());
        fail(&mut l, "alice", "10.0.0.1", 0);
        fail(&mut l, "alice", "10.0.0.1", 1);
        let good = l.reserve("alice", "10.0.0.1", 2).unwrap();
        l.succeeded(&good);
        // The pair starts afresh: three more tries.
        for t in 3..6 {
            fail(&mut l, "alice", "10.0.0.1", t);
        }
        assert!(l.reserve("alice", "10.0.0.1", 6).is_err());
        // The address counts the two failures before and the three after, not the good one.
        assert_eq!(l.recent("address:10.0.0.1", 7).len(), 5);
    }

    #[test]
    fn an_account_failing_from_everywhere_backs_off_unknown_addresses_only() {
        let mut l = LoginLimiter::new(limits());
        // alice logged in from her usual address once.
        let usual = l.reserve("alice", "10.0.0.1", 0).unwrap();
        l.succeeded(&usual);
        // A botnet: one failure each from six addresses reaches the account-wide threshold.
        for i in 0..6 {
            fail(&mut l, "alice", &format!("192.0.2.{i}"), 1_000 + i);
        }
        // (address, now, wait in ms or None)
        let table = [
            ("192.0.2.77", 1_010, Some(995)), // a new address waits 1 s after the last failure
            ("10.0.0.1", 1_010, None),        // alice's usual address is spared
            ("192.0.2.77", 2_005, None),      // after the back-off, one more try
        ];
        for (address, now, want) in table {
            assert_eq!(l.wait_ms("alice", address, now), want, "{address} {now}");
        }
        // Each failure past the threshold doubles the wait, up to the cap.
        fail(&mut l, "alice", "192.0.2.77", 2_005);
        assert_eq!(l.wait_ms("alice", "192.0.2.78", 2_005), Some(2_000));
        for i in 0..20 {
            l.failures.get_mut("account:alice").unwrap().push_back(100_000 + i);
        }
        let now = 100_019;
        assert_eq!(l.wait_ms("alice", "192.0.2.79", now), Some(MAX_BACKOFF_MS));
        assert_eq!(l.wait_ms("alice", "10.0.0.1", now), None, "still spared");
    }

    #[test]
    fn names_in_keys_are_cut_and_a_flood_forgets_the_oldest_not_everyone() {
        let mut l = LoginLimiter::new(Limits { per_address: 1_000_000, ..limits() });
        let long = "x".repeat(65_536);
        fail(&mut l, &long, "10.0.0.1", 0);
        assert!(l.failures.keys().all(|k| k.len() < 200), "a 64 KiB name is not a 64 KiB key");
        // alice's pair is spent early; then a flood of made-up names fills the table.
        for t in 0..3 {
            fail(&mut l, "alice", "10.0.0.2", 100 + t);
        }
        for i in 0..(MAX_KEYS as i64 * 2) {
            fail(&mut l, &format!("user{i}"), "10.0.0.3", 1_000 + i);
        }
        assert!(l.len() <= MAX_KEYS);
        // The flood's oldest went first; the newest flood keys are still counted.
        assert!(!l.recent(&format!("pair:10.0.0.3\nuser{}", MAX_KEYS * 2 - 1), 50_000).is_empty());
        // Nothing was wiped wholesale: the address that flooded is still counted.
        assert!(!l.recent("address:10.0.0.3", 50_000).is_empty());
    }

    #[test]
    fn failed_login_entries_are_budgeted_per_window() {
        let mut l = LoginLimiter::new(limits());
        for t in 0..MAX_FAILURE_ENTRIES_PER_WINDOW as i64 {
            assert_eq!(l.audit_failure(t), Some(0));
        }
        assert_eq!(l.audit_failure(100), None);
        assert_eq!(l.audit_failure(101), None);
        // The next window's first entry says how many were not written one by one.
        assert_eq!(l.audit_failure(60_000), Some(2));
        assert_eq!(l.audit_failure(60_001), Some(0));
    }
}
