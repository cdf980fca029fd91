//! DNS statuses as a pure function of the declared record, what each resolver answered, the
//! estate's address book and `now`. Per resolver, rules are checked in order and the first that
//! holds decides; the record's status is the most serious of its resolvers' and of `split`.

use super::wire::QueryError;
use crate::config::{Estate, ResolverKind, Tier};
use app::model::DnsStatus;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// Whose address a value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// Host name.
    pub host: String,
    /// Its tier.
    pub tier: Tier,
    /// Its region's human name.
    pub region: String,
}

/// Addresses of the estate, to label answers.
#[derive(Debug, Clone, Default)]
pub struct AddressBook(HashMap<String, Owner>);

impl AddressBook {
    /// Every host's address from the config.
    pub fn from_estate(estate: &Estate) -> AddressBook {
        AddressBook(
            estate
                .hosts
                .iter()
                .map(|h| {
                    let region = estate
                        .regions
                        .iter()
                        .find(|r| r.name == h.region)
                        .map_or(h.region.clone(), |r| r.display.clone());
                    (h.address.to_string(), Owner { host: h.name.clone(), tier: h.tier, region })
                })
                .collect(),
        )
    }

    /// Adds one address (tests build small books by hand).
    pub fn insert(&mut self, address: &str, host: &str, tier: Tier, region: &str) {
        self.0.insert(
            address.to_string(),
            Owner { host: host.into(), tier, region: region.into() },
        );
    }

    /// The owner of an address, if it is in the estate.
    pub fn owner(&self, value: &str) -> Option<&Owner> {
        self.0.get(value)
    }

    /// `lb1 · api_lb · San Jose`, or `outside the estate`.
    pub fn label(&self, value: &str) -> String {
        match self.owner(value) {
            Some(o) => format!("{} · {} · {}", o.host, o.tier, o.region),
            None => "outside the estate".to_string(),
        }
    }
}

/// The value a record had before its declaration last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// The old values.
    pub values: BTreeSet<String>,
    /// The old TTL in seconds: caches may keep the old values this long.
    pub ttl: u32,
    /// When the declaration changed (unix milliseconds).
    pub replaced_at_ms: i64,
}

/// A declared record set, normalised like answers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The declared values.
    pub values: BTreeSet<String>,
    /// The declared TTL in seconds.
    pub ttl: u32,
    /// The tier that must serve this name, when it is a public hostname.
    pub required_tier: Option<Tier>,
    /// The previous declaration, if it changed recently.
    pub previous: Option<Previous>,
}

/// What one resolver said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A reply came back.
    Answered {
        /// `NOERROR`, `NXDOMAIN`, `SERVFAIL`, …
        rcode: String,
        /// The AA flag.
        authoritative: bool,
        /// Values of the asked type.
        values: BTreeSet<String>,
        /// Smallest TTL among them.
        ttl: Option<u32>,
    },
    /// No usable reply.
    Failed(QueryError),
}

/// One resolver's answer to judge.
#[derive(Debug, Clone)]
pub struct View {
    /// Resolver name.
    pub resolver: String,
    /// Authoritative server or recursive resolver.
    pub kind: ResolverKind,
    /// What it said.
    pub seen: Seen,
}

/// The judgement of one resolver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverVerdict {
    /// Resolver name.
    pub resolver: String,
    /// Its status.
    pub status: DnsStatus,
    /// Why, in words, with answers labelled.
    pub detail: String,
}

/// The judgement of one record across resolvers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The record's status.
    pub status: DnsStatus,
    /// Why, in words.
    pub detail: String,
    /// Per resolver.
    pub resolvers: Vec<ResolverVerdict>,
}

fn labelled(values: &BTreeSet<String>, book: &AddressBook) -> String {
    let mut text = String::new();
    for (i, v) in values.iter().enumerate() {
        let separator = if i == 0 { "" } else { ", " };
        let _ = write!(text, "{separator}{v} ({})", book.label(v));
    }
    text
}

