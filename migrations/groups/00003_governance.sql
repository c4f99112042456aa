-- +goose Up
-- Group governance: roles, join policies, join requests, invites, mutes,
-- bans, and the outbox of group events the message module stores.
ALTER TABLE groups.groups
    ADD COLUMN join_policy     smallint NOT NULL DEFAULT 0, -- group.JoinPolicy
    ADD COLUMN mute_all        boolean  NOT NULL DEFAULT false,
    ADD COLUMN history_visible boolean  NOT NULL DEFAULT false;

ALTER TABLE groups.members
    ADD COLUMN role        smallint NOT NULL DEFAULT 0, -- group.GroupRole
    ADD COLUMN muted_until timestamptz;

UPDATE groups.members m SET role = 2
FROM groups.groups g
WHERE g.id = m.group_id AND g.owner_id = m.user_id;

-- groups.owner_id stays the owner (other modules read it); the member row
-- carries the role too, and at most one member of a group is its owner.
CREATE UNIQUE INDEX members_one_owner_idx ON groups.members (group_id) WHERE role = 2;
CREATE INDEX members_staff_idx ON groups.members (group_id, role) WHERE role > 0;

-- A banned user is not a member and cannot come back by any path until
-- unbanned.
CREATE TABLE groups.bans (
    group_id  bigint      NOT NULL REFERENCES groups.groups (id),
    user_id   bigint      NOT NULL,
    banned_by bigint      NOT NULL,
    reason    text        NOT NULL DEFAULT '',
    banned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX bans_newest_idx ON groups.bans (group_id, banned_at DESC);

-- Pending requests to join a JOIN_POLICY_APPROVAL group; a decision
-- deletes the row.
CREATE TABLE groups.join_requests (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id   bigint      NOT NULL REFERENCES groups.groups (id),
    user_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (group_id, user_id)
);

CREATE INDEX join_requests_oldest_idx ON groups.join_requests (group_id, id);

-- Invite codes. A revoked, expired or used-up code stays, so joining with
-- it can say why it no longer works.
CREATE TABLE groups.invites (
    code       text        PRIMARY KEY,
    group_id   bigint      NOT NULL REFERENCES groups.groups (id),
    created_by bigint      NOT NULL,
    max_uses   integer     NOT NULL DEFAULT 0, -- 0: no limit
    uses       integer     NOT NULL DEFAULT 0,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX invites_group_idx ON groups.invites (group_id, created_at DESC);

-- Group events written in the transaction of the change they record and
-- relayed, in id order, to the message module, which stores each in the
-- group's conversation once (keyed by the event id); a relayed event's row
-- is deleted.
CREATE TABLE groups.events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id   bigint      NOT NULL,
    event      bytea       NOT NULL, -- a serialized group.GroupEvent
    extra_to   bigint      NOT NULL DEFAULT 0, -- a removed user who is told too
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE groups.events;
DROP TABLE groups.invites;
DROP TABLE groups.join_requests;
DROP TABLE groups.bans;
DROP INDEX groups.members_staff_idx;
DROP INDEX groups.members_one_owner_idx;
ALTER TABLE groups.members DROP COLUMN muted_until, DROP COLUMN role;
ALTER TABLE groups.groups DROP COLUMN history_visible, DROP COLUMN mute_all, DROP COLUMN join_policy;
