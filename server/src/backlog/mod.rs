//! Loader backlog: reports come in by scraping Prometheus text ([`exposition`]) or by an
//! authenticated JSON push; [`evaluate`] turns a window of reports into rates, drain, ETA and a
//! status; [`engine`] keeps the window per loader and runs the scrapes; [`view`] is the page's data.

pub mod engine;
pub mod evaluate;
pub mod exposition;
pub mod view;

use serde::Deserialize;

/// One good report from a loader.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// When it was taken (unix milliseconds, this instance's clock).
    pub at_ms: i64,
    /// Items queued.
    pub depth: f64,
    /// Age of the oldest queued item, seconds.
    pub oldest_age_seconds: f64,
    /// Counter: items accepted since the loader started.
    pub enqueued_total: f64,
    /// Counter: items written into the master since the loader started.
    pub loaded_total: f64,
}

impl Report {
    /// The row the local store keeps for this report.
    pub fn row(&self) -> crate::store::BacklogRow {
        crate::store::BacklogRow {
            at_ms: self.at_ms,
            depth: self.depth,
            oldest_age_seconds: self.oldest_age_seconds,
            enqueued_total: self.enqueued_total,
            loaded_total: self.loaded_total,
        }
    }
}

/// The JSON body a loader pushes to `POST /api/v1/loaders/{name}/report`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushedReport {
    /// Items queued.
    pub queue_depth: f64,
    /// Age of the oldest queued item, seconds.
    pub oldest_item_age_seconds: f64,
    /// Counter: items accepted.
    pub enqueued_total: f64,
    /// Counter: items loaded.
    pub loaded_total: f64,
}

/// Why a report was rejected; the previous good report stays in use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The exposition text is malformed.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A required metric is absent.
    #[error("metric {0} is missing")]
    Missing(String),
    /// A value is negative, NaN or infinite.
    #[error("{field} must be a finite number of at least 0, not {value}")]
    OutOfRange {
        /// The metric or field.
        field: String,
        /// What was sent.
        value: f64,
    },
}

impl Report {
    /// A report from four values, each checked to be finite and not negative.
    pub fn checked(at_ms: i64, values: [(&str, f64); 4]) -> Result<Report, ReportError> {
        for (field, value) in values {
            if !value.is_finite() || value < 0.0 {
                return Err(ReportError::OutOfRange { field: field.to_string(), value });
            }
        }
        let [depth, oldest, enqueued, loaded] = values.map(|(_, v)| v);
        Ok(Report { at_ms, depth, oldest_age_seconds: oldest, enqueued_total: enqueued, loaded_total: loaded })
    }
}

impl PushedReport {
    /// The report it carries, received at `at_ms`.
    pub fn into_report(self, at_ms: i64) -> Result<Report, ReportError> {
        Report::checked(
            at_ms,
            [
                ("queue_depth", self.queue_depth),
                ("oldest_item_age_seconds", self.oldest_item_age_seconds),
                ("enqueued_total", self.enqueued_total),
                ("loaded_total", self.loaded_total),
            ],
        )
    }
}
