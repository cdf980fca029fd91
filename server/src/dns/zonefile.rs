//! Imports an RFC 1035 master file into declared records (`crowsnest import-zone FILE`).
//!
//! Supports `$ORIGIN`, `$TTL`, comments, parentheses across lines, quoted strings, `@`, blank
//! owners (the previous owner) and relative names. Record types Crowsnest compares (A, AAAA,
//! CNAME, MX, TXT, NS) become records; the SOA gives the serial; other types are listed as
//! skipped. Every mistake names its line.

use crate::config::validate_value;
use crate::config::RecordKind;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A mistake in a zone file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ZoneFileError {
    /// 1-based line where the entry starts.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One imported record set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Owner relative to the origin (`@` for the apex), or absolute with a final dot.
    pub name: String,
    /// Type.
    pub kind: RecordKind,
    /// TTL in seconds (the smallest of the set's).
    pub ttl: u32,
    /// Values in presentation form.
    pub values: Vec<String>,
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// The origin, without the final dot.
    pub origin: String,
    /// SOA serial, when the file has an SOA.
    pub serial: Option<u32>,
    /// Record sets in file order of first appearance.
    pub records: Vec<Imported>,
    /// Lines skipped because their type is not compared, e.g. `line 9: SRV`.
    pub skipped: Vec<String>,
}

/// Splits the file into entries: (first line, tokens), joining parenthesised continuations.
fn entries(text: &str) -> Result<Vec<(usize, bool, Vec<String>)>, ZoneFileError> {
    let mut out = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    let mut start_line = 0;
    let mut indented = false;
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if depth == 0 {
            start_line = number;
            indented = line.starts_with([' ', '\t']);
        }
        let mut chars = line.chars().peekable();
        let mut current = String::new();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' if quoted => {
                    if let Some(next) = chars.next() {
                        current.push(next);
                    }
                }
                '"' => {
                    if quoted {
                        tokens.push(std::mem::take(&mut current));
                        quoted = false;
                    } else {
                        quoted = true;
                    }
                }
                _ if quoted => current.push(c),
                ';' => break,
                '(' => {
                    depth += 1;
                }
                ')' => {
                    if depth == 0 {
                        return Err(ZoneFileError { line: number, message: "')' without a matching '('".into() });
                    }
                    depth -= 1;
                }
                c if c.is_whitespace() => {
                    if !current.is_empty() {
                        tokens.push(std::mem::take(&mut current));
                    }
                }
                c => current.push(c),
            }
        }
        if quoted {
            return Err(ZoneFileError { line: number, message: "a quoted string is not closed on this line".into() });
        }
        if !current.is_empty() {
            tokens.push(current);
        }
        if depth == 0 && !tokens.is_empty() {
            out.push((start_line, indented, std::mem::take(&mut tokens)));
        }
    }
    if depth > 0 {
        return Err(ZoneFileError { line: start_line, message: "'(' is never closed".into() });
    }
    Ok(out)
}

fn absolute(name: &str, origin: &str) -> String {
    if name == "@" {
        format!("{origin}.")
    } else if name.ends_with('.') {
        name.to_ascii_lowercase()
    } else {
        format!("{}.{origin}.", name.to_ascii_lowercase())
    }
}

fn relative(absolute: &str, origin: &str) -> String {
    let apex = format!("{origin}.");
    if absolute == apex {
        "@".to_string()
    } else if let Some(prefix) = absolute.strip_suffix(&format!(".{apex}")) {
        prefix.to_string()
    } else {
        absolute.to_string()
    }
}

fn kind_of(token: &str) -> Option<RecordKind> {
    Some(match token.to_ascii_uppercase().as_str() {
        "A" => RecordKind::A,
        "AAAA" => RecordKind::Aaaa,
        "CNAME" => RecordKind::Cname,
        "MX" => RecordKind::Mx,
        "TXT" => RecordKind::Txt,
        "NS" => RecordKind::Ns,
        _ => return None,
    })
}

/// A type mnemonic: a letter, then letters or digits (A, AAAA, TYPE65534, …).
fn is_type_word(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) && token.chars().all(|c| c.is_ascii_alphanumeric()) && token.len() <= 10
}

