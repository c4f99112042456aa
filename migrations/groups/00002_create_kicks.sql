-- +goose Up
-- Who an owner removed from a group, by whom and when. A removed user
-- cannot rejoin by themselves, nor be added back by another member: only
-- the owner adding them again lifts it (and deletes the row).
CREATE TABLE groups.kicks (
    group_id  bigint      NOT NULL REFERENCES groups.groups (id),
    user_id   bigint      NOT NULL,
    kicked_by bigint      NOT NULL,
    kicked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);

-- +goose Down
DROP TABLE groups.kicks;
