-- +goose Up
-- The confusable skeletons of each nickname (identity.Skeletons, made in
-- Go): a new nickname with a skeleton taken looks like an existing one and
-- is refused. Migration 6 fills it for the nicknames from before; of
-- nicknames that already looked alike, the oldest holds the skeleton.
CREATE TABLE users.nickname_skeletons (
    skeleton text   PRIMARY KEY,
    user_id  bigint NOT NULL REFERENCES users.users (id) ON DELETE CASCADE
);

CREATE INDEX nickname_skeletons_user_idx ON users.nickname_skeletons (user_id);

-- +goose Down
DROP TABLE users.nickname_skeletons;
