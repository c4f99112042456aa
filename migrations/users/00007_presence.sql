-- +goose Up
-- Presence: a user is online while it has a session on a live node. Each
-- node keeps a row for each user with a device online there, and beats its
-- heart in presence_nodes; a node whose row expires (it stopped beating)
-- is dead, and its sessions are swept away (its users go offline) by the
-- others. Each node sets its own expiry (three of its beats), so nodes
-- beating at different rates share one table.
CREATE TABLE users.presence_nodes (
    node_id    text        PRIMARY KEY,
    beat_at    timestamptz NOT NULL DEFAULT now(), -- its last heartbeat
    expires_at timestamptz NOT NULL                -- dead unless it beats again before
);
CREATE TABLE users.presence_sessions (
    user_id  bigint NOT NULL REFERENCES users.users (id),
    node_id  text   NOT NULL,
    PRIMARY KEY (user_id, node_id)
);
CREATE INDEX presence_sessions_node_idx ON users.presence_sessions (node_id);
ALTER TABLE users.users
    ADD COLUMN last_seen_at timestamptz, -- when its last session ended (to a minute)
    ADD COLUMN hide_presence boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE users.users DROP COLUMN last_seen_at, DROP COLUMN hide_presence;
DROP TABLE users.presence_sessions;
DROP TABLE users.presence_nodes;
