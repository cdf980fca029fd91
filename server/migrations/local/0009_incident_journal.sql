-- Incident updates posted on a secondary under break-glass: shown on this region's status page
-- at once, kept here until replayed into a writable control store exactly once (by their key).
CREATE TABLE incident_journal (
    key             TEXT PRIMARY KEY,
    incident        TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    components      TEXT NOT NULL,
    impact          TEXT NOT NULL,
    starts_ms       INTEGER,
    ends_ms         INTEGER,
    by_user         TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    written_on      TEXT NOT NULL,
    replayed_at_ms  INTEGER,
    outcome         TEXT
);
