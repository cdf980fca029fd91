-- TRUNCATE skips row triggers: refuse it with a statement trigger too. (SQLite has no
-- TRUNCATE; its DELETE trigger also disables the truncate optimisation.)
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only();
