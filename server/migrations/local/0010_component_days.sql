-- The status page's uptime bars: per component and UTC day, how long this instance had data
-- for it, how much of that it was up, and the worst status seen. Bounded: rows older than 90
-- days are deleted as each day is written.
CREATE TABLE component_days (
    component    TEXT NOT NULL,
    day          INTEGER NOT NULL,     -- days since 1970-01-01, UTC
    measured_ms  INTEGER NOT NULL,     -- time with a known status
    up_ms        INTEGER NOT NULL,     -- of that, operational or under maintenance
    worst        TEXT NOT NULL,        -- the worst status word seen that day
    worst_rank   INTEGER NOT NULL,     -- its place in the order of badness (higher: worse)
    PRIMARY KEY (component, day)
);
