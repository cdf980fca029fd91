//! Password checks: argon2id, off the async threads, a few at a time.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Verifies passwords against argon2id hashes without blocking the server.
#[derive(Clone)]
pub struct Passwords {
    /// Each check takes about 19 MiB and tens of milliseconds: bound how many run at once.
    permits: Arc<Semaphore>,
    /// Checked against when the user is unknown, so an unknown name takes as long as a wrong
    /// password and a login's timing does not tell which names exist.
    decoy: Arc<str>,
}

impl Passwords {
    /// A checker running at most `concurrent` checks at once.
    pub fn new(concurrent: usize) -> Self {
        let decoy = hash("crowsnest decoy password").unwrap_or_default();
        Passwords { permits: Arc::new(Semaphore::new(concurrent.max(1))), decoy: decoy.into() }
    }

    /// True when `password` matches `hash`; with no hash (unknown user) it checks the decoy
    /// and answers false.
    pub async fn verify(&self, hash: Option<String>, password: String) -> bool {
        let Ok(_permit) = self.permits.acquire().await else { return false };
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.to_string());
        let matched = tokio::task::spawn_blocking(move || Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok())
            .await
            .unwrap_or(false);
        known && matched
    }
}

/// An argon2id hash (OWASP parameters: m=19456 KiB, t=2, p=1) in PHC format.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}
