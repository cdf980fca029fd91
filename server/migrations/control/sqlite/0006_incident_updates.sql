-- Incidents and scheduled maintenance, as on-call told the public: one row per update, never
-- edited (a correction is another update); an incident is what its updates add up to. The key
-- is the update's idempotency key, so an update journaled on a secondary under break-glass is
-- replayed into this table exactly once.
CREATE TABLE incident_updates (
    key         TEXT PRIMARY KEY,
    incident    TEXT NOT NULL,      -- the incident's first update's key
    kind        TEXT NOT NULL,      -- incident | maintenance
    state       TEXT NOT NULL,
    title       TEXT NOT NULL,      -- empty: unchanged
    body        TEXT NOT NULL,
    components  TEXT NOT NULL,      -- JSON ["Website", …]; empty list: unchanged
    impact      TEXT NOT NULL,
    starts_ms   INTEGER,
    ends_ms     INTEGER,
    by_user     TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    written_on  TEXT NOT NULL       -- the instance it was posted on
);
CREATE INDEX incident_updates_incident ON incident_updates (incident, at_ms);
CREATE INDEX incident_updates_at ON incident_updates (at_ms);
