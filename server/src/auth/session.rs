//! What a login session holds and when it ends. Pure: the caller passes `now`.

use crate::store::UserRecord;
use serde::{Deserialize, Serialize};

/// Key of the record inside the tower session.
pub const KEY: &str = "crowsnest";

/// Stored in the session (server-side, in the local store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// Logged-in user, or None before login (the login form's token only).
    pub user: Option<String>,
    /// The synchronizer token every state-changing request must carry.
    pub csrf_token: String,
    /// When the user logged in (unix milliseconds).
    pub login_at_ms: i64,
    /// Last request seen (unix milliseconds), written at most once a minute.
    pub seen_at_ms: i64,
}

/// Session lifetimes.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Milliseconds without a request after which a session ends.
    pub idle_ms: i64,
    /// Milliseconds after login after which a session ends.
    pub absolute_ms: i64,
}

/// Why a session is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No such user any more.
    UnknownUser,
    /// The user is disabled.
    Disabled,
    /// Password changed or user disabled after this session logged in.
    Revoked,
    /// Idle too long.
    Idle,
    /// Too long since login.
    TooOld,
}

/// Whether the session of `record` is still good for `user` at `now`.
pub fn check(record: &SessionRecord, user: Option<&UserRecord>, t: Timeouts, now: i64) -> Result<(), Ended> {
    let user = user.ok_or(Ended::UnknownUser)?;
    if user.disabled {
        Err(Ended::Disabled)
    } else if record.login_at_ms < user.sessions_valid_after_ms {
        Err(Ended::Revoked)
    } else if now - record.seen_at_ms >= t.idle_ms {
        Err(Ended::Idle)
    } else if now - record.login_at_ms >= t.absolute_ms {
        Err(Ended::TooOld)
    } else {
        Ok(())
    }
}

/// Whether the record's last-seen time is old enough to be worth writing again: once a minute
/// at most (a write per request would make every page view a database write), and often
/// enough that a busy session never looks idle.
pub fn needs_touch(record: &SessionRecord, t: Timeouts, now: i64) -> bool {
    now - record.seen_at_ms >= (t.idle_ms / 4).min(60_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::auth::Role;

    #[test]
    fn a_session_ends_for_each_reason_in_turn() {
        let t = Timeouts { idle_ms: 30 * 60_000, absolute_ms: 12 * 3_600_000 };
        let user = |disabled: bool, valid_after: i64| UserRecord {
            name: "alice".into(),
            role: Role::Oncall,
            password_hash: String::new(),
            disabled,
            managed: false,
            sessions_valid_after_ms: valid_after,
        };
        let rec = SessionRecord { user: Some("alice".into()), csrf_token: "t".into(), login_at_ms: 1_000, seen_at_ms: 5_000 };
        let ok = user(false, 0);
        // (user, now, expected)
        let table = [
            (Some(ok.clone()), 6_000, Ok(())),
            (None, 6_000, Err(Ended::UnknownUser)),
            (Some(user(true, 0)), 6_000, Err(Ended::Disabled)),
            (Some(user(false, 2_000)), 6_000, Err(Ended::Revoked)),
            (Some(user(false, 1_000)), 6_000, Ok(())),
            (Some(ok.clone()), 5_000 + 30 * 60_000 - 1, Ok(())),
            (Some(ok.clone()), 5_000 + 30 * 60_000, Err(Ended::Idle)),
        ];
        for (u, now, want) in table {
            assert_eq!(check(&rec, u.as_ref(), t, now), want, "{u:?} at {now}");
        }
        let busy = SessionRecord { seen_at_ms: 1_000 + 12 * 3_600_000 - 1, ..rec.clone() };
        assert_eq!(check(&busy, Some(&ok), t, 1_000 + 12 * 3_600_000), Err(Ended::TooOld));
        assert!(!needs_touch(&rec, t, 64_999));
        assert!(needs_touch(&rec, t, 65_000));
        let short = Timeouts { idle_ms: 2_000, ..t };
        assert!(!needs_touch(&rec, short, 5_499));
        assert!(needs_touch(&rec, short, 5_500), "a short idle timeout is refreshed often enough");
    }
}
