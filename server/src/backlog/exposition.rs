//! A strict reader of the Prometheus text exposition format (version 0.0.4).
//!
//! Why not a crate: `prometheus-parse` skips lines it cannot read without a word, so a broken
//! exporter would look like a quiet one; `openmetrics-parser` implements the stricter OpenMetrics
//! grammar (and is LGPL). The subset a loader needs (comments, samples with labels, optional
//! timestamps) is short enough to read exactly, with the line of every mistake.

use super::{Report, ReportError};
use crate::config::MetricNames;

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name.
    pub name: String,
    /// Label pairs in the order written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

fn syntax(line: usize, message: impl Into<String>) -> ReportError {
    ReportError::Syntax { line, message: message.into() }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

fn value(text: &str, line: usize) -> Result<f64, ReportError> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text.parse::<f64>().map_err(|_| syntax(line, format!("{text:?} is not a number"))),
    }
}

/// Reads `{name="value",…}` starting after the `{`; returns the labels and the rest of the line.
fn labels(mut rest: &str, line: usize) -> Result<(Vec<(String, String)>, &str), ReportError> {
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((out, after));
        }
        let eq = rest.find('=').ok_or_else(|| syntax(line, "label without '=' (expected name=\"value\")"))?;
        let name = rest[..eq].trim();
        if !is_name(name, false) {
            return Err(syntax(line, format!("{name:?} is not a label name")));
        }
        rest = rest[eq + 1..].trim_start();
        rest = rest.strip_prefix('"').ok_or_else(|| syntax(line, format!("value of label {name} must be in double quotes")))?;
        let mut text = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err(syntax(line, format!("value of label {name} has no closing quote"))),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => text.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => text.push(c),
                    _ => return Err(syntax(line, format!("bad escape in the value of label {name}"))),
                },
                Some((_, c)) => text.push(c),
            }
        };
        out.push((name.to_string(), text));
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err(syntax(line, "expected ',' or '}' after a label"));
        }
    }
}

/// Parses a whole exposition; the first mistake fails it, naming its line.
pub fn parse(text: &str) -> Result<Vec<Sample>, ReportError> {
    let mut samples = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            match words.next() {
                Some("TYPE") => {
                    let name = words.next().unwrap_or("");
                    let kind = words.next().unwrap_or("");
                    if !is_name(name, true) {
                        return Err(syntax(line, format!("TYPE names {name:?}, which is not a metric name")));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(syntax(line, format!("TYPE {kind:?} is not counter, gauge, histogram, summary or untyped")));
                    }
                }
                Some("HELP") => {
                    let name = words.next().unwrap_or("");
                    if !is_name(name, true) {
                        return Err(syntax(line, format!("HELP names {name:?}, which is not a metric name")));
                    }
                }
                _ => {}
            }
            continue;
        }
        let name_end = trimmed.find(|c: char| c == '{' || c.is_whitespace()).unwrap_or(trimmed.len());
        let name = &trimmed[..name_end];
        if !is_name(name, true) {
            return Err(syntax(line, format!("{name:?} is not a metric name")));
        }
        let mut rest = &trimmed[name_end..];
        let mut pairs = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            let (l, r) = labels(after, line)?;
            pairs = l;
            rest = r;
        }
        let mut fields = rest.split_whitespace();
        let v = fields.next().ok_or_else(|| syntax(line, format!("sample {name} has no value")))?;
        let v = value(v, line)?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().map_err(|_| syntax(line, format!("timestamp {ts:?} is not an integer")))?;
        }
        if let Some(extra) = fields.next() {
            return Err(syntax(line, format!("unexpected {extra:?} after the value and timestamp")));
        }
        samples.push(Sample { name: name.to_string(), labels: pairs, value: v });
    }
    Ok(samples)
}

