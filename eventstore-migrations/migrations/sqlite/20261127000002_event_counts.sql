-- The event_counts read model (docs/adr/0005): how many events of each type the log holds. It never
-- decodes a payload, so an event other projections cannot read does not stop it; auditors use it with
-- the checkpoint to see that the log is complete (the counts add up to the position).

CREATE TABLE event_counts (
    aggregate_type TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    events         INTEGER NOT NULL CHECK (events > 0),
    last_position  INTEGER NOT NULL,
    PRIMARY KEY (aggregate_type, event_type)
);
INSERT INTO projection_checkpoints (projection) VALUES ('event_counts');
