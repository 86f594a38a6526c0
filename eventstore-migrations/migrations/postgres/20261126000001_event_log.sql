-- The event log: append-only, one commit-ordered, gap-free global position (docs/adr/0002).
--
-- postgres-es writes the first seven columns; everything after them is filled by the database, so the
-- position, the time and the append-only guarantee do not depend on any client behaving.

CREATE TABLE event_log_head (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_position bigint  NOT NULL CHECK (last_position >= 0)
);
INSERT INTO event_log_head (singleton, last_position) VALUES (true, 0);

CREATE TABLE events (
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    sequence        bigint      NOT NULL CHECK (sequence >= 1),
    event_type      text        NOT NULL,
    event_version   text        NOT NULL,
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    global_position bigint      NOT NULL,
    event_id        uuid        NOT NULL DEFAULT gen_random_uuid(),
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_pkey PRIMARY KEY (aggregate_type, aggregate_id, sequence),
    CONSTRAINT events_global_position_key UNIQUE (global_position),
    CONSTRAINT events_event_id_key UNIQUE (event_id)
);

-- Positions come from the single counter row. The UPDATE takes that row's lock and keeps it until the
-- transaction ends, so appends are serialised: position order is commit order, and a rolled-back append
-- releases its numbers to the next writer (no gap). A plain sequence would hand out numbers at INSERT
-- and publish them at COMMIT, and a reader tailing by position would skip events for good.
CREATE FUNCTION events_assign_position() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_log_head
       SET last_position = last_position + 1
     WHERE singleton
    RETURNING last_position INTO NEW.global_position;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END
$$;

CREATE TRIGGER events_assign_position
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_assign_position();

CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- The head only ever moves forward one step at a time, and never disappears.
CREATE FUNCTION event_log_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.last_position <> OLD.last_position + 1 THEN
        RAISE EXCEPTION 'event_log_head only advances by one: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER event_log_head_guard
    BEFORE UPDATE OR DELETE ON event_log_head
    FOR EACH ROW EXECUTE FUNCTION event_log_head_guard();

CREATE TRIGGER event_log_head_no_truncate
    BEFORE TRUNCATE ON event_log_head
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Wake readers on the primary (LISTEN does not work on a standby; readers there poll).
CREATE FUNCTION events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cms_events', (SELECT max(global_position) FROM appended)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify
    AFTER INSERT ON events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Idempotency: one row per (principal, Idempotency-Key), written in the same transaction as the events
-- it produced, so a command is applied at most once per key and a repeat can answer the first response.
CREATE TABLE command_idempotency (
    scope           text        NOT NULL,
    idempotency_key text        NOT NULL,
    request_hash    text        NOT NULL,
    aggregate_type  text        NOT NULL,
    aggregate_id    text        NOT NULL,
    status_code     smallint    NOT NULL,
    response        jsonb       NOT NULL,
    position        bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT command_idempotency_pkey PRIMARY KEY (scope, idempotency_key)
);