/// The loader report in a scrape: depth and counters summed over label sets, oldest age the
/// largest of them (a loader may report one series per queue).
pub fn report(text: &str, names: &MetricNames, at_ms: i64) -> Result<Report, ReportError> {
    let samples = parse(text)?;
    let pick = |name: &str, combine: fn(f64, f64) -> f64| {
        samples.iter().filter(|s| s.name == name).map(|s| s.value).reduce(combine).ok_or_else(|| ReportError::Missing(name.to_string()))
    };
    Report::checked(
        at_ms,
        [
            (names.queue_depth.as_str(), pick(&names.queue_depth, |a, b| a + b)?),
            (names.oldest_item_age_seconds.as_str(), pick(&names.oldest_item_age_seconds, f64::max)?),
            (names.enqueued_total.as_str(), pick(&names.enqueued_total, |a, b| a + b)?),
            (names.loaded_total.as_str(), pick(&names.loaded_total, |a, b| a + b)?),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# HELP loader_queue_depth Items queued.\n\
        # TYPE loader_queue_depth gauge\n\
        loader_queue_depth{queue=\"a\"} 3\n\
        loader_queue_depth{queue=\"b\",note=\"x \\\"y\\\"\"} 4 1700000000000\n\
        loader_oldest_item_age_seconds{queue=\"a\"} 1.5\n\
        loader_oldest_item_age_seconds{queue=\"b\"} 9.25\n\
        \n\
        loader_enqueued_total 100\n\
        loader_loaded_total 93\n";

    #[test]
    fn reads_a_loader_report_summing_series() {
        let r = report(GOOD, &MetricNames::default(), 7).unwrap();
        assert_eq!(r, Report { at_ms: 7, depth: 7.0, oldest_age_seconds: 9.25, enqueued_total: 100.0, loaded_total: 93.0 });
        let samples = parse(GOOD).unwrap();
        assert_eq!(samples[1].labels[1], ("note".to_string(), "x \"y\"".to_string()));
    }

    #[test]
    fn every_mistake_names_its_line() {
        let cases = [
            ("loader_queue_depth", 1, "has no value"),
            ("loader_queue_depth abc", 1, "not a number"),
            ("\n9bad 1", 2, "not a metric name"),
            ("m{a=\"1\" 2", 1, "expected ',' or '}'"),
            ("m{a=1} 2", 1, "double quotes"),
            ("m{a=\"1} 2", 1, "no closing quote"),
            ("m{1a=\"x\"} 2", 1, "not a label name"),
            ("m 1 notatime", 1, "timestamp"),
            ("m 1 2 3", 1, "unexpected"),
            ("# TYPE m bogus", 1, "is not counter"),
            ("m{a=\"\\q\"} 1", 1, "bad escape"),
        ];
        for (text, line, words) in cases {
            match parse(text) {
                Err(ReportError::Syntax { line: l, message }) => {
                    assert_eq!(l, line, "{text:?}: {message}");
                    assert!(message.contains(words), "{text:?}: {message:?} should say {words:?}");
                }
                other => panic!("{text:?} should fail, got {other:?}"),
            }
        }
    }

    #[test]
    fn missing_or_impossible_values_are_rejected() {
        let names = MetricNames::default();
        let without_loaded = GOOD.replace("loader_loaded_total 93\n", "");
        assert_eq!(report(&without_loaded, &names, 0), Err(ReportError::Missing("loader_loaded_total".into())));
        let negative = GOOD.replace("loader_enqueued_total 100", "loader_enqueued_total -1");
        assert!(matches!(report(&negative, &names, 0), Err(ReportError::OutOfRange { .. })));
        let nan = GOOD.replace("loader_enqueued_total 100", "loader_enqueued_total NaN");
        assert!(matches!(report(&nan, &names, 0), Err(ReportError::OutOfRange { .. })));
    }

    #[test]
    fn configured_names_are_used() {
        let names = MetricNames {
            queue_depth: "q".into(),
            oldest_item_age_seconds: "age".into(),
            enqueued_total: "in_total".into(),
            loaded_total: "out_total".into(),
        };
        let r = report("q 2\nage 1\nin_total 5\nout_total 3\n", &names, 0).unwrap();
        assert_eq!((r.depth, r.enqueued_total, r.loaded_total), (2.0, 5.0, 3.0));
    }
}
