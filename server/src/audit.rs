//! The tamper-evident audit chain: how an entry is hashed and how a chain is verified.
//!
//! `h_n = HMAC-SHA-256(key, tag || h_(n-1) || seq || fields)`, every part length-prefixed,
//! `h_0` all zeros, `seq` contiguous from 1. The key is not in the database (a file or the
//! environment), so someone who can write the database cannot forge a chain that verifies. A
//! chain cannot see its own newest entries deleted, so heads `(seq, hash)` are kept outside it
//! too (this instance's local store, and what each peer reported) and compared.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;
use std::sync::Arc;

/// The secret the chain is keyed with. Never printed, never serialized.
#[derive(Clone)]
pub struct AuditKey(Arc<[u8]>);

/// Explicitly not the bytes: a secret must not reach a log by accident.
impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(…)")
    }
}

/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// The environment variable that may carry the key (it wins over the config's file).
pub const KEY_ENV: &str = "CROWSNEST_AUDIT_KEY";

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key is too short to be a secret.
    #[error("the audit key from {from} has {len} bytes; it needs at least {MIN_KEY_BYTES} (e.g. `head -c 32 /dev/urandom | base64`)")]
    TooShort {
        /// Where it came from.
        from: String,
        /// Its length.
        len: usize,
    },
    /// The key file cannot be read or made.
    #[error("the audit key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A shared control store needs one key on every instance.
    #[error(
        "a PostgreSQL control store is shared by every region, so every instance needs the same audit key: \
         set auth.audit_key_file (or {KEY_ENV}) to the same secret everywhere"
    )]
    NotShared,
}

impl AuditKey {
    /// A key from bytes (at least [`MIN_KEY_BYTES`]).
    pub fn new(bytes: &[u8], from: &str) -> Result<AuditKey, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort { from: from.to_string(), len: bytes.len() });
        }
        Ok(AuditKey(bytes.into()))
    }

    /// The key for an instance: `CROWSNEST_AUDIT_KEY`, else `file`, else (only for an
    /// embedded store, `shared` false) `DATA_DIR/audit.key`, made with 32 random bytes the
    /// first time. Surrounding whitespace of a file or variable is not part of the key.
    pub fn resolve(file: Option<&Path>, data_dir: &Path, shared: bool) -> Result<AuditKey, KeyError> {
        if let Ok(v) = std::env::var(KEY_ENV) {
            return AuditKey::new(v.trim().as_bytes(), KEY_ENV);
        }
        if let Some(path) = file {
            return AuditKey::read(path);
        }
        if shared {
            return Err(KeyError::NotShared);
        }
        let path = data_dir.join("audit.key");
        if !path.exists() {
            make_key_file(&path).map_err(|source| KeyError::File { path: path.display().to_string(), source })?;
        }
        AuditKey::read(&path)
    }

    /// The key in `path`.
    pub fn read(path: &Path) -> Result<AuditKey, KeyError> {
        let text = std::fs::read(path).map_err(|source| KeyError::File { path: path.display().to_string(), source })?;
        let trimmed = String::from_utf8_lossy(&text).trim().to_string();
        AuditKey::new(trimmed.as_bytes(), &path.display().to_string())
    }
}

/// Writes 32 random bytes, hex, readable by the owner only.
fn make_key_file(path: &Path) -> std::io::Result<()> {
    use rand_core::RngCore;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(hex.as_bytes())?;
    f.sync_all()
}

/// Hash of the entry before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain tag, so an audit hash can never be confused with another MAC of the same bytes.
const TAG: &str = "crowsnest-audit-v2";

/// What an audit entry records: the log's vocabulary. Stored as its words (`login_failed`,
/// `maintenance_on.executed`), which the chain hashes, so the words never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A person logged in.
    Login,
    /// A login was refused.
    LoginFailed,
    /// A person logged out.
    Logout,
    /// A user was added.
    UserAdded,
    /// A user was disabled (their sessions end).
    UserDisabled,
    /// A user was enabled again.
    UserEnabled,
    /// A user's password was set from the command line.
    UserPasswordChanged,
    /// A step of a maintenance action, e.g. `maintenance_on.executed`.
    Maintenance(app::action::ActionKind, ActionStep),
    /// A refused attempt that names no action kind: a form too broken to tell, an approval, a
    /// cancel.
    Refused(Attempt),
    /// An alert was acknowledged (its repeats stop until it resolves).
    AlertAcknowledged,
    /// A silence was made.
    SilenceCreated,
    /// A silence was ended before its time.
    SilenceExpired,
    /// A test notification was sent to a direct receiver.
    ReceiverTested,
    /// A step of an incident update told to the public, e.g. `incident.posted`.
    Incident(IncidentStep),
}

