use super::*;
use DnsStatus::*;
use ResolverKind::{Authoritative as Auth, Recursive as Rec};

const NOW: i64 = 10_000_000;

fn set(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|v| v.to_string()).collect()
}

fn book() -> AddressBook {
    let mut b = AddressBook::default();
    b.insert("127.0.1.1", "lb1", Tier::ApiLb, "San Jose");
    b.insert("127.0.1.2", "lb2", Tier::WebLb, "San Jose");
    b.insert("127.0.2.1", "lb3", Tier::ApiLb, "Singapore");
    b.insert("127.0.2.9", "lb3b", Tier::WebLb, "Singapore");
    b
}

/// `www` is declared as lb2 (web tier), TTL 60; it used to be lb3b with TTL 300, changed 100 s ago.
fn www() -> Declared {
    Declared {
        values: set(&["127.0.1.2"]),
        ttl: 60,
        required_tier: Some(Tier::WebLb),
        previous: Some(Previous { values: set(&["127.0.2.9"]), ttl: 300, replaced_at_ms: NOW - 100_000 }),
    }
}

fn answered(rcode: &str, aa: bool, values: &[&str], ttl: Option<u32>) -> Seen {
    Seen::Answered { rcode: rcode.into(), authoritative: aa, values: set(values), ttl }
}

#[test]
fn each_rule_for_one_resolver() {
    let www = www();
    let no_previous = Declared { previous: None, ..www.clone() };
    let no_tier = Declared { required_tier: None, previous: None, ..www.clone() };
    let old_change = Declared {
        previous: Some(Previous { values: set(&["127.0.2.9"]), ttl: 300, replaced_at_ms: NOW - 300_000 }),
        ..www.clone()
    };
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

    let all_ok = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, ok())], &b, NOW);
    assert_eq!(all_ok.status, Ok);
    assert_eq!(all_ok.resolvers.len(), 2);

    // One resolver dead, the other fine: the record is fine, the dead one says timeout.
    let one_dead = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, Seen::Failed(QueryError::Timeout(500)))], &b, NOW);
    assert_eq!(one_dead.status, Ok);
    assert_eq!(one_dead.resolvers[1].status, Timeout);

    // Everyone dead: unknown, not ok.
    let all_dead = judge(&www(), &[view("a", Auth, Seen::Failed(QueryError::Timeout(500)))], &b, NOW);
    assert_eq!(all_dead.status, Timeout);

    // Two answers that disagree, neither worse than split: split.
    let extra = answered("NOERROR", true, &["127.0.1.2", "192.0.2.7"], Some(60));
    let split = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, extra)], &b, NOW);
    assert_eq!(split.status, Split, "{}", split.detail);
    assert!(split.detail.contains("resolvers disagree"));

    // Disagreement where one side is the incident's failure: wrong tier is louder than split.
    let lb1 = answered("NOERROR", true, &["127.0.1.1"], Some(60));
    let tier = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, lb1)], &b, NOW);
    assert_eq!(tier.status, WrongTier);
    assert!(tier.detail.starts_with("b: "), "{}", tier.detail);

    // One resolver has it, the other says NXDOMAIN: missing (louder than split).
    let gone = answered("NXDOMAIN", true, &[], None);
    let missing = judge(&www(), &[view("a", Auth, ok()), view("b", Auth, gone)], &b, NOW);
    assert_eq!(missing.status, Missing);

    // No resolvers configured: not checked, which is unknown, never timeout or ok.
    let none = judge(&www(), &[], &b, NOW);
    assert_eq!((none.status, none.status.status()), (Unchecked, app::model::Status::Unknown));
}

#[test]
fn hysteresis_and_flapping() {
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<DnsStatus>, DnsStatus, DnsStatus, bool)> = vec![
        ("first bad round does not alarm", vec![Ok, Ok, WrongTier], Ok, Ok, false),
        ("second bad round alarms", vec![Ok, WrongTier, WrongTier], Ok, WrongTier, false),
        ("two of three is enough", vec![WrongTier, Ok, WrongTier], Ok, WrongTier, false),
        ("one good round does not clear", vec![Missing, Missing, Ok], Missing, Missing, false),
        ("two good rounds clear", vec![Missing, Ok, Ok], Missing, Ok, false),
        ("three different keep what is shown", vec![Ok, Missing, WrongTier], Split, Split, false),
        ("short history", vec![Missing], Ok, Ok, false),
        ("empty history", vec![], Ok, Ok, false),
        ("a first round is not yet known", vec![WrongTier], Unchecked, Unchecked, false),
        ("two first rounds that differ are not yet known", vec![Ok, WrongTier], Unchecked, Unchecked, false),
        ("two first rounds that agree are known", vec![Ok, Ok], Unchecked, Ok, false),
        ("flapping", vec![Ok, Missing, Ok, Missing, Ok], Ok, Ok, true),
        ("three changes is not yet flapping", vec![Ok, Missing, Ok, Missing], Missing, Missing, false),
        ("old changes leave the window", vec![Ok, Missing, Ok, Missing, Ok, Ok, Ok, Ok, Ok, Ok, Ok], Ok, Ok, false),
    ];
    for (name, history, shown, want, flapping) in cases {
        let got = settle(&history, shown);
        assert_eq!(got.shown, want, "{name}");
        assert_eq!(got.flapping, flapping, "{name}");
    }
}
