//! Password checks: argon2id, off the async threads, a few at a time.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Checks waiting for a permit, per permit, before further logins are turned away: the queue
/// is bounded, so a flood of logins cannot hold unbounded memory or delay on-call for minutes.
pub const QUEUE_PER_PERMIT: usize = 16;

/// Too many password checks are waiting: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many logins are being checked; try again in a few seconds")]
pub struct Busy;

/// Verifies passwords against argon2id hashes without blocking the server.
#[derive(Clone)]
pub struct Passwords {
    /// Each check takes about 19 MiB and tens of milliseconds: bound how many run at once.
    permits: Arc<Semaphore>,
    /// Checked against when the user is unknown, so an unknown name takes as long as a wrong
    /// password and a login's timing does not tell which names exist.
    decoy: Arc<str>,
    /// Checks running or waiting now.
    queued: Arc<AtomicUsize>,
    /// Most checks running or waiting at once.
    max_queued: usize,
}

/// Gives a queue place back when a check ends, however it ends.
struct Place(Arc<AtomicUsize>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Passwords {
    /// A checker running at most `concurrent` checks at once.
    pub fn new(concurrent: usize) -> Self {
        let decoy = hash("crowsnest decoy password").unwrap_or_default();
        let concurrent = concurrent.max(1);
        Passwords {
            permits: Arc::new(Semaphore::new(concurrent)),
            decoy: decoy.into(),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued: concurrent * (QUEUE_PER_PERMIT + 1),
        }
    }

    /// True when `password` matches `hash`; with no hash (unknown user) it checks the decoy
    /// and answers false. [`Busy`] when the queue of checks is full.
    pub async fn verify(&self, hash: Option<String>, password: String) -> Result<bool, Busy> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let _place = Place(self.queued.clone());
        let Ok(_permit) = self.permits.acquire().await else { return Ok(false) };
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.to_string());
        let matched = tokio::task::spawn_blocking(move || Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok())
            .await
            .unwrap_or(false);
        Ok(known && matched)
    }
}

/// An argon2id hash (OWASP parameters: m=19456 KiB, t=2, p=1) in PHC format.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// The demo's passwords (`deploy/demo.toml`, the README): public, so never served beyond
/// loopback.
pub const DEMO_PASSWORDS: &[&str] = &["alice-oncall", "bob-viewer", "carol-admin"];

/// Whether `hash` is the hash of one of the demo's public passwords.
pub fn is_demo(hash: &str) -> bool {
    let Ok(parsed) = argon2::PasswordHash::new(hash) else { return false };
    DEMO_PASSWORDS.iter().any(|p| Argon2::default().verify_password(p.as_bytes(), &parsed).is_ok())
}
