use super::*;
use DnsStatus::*;
use ResolverKind::{Authoritative as Auth, Recursive as Rec};

const NOW: i64 = 10_000_000;

fn set(values: &[&str]) -> Values {
    values.iter().map(|v| v.to_string()).collect()
}

fn book() -> AddressBook {
    let mut b = AddressBook::default();
    b.insert("127.0.1.1", "lb1", Tier::ApiLb, "San Jose");
    b.insert("127.0.1.2", "lb2", Tier::WebLb, "San Jose");
    b.insert("127.0.2.1", "lb3", Tier::ApiLb, "Singapore");
    b.insert("127.0.2.9", "lb3b", Tier::WebLb, "Singapore");
    b.insert("127.0.3.1", "lb4", Tier::ApiLb, "Amsterdam");
    b.insert("127.0.1.5", "lb5", Tier::ApiLb, "San Jose");
    b
}

/// `api` is declared as lb1 and lb5 (round robin, API tier); it may fail over to lb3 or lb4.
fn api() -> Declared {
    Declared {
        values: set(&["127.0.1.1", "127.0.1.5"]),
        ttl: 60,
        required_tier: Some(Tier::ApiLb),
        previous: None,
        failover: set(&["127.0.2.1", "127.0.3.1"]),
    }
}

/// `www` is declared as lb2 (web tier), TTL 60; it used to be lb3b with TTL 300, changed 100 s ago.
fn www() -> Declared {
    Declared {
        values: set(&["127.0.1.2"]),
        ttl: 60,
        required_tier: Some(Tier::WebLb),
        previous: Some(Previous { values: set(&["127.0.2.9"]), ttl: 300, replaced_at_ms: NOW - 100_000 }),
        failover: Values::new(),
    }
}

fn answered(rcode: &str, aa: bool, values: &[&str], ttl: Option<u32>) -> Seen {
    Seen::Answered { rcode: rcode.into(), authoritative: aa, values: set(values), ttl }
}

