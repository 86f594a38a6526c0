-- The record of auditor reads (issue 7; api/src/audit/reads.rs). Reads are not domain events, so they
-- are kept here and not in `events`: who (user id and role), what (route, complaint, moment or range)
-- and when. Append-only like the log.

CREATE TABLE audit_reads (
    id      bigserial   PRIMARY KEY,
    read_at timestamptz NOT NULL,
    user_id text        NOT NULL,
    role    text        NOT NULL,
    route   text        NOT NULL,
    target  text,
    span    text
);

CREATE TRIGGER audit_reads_append_only
    BEFORE UPDATE OR DELETE ON audit_reads
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER audit_reads_no_truncate
    BEFORE TRUNCATE ON audit_reads
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
