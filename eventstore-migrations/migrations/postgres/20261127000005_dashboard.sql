-- The hostel dashboard read model (docs/adr/0005): per complaint, the facts dashboards aggregate
-- (status, category, priority, assignee and the times of filing, first assignment and resolution),
-- and one row per resolution (who, when). Aggregates over time windows are computed at query time,
-- relative to the request's time, so nothing here goes stale as the clock moves.

CREATE TABLE dashboard_complaints (
    id                text PRIMARY KEY,
    hostel            text NOT NULL,
    category          text NOT NULL,
    priority          text,
    status            text NOT NULL,
    assignee          text,
    filed_at          timestamptz NOT NULL,
    first_assigned_at timestamptz,
    resolved_at       timestamptz,
    resolutions       bigint NOT NULL,
    reopens           bigint NOT NULL,
    rating            bigint,
    last_position     bigint NOT NULL
);
CREATE INDEX dashboard_complaints_hostel ON dashboard_complaints (hostel, status, filed_at);

CREATE TABLE dashboard_resolutions (
    complaint_id text NOT NULL,
    seq          bigint NOT NULL,
    hostel       text NOT NULL,
    resolved_by  text NOT NULL,
    resolved_at  timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, seq)
);
CREATE INDEX dashboard_resolutions_hostel ON dashboard_resolutions (hostel, resolved_at);
INSERT INTO projection_checkpoints (projection) VALUES ('dashboard');
