//! Deterministic formatting of numbers and times: the same output on server and browser, with
//! no clock read, so hydration never mismatches.

/// Formats unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Formats an optional timestamp, saying `never` when absent.
pub fn utc_or_never(ms: Option<i64>) -> String {
    ms.map(utc).unwrap_or_else(|| "never".to_string())
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

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
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

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01 00:00:00 UTC"),
            (951_782_400_000, "2000-02-29 00:00:00 UTC"),
            (1_795_600_000_123, "2026-11-25 09:46:40 UTC"),
            (-1_000, "1969-12-31 23:59:59 UTC"),
        ];
        for (ms, want) in cases {
            assert_eq!(utc(ms), want, "utc({ms})");
        }
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
