-- +goose Up
-- The follow graph: follower_id follows followee_id.
CREATE TABLE users.follows (
    follower_id bigint      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    followee_id bigint      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);

CREATE INDEX follows_follower_order_idx ON users.follows (follower_id, created_at DESC, followee_id);
CREATE INDEX follows_followee_order_idx ON users.follows (followee_id, created_at DESC, follower_id);

-- +goose Down
DROP TABLE users.follows;
