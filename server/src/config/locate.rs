//! Maps key paths to byte offsets and byte offsets to key paths, using toml_edit's spans.

use super::{KeyPath, Segment};
use toml_edit::{Item, Table, Value};

/// A parsed TOML document that remembers where everything is.
pub(super) struct Document(toml_edit::Document<String>);

impl Document {
    /// Parses `text`, or returns the byte offset and message of the syntax error.
    pub(super) fn parse(text: &str) -> Result<Self, (usize, String)> {
        // The `toml` crate judges the syntax first: toml_edit 0.23 panics on some malformed
        // text ("all items have spans", found by fuzz/ and kept as a regression test), and
        // only ever sees text that is valid TOML. A panic there anyway is a mistake, not a crash.
        if let Err(e) = toml::from_str::<toml::Table>(text) {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            return Err((offset, e.message().trim().to_string()));
        }
        let parsed = std::panic::catch_unwind(|| toml_edit::Document::parse(text.to_string()));
        match parsed {
            Ok(parsed) => parsed.map(Document).map_err(|e| {
                let offset = e.span().map(|s| s.start).unwrap_or(0);
                (offset, e.message().trim().to_string())
            }),
            Err(_) => Err((0, "the file could not be read as TOML (toml_edit failed on it); check its syntax".into())),
        }
    }

    /// Byte offset of the deepest existing part of `path` (the key if present, else its parent).
    pub(super) fn offset_of(&self, path: &KeyPath) -> usize {
        let mut best = 0;
        let mut item: Option<&Item> = None;
        let mut table: Option<&Table> = Some(self.0.as_table());
        // An inline table reached through an array (`replicas = [{ host = …, dsn = … }]`).
        let mut inline: Option<&toml_edit::InlineTable> = None;
        for segment in &path.0 {
            match (segment, item, table) {
                (Segment::Key(k), _, Some(t)) => match t.get_key_value(k) {
                    Some((key, value)) => {
                        best = key.span().or_else(|| value.span()).map_or(best, |s| s.start);
                        item = Some(value);
                        table = value.as_table();
                        inline = None;
                    }
                    None => break,
                },
                (Segment::Key(k), Some(Item::Value(Value::InlineTable(t))), None) => match t.get_key_value(k) {
                    Some((key, value)) => {
                        best = key.span().or_else(|| value.span()).map_or(best, |s| s.start);
                        item = Some(value);
                        table = value.as_table();
                    }
                    None => break,
                },
                (Segment::Key(k), None, None) => match inline.and_then(|t| t.get_key_value(k)) {
                    Some((key, value)) => {
                        best = key.span().or_else(|| value.span()).map_or(best, |s| s.start);
                        inline = value.as_inline_table();
                    }
                    None => break,
                },
                (Segment::Index(n), Some(Item::ArrayOfTables(a)), _) => match a.get(*n) {
                    Some(t) => {
                        best = t.span().map_or(best, |s| s.start);
                        table = Some(t);
                        item = None;
                    }
                    None => break,
                },
                (Segment::Index(n), Some(Item::Value(Value::Array(a))), _) => match a.get(*n) {
                    Some(v) => {
                        best = v.span().map_or(best, |s| s.start);
                        table = None;
                        item = None;
                        inline = v.as_inline_table();
                    }
                    None => break,
                },
                _ => break,
            }
        }
        best
    }

    /// The bytes to blank so that `path` is gone from the text while every other offset stays
    /// put: a key with its value, or a whole table with its sub-tables.
    pub(super) fn removal_range(&self, path: &KeyPath) -> Option<std::ops::Range<usize>> {
        let (last, parent) = path.0.split_last()?;
        let mut item: Option<&Item> = None;
        let mut table: Option<&Table> = Some(self.0.as_table());
        for segment in parent {
            match (segment, item) {
                (Segment::Key(k), _) => {
                    let found = table?.get(k)?;
                    item = Some(found);
                    table = found.as_table();
                }
                (Segment::Index(n), Some(Item::ArrayOfTables(a))) => {
                    table = Some(a.get(*n)?);
                    item = None;
                }
                _ => return None,
            }
        }
        match (last, item) {
            (Segment::Index(_), Some(Item::ArrayOfTables(_))) => self.block_range(path),
            (Segment::Key(k), _) => {
                let t = table?;
                let (key, value) = t.get_key_value(k)?;
                match value {
                    Item::Table(_) | Item::ArrayOfTables(_) => self.block_range(path),
                    _ => Some(key.span()?.start..value.span()?.end),
                }
            }
            _ => None,
        }
    }

