//! The control store behaves the same on SQLite and on PostgreSQL (the machine's server at
//! `CROWSNEST_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/postgres`; each test makes
//! and drops its own database).

use crowsnest::store::{ControlStore, DesiredRecord, NewAuditEntry, StoreError};

fn pg_admin_url() -> String {
    std::env::var("CROWSNEST_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database, dropped when the guard is.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(tag: &str) -> PgDatabase {
        use sqlx::Connection;
        let admin = pg_admin_url();
        let name = format!("crowsnest_test_{tag}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        PgDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }

    async fn drop_now(self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

fn entry(n: i64, action: &str) -> NewAuditEntry {
    NewAuditEntry {
        at_ms: 1_795_600_000_000 + n,
        actor: "alice".into(),
        action: action.into(),
        target: "web".into(),
        reason: format!("reason {n}: it's \"quoted\""),
    }
}

/// The behaviour both backends must share.
async fn exercise(store: &ControlStore) {
    // Users mirror the config.
    let users = vec![
        ("alice".to_string(), "oncall".to_string(), "$argon2id$a".to_string()),
        ("bob".to_string(), "viewer".to_string(), "$argon2id$b".to_string()),
    ];
    store.sync_users(&users, 1).await.unwrap();
    store.sync_users(&users[..1], 2).await.unwrap();
    assert_eq!(store.user("alice").await.unwrap(), Some(("oncall".into(), "$argon2id$a".into())));
    assert_eq!(store.user("bob").await.unwrap(), None, "users removed from config are removed");

    // Sites: added once, never reset by a restart.
    store.ensure_sites(&["web".into(), "api".into()]).await.unwrap();
    let stored = store.set_maintenance("web", true, entry(1, "maintenance_on")).await.unwrap();
    store.ensure_sites(&["web".into(), "api".into()]).await.unwrap();
    let sites = store.sites().await.unwrap();
    assert_eq!(sites.len(), 2);
    let web = sites.iter().find(|s| s.name == "web").unwrap();
    assert!(web.maintenance, "a restart must not switch maintenance off");
    assert_eq!(web.changed_by.as_deref(), Some("alice"));
    assert_eq!(web.changed_at_ms, Some(stored.entry.at_ms));
    assert!(!sites.iter().find(|s| s.name == "api").unwrap().maintenance);

    // The audit log is a hash chain.
    let second = store.append_audit(entry(2, "note")).await.unwrap();
    assert_eq!(second.prev_hash, stored.hash);
    assert_ne!(second.hash, stored.hash);
    assert_eq!(store.verify_audit_chain().await.unwrap(), 2);
    let newest = store.audit_entries(10).await.unwrap();
    assert_eq!(newest.iter().map(|e| e.id).collect::<Vec<_>>(), vec![second.id, stored.id]);
    assert_eq!(newest[0].entry, entry(2, "note"), "text round-trips exactly");

    // The database itself refuses edits and deletions of audit entries.
    let edit = store.execute_raw("UPDATE audit_entries SET reason = 'nothing happened'").await;
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    let delete = store.execute_raw("DELETE FROM audit_entries").await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.verify_audit_chain().await.unwrap(), 2);

    // Declared records replace as a set.
    let a = DesiredRecord { name: "www.example.test.".into(), kind: "A".into(), ttl: 60, value: "127.0.1.2".into() };
    let b = DesiredRecord { name: "api.example.test.".into(), kind: "A".into(), ttl: 60, value: "127.0.1.1".into() };
    store.replace_desired_records(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(store.desired_records().await.unwrap(), vec![b.clone(), a.clone()]);
    store.replace_desired_records(&[a.clone()]).await.unwrap();
    assert_eq!(store.desired_records().await.unwrap(), vec![a]);
}

#[tokio::test]
async fn sqlite_control_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("control.db").display());
    let store = ControlStore::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    exercise(&store).await;
    store.close().await;
    // Reopening runs migrations again without harm and keeps the data.
    let again = ControlStore::open(&url).await.unwrap();
    assert_eq!(again.verify_audit_chain().await.unwrap(), 2);
    again.close().await;
}

#[tokio::test]
async fn postgres_control_store() {
    let db = PgDatabase::create("control").await;
    let store = ControlStore::open(&db.url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    exercise(&store).await;
    store.close().await;
    let again = ControlStore::open(&db.url).await.unwrap();
    assert_eq!(again.verify_audit_chain().await.unwrap(), 2);
    again.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn tampering_is_detected() {
    // Drop the guard trigger the way an intruder with database access could, then edit.
    let db = PgDatabase::create("tamper").await;
    let store = ControlStore::open(&db.url).await.unwrap();
    for n in 0..3 {
        store.append_audit(entry(n, "note")).await.unwrap();
    }
    store.execute_raw("DROP TRIGGER audit_entries_no_change ON audit_entries").await.unwrap();
    store
        .execute_raw("UPDATE audit_entries SET reason = 'nothing to see' WHERE id = 2")
        .await
        .unwrap();
    match store.verify_audit_chain().await {
        Err(StoreError::Tampered { id }) => assert_eq!(id, 2),
        other => panic!("tampering went unnoticed: {other:?}"),
    }
    store.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there.
    let err = match ControlStore::open("postgres://crowsnest:secret@127.0.0.1:1/nowhere").await {
        Ok(_) => panic!("connected to nothing"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("cannot open the control store"), "{err}");
    assert!(!err.contains("secret"), "the password leaked into the message: {err}");
}