#[test]
fn each_rule_for_one_resolver() {
    let www = www();
    let api = api();
    let no_previous = Declared { previous: None, ..www.clone() };
    let no_tier = Declared { required_tier: None, previous: None, ..www.clone() };
    let old_change =
        Declared { previous: Some(Previous { values: set(&["127.0.2.9"]), ttl: 300, replaced_at_ms: NOW - 300_000 }), ..www.clone() };
    #[rustfmt::skip]
    let cases: Vec<(&str, &Declared, ResolverKind, Seen, DnsStatus, &str)> = vec![
        ("declared answer", &www, Auth, answered("NOERROR", true, &["127.0.1.2"], Some(60)), Ok, "lb2 · web_lb · San Jose"),
        ("timeout is unknown", &www, Auth, Seen::Failed(QueryError::Timeout(1000)), Timeout, "no answer within 1000 ms"),
        ("malformed reply is unknown", &www, Auth, Seen::Failed(QueryError::Malformed("bad label".into())), Servfail, "bad label"),
        ("servfail is unknown", &www, Rec, answered("SERVFAIL", false, &[], None), Servfail, "SERVFAIL"),
        ("refused is unknown", &www, Auth, answered("REFUSED", false, &[], None), Servfail, "REFUSED"),
        ("nxdomain is missing", &www, Auth, answered("NXDOMAIN", true, &[], None), Missing, "NXDOMAIN"),
        ("nodata is missing", &www, Auth, answered("NOERROR", true, &[], None), Missing, "NODATA"),
        ("authoritative without AA", &www, Auth, answered("NOERROR", false, &["127.0.1.2"], Some(60)), Servfail, "without the AA flag"),
        ("recursive without AA is fine", &www, Rec, answered("NOERROR", false, &["127.0.1.2"], Some(60)), Ok, "TTL 60 s"),
        ("authoritative TTL differs", &www, Auth, answered("NOERROR", true, &["127.0.1.2"], Some(59)), TtlMismatch, "TTL 59 s, declared 60 s"),
        ("recursive TTL counting down", &www, Rec, answered("NOERROR", false, &["127.0.1.2"], Some(12)), Ok, "TTL 12 s"),
        ("recursive TTL above declared", &www, Rec, answered("NOERROR", false, &["127.0.1.2"], Some(61)), TtlMismatch, "TTL 61 s"),
        ("previous value inside old TTL", &www, Rec, answered("NOERROR", false, &["127.0.2.9"], Some(200)), Stale, "for up to 200 s more"),
        ("previous value after old TTL", &old_change, Rec, answered("NOERROR", false, &["127.0.2.9"], Some(200)), WrongTarget, "lb3b · web_lb · Singapore"),
        ("www on the API balancer", &www, Auth, answered("NOERROR", true, &["127.0.1.1"], Some(60)), WrongTier, "127.0.1.1 = lb1 · api_lb · San Jose, but web_lb must serve this name"),
        ("wrong tier beats extra", &www, Auth, answered("NOERROR", true, &["127.0.1.2", "127.0.2.1"], Some(60)), WrongTier, "lb3 · api_lb · Singapore"),
        ("outside the estate", &no_previous, Auth, answered("NOERROR", true, &["192.0.2.7"], Some(60)), WrongTarget, "192.0.2.7 (outside the estate)"),
        ("right tier, other host", &no_previous, Auth, answered("NOERROR", true, &["127.0.2.9"], Some(60)), WrongTarget, "lb3b · web_lb · Singapore"),
        ("no required tier: wrong target", &no_tier, Auth, answered("NOERROR", true, &["127.0.1.1"], Some(60)), WrongTarget, "lb1 · api_lb · San Jose"),
        ("declared plus outsider", &www, Auth, answered("NOERROR", true, &["127.0.1.2", "192.0.2.7"], Some(60)), UnexpectedExtra, "also answers 192.0.2.7 (outside the estate)"),
        ("round robin complete", &api, Auth, answered("NOERROR", true, &["127.0.1.1", "127.0.1.5"], Some(60)), Ok, "lb5 · api_lb"),
        ("pool hit", &api, Auth, answered("NOERROR", true, &["127.0.2.1"], Some(60)), FailedOver, "lands on lb3 · Singapore: an allowed failover"),
        ("whole pool", &api, Rec, answered("NOERROR", false, &["127.0.2.1", "127.0.3.1"], Some(30)), FailedOver, "lb3 · Singapore, lb4 · Amsterdam"),
        ("declared plus pool", &api, Auth, answered("NOERROR", true, &["127.0.1.1", "127.0.3.1"], Some(60)), FailedOver, "lb4 · Amsterdam"),
        ("pool miss: other tier", &api, Auth, answered("NOERROR", true, &["127.0.1.2"], Some(60)), WrongTier, "lb2 · web_lb · San Jose, but api_lb must serve"),
        ("pool miss: outsider", &api, Auth, answered("NOERROR", true, &["127.0.2.1", "192.0.2.7"], Some(60)), WrongTarget, "192.0.2.7 (outside the estate)"),
        ("partial round robin", &api, Auth, answered("NOERROR", true, &["127.0.1.1"], Some(60)), Partial, "answers only 127.0.1.1 (lb1 · api_lb · San Jose); missing 127.0.1.5 (lb5"),
        ("pool does not hide a gone record", &api, Auth, answered("NXDOMAIN", true, &[], None), Missing, "NXDOMAIN"),
    ];
    for (name, declared, kind, seen, want, detail) in cases {
        let (got, why) = judge_one(declared, kind, &seen, &book(), NOW);
        assert_eq!(got, want, "{name}: {why}");
        assert!(why.contains(detail), "{name}: {why:?} lacks {detail:?}");
    }
}

fn view(resolver: &str, kind: ResolverKind, seen: Seen) -> View {
    View { resolver: resolver.into(), kind, seen }
}

