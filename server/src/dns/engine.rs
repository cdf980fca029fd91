//! DNS rounds: every declared record at every resolver, each round, with bounded concurrency
//! and a per-query timeout, so one slow or dead resolver never delays the others.

use super::evaluate::{self, AddressBook, Declared, Previous, Seen, Serials, View};
use super::values::Values;
use super::wire::WireResolver;
use crate::config::{Estate, RecordKind, ZoneConfig};
use crate::engines::damping::{Damped, Damping};
use crate::store::{DesiredRecord, DnsRow, LocalStore};
use app::model::DnsStatus;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// One declared record set to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCheck {
    /// Fully qualified owner name, lower case, with the final dot (shared with the snapshots).
    pub owner: Arc<str>,
    /// Record type.
    pub kind: RecordKind,
    /// What must be answered.
    pub declared: Declared,
}

impl RecordCheck {
    /// `www.example.test. A`: the key the board and the page use.
    pub fn key(&self) -> String {
        let mut key = String::new();
        self.write_key(&mut key);
        key
    }

    /// Writes the key into `out` (cleared first), so a snapshot of 10,000 records reuses one
    /// buffer instead of allocating a key per record.
    pub fn write_key(&self, out: &mut String) {
        out.clear();
        out.push_str(&self.owner);
        out.push(' ');
        out.push_str(self.kind.as_str());
    }
}

/// A name relative to the zone (or `@`, or absolute) made absolute and canonical.
pub fn absolute(name: &str, origin: &str) -> String {
    let origin = origin.trim_end_matches('.').to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    if name == "@" {
        format!("{origin}.")
    } else if name.ends_with('.') {
        name
    } else {
        format!("{name}.{origin}.")
    }
}

/// A declared value in the form answers are normalised to (see `wire::presentation`).
pub fn normalise(kind: RecordKind, value: &str, origin: &str) -> String {
    match kind {
        RecordKind::A | RecordKind::Aaaa => value.parse::<std::net::IpAddr>().map_or_else(|_| value.to_string(), |ip| ip.to_string()),
        RecordKind::Cname | RecordKind::Ns => absolute(value, origin),
        RecordKind::Mx => match value.split_once(' ') {
            Some((pref, host)) => format!("{} {}", pref.trim(), absolute(host.trim(), origin)),
            None => value.to_string(),
        },
        RecordKind::Txt => value.to_string(),
    }
}

/// Record checks from the zone config; `previous` is the declaration stored before this start,
/// `changed_at_ms` when it was replaced.
pub fn checks(estate: &Estate, previous: &[DesiredRecord], changed_at_ms: i64) -> Vec<RecordCheck> {
    let Some(ZoneConfig { origin, records, .. }) = &estate.zone else { return Vec::new() };
    let mut grouped: BTreeMap<(String, &'static str), (RecordKind, u32, BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for r in records {
        let entry =
            grouped.entry((absolute(&r.name, origin), r.kind.as_str())).or_insert((r.kind, r.ttl, BTreeSet::new(), BTreeSet::new()));
        entry.2.extend(r.values.iter().map(|v| normalise(r.kind, v, origin)));
        entry.3.extend(estate.failover_addresses(&r.failover, r.kind == RecordKind::A));
    }
    let mut before: HashMap<(String, String), (u32, BTreeSet<String>)> = HashMap::new();
    for d in previous {
        let Ok(kind) = serde_json::from_value::<RecordKind>(serde_json::Value::String(d.kind.clone())) else { continue };
        let entry = before.entry((d.name.to_ascii_lowercase(), d.kind.clone())).or_insert((d.ttl as u32, BTreeSet::new()));
        entry.1.insert(normalise(kind, &d.value, origin));
    }
    grouped
        .into_iter()
        .map(|((owner, kind_text), (kind, ttl, values, mut failover))| {
            let hostname = estate.hostnames.iter().find(|h| format!("{}.", h.name.trim_end_matches('.').to_ascii_lowercase()) == owner);
            let required_tier = hostname.map(|h| h.tier);
            // A hostname's pool applies to its address records.
            if let Some(h) = hostname.filter(|_| matches!(kind, RecordKind::A | RecordKind::Aaaa)) {
                failover.extend(estate.failover_addresses(&h.failover, kind == RecordKind::A));
            }
            failover.retain(|v| !values.contains(v));
            let previous = before
                .get(&(owner.clone(), kind_text.to_string()))
                .filter(|(_, old)| *old != values)
                .map(|(old_ttl, old)| Previous { values: old.iter().cloned().collect(), ttl: *old_ttl, replaced_at_ms: changed_at_ms });
            let (values, failover) = (values.into_iter().collect(), failover.into_iter().collect());
            RecordCheck { owner: owner.into(), kind, declared: Declared { values, ttl, required_tier, previous, failover } }
        })
        .collect()
}

