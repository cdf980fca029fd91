-- A break-glass change on a two-person site waits here for a second on-call before it reaches
-- the edge or the primary; both names are kept and replayed.
ALTER TABLE break_glass ADD COLUMN approved_by TEXT;
ALTER TABLE break_glass ADD COLUMN awaiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE break_glass ADD COLUMN expires_at_ms INTEGER;