#[test]
fn across_resolvers() {
    let ok = || answered("NOERROR", true, &["127.0.1.2"], Some(60));
    let b = book();
    let judge = |declared: &Declared, views: &[View], b: &AddressBook, now: i64| judge(declared, views, b, &Serials::default(), now);

    let all_ok = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, ok())], &b, NOW);
    assert_eq!(all_ok.status, Ok);
    assert_eq!(all_ok.resolvers.len(), 2);

    // Every resolver agrees on the wrong tier: the detail names them all, not the first.
    let on_lb1 = || answered("NOERROR", true, &["127.0.1.1"], Some(60));
    let all_wrong = judge(&www(), &[view("a", Auth, on_lb1()), view("b", Auth, on_lb1())], &b, NOW);
    assert_eq!(all_wrong.status, WrongTier, "{}", all_wrong.detail);
    assert!(all_wrong.detail.starts_with("all 2 resolvers (a, b): "), "{}", all_wrong.detail);
    // One of two answers, the other is dead: only the one that answered is named.
    let half = judge(&www(), &[view("a", Auth, on_lb1()), view("b", Auth, Seen::Failed(QueryError::Timeout(500)))], &b, NOW);
    assert!(half.detail.starts_with("a: "), "{}", half.detail);

    // One resolver dead, the other fine: the record is fine, the dead one says timeout.
    let one_dead = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, Seen::Failed(QueryError::Timeout(500)))], &b, NOW);
    assert_eq!(one_dead.status, Ok);
    assert_eq!(one_dead.resolvers[1].status, Timeout);

    // Everyone dead: unknown, not ok.
    let all_dead = judge(&www(), &[view("a", Auth, Seen::Failed(QueryError::Timeout(500)))], &b, NOW);
    assert_eq!(all_dead.status, Timeout);

    // Two answers that disagree: split, naming each resolver's own finding.
    let extra = answered("NOERROR", true, &["127.0.1.2", "192.0.2.7"], Some(60));
    let split = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, extra)], &b, NOW);
    assert_eq!(split.status, Split, "{}", split.detail);
    assert!(split.detail.starts_with("resolvers disagree: a says ok ("), "{}", split.detail);
    assert!(split.detail.contains("b says unexpected_extra (also answers 192.0.2.7"), "{}", split.detail);

    // Disagreement where one side is the incident's failure: wrong tier stays the loudest, and
    // its detail still names the disagreement.
    let lb1 = answered("NOERROR", true, &["127.0.1.1"], Some(60));
    let tier = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, lb1)], &b, NOW);
    assert_eq!(tier.status, WrongTier);
    assert!(tier.detail.starts_with("b: "), "{}", tier.detail);
    assert!(tier.detail.contains("resolvers disagree: a says ok"), "{}", tier.detail);

    // One resolver has it, the other says NXDOMAIN: the disagreement, not one side's finding.
    let gone = answered("NXDOMAIN", true, &[], None);
    let missing = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, gone)], &b, NOW);
    assert_eq!(missing.status, Split, "{}", missing.detail);
    assert!(missing.detail.contains("b says missing (NXDOMAIN)"), "{}", missing.detail);

    // Both sides expected (a cache on the previous value, the servers on the new): no alarm.
    let cached = answered("NOERROR", false, &["127.0.2.9"], Some(200));
    let moving = judge(&www(), &[view("auth", Auth, ok()), view("cache", Rec, cached)], &b, NOW);
    assert_eq!(moving.status, Stale, "{}", moving.detail);

    // The servers are fixed; a cache still holds the wrong tier for 40 s: stale (a warning that
    // says what it still serves), not split or wrong tier.
    let cached_lb1 = answered("NOERROR", false, &["127.0.1.1"], Some(40));
    let expiring = judge(&www(), &[view("auth", Auth, ok()), view("cache", Rec, cached_lb1)], &b, NOW);
    assert_eq!(expiring.status, Stale, "{}", expiring.detail);
    assert!(
        expiring.resolvers[1]
            .detail
            .starts_with("its cache still holds 127.0.1.1 (lb1 · api_lb · San Jose) (wrong_tier) for up to 40 s more"),
        "{}",
        expiring.resolvers[1].detail
    );
    // A cached NXDOMAIN after the record came back: stale too, until it expires.
    let cached_gone = answered("NXDOMAIN", false, &[], None);
    let negative = judge(&www(), &[view("auth", Auth, ok()), view("cache", Rec, cached_gone)], &b, NOW);
    assert_eq!(negative.status, Stale, "{}", negative.detail);
    // A TTL above the declared one is not this zone's answer counting down: still the finding.
    let foreign = answered("NOERROR", false, &["127.0.1.1"], Some(3600));
    let not_cache = judge(&www(), &[view("auth", Auth, ok()), view("cache", Rec, foreign)], &b, NOW);
    assert_eq!(not_cache.status, WrongTier, "{}", not_cache.detail);
    // The servers themselves wrong: the cache's old, right answer does not soften the alarm.
    let cached_ok = answered("NOERROR", false, &["127.0.1.2"], Some(40));
    let lb1 = answered("NOERROR", true, &["127.0.1.1"], Some(60));
    let source_wrong = judge(&www(), &[view("auth", Auth, lb1), view("cache", Rec, cached_ok)], &b, NOW);
    assert_eq!(source_wrong.status, WrongTier, "{}", source_wrong.detail);

    // Some resolvers already on the allowed failover, others not yet: failed over, not split.
    let lb3 = answered("NOERROR", true, &["127.0.2.1"], Some(60));
    let both = answered("NOERROR", true, &["127.0.1.1", "127.0.1.5"], Some(60));
    let partway = judge(&api(), &[view("a", Auth, both), view("b", Auth, lb3.clone())], &b, NOW);
    assert_eq!(partway.status, FailedOver, "{}", partway.detail);

    // Everyone on the pool: failed over, a warning.
    let failed_over = judge(&api(), &[view("a", Auth, lb3.clone()), view("b", Rec, lb3)], &b, NOW);
    assert_eq!((failed_over.status, failed_over.status.status()), (FailedOver, app::model::Status::Warn));

    // No resolvers configured: not checked, which is unknown, never timeout or ok.
    let none = judge(&www(), &[], &b, NOW);
    assert_eq!((none.status, none.status.status()), (Unchecked, app::model::Status::Unknown));
}