/// Where an incident update went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum IncidentStep {
    /// Posted on the primary.
    Posted,
    /// Posted on a secondary while the primary was lost: on this region's page, pending replay.
    BreakGlass,
    /// A break-glass update replayed into the primary.
    Replayed,
    /// Not posted or not replayed (with the reason in the detail).
    Refused,
}

/// Where a maintenance action went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum ActionStep {
    /// Asked for, waiting for a second person.
    Requested,
    /// A second person agreed.
    Approved,
    /// Carried out.
    Executed,
    /// Not allowed (with the reason in the detail).
    Refused,
    /// Withdrawn by its requester.
    Cancelled,
    /// Nobody approved it in time.
    Expired,
    /// Allowed but publishing it failed.
    Failed,
    /// Taken on a secondary while the primary was lost.
    BreakGlass,
    /// A break-glass change waiting for a second on-call.
    BreakGlassRequested,
    /// A second on-call agreed to a break-glass change.
    BreakGlassApproved,
    /// A break-glass change replayed into the primary.
    Replayed,
    /// A break-glass change not replayed: the site changed on the primary after it.
    Superseded,
}

/// Refused attempts that name no action kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Attempt {
    /// A request whose kind could not be read.
    Action,
    /// Approving a request.
    Approval,
    /// Cancelling a request.
    Cancel,
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login_failed",
            AuditAction::Logout => "logout",
            AuditAction::UserAdded => "user_added",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::UserEnabled => "user_enabled",
            AuditAction::UserPasswordChanged => "user_password_changed",
            AuditAction::AlertAcknowledged => "alert_acknowledged",
            AuditAction::SilenceCreated => "silence_created",
            AuditAction::SilenceExpired => "silence_expired",
            AuditAction::ReceiverTested => "receiver_tested",
            AuditAction::Maintenance(kind, step) => return write!(f, "{}.{}", kind.as_str(), <&str>::from(step)),
            AuditAction::Refused(attempt) => return write!(f, "{}.refused", <&str>::from(attempt)),
            AuditAction::Incident(step) => return write!(f, "incident.{}", <&str>::from(step)),
        };
        f.write_str(word)
    }
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When it happened (unix milliseconds).
    pub at_ms: i64,
    /// Who did it (`crowsnest` for the console itself).
    pub actor: String,
    /// What happened, as an [`AuditAction`]'s words (kept as stored, so any entry verifies).
    pub action: String,
    /// What it was done to, e.g. the site `web` or the user `bob`.
    pub target: String,
    /// Why, in the actor's words.
    pub reason: String,
    /// Outcome, refusal reason, client address: whatever else is worth keeping.
    pub detail: String,
}

impl NewAuditEntry {
    /// An entry for `action`, by `actor` on `target`, at `at_ms`.
    pub fn new(at_ms: i64, actor: &str, action: AuditAction, target: &str, reason: &str, detail: String) -> NewAuditEntry {
        NewAuditEntry { at_ms, actor: actor.into(), action: action.to_string(), target: target.into(), reason: reason.into(), detail }
    }
}

/// A stored audit entry with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain: 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// The entry as appended.
    pub entry: NewAuditEntry,
    /// Hash of the previous entry ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This entry's chain hash.
    pub hash: String,
}

