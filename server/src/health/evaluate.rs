//! Health evaluation: a pure function from the latest observation, the policy and `now` to a
//! status. Rules are checked in order of precedence; the first that holds decides.

use crate::engines::damping::Damped;
use app::model::{Health, Status};

/// What one check saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// When the check finished (unix milliseconds).
    pub at_ms: i64,
    /// Round-trip time when the check got an answer.
    pub latency_ms: Option<f64>,
    /// The answer, or why there was none.
    pub outcome: Result<Answer, ProbeError>,
    /// The certificate an HTTPS check was served.
    pub certificate: Option<Served>,
}

/// The certificate one host served for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// The host that served it.
    pub host: String,
    /// The name it was asked for (SNI).
    pub hostname: String,
    /// What the certificate is and whether it verified.
    pub facts: crate::tls::evaluate::CertFacts,
}

impl Served {
    /// Its status and words at `now_ms`.
    pub fn judge(&self, t: crate::tls::evaluate::Thresholds, now_ms: i64) -> (Status, String) {
        crate::tls::evaluate::judge(&self.host, &self.hostname, &self.facts, t, now_ms)
    }
}

impl Observation {
    /// The row the local store keeps for this observation.
    pub fn row(&self) -> crate::store::HealthRow {
        let (ok, detail) = match &self.outcome {
            Ok(answer) => (true, format!("{answer:?}")),
            Err(e) => (false, e.to_string()),
        };
        crate::store::HealthRow { at_ms: self.at_ms, ok, latency_ms: self.latency_ms, detail }
    }
}

/// A check that got an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP response with this status code.
    Http(u16),
    /// A TCP connection was accepted.
    TcpConnected,
}

/// Why a check got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// Nothing came back within the timeout (the incident's hung website).
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The port is closed.
    #[error("connection refused")]
    Refused,
    /// Any other network or protocol failure, in the library's words.
    #[error("{0}")]
    Network(String),
}

/// Thresholds from `[probes]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Older results than this are not evidence of anything.
    pub stale_after_ms: i64,
    /// A passing check slower than this is `warn`.
    pub latency_warn_ms: f64,
    /// When a served certificate worries.
    pub certificates: crate::tls::evaluate::Thresholds,
}

impl Policy {
    /// The health thresholds that `probes` configures.
    pub fn of_config(probes: &crate::config::ProbeConfig, tls: &crate::config::TlsConfig) -> Policy {
        Policy {
            stale_after_ms: (probes.interval_seconds * 1000 * probes.stale_after_intervals as u64 + probes.timeout_ms) as i64,
            latency_warn_ms: probes.latency_warn_ms as f64,
            certificates: crate::tls::evaluate::Thresholds { warn_days: tls.warn_days as i64, critical_days: tls.critical_days as i64 },
        }
    }
}

/// Which HTTP statuses pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Any 2xx or 3xx.
    Success,
    /// Exactly this code.
    Status(u16),
}

