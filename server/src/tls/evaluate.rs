//! What a served certificate means: a pure function of what the handshake found, the thresholds
//! and `now`. An untrusted chain or a wrong name is critical at once, with the reason in words;
//! a trusted one is judged by the days it has left.

use app::format;
use app::model::Status;

/// What chain verification said about the certificate a balancer served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Trusted, in date, and for the name asked for.
    Valid,
    /// Trusted, but for other names.
    WrongName,
    /// Signed by nobody this instance trusts (a self-signed or private CA not configured).
    UnknownIssuer,
    /// Past its `notAfter`.
    Expired,
    /// Before its `notBefore` (a clock or an issuing mistake).
    NotYetValid,
    /// Any other failure, in the verifier's words.
    Invalid(String),
}

/// What one handshake found out about the leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The names it is for: its DNS subject alternative names, else its subject's CN.
    pub names: Vec<String>,
    /// Who issued it, in words (the issuer's CN, else the whole issuer name).
    pub issuer: String,
    /// Its `notBefore` (unix milliseconds).
    pub not_before_ms: i64,
    /// Its `notAfter` (unix milliseconds).
    pub not_after_ms: i64,
    /// What verifying the chain for the name asked for said.
    pub verdict: Verdict,
}

/// When a trusted certificate starts to worry: `[tls]` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `warn` at or below this many days left.
    pub warn_days: i64,
    /// `critical` at or below this many days left.
    pub critical_days: i64,
}

const DAY_MS: i64 = 86_400_000;

/// Whole days from `now_ms` to `until_ms`, rounded down (negative once past).
pub fn days_left(until_ms: i64, now_ms: i64) -> i64 {
    (until_ms - now_ms).div_euclid(DAY_MS)
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// The status of the certificate `host` served for `hostname`, and why, in words.
pub fn judge(host: &str, hostname: &str, facts: &CertFacts, t: Thresholds, now_ms: i64) -> (Status, String) {
    let left = days_left(facts.not_after_ms, now_ms);
    let names = if facts.names.is_empty() { "no name".to_string() } else { facts.names.join(", ") };
    let critical = |words: String| (Status::Critical, words);
    match &facts.verdict {
        Verdict::WrongName => critical(format!("{host} serves a certificate for {names}, not {hostname}")),
        Verdict::UnknownIssuer => {
            critical(format!("{host} serves a certificate for {hostname} issued by {}, which this instance does not trust", facts.issuer))
        }
        Verdict::Expired => {
            let ago = match -left - 1 {
                0 => "less than a day".to_string(),
                n => days(n),
            };
            critical(format!("{host}'s certificate for {hostname} expired {ago} ago ({})", format::utc(facts.not_after_ms)))
        }
        Verdict::NotYetValid => {
            critical(format!("{host}'s certificate for {hostname} is not valid until {}", format::utc(facts.not_before_ms)))
        }
        Verdict::Invalid(why) => critical(format!("{host}'s certificate for {hostname} is invalid: {why}")),
        Verdict::Valid => {
            let when = format!("expires in {} ({}), issued by {}", days(left), format::utc(facts.not_after_ms), facts.issuer);
            let status = if left <= t.critical_days {
                Status::Critical
            } else if left <= t.warn_days {
                Status::Warn
            } else {
                Status::Ok
            };
            (status, format!("certificate for {hostname} {when}"))
        }
    }
}

/// Whether a certificate for `names` is good for `hostname`: the same name (any case), or a
/// `*.` wildcard standing for exactly its first label, as browsers match them.
pub fn covers(names: &[String], hostname: &str) -> bool {
    let hostname = hostname.trim_end_matches('.').to_ascii_lowercase();
    names.iter().any(|name| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match name.strip_prefix("*.") {
            Some(parent) => hostname.split_once('.').is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
            None => name == hostname,
        }
    })
}

