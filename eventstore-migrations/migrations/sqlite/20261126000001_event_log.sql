-- The event log for the embedded default: the same columns and guarantees as PostgreSQL (docs/adr/0002).
--
-- SQLite serialises writers, and a trigger cannot assign NEW values here, so the appender supplies the
-- next positions inside a BEGIN IMMEDIATE transaction and the triggers refuse any row that is not
-- exactly the next position. The database, not the client, keeps the log contiguous and append-only.

CREATE TABLE event_log_head (
    singleton     INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_position INTEGER NOT NULL CHECK (last_position >= 0)
);
INSERT INTO event_log_head (singleton, last_position) VALUES (1, 0);

CREATE TABLE events (
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    sequence        INTEGER NOT NULL CHECK (sequence >= 1),
    event_type      TEXT    NOT NULL,
    event_version   TEXT    NOT NULL,
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    metadata        TEXT    NOT NULL CHECK (json_valid(metadata)),
    global_position INTEGER NOT NULL UNIQUE,
    event_id        TEXT    NOT NULL UNIQUE,
    recorded_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE TRIGGER events_next_position_only
BEFORE INSERT ON events
WHEN NEW.global_position IS NOT (SELECT last_position + 1 FROM event_log_head)
BEGIN
    SELECT RAISE(ABORT, 'the event log is gap-free: global_position must be the next position');
END;

CREATE TRIGGER events_advance_head
AFTER INSERT ON events
BEGIN
    UPDATE event_log_head SET last_position = NEW.global_position;
END;

CREATE TRIGGER events_no_update
BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE on events refused');
END;

CREATE TRIGGER events_no_delete
BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE on events refused');
END;

CREATE TRIGGER event_log_head_forward_only
BEFORE UPDATE ON event_log_head
WHEN NEW.last_position <> OLD.last_position + 1
BEGIN
    SELECT RAISE(ABORT, 'event_log_head only advances by one');
END;

CREATE TRIGGER event_log_head_no_delete
BEFORE DELETE ON event_log_head
BEGIN
    SELECT RAISE(ABORT, 'event_log_head cannot be deleted');
END;

CREATE TABLE command_idempotency (
    scope           TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    request_hash    TEXT    NOT NULL,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    status_code     INTEGER NOT NULL,
    response        TEXT    NOT NULL,
    position        INTEGER NOT NULL,
    created_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (scope, idempotency_key)
);