/// Evaluates the latest observation of one host at `now_ms`.
pub fn evaluate(last: Option<&Observation>, expect: Expect, policy: Policy, now_ms: i64) -> Health {
    let verdict = |status, detail: String| Health {
        status,
        latency_ms: last.and_then(|o| o.latency_ms),
        checked_at_ms: last.map(|o| o.at_ms),
        detail,
        flapping: None,
    };
    // Never checked: nothing is known yet.
    let Some(obs) = last else {
        return verdict(Status::Unknown, "not checked yet".into());
    };
    // A result older than the staleness window says nothing about now.
    let age_ms = now_ms - obs.at_ms;
    if age_ms > policy.stale_after_ms {
        return verdict(Status::Unknown, format!("no fresh data: last check {} s ago", age_ms / 1000));
    }
    let answer = match &obs.outcome {
        // No answer at all is the clearest failure.
        Err(e) => return verdict(Status::Critical, e.to_string()),
        Ok(a) => *a,
    };
    // An HTTP answer outside what passes is a failure, whatever its speed.
    if let Answer::Http(code) = answer {
        let passes = match expect {
            Expect::Success => (200..400).contains(&code),
            Expect::Status(want) => code == want,
        };
        if !passes {
            let wanted = match expect {
                Expect::Success => "2xx or 3xx".to_string(),
                Expect::Status(want) => want.to_string(),
            };
            return verdict(Status::Critical, format!("HTTP {code}, expected {wanted}"));
        }
    }
    // A certificate users' browsers refuse is as bad as no answer; one that expires soon
    // ranks with slowness. Judged at `now`, so days left count down between rounds.
    let certificate = obs.certificate.as_ref().map(|c| c.judge(policy.certificates, now_ms));
    if let Some((Status::Critical, words)) = &certificate {
        return verdict(Status::Critical, words.clone());
    }
    let latency = obs.latency_ms.unwrap_or(0.0);
    let what = match answer {
        Answer::Http(code) => format!("HTTP {code}"),
        Answer::TcpConnected => "TCP connected".to_string(),
    };
    // Passing but slow deserves attention before it becomes a timeout.
    if latency > policy.latency_warn_ms {
        return verdict(Status::Warn, format!("{what} but slow: {latency:.0} ms (warn above {:.0} ms)", policy.latency_warn_ms));
    }
    match certificate {
        Some((Status::Warn, words)) => verdict(Status::Warn, format!("{what} in {latency:.1} ms; {words}")),
        Some((_, words)) => verdict(Status::Ok, format!("{what} in {latency:.1} ms; {words}")),
        None => verdict(Status::Ok, format!("{what} in {latency:.1} ms")),
    }
}

