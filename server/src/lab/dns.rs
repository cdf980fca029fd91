//! The lab's authoritative DNS server: hickory-server with an in-memory zone that the control
//! API can change at runtime (repoint, delete, re-add, change TTL). Every change bumps the SOA
//! serial, as a real provider would.

use super::LabError;
use crate::config::{RecordKind, ZoneConfig};
use crate::dns::wire::record_type;
use hickory_server::proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A record or zone the lab cannot build.
#[derive(Debug, thiserror::Error)]
pub enum ZoneError {
    /// A name is not a DNS name.
    #[error("{name:?} is not a DNS name: {why}")]
    Name {
        /// The name as given.
        name: String,
        /// The parser's reason.
        why: String,
    },
    /// A value does not fit its type.
    #[error("{value:?} is not a valid {kind} value: {why}")]
    Value {
        /// Type mnemonic.
        kind: &'static str,
        /// The value as given.
        value: String,
        /// Why.
        why: String,
    },
    /// hickory refused the zone.
    #[error("the zone was refused: {0}")]
    Refused(String),
}

/// The lab's zone and a handle to change it.
pub struct LabZone {
    origin: Name,
    handler: Arc<InMemoryZoneHandler>,
    serial: AtomicU32,
    /// Held for a whole change (and by a secondary copying it), so a transfer never sees the
    /// new serial without the new records.
    edit: tokio::sync::Mutex<()>,
}

fn name(text: &str, origin: &Name) -> Result<Name, ZoneError> {
    let bad = |why: String| ZoneError::Name { name: text.to_string(), why };
    if text == "@" {
        return Ok(origin.clone());
    }
    let parsed = Name::from_str(text).map_err(|e| bad(e.to_string()))?;
    if parsed.is_fqdn() {
        Ok(parsed)
    } else {
        parsed.append_domain(origin).map_err(|e| bad(e.to_string()))
    }
}

fn rdata(kind: RecordKind, value: &str, origin: &Name) -> Result<RData, ZoneError> {
    let bad = |why: &str| ZoneError::Value { kind: kind.as_str(), value: value.to_string(), why: why.to_string() };
    Ok(match kind {
        RecordKind::A => RData::A(A(value.parse().map_err(|_| bad("not an IPv4 address"))?)),
        RecordKind::Aaaa => RData::AAAA(AAAA(value.parse().map_err(|_| bad("not an IPv6 address"))?)),
        RecordKind::Cname => RData::CNAME(CNAME(name(value, origin)?)),
        RecordKind::Ns => RData::NS(NS(name(value, origin)?)),
        RecordKind::Txt => RData::TXT(TXT::new(vec![value.to_string()])),
        RecordKind::Mx => {
            let (pref, host) = value.split_once(' ').ok_or_else(|| bad("expected `PREFERENCE HOST`"))?;
            let pref = pref.parse().map_err(|_| bad("preference is not a number"))?;
            RData::MX(MX::new(pref, name(host.trim(), origin)?))
        }
    })
}

impl LabZone {
    /// Builds the zone from config: SOA, NS (if none declared) and every declared record.
    pub fn new(config: &ZoneConfig) -> Result<LabZone, ZoneError> {
        let origin = name(&format!("{}.", config.origin.trim_end_matches('.')), &Name::root())?;
        let mut handler: InMemoryZoneHandler = InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let ns = name("ns1", &origin)?;
        let soa = SOA::new(ns.clone(), name("hostmaster", &origin)?, config.serial, 3600, 600, 86400, 60);
        handler.upsert_mut(Record::from_rdata(origin.clone(), 3600, RData::SOA(soa)), config.serial);
        if !config.records.iter().any(|r| r.kind == RecordKind::Ns && (r.name == "@")) {
            handler.upsert_mut(Record::from_rdata(origin.clone(), 3600, RData::NS(NS(ns))), config.serial);
        }
        for r in &config.records {
            let owner = name(&r.name, &origin)?;
            for v in &r.values {
                let record = Record::from_rdata(owner.clone(), r.ttl, rdata(r.kind, v, &origin)?);
                if !handler.upsert_mut(record, config.serial) {
                    return Err(ZoneError::Refused(format!("{} {} {v}", r.name, r.kind.as_str())));
                }
            }
        }
        Ok(LabZone { origin, handler: Arc::new(handler), serial: AtomicU32::new(config.serial), edit: tokio::sync::Mutex::new(()) })
    }

