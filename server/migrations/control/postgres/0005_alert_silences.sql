-- Silences and acknowledgements: control state, so they replicate to every region and each
-- region's alert engine honours the same ones.
CREATE TABLE alert_silences (
    id          BIGSERIAL PRIMARY KEY,
    matchers    TEXT NOT NULL,      -- JSON [[name, value], …]: an alert matches when it has them all
    starts_ms   BIGINT NOT NULL,
    ends_ms     BIGINT NOT NULL,    -- moved to the expiry time when someone ends it early
    created_by  TEXT NOT NULL,
    comment     TEXT NOT NULL,
    expired_by  TEXT
);
CREATE INDEX alert_silences_ends ON alert_silences (ends_ms);

-- An acknowledgement holds for the episode that was firing when it was made: an alert that
-- fires again after resolving is not acknowledged.
CREATE TABLE alert_acks (
    id          BIGSERIAL PRIMARY KEY,
    fingerprint TEXT NOT NULL,      -- the alert's identity (its name and labels, hashed)
    alertname   TEXT NOT NULL,
    labels      TEXT NOT NULL,      -- JSON [[name, value], …], for the page and the audit
    by_user     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX alert_acks_fingerprint ON alert_acks (fingerprint, at_ms);