/// The latest judgement of one record, with hysteresis applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordState {
    /// The raw verdict of the latest round.
    pub verdict: evaluate::Verdict,
    /// Raw statuses of recent rounds, the shown status (after damping), flapping, and when the
    /// shown status last changed.
    pub damped: Damped<DnsStatus>,
    /// When the latest round finished.
    pub checked_at_ms: i64,
    /// Each answering resolver's values, for labels, in config order.
    pub answers: Answers,
}

/// The values each resolver that answered gave, in config order (resolvers that failed are
/// left out). A short vector rather than a map: three resolvers per record, 10,000 records.
pub type Answers = Vec<(Arc<str>, Values)>;

/// One record's outcome of a round: its key, the verdict and what each resolver answered.
pub type Judged = (String, evaluate::Verdict, Answers);

/// What one authoritative server says the zone's SOA serial is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoaSerial {
    /// Resolver name.
    pub resolver: String,
    /// The serial, or why there is none.
    pub serial: Result<u32, String>,
}

/// The latest state of every record, and a counter that moves after every round.
#[derive(Clone)]
pub struct DnsBoard {
    records: Arc<RwLock<HashMap<String, RecordState>>>,
    soa: Arc<RwLock<Vec<SoaSerial>>>,
    rounds: watch::Sender<u64>,
}

impl Default for DnsBoard {
    fn default() -> Self {
        DnsBoard { records: Arc::default(), soa: Arc::default(), rounds: watch::channel(0).0 }
    }
}

/// Serials differ between authoritative servers that answered.
pub fn soa_skew(serials: &[SoaSerial]) -> bool {
    let answered: BTreeSet<u32> = serials.iter().filter_map(|s| s.serial.as_ref().ok().copied()).collect();
    answered.len() > 1
}

/// The published serials and the declared one, for naming a lagging server.
pub fn serials(published: &[SoaSerial], declared: Option<u32>) -> Serials {
    Serials { published: published.iter().filter_map(|s| Some((s.resolver.clone(), *s.serial.as_ref().ok()?))).collect(), declared }
}

/// Asks every authoritative resolver for the zone's SOA serial.
pub async fn soa_round(estate: &Estate, client: &WireResolver) -> Vec<SoaSerial> {
    let Some(zone) = &estate.zone else { return Vec::new() };
    let apex = format!("{}.", zone.origin.trim_end_matches('.'));
    let asks = estate.resolvers.iter().filter(|r| r.kind == crate::config::ResolverKind::Authoritative).map(|r| {
        let (client, apex) = (client.clone(), apex.clone());
        let (name, address) = (r.name.clone(), r.address);
        async move {
            let serial = match client.soa_serial(address, &apex).await {
                Ok(Some(serial)) => Ok(serial),
                Ok(None) => Err("no SOA in the answer".to_string()),
                Err(e) => Err(e.to_string()),
            };
            SoaSerial { resolver: name, serial }
        }
    });
    futures::future::join_all(asks).await
}

