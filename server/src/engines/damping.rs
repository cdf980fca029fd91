//! Damping: the status a resource shows, from its recent raw statuses, so one bad round does not
//! page anyone and a resource that keeps changing shows one steady `flapping` state instead of
//! alternating. Host health and DNS records use the same rule; it is pure and table-tested.

use app::model::Flapping;
use std::collections::VecDeque;

/// How raw statuses become the shown one (`[probes]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damping {
    /// A new status is shown once it is the raw status of this many ...
    pub agree: usize,
    /// ... of the last this many rounds.
    pub of: usize,
    /// This many changes of raw status ...
    pub flap_changes: usize,
    /// ... within the last this many rounds make the resource flapping.
    pub flap_window: usize,
}

impl Damping {
    /// Two of three rounds, flapping at four changes in eight rounds: the DNS rule from the start.
    pub const DEFAULT: Damping = Damping { agree: 2, of: 3, flap_changes: 4, flap_window: 8 };

    /// The damping rule for host health and DNS records that `probes` configures.
    pub fn of_config(probes: &crate::config::ProbeConfig) -> Damping {
        Damping {
            agree: probes.settle_rounds,
            of: probes.settle_window,
            flap_changes: probes.flap_changes,
            flap_window: probes.flap_window,
        }
    }

    /// Rounds a flapping resource must hold one status before it leaves flapping.
    pub fn steady(&self) -> usize {
        (self.flap_window / 2).max(self.of).max(1)
    }

    /// Rounds of history the rule looks at.
    pub fn keep(&self) -> usize {
        self.flap_window.max(self.of).max(self.steady())
    }
}

/// What to show now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled<S> {
    /// The status pages show and alarms use.
    pub shown: S,
    /// Set while the raw status keeps changing.
    pub flapping: Option<Flapping>,
}

/// The shown status after the latest round. `history` is oldest first, `(at_ms, raw)`, ending
/// with the latest round; `rank` orders statuses by how much attention they ask for.
pub fn settle<S: Copy + Eq>(history: &[(i64, S)], previous: &Settled<S>, rule: &Damping, rank: impl Fn(S) -> u8) -> Settled<S> {
    let Some(&(now_ms, _)) = history.last() else { return previous.clone() };
    let window = &history[history.len().saturating_sub(rule.flap_window)..];
    let changes = window.windows(2).filter(|pair| pair[0].1 != pair[1].1).count();
    let tail = &history[history.len().saturating_sub(rule.steady())..];
    let steady = tail.len() == rule.steady() && tail.iter().all(|(_, s)| *s == tail[0].1);
    let flapping = changes >= rule.flap_changes.max(1) || (previous.flapping.is_some() && !steady);
    if flapping {
        // One steady state: the worst status it keeps returning to, not the latest.
        let worst = window.iter().map(|(_, s)| *s).max_by_key(|s| rank(*s)).unwrap_or(previous.shown);
        let since_ms = previous.flapping.as_ref().map_or(now_ms, |f| f.since_ms);
        return Settled { shown: worst, flapping: Some(Flapping { changes: changes as u32, since_ms }) };
    }
    let recent = &history[history.len().saturating_sub(rule.of)..];
    let agreeing = |candidate: S| recent.iter().filter(|(_, s)| *s == candidate).count() >= rule.agree.max(1);
    // Leaving flapping: the status it held steady. Otherwise the shown status stays while it
    // still has enough rounds, and the newest status with enough rounds replaces it.
    let shown = if previous.flapping.is_some() {
        tail[0].1
    } else if agreeing(previous.shown) {
        previous.shown
    } else {
        recent.iter().rev().map(|(_, s)| *s).find(|s| agreeing(*s)).unwrap_or(previous.shown)
    };
    Settled { shown, flapping: None }
}

/// One resource's recent raw statuses and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damped<S> {
    history: VecDeque<(i64, S)>,
    /// What it shows now.
    pub settled: Settled<S>,
    /// When the shown status last changed (unix milliseconds).
    pub since_ms: i64,
}

impl<S: Copy + Eq> Damped<S> {
    /// A resource not yet observed, showing `initial` (unknown, unchecked) from `now_ms`.
    pub fn new(initial: S, now_ms: i64) -> Self {
        Damped { history: VecDeque::new(), settled: Settled { shown: initial, flapping: None }, since_ms: now_ms }
    }

    /// Adds one round's raw status, keeping at most the rule's window of rounds.
    pub fn push(&mut self, at_ms: i64, raw: S, rule: &Damping, rank: impl Fn(S) -> u8) {
        let keep = rule.keep().max(1);
        // Room for exactly the window, the oldest dropped before the newest goes in: growing by
        // doubling would hold up to twice the window for each of 10,000 records.
        while self.history.len() >= keep {
            self.history.pop_front();
        }
        if self.history.capacity() < keep {
            self.history.reserve_exact(keep - self.history.len());
        }
        self.history.push_back((at_ms, raw));
        let settled = settle(self.history.make_contiguous(), &self.settled, rule, rank);
        if settled.shown != self.settled.shown {
            self.since_ms = at_ms;
        }
        self.settled = settled;
    }

