-- The audit head each peer last reported: the chain must still hold it, unchanged
-- (`crowsnest audit verify`). Only moves forward.
CREATE TABLE peer_audit_heads (
    peer       TEXT PRIMARY KEY,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    seen_at_ms INTEGER NOT NULL
);