impl DnsBoard {
    /// The state of one record by key, if it has been checked.
    pub fn get(&self, key: &str) -> Option<RecordState> {
        self.records.read().ok()?.get(key).cloned()
    }

    /// Reads every record's state under one lock, without copying them (a snapshot of 10,000
    /// records would otherwise clone each state with its history and answers).
    pub fn read<R>(&self, f: impl FnOnce(&HashMap<String, RecordState>) -> R) -> R {
        match self.records.read() {
            Ok(records) => f(&records),
            Err(_) => f(&HashMap::new()),
        }
    }

    /// The latest SOA serials of the authoritative servers.
    pub fn soa(&self) -> Vec<SoaSerial> {
        self.soa.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Records the latest SOA serials.
    pub fn publish_soa(&self, serials: Vec<SoaSerial>) {
        if let Ok(mut soa) = self.soa.write() {
            *soa = serials;
        }
    }

    /// Rounds completed.
    pub fn rounds(&self) -> u64 {
        *self.rounds.borrow()
    }

    /// A receiver that changes after every round.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.rounds.subscribe()
    }

    /// Applies one round's verdicts and ends the round; returns the records whose raw status
    /// or answers changed (every record on its first round), for the history.
    pub fn publish(&self, round: Vec<Judged>, now_ms: i64, rule: &Damping) -> Vec<(String, DnsRow)> {
        let changed = self.apply(round, now_ms, rule);
        self.end_round();
        changed
    }

    /// Wakes every subscriber: a round's verdicts are all applied.
    pub fn end_round(&self) {
        self.rounds.send_modify(|n| *n += 1);
    }

    /// Applies some of a round's verdicts (a round is applied in slices, so that the previous
    /// round's states are freed as the new ones arrive rather than all held twice); returns
    /// the records whose raw status or answers changed, for the history.
    pub fn apply(&self, round: Vec<Judged>, now_ms: i64, rule: &Damping) -> Vec<(String, DnsRow)> {
        let mut changed = Vec::new();
        if let Ok(mut records) = self.records.write() {
            for (key, verdict, answers) in round {
                let state = records.entry(key.clone()).or_insert_with(|| RecordState {
                    verdict: verdict.clone(),
                    // Until two rounds agree, nothing is known: unchecked, not timeout.
                    damped: Damped::new(DnsStatus::Unchecked, now_ms),
                    checked_at_ms: now_ms,
                    answers: Answers::new(),
                });
                let first = state.damped.rounds() == 0;
                if first || state.verdict.status != verdict.status || state.answers != answers {
                    changed.push((
                        key.clone(),
                        DnsRow {
                            at_ms: now_ms,
                            status: verdict.status.as_str().to_string(),
                            detail: verdict.detail.to_string(),
                            answers: answers
                                .iter()
                                .map(|(resolver, values)| {
                                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                                    format!("{resolver}: {}", if values.is_empty() { "nothing".to_string() } else { values.join(", ") })
                                })
                                .collect(),
                        },
                    ));
                }
                state.damped.push(now_ms, verdict.status, rule, DnsStatus::rank);
                state.verdict = verdict;
                state.checked_at_ms = now_ms;
                state.answers = answers;
            }
        }
        changed
    }
}

/// Runs one round: every check at every resolver, at most `concurrency` queries in flight,
/// and judges every record.
pub async fn round(
    estate: &Estate,
    checks: &[RecordCheck],
    client: &WireResolver,
    book: &AddressBook,
    serials: &Serials,
    concurrency: usize,
    now_ms: impl Fn() -> i64,
) -> Vec<Judged> {
    let grid = ask(estate, checks, client, concurrency).await;
    let now = now_ms();
    checks.iter().zip(grid).map(|(check, views)| judge(check, views, book, serials, now)).collect()
}

/// What each resolver said about each check: one row per check, one slot per resolver in
/// config order (empty where a batch failed).
pub type Grid = Vec<Vec<Option<View>>>;

