//! Sessions kept in memory in front of the local store, so a logged-in page view costs no
//! database read. Write-through: every save and delete goes to the SQLite store first, then
//! here. This process is the only writer of its local store, so the copy never goes stale;
//! expired records are never served from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// Records kept in memory at most; when full, expired ones go first, then all (they are
/// re-read from the store on demand).
pub const MAX_CACHED: usize = 10_000;

/// A [`SessionStore`] that caches another.
#[derive(Debug, Clone)]
pub struct CachedStore<S> {
    inner: S,
    records: Arc<Mutex<HashMap<Id, Record>>>,
}

impl<S> CachedStore<S> {
    /// Caches `inner`.
    pub fn new(inner: S) -> Self {
        CachedStore { inner, records: Arc::default() }
    }

    fn keep(&self, record: &Record) {
        let Ok(mut records) = self.records.lock() else { return };
        if records.len() >= MAX_CACHED && !records.contains_key(&record.id) {
            let now = OffsetDateTime::now_utc();
            records.retain(|_, r| r.expiry_date > now);
            if records.len() >= MAX_CACHED {
                records.clear();
            }
        }
        records.insert(record.id, record.clone());
    }

    fn forget(&self, id: &Id) {
        if let Ok(mut records) = self.records.lock() {
            records.remove(id);
        }
    }

    /// How many records are held in memory.
    pub fn cached(&self) -> usize {
        self.records.lock().map_or(0, |r| r.len())
    }
}

#[async_trait::async_trait]
impl<S: SessionStore + Clone> SessionStore for CachedStore<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.keep(record);
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.inner.save(record).await?;
        self.keep(record);
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let cached = self.records.lock().ok().and_then(|r| r.get(id).cloned());
        if let Some(record) = cached {
            if record.expiry_date > OffsetDateTime::now_utc() {
                return Ok(Some(record));
            }
            self.forget(id);
            return Ok(None);
        }
        let loaded = self.inner.load(id).await?;
        if let Some(record) = &loaded {
            self.keep(record);
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.inner.delete(id).await?;
        self.forget(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions_sqlx_store::SqliteStore;

    #[tokio::test]
    async fn writes_go_through_and_reads_come_from_memory() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let sqlite = SqliteStore::new(pool);
        sqlite.migrate().await.unwrap();
        let store = CachedStore::new(sqlite.clone());
        let live = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let mut record = Record { id: Id::default(), data: Default::default(), expiry_date: live };
        record.data.insert("user".into(), "alice".into());
        store.create(&mut record).await.unwrap();
        // Written through: the store itself has it.
        assert_eq!(sqlite.load(&record.id).await.unwrap().map(|r| r.data), Some(record.data.clone()));
        assert_eq!(store.load(&record.id).await.unwrap().map(|r| r.data), Some(record.data.clone()));
        assert_eq!(store.cached(), 1);
        // Deleted in both.
        store.delete(&record.id).await.unwrap();
        assert!(store.load(&record.id).await.unwrap().is_none());
        assert!(sqlite.load(&record.id).await.unwrap().is_none());
        // Read from the store on a miss (another cache, same store), then kept.
        let mut other = Record { id: Id::default(), data: Default::default(), expiry_date: live };
        sqlite.create(&mut other).await.unwrap();
        assert!(store.load(&other.id).await.unwrap().is_some());
        assert_eq!(store.cached(), 1);
        // An expired record is never served from memory.
        let expired =
            Record { id: Id::default(), data: Default::default(), expiry_date: OffsetDateTime::now_utc() - time::Duration::seconds(1) };
        store.keep(&expired);
        assert!(store.load(&expired.id).await.unwrap().is_none());
        assert_eq!(store.cached(), 1);
    }

    #[test]
    fn memory_stays_bounded() {
        let store = CachedStore::new(());
        let live = OffsetDateTime::now_utc() + time::Duration::hours(1);
        for i in 0..(MAX_CACHED as i128 + 5) {
            store.keep(&Record { id: Id(i), data: Default::default(), expiry_date: live });
        }
        assert!(store.cached() <= MAX_CACHED);
    }
}
