-- Read side foundation (docs/adr/0005): projection checkpoints and the complaint list read model.
--
-- Same tables as PostgreSQL. Times are stored as RFC 3339 UTC text with at most microsecond precision
-- (sqlx's encoding), which sorts in time order. SQLite's single writer is the one-runner lock.

CREATE TABLE projection_checkpoints (
    projection    TEXT    PRIMARY KEY,
    last_position INTEGER NOT NULL DEFAULT 0 CHECK (last_position >= 0),
    status        TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'failed')),
    error         TEXT,
    updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO projection_checkpoints (projection) VALUES ('complaint_list');

CREATE TABLE complaint_list (
    id              TEXT    PRIMARY KEY,
    hostel          TEXT    NOT NULL,
    wing            TEXT,
    room            TEXT    NOT NULL,
    category        TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    priority        TEXT,
    priority_rank   INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    assignee        TEXT,
    reporter        TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    filed_at        TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    photo_count     INTEGER NOT NULL,
    first_photo_id  TEXT,
    first_thumbnail TEXT,
    last_position   INTEGER NOT NULL
);
CREATE INDEX complaint_list_filed ON complaint_list (filed_at, id);
CREATE INDEX complaint_list_updated ON complaint_list (updated_at, id);
CREATE INDEX complaint_list_priority ON complaint_list (priority_rank, id);
CREATE INDEX complaint_list_hostel_filed ON complaint_list (hostel, filed_at, id);
CREATE INDEX complaint_list_reporter_filed ON complaint_list (reporter, filed_at, id);
CREATE INDEX complaint_list_assignee ON complaint_list (assignee);
