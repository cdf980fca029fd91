//! Who may log in and for how long: passwords, the user directory, sessions and the login
//! limiter. The HTTP side (the gate every request passes) is in `web::gate`.

pub mod directory;
pub mod limit;
pub mod password;
pub mod session;

pub use directory::Directory;
pub use limit::LoginLimiter;
pub use password::Passwords;
pub use session::{SessionRecord, Timeouts};

/// A fresh random token (session CSRF tokens, form keys): 32 bytes as hex.
pub fn random_token() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
