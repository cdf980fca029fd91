//! Deterministic formatting of numbers and times: the same output on server and browser, with
//! no clock read, so hydration never mismatches.

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, (rem % 3600) / 60, rem % 60);
    }
    // Digit by digit: a page shows one of these per host and row, and `format!` with padding
    // was a tenth of the topology page's build.
    let mut out = String::with_capacity(23);
    let fields = [(y / 100) as u32, (y % 100) as u32, m, d, (rem / 3600) as u32, ((rem % 3600) / 60) as u32, (rem % 60) as u32];
    for (n, after) in fields.into_iter().zip(["", "-", "-", " ", ":", ":", " "]) {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
        out.push_str(after);
    }
    out.push_str("UTC");
    out
}

/// Formats an optional timestamp, saying `never` when absent.
pub fn utc_or_never(ms: Option<i64>) -> String {
    ms.map(utc).unwrap_or_else(|| "never".to_string())
}

/// `flapping: 6 changes since 22:05:03 UTC`, for a resource that keeps changing state.
pub fn flapping(f: &crate::model::Flapping) -> String {
    format!("flapping: {} changes since {}", f.changes, utc(f.since_ms))
}

/// Formats a latency in milliseconds with a unit, `—` when absent.
///
/// Integer arithmetic instead of `{:.1}`: the same digits everywhere, and it keeps core's
/// float-formatting machinery out of the wasm bundle.
pub fn latency(ms: Option<f64>) -> String {
    let Some(v) = ms.filter(|v| v.is_finite() && *v >= 0.0) else {
        return "—".to_string();
    };
    let tenths = (v * 10.0).round() as u64;
    if tenths < 100 {
        format!("{}.{} ms", tenths / 10, tenths % 10)
    } else {
        format!("{} ms", (v.round()) as u64)
    }
}

/// Formats a byte count with a binary unit: `0 B`, `512 B`, `1.5 KiB`, `16.0 MiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    let sign = if n < 0 { "-" } else { "" };
    let n = n.unsigned_abs();
    if n < 1024 {
        return format!("{sign}{n} B");
    }
    let mut unit = 0;
    let mut scaled = n;
    while scaled >= 1024 * 1024 && unit + 1 < UNITS.len() {
        scaled /= 1024;
        unit += 1;
    }
    // `scaled` is in units of UNITS[unit] times 1024; tenths without floats.
    let tenths = (scaled * 10 + 512) / 1024;
    format!("{sign}{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

/// Formats a duration in seconds: `0.4 s`, `12 s`, `3 min 20 s`, `2 h 5 min`; `—` when absent.
pub fn seconds(s: Option<f64>) -> String {
    let Some(v) = s.filter(|v| v.is_finite() && *v >= 0.0) else {
        return "—".to_string();
    };
    let tenths = (v * 10.0).round() as u64;
    if tenths < 100 {
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let whole = v.round() as u64;
    match whole {
        0..=119 => format!("{whole} s"),
        120..=7199 => format!("{} min {} s", whole / 60, whole % 60),
        _ => format!("{} h {} min", whole / 3600, (whole % 3600) / 60),
    }
}

/// Formats a rate per second with one decimal: `2.5 /s`; `—` when absent.
pub fn rate(r: Option<f64>) -> String {
    let Some(v) = r.filter(|v| v.is_finite()) else {
        return "—".to_string();
    };
    let tenths = (v.abs() * 10.0).round() as u64;
    let sign = if v < 0.0 && tenths > 0 { "-" } else { "" };
    format!("{sign}{}.{} /s", tenths / 10, tenths % 10)
}

/// Formats a count that arrives as a float (Prometheus gauges) as a whole number.
pub fn count(n: Option<f64>) -> String {
    match n.filter(|v| v.is_finite()) {
        Some(v) => format!("{}", v.round() as i64),
        None => "—".to_string(),
    }
}

/// A duration typed in a form, in milliseconds: `30m`, `2h`, `1d` (a bare number is minutes).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = text.find(|c: char| !c.is_ascii_digit()).map_or((text, "m"), |at| text.split_at(at));
    let n: i64 = number.parse().map_err(|_| format!("{text:?} is not a duration; write e.g. 30m, 2h or 1d"))?;
    let per = match unit.trim() {
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?}: the unit is m, h or d")),
    };
    n.checked_mul(per).ok_or_else(|| format!("{text:?} is far too long"))
}