/// Parses `text`; `origin` is used until a `$ORIGIN` sets it.
pub fn parse(text: &str, origin: Option<&str>) -> Result<Zone, ZoneFileError> {
    let mut origin: Option<String> = origin.map(|o| o.trim_end_matches('.').to_ascii_lowercase());
    let mut default_ttl: Option<u32> = None;
    let mut last_owner: Option<String> = None;
    let mut serial = None;
    let mut sets: BTreeMap<(String, &'static str), (usize, RecordKind, u32, Vec<String>)> = BTreeMap::new();
    let mut skipped = Vec::new();
    for (line, indented, tokens) in entries(text)? {
        let err = |message: String| ZoneFileError { line, message };
        match tokens[0].to_ascii_uppercase().as_str() {
            "$ORIGIN" => {
                let o = tokens.get(1).ok_or_else(|| err("$ORIGIN needs a name".into()))?;
                origin = Some(o.trim_end_matches('.').to_ascii_lowercase());
                continue;
            }
            "$TTL" => {
                let t = tokens.get(1).ok_or_else(|| err("$TTL needs a number of seconds".into()))?;
                default_ttl = Some(t.parse().map_err(|_| err(format!("$TTL {t:?} is not a number of seconds")))?);
                continue;
            }
            d if d.starts_with('$') => return Err(err(format!("directive {d} is not supported; use $ORIGIN and $TTL"))),
            _ => {}
        }
        let origin_now = origin.clone().ok_or_else(|| err("no origin: add `$ORIGIN example.com.` or pass --origin".into()))?;
        let mut rest: &[String] = &tokens;
        let owner = if indented {
            last_owner.clone().ok_or_else(|| err("the first record has no owner name".into()))?
        } else {
            let o = absolute(&rest[0], &origin_now);
            rest = &rest[1..];
            o
        };
        last_owner = Some(owner.clone());
        let mut ttl = default_ttl;
        // TTL and class may come in either order before the type.
        for _ in 0..2 {
            match rest.first() {
                Some(t) if t.chars().all(|c| c.is_ascii_digit()) => {
                    ttl = Some(t.parse().map_err(|_| err(format!("TTL {t:?} is too large")))?);
                    rest = &rest[1..];
                }
                Some(c) if c.eq_ignore_ascii_case("IN") => rest = &rest[1..],
                Some(c) if ["CH", "HS", "CS"].contains(&c.to_ascii_uppercase().as_str()) => {
                    return Err(err(format!("class {c} is not supported; only IN")))
                }
                _ => {}
            }
        }
        let Some(type_token) = rest.first() else {
            return Err(err(format!("no record type after {owner}")));
        };
        if !is_type_word(type_token) {
            return Err(err(format!("{type_token:?} is not a record type")));
        }
        let data = &rest[1..];
        if type_token.eq_ignore_ascii_case("SOA") {
            let s = data.get(2).ok_or_else(|| err("SOA needs MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM".into()))?;
            serial = Some(s.parse().map_err(|_| err(format!("SOA serial {s:?} is not a number")))?);
            if default_ttl.is_none() {
                default_ttl = data.get(6).and_then(|m| m.parse().ok());
            }
            continue;
        }
        let Some(kind) = kind_of(type_token) else {
            skipped.push(format!("line {line}: {} {}", relative(&owner, &origin_now), type_token.to_ascii_uppercase()));
            continue;
        };
        let ttl = ttl.ok_or_else(|| err("no TTL: give one on the record or add `$TTL 3600`".into()))?;
        let value = match kind {
            RecordKind::Txt => data.join(""),
            RecordKind::Cname | RecordKind::Ns => {
                let [target] = data else { return Err(err(format!("{} needs exactly one name", kind.as_str()))) };
                absolute(target, &origin_now)
            }
            RecordKind::Mx => {
                let [pref, host] = data else { return Err(err("MX needs PREFERENCE HOST".into())) };
                format!("{pref} {}", absolute(host, &origin_now))
            }
            RecordKind::A | RecordKind::Aaaa => {
                let [address] = data else { return Err(err(format!("{} needs exactly one address", kind.as_str()))) };
                address.clone()
            }
        };
        validate_value(kind, &value).map_err(err)?;
        let order = sets.len();
        let entry = sets.entry((owner, kind.as_str())).or_insert((order, kind, ttl, Vec::new()));
        entry.2 = entry.2.min(ttl);
        if !entry.3.contains(&value) {
            entry.3.push(value);
        }
    }
    let origin = origin.ok_or(ZoneFileError { line: 1, message: "the file is empty and no origin was given".into() })?;
    let mut records: Vec<(usize, Imported)> = sets
        .into_iter()
        .map(|((owner, _), (order, kind, ttl, values))| (order, Imported { name: relative(&owner, &origin), kind, ttl, values }))
        .collect();
    records.sort_by_key(|(order, _)| *order);
    Ok(Zone { origin, serial, records: records.into_iter().map(|(_, r)| r).collect(), skipped })
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// The zone as a `[zone]` table with `[[zone.records]]`, ready to paste into the config.
pub fn to_toml(zone: &Zone) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "[zone]\norigin = {}", quoted(&zone.origin));
    if let Some(serial) = zone.serial {
        let _ = writeln!(out, "serial = {serial}");
    }
    for r in &zone.records {
        let values: Vec<String> = r.values.iter().map(|v| quoted(v)).collect();
        let _ = writeln!(
            out,
            "\n[[zone.records]]\nname = {}\ntype = \"{}\"\nttl = {}\nvalues = [{}]",
            quoted(&r.name),
            r.kind.as_str(),
            r.ttl,
            values.join(", ")
        );
    }
    for s in &zone.skipped {
        let _ = writeln!(out, "# skipped {s}: type not compared by Crowsnest");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: &str = r#"$ORIGIN example.test.
$TTL 3600
@   IN SOA ns1 hostmaster ( 2026112501 ; serial
            3600 600 86400 60 )
    IN NS ns1
ns1      IN A    127.0.0.1
www   60 IN A    127.0.1.2
         60 IN A 127.0.1.3   ; second address, blank owner
api   IN 60 A    127.0.1.1
shop     CNAME   www
@        MX 10   mail.example.test.
@        TXT     "v=spf1 -all" "; not a comment"
_sip._tcp SRV 10 5 5060 sip
"#;

    #[test]
    fn imports_a_realistic_zone() {
        let zone = parse(ZONE, None).unwrap();
        assert_eq!(zone.origin, "example.test");
        assert_eq!(zone.serial, Some(2026112501));
        let find = |name: &str, kind| zone.records.iter().find(|r| r.name == name && r.kind == kind).cloned().unwrap();
        assert_eq!(find("@", RecordKind::Ns).values, ["ns1.example.test."]);
        let www = find("www", RecordKind::A);
        assert_eq!((www.ttl, www.values.clone()), (60, vec!["127.0.1.2".to_string(), "127.0.1.3".to_string()]));
        assert_eq!(find("api", RecordKind::A).ttl, 60);
        assert_eq!(find("ns1", RecordKind::A).ttl, 3600);
        assert_eq!(find("shop", RecordKind::Cname).values, ["www.example.test."]);
        assert_eq!(find("@", RecordKind::Mx).values, ["10 mail.example.test."]);
        assert_eq!(find("@", RecordKind::Txt).values, ["v=spf1 -all; not a comment"]);
        assert_eq!(zone.skipped, ["line 13: _sip._tcp SRV"]);

        // The TOML it prints is a valid zone section of a config.
        let toml = to_toml(&zone);
        let parsed: toml::Table = toml::from_str(&toml).unwrap();
        assert_eq!(parsed["zone"]["records"].as_array().unwrap().len(), zone.records.len());
    }

    #[test]
    fn mistakes_name_their_line() {
        let cases = [
            ("www 60 IN A 127.0.0.1\n", 1, "no origin"),
            ("$ORIGIN example.test.\nwww IN A 127.0.0.1\n", 2, "no TTL"),
            ("$ORIGIN example.test.\n$TTL 60\n\nwww IN A 127.0.0.300\n", 4, "not an IPv4 address"),
            ("$ORIGIN example.test.\n$TTL 60\nwww IN AAAA 127.0.0.1\n", 3, "not an IPv6 address"),
            ("$ORIGIN example.test.\n$TTL 60\n@ SOA ns1 h ( 1 2 3\n 4 5\n", 3, "never closed"),
            ("$ORIGIN example.test.\n$TTL 60\nwww A 1.2.3.4 )\n", 3, "without a matching"),
            ("$ORIGIN example.test.\n$TTL 60\nwww TXT \"open\n", 3, "not closed"),
            ("$INCLUDE other.zone\n", 1, "not supported"),
            ("$ORIGIN example.test.\n$TTL sixty\n", 2, "not a number"),
            ("$ORIGIN example.test.\n$TTL 60\n  IN A 1.2.3.4\n", 3, "no owner"),
            ("$ORIGIN example.test.\n$TTL 60\nwww IN\n", 3, "no record type"),
            ("$ORIGIN example.test.\n$TTL 60\nwww CH A 1.2.3.4\n", 3, "only IN"),
            ("$ORIGIN example.test.\n$TTL 60\n@ MX mail\n", 3, "PREFERENCE HOST"),
            ("$ORIGIN example.test.\n$TTL 60\nshop CNAME a b\n", 3, "exactly one name"),
        ];
        for (text, line, says) in cases {
            let e = parse(text, None).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn origin_can_come_from_the_command_line() {
        let zone = parse("www 60 IN A 127.0.0.1\n", Some("example.test.")).unwrap();
        assert_eq!(zone.records[0].name, "www");
    }
}
