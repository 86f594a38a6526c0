-- The complaint_detail read model (docs/adr/0005): per complaint, the domain's folded state and its
-- timeline, as JSON text, for GET /v1/complaints/{id}. hostel and reporter are kept as columns for
-- operators' queries; the API scopes on the decoded state.

CREATE TABLE complaint_detail (
    id            TEXT   PRIMARY KEY,
    hostel        TEXT   NOT NULL,
    reporter      TEXT   NOT NULL,
    state         TEXT   NOT NULL,
    timeline      TEXT   NOT NULL,
    last_position INTEGER NOT NULL
);
INSERT INTO projection_checkpoints (projection) VALUES ('complaint_detail');
