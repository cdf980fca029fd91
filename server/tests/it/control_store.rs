//! The control store behaves the same on SQLite and on PostgreSQL (the machine's server at
//! `CROWSNEST_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/postgres`; each test makes
//! and drops its own database).

use app::action::{ActionKind, ActionState};
use app::auth::Role;
use crowsnest::audit::{self, AuditEntry};
use crowsnest::store::{ControlStore, DesiredRecord, LocalStore, NewActionRequest, NewAuditEntry, SiteChange, Transition, UserChange};

fn pg_admin_url() -> String {
    std::env::var("CROWSNEST_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database, dropped when the guard is, also when the test fails.
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
        let mut conn =
            sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed for this test: {e}"));
        // Databases left by runs that were killed before their guards could drop them: the
        // process id in the name no longer runs.
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'crowsnest_test_%'").fetch_all(&mut conn).await.unwrap();
        for old in names {
            let pid = old.rsplit('_').next().and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut conn).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap();
        PgDatabase { url: format!("{base}/{name}"), admin, name }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // A thread with its own runtime: this may run while a failing test unwinds inside
        // tokio, where blocking on the test's runtime is not allowed.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            use sqlx::Connection;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

fn entry(n: i64, action: &str) -> NewAuditEntry {
    NewAuditEntry {
        at_ms: 1_795_600_000_000 + n,
        actor: "alice".into(),
        action: action.into(),
        target: "web".into(),
        reason: format!("reason {n}: it's \"quoted\""),
        detail: String::new(),
    }
}

fn key() -> audit::AuditKey {
    audit::AuditKey::new(b"control-store-test-key-0123456789abcdef", "test").unwrap()
}

fn verify(chain: &[AuditEntry]) -> Result<usize, audit::ChainBreak> {
    audit::verify(&key(), chain, &[])
}

/// A store at `url`, keyed.
async fn open(url: &str) -> ControlStore {
    ControlStore::open(url).await.unwrap().keyed(key())
}

fn request(key: &str, state: ActionState) -> NewActionRequest {
    NewActionRequest {
        idempotency_key: key.into(),
        kind: ActionKind::MaintenanceOn,
        site: "web".into(),
        message: Some("back soon".into()),
        expected_end_ms: None,
        reason: "the primary is down".into(),
        requested_by: "alice".into(),
        requested_at_ms: 1_795_600_000_000,
        expires_at_ms: 1_795_600_900_000,
        state,
        detail: String::new(),
    }
}

/// The behaviour both backends must share.
async fn exercise(store: &ControlStore) {
    // The config's users mirror the config; managed users stay.
    let users = vec![
        ("alice".to_string(), "oncall".to_string(), "$argon2id$a".to_string()),
        ("bob".to_string(), "viewer".to_string(), "$argon2id$b".to_string()),
    ];
    store.sync_users(&users, 1).await.unwrap();
    assert!(store.add_user("dave", Role::Oncall, "$argon2id$d", entry(0, "user_added")).await.unwrap());
    assert!(!store.add_user("dave", Role::Admin, "$argon2id$x", entry(0, "user_added")).await.unwrap(), "names are unique");
    store.sync_users(&users[..1], 2).await.unwrap();
    let alice = store.user("alice").await.unwrap().unwrap();
    assert_eq!((alice.role, alice.password_hash.as_str(), alice.managed), (Role::Oncall, "$argon2id$a", false));
    assert_eq!(alice.sessions_valid_after_ms, 0, "an unchanged config user keeps their sessions");
    assert!(store.user("bob").await.unwrap().is_none(), "users removed from config are removed");
    assert!(store.user("dave").await.unwrap().unwrap().managed, "managed users survive a config sync");
    store.sync_users(&[("alice".into(), "admin".into(), "$argon2id$a".into())], 3).await.unwrap();
    assert_eq!(store.user("alice").await.unwrap().unwrap().sessions_valid_after_ms, 3, "a role change ends sessions");
    assert!(store.change_user("dave", UserChange::Disabled(true), entry(0, "user_disabled")).await.unwrap());
    let dave = store.user("dave").await.unwrap().unwrap();
    assert!(dave.disabled && dave.sessions_valid_after_ms == entry(0, "").at_ms);
    assert!(!store.change_user("nobody", UserChange::Disabled(true), entry(0, "user_disabled")).await.unwrap());

    // Sites: added once, never reset by a restart.
    store.ensure_sites(&["web".into(), "api".into()]).await.unwrap();
    let change = SiteChange {
        site: "web".into(),
        state: app::action::MaintenanceState { on: true, message: Some("back soon".into()), expected_end_ms: Some(1_795_603_600_000) },
        changed_by: "alice".into(),
        at_ms: 1_795_600_000_001,
    };
    let (first, created) = store
        .create_request(&request("k1", ActionState::Executed), Some(&change), vec![entry(1, "maintenance_on.executed")])
        .await
        .unwrap();
    assert!(created);
    assert_eq!(first.state, ActionState::Executed);
    // The same key again changes nothing and returns the stored request.
    let (again, created) = store
        .create_request(&request("k1", ActionState::Executed), Some(&change), vec![entry(9, "maintenance_on.executed")])
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    store.ensure_sites(&["web".into(), "api".into()]).await.unwrap();
    let sites = store.sites().await.unwrap();
    assert_eq!(sites.len(), 2);
    let web = sites.iter().find(|s| s.name == "web").unwrap();
    assert!(web.state.on, "a restart must not switch maintenance off");
    assert_eq!(web.state.message.as_deref(), Some("back soon"));
    assert_eq!(web.changed_by.as_deref(), Some("alice"));
    assert!(!sites.iter().find(|s| s.name == "api").unwrap().state.on);

    // A pending request moves once; a second mover loses.
    let (pending, _) = store.create_request(&request("k2", ActionState::Pending), None, vec![]).await.unwrap();
    let approve = Transition { state: ActionState::Executed, approved_by: Some("carol"), at_ms: 5, detail: "approved" };
    assert!(store.transition(pending.id, &[ActionState::Pending], approve, None, vec![entry(2, "approved")]).await.unwrap());
    assert!(!store.transition(pending.id, &[ActionState::Pending], approve, None, vec![entry(3, "approved")]).await.unwrap());
    let moved = store.request(pending.id).await.unwrap().unwrap();
    assert_eq!((moved.state, moved.approved_by.as_deref()), (ActionState::Executed, Some("carol")));

    // The audit log is a hash chain with contiguous seq: user_added, user_disabled, executed, approved.
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(chain.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(verify(&chain), Ok(4));
    let note = store.append_audit(entry(4, "note")).await.unwrap();
    assert_eq!((note.seq, note.prev_hash.as_str()), (5, chain[3].hash.as_str()));
    let newest = store.audit_entries(10).await.unwrap();
    assert_eq!(newest[0].entry, entry(4, "note"), "text round-trips exactly");
    let filtered = store.audit_page(&app::action::AuditFilter { action: Some("user_".into()), ..Default::default() }, 10).await.unwrap();
    assert_eq!(filtered.0.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2, 1]);
    assert_eq!(filtered.1, 5);
    // `_` and `%` in a filter are themselves, not wildcards.
    let kind = |k: &str| app::action::AuditFilter { action: Some(k.into()), ..Default::default() };
    let exact = store.audit_page(&kind("maintenance_on"), 10).await.unwrap().0;
    assert_eq!(exact.iter().map(|e| e.entry.action.as_str()).collect::<Vec<_>>(), vec!["maintenance_on.executed"]);
    assert!(store.audit_page(&kind("user%"), 10).await.unwrap().0.is_empty());
    assert!(store.audit_page(&kind("maintenance-on"), 10).await.unwrap().0.is_empty());
    let page = store
        .audit_page(&app::action::AuditFilter { before_seq: Some(3), actor: Some("alice".into()), ..Default::default() }, 1)
        .await
        .unwrap();
    assert_eq!(page.0.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);

    // The database itself refuses edits and deletions of audit entries.
    let edit = store.execute_raw("UPDATE audit_entries SET reason = 'nothing happened'").await;
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    let delete = store.execute_raw("DELETE FROM audit_entries").await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(verify(&store.audit_chain().await.unwrap()), Ok(5));

    // Declared records replace as a set.
    let a = DesiredRecord { name: "www.example.test.".into(), kind: "A".into(), ttl: 60, value: "127.0.1.2".into() };
    let b = DesiredRecord { name: "api.example.test.".into(), kind: "A".into(), ttl: 60, value: "127.0.1.1".into() };
    store.replace_desired_records(&[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(store.desired_records().await.unwrap(), vec![b.clone(), a.clone()]);
    store.replace_desired_records(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(store.desired_records().await.unwrap(), vec![a]);
}

#[tokio::test]
async fn sqlite_control_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("control.db").display());
    let store = open(&url).await;
    assert_eq!(store.backend(), "sqlite");
    exercise(&store).await;
    store.close().await;
    // Reopening runs migrations again without harm and keeps the data.
    let again = open(&url).await;
    assert_eq!(verify(&again.audit_chain().await.unwrap()), Ok(5));
    again.close().await;
}

#[tokio::test]
async fn the_one_writer_refuses_every_write_while_the_instance_is_read_only() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("control.db").display());
    let refused = std::sync::Arc::new(AtomicBool::new(true));
    let store = open(&url).await.guarded_by(refused.clone());
    let record = crowsnest::store::DesiredRecord { name: "www.example.test.".into(), kind: "A".into(), ttl: 60, value: "127.0.1.2".into() };
    // Every kind of write, refused before it begins; reads still work.
    let errors = [
        store.append_audit(entry(1, "login")).await.err().map(|e| e.to_string()),
        store.sync_users(&[], 0).await.err().map(|e| e.to_string()),
        store.ensure_sites(&["web".into()]).await.err().map(|e| e.to_string()),
        store.replace_desired_records(&[record]).await.err().map(|e| e.to_string()),
    ];
    for e in &errors {
        assert!(e.as_deref().is_some_and(|e| e.starts_with("the control store is read-only from this instance")), "{e:?}");
    }
    assert!(store.audit_chain().await.unwrap().is_empty(), "nothing was written");
    assert!(store.sites().await.unwrap().is_empty());
    // The mode turns writable: the same handle writes.
    refused.store(false, Ordering::SeqCst);
    store.append_audit(entry(1, "login")).await.unwrap();
    assert_eq!(store.audit_chain().await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn postgres_control_store() {
    let db = PgDatabase::create("control").await;
    let store = open(&db.url).await;
    assert_eq!(store.backend(), "postgres");
    exercise(&store).await;
    store.close().await;
    let again = open(&db.url).await;
    assert_eq!(verify(&again.audit_chain().await.unwrap()), Ok(5));
    again.close().await;
    drop(db);
}

/// Tampers with a real database the way an intruder with write access could (dropping the
/// guard triggers first), and checks verification names the first bad entry, the local head
/// catching a cut-off tail.
async fn tamper(url: &str, drop_guards: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    let store = open(url).await.keep_head_in(local.clone());
    for n in 1..=5 {
        store.append_audit(entry(n, "note")).await.unwrap();
    }
    let head = local.audit_head().await.unwrap().unwrap();
    assert_eq!(head.0, 5, "every append moves the local head");
    let check = |chain: Vec<AuditEntry>| {
        let head = head.clone();
        async move {
            audit::verify(&key(), &chain, &[audit::Head { seq: head.0, hash: head.1, by: "this instance".into() }]).map_err(|b| b.seq())
        }
    };
    assert_eq!(check(store.audit_chain().await.unwrap()).await, Ok(5));
    for sql in drop_guards {
        store.execute_raw(sql).await.unwrap();
    }
    // (what, SQL, first bad seq)
    // Each step breaks the chain earlier than the one before, so each must be seen.
    let table = [
        ("deleted tail", "DELETE FROM audit_entries WHERE id = 5".to_string(), 5),
        ("edited row", "UPDATE audit_entries SET reason = 'nothing to see' WHERE id = 4".to_string(), 4),
        ("deleted middle row", "DELETE FROM audit_entries WHERE id = 3".to_string(), 3),
        (
            "swapped pair",
            // Row 1 takes row 2's content and the other way round; numbers stay in place.
            "UPDATE audit_entries SET at_ms = 3591200000003 - at_ms, reason = CASE id WHEN 1 THEN 'reason 2: it''s \"quoted\"' \
             ELSE 'reason 1: it''s \"quoted\"' END WHERE id IN (1, 2)"
                .to_string(),
            1,
        ),
    ];
    for (what, sql, bad) in table {
        store.execute_raw(&sql).await.unwrap();
        assert_eq!(check(store.audit_chain().await.unwrap()).await, Err(bad), "{what}");
    }
    store.close().await;
    local.close().await;
}

#[tokio::test]
async fn tampering_is_detected_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("control.db").display());
    tamper(&url, &["DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"]).await;
}

#[tokio::test]
async fn tampering_is_detected_on_postgres() {
    let db = PgDatabase::create("tamper").await;
    tamper(&db.url, &["DROP TRIGGER audit_entries_no_change ON audit_entries"]).await;
    drop(db);
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

/// The review's attack, as someone who can write the database but has no key: cut the tail,
/// put forged rows in its place, then get the console to append (an anonymous failed login).
/// The append is refused, the recorded head does not move to the forged one, and verify names
/// the first forged entry.
async fn forge_a_tail(url: &str, drop_guards: &[&str]) {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    let store = open(url).await.keep_head_in(local.clone());
    for n in 1..=5 {
        store.append_audit(entry(n, "note")).await.unwrap();
    }
    let (seq, good_head) = local.audit_head().await.unwrap().unwrap();
    assert_eq!(seq, 5);
    for sql in drop_guards {
        store.execute_raw(sql).await.unwrap();
    }
    store.execute_raw("DELETE FROM audit_entries WHERE id >= 4").await.unwrap();
    // Forged rows 4 and 5, linked as well as the attacker can without the key (plain SHA-256).
    let chain = store.audit_chain().await.unwrap();
    let mut prev = chain[2].hash.clone();
    for id in 4..=5 {
        let hash = format!("{:x}", sha2::Sha256::digest(format!("{prev}{id}forged").as_bytes()));
        store
            .execute_raw(&format!(
                "INSERT INTO audit_entries (id, at_ms, actor, action, target, reason, detail, prev_hash, hash) \
                 VALUES ({id}, 1795600000000, 'alice', 'note', 'web', 'forged', '', '{prev}', '{hash}')"
            ))
            .await
            .unwrap();
        prev = hash;
    }
    let forged_head = prev;
    let failed_login = NewAuditEntry { actor: "anonymous".into(), action: "login_failed".into(), ..entry(6, "login_failed") };
    let err = store.append_audit(failed_login).await.expect_err("a rewritten tail is never extended");
    assert!(err.to_string().contains("audit entry 5: its hash differs from the head this instance recorded"), "{err}");
    // The head only moves forward: the forged hash at the same seq does not replace it.
    local.set_audit_head(5, &forged_head).await.unwrap();
    assert_eq!(local.audit_head().await.unwrap(), Some((5, good_head.clone())));
    let heads = local.audit_heads().await.unwrap();
    assert_eq!(audit::verify(&key(), &store.audit_chain().await.unwrap(), &heads), Err(audit::ChainBreak::Edited { seq: 4 }));
    store.close().await;
    local.close().await;
}

#[tokio::test]
async fn a_forged_tail_is_neither_extended_nor_blessed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("control.db").display());
    forge_a_tail(&url, &["DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"]).await;
}

