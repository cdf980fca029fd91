-- Keys of break-glass actions replayed from secondaries: each applies exactly once.
CREATE TABLE replayed_actions (
    idempotency_key TEXT PRIMARY KEY,
    instance        TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    replayed_at_ms  BIGINT NOT NULL
);
