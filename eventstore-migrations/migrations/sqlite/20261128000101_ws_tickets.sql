-- WebSocket tickets (api/src/fanout/gateway/ticket.rs): short-lived, single-use credentials for
-- `GET /v1/ws`, so a long-lived token never travels in a URL. Only the SHA-256 of a ticket is kept.
-- A ticket is redeemed by deleting its row, so any API instance can redeem it, and only once.
-- Times are Unix seconds. Not domain events, so not in `events`.

CREATE TABLE ws_tickets (
    ticket_hash      TEXT   PRIMARY KEY,
    user_id          TEXT   NOT NULL,
    role             TEXT   NOT NULL,
    hostels          TEXT   NOT NULL,
    token_expires_at INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL
);

CREATE INDEX ws_tickets_expires_at ON ws_tickets (expires_at);
