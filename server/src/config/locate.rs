//! Maps key paths to byte offsets and byte offsets to key paths, using toml_edit's spans.

use super::{KeyPath, Segment};
use toml_edit::{Item, Table, Value};

/// A parsed TOML document that remembers where everything is.
pub struct Document(toml_edit::Document<String>);

impl Document {
    /// Parses `text`, or returns the byte offset and message of the syntax error.
    pub fn parse(text: &str) -> Result<Self, (usize, String)> {
        toml_edit::Document::parse(text.to_string())
            .map(Document)
            .map_err(|e| {
                let offset = e.span().map(|s| s.start).unwrap_or(0);
                (offset, e.message().trim().to_string())
            })
    }

    /// Byte offset of the deepest existing part of `path` (the key if present, else its parent).
    pub fn offset_of(&self, path: &KeyPath) -> usize {
        let mut best = 0;
        let mut item: Option<&Item> = None;
        let mut table: Option<&Table> = Some(self.0.as_table());
        for segment in &path.0 {
            match (segment, item, table) {
                (Segment::Key(k), _, Some(t)) => match t.get_key_value(k) {
                    Some((key, value)) => {
                        best = key.span().or_else(|| value.span()).map_or(best, |s| s.start);
                        item = Some(value);
                        table = value.as_table();
                    }
                    None => break,
                },
                (Segment::Key(k), Some(Item::Value(Value::InlineTable(t))), None) => {
                    match t.get_key_value(k) {
                        Some((key, value)) => {
                            best = key.span().or_else(|| value.span()).map_or(best, |s| s.start);
                            item = Some(value);
                            table = value.as_table();
                        }
                        None => break,
                    }
                }
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
                        if let Value::InlineTable(_) = v {
                            // Inline tables inside arrays are rare in our config; stop here.
                        }
                    }
                    None => break,
                },
                _ => break,
            }
        }
        best
    }

    /// The deepest key path whose key or value span contains `offset`.
    pub fn key_at(&self, offset: usize) -> KeyPath {
        let mut path = KeyPath::root();
        descend_table(self.0.as_table(), offset, &mut path);
        path
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
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