/// Asks every check at every resolver, at most `concurrency` queries in flight.
pub async fn ask(estate: &Estate, checks: &[RecordCheck], client: &WireResolver, concurrency: usize) -> Grid {
    // Each resolver's questions go out as batches (`WireResolver::ask_all`), each its own task
    // with its own socket: a slow or dead resolver holds up only its own batches, and with fewer
    // resolvers than cores a resolver's questions are split so that every core sends.
    let questions: Arc<Vec<(String, RecordKind)>> = Arc::new(checks.iter().map(|c| (c.owner.to_string(), c.kind)).collect());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let resolvers = estate.resolvers.len().max(1);
    let splits = cores.div_ceil(resolvers).min(questions.len()).max(1);
    let window = concurrency.max(1).div_ceil(resolvers * splits);
    let chunk = questions.len().div_ceil(splits).max(1);
    let tasks = estate.resolvers.iter().enumerate().flat_map(|(r, resolver)| {
        let (questions, address) = (questions.clone(), resolver.address);
        (0..questions.len()).step_by(chunk).map(move |first| {
            let (client, questions) = (client.clone(), questions.clone());
            tokio::spawn(async move {
                let last = (first + chunk).min(questions.len());
                let results = client.ask_all(address, &questions[first..last], window).await;
                results
                    .into_iter()
                    .enumerate()
                    .map(|(i, result)| {
                        let seen = match result {
                            Ok(a) => Seen::Answered { rcode: a.rcode, authoritative: a.authoritative, values: a.values, ttl: a.ttl },
                            Err(e) => Seen::Failed(e),
                        };
                        (first + i, r, seen)
                    })
                    .collect::<Vec<(usize, usize, Seen)>>()
            })
        })
    });
    let names: Vec<Arc<str>> = estate.resolvers.iter().map(|r| Arc::from(r.name.as_str())).collect();
    let mut views: Vec<Vec<Option<View>>> = checks.iter().map(|_| vec![None; estate.resolvers.len()]).collect();
    // Each batch's answers move straight into the grid: 30,000 answers are held once, not
    // gathered into a growing list first.
    for batch in futures::future::join_all(tasks).await {
        match batch {
            Ok(done) => {
                for (c, r, seen) in done {
                    views[c][r] = Some(View { resolver: names[r].clone(), kind: estate.resolvers[r].kind, seen });
                }
            }
            // A panicking batch is a bug; its questions stay unanswered (shown as not checked).
            Err(e) => tracing::error!(error = %e, "a DNS batch failed"),
        }
    }
    views
}

/// Judges one record from its row of the grid.
pub fn judge(check: &RecordCheck, views: Vec<Option<View>>, book: &AddressBook, serials: &Serials, now_ms: i64) -> Judged {
    let views: Vec<View> = views.into_iter().flatten().collect();
    let verdict = evaluate::judge(&check.declared, &views, book, serials, now_ms);
    // The judged views give their values to the board rather than a copy. Collected into a
    // fresh, exact vector: collecting in place would keep the views' larger allocation for
    // every record the board holds.
    let mut answers = Answers::with_capacity(views.len());
    answers.extend(views.into_iter().filter_map(|v| match v.seen {
        Seen::Answered { values, .. } => Some((v.resolver, values)),
        Seen::Failed(_) => None,
    }));
    answers.shrink_to_fit();
    (check.key(), verdict, answers)
}

/// Records judged and applied to the board at a time.
const SLICE: usize = 500;

