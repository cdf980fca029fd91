-- Local state of this instance: always a writable SQLite file, even on a secondary.
-- Observations are a time series kept for `probes.retention_hours`.
CREATE TABLE observations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    kind       TEXT NOT NULL,      -- 'health' (later: 'dns', 'replication', 'backlog')
    subject    TEXT NOT NULL,      -- host name, record key, replica name, loader name
    ok         INTEGER NOT NULL,   -- 1 when the check got a passing answer
    latency_ms REAL,
    detail     TEXT NOT NULL
);
CREATE INDEX observations_subject_time ON observations (kind, subject, at_ms);
CREATE INDEX observations_time ON observations (at_ms);

-- Login sessions of this instance (written by the auth layer).
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_name     TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
