//! Engine rounds against real servers reach every status: two in-process hickory servers that
//! can be made to disagree, a SERVFAIL peer and a silent one.

use crate::common::{self, ResolverKind};
use app::model::DnsStatus;
use crowsnest::config::{self, RecordConfig, RecordKind, ZoneConfig};
use crowsnest::dns::engine::{self, RecordCheck};
use crowsnest::dns::evaluate::{AddressBook, Previous};
use crowsnest::dns::WireResolver;
use crowsnest::lab::{serve_zone, LabZone, RunningDns};
use crowsnest::store::DesiredRecord;
use hickory_proto::op::{Message, ResponseCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

async fn hickory() -> (Arc<LabZone>, RunningDns) {
    let config = ZoneConfig {
        origin: "example.test".into(),
        serial: 1,
        records: vec![RecordConfig {
            name: "www".into(),
            kind: RecordKind::A,
            ttl: 60,
            values: vec!["127.0.1.2".into()],
            failover: vec![],
        }],
    };
    let zone = Arc::new(LabZone::new(&config).unwrap());
    let running = serve_zone(zone.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    (zone, running)
}

async fn servfail_peer() -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(q) = Message::from_vec(&buf[..n]) else { continue };
            let mut reply = Message::error_msg(q.metadata.id, q.metadata.op_code, ResponseCode::ServFail);
            reply.queries = q.queries.clone();
            let _ = socket.send_to(&reply.to_vec().unwrap(), from).await;
        }
    });
    addr
}

fn estate(resolvers: &[(&str, SocketAddr, ResolverKind)]) -> config::Estate {
    let mut b = common::dns_estate();
    for (name, addr, kind) in resolvers {
        b = b.resolver(name, *addr, *kind);
    }
    common::load(&b)
}

async fn judge(estate: &config::Estate, checks: &[RecordCheck]) -> crowsnest::dns::evaluate::Verdict {
    let client = WireResolver::new(Duration::from_millis(400));
    let book = AddressBook::from_estate(estate);
    engine::round(estate, checks, &client, &book, &Default::default(), 4, || 1_000_000).await.remove(0).1
}

#[tokio::test]
async fn split_servfail_timeout_and_stale_against_real_servers() {
    let (zone_a, a) = hickory().await;
    let (zone_b, b) = hickory().await;
    let estate2 = estate(&[("a", a.addr, ResolverKind::Authoritative), ("b", b.addr, ResolverKind::Authoritative)]);
    let checks = engine::checks(&estate2, &[], 0);
    assert_eq!(judge(&estate2, &checks).await.status, DnsStatus::Ok);

    // b serves the declared address plus another estate web balancer, a does not: split.
    zone_b.set("www", RecordKind::A, 60, &["127.0.1.2".into(), "127.0.1.9".into()]).await.unwrap();
    let verdict = judge(&estate2, &checks).await;
    assert_eq!(verdict.status, DnsStatus::Split, "{}", verdict.detail);
    assert_eq!(verdict.resolvers[0].status, DnsStatus::Ok);
    assert_eq!(verdict.resolvers[1].status, DnsStatus::UnexpectedExtra);
    zone_b.set("www", RecordKind::A, 60, &["127.0.1.2".into()]).await.unwrap();
    let _ = zone_a;

    // A SERVFAIL resolver and a silent one say nothing about the record: unknown, others fine.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let estate4 = estate(&[
        ("a", a.addr, ResolverKind::Authoritative),
        ("sf", servfail_peer().await, ResolverKind::Recursive),
        ("dead", silent.local_addr().unwrap(), ResolverKind::Recursive),
    ]);
    let checks4 = engine::checks(&estate4, &[], 0);
    let verdict = judge(&estate4, &checks4).await;
    assert_eq!(verdict.status, DnsStatus::Ok, "{}", verdict.detail);
    assert_eq!(verdict.resolvers[1].status, DnsStatus::Servfail);
    assert_eq!(verdict.resolvers[2].status, DnsStatus::Timeout);
    let only_broken = estate(&[("sf", servfail_peer().await, ResolverKind::Recursive)]);
    let verdict = judge(&only_broken, &engine::checks(&only_broken, &[], 0)).await;
    assert_eq!(verdict.status, DnsStatus::Servfail);
    drop(silent);

    // The declaration changed from lb1 (TTL 300) to lb2 at this start; a server still answering
    // lb1 within the old TTL is stale, not wrong.
    let before = vec![DesiredRecord { name: "www.example.test.".into(), kind: "A".into(), ttl: 300, value: "127.0.1.1".into() }];
    let estate1 = estate(&[("a", a.addr, ResolverKind::Authoritative)]);
    let stale_checks = engine::checks(&estate1, &before, 1_000_000 - 10_000);
    assert_eq!(
        stale_checks[0].declared.previous,
        Some(Previous { values: ["127.0.1.1".to_string()].into(), ttl: 300, replaced_at_ms: 990_000 })
    );
    zone_a.set("www", RecordKind::A, 300, &["127.0.1.1".into()]).await.unwrap();
    let verdict = judge(&estate1, &stale_checks).await;
    assert_eq!(verdict.status, DnsStatus::Stale, "{}", verdict.detail);
    // Without the previous declaration, the same answer is the wrong tier.
    let verdict = judge(&estate1, &engine::checks(&estate1, &[], 0)).await;
    assert_eq!(verdict.status, DnsStatus::WrongTier, "{}", verdict.detail);

    // An address no host of the estate has: the wrong target, said to be outside the estate.
    // (192.0.2.0/24 is documentation space: it is only ever data in the zone, never contacted.)
    zone_a.set("www", RecordKind::A, 300, &["192.0.2.10".into()]).await.unwrap();
    let verdict = judge(&estate1, &engine::checks(&estate1, &[], 0)).await;
    assert_eq!(verdict.status, DnsStatus::WrongTarget, "{}", verdict.detail);
    assert!(verdict.detail.contains("outside the estate"), "{}", verdict.detail);
}