/// Judges one resolver's answer.
pub fn judge_one(declared: &Declared, kind: ResolverKind, seen: &Seen, book: &AddressBook, now_ms: i64) -> (DnsStatus, String) {
    let (rcode, authoritative, values, ttl) = match seen {
        // No reply, or an unusable one, says nothing about the record.
        Seen::Failed(QueryError::Timeout(ms)) => return (DnsStatus::Timeout, format!("no answer within {ms} ms")),
        Seen::Failed(e @ QueryError::GaveUp(_)) => return (DnsStatus::Timeout, e.to_string()),
        Seen::Failed(e) => return (DnsStatus::Servfail, e.to_string()),
        Seen::Answered { rcode, authoritative, values, ttl } => (rcode, *authoritative, values, *ttl),
    };
    // An error code other than NXDOMAIN is the server's trouble, not an answer.
    if rcode != "NOERROR" && rcode != "NXDOMAIN" {
        return (DnsStatus::Servfail, format!("{rcode} from the server"));
    }
    // NXDOMAIN, or NOERROR without a record of the type (NODATA): the record is gone.
    if rcode == "NXDOMAIN" || values.is_empty() {
        let what = if rcode == "NXDOMAIN" { "NXDOMAIN" } else { "NODATA (no record of this type)" };
        return (DnsStatus::Missing, what.to_string());
    }
    // A server claiming to be authoritative must say so.
    if kind == ResolverKind::Authoritative && !authoritative {
        return (DnsStatus::Servfail, "answer from an authoritative server without the AA flag".into());
    }
    if values == &declared.values {
        let ttl = ttl.unwrap_or(declared.ttl);
        // Authoritative TTL must equal the declared one; a cache may only count down from it.
        let ttl_wrong = match kind {
            ResolverKind::Authoritative => ttl != declared.ttl,
            ResolverKind::Recursive => ttl > declared.ttl,
        };
        if ttl_wrong {
            return (DnsStatus::TtlMismatch, format!("TTL {ttl} s, declared {} s", declared.ttl));
        }
        return (DnsStatus::Ok, format!("{} · TTL {ttl} s", labelled(values, book)));
    }
    // The previous declaration, still inside its old TTL: caches are allowed to hold it.
    if let Some(previous) = &declared.previous {
        if values == &previous.values && now_ms - previous.replaced_at_ms < previous.ttl as i64 * 1000 {
            let left = (previous.ttl as i64 * 1000 - (now_ms - previous.replaced_at_ms)) / 1000;
            return (DnsStatus::Stale, format!("previous value {} for up to {left} s more", labelled(values, book)));
        }
    }
    let foreign: BTreeSet<&String> = values.difference(&declared.values).collect();
    // Traffic landing on a host of another tier is the incident's failure: loudest first.
    if let Some(required) = declared.required_tier {
        if let Some(v) = foreign.iter().find(|v| book.owner(v).is_some_and(|o| o.tier != required)) {
            return (
                DnsStatus::WrongTier,
                format!("answers {v} = {}, but {required} must serve this name", book.label(v)),
            );
        }
    }
    let complete = declared.values.is_subset(values);
    // All declared values are there, plus others.
    if complete {
        let extra: BTreeSet<String> = foreign.into_iter().cloned().collect();
        return (DnsStatus::UnexpectedExtra, format!("also answers {}", labelled(&extra, book)));
    }
    // Anything else: the answer is not what was declared.
    (DnsStatus::WrongTarget, format!("answers {}", labelled(values, book)))
}

/// Judges a record across every resolver.
pub fn judge(declared: &Declared, views: &[View], book: &AddressBook, now_ms: i64) -> Verdict {
    let resolvers: Vec<ResolverVerdict> = views
        .iter()
        .map(|v| {
            let (status, detail) = judge_one(declared, v.kind, &v.seen, book, now_ms);
            ResolverVerdict { resolver: v.resolver.clone(), status, detail }
        })
        .collect();
    // Resolvers that answered, with what they answered.
    let answered: BTreeSet<BTreeSet<String>> = views
        .iter()
        .zip(&resolvers)
        .filter(|(_, r)| !matches!(r.status, DnsStatus::Timeout | DnsStatus::Servfail))
        .map(|(v, _)| match &v.seen {
            Seen::Answered { values, .. } => values.clone(),
            Seen::Failed(_) => BTreeSet::new(),
        })
        .collect();
    // A resolver that could not answer says nothing about the record: it decides only when
    // no resolver gave a definitive answer.
    let unknown = |r: &&ResolverVerdict| matches!(r.status, DnsStatus::Timeout | DnsStatus::Servfail);
    let worst = resolvers
        .iter()
        .filter(|r| !unknown(r))
        .max_by_key(|r| r.status.rank())
        .or_else(|| resolvers.iter().max_by_key(|r| r.status.rank()))
        .map(|r| (r.status, format!("{}: {}", r.resolver, r.detail)));
    let split = (answered.len() > 1).then(|| {
        let sets: Vec<String> = answered
            .iter()
            .map(|s| if s.is_empty() { "nothing".to_string() } else { s.iter().cloned().collect::<Vec<_>>().join(" ") })
            .collect();
        (DnsStatus::Split, format!("resolvers disagree: {}", sets.join(" vs ")))
    });
    let (status, detail) = match (worst, split) {
        (None, _) => (DnsStatus::Unchecked, "not checked: no resolver is configured".to_string()),
        (Some(w), Some(s)) if s.0.rank() > w.0.rank() => s,
        (Some(w), _) => w,
    };
    Verdict { status, detail, resolvers }
}

/// The status to show after hysteresis, and whether the record is flapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settled {
    /// What the page shows and alarms on.
    pub shown: DnsStatus,
    /// The raw status changed often in the recent window.
    pub flapping: bool,
}

/// Rounds of raw statuses kept for hysteresis and flapping.
pub const WINDOW: usize = 8;
/// Changes of raw status within [`WINDOW`] that make a record flapping.
pub const FLAP_CHANGES: usize = 4;

/// Two of the last three raw statuses must agree before the shown status changes to it;
/// `history` is oldest first and ends with the current round.
pub fn settle(history: &[DnsStatus], shown: DnsStatus) -> Settled {
    let recent = &history[history.len().saturating_sub(3)..];
    let shown = recent
        .iter()
        .find(|candidate| recent.iter().filter(|s| s == candidate).count() >= 2)
        .copied()
        .unwrap_or(shown);
    let window = &history[history.len().saturating_sub(WINDOW)..];
    let changes = window.windows(2).filter(|pair| pair[0] != pair[1]).count();
    Settled { shown, flapping: changes >= FLAP_CHANGES }
}

#[cfg(test)]
mod tests;
