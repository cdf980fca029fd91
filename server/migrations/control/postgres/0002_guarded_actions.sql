-- Guarded actions: managed users, maintenance messages, action requests, audit details.
ALTER TABLE users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
-- 1 for users added with `crowsnest user add` (kept across restarts); 0 for the config's.
ALTER TABLE users ADD COLUMN managed BIGINT NOT NULL DEFAULT 0;
-- Sessions that logged in before this instant are over (disable, password change).
ALTER TABLE users ADD COLUMN sessions_valid_after_ms BIGINT NOT NULL DEFAULT 0;

ALTER TABLE sites ADD COLUMN message TEXT;
ALTER TABLE sites ADD COLUMN expected_end_ms BIGINT;

-- What the entry did or why it was refused; part of the chain hash.
ALTER TABLE audit_entries ADD COLUMN detail TEXT NOT NULL DEFAULT '';

CREATE TABLE action_requests (
    id              BIGSERIAL PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    site            TEXT NOT NULL,
    message         TEXT,
    expected_end_ms BIGINT,
    reason          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at_ms BIGINT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    state           TEXT NOT NULL,
    approved_by     TEXT,
    decided_at_ms   BIGINT,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX action_requests_state ON action_requests (state);
