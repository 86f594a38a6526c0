-- Open WebSocket sessions of every API instance (api/src/fanout/gateway/sessions.rs), so the limit of
-- sockets per user holds across instances behind a load balancer. Each instance extends its own rows
-- while they are open and deletes them on close; rows of an instance that died expire by
-- `expires_at` (Unix milliseconds). Not domain events, so not in `events`.

CREATE TABLE ws_sessions (
    session_id  TEXT   PRIMARY KEY,
    user_key    TEXT   NOT NULL,
    instance_id TEXT   NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE INDEX ws_sessions_user_key ON ws_sessions (user_key, expires_at);
CREATE INDEX ws_sessions_instance_id ON ws_sessions (instance_id);
