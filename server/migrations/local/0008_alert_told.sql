-- What this instance last told its direct receivers as firing (one row): a restarted sender
-- does not page again for what still fires, and owes a resolve for what ended while it was down.
CREATE TABLE alert_told (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    told TEXT NOT NULL,             -- JSON: [{"name": "HostDown", "labels": [["host", "lb2"]]}, ...]
    written_ms INTEGER NOT NULL
);
