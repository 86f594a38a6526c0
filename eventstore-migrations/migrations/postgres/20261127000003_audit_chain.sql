-- The audit hash chain and its signed checkpoints (docs/adr/0006, docs/audit-format.md).
--
-- `event_chain` holds chain_hash(p) = SHA-256(chain_hash(p-1) || JCS(event p)) for every sealed
-- position; the sealer appends rows in position order, one position after the other. Both tables are
-- append-only like `events`: UPDATE, DELETE and TRUNCATE are refused.

CREATE TABLE event_chain (
    global_position bigint PRIMARY KEY CHECK (global_position >= 1),
    chain_hash      bytea  NOT NULL CHECK (length(chain_hash) = 32)
);

-- Rows arrive in order with no hole: a chain row is only ever the next one.
CREATE FUNCTION event_chain_next_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.global_position <> (SELECT COALESCE(max(global_position), 0) + 1 FROM event_chain) THEN
        RAISE EXCEPTION 'the event chain is gap-free: position % is not the next one', NEW.global_position
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER event_chain_next_only
    BEFORE INSERT ON event_chain
    FOR EACH ROW EXECUTE FUNCTION event_chain_next_only();

CREATE TRIGGER event_chain_append_only
    BEFORE UPDATE OR DELETE ON event_chain
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER event_chain_no_truncate
    BEFORE TRUNCATE ON event_chain
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- A checkpoint signs {position, chain_hash, time}; `signed_at` is kept as the exact text that was signed.
CREATE TABLE audit_checkpoints (
    position   bigint PRIMARY KEY CHECK (position >= 1),
    chain_hash bytea  NOT NULL CHECK (length(chain_hash) = 32),
    signed_at  text   NOT NULL,
    public_key bytea  NOT NULL CHECK (length(public_key) = 32),
    signature  bytea  NOT NULL CHECK (length(signature) = 64)
);

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