#[tokio::test]
async fn a_forged_tail_is_neither_extended_nor_blessed_on_postgres() {
    let db = PgDatabase::create("forge").await;
    forge_a_tail(&db.url, &["DROP TRIGGER audit_entries_no_change ON audit_entries"]).await;
    drop(db);
}

/// deploy/postgres/least-privilege.sql, applied as documented: the schema migrated by its
/// owner, the console as `crowsnest`, which reads and writes control state but can only SELECT
/// and INSERT audit entries. Even the owner cannot TRUNCATE the log (a statement trigger).
#[tokio::test]
async fn the_consoles_role_cannot_update_delete_or_truncate_the_audit_log() {
    use sqlx::Connection;
    let db = PgDatabase::create("roles").await;
    let owner = open(&db.url).await;
    owner.append_audit(entry(1, "note")).await.unwrap();
    // The role is cluster-wide; several test runs may make it at once.
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("DO $$ BEGIN CREATE ROLE crowsnest LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        .execute(&mut admin)
        .await
        .unwrap();
    let grants = include_str!("../../../deploy/postgres/least-privilege.sql");
    sqlx::raw_sql(grants).execute(&mut admin).await.unwrap();
    let console_url = db.url.replacen("postgres@", "crowsnest@", 1);
    assert_ne!(console_url, db.url, "the test connects as another role");
    let console = open(&console_url).await;
    // Everything the console does works under the role.
    console.sync_users(&[("alice".into(), "oncall".into(), "$argon2id$a".into())], 1).await.unwrap();
    console.ensure_sites(&["web".into()]).await.unwrap();
    console.append_audit(entry(2, "note")).await.unwrap();
    assert_eq!(verify(&console.audit_chain().await.unwrap()), Ok(2));
    // (what, SQL) each refused to the console's role.
    let table = [
        ("update", "UPDATE audit_entries SET reason = 'x' WHERE id = 1"),
        ("delete", "DELETE FROM audit_entries WHERE id = 2"),
        ("truncate", "TRUNCATE audit_entries"),
        ("drop the trigger", "DROP TRIGGER audit_entries_no_change ON audit_entries"),
        ("change the schema", "ALTER TABLE audit_entries ADD COLUMN x int"),
    ];
    for (what, sql) in table {
        let err = console.execute_raw(sql).await.expect_err(what).to_string();
        assert!(err.contains("permission denied") || err.contains("must be owner"), "{what}: {err}");
    }
    // The owner is refused TRUNCATE by the trigger; the log is whole.
    let err = owner.execute_raw("TRUNCATE audit_entries").await.expect_err("truncate as owner").to_string();
    assert!(err.contains("append-only"), "{err}");
    assert_eq!(verify(&owner.audit_chain().await.unwrap()), Ok(2));
    console.close().await;
    owner.close().await;
    drop(admin);
    drop(db);
}

/// Two writers appending at once to one PostgreSQL primary (two instances, each with its own
/// pool and lock): the advisory lock keeps one chain, no gaps, no fork.
#[tokio::test]
async fn concurrent_appends_from_two_writers_keep_one_chain_on_postgres() {
    let db = PgDatabase::create("concurrent").await;
    let a = open(&db.url).await;
    // A second, separate pool: another process as far as PostgreSQL can tell.
    let b = ControlStore::connect(&db.url).await.unwrap().keyed(key());
    let write = |store: ControlStore, who: &'static str| async move {
        for n in 0..40 {
            store.append_audit(NewAuditEntry { actor: who.into(), ..entry(n, "note") }).await.unwrap();
        }
    };
    tokio::join!(write(a.clone(), "sjc-1"), write(b.clone(), "sin-1"));
    let chain = a.audit_chain().await.unwrap();
    assert_eq!(verify(&chain), Ok(80));
    assert_eq!(chain.iter().filter(|e| e.entry.actor == "sin-1").count(), 40);
    a.close().await;
    b.close().await;
    drop(db);
}
