//! The DNS page's data: the board's verdicts, labelled with the estate's hosts, one row per
//! declared record and one cell per resolver. Records not yet asked are `unchecked`.

use super::engine::{DnsBoard, RecordCheck};
use super::evaluate::AddressBook;
use crate::config::Estate;
use app::model::{self, Dns, DnsStatus};
use std::sync::Arc;

/// The DNS snapshot of `board` at `now_ms`, for every declared record in `checks`. Names and
/// words are shared with the board and the checks (`Arc<str>`), not copied.
pub fn dns(estate: &Estate, checks: &[RecordCheck], board: &DnsBoard, book: &AddressBook, now_ms: i64) -> Dns {
    let names: Vec<Arc<str>> = estate.resolvers.iter().map(|r| Arc::from(r.name.as_str())).collect();
    let not_checked: Arc<str> = Arc::from("not checked yet");
    let records = board.read(|states| {
        let mut key = String::new();
        checks
            .iter()
            .map(|check| {
                check.write_key(&mut key);
                let state = states.get(&key);
                let cells = names
                    .iter()
                    .map(|name| {
                        let verdict = state.and_then(|s| s.verdict.resolvers.iter().find(|r| r.resolver == *name));
                        model::DnsCell {
                            resolver: name.clone(),
                            status: verdict.map_or(DnsStatus::Unchecked, |v| v.status),
                            detail: verdict.map_or_else(|| not_checked.clone(), |v| v.detail.clone()),
                        }
                    })
                    .collect();
                model::DnsRecord {
                    name: check.owner.clone(),
                    kind: check.kind.as_str().to_string(),
                    declared: check
                        .declared
                        .values
                        .iter()
                        .map(|v| match book.owner(v) {
                            Some(_) => format!("{v} ({})", book.label(v)),
                            None => v.to_string(),
                        })
                        .collect(),
                    ttl: check.declared.ttl,
                    required_tier: check.declared.required_tier.map(|t| t.to_string()),
                    status: state.map_or(DnsStatus::Unchecked, |s| s.damped.settled.shown),
                    latest: state.map_or(DnsStatus::Unchecked, |s| s.verdict.status),
                    flapping: state.and_then(|s| s.damped.settled.flapping.clone()),
                    detail: state.map_or_else(|| not_checked.clone(), |s| s.verdict.detail.clone()),
                    since_ms: state.map(|s| s.damped.since_ms),
                    checked_at_ms: state.map(|s| s.checked_at_ms),
                    cells,
                }
            })
            .collect()
    });
    let serials = board.soa();
    Dns {
        soa_skew: crate::dns::engine::soa_skew(&serials),
        soa: serials
            .into_iter()
            .map(|s| model::SoaCell { resolver: s.resolver, serial: s.serial.as_ref().ok().copied(), error: s.serial.err() })
            .collect(),
        declared_serial: estate.zone.as_ref().map(|z| z.serial),
        resolvers: estate
            .resolvers
            .iter()
            .map(|r| {
                format!(
                    "{} ({})",
                    r.name,
                    match r.kind {
                        crate::config::ResolverKind::Authoritative => "authoritative",
                        crate::config::ResolverKind::Recursive => "recursive",
                    }
                )
            })
            .collect(),
        records,
        probe_interval_seconds: estate.probes.interval_seconds,
        evaluated_at_ms: now_ms,
    }
}