#[test]
fn a_lagging_serial_is_named_as_the_likely_cause() {
    let b = book();
    let new = answered("NOERROR", true, &["127.0.1.2"], Some(60));
    let old = answered("NOERROR", true, &["127.0.2.9"], Some(60));
    let no_previous = Declared { previous: None, ..www() };
    let serials = |a: u32, b: u32, declared: Option<u32>| Serials {
        published: [("auth-1".to_string(), a), ("auth-2".to_string(), b)].into(),
        declared,
    };
    let views = [view("auth-1", Auth, new.clone()), view("auth-2", Auth, old.clone())];
    #[rustfmt::skip]
    let cases: Vec<(&str, Serials, DnsStatus, Option<&str>)> = vec![
        ("behind the other server", serials(7, 6, None), Split, Some("auth-2 publishes serial 6, behind auth-1's 7")),
        ("behind the declared serial", serials(7, 6, Some(7)), Split, Some("auth-2 publishes serial 6, behind the declared 7")),
        ("both behind the declared", serials(6, 6, Some(7)), Split, Some("auth-2 publishes serial 6, behind the declared 7")),
        ("same serial: no cause named", serials(7, 7, Some(7)), Split, None),
        ("no serials known: no cause named", Serials::default(), Split, None),
    ];
    for (name, serials, want, cause) in cases {
        let got = judge(&no_previous, &views, &b, &serials, NOW);
        assert_eq!(got.status, want, "{name}: {}", got.detail);
        assert!(got.detail.contains("auth-2 says wrong_target"), "{name}: {}", got.detail);
        match cause {
            Some(cause) => assert!(got.detail.contains(&format!("likely cause: {cause}")), "{name}: {}", got.detail),
            None => assert!(!got.detail.contains("likely cause"), "{name}: {}", got.detail),
        }
    }
    // The lagging server's own cell names the cause even when it is the only one asked.
    let alone = judge(&no_previous, &[view("auth-2", Auth, old)], &b, &serials(7, 6, Some(7)), NOW);
    assert_eq!(alone.status, WrongTarget);
    assert!(alone.resolvers[0].detail.contains("likely cause: auth-2 publishes serial 6"), "{}", alone.resolvers[0].detail);
    // An ok answer needs no excuse, however old the serial.
    let fine = judge(&no_previous, &[view("auth-2", Auth, new)], &b, &serials(7, 6, Some(7)), NOW);
    assert!(!fine.resolvers[0].detail.contains("likely cause"), "{}", fine.resolvers[0].detail);
}
