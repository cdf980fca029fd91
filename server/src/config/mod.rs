//! The estate configuration: one TOML file describing regions, hosts, tiers, hostnames, sites,
//! resolvers, databases, loaders, users and this instance.
//!
//! Loading has three steps: parse (TOML syntax and types, via serde), validate (cross references
//! and values, in [`validate`]), and locate (turn the key path of any mistake into file, line and
//! column, in [`locate`]). Every mistake becomes one [`ConfigError`] naming file, line, key and what
//! was expected.

mod alerting;
pub mod example;
mod locate;
mod model;
mod status_page;
mod validate;

pub use alerting::{
    AlertingConfig, EmailConfig, PagerDutyConfig, RuleKey, RuleOverride, Severity, SlackConfig, SmtpSecurity, WebhookConfig,
};
pub use model::*;
pub use status_page::{ComponentConfig, StatusPageConfig};
pub use validate::record_value as validate_value;

use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration mistake, with where it is and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {key}: {message}")]
pub struct ConfigError {
    /// The file the mistake is in.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Dotted key path, e.g. `hosts[2].region` (the whole file is `(file)`).
    pub key: KeyPath,
    /// What is wrong and what is expected.
    pub message: String,
}

/// A key path inside the TOML document, e.g. `hosts[2].check.http`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

/// One step of a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An index into an array (0-based).
    Index(usize),
}

impl KeyPath {
    /// The empty path: the document itself.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_string()));
        path
    }

    /// This path extended by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(file)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(k) if i == 0 => write!(f, "{k}")?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A mistake found by validation, before it is located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mistake {
    /// Where in the document.
    pub key: KeyPath,
    /// What is wrong, in words.
    pub message: String,
    /// The other place involved, for duplicates: the message names its line.
    pub also: Option<KeyPath>,
}

/// Reads, parses and validates the estate at `path`.
pub fn load(path: &Path) -> Result<Estate, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: KeyPath::root(),
            message: format!("cannot read the config file: {e}"),
        }]
    })?;
    parse(path, &text)
}

