//! The edge publisher: writes each site's maintenance flag and page where this region's nginx
//! reads them (`deploy/nginx/`), so maintenance is served by the web tier itself, even with the
//! console down.
//!
//! Layout under the edge directory:
//! - `pages/SITE.html`: the rendered maintenance page (always present once published);
//! - `flags/SITE.maintenance`: exists while maintenance is on; nginx answers 503 then;
//! - `flags/SITE.retry-N`: the Retry-After bucket. nginx cannot read a number from a file
//!   without a module, so the config tests for one file per bucket; the seconds until the
//!   expected end are rounded down to the nearest bucket (at least the first).
//!
//! Every write is atomic (temp file, fsync, rename, fsync of the directory), and the page is
//! written before the flag, so nginx never serves a flag without its page.

use app::action::MaintenanceState;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Retry-After values nginx can answer, in seconds (mirrored in `deploy/nginx/crowsnest-site.conf`).
pub const RETRY_BUCKETS: [u64; 10] = [60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400];

/// The page template shipped in `deploy/`.
const TEMPLATE: &str = include_str!("../../../deploy/maintenance.html");

/// Writes flags and pages into one edge directory.
#[derive(Debug, Clone)]
pub struct EdgePublisher {
    dir: PathBuf,
    default_retry_after: u64,
}

/// The Retry-After bucket for a maintenance ending at `end` (or lasting the default) at `now`.
pub fn retry_bucket(end_ms: Option<i64>, default_seconds: u64, now_ms: i64) -> u64 {
    let wanted = end_ms.map_or(default_seconds, |end| ((end - now_ms).max(0) / 1000) as u64);
    RETRY_BUCKETS.iter().copied().rfind(|b| *b <= wanted).unwrap_or(RETRY_BUCKETS[0])
}

/// The maintenance page for `site`.
pub fn render_page(site: &str, m: &MaintenanceState) -> String {
    let end = m
        .expected_end_ms
        .map_or_else(|| "We do not know yet when this will end.".to_string(), |ms| format!("Expected back by {}.", app::format::utc(ms)));
    TEMPLATE
        .replace("{{site}}", &crate::html::escape(site))
        .replace("{{expected_end}}", &crate::html::escape(&end))
        .replace("{{message}}", &crate::html::escape(m.message.as_deref().unwrap_or_default()))
}

/// Writes `bytes` to `path` so a reader sees the old file or the new one, never a part.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("edge")));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl EdgePublisher {
    /// A publisher writing under `dir` (created with mode 0755 so nginx's workers can read it).
    pub fn new(dir: PathBuf, default_retry_after: u64) -> std::io::Result<Self> {
        for sub in ["flags", "pages"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for d in [dir.clone(), dir.join("flags"), dir.join("pages")] {
                std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        Ok(EdgePublisher { dir, default_retry_after })
    }

    /// The directory nginx reads.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The Retry-After bucket `m` is published with at `now_ms`.
    pub fn bucket(&self, m: &MaintenanceState, now_ms: i64) -> u64 {
        retry_bucket(m.expected_end_ms, self.default_retry_after, now_ms)
    }

    /// Publishes `site`'s state: maintenance on with its page, or off.
    pub fn publish(&self, site: &str, state: &MaintenanceState, now_ms: i64) -> std::io::Result<()> {
        let flags = self.dir.join("flags");
        let flag = flags.join(format!("{site}.maintenance"));
        match state.on.then_some(state) {
            Some(m) => {
                write_atomically(&self.dir.join("pages").join(format!("{site}.html")), render_page(site, m).as_bytes())?;
                let bucket = retry_bucket(m.expected_end_ms, self.default_retry_after, now_ms);
                write_atomically(&flags.join(format!("{site}.retry-{bucket}")), b"")?;
                for b in RETRY_BUCKETS.iter().filter(|b| **b != bucket) {
                    remove_if_present(&flags.join(format!("{site}.retry-{b}")))?;
                }
                write_atomically(&flag, format!("{bucket}\n").as_bytes())
            }
            None => {
                remove_if_present(&flag)?;
                for b in RETRY_BUCKETS {
                    remove_if_present(&flags.join(format!("{site}.retry-{b}")))?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_down_to_a_bucket() {
        let now = 1_000_000;
        // (expected end, default, bucket)
        let table = [
            (None, 300, 300),
            (None, 250, 120),
            (Some(now + 45_000), 300, 60),
            (Some(now - 5_000), 300, 60),
            (Some(now + 3_599_000), 300, 1800),
            (Some(now + 3_600_000), 300, 3600),
            (Some(now + 30 * 86_400_000), 300, 86400),
        ];
        for (end, default, want) in table {
            assert_eq!(retry_bucket(end, default, now), want, "{end:?}");
        }
    }

    #[test]
    fn the_page_escapes_the_message_and_publishing_is_reversible() {
        let dir = tempfile::tempdir().unwrap();
        let edge = EdgePublisher::new(dir.path().join("edge"), 300).unwrap();
        let m = MaintenanceState { on: true, message: Some("<script>alert('x')</script> & more".into()), expected_end_ms: None };
        edge.publish("web", &m, 0).unwrap();
        let page = std::fs::read_to_string(dir.path().join("edge/pages/web.html")).unwrap();
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"), "{page}");
        assert!(!page.contains("<script>"));
        assert!(page.contains("data-crowsnest-maintenance=\"web\""));
        assert!(dir.path().join("edge/flags/web.maintenance").exists());
        assert!(dir.path().join("edge/flags/web.retry-300").exists());
        // A new end moves the bucket; the old bucket file goes.
        edge.publish("web", &MaintenanceState { expected_end_ms: Some(7_200_000), ..m }, 0).unwrap();
        assert!(dir.path().join("edge/flags/web.retry-7200").exists());
        assert!(!dir.path().join("edge/flags/web.retry-300").exists());
        edge.publish("web", &MaintenanceState::default(), 0).unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path().join("edge/flags")).unwrap().collect();
        assert!(left.is_empty(), "off removes every flag: {left:?}");
    }
}
