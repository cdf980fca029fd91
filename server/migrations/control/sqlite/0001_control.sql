-- Control state: users, sites' maintenance state, the append-only audit log, declared records.
-- Timestamps are unix milliseconds (BIGINT) so the same queries run on SQLite and PostgreSQL.
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'oncall', 'admin')),
    password_hash TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

CREATE TABLE sites (
    name          TEXT PRIMARY KEY,
    maintenance   BIGINT NOT NULL DEFAULT 0 CHECK (maintenance IN (0, 1)),
    changed_by    TEXT,
    changed_at_ms BIGINT
);

CREATE TABLE audit_entries (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL UNIQUE
);

-- Append-only: the database itself refuses edits and deletions.
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;

CREATE TABLE desired_records (
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL,
    ttl   BIGINT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, kind, value)
);
