-- The control store's audit head as this instance last wrote or verified it: a cut-off tail
-- of the chain shows as a head the control store no longer has. Sessions moved to
-- tower-sessions' own table.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
DROP TABLE sessions;