/// What `host` serves to people who reach it as `hostname`, from the certificate its own check
/// saw when asking for `asked`: that check's judgement when the names are the same; critical
/// when the certificate does not cover `hostname` (the incident's `www` landing on the API
/// tier's balancer); otherwise judged as if asked, the other name's mismatch aside.
pub fn judge_for(host: &str, asked: &str, hostname: &str, facts: &CertFacts, t: Thresholds, now_ms: i64) -> (Status, String) {
    if asked.trim_end_matches('.').eq_ignore_ascii_case(hostname.trim_end_matches('.')) {
        return judge(host, hostname, facts, t, now_ms);
    }
    if !covers(&facts.names, hostname) {
        return judge(host, hostname, &CertFacts { verdict: Verdict::WrongName, ..facts.clone() }, t, now_ms);
    }
    let verdict = if facts.verdict == Verdict::WrongName { Verdict::Valid } else { facts.verdict.clone() };
    judge(host, hostname, &CertFacts { verdict, ..facts.clone() }, t, now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const T: Thresholds = Thresholds { warn_days: 14, critical_days: 3 };

    fn cert(verdict: Verdict, days_left: f64) -> CertFacts {
        CertFacts {
            names: vec!["www.example.test".into()],
            issuer: "Crowsnest Lab CA".into(),
            not_before_ms: NOW - 30 * DAY_MS,
            not_after_ms: NOW + (days_left * DAY_MS as f64) as i64,
            verdict,
        }
    }

    #[test]
    fn each_verdict_and_threshold_in_words() {
        let api = CertFacts { names: vec!["api.example.test".into()], ..cert(Verdict::WrongName, 60.0) };
        #[rustfmt::skip]
        let table: Vec<(&str, CertFacts, Status, &str)> = vec![
            ("plenty of time", cert(Verdict::Valid, 60.5), Status::Ok, "certificate for www.example.test expires in 60 days"),
            ("inside the warn window", cert(Verdict::Valid, 14.5), Status::Warn, "expires in 14 days"),
            ("just outside it", cert(Verdict::Valid, 15.0), Status::Ok, "expires in 15 days"),
            ("inside the critical window", cert(Verdict::Valid, 3.2), Status::Critical, "expires in 3 days"),
            ("tonight", cert(Verdict::Valid, 0.3), Status::Critical, "expires in 0 days"),
            ("one day", cert(Verdict::Valid, 1.5), Status::Critical, "expires in 1 day ("),
            ("the wrong tier's certificate", api, Status::Critical, "lb1 serves a certificate for api.example.test, not www.example.test"),
            ("an issuer nobody trusts", cert(Verdict::UnknownIssuer, 60.0), Status::Critical, "issued by Crowsnest Lab CA, which this instance does not trust"),
            ("expired", cert(Verdict::Expired, -2.5), Status::Critical, "lb1's certificate for www.example.test expired 2 days ago"),
            ("expired an hour ago", cert(Verdict::Expired, -0.04), Status::Critical, "expired less than a day ago"),
            ("not yet valid", CertFacts { not_before_ms: NOW + DAY_MS, ..cert(Verdict::NotYetValid, 90.0) }, Status::Critical, "is not valid until"),
            ("anything else", cert(Verdict::Invalid("bad signature".into()), 60.0), Status::Critical, "is invalid: bad signature"),
        ];
        for (name, facts, status, words) in table {
            let (got, said) = judge("lb1", "www.example.test", &facts, T, NOW);
            assert_eq!(got, status, "{name}: {said}");
            assert!(said.contains(words), "{name}: {said:?} lacks {words:?}");
        }
    }

    #[test]
    fn days_round_down_and_go_negative() {
        assert_eq!(days_left(NOW + DAY_MS - 1, NOW), 0);
        assert_eq!(days_left(NOW + DAY_MS, NOW), 1);
        assert_eq!(days_left(NOW - 1, NOW), -1);
    }

    #[test]
    fn names_cover_a_hostname_exactly_or_by_one_wildcard_label() {
        #[rustfmt::skip]
        let table: &[(&[&str], &str, bool)] = &[
            (&["www.example.test"], "www.example.test", true),
            (&["WWW.Example.Test"], "www.example.test.", true),
            (&["api.example.test"], "www.example.test", false),
            (&["*.example.test"], "www.example.test", true),
            (&["*.example.test"], "example.test", false),
            (&["*.example.test"], "a.b.example.test", false),
            (&["api.example.test", "www.example.test"], "www.example.test", true),
            (&[], "www.example.test", false),
        ];
        for (names, hostname, want) in table {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            assert_eq!(covers(&names, hostname), *want, "{names:?} for {hostname}");
        }
    }

    #[test]
    fn a_hostname_landing_on_a_balancer_is_judged_by_what_that_balancer_serves() {
        let api = CertFacts { names: vec!["api.example.test".into()], ..cert(Verdict::Valid, 60.0) };
        let both = CertFacts { names: vec!["api.example.test".into(), "www.example.test".into()], ..cert(Verdict::Valid, 60.0) };
        let expiring_api = CertFacts { names: vec!["*.example.test".into()], ..cert(Verdict::Valid, 2.0) };
        #[rustfmt::skip]
        let table: Vec<(&str, &str, CertFacts, Status, &str)> = vec![
            ("asked for the same name: the check's own words", "www.example.test", cert(Verdict::Valid, 60.0), Status::Ok, "certificate for www.example.test expires in 60 days"),
            ("the API tier's certificate for www", "api.example.test", api, Status::Critical, "lb1 serves a certificate for api.example.test, not www.example.test"),
            ("a certificate for both names", "api.example.test", both, Status::Ok, "certificate for www.example.test expires in 60 days"),
            ("a wildcard, expiring", "api.example.test", expiring_api, Status::Critical, "expires in 2 days"),
            ("untrusted stays untrusted", "api.example.test", CertFacts { names: vec!["*.example.test".into()], ..cert(Verdict::UnknownIssuer, 60.0) }, Status::Critical, "does not trust"),
        ];
        for (name, asked, facts, status, words) in table {
            let (got, said) = judge_for("lb1", asked, "www.example.test", &facts, T, NOW);
            assert_eq!(got, status, "{name}: {said}");
            assert!(said.contains(words), "{name}: {said:?} lacks {words:?}");
        }
    }
}
