//! Who may log in and for how long: passwords, the user directory, sessions and the login
//! limiter. The HTTP side (the gate every request passes) is in `web::gate`.

pub mod directory;
pub mod limit;
pub mod password;
pub mod prelogin;
pub mod session;
pub mod session_cache;

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

/// SHA-256 of a bearer token, hex: what the config keeps for loaders, peers and scrapers.
pub fn token_sha256(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a new user's name, role and password; every mistake by field (as the forms show them).
pub fn check_new_user(name: &str, role: &str, password: &str) -> Result<app::auth::Role, Vec<(String, String)>> {
    let mut errors = Vec::new();
    // Lower case only, as in the config: `Alice` and `alice` must never be two people.
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)) {
        errors.push(("name".to_string(), format!("{name:?} is not a login name: 1 to 64 lower-case letters, digits, `_`, `.` or `-`")));
    }
    let role = app::auth::Role::parse(role);
    if role.is_none() {
        errors.push(("role".to_string(), "the role must be viewer, oncall or admin".to_string()));
    }
    let min = app::auth::PASSWORD_MIN_CHARS;
    if password.chars().count() < min {
        errors.push(("password".to_string(), format!("the password needs at least {min} characters")));
    }
    match role {
        Some(role) if errors.is_empty() => Ok(role),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_new_user_needs_a_name_a_role_and_a_long_password() {
        assert!(super::check_new_user("erin", "oncall", "twelve chars").is_ok());
        // (name, role, password, fields in error)
        let table = [
            ("", "oncall", "twelve chars", vec!["name"]),
            ("erin smith", "oncall", "twelve chars", vec!["name"]),
            ("Erin", "oncall", "twelve chars", vec!["name"]),
            ("erin", "root", "twelve chars", vec!["role"]),
            ("erin", "oncall", "short", vec!["password"]),
            ("<b>", "god", "", vec!["name", "role", "password"]),
        ];
        for (name, role, password, fields) in table {
            let errors = super::check_new_user(name, role, password).unwrap_err();
            assert_eq!(errors.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(), fields, "{name:?} {role:?}");
        }
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(super::same_secret("abc", "abc"));
        assert!(!super::same_secret("abc", "abd"));
        assert!(!super::same_secret("abc", "abcd"));
        assert_eq!(super::random_token().len(), 64);
        assert_ne!(super::random_token(), super::random_token());
    }
}
