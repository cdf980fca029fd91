-- PostgreSQL's 0004 refuses TRUNCATE on the audit log; SQLite has no TRUNCATE, and its DELETE
-- trigger already covers `DELETE FROM audit_entries` without a WHERE. Kept so both backends
-- carry the same migration numbers.
SELECT 1;
