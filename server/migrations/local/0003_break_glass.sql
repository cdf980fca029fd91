-- Break-glass maintenance taken on a secondary: applied to this region's edge at once, kept here
-- until it is replayed into a writable control store exactly once (by its key).
CREATE TABLE break_glass (
    idempotency_key TEXT PRIMARY KEY,
    site            TEXT NOT NULL,
    maintenance     INTEGER NOT NULL,
    message         TEXT,
    expected_end_ms INTEGER,
    reason          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    replayed_at_ms  INTEGER,
    outcome         TEXT
);