/// The window a form asks for, `from` and `to` as [`parse_utc`] reads them: the last 3 hours
/// to `now_ms` when both are empty, 3 hours from `from` when only `to` is; at most 7 days.
pub fn window(from: &str, to: &str, now_ms: i64) -> Result<(i64, i64), String> {
    const HOURS_3: i64 = 3 * 3_600_000;
    let read =
        |name: &str, text: &str| parse_utc(text).ok_or_else(|| format!("{name}: {text:?} is not a UTC time; write e.g. 2026-12-07 02:00"));
    let (from, to) = (from.trim(), to.trim());
    let (from_ms, to_ms) = match (from.is_empty(), to.is_empty()) {
        (true, true) => (now_ms - HOURS_3, now_ms),
        (false, true) => {
            let f = read("from", from)?;
            (f, (f + HOURS_3).min(now_ms.max(f + 60_000)))
        }
        (true, false) => {
            let t = read("to", to)?;
            (t - HOURS_3, t)
        }
        (false, false) => (read("from", from)?, read("to", to)?),
    };
    if to_ms <= from_ms {
        return Err("the window's end must come after its start".into());
    }
    if to_ms - from_ms > 7 * 86_400_000 {
        return Err("a window is at most 7 days; narrow it".into());
    }
    Ok((from_ms, to_ms))
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
/// Parses a UTC time as a `datetime-local` field sends it (`YYYY-MM-DDTHH:MM`, optionally
/// `:SS`; a space instead of `T` too) into unix milliseconds; None when it is not one.
pub fn parse_utc(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches(" UTC").trim_end_matches('Z');
    let (date, time) = text.split_once(['T', ' '])?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (h, min) = (t.next()??, t.next()??);
    let s = t.next().flatten().unwrap_or(0);
    // Years 1..=9999, as people write them: a huge year would overflow the milliseconds.
    if !(1..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || h > 23
        || min > 59
        || s > 59
        || h < 0
        || min < 0
        || s < 0
    {
        return None;
    }
    let days = days_from_civil(y, m as u32, day as u32);
    // Reject dates that do not exist (31 February) by converting back.
    if civil_from_days(days) != (y, m as u32, day as u32) {
        return None;
    }
    Some(((days * 86_400) + h * 3600 + min * 60 + s) * 1000)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (from, to) → the window, or an error
    #[test]
    fn a_window_defaults_to_the_last_three_hours_and_is_checked() {
        let now = 1_800_000_000_000; // 2027-01-15 08:00 UTC
        let h = 3_600_000;
        #[rustfmt::skip]
        let table: Vec<(&str, &str, Result<(i64, i64), &str>)> = vec![
            ("", "", Ok((now - 3 * h, now))),
            ("2027-01-15T06:00", "", Ok((now - 2 * h, now))),
            ("2027-01-15 01:00", "", Ok((now - 7 * h, now - 4 * h))),
            ("", "2027-01-15T07:00", Ok((now - 4 * h, now - h))),
            ("2027-01-15T06:00", "2027-01-15T07:30", Ok((now - 2 * h, now - h / 2))),
            ("2027-01-15T07:00", "2027-01-15T06:00", Err("the window's end must come after its start")),
            ("2027-01-01T07:00", "2027-01-15T06:00", Err("a window is at most 7 days; narrow it")),
            ("yesterday", "", Err("from: \"yesterday\" is not a UTC time; write e.g. 2026-12-07 02:00")),
        ];
        for (from, to, want) in table {
            assert_eq!(window(from, to, now), want.map_err(str::to_string), "{from:?} {to:?}");
        }
    }

    #[test]
    fn parses_what_a_datetime_local_field_sends() {
        let cases = [
            ("1970-01-01T00:00", Some(0)),
            ("2026-11-26T18:30", Some(1_795_717_800_000)),
            ("2026-11-26 18:30:15", Some(1_795_717_815_000)),
            ("2024-02-29T00:00", Some(1_709_164_800_000)),
            ("2025-02-29T00:00", None),
            ("2026-13-01T00:00", None),
            ("2026-11-26T24:00", None),
            ("tomorrow", None),
            ("", None),
            // Years that would overflow the milliseconds (a panic in a debug build).
            ("9223372036854775807-01-01T00:00", None),
            ("99999999999-01-01T00:00", None),
            ("0000-01-01T00:00", None),
            ("9999-12-31T23:59", Some(253_402_300_740_000)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_utc(text), want, "{text}");
        }
        // It is the inverse of `utc`.
        assert_eq!(utc(parse_utc("2026-11-26T18:30:15").unwrap()), "2026-11-26 18:30:15 UTC");
    }

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01 00:00:00 UTC"),
            (951_782_400_000, "2000-02-29 00:00:00 UTC"),
            (1_795_600_000_123, "2026-11-25 09:46:40 UTC"),
            (-1_000, "1969-12-31 23:59:59 UTC"),
            // Past year 9999 the digit-by-digit path gives way to the general one.
            (253_402_300_800_000, "10000-01-01 00:00:00 UTC"),
        ];
        for (ms, want) in cases {
            assert_eq!(utc(ms), want, "utc({ms})");
        }
    }

    #[test]
    fn formats_bytes_seconds_and_rates_with_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(16 * 1024 * 1024), "16.0 MiB");
        assert_eq!(bytes(-2048), "-2.0 KiB");
        assert_eq!(seconds(None), "—");
        assert_eq!(seconds(Some(0.04)), "0.0 s");
        assert_eq!(seconds(Some(9.96)), "10 s");
        assert_eq!(seconds(Some(200.0)), "3 min 20 s");
        assert_eq!(seconds(Some(7500.0)), "2 h 5 min");
        assert_eq!(rate(Some(2.54)), "2.5 /s");
        assert_eq!(rate(Some(-0.01)), "0.0 /s");
        assert_eq!(rate(Some(-3.0)), "-3.0 /s");
        assert_eq!(count(Some(41.6)), "42");
        assert_eq!(count(None), "—");
    }

    #[test]
    fn formats_latency_with_units() {
        assert_eq!(latency(None), "—");
        assert_eq!(latency(Some(1.234)), "1.2 ms");
        assert_eq!(latency(Some(250.4)), "250 ms");
        assert_eq!(latency(Some(9.96)), "10 ms");
        assert_eq!(latency(Some(0.04)), "0.0 ms");
        assert_eq!(latency(Some(f64::NAN)), "—");
    }
}
