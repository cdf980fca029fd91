//! What a window of loader reports means: enqueue and load rates, net drain, ETA (only when
//! draining) and a status. Pure, with an explicit `now`, and table-tested.

use super::Report;
use app::format;
use app::model::BacklogStatus;

/// Window and staleness, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Reports newer than `now - window_ms` are used for rates.
    pub window_ms: i64,
    /// A loader whose newest report is older than this is `stopped`.
    pub stopped_after_ms: i64,
}

/// The evaluated state of one loader.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The status.
    pub status: BacklogStatus,
    /// Why, in words.
    pub detail: String,
    /// Enqueued per second over the window.
    pub enqueue_rate: Option<f64>,
    /// Loaded per second over the window.
    pub load_rate: Option<f64>,
    /// Load rate minus enqueue rate.
    pub net_drain: Option<f64>,
    /// Seconds until empty, only while draining.
    pub eta_seconds: Option<f64>,
}

/// Increase of a counter across consecutive reports; a drop means the loader restarted and
/// counts from zero again, so the new value is all increase (as Prometheus' `increase`).
fn increase(reports: &[&Report], counter: fn(&Report) -> f64) -> f64 {
    reports
        .windows(2)
        .map(|pair| {
            let (before, after) = (counter(pair[0]), counter(pair[1]));
            if after >= before {
                after - before
            } else {
                after
            }
        })
        .sum()
}

/// Evaluates `reports` (oldest first) at `now_ms`.
pub fn evaluate(reports: &[Report], policy: Policy, now_ms: i64) -> Verdict {
    let unknown =
        |status, detail: String| Verdict { status, detail, enqueue_rate: None, load_rate: None, net_drain: None, eta_seconds: None };
    let Some(latest) = reports.last() else {
        return unknown(BacklogStatus::Unknown, "no report yet".to_string());
    };
    if now_ms - latest.at_ms > policy.stopped_after_ms {
        return unknown(
            BacklogStatus::Stopped,
            format!(
                "no report since {} ({} ago); {} items were queued then",
                format::utc(latest.at_ms),
                format::seconds(Some((now_ms - latest.at_ms) as f64 / 1000.0)),
                format::count(Some(latest.depth))
            ),
        );
    }
    let window: Vec<&Report> = reports.iter().filter(|r| r.at_ms >= now_ms - policy.window_ms).collect();
    let span_s = match (window.first(), window.last()) {
        (Some(first), Some(last)) if last.at_ms > first.at_ms => (last.at_ms - first.at_ms) as f64 / 1000.0,
        _ => {
            let status = if latest.depth == 0.0 { BacklogStatus::Ok } else { BacklogStatus::Unknown };
            return unknown(
                status,
                format!("{} items queued; rates need a second report in the window", format::count(Some(latest.depth))),
            );
        }
    };
    let enqueue_rate = increase(&window, |r| r.enqueued_total) / span_s;
    let load_rate = increase(&window, |r| r.loaded_total) / span_s;
    let net = load_rate - enqueue_rate;
    let depth = latest.depth;
    let window_words = format::seconds(Some(span_s));
    let (status, eta, detail) = if depth == 0.0 {
        (BacklogStatus::Ok, None, format!("empty; loading {}", format::rate(Some(load_rate))))
    } else if load_rate == 0.0 {
        (
            BacklogStatus::Stalled,
            None,
            format!(
                "{} items wait (oldest {}) and none were loaded in the last {window_words}",
                format::count(Some(depth)),
                format::seconds(Some(latest.oldest_age_seconds))
            ),
        )
    } else if net < 0.0 && depth - window.first().map_or(0.0, |r| r.depth) > enqueue_rate.max(1.0) {
        // Growing: more in than out, and deeper by more than a second's worth of writes (a
        // loader keeping up holds a few items in flight, and its depth jitters by that much).
        (
            BacklogStatus::Growing,
            None,
            format!(
                "{} items queued and growing by {}: enqueued {}, loaded {}",
                format::count(Some(depth)),
                format::rate(Some(-net)),
                format::rate(Some(enqueue_rate)),
                format::rate(Some(load_rate))
            ),
        )
    } else if net <= 0.0 {
        (
            BacklogStatus::Ok,
            None,
            format!("keeping up: loading {} as fast as items arrive; {} queued", format::rate(Some(load_rate)), format::count(Some(depth))),
        )
    } else {
        let eta = depth / net;
        (
            BacklogStatus::Ok,
            Some(eta),
            format!(
                "{} items queued, draining at {}: empty in about {}",
                format::count(Some(depth)),
                format::rate(Some(net)),
                format::seconds(Some(eta))
            ),
        )
    };
    Verdict { status, detail, enqueue_rate: Some(enqueue_rate), load_rate: Some(load_rate), net_drain: Some(net), eta_seconds: eta }
}

#[cfg(test)]
mod tests;