#[tokio::test]
async fn soa_serial_skew_between_authoritative_servers() {
    let (_zone_a, a) = hickory().await;
    let (zone_b, b) = hickory().await;
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let estate = estate(&[
        ("a", a.addr, ResolverKind::Authoritative),
        ("b", b.addr, ResolverKind::Authoritative),
        ("dead", silent.local_addr().unwrap(), ResolverKind::Authoritative),
        ("rec", a.addr, ResolverKind::Recursive),
    ]);
    let client = WireResolver::new(Duration::from_millis(300));
    let serials = engine::soa_round(&estate, &client).await;
    assert_eq!(serials.len(), 3, "only authoritative servers are asked");
    assert_eq!(serials[0].serial, Ok(1));
    assert_eq!(serials[1].serial, Ok(1));
    assert!(serials[2].serial.as_ref().unwrap_err().contains("no answer"), "{:?}", serials[2]);
    assert!(!engine::soa_skew(&serials), "a dead server is not skew");

    // b takes a change (its serial moves on), a does not.
    zone_b.set("www", RecordKind::A, 60, &["127.0.1.2".into()]).await.unwrap();
    let serials = engine::soa_round(&estate, &client).await;
    assert_eq!(serials[1].serial, Ok(2));
    assert!(engine::soa_skew(&serials));
    drop(silent);
}

#[tokio::test]
async fn a_lagging_authoritative_server_is_named_as_the_cause_of_a_split() {
    let (zone_a, a) = hickory().await;
    let (zone_b, b) = hickory().await;
    let estate = estate(&[("a", a.addr, ResolverKind::Authoritative), ("b", b.addr, ResolverKind::Authoritative)]);
    let checks = engine::checks(&estate, &[], 0);
    // a takes two changes and ends where the config declares (serial 3); b took only the first,
    // an address outside the estate, and stopped there (serial 2).
    zone_a.set("www", RecordKind::A, 60, &["192.0.2.10".into()]).await.unwrap();
    zone_a.set("www", RecordKind::A, 60, &["127.0.1.2".into()]).await.unwrap();
    zone_b.set("www", RecordKind::A, 60, &["192.0.2.10".into()]).await.unwrap();
    let client = WireResolver::new(Duration::from_millis(400));
    let soa = engine::soa_round(&estate, &client).await;
    let serials = engine::serials(&soa, estate.zone.as_ref().map(|z| z.serial));
    assert_eq!(serials.published.get("a"), Some(&3));
    assert_eq!(serials.published.get("b"), Some(&2));
    let book = AddressBook::from_estate(&estate);
    let verdict = engine::round(&estate, &checks, &client, &book, &serials, 4, || 1_000_000).await.remove(0).1;
    assert_eq!(verdict.status, DnsStatus::Split, "{}", verdict.detail);
    assert!(verdict.detail.contains("a says ok"), "{}", verdict.detail);
    assert!(verdict.detail.contains("b says wrong_target (answers 192.0.2.10 (outside the estate)"), "{}", verdict.detail);
    assert!(verdict.detail.contains("likely cause: b publishes serial 2, behind a's 3"), "{}", verdict.detail);
    // Once b catches up, the disagreement and its cause are gone.
    zone_b.set("www", RecordKind::A, 60, &["127.0.1.2".into()]).await.unwrap();
    let soa = engine::soa_round(&estate, &client).await;
    let serials = engine::serials(&soa, None);
    let verdict = engine::round(&estate, &checks, &client, &book, &serials, 4, || 1_000_000).await.remove(0).1;
    assert_eq!(verdict.status, DnsStatus::Ok, "{}", verdict.detail);
}