/// The chain hash of `entry` at `seq` after `prev`, keyed with `key`.
pub fn chain_hash(key: &AuditKey, prev: &str, seq: i64, e: &NewAuditEntry) -> String {
    let Ok(mut h) = Hmac::<Sha256>::new_from_slice(&key.0) else { unreachable!("HMAC takes a key of any length") };
    let seq = seq.to_string();
    let at = e.at_ms.to_string();
    // Length-prefix every part so no two different entries hash the same bytes.
    for part in [TAG, prev, &seq, &at, &e.actor, &e.action, &e.target, &e.reason, &e.detail] {
        h.update(&(part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where and how a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry is missing (deleted) or one was inserted with a made-up number.
    #[error("audit entry {expected}: missing (entry {seq} comes next); an entry was deleted or inserted")]
    Gap {
        /// The seq found.
        seq: i64,
        /// The seq that should have come.
        expected: i64,
    },
    /// The entry does not follow the one before it (reordered, inserted or rewritten).
    #[error("audit entry {seq}: its previous-hash does not match entry {}'s hash; entries were reordered, inserted or rewritten", seq - 1)]
    Unlinked {
        /// The first entry that does not follow.
        seq: i64,
    },
    /// The entry's content does not match its hash (edited).
    #[error("audit entry {seq}: its content does not match its hash; the entry was edited")]
    Edited {
        /// The edited entry.
        seq: i64,
    },
    /// The chain ends before a head recorded outside it (the tail was cut off).
    #[error("audit entry {seq}: {by} recorded it as the head, but the log ends at {last}; newer entries were deleted")]
    TailCut {
        /// The recorded head's seq.
        seq: i64,
        /// The last seq in the log.
        last: i64,
        /// Who recorded the head: `this instance` or `peer NAME`.
        by: String,
    },
    /// The entry at a recorded head's place has another hash (the chain was rewritten).
    #[error("audit entry {seq}: its hash differs from the head {by} recorded; the log was rewritten")]
    HeadDiffers {
        /// The recorded head's seq.
        seq: i64,
        /// Who recorded the head: `this instance` or `peer NAME`.
        by: String,
    },
}

impl ChainBreak {
    /// The first bad entry's seq.
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Gap { expected: seq, .. }
            | ChainBreak::Unlinked { seq }
            | ChainBreak::Edited { seq }
            | ChainBreak::TailCut { seq, .. }
            | ChainBreak::HeadDiffers { seq, .. } => *seq,
        }
    }
}

/// Who recorded the head this instance keeps itself ([`Head::by`]; a peer's is `peer NAME`).
pub const THIS_INSTANCE: &str = "this instance";

/// A head `(seq, hash)` recorded outside the chain, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Its seq.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// `this instance` or `peer NAME`.
    pub by: String,
}

/// Checks `entries` (in `seq` order) link up from genesis under `key` and agree with every
/// recorded head; returns how many entries were checked.
pub fn verify(key: &AuditKey, entries: &[AuditEntry], heads: &[Head]) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.seq != expected {
            return Err(ChainBreak::Gap { seq: e.seq, expected });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        if chain_hash(key, &prev, e.seq, &e.entry) != e.hash {
            return Err(ChainBreak::Edited { seq: e.seq });
        }
        prev = e.hash.clone();
    }
    let last = entries.len() as i64;
    // The earliest disagreement names the first bad entry.
    let mut broken: Option<ChainBreak> = None;
    for head in heads.iter().filter(|h| h.seq > 0) {
        let found = match entries.get((head.seq - 1) as usize) {
            None => ChainBreak::TailCut { seq: head.seq, last, by: head.by.clone() },
            Some(e) if e.hash != head.hash => ChainBreak::HeadDiffers { seq: head.seq, by: head.by.clone() },
            Some(_) => continue,
        };
        if broken.as_ref().is_none_or(|b| found.seq() < b.seq()) {
            broken = Some(found);
        }
    }
    match broken {
        Some(b) => Err(b),
        None => Ok(entries.len()),
    }
}

/// Whether appending after the chain's last entry `(last_seq, last_hash)` is safe given the
/// recorded `head`, and the entry at the head's place (`at_head`, when the chain reaches it):
/// the chain must still hold the head, unchanged. Checked before every append, so a cut or
/// rewritten tail is never extended (and so never blessed as the new head).
pub fn may_extend(last: Option<(i64, &str)>, head: Option<&Head>, at_head: Option<&str>) -> Result<(), ChainBreak> {
    let Some(head) = head.filter(|h| h.seq > 0) else { return Ok(()) };
    let last_seq = last.map_or(0, |(s, _)| s);
    if last_seq < head.seq {
        return Err(ChainBreak::TailCut { seq: head.seq, last: last_seq, by: head.by.clone() });
    }
    match at_head {
        Some(hash) if hash == head.hash => Ok(()),
        _ => Err(ChainBreak::HeadDiffers { seq: head.seq, by: head.by.clone() }),
    }
}

