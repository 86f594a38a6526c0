-- The hostel dashboard read model (docs/adr/0005): per complaint, the facts dashboards aggregate
-- (status, category, priority, assignee and the times of filing, first assignment and resolution),
-- and one row per resolution (who, when). Aggregates over time windows are computed at query time,
-- relative to the request's time, so nothing here goes stale as the clock moves.

CREATE TABLE dashboard_complaints (
    id                TEXT PRIMARY KEY,
    hostel            TEXT NOT NULL,
    category          TEXT NOT NULL,
    priority          TEXT,
    status            TEXT NOT NULL,
    assignee          TEXT,
    filed_at          TEXT NOT NULL,
    first_assigned_at TEXT,
    resolved_at       TEXT,
    resolutions       INTEGER NOT NULL,
    reopens           INTEGER NOT NULL,
    rating            INTEGER,
    last_position     INTEGER NOT NULL
);
CREATE INDEX dashboard_complaints_hostel ON dashboard_complaints (hostel, status, filed_at);

CREATE TABLE dashboard_resolutions (
    complaint_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    hostel       TEXT NOT NULL,
    resolved_by  TEXT NOT NULL,
    resolved_at  TEXT NOT NULL,
    PRIMARY KEY (complaint_id, seq)
);
CREATE INDEX dashboard_resolutions_hostel ON dashboard_resolutions (hostel, resolved_at);
INSERT INTO projection_checkpoints (projection) VALUES ('dashboard');
