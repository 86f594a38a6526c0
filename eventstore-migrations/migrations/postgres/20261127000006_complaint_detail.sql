-- The complaint_detail read model (docs/adr/0005): per complaint, the domain's folded state and its
-- timeline, as JSON text, for GET /v1/complaints/{id}. hostel and reporter are kept as columns for
-- operators' queries; the API scopes on the decoded state.

CREATE TABLE complaint_detail (
    id            text   PRIMARY KEY,
    hostel        text   NOT NULL,
    reporter      text   NOT NULL,
    state         text   NOT NULL,
    timeline      text   NOT NULL,
    last_position bigint NOT NULL
);
INSERT INTO projection_checkpoints (projection) VALUES ('complaint_detail');
