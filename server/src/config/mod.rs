//! The estate configuration: one TOML file describing regions, hosts, tiers, hostnames, sites,
//! resolvers, databases, loaders, users and this instance.
//!
//! Loading has three steps: parse (TOML syntax and types, via serde), validate (cross references
//! and values, in [`validate`]), and locate (turn the key path of any mistake into file, line and
//! column, in [`locate`]). Every mistake becomes one [`ConfigError`] naming file, line, key and what
//! was expected.

mod locate;
mod model;
mod validate;

pub use model::*;
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
    let document = locate::Document::parse(text).map_err(|(offset, message)| {
        let (line, column) = locate::line_column(text, offset);
        vec![ConfigError {
            file: file.to_path_buf(),
            line,
            column,
            key: KeyPath::root(),
            message: format!("invalid TOML: {message}"),
        }]
    })?;
    let estate: Estate = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = locate::line_column(text, offset);
        vec![ConfigError {
            file: file.to_path_buf(),
            line,
            column,
            key: document.key_at(offset),
            message: e.message().trim().to_string(),
        }]
    })?;
    let mistakes = validate::validate(&estate);
    if mistakes.is_empty() {
        return Ok(estate);
    }
    Err(mistakes
        .into_iter()
        .map(|m| {
            let offset = document.offset_of(&m.key);
            let (line, column) = locate::line_column(text, offset);
            ConfigError {
                file: file.to_path_buf(),
                line,
                column,
                key: m.key,
                message: m.message,
            }
        })
        .collect())
}

/// Renders a list of errors one per line, for the terminal.
pub fn report(errors: &[ConfigError]) -> String {
    let mut out = format!(
        "the configuration has {} mistake{}:\n",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str(&format!("  {e}\n"));
    }
    out
}

#[cfg(test)]
mod tests;
