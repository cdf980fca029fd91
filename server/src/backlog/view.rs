//! The backlog page's data: every loader's window of reports evaluated into rates, drain, ETA
//! and a status, with its last error and history.

use super::engine::{policy, source, LoaderBoard, LoaderState};
use super::{evaluate, Report};
use app::model::{Backlog, BacklogPoint, Loader};

/// Every loader evaluated at `now_ms`.
pub fn backlog(board: &LoaderBoard, now_ms: i64) -> Backlog {
    let (estate, state) = board.read();
    let policy = policy(estate);
    let loaders = estate
        .loaders
        .iter()
        .map(|config| {
            let empty = LoaderState::default();
            let s = state.as_ref().and_then(|m| m.get(&config.name)).unwrap_or(&empty);
            let reports: Vec<Report> = s.reports.iter().cloned().collect();
            let verdict = evaluate::evaluate(&reports, policy, now_ms);
            let latest = reports.last();
            let (region, region_display) = estate.host_region(&config.host);
            Loader {
                name: config.name.clone(),
                host: config.host.clone(),
                region,
                region_display,
                source: source(config),
                status: verdict.status,
                detail: verdict.detail,
                depth: latest.map(|r| r.depth),
                oldest_age_seconds: latest.map(|r| r.oldest_age_seconds),
                enqueue_rate: verdict.enqueue_rate,
                load_rate: verdict.load_rate,
                net_drain: verdict.net_drain,
                eta_seconds: verdict.eta_seconds,
                last_report_ms: latest.map(|r| r.at_ms),
                last_error: s.last_error.as_ref().map(|(at, e)| format!("{}: {e}", app::format::utc(*at))),
                history: reports.iter().map(|r| BacklogPoint { at_ms: r.at_ms, depth: r.depth }).collect(),
            }
        })
        .collect();
    Backlog {
        loaders,
        window_seconds: estate.backlog.window_seconds,
        interval_seconds: estate.backlog.interval_seconds,
        evaluated_at_ms: now_ms,
    }
}
