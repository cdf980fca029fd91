//! The DNS page's data: the board's verdicts, labelled with the estate's hosts, one row per
//! declared record and one cell per resolver. Records not yet asked are `unchecked`.

use super::engine::{DnsBoard, RecordCheck};
use super::evaluate::AddressBook;
use crate::config::Estate;
use app::model::{self, Dns, DnsStatus};

/// The DNS snapshot of `board` at `now_ms`, for every declared record in `checks`.
pub fn dns(estate: &Estate, checks: &[RecordCheck], board: &DnsBoard, book: &AddressBook, now_ms: i64) -> Dns {
    let records = checks
        .iter()
        .map(|check| {
            let state = board.get(&check.key());
            let cells = estate
                .resolvers
                .iter()
                .map(|resolver| {
                    let verdict = state.as_ref().and_then(|s| s.verdict.resolvers.iter().find(|r| r.resolver == resolver.name));
                    model::DnsCell {
                        resolver: resolver.name.clone(),
                        status: verdict.map_or(DnsStatus::Unchecked, |v| v.status),
                        detail: verdict.map_or_else(|| "not checked yet".to_string(), |v| v.detail.clone()),
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
                status: state.as_ref().map_or(DnsStatus::Unchecked, |s| s.damped.settled.shown),
                latest: state.as_ref().map_or(DnsStatus::Unchecked, |s| s.verdict.status),
                flapping: state.as_ref().and_then(|s| s.damped.settled.flapping.clone()),
                detail: state.as_ref().map_or_else(|| "not checked yet".to_string(), |s| s.verdict.detail.clone()),
                since_ms: state.as_ref().map(|s| s.damped.since_ms),
                checked_at_ms: state.as_ref().map(|s| s.checked_at_ms),
                cells,
            }
        })
        .collect();
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
