-- +goose Up
-- blocker_id has blocked blocked_id: blocked_id cannot message blocker_id.
CREATE TABLE users.blocks (
    blocker_id bigint      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    blocked_id bigint      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE INDEX blocks_order_idx ON users.blocks (blocker_id, created_at DESC, blocked_id);

-- +goose Down
DROP TABLE users.blocks;