/// Runs rounds every probe interval until the task is dropped.
pub async fn run_rounds(
    estate: Arc<Estate>,
    checks: Arc<Vec<RecordCheck>>,
    board: DnsBoard,
    local: Option<LocalStore>,
    engine: Arc<crate::engines::Engine>,
) {
    if checks.is_empty() || estate.resolvers.is_empty() {
        tracing::info!("no declared records or no resolvers: the DNS engine is idle");
        return;
    }
    let client = WireResolver::new(Duration::from_millis(estate.probes.timeout_ms));
    let book = AddressBook::from_estate(&estate);
    let rule = Damping::of_config(&estate.probes);
    let mut ticker = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = std::time::Instant::now();
        // The previous round's serials: the SOA questions go out alongside this round's.
        let known = serials(&board.soa(), estate.zone.as_ref().map(|z| z.serial));
        let (grid, serials) = tokio::join!(ask(&estate, &checks, &client, estate.probes.dns_concurrency), soa_round(&estate, &client));
        board.publish_soa(serials);
        // Judged and applied a slice at a time: the previous round's states are freed as the
        // new ones arrive, instead of 10,000 of each being held at once.
        let now = crate::clock::now_ms();
        let mut rows = grid.into_iter();
        let mut changes = Vec::new();
        for slice in checks.chunks(SLICE) {
            let judged = slice.iter().zip(rows.by_ref()).map(|(check, views)| judge(check, views, &book, &known, now)).collect();
            changes.extend(board.apply(judged, now, &rule));
        }
        board.end_round();
        if let Some(store) = &local {
            if let Err(e) = store.record_dns(&changes).await {
                tracing::warn!(error = %e, "could not store DNS changes; the live view is unaffected");
            }
        }
        engine.round_done(started);
        // A round of 10,000 records frees tens of thousands of answers at once.
        crate::memory::release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(key: &str, status: DnsStatus, value: &str) -> Judged {
        let resolver: Arc<str> = Arc::from("auth");
        let detail: Arc<str> = Arc::from(format!("answers {value}"));
        let verdict = evaluate::Verdict {
            status,
            detail: detail.clone(),
            resolvers: vec![evaluate::ResolverVerdict { resolver: resolver.clone(), status, detail }],
        };
        (key.to_string(), verdict, vec![(resolver, Values::from([value.to_string()]))])
    }

    /// A round applied in slices leaves the board, the round count and the history rows exactly
    /// as applying it whole does, on the first round and on a round where some records change.
    #[test]
    fn a_round_applied_in_slices_equals_the_round_applied_whole() {
        let rule = Damping::DEFAULT;
        let keys: Vec<String> = (0..7).map(|i| format!("r{i}.example.test. A")).collect();
        let rounds: Vec<Vec<Judged>> = vec![
            keys.iter().map(|k| judged(k, DnsStatus::Ok, "127.0.0.1")).collect(),
            keys.iter()
                .enumerate()
                .map(
                    |(i, k)| {
                        if i % 3 == 0 {
                            judged(k, DnsStatus::WrongTarget, "192.0.2.1")
                        } else {
                            judged(k, DnsStatus::Ok, "127.0.0.1")
                        }
                    },
                )
                .collect(),
        ];
        let (whole, sliced) = (DnsBoard::default(), DnsBoard::default());
        for (n, round) in rounds.into_iter().enumerate() {
            let now = 1_000 * (n as i64 + 1);
            let expected = whole.publish(round.clone(), now, &rule);
            let mut got = Vec::new();
            let mut rest = round;
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(3));
                got.extend(sliced.apply(rest, now, &rule));
                rest = tail;
            }
            sliced.end_round();
            assert_eq!(got, expected, "round {n}: history rows");
            assert_eq!(sliced.rounds(), whole.rounds(), "round {n}: round count");
            for key in &keys {
                assert_eq!(sliced.get(key), whole.get(key), "round {n}: {key}");
            }
        }
        assert_eq!(whole.rounds(), 2);
        let changed: Vec<&String> =
            keys.iter().filter(|k| whole.get(k).is_some_and(|s| s.verdict.status == DnsStatus::WrongTarget)).collect();
        assert_eq!(changed.len(), 3, "the second round's changes reached the board");
    }
}