/// Parses and validates estate text; `file` is only used in error messages.
pub fn parse(file: &Path, text: &str) -> Result<Estate, Vec<ConfigError>> {
    // A good file, the common case, needs no map of where everything is: deserialize and check
    // once. The located document (toml_edit keeps every span and decoration) is built only to
    // report mistakes; for a 10,000-record zone it would take tens of megabytes the process
    // keeps, fragmented, for its whole life.
    if let Ok(estate) = toml::from_str::<Estate>(text) {
        if validate::validate(&estate).is_empty() {
            return Ok(estate);
        }
    }
    let document = locate::Document::parse(text).map_err(|(offset, message)| {
        let (line, column) = locate::line_column(text, offset);
        vec![ConfigError { file: file.to_path_buf(), line, column, key: KeyPath::root(), message: format!("invalid TOML: {message}") }]
    })?;
    let error = |key: KeyPath, offset: usize, message: String| located(file, text, key, offset, message);
    let (estate, mut errors, removed) = deserialize_all(file, text, &document);
    let Some(estate) = estate else { return Err(errors) };
    // Cross references are checked too. A table dropped to get this far must not cause made-up
    // mistakes: none are reported when a region was dropped (everything refers to regions), and
    // none that name a dropped table's `name`; later tables' indices are shifted back.
    let names: Vec<String> = removed.iter().filter_map(|p| document.name_of(p)).map(|n| format!("{n:?}")).collect();
    let region_dropped = removed.iter().any(|p| matches!(p.0.first(), Some(Segment::Key(k)) if k == "regions"));
    if !region_dropped {
        let reported: Vec<KeyPath> = errors.iter().map(|e| e.key.clone()).collect();
        for mut m in validate::validate(&estate) {
            m.key = shifted(m.key, &removed);
            m.also = m.also.map(|k| shifted(k, &removed));
            if reported.contains(&m.key) || names.iter().any(|n| m.message.contains(n.as_str())) {
                continue;
            }
            let mut message = m.message;
            if let Some(also) = &m.also {
                let (line, _) = locate::line_column(text, document.offset_of(also));
                message.push_str(&format!(" (the other is {also}, line {line})"));
            }
            errors.push(error(m.key.clone(), document.offset_of(&m.key), message));
        }
    }
    if errors.is_empty() {
        return Ok(estate);
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(errors)
}

/// A mistake at byte `offset` of `text`, with its line and column.
fn located(file: &Path, text: &str, key: KeyPath, offset: usize, message: String) -> ConfigError {
    let (line, column) = locate::line_column(text, offset);
    ConfigError { file: file.to_path_buf(), line, column, key, message }
}

/// A key path of the estate as deserialized, as it is in the file: each dropped table before it
/// in the same array moves its index up by one.
fn shifted(mut key: KeyPath, removed: &[KeyPath]) -> KeyPath {
    let mut removed: Vec<&KeyPath> = removed.iter().collect();
    removed.sort_by_key(|p| match p.0.last() {
        Some(Segment::Index(i)) => *i,
        _ => usize::MAX,
    });
    for dropped in removed {
        let Some((Segment::Index(r), array)) = dropped.0.split_last() else { continue };
        if key.0.len() > array.len() && key.0[..array.len()] == array[..] {
            if let Segment::Index(j) = &mut key.0[array.len()] {
                if *j >= *r {
                    *j += 1;
                }
            }
        }
    }
    key
}

/// Mistakes a single run may report at most; a file this broken needs fixing from the top.
const MOST_MISTAKES: usize = 100;

/// Deserializes the estate, collecting every type and unknown-key mistake rather than only the
/// first: after each one, the offending key (or, for a missing key, its table) is blanked with
/// spaces, which keeps every other offset in place, and the text is deserialized again. Returns
/// the estate when the rest deserializes, the mistakes, and the tables dropped whole.
fn deserialize_all(file: &Path, text: &str, document: &locate::Document) -> (Option<Estate>, Vec<ConfigError>, Vec<KeyPath>) {
    let mut work = text.as_bytes().to_vec();
    let mut errors: Vec<ConfigError> = Vec::new();
    let mut removed: Vec<KeyPath> = Vec::new();
    let mistake = |key: KeyPath, offset: usize, message: String| located(file, text, key, offset, message);
    while errors.len() < MOST_MISTAKES {
        // Blanking replaces whole UTF-8 sequences with spaces, so the text stays valid.
        let current = String::from_utf8_lossy(&work).into_owned();
        let e = match toml::from_str::<Estate>(&current) {
            Ok(estate) => return (Some(estate), errors, removed),
            Err(e) => e,
        };
        let span = e.span().unwrap_or(0..0);
        let key = document.key_at(span.start);
        let raw = e.message().trim().to_string();
        let missing = raw.starts_with("missing field");
        // Blanking a key for its own mistake leaves its table without it: say that only once.
        let echo = missing && errors.iter().any(|found| found.key.0.starts_with(&key.0) && found.key != key);
        if !echo {
            let value = text.get(span.clone()).unwrap_or("").trim();
            errors.push(mistake(key.clone(), span.start, words_for_people(&raw, &key, value)));
        }
        let range = if missing { document.block_range(&key) } else { document.removal_range(&key) };
        let Some(range) = range.filter(|r| r.end <= work.len() && work[r.clone()].iter().any(|b| !b.is_ascii_whitespace())) else {
            break;
        };
        if missing || document.block_range(&key).as_ref() == Some(&range) {
            removed.push(key.clone());
        }
        for b in &mut work[range] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    (None, errors, removed)
}

/// serde's and toml's words, said for the person editing the file: the bad value quoted, a
/// list where one value belongs named as such, numbers called numbers.
fn words_for_people(raw: &str, key: &KeyPath, value: &str) -> String {
    let field = match key.0.last() {
        Some(Segment::Key(k)) => k.as_str(),
        _ => "this value",
    };
    if raw.contains("invalid IP address syntax") {
        return format!("{value} is not an IP address; write one like \"127.0.1.1\" or \"::1\"");
    }
    if raw.contains("invalid socket address syntax") {
        return format!("{value} is not an address with a port; write one like \"127.0.0.1:5354\"");
    }
    if value.starts_with('[') && (raw.contains("wanted string or table") || raw.contains("invalid type: sequence")) {
        let example = match field {
            "tier" => "one tier name such as \"api_lb\"",
            "kind" => "one kind such as \"authoritative\"",
            "role" => "one role such as \"oncall\"",
            "type" => "one record type such as \"A\"",
            "region" => "one region name such as \"sjc\"",
            _ => "a single value",
        };
        return format!("{field} must be {example}, not a list ({value})");
    }
    let mut words = raw.to_string();
    for number in ["u8", "u16", "u32", "u64", "usize", "i64", "f64"] {
        words = words.replace(&format!("expected {number}"), "expected a number");
    }
    words
}

/// Renders a list of errors one per line, for the terminal.
pub fn report(errors: &[ConfigError]) -> String {
    let mut out = format!("the configuration has {} mistake{}:\n", errors.len(), if errors.len() == 1 { "" } else { "s" });
    for e in errors {
        out.push_str(&format!("  {e}\n"));
    }
    out
}

#[cfg(test)]
mod tests;
