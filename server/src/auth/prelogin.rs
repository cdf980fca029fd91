//! The login form's CSRF token, without a session: a random nonce in a cookie scoped to
//! `/login`, and the form's token its HMAC under a secret of this process. Nothing is stored
//! until someone logs in, so anonymous visitors to `/login` cannot fill the session table.
//! (A restart makes open login forms stale; the form says so and offers a fresh one.)

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The cookie that carries the nonce.
pub const COOKIE: &str = "crowsnest_login";

/// Makes and checks login-form tokens.
#[derive(Clone)]
pub struct PreLogin {
    secret: [u8; 32],
}

/// Explicitly not the secret.
impl std::fmt::Debug for PreLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreLogin(…)")
    }
}

impl Default for PreLogin {
    fn default() -> Self {
        use rand_core::RngCore;
        let mut secret = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut secret);
        PreLogin { secret }
    }
}

impl PreLogin {
    /// The form token for `nonce`.
    pub fn token(&self, nonce: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else { unreachable!("HMAC takes a key of any length") };
        mac.update(b"crowsnest-login-form\0");
        mac.update(nonce.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A new nonce and its token.
    pub fn issue(&self) -> (String, String) {
        let nonce = super::random_token();
        let token = self.token(&nonce);
        (nonce, token)
    }

    /// Whether `token` was issued for `nonce` by this process.
    pub fn check(&self, nonce: Option<&str>, token: &str) -> bool {
        nonce.is_some_and(|n| super::same_secret(&self.token(n), token))
    }

    /// The `Set-Cookie` value carrying `nonce` (Secure when the console is served over https).
    pub fn cookie(nonce: &str, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!("{COOKIE}={nonce}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}")
    }

    /// The nonce a request's cookies carry, if it is one this console could have made (64 hex
    /// digits, like every [`super::random_token`]).
    pub fn nonce_in(headers: &axum::http::HeaderMap) -> Option<String> {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value.to_string())
            .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_good_only_with_its_own_nonce_and_process() {
        let here = PreLogin::default();
        let (nonce, token) = here.issue();
        // (nonce, token, accepted)
        let (other_nonce, other_token) = here.issue();
        let table = [
            (Some(nonce.as_str()), token.as_str(), true),
            (Some(other_nonce.as_str()), token.as_str(), false),
            (Some(nonce.as_str()), other_token.as_str(), false),
            (None, token.as_str(), false),
            (Some(nonce.as_str()), "", false),
        ];
        for (n, t, want) in table {
            assert_eq!(here.check(n, t), want, "{n:?} {t}");
        }
        // Another process (a restart) does not accept it.
        assert!(!PreLogin::default().check(Some(&nonce), &token));
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, format!("a=b; {COOKIE}={nonce}; c=d").parse().unwrap());
        assert_eq!(PreLogin::nonce_in(&headers), Some(nonce));
        // Anything else in the cookie is no nonce at all.
        for bad in ["short", &"g".repeat(64), &"a".repeat(65)] {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(axum::http::header::COOKIE, format!("{COOKIE}={bad}").parse().unwrap());
            assert_eq!(PreLogin::nonce_in(&headers), None, "{bad}");
        }
    }
}