    /// The `name` a table in an array declares, if any: `hosts[3]` → `api1`.
    pub(super) fn name_of(&self, path: &KeyPath) -> Option<String> {
        let (Segment::Index(n), array) = path.0.split_last()? else { return None };
        let mut table = self.0.as_table();
        let mut found: Option<&Item> = None;
        for segment in array {
            match segment {
                Segment::Key(k) => {
                    let item = table.get(k)?;
                    found = Some(item);
                    if let Some(t) = item.as_table() {
                        table = t;
                    }
                }
                Segment::Index(i) => table = found?.as_array_of_tables()?.get(*i)?,
            }
        }
        let element = found?.as_array_of_tables()?.get(*n)?;
        element.get("name")?.as_str().map(str::to_string)
    }

    /// From a table's header to the next header that is not inside it (or the end).
    pub(super) fn block_range(&self, path: &KeyPath) -> Option<std::ops::Range<usize>> {
        let mut headers = Vec::new();
        collect_headers(self.0.as_table(), &mut KeyPath::root(), &mut headers);
        let start = headers.iter().find(|(p, _)| p == path)?.1;
        let inside = |p: &KeyPath| p.0.len() >= path.0.len() && p.0[..path.0.len()] == path.0[..];
        let end = headers.iter().filter(|(p, at)| *at > start && !inside(p)).map(|(_, at)| *at).min().unwrap_or(self.0.raw().len());
        Some(start..end)
    }

    /// The deepest key path whose key or value span contains `offset`.
    pub(super) fn key_at(&self, offset: usize) -> KeyPath {
        let mut path = KeyPath::root();
        descend_table(self.0.as_table(), offset, &mut path);
        path
    }
}

/// Every table header in the document: `[table]` and each `[[array]]` element, with its offset.
fn collect_headers(table: &Table, path: &mut KeyPath, out: &mut Vec<(KeyPath, usize)>) {
    for (name, item) in table.iter() {
        path.0.push(Segment::Key(name.to_string()));
        match item {
            Item::Table(t) => {
                if let Some(span) = t.span() {
                    out.push((path.clone(), span.start));
                }
                collect_headers(t, path, out);
            }
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    path.0.push(Segment::Index(i));
                    if let Some(span) = t.span() {
                        out.push((path.clone(), span.start));
                    }
                    collect_headers(t, path, out);
                    path.0.pop();
                }
            }
            _ => {}
        }
        path.0.pop();
    }
}

fn contains(span: Option<&std::ops::Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset <= s.end)
}

fn descend_table(table: &Table, offset: usize, path: &mut KeyPath) {
    for (name, item) in table.iter() {
        let key_span = table.key(name).and_then(|k| k.span());
        let hit = contains(key_span.as_ref(), offset)
            || contains(item.span().as_ref(), offset)
            || matches!(item, Item::ArrayOfTables(_) | Item::Table(_));
        if !hit {
            continue;
        }
        let before = path.0.len();
        path.0.push(Segment::Key(name.to_string()));
        if descend_item(item, offset, path) || contains(key_span.as_ref(), offset) || contains(item.span().as_ref(), offset) {
            return;
        }
        path.0.truncate(before);
    }
}

/// Returns true when something inside `item` contains `offset` (and extends `path` to it).
fn descend_item(item: &Item, offset: usize, path: &mut KeyPath) -> bool {
    match item {
        Item::Table(t) => {
            let before = path.0.len();
            descend_table(t, offset, path);
            path.0.len() > before || contains(t.span().as_ref(), offset)
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                if contains(t.span().as_ref(), offset) {
                    path.0.push(Segment::Index(i));
                    descend_table(t, offset, path);
                    return true;
                }
            }
            // The span of a table in an array may end before its last key's value; search keys.
            for (i, t) in a.iter().enumerate() {
                let before = path.0.len();
                path.0.push(Segment::Index(i));
                descend_table(t, offset, path);
                if path.0.len() > before + 1 {
                    return true;
                }
                path.0.truncate(before);
            }
            false
        }
        Item::Value(Value::InlineTable(t)) => {
            for (name, value) in t.iter() {
                let key_span = t.key(name).and_then(|k| k.span());
                if contains(key_span.as_ref(), offset) || contains(value.span().as_ref(), offset) {
                    path.0.push(Segment::Key(name.to_string()));
                    return true;
                }
            }
            false
        }
        Item::Value(Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                if contains(v.span().as_ref(), offset) {
                    path.0.push(Segment::Index(i));
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

/// 1-based line and column of a byte offset.
pub(super) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