    /// The zone apex.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    async fn bump_serial(&self) -> u32 {
        let serial = self.serial.fetch_add(1, Ordering::SeqCst) + 1;
        let records = self.handler.records().await;
        let soa = records
            .get(&RrKey::new(LowerName::new(&self.origin), RecordType::SOA))
            .and_then(|set| set.records_without_rrsigs().next().cloned());
        drop(records);
        if let Some(mut soa) = soa {
            if let RData::SOA(data) = &mut soa.data {
                data.serial = serial;
            }
            self.handler.upsert(soa, serial).await;
        }
        serial
    }

    /// Replaces the record set `owner`/`kind` with `values` at `ttl`; returns the new serial.
    pub async fn set(&self, owner: &str, kind: RecordKind, ttl: u32, values: &[String]) -> Result<u32, ZoneError> {
        let _change = self.edit.lock().await;
        let owner = name(owner, &self.origin)?;
        let datas = values.iter().map(|v| rdata(kind, v, &self.origin)).collect::<Result<Vec<_>, _>>()?;
        self.handler.records_mut().await.remove(&RrKey::new(LowerName::new(&owner), record_type(kind)));
        let serial = self.bump_serial().await;
        for data in datas {
            self.handler.upsert(Record::from_rdata(owner.clone(), ttl, data), serial).await;
        }
        Ok(serial)
    }

    /// Deletes the record set `owner`/`kind`; returns whether it existed.
    pub async fn delete(&self, owner: &str, kind: RecordKind) -> Result<bool, ZoneError> {
        let _change = self.edit.lock().await;
        let owner = name(owner, &self.origin)?;
        let existed = self.handler.records_mut().await.remove(&RrKey::new(LowerName::new(&owner), record_type(kind))).is_some();
        if existed {
            self.bump_serial().await;
        }
        Ok(existed)
    }

    /// The serial the zone publishes now.
    pub fn serial(&self) -> u32 {
        self.serial.load(Ordering::SeqCst)
    }

    /// Takes `primary`'s whole zone and serial, as a secondary does by zone transfer; returns
    /// whether anything changed (the serials differed).
    pub async fn transfer_from(&self, primary: &LabZone) -> bool {
        let _change = primary.edit.lock().await;
        let serial = primary.serial();
        if serial == self.serial() {
            return false;
        }
        let copy = primary.handler.records().await.clone();
        *self.handler.records_mut().await = copy;
        self.serial.store(serial, Ordering::SeqCst);
        true
    }

    /// The zone's records in presentation format, sorted; for the control API's state view.
    pub async fn dump(&self) -> Vec<String> {
        let records = self.handler.records().await;
        let mut out: Vec<String> =
            records.values().flat_map(|set| set.records_without_rrsigs().map(|r| r.to_string()).collect::<Vec<_>>()).collect();
        out.sort();
        out
    }
}

/// A running DNS server; dropping it shuts the server down.
pub struct Running {
    /// Where it listens (UDP and TCP).
    pub addr: SocketAddr,
    server: Server<Catalog>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.shutdown_token().cancel();
    }
}

/// Serves `zone` on `addr` over UDP and TCP (port 0 picks a free port, the same for both).
pub async fn serve(zone: Arc<LabZone>, addr: SocketAddr) -> Result<Running, LabError> {
    let bind = |source| LabError::Bind { addr, what: "the lab DNS server".into(), source };
    // Port 0 means any port, but UDP and TCP must share it: retry until one is free for both.
    let attempts = if addr.port() == 0 { 50 } else { 1 };
    let mut last = None;
    let mut bound = None;
    for _ in 0..attempts {
        let udp = tokio::net::UdpSocket::bind(addr).await.map_err(bind)?;
        let local = udp.local_addr().map_err(bind)?;
        match tokio::net::TcpListener::bind(local).await {
            Ok(tcp) => {
                bound = Some((udp, tcp, local));
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let Some((udp, tcp, addr)) = bound else {
        return Err(bind(last.unwrap_or_else(|| std::io::Error::other("no port free for both UDP and TCP"))));
    };
    let mut catalog = Catalog::new();
    let handler: Arc<dyn ZoneHandler> = zone.handler.clone();
    catalog.upsert(LowerName::new(&zone.origin), vec![handler]);
    let mut server = Server::new(catalog);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64);
    Ok(Running { addr, server })
}
