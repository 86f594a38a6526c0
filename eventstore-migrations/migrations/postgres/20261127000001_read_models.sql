-- Read side foundation (docs/adr/0005): projection checkpoints and the complaint list read model.
--
-- A projector writes its read-model rows and its checkpoint row in one transaction, so the checkpoint
-- is exactly the last log position the read model reflects. The checkpoint row is also the lock that
-- keeps one runner per projection (SELECT ... FOR UPDATE SKIP LOCKED).

CREATE TABLE projection_checkpoints (
    projection    text        PRIMARY KEY,
    last_position bigint      NOT NULL DEFAULT 0 CHECK (last_position >= 0),
    status        text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'failed')),
    error         text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projection_checkpoints (projection) VALUES ('complaint_list');

-- One row per complaint. priority_rank orders P1..P4 first and untriaged (5) last, so the priority
-- sort is a keyset over non-null integers. first_photo_id remembers which photo's thumbnail is shown.
CREATE TABLE complaint_list (
    id              text        PRIMARY KEY,
    hostel          text        NOT NULL,
    wing            text,
    room            text        NOT NULL,
    category        text        NOT NULL,
    severity        text        NOT NULL,
    priority        text,
    priority_rank   bigint      NOT NULL,
    status          text        NOT NULL,
    assignee        text,
    reporter        text        NOT NULL,
    title           text        NOT NULL,
    description     text        NOT NULL,
    filed_at        timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    photo_count     bigint      NOT NULL,
    first_photo_id  text,
    first_thumbnail text,
    last_position   bigint      NOT NULL
);
CREATE INDEX complaint_list_filed ON complaint_list (filed_at, id);
CREATE INDEX complaint_list_updated ON complaint_list (updated_at, id);
CREATE INDEX complaint_list_priority ON complaint_list (priority_rank, id);
CREATE INDEX complaint_list_hostel_filed ON complaint_list (hostel, filed_at, id);
CREATE INDEX complaint_list_reporter_filed ON complaint_list (reporter, filed_at, id);
CREATE INDEX complaint_list_assignee ON complaint_list (assignee);