/// The health to show: the latest check, damped. A stale or missing check stays unknown (the
/// engine stopped); otherwise the damped status is shown, with the latest check in words when it
/// differs, and the flapping marker.
pub fn damped(raw: Health, damped: Option<&Damped<Status>>) -> Health {
    let Some(damped) = damped else { return raw };
    if raw.status == Status::Unknown {
        return raw;
    }
    let shown = damped.settled.shown;
    let detail = match (&damped.settled.flapping, shown == raw.status) {
        (Some(f), _) => {
            format!("flapping: {} changes in the last rounds; latest check: {} ({})", f.changes, raw.status.as_str(), raw.detail)
        }
        (None, true) => raw.detail.clone(),
        (None, false) if shown == Status::Unknown => {
            format!("latest check {}: {}; waiting for a second round to agree", raw.status.as_str(), raw.detail)
        }
        (None, false) => format!("still {} until rounds agree; latest check {}: {}", shown.as_str(), raw.status.as_str(), raw.detail),
    };
    Health { status: shown, detail, flapping: damped.settled.flapping.clone(), ..raw }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        stale_after_ms: 15_000,
        latency_warn_ms: 500.0,
        certificates: crate::tls::evaluate::Thresholds { warn_days: 14, critical_days: 3 },
    };
    const NOW: i64 = 1_000_000;

    fn obs(age_ms: i64, latency: Option<f64>, outcome: Result<Answer, ProbeError>) -> Observation {
        Observation { at_ms: NOW - age_ms, latency_ms: latency, outcome, certificate: None }
    }

    #[test]
    fn each_rule_decides_in_order() {
        let cases: Vec<(&str, Option<Observation>, Expect, Status, &str)> = vec![
            ("never checked", None, Expect::Success, Status::Unknown, "not checked yet"),
            (
                "stale ok stays unknown",
                Some(obs(15_001, Some(1.0), Ok(Answer::Http(200)))),
                Expect::Success,
                Status::Unknown,
                "last check 15 s ago",
            ),
            (
                "stale failure stays unknown",
                Some(obs(60_000, None, Err(ProbeError::Refused))),
                Expect::Success,
                Status::Unknown,
                "no fresh data",
            ),
            (
                "exactly at the window is fresh",
                Some(obs(15_000, Some(2.0), Ok(Answer::Http(200)))),
                Expect::Success,
                Status::Ok,
                "HTTP 200",
            ),
            ("refused", Some(obs(10, None, Err(ProbeError::Refused))), Expect::Success, Status::Critical, "connection refused"),
            ("timeout", Some(obs(10, None, Err(ProbeError::Timeout(2000)))), Expect::Success, Status::Critical, "timed out after 2000 ms"),
            ("5xx", Some(obs(10, Some(3.0), Ok(Answer::Http(503)))), Expect::Success, Status::Critical, "HTTP 503, expected 2xx or 3xx"),
            ("4xx", Some(obs(10, Some(3.0), Ok(Answer::Http(404)))), Expect::Success, Status::Critical, "HTTP 404"),
            ("3xx passes", Some(obs(10, Some(3.0), Ok(Answer::Http(301)))), Expect::Success, Status::Ok, "HTTP 301"),
            ("exact status wanted", Some(obs(10, Some(3.0), Ok(Answer::Http(200)))), Expect::Status(204), Status::Critical, "expected 204"),
            ("exact status met", Some(obs(10, Some(3.0), Ok(Answer::Http(204)))), Expect::Status(204), Status::Ok, "HTTP 204"),
            (
                "wrong status beats slowness",
                Some(obs(10, Some(900.0), Ok(Answer::Http(500)))),
                Expect::Success,
                Status::Critical,
                "HTTP 500",
            ),
            ("slow", Some(obs(10, Some(501.0), Ok(Answer::Http(200)))), Expect::Success, Status::Warn, "slow: 501 ms"),
            ("at the threshold is ok", Some(obs(10, Some(500.0), Ok(Answer::Http(200)))), Expect::Success, Status::Ok, "in 500.0 ms"),
            ("tcp", Some(obs(10, Some(0.4), Ok(Answer::TcpConnected))), Expect::Success, Status::Ok, "TCP connected in 0.4 ms"),
        ];
        for (name, last, expect, want, detail) in cases {
            let got = evaluate(last.as_ref(), expect, POLICY, NOW);
            assert_eq!(got.status, want, "{name}: {got:?}");
            assert!(got.detail.contains(detail), "{name}: detail {:?} lacks {detail:?}", got.detail);
            assert_eq!(got.checked_at_ms, last.as_ref().map(|o| o.at_ms), "{name}");
        }
    }

    #[test]
    fn damped_health_shows_the_settled_status_and_the_latest_check() {
        use crate::engines::damping::{Damped, Damping};
        let rule = Damping::DEFAULT;
        let raw = |status: Status| Health {
            status,
            latency_ms: None,
            checked_at_ms: Some(NOW),
            detail: "what the check saw".into(),
            flapping: None,
        };
        let after = |statuses: &[Status]| {
            let mut d = Damped::new(Status::Unknown, 0);
            for (i, s) in statuses.iter().enumerate() {
                d.push(i as i64, *s, &rule, Status::severity);
            }
            d
        };
        let (ok, crit, unknown) = (Status::Ok, Status::Critical, Status::Unknown);
        let flappy = after(&[ok, crit, ok, crit, ok]);
        #[rustfmt::skip]
        let cases: Vec<(&str, Health, Option<Damped<Status>>, Status, &str, bool)> = vec![
            ("no rounds yet", raw(unknown), None, unknown, "what the check saw", false),
            ("stale stays unknown whatever was shown", raw(unknown), Some(after(&[ok, ok])), unknown, "what the check saw", false),
            ("agreeing", raw(ok), Some(after(&[ok, ok])), ok, "what the check saw", false),
            ("one bad round", raw(crit), Some(after(&[ok, ok, crit])), ok, "still ok until rounds agree; latest check critical: what the check saw", false),
            ("first round", raw(crit), Some(after(&[crit])), unknown, "latest check critical: what the check saw; waiting for a second round", false),
            ("flapping", raw(ok), Some(flappy), crit, "flapping: 4 changes in the last rounds; latest check: ok", true),
        ];
        for (name, raw, damped_state, want, detail, flapping) in cases {
            let got = damped(raw, damped_state.as_ref());
            assert_eq!(got.status, want, "{name}: {got:?}");
            assert!(got.detail.contains(detail), "{name}: {:?} lacks {detail:?}", got.detail);
            assert_eq!(got.flapping.is_some(), flapping, "{name}");
        }
    }
}
