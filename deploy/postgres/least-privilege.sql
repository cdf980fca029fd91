-- Least privilege for the control store (PostgreSQL), run by a superuser in the control
-- database after `crowsnest migrate` has created the schema as the owner:
--
--   createuser crowsnest_owner && createdb -O crowsnest_owner crowsnest
--   crowsnest --config /etc/crowsnest/crowsnest.toml migrate \
--       --control-db postgres://crowsnest_owner@db-sjc/crowsnest
--   createuser crowsnest
--   psql -d crowsnest -f least-privilege.sql
--
-- The console then connects as `crowsnest`: it reads and writes control state, and may only
-- SELECT and INSERT audit entries. Neither it nor anyone holding its password can UPDATE,
-- DELETE or TRUNCATE the audit log, drop its triggers, or change the schema (only the owner
-- can, and the owner is not a login the console has). Tested by server/tests/control_store.rs.

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM crowsnest;
GRANT USAGE ON SCHEMA public TO crowsnest;
GRANT SELECT ON _sqlx_migrations TO crowsnest;
GRANT SELECT, INSERT ON audit_entries TO crowsnest;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, sites, desired_records, action_requests, alert_silences, alert_acks TO crowsnest;
-- Incident updates are told to the public: like audit entries, never edited.
GRANT SELECT, INSERT ON incident_updates TO crowsnest;
GRANT SELECT, INSERT ON replayed_actions TO crowsnest;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO crowsnest;