/// Builds a well-formed chain from entries (for tests and tools).
pub fn chain(key: &AuditKey, entries: impl IntoIterator<Item = NewAuditEntry>) -> Vec<AuditEntry> {
    let mut prev = GENESIS.to_string();
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let seq = i as i64 + 1;
            let hash = chain_hash(key, &prev, seq, &entry);
            AuditEntry { seq, entry, prev_hash: std::mem::replace(&mut prev, hash.clone()), hash }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::new(b"0123456789abcdef0123456789abcdef", "test").unwrap()
    }

    #[test]
    fn audit_actions_keep_their_stored_words() {
        use app::action::ActionKind::{MaintenanceOff, MaintenanceOn};
        let table = [
            (AuditAction::Login, "login"),
            (AuditAction::LoginFailed, "login_failed"),
            (AuditAction::Logout, "logout"),
            (AuditAction::UserAdded, "user_added"),
            (AuditAction::UserDisabled, "user_disabled"),
            (AuditAction::UserEnabled, "user_enabled"),
            (AuditAction::UserPasswordChanged, "user_password_changed"),
            (AuditAction::AlertAcknowledged, "alert_acknowledged"),
            (AuditAction::SilenceCreated, "silence_created"),
            (AuditAction::SilenceExpired, "silence_expired"),
            (AuditAction::ReceiverTested, "receiver_tested"),
            (AuditAction::Maintenance(MaintenanceOn, ActionStep::Executed), "maintenance_on.executed"),
            (AuditAction::Maintenance(MaintenanceOff, ActionStep::BreakGlassApproved), "maintenance_off.break_glass_approved"),
            (AuditAction::Maintenance(MaintenanceOn, ActionStep::Replayed), "maintenance_on.replayed"),
            (AuditAction::Refused(Attempt::Action), "action.refused"),
            (AuditAction::Refused(Attempt::Approval), "approval.refused"),
            (AuditAction::Refused(Attempt::Cancel), "cancel.refused"),
        ];
        for (action, words) in table {
            assert_eq!(action.to_string(), words, "{action:?}");
        }
    }

    fn entry(n: i64) -> NewAuditEntry {
        NewAuditEntry {
            at_ms: 1_795_600_000_000 + n,
            actor: "alice".into(),
            action: "maintenance_on.executed".into(),
            target: "web".into(),
            reason: format!("reason {n}"),
            detail: String::new(),
        }
    }

    fn five() -> Vec<AuditEntry> {
        chain(&key(), (1..=5).map(entry))
    }

    fn mine(c: &[AuditEntry]) -> Head {
        Head { seq: c.len() as i64, hash: c.last().unwrap().hash.clone(), by: "this instance".into() }
    }

    #[test]
    fn the_hash_is_a_keyed_mac_with_a_known_answer() {
        // Fixed input, fixed key: the answer must never change, or every stored chain breaks.
        let e = NewAuditEntry {
            at_ms: 1_795_600_000_001,
            actor: "alice".into(),
            action: "login".into(),
            target: "alice".into(),
            reason: String::new(),
            detail: "from 127.0.0.1".into(),
        };
        assert_eq!(chain_hash(&key(), GENESIS, 1, &e), KNOWN_ANSWER);
        // Another key gives another hash: without the key nobody can make a chain verify.
        let other = AuditKey::new(b"another secret, at least 32 bytes long", "test").unwrap();
        assert_ne!(chain_hash(&other, GENESIS, 1, &e), KNOWN_ANSWER);
        assert!(matches!(AuditKey::new(b"short", "test"), Err(KeyError::TooShort { len: 5, .. })));
        assert_eq!(format!("{:?}", key()), "AuditKey(…)");
    }

    /// HMAC-SHA-256 of the fixed entry above, computed independently (Python's hmac module
    /// over the same length-prefixed parts).
    const KNOWN_ANSWER: &str = "dd9267fd358df8f0784abb57bbcf22dd4bc517f9f2afcb1b604153bff59e1aef";

    #[test]
    fn verify_names_the_first_bad_entry_for_each_kind_of_tampering() {
        let good = five();
        let head = mine(&good);
        assert_eq!(verify(&key(), &good, std::slice::from_ref(&head)), Ok(5));
        assert_eq!(verify(&key(), &[], &[]), Ok(0));

        // (what was done, the tampered chain, expected break)
        let mut edited = good.clone();
        edited[2].entry.reason = "nothing to see".into();
        let mut deleted_middle = good.clone();
        deleted_middle.remove(2);
        let mut swapped = good.clone();
        let (a, b) = (swapped[1].clone(), swapped[2].clone());
        swapped[1] = AuditEntry { seq: 2, ..b };
        swapped[2] = AuditEntry { seq: 3, ..a };
        let mut renumbered = good.clone();
        renumbered.remove(2);
        for e in renumbered.iter_mut().skip(2) {
            e.seq -= 1;
        }
        let mut inserted = good.clone();
        let forged = chain(&key(), [entry(99)]).remove(0);
        inserted.insert(2, AuditEntry { seq: 3, ..forged });
        for e in inserted.iter_mut().skip(3) {
            e.seq += 1;
        }
        let tail_cut = good[..3].to_vec();
        let rewritten = chain(&key(), (1..=5).map(|n| NewAuditEntry { reason: "rewritten".into(), ..entry(n) }));
        // Someone with the database but not the key rewrites from entry 4 on, as unkeyed SHA-256.
        let unkeyed = AuditKey::new(b"what the attacker guessed the key was", "x").unwrap();
        let mut forged_tail = good[..3].to_vec();
        let mut prev = forged_tail[2].hash.clone();
        for n in 4..=5 {
            let e = NewAuditEntry { reason: "forged".into(), ..entry(n) };
            let hash = chain_hash(&unkeyed, &prev, n, &e);
            forged_tail.push(AuditEntry { seq: n, entry: e, prev_hash: std::mem::replace(&mut prev, hash.clone()), hash });
        }

        let table: Vec<(&str, Vec<AuditEntry>, ChainBreak)> = vec![
            ("edited row", edited, ChainBreak::Edited { seq: 3 }),
            ("deleted middle row", deleted_middle, ChainBreak::Gap { seq: 4, expected: 3 }),
            ("swapped pair", swapped, ChainBreak::Unlinked { seq: 2 }),
            ("deleted and renumbered", renumbered, ChainBreak::Unlinked { seq: 3 }),
            ("inserted row", inserted, ChainBreak::Unlinked { seq: 3 }),
            ("deleted tail", tail_cut, ChainBreak::TailCut { seq: 5, last: 3, by: "this instance".into() }),
            ("rewritten whole", rewritten, ChainBreak::HeadDiffers { seq: 5, by: "this instance".into() }),
            ("tail forged without the key", forged_tail, ChainBreak::Edited { seq: 4 }),
        ];
        for (what, chain, want) in table {
            assert_eq!(verify(&key(), &chain, std::slice::from_ref(&head)), Err(want.clone()), "{what}");
            assert!(want.to_string().starts_with(&format!("audit entry {}", want.seq())), "{what}: {want}");
        }
        // A peer's head counts the same, and the earliest disagreement is named.
        let peer = Head { seq: 4, hash: "not the hash".into(), by: "peer sin-1".into() };
        let err = verify(&key(), &good, &[head.clone(), peer]).unwrap_err();
        assert_eq!(err, ChainBreak::HeadDiffers { seq: 4, by: "peer sin-1".into() });
        assert!(err.to_string().contains("peer sin-1"), "{err}");
    }

    #[test]
    fn a_cut_or_rewritten_tail_is_never_extended() {
        let good = five();
        let head = mine(&good);
        let h = |c: &[AuditEntry], i: usize| c[i].hash.clone();
        // (case, chain's last (seq, hash), the hash at the head's place, outcome)
        let table: Vec<(&str, Option<(i64, String)>, Option<String>, Result<(), i64>)> = vec![
            ("the chain ends at the head", Some((5, h(&good, 4))), Some(h(&good, 4)), Ok(())),
            ("others appended since", Some((7, "x".into())), Some(h(&good, 4)), Ok(())),
            ("the tail was cut", Some((3, h(&good, 2))), None, Err(5)),
            ("cut and refilled to the same seq", Some((5, "forged".into())), Some("forged".into()), Err(5)),
            ("emptied", None, None, Err(5)),
        ];
        for (case, last, at_head, want) in table {
            let got = may_extend(last.as_ref().map(|(s, h)| (*s, h.as_str())), Some(&head), at_head.as_deref()).map_err(|b| b.seq());
            assert_eq!(got, want, "{case}");
        }
        assert_eq!(may_extend(None, None, None), Ok(()), "nothing recorded yet");
    }

    #[test]
    fn every_field_is_part_of_the_hash() {
        let base = entry(1);
        let h = chain_hash(&key(), GENESIS, 1, &base);
        let variants = [
            NewAuditEntry { at_ms: 0, ..base.clone() },
            NewAuditEntry { actor: "bob".into(), ..base.clone() },
            NewAuditEntry { action: "x".into(), ..base.clone() },
            NewAuditEntry { target: "api".into(), ..base.clone() },
            NewAuditEntry { reason: "r".into(), ..base.clone() },
            NewAuditEntry { detail: "d".into(), ..base.clone() },
        ];
        for v in variants {
            assert_ne!(chain_hash(&key(), GENESIS, 1, &v), h, "{v:?}");
        }
        assert_ne!(chain_hash(&key(), GENESIS, 2, &base), h, "seq");
        // Moving text between fields changes the hash too (length prefixes).
        let shifted = NewAuditEntry { actor: "alic".into(), action: "emaintenance_on.executed".into(), ..base.clone() };
        assert_ne!(chain_hash(&key(), GENESIS, 1, &shifted), h);
    }
}
