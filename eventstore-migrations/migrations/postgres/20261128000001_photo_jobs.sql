-- Thumbnail jobs (docs/adr/0009): the worker's job source when no JetStream consumer feeds it. A
-- feeder copies every PhotoAttached event of the log into `photo_jobs` (keyed by its global position,
-- so a re-read inserts nothing twice) and moves `photo_job_feed` in the same transaction. A worker
-- leases a job by moving `visible_at` past its ack wait; an ack sets `done_at`; a nak moves
-- `visible_at` to the end of its backoff. A worker that dies mid-job leaves the lease to expire, and
-- the job is delivered again. Times are Unix milliseconds, the same on both backends.

CREATE TABLE photo_job_feed (
    singleton     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    last_position BIGINT NOT NULL
);
INSERT INTO photo_job_feed (singleton, last_position) VALUES (TRUE, 0);

CREATE TABLE photo_jobs (
    position     BIGINT PRIMARY KEY,
    complaint_id TEXT NOT NULL,
    photo_id     TEXT NOT NULL,
    deliveries   INTEGER NOT NULL DEFAULT 0,
    visible_at   BIGINT NOT NULL,
    done_at      BIGINT
);
CREATE INDEX photo_jobs_pending ON photo_jobs (visible_at, position) WHERE done_at IS NULL;
