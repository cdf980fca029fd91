//! DNS statuses as a pure function of the declared record, what each resolver answered, the
//! estate's address book, the serials the authoritative servers publish and `now`. Per resolver,
//! rules are checked in order and the first that holds decides. Across resolvers, a disagreement
//! is `split` (each resolver's own finding listed, a lagging serial named as the likely cause)
//! unless every side is an expected state; `wrong_tier` stays the loudest.

use super::values::Values;
use super::wire::QueryError;
use crate::config::{Estate, ResolverKind, Tier};
use app::model::DnsStatus;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

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
                    let region = estate.regions.iter().find(|r| r.name == h.region).map_or(h.region.clone(), |r| r.display.clone());
                    (h.address.to_string(), Owner { host: h.name.clone(), tier: h.tier, region })
                })
                .collect(),
        )
    }

    /// Adds one address (tests build small books by hand).
    pub fn insert(&mut self, address: &str, host: &str, tier: Tier, region: &str) {
        self.0.insert(address.to_string(), Owner { host: host.into(), tier, region: region.into() });
    }

    /// The owner of an address, if it is in the estate.
    pub fn owner(&self, value: &str) -> Option<&Owner> {
        self.0.get(value)
    }

    /// Where traffic to a value lands: `lb3 · Singapore`, or `192.0.2.7 (outside the estate)`.
    pub fn place(&self, value: &str) -> String {
        match self.owner(value) {
            Some(o) => format!("{} · {}", o.host, o.region),
            None => format!("{value} (outside the estate)"),
        }
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
    pub values: Values,
    /// The old TTL in seconds: caches may keep the old values this long.
    pub ttl: u32,
    /// When the declaration changed (unix milliseconds).
    pub replaced_at_ms: i64,
}

/// A declared record set, normalised like answers are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The declared values.
    pub values: Values,
    /// The declared TTL in seconds.
    pub ttl: u32,
    /// The tier that must serve this name, when it is a public hostname.
    pub required_tier: Option<Tier>,
    /// The previous declaration, if it changed recently.
    pub previous: Option<Previous>,
    /// Values it may fail over to (addresses of the pool), answered instead of or besides the
    /// declared ones: `failed_over`, a warning, never critical.
    pub failover: Values,
}

/// The zone's serials, to name a lagging authoritative server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Serials {
    /// The serial each authoritative server published in its latest answer.
    pub published: BTreeMap<String, u32>,
    /// The serial the config declares, when it declares one.
    pub declared: Option<u32>,
}

impl Serials {
    /// The newest serial anyone knows of: published by a server or declared.
    fn newest(&self) -> Option<u32> {
        self.published.values().copied().chain(self.declared).max()
    }

    /// Why a resolver is behind, in words, when its serial is older than the newest known.
    pub fn lagging(&self, resolver: &str) -> Option<String> {
        let own = *self.published.get(resolver)?;
        let newest = self.newest()?;
        if own >= newest {
            return None;
        }
        let whose = match self.declared {
            Some(d) if d == newest => "the declared".to_string(),
            _ => {
                let ahead: Vec<&str> = self.published.iter().filter(|(_, s)| **s == newest).map(|(r, _)| r.as_str()).collect();
                ahead.join(" and ") + "'s"
            }
        };
        Some(format!("{resolver} publishes serial {own}, behind {whose} {newest}: it is likely serving an old copy of the zone"))
    }
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
        values: Values,
        /// Smallest TTL among them.
        ttl: Option<u32>,
    },
    /// No usable reply.
    Failed(QueryError),
}

/// One resolver's answer to judge.
#[derive(Debug, Clone)]
pub struct View {
    /// Resolver name (shared: every record's view of a resolver names it).
    pub resolver: Arc<str>,
    /// Authoritative server or recursive resolver.
    pub kind: ResolverKind,
    /// What it said.
    pub seen: Seen,
}

/// The judgement of one resolver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverVerdict {
    /// Resolver name (shared with the views).
    pub resolver: Arc<str>,
    /// Its status.
    pub status: DnsStatus,
    /// Why, in words, with answers labelled (shared with the page snapshots).
    pub detail: Arc<str>,
}

/// The judgement of one record across resolvers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The record's status.
    pub status: DnsStatus,
    /// Why, in words (shared with the page snapshots).
    pub detail: Arc<str>,
    /// Per resolver.
    pub resolvers: Vec<ResolverVerdict>,
}

/// `lb3 · Singapore, lb4 · Amsterdam`: where traffic lands, for the on-call.
fn landing(values: &Values, book: &AddressBook) -> String {
    values.iter().map(|v| book.place(v)).collect::<Vec<_>>().join(", ")
}

fn labelled(values: &Values, book: &AddressBook) -> String {
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
    let foreign: Vec<&String> = values.difference(&declared.values).collect();
    // Only declared values, but not all of them: a balancer gone from a round-robin set.
    if foreign.is_empty() {
        let gone: Values = declared.values.difference(values).cloned().collect();
        return (DnsStatus::Partial, format!("answers only {}; missing {}", labelled(values, book), labelled(&gone, book)));
    }
    // Everything else it answers is in the declared failover pool: a planned failover.
    if foreign.iter().all(|v| declared.failover.contains(v)) {
        let pool: Values = foreign.into_iter().cloned().collect();
        return (DnsStatus::FailedOver, format!("lands on {}: an allowed failover", landing(&pool, book)));
    }
    // Traffic landing on a host of another tier is the incident's failure: loudest first.
    if let Some(required) = declared.required_tier {
        if let Some(v) = foreign.iter().find(|v| book.owner(v).is_some_and(|o| o.tier != required)) {
            return (DnsStatus::WrongTier, format!("answers {v} = {}, but {required} must serve this name", book.label(v)));
        }
    }
    let complete = declared.values.is_subset(values);
    // All declared values are there, plus others.
    if complete {
        let extra: Values = foreign.into_iter().cloned().collect();
        return (DnsStatus::UnexpectedExtra, format!("also answers {}", labelled(&extra, book)));
    }
    // Anything else: the answer is not what was declared.
    (DnsStatus::WrongTarget, format!("answers {}", labelled(values, book)))
}

