//! The DNS wire client against a real hickory-server (the lab's zone, in-process), a peer that
//! answers SERVFAIL, and a peer that never answers.

use crowsnest::config::{RecordConfig, RecordKind, ZoneConfig};
use crowsnest::dns::{QueryError, WireResolver};
use crowsnest::lab::{serve_zone, LabZone, RunningDns};
use hickory_proto::op::{Message, ResponseCode};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

fn record(name: &str, kind: RecordKind, ttl: u32, values: &[&str]) -> RecordConfig {
    RecordConfig { name: name.into(), kind, ttl, values: values.iter().map(|v| v.to_string()).collect(), failover: vec![] }
}

async fn zone() -> (Arc<LabZone>, RunningDns) {
    let big: Vec<String> = (1..=60).map(|i| format!("127.0.9.{i}")).collect();
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    let config = ZoneConfig {
        origin: "example.test".into(),
        serial: 7,
        records: vec![
            record("www", RecordKind::A, 60, &["127.0.1.2"]),
            record("api", RecordKind::A, 60, &["127.0.1.1"]),
            record("shop", RecordKind::Cname, 300, &["www"]),
            record("loop1", RecordKind::Cname, 300, &["loop2"]),
            record("loop2", RecordKind::Cname, 300, &["loop1"]),
            record("big", RecordKind::A, 60, &big),
            record("@", RecordKind::Mx, 3600, &["10 mail.example.test."]),
            record("@", RecordKind::Txt, 3600, &["v=spf1 -all"]),
        ],
    };
    let zone = Arc::new(LabZone::new(&config).unwrap());
    let running = serve_zone(zone.clone(), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    (zone, running)
}

fn client() -> WireResolver {
    WireResolver::new(Duration::from_millis(800))
}

#[tokio::test]
async fn answers_keep_rcode_aa_ttl_and_follow_cnames() {
    let (zone, dns) = zone().await;
    let c = client();

    let www = c.ask(dns.addr, "www.example.test.", RecordKind::A).await.unwrap();
    assert_eq!(www.rcode, "NOERROR");
    assert!(www.authoritative);
    assert_eq!(www.values.iter().collect::<Vec<_>>(), ["127.0.1.2"]);
    assert_eq!(www.ttl, Some(60));
    assert!(!www.used_tcp);

    let shop = c.ask(dns.addr, "shop.example.test.", RecordKind::A).await.unwrap();
    assert_eq!(shop.chain, ["www.example.test."]);
    assert_eq!(shop.values.iter().collect::<Vec<_>>(), ["127.0.1.2"]);

    let mx = c.ask(dns.addr, "example.test.", RecordKind::Mx).await.unwrap();
    assert_eq!(mx.values.iter().collect::<Vec<_>>(), ["10 mail.example.test."]);
    let txt = c.ask(dns.addr, "example.test.", RecordKind::Txt).await.unwrap();
    assert_eq!(txt.values.iter().collect::<Vec<_>>(), ["v=spf1 -all"]);

    // Repointed and TTL changed at runtime: the next answer says so.
    zone.set("www", RecordKind::A, 30, &["127.0.1.1".into()]).await.unwrap();
    let moved = c.ask(dns.addr, "www.example.test.", RecordKind::A).await.unwrap();
    assert_eq!(moved.values.iter().collect::<Vec<_>>(), ["127.0.1.1"]);
    assert_eq!(moved.ttl, Some(30));

    // Deleted: no A record any more (NODATA or NXDOMAIN, never an address).
    zone.delete("www", RecordKind::A).await.unwrap();
    let gone = c.ask(dns.addr, "www.example.test.", RecordKind::A).await.unwrap();
    assert!(gone.values.is_empty());
    assert!(gone.rcode == "NXDOMAIN" || gone.rcode == "NOERROR", "{}", gone.rcode);

    // A name that never existed.
    let never = c.ask(dns.addr, "nope.example.test.", RecordKind::A).await.unwrap();
    assert_eq!(never.rcode, "NXDOMAIN");
}

#[tokio::test]
async fn a_truncated_udp_answer_is_fetched_again_over_tcp() {
    let (_zone, dns) = zone().await;
    let big = client().ask(dns.addr, "big.example.test.", RecordKind::A).await.unwrap();
    assert!(big.used_tcp, "60 A records do not fit 512 bytes of UDP");
    assert_eq!(big.values.len(), 60);
}

#[tokio::test]
async fn a_cname_loop_is_an_error_not_a_hang() {
    let (_zone, dns) = zone().await;
    match client().ask(dns.addr, "loop1.example.test.", RecordKind::A).await {
        Err(QueryError::CnameLoop(at)) => assert!(at.contains("example.test."), "{at}"),
        other => panic!("expected a CNAME loop, got {other:?}"),
    }
}

/// A DNS peer that answers every question with `code` (real wire format).
async fn answering(code: ResponseCode) -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(query) = Message::from_vec(&buf[..n]) else { continue };
            let mut reply = Message::error_msg(query.metadata.id, query.metadata.op_code, code);
            reply.queries = query.queries.clone();
            let _ = socket.send_to(&reply.to_vec().unwrap(), from).await;
        }
    });
    addr
}

/// A peer that sends garbage.
async fn garbling() -> SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            // The right id, then a header claiming 9 answers that are not there.
            let mut reply = buf[..2.min(n)].to_vec();
            reply.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 3, b'w']);
            let _ = socket.send_to(&reply, from).await;
        }
    });
    addr
}

