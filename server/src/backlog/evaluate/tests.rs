//! Every backlog status, the rates, ETA only when draining, and counter resets.

use super::*;

const NOW: i64 = 1_800_000_000_000;
const POLICY: Policy = Policy { window_ms: 60_000, stopped_after_ms: 30_000 };

/// Reports `step_s` apart ending at `NOW - end_ago_ms`: (depth, enqueued, loaded).
fn series(step_s: i64, end_ago_ms: i64, points: &[(f64, f64, f64)]) -> Vec<Report> {
    let n = points.len() as i64;
    points
        .iter()
        .enumerate()
        .map(|(i, &(depth, enq, loaded))| Report {
            at_ms: NOW - end_ago_ms - (n - 1 - i as i64) * step_s * 1000,
            depth,
            oldest_age_seconds: if depth > 0.0 { 12.0 } else { 0.0 },
            enqueued_total: enq,
            loaded_total: loaded,
        })
        .collect()
}

#[test]
fn every_status() {
    let cases: Vec<(&str, Vec<Report>, BacklogStatus, &str)> = vec![
        ("no reports", vec![], BacklogStatus::Unknown, "no report yet"),
        ("one report, empty", series(5, 0, &[(0.0, 10.0, 10.0)]), BacklogStatus::Ok, "second report"),
        ("one report, holding items", series(5, 0, &[(4.0, 10.0, 6.0)]), BacklogStatus::Unknown, "second report"),
        ("empty and idle", series(5, 0, &[(0.0, 10.0, 10.0), (0.0, 10.0, 10.0)]), BacklogStatus::Ok, "empty"),
        ("draining", series(10, 0, &[(100.0, 0.0, 0.0), (60.0, 50.0, 90.0)]), BacklogStatus::Ok, "draining at 4.0 /s"),
        ("growing", series(10, 0, &[(10.0, 0.0, 0.0), (40.0, 50.0, 20.0)]), BacklogStatus::Growing, "growing by 3.0 /s"),
        ("steady keeps up", series(10, 0, &[(1.0, 0.0, 0.0), (1.0, 20.0, 20.0)]), BacklogStatus::Ok, "keeping up"),
        ("more in than out but depth fell", series(10, 0, &[(50.0, 0.0, 0.0), (40.0, 30.0, 20.0)]), BacklogStatus::Ok, "keeping up"),
        ("in-flight jitter is not growth", series(10, 0, &[(1.0, 0.0, 0.0), (2.0, 50.0, 49.0)]), BacklogStatus::Ok, "keeping up"),
        ("just over a second's worth deeper", series(10, 0, &[(1.0, 0.0, 0.0), (7.1, 50.0, 40.0)]), BacklogStatus::Growing, "growing"),
        ("stalled", series(10, 0, &[(10.0, 0.0, 5.0), (30.0, 20.0, 5.0)]), BacklogStatus::Stalled, "none were loaded"),
        ("stalled without new writes", series(10, 0, &[(30.0, 20.0, 5.0), (30.0, 20.0, 5.0)]), BacklogStatus::Stalled, "oldest 12 s"),
        ("stopped", series(5, 30_001, &[(3.0, 1.0, 1.0), (3.0, 1.0, 1.0)]), BacklogStatus::Stopped, "no report since"),
        ("just not stopped", series(5, 30_000, &[(0.0, 1.0, 1.0), (0.0, 1.0, 1.0)]), BacklogStatus::Ok, "empty"),
    ];
    for (name, reports, want, words) in cases {
        let v = evaluate(&reports, POLICY, NOW);
        assert_eq!(v.status, want, "{name}: {}", v.detail);
        assert!(v.detail.contains(words), "{name}: {:?} should say {words:?}", v.detail);
    }
}

#[test]
fn rates_drain_and_eta() {
    // 20 s apart: enqueued 40 (2/s), loaded 100 (5/s); 60 left: net 3/s, ETA 20 s.
    let v = evaluate(&series(20, 0, &[(120.0, 0.0, 0.0), (60.0, 40.0, 100.0)]), POLICY, NOW);
    assert_eq!(v.enqueue_rate, Some(2.0));
    assert_eq!(v.load_rate, Some(5.0));
    assert_eq!(v.net_drain, Some(3.0));
    assert_eq!(v.eta_seconds, Some(20.0));
    // No ETA unless draining.
    let growing = evaluate(&series(10, 0, &[(10.0, 0.0, 0.0), (40.0, 50.0, 20.0)]), POLICY, NOW);
    assert_eq!(growing.eta_seconds, None);
    assert_eq!(growing.net_drain, Some(-3.0));
}

#[test]
fn a_counter_reset_counts_from_zero() {
    // Loader restarted between the 2nd and 3rd report: loaded goes 500 -> 520 -> 10 -> 30.
    let v = evaluate(&series(10, 0, &[(50.0, 0.0, 500.0), (40.0, 0.0, 520.0), (30.0, 0.0, 10.0), (20.0, 0.0, 30.0)]), POLICY, NOW);
    // 20 + 10 + 20 = 50 over 30 s, never a negative rate.
    assert_eq!(v.load_rate, Some(50.0 / 30.0));
    assert_eq!(v.status, BacklogStatus::Ok);
}

#[test]
fn reports_outside_the_window_are_left_out_of_rates() {
    // The first report is 90 s old: outside the 60 s window, so its huge counters don't count.
    let mut reports = series(30, 0, &[(0.0, 0.0, 0.0), (5.0, 1000.0, 990.0), (5.0, 1030.0, 1020.0), (5.0, 1060.0, 1050.0)]);
    reports[0].enqueued_total = 0.0;
    let v = evaluate(&reports, POLICY, NOW);
    assert_eq!(v.enqueue_rate, Some(1.0));
    assert_eq!(v.load_rate, Some(1.0));
}