/// Findings a disagreement may be made of without being a problem: caches counting down an old
/// TTL, or some resolvers already on an allowed failover.
fn expected(status: DnsStatus) -> bool {
    matches!(status, DnsStatus::Ok | DnsStatus::Stale | DnsStatus::FailedOver)
}

/// Judges a record across every resolver; `serials` name a lagging authoritative server.
pub fn judge(declared: &Declared, views: &[View], book: &AddressBook, serials: &Serials, now_ms: i64) -> Verdict {
    let mut resolvers: Vec<ResolverVerdict> = Vec::with_capacity(views.len());
    for v in views {
        let (status, mut detail) = judge_one(declared, v.kind, &v.seen, book, now_ms);
        // A lagging server's wrong answer most likely comes from its old zone.
        if status != DnsStatus::Ok && v.kind == ResolverKind::Authoritative {
            if let Some(why) = serials.lagging(&v.resolver) {
                let _ = write!(detail, " (likely cause: {why})");
            }
        }
        // Resolvers that agree share one copy of the words (10,000 records, three resolvers).
        let detail = resolvers.iter().find(|r| *r.detail == *detail).map_or_else(|| Arc::from(detail), |r| r.detail.clone());
        resolvers.push(ResolverVerdict { resolver: v.resolver.clone(), status, detail });
    }
    // Every authoritative server answers as declared: a cache answering otherwise, within the
    // declared TTL, holds an older answer until it expires. That is stale, not wrong.
    let sources: Vec<DnsStatus> =
        views.iter().zip(&resolvers).filter(|(v, _)| v.kind == ResolverKind::Authoritative).map(|(_, r)| r.status).collect();
    if !sources.is_empty() && sources.iter().all(|s| *s == DnsStatus::Ok) {
        for (v, r) in views.iter().zip(resolvers.iter_mut()) {
            let Seen::Answered { values, ttl, .. } = &v.seen else { continue };
            let cached = v.kind == ResolverKind::Recursive
                && !matches!(r.status, DnsStatus::Ok | DnsStatus::Stale | DnsStatus::Timeout | DnsStatus::Servfail)
                && ttl.is_none_or(|t| t <= declared.ttl);
            if cached {
                let what = if values.is_empty() { "a negative answer".to_string() } else { labelled(values, book) };
                let left = ttl.map_or("until it expires".to_string(), |t| format!("for up to {t} s more"));
                r.detail =
                    format!("its cache still holds {what} ({}) {left}; the authoritative servers answer as declared", r.status.as_str())
                        .into();
                r.status = DnsStatus::Stale;
            }
        }
    }
    // A resolver that could not answer says nothing about the record: it decides only when
    // no resolver gave a definitive answer.
    let unknown = |r: &ResolverVerdict| matches!(r.status, DnsStatus::Timeout | DnsStatus::Servfail);
    let answering: Vec<(&View, &ResolverVerdict)> = views.iter().zip(&resolvers).filter(|(_, r)| !unknown(r)).collect();
    let answered: BTreeSet<&Values> = answering
        .iter()
        .filter_map(|(v, _)| match &v.seen {
            Seen::Answered { values, .. } => Some(values),
            Seen::Failed(_) => None,
        })
        .collect();
    let worst = resolvers
        .iter()
        .filter(|r| !unknown(r))
        .max_by_key(|r| r.status.rank())
        .or_else(|| resolvers.iter().max_by_key(|r| r.status.rank()));
    let Some(worst) = worst else {
        return Verdict { status: DnsStatus::Unchecked, detail: "not checked: no resolver is configured".into(), resolvers };
    };
    let disagree = answered.len() > 1 && !answering.iter().all(|(_, r)| expected(r.status));
    if !disagree {
        // Every resolver that found the same says so, not only the first: "all agree" is
        // itself evidence (the record is wrong at its source, not in one cache).
        let same: Vec<&str> = answering.iter().filter(|(_, r)| r.status == worst.status).map(|(_, r)| &*r.resolver).collect();
        let who = match same.len() {
            0 | 1 => worst.resolver.to_string(),
            n if n == views.len() => format!("all {n} resolvers ({})", same.join(", ")),
            _ => same.join(", "),
        };
        let detail = format!("{who}: {}", worst.detail).into();
        return Verdict { status: worst.status, detail, resolvers };
    }
    // Resolvers disagree: each one's own finding, so the page says who answers what.
    let findings: Vec<String> =
        answering.iter().map(|(_, r)| format!("{} says {} ({})", r.resolver, r.status.as_str(), r.detail)).collect();
    let findings = findings.join("; ");
    // Traffic on another tier stays the loudest alarm, with the disagreement as its detail.
    let (status, detail) = if worst.status == DnsStatus::WrongTier {
        (DnsStatus::WrongTier, format!("{}: {} — resolvers disagree: {findings}", worst.resolver, worst.detail))
    } else {
        (DnsStatus::Split, format!("resolvers disagree: {findings}"))
    };
    Verdict { status, detail: detail.into(), resolvers }
}

#[cfg(test)]
mod tests;
