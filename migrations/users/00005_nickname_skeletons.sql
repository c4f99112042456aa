-- +goose Up
-- identity.Skeleton(nickname), made in Go: a new nickname whose skeleton is
-- taken looks like an existing one and is refused. Migration 6 fills it for
-- the nicknames from before and makes it unique; a nickname that already
-- collided with an older one keeps NULL (it stays valid, it is not copied).
ALTER TABLE users.users ADD COLUMN nickname_skeleton text;

-- +goose Down
ALTER TABLE users.users DROP COLUMN nickname_skeleton;