#[tokio::test]
async fn servfail_and_garbage_are_typed_results() {
    let servfail = client().ask(answering(ResponseCode::ServFail).await, "www.example.test.", RecordKind::A).await.unwrap();
    assert_eq!(servfail.rcode, "SERVFAIL");
    assert!(servfail.values.is_empty());

    match client().ask(garbling().await, "www.example.test.", RecordKind::A).await {
        Err(QueryError::Malformed(why)) => assert!(!why.is_empty()),
        other => panic!("garbage must be a malformed answer, got {other:?}"),
    }
    match client().ask(answering(ResponseCode::NoError).await, "www..example.test.", RecordKind::A).await {
        Err(QueryError::Malformed(why)) => assert!(why.contains("www..example.test."), "{why}"),
        other => panic!("a bad name must be refused before sending, got {other:?}"),
    }
}

#[tokio::test]
async fn a_resolver_that_never_answers_times_out_without_delaying_others() {
    let (_zone, dns) = zone().await;
    // Bound and never read: queries to it vanish.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let c = client();
    let dead = c.ask(silent_addr, "www.example.test.", RecordKind::A);
    let live = c.ask(dns.addr, "www.example.test.", RecordKind::A);
    tokio::pin!(dead, live);
    // The live answer arrives while the dead query is still waiting.
    tokio::select! {
        biased;
        answer = &mut live => assert_eq!(answer.unwrap().values.len(), 1),
        result = &mut dead => panic!("the silent resolver finished first: {result:?}"),
    }
    assert_eq!(dead.await, Err(QueryError::Timeout(800)));
    drop(silent);
}

#[tokio::test]
async fn a_batch_answers_every_question_in_order_and_takes_the_slow_paths_alone() {
    let (zone, dns) = zone().await;
    for i in 0..300 {
        zone.set(&format!("h{i}"), RecordKind::A, 60, &[format!("10.0.{}.{}", i / 256, i % 256)]).await.unwrap();
    }
    let mut questions: Vec<(String, RecordKind)> = (0..300).map(|i| (format!("h{i}.example.test."), RecordKind::A)).collect();
    // Among them: a CNAME (followed inside the reply), a truncated answer (asked again over
    // TCP), a loop, a name that does not exist and one that cannot be sent.
    questions.extend([
        ("shop.example.test.".to_string(), RecordKind::A),
        ("big.example.test.".to_string(), RecordKind::A),
        ("loop1.example.test.".to_string(), RecordKind::A),
        ("nope.example.test.".to_string(), RecordKind::A),
        ("www..example.test.".to_string(), RecordKind::A),
    ]);
    let results = client().ask_all(dns.addr, &questions, 16).await;
    assert_eq!(results.len(), questions.len());
    for (i, result) in results[..300].iter().enumerate() {
        let answer = result.as_ref().unwrap_or_else(|e| panic!("h{i}: {e}"));
        assert_eq!(answer.values.iter().collect::<Vec<_>>(), [&format!("10.0.{}.{}", i / 256, i % 256)], "h{i}");
        assert!(answer.authoritative && answer.ttl == Some(60));
    }
    let shop = results[300].as_ref().unwrap();
    assert_eq!((shop.chain.as_slice(), shop.values.len()), (["www.example.test.".to_string()].as_slice(), 1));
    let big = results[301].as_ref().unwrap();
    assert!(big.used_tcp && big.values.len() == 60, "truncated: {big:?}");
    assert!(matches!(results[302], Err(QueryError::CnameLoop(_))), "{:?}", results[302]);
    assert_eq!(results[303].as_ref().unwrap().rcode, "NXDOMAIN");
    assert!(matches!(&results[304], Err(QueryError::Malformed(why)) if why.contains("www..")), "{:?}", results[304]);
}

#[tokio::test]
async fn a_batch_to_a_silent_server_waits_out_one_window_then_gives_up() {
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let questions: Vec<(String, RecordKind)> = (0..50).map(|i| (format!("h{i}.example.test."), RecordKind::A)).collect();
    let results = client().ask_all(silent.local_addr().unwrap(), &questions, 4).await;
    // The first window is sent and times out; the rest are not asked.
    assert!(results[..4].iter().all(|r| *r == Err(QueryError::Timeout(800))), "{:?}", &results[..4]);
    assert!(results[4..].iter().all(|r| *r == Err(QueryError::GaveUp(4))), "{:?}", &results[4..]);
    drop(silent);
}

#[tokio::test]
async fn a_batch_to_a_closed_port_fails_every_question_as_a_network_error() {
    // Bound then closed: the kernel answers with port unreachable, which the connected socket reports.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let questions: Vec<(String, RecordKind)> = (0..20).map(|i| (format!("h{i}.example.test."), RecordKind::A)).collect();
    let results = client().ask_all(closed, &questions, 4).await;
    assert_eq!(results.len(), 20);
    for result in &results {
        assert!(matches!(result, Err(QueryError::Network(_))), "{result:?}");
    }
}

#[test]
fn a_batch_query_is_the_query_hickory_writes() {
    use crowsnest::dns::wire::encode_query;
    use hickory_proto::op::Query;
    use hickory_proto::rr::{Name, RecordType};
    let mut ours = Vec::new();
    for (name, kind) in [
        ("www.example.test.", RecordType::A),
        ("example.test.", RecordType::MX),
        ("a-rather-long-label-of-sixty-three-characters-to-test-the-limit.example.test.", RecordType::AAAA),
        ("_sip._tcp.example.test.", RecordType::TXT),
        (".", RecordType::NS),
    ] {
        let name = Name::from_ascii(name).unwrap();
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(name.clone(), kind));
        encode_query(&mut ours, query.metadata.id, &name, kind);
        assert_eq!(ours, query.to_vec().unwrap(), "{name} {kind}");
    }
}