    /// The latest raw status, if any round has happened.
    pub fn latest(&self) -> Option<S> {
        self.history.back().map(|(_, s)| *s)
    }

    /// Rounds seen, up to the window.
    pub fn rounds(&self) -> usize {
        self.history.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Status::{self, *};

    fn rank(s: Status) -> u8 {
        s.severity()
    }

    /// Pushes `raw` one round a second from t = 1 s, starting from `initial`.
    fn run(initial: Status, raw: &[Status]) -> Damped<Status> {
        let mut d = Damped::new(initial, 0);
        for (i, s) in raw.iter().enumerate() {
            d.push((i as i64 + 1) * 1000, *s, &Damping::DEFAULT, rank);
        }
        d
    }

    #[test]
    fn the_configs_default_is_the_default_rule() {
        assert_eq!(Damping::of_config(&crate::config::ProbeConfig::default()), Damping::DEFAULT);
    }

    #[test]
    fn hysteresis_flapping_in_and_out() {
        let alternating: Vec<Status> = (0..12).map(|i| if i % 2 == 0 { Ok } else { Critical }).collect();
        // Four steady rounds after the storm, but four changes are still inside the window.
        let mut not_yet = alternating.clone();
        not_yet.extend([Ok, Ok, Ok, Ok]);
        let mut settles = alternating.clone();
        settles.extend([Ok, Ok, Ok, Ok, Ok]);
        #[rustfmt::skip]
        let cases: Vec<(&str, Status, Vec<Status>, Status, Option<(u32, i64)>, i64)> = vec![
            ("nothing observed", Unknown, vec![], Unknown, None, 0),
            ("one round is not enough", Unknown, vec![Ok], Unknown, None, 0),
            ("two of three", Unknown, vec![Ok, Ok], Ok, None, 2000),
            ("first bad round does not alarm", Unknown, vec![Ok, Ok, Critical], Ok, None, 2000),
            ("second bad round alarms", Unknown, vec![Ok, Ok, Critical, Critical], Critical, None, 4000),
            ("two of three, not in a row", Unknown, vec![Ok, Ok, Critical, Ok, Critical], Critical, None, 5000),
            ("one good round does not clear", Unknown, vec![Critical, Critical, Ok], Critical, None, 2000),
            ("two good rounds clear", Unknown, vec![Critical, Critical, Ok, Ok], Ok, None, 4000),
            ("three different keep what is shown", Ok, vec![Ok, Warn, Critical], Ok, None, 0),
            ("three changes is not flapping", Unknown, vec![Ok, Critical, Ok, Critical], Critical, None, 4000),
            ("four changes is flapping, at the worst", Unknown, vec![Ok, Critical, Ok, Critical, Ok], Critical, Some((4, 5000)), 4000),
            ("flapping keeps its since and counts", Unknown, alternating.clone(), Critical, Some((7, 5000)), 4000),
            ("steady, but the window still counts four changes", Unknown, not_yet, Critical, Some((4, 5000)), 4000),
            ("steady and fewer changes: leaves flapping", Unknown, settles, Ok, None, 17000),
        ];
        for (name, initial, raw, shown, flapping, since) in cases {
            let d = run(initial, &raw);
            assert_eq!(d.settled.shown, shown, "{name}: {d:?}");
            assert_eq!(d.settled.flapping.as_ref().map(|f| (f.changes, f.since_ms)), flapping, "{name}");
            assert_eq!(d.since_ms, since, "{name}: since");
            assert!(d.rounds() <= Damping::DEFAULT.keep(), "{name}: the history is bounded");
        }
    }

    #[test]
    fn a_host_failing_every_other_round_for_a_minute_shows_one_state() {
        // The finding: 2 s up, 2 s down, probed every second: 29 flips a minute undamped.
        let raw: Vec<Status> = (0..60).map(|i| if (i / 2) % 2 == 0 { Ok } else { Critical }).collect();
        let mut d = Damped::new(Unknown, 0);
        let mut shown = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            d.push(i as i64 * 1000, *s, &Damping::DEFAULT, rank);
            shown.push(d.settled.shown);
        }
        let flips = shown.windows(2).filter(|p| p[0] != p[1]).count();
        assert_eq!(flips, 4, "the first changes show, damped: {shown:?}");
        assert!(shown[8..].iter().all(|s| *s == Critical), "flapping from round 8 holds one state: {shown:?}");
        assert_eq!(d.settled.shown, Critical);
        assert!(d.settled.flapping.is_some());
    }

    #[test]
    fn a_rule_of_one_round_follows_every_change() {
        let rule = Damping { agree: 1, of: 1, flap_changes: 100, flap_window: 1 };
        let mut d = Damped::new(Unknown, 0);
        for (i, s) in [Ok, Critical, Ok].iter().enumerate() {
            d.push(i as i64, *s, &rule, rank);
            assert_eq!(d.settled.shown, *s);
        }
    }
}
