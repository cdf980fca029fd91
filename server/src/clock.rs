//! The wall clock, read in one place: every status is computed with an explicit `now`, and
//! this is where the real one comes from.

/// Milliseconds since the unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
