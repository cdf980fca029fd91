//! The tamper-evident audit chain: how an entry is hashed and how a chain is verified.
//!
//! `h_n = SHA-256(tag || h_(n-1) || seq || fields)`, every part length-prefixed, `h_0` all
//! zeros, `seq` contiguous from 1. A chain cannot see its own newest entries deleted, so the
//! head `(seq, hash)` is also kept in this instance's local store and compared.

use sha2::{Digest, Sha256};

/// Hash of the entry before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain tag, so an audit hash can never be confused with another SHA-256 of the same bytes.
const TAG: &str = "crowsnest-audit-v1";

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When it happened (unix milliseconds).
    pub at_ms: i64,
    /// Who did it (`crowsnest` for the console itself).
    pub actor: String,
    /// What happened, e.g. `login_failed`, `maintenance_on.executed`.
    pub action: String,
    /// What it was done to, e.g. the site `web` or the user `bob`.
    pub target: String,
    /// Why, in the actor's words.
    pub reason: String,
    /// Outcome, refusal reason, client address: whatever else is worth keeping.
    pub detail: String,
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

/// The chain hash of `entry` at `seq` after `prev`.
pub fn chain_hash(prev: &str, seq: i64, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    let at = e.at_ms.to_string();
    // Length-prefix every part so no two different entries hash the same bytes.
    for part in [TAG, prev, &seq, &at, &e.actor, &e.action, &e.target, &e.reason, &e.detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("{:x}", h.finalize())
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
    /// The chain ends before the head this instance recorded (the tail was cut off).
    #[error("audit entry {seq}: this instance recorded it as the head, but the log ends at {last}; newer entries were deleted")]
    TailCut {
        /// The recorded head's seq.
        seq: i64,
        /// The last seq in the log.
        last: i64,
    },
    /// The entry at the recorded head's place has another hash (the chain was rewritten).
    #[error("audit entry {seq}: its hash differs from the head this instance recorded; the log was rewritten")]
    HeadDiffers {
        /// The recorded head's seq.
        seq: i64,
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
            | ChainBreak::HeadDiffers { seq } => *seq,
        }
    }
}

/// Checks `entries` (in `seq` order) link up from genesis and agree with the recorded `head`;
/// returns how many entries were checked.
pub fn verify(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.seq != expected {
            return Err(ChainBreak::Gap { seq: e.seq, expected });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::Unlinked { seq: e.seq });
        }
        if chain_hash(&prev, e.seq, &e.entry) != e.hash {
            return Err(ChainBreak::Edited { seq: e.seq });
        }
        prev = e.hash.clone();
    }
    if let Some((seq, hash)) = head {
        let last = entries.len() as i64;
        match entries.get((seq - 1).max(0) as usize) {
            None if seq > 0 => return Err(ChainBreak::TailCut { seq, last }),
            Some(e) if e.hash != hash => return Err(ChainBreak::HeadDiffers { seq }),
            _ => {}
        }
    }
    Ok(entries.len())
}

/// Builds a well-formed chain from entries (for tests and tools).
pub fn chain(entries: impl IntoIterator<Item = NewAuditEntry>) -> Vec<AuditEntry> {
    let mut prev = GENESIS.to_string();
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let seq = i as i64 + 1;
            let hash = chain_hash(&prev, seq, &entry);
            AuditEntry { seq, entry, prev_hash: std::mem::replace(&mut prev, hash.clone()), hash }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        chain((1..=5).map(entry))
    }

    #[test]
    fn verify_names_the_first_bad_entry_for_each_kind_of_tampering() {
        let head = |c: &[AuditEntry]| (c.len() as i64, c.last().unwrap().hash.clone());
        let good = five();
        let (hs, hh) = head(&good);
        assert_eq!(verify(&good, Some((hs, &hh))), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));

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
        let forged = chain([entry(99)]).remove(0);
        inserted.insert(2, AuditEntry { seq: 3, ..forged });
        for e in inserted.iter_mut().skip(3) {
            e.seq += 1;
        }
        let tail_cut = good[..3].to_vec();
        let rewritten = chain((1..=5).map(|n| NewAuditEntry { reason: "rewritten".into(), ..entry(n) }));

        let table: Vec<(&str, Vec<AuditEntry>, ChainBreak)> = vec![
            ("edited row", edited, ChainBreak::Edited { seq: 3 }),
            ("deleted middle row", deleted_middle, ChainBreak::Gap { seq: 4, expected: 3 }),
            ("swapped pair", swapped, ChainBreak::Unlinked { seq: 2 }),
            ("deleted and renumbered", renumbered, ChainBreak::Unlinked { seq: 3 }),
            ("inserted row", inserted, ChainBreak::Unlinked { seq: 3 }),
            ("deleted tail", tail_cut, ChainBreak::TailCut { seq: 5, last: 3 }),
            ("rewritten whole", rewritten, ChainBreak::HeadDiffers { seq: 5 }),
        ];
        for (what, chain, want) in table {
            assert_eq!(verify(&chain, Some((hs, &hh))), Err(want.clone()), "{what}");
            assert!(want.to_string().starts_with(&format!("audit entry {}", want.seq())), "{what}: {want}");
        }
    }

    #[test]
    fn every_field_is_part_of_the_hash() {
        let base = entry(1);
        let h = chain_hash(GENESIS, 1, &base);
        let variants = [
            NewAuditEntry { at_ms: 0, ..base.clone() },
            NewAuditEntry { actor: "bob".into(), ..base.clone() },
            NewAuditEntry { action: "x".into(), ..base.clone() },
            NewAuditEntry { target: "api".into(), ..base.clone() },
            NewAuditEntry { reason: "r".into(), ..base.clone() },
            NewAuditEntry { detail: "d".into(), ..base.clone() },
        ];
        for v in variants {
            assert_ne!(chain_hash(GENESIS, 1, &v), h, "{v:?}");
        }
        assert_ne!(chain_hash(GENESIS, 2, &base), h, "seq");
        // Moving text between fields changes the hash too (length prefixes).
        let shifted = NewAuditEntry { actor: "alic".into(), action: "emaintenance_on.executed".into(), ..base.clone() };
        assert_ne!(chain_hash(GENESIS, 1, &shifted), h);
    }
}
