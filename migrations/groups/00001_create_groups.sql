-- +goose Up
CREATE SCHEMA groups;

CREATE TABLE groups.groups (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL,
    name_folded  text        NOT NULL, -- search.Fold(name), for search
    introduction text        NOT NULL DEFAULT '',
    avatar_url   text        NOT NULL DEFAULT '',
    extra        text        NOT NULL DEFAULT '',
    owner_id     bigint      NOT NULL, -- a user id of the user module; no cross-schema key
    -- Kept in step with groups.members under the group row's lock, so the
    -- member cap holds under concurrent joins.
    member_count integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);

CREATE INDEX groups_name_search_idx ON groups.groups USING gin (search.grams(name_folded))
    WHERE deleted_at IS NULL;
CREATE INDEX groups_owner_idx ON groups.groups (owner_id);

CREATE TABLE groups.members (
    group_id  bigint      NOT NULL REFERENCES groups.groups (id),
    user_id   bigint      NOT NULL,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX members_join_order_idx ON groups.members (group_id, joined_at, user_id);
CREATE INDEX members_user_idx ON groups.members (user_id);

-- +goose Down
DROP SCHEMA groups CASCADE;
