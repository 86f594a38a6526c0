-- The audit hash chain and its signed checkpoints, as on PostgreSQL (docs/adr/0006,
-- docs/audit-format.md). Both tables are append-only; chain rows arrive in position order, no hole.

CREATE TABLE event_chain (
    global_position INTEGER PRIMARY KEY CHECK (global_position >= 1),
    chain_hash      BLOB    NOT NULL CHECK (length(chain_hash) = 32)
);

CREATE TRIGGER event_chain_next_only
BEFORE INSERT ON event_chain
WHEN NEW.global_position IS NOT (SELECT COALESCE(max(global_position), 0) + 1 FROM event_chain)
BEGIN
    SELECT RAISE(ABORT, 'the event chain is gap-free: position is not the next one');
END;

CREATE TRIGGER event_chain_no_update
BEFORE UPDATE ON event_chain
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on event_chain refused');
END;

CREATE TRIGGER event_chain_no_delete
BEFORE DELETE ON event_chain
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on event_chain refused');
END;

CREATE TABLE audit_checkpoints (
    position   INTEGER PRIMARY KEY CHECK (position >= 1),
    chain_hash BLOB    NOT NULL CHECK (length(chain_hash) = 32),
    signed_at  TEXT    NOT NULL,
    public_key BLOB    NOT NULL CHECK (length(public_key) = 32),
    signature  BLOB    NOT NULL CHECK (length(signature) = 64)
);

CREATE TRIGGER audit_checkpoints_no_update
BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on audit_checkpoints refused');
END;

CREATE TRIGGER audit_checkpoints_no_delete
BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on audit_checkpoints refused');
END;
