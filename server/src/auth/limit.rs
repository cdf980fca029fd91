//! Login failures limited per account and per client address.
//!
//! Pure: the caller passes `now`. Only failures count; a success clears the account's count.

use std::collections::{HashMap, VecDeque};

/// Most keys remembered; the oldest are forgotten first, so a flood of made-up names cannot
/// grow memory without bound.
const MAX_KEYS: usize = 10_000;

/// Failure counts by key (`account:NAME`, `address:IP`).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: HashMap<String, VecDeque<i64>>,
    /// Failures allowed per account within the window.
    per_account: u32,
    /// Failures allowed per address within the window.
    per_address: u32,
    /// The window, milliseconds.
    window_ms: i64,
}

impl LoginLimiter {
    /// A limiter allowing `per_account` and `per_address` failures per `window_ms`.
    pub fn new(per_account: u32, per_address: u32, window_ms: i64) -> Self {
        LoginLimiter { failures: HashMap::new(), per_account, per_address, window_ms }
    }

    fn recent(&mut self, key: &str, now: i64) -> Option<&VecDeque<i64>> {
        let window = self.window_ms;
        let times = self.failures.get_mut(key)?;
        while times.front().is_some_and(|t| now - t >= window) {
            times.pop_front();
        }
        Some(times)
    }

    /// Seconds to wait before `account` may try again from `address`, or None to go ahead.
    pub fn retry_after(&mut self, account: &str, address: &str, now: i64) -> Option<u64> {
        let mut wait = None::<i64>;
        for (key, limit) in [(format!("account:{account}"), self.per_account), (format!("address:{address}"), self.per_address)] {
            let window = self.window_ms;
            if let Some(times) = self.recent(&key, now) {
                if times.len() >= limit as usize {
                    // Free again when the oldest counted failure leaves the window.
                    let free_at = times[times.len() - limit as usize] + window;
                    wait = Some(wait.unwrap_or(0).max(free_at - now));
                }
            }
        }
        wait.map(|ms| ((ms + 999) / 1000).max(1) as u64)
    }

    /// Counts a failed login.
    pub fn failed(&mut self, account: &str, address: &str, now: i64) {
        if self.failures.len() >= MAX_KEYS {
            let window = self.window_ms;
            self.failures.retain(|_, times| times.back().is_some_and(|t| now - t < window));
            if self.failures.len() >= MAX_KEYS {
                self.failures.clear();
            }
        }
        for key in [format!("account:{account}"), format!("address:{address}")] {
            self.failures.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets the account's failures after a good login (the address's stay counted).
    pub fn succeeded(&mut self, account: &str) {
        self.failures.remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_account_and_per_address_within_the_window() {
        // 3 per account, 5 per address, 60 s window.
        let mut l = LoginLimiter::new(3, 5, 60_000);
        for t in 0..3 {
            assert_eq!(l.retry_after("alice", "10.0.0.1", t * 1000), None);
            l.failed("alice", "10.0.0.1", t * 1000);
        }
        // (account, address, now, wait in seconds)
        let table = [
            ("alice", "10.0.0.1", 3_000, Some(57)), // the account is spent until 0 + 60 s
            ("alice", "10.0.0.9", 3_000, Some(57)), // from anywhere
            ("bob", "10.0.0.1", 3_000, None),       // the address has 2 left
            ("alice", "10.0.0.1", 59_500, Some(1)), // rounds up, never 0
            ("alice", "10.0.0.1", 60_000, None),    // the first failure left the window
        ];
        for (account, address, now, want) in table {
            assert_eq!(l.retry_after(account, address, now), want, "{account} {address} {now}");
        }
        // Five failures from one address under five names spend the address, not the names.
        let mut l = LoginLimiter::new(3, 5, 60_000);
        for (i, name) in ["a", "b", "c", "d", "e"].into_iter().enumerate() {
            l.failed(name, "10.0.0.1", i as i64 * 1000);
        }
        assert_eq!(l.retry_after("dave", "10.0.0.1", 6_000), Some(54));
        assert_eq!(l.retry_after("dave", "10.0.0.2", 6_000), None);
        // A good login clears the account, not the address.
        for t in [6_000, 7_000, 8_000] {
            l.failed("alice", "10.0.0.2", t);
        }
        assert!(l.retry_after("alice", "10.0.0.3", 9_000).is_some());
        l.succeeded("alice");
        assert_eq!(l.retry_after("alice", "10.0.0.3", 9_000), None);
        assert!(l.retry_after("alice", "10.0.0.1", 9_000).is_some());
    }

    #[test]
    fn a_flood_of_names_stays_bounded() {
        let mut l = LoginLimiter::new(3, 1_000_000, 60_000);
        for i in 0..(MAX_KEYS as i64 * 2) {
            l.failed(&format!("user{i}"), "10.0.0.1", i);
        }
        assert!(l.failures.len() <= MAX_KEYS);
    }
}
