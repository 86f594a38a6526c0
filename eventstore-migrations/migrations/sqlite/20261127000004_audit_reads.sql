-- The record of auditor reads, as on PostgreSQL (api/src/audit/reads.rs): not domain events, so not
-- in `events`. Append-only.

CREATE TABLE audit_reads (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    read_at TEXT    NOT NULL,
    user_id TEXT    NOT NULL,
    role    TEXT    NOT NULL,
    route   TEXT    NOT NULL,
    target  TEXT,
    span    TEXT
);

CREATE TRIGGER audit_reads_no_update
BEFORE UPDATE ON audit_reads
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on audit_reads refused');
END;

CREATE TRIGGER audit_reads_no_delete
BEFORE DELETE ON audit_reads
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on audit_reads refused');
END;
