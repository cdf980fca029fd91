-- Alert notices for direct receivers, written before the first attempt: a restart (or kill -9)
-- in the middle of a delivery loses nothing, and every retry carries the same key.
CREATE TABLE alert_outbox (
    key TEXT PRIMARY KEY,           -- the delivery's idempotency key, sent with every attempt
    receiver TEXT NOT NULL,         -- the receiver's name in [[alerting.webhooks]]
    body TEXT NOT NULL,             -- the JSON sent
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_ms INTEGER NOT NULL,       -- not before this
    delivered_ms INTEGER,           -- set once a receiver took it (2xx)
    last_error TEXT
);
CREATE INDEX alert_outbox_due ON alert_outbox (delivered_ms, next_ms);
