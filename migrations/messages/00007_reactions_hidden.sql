-- +goose Up
-- Reactions: one row per (message, emoji, user), the newest of an emoji
-- found through its index. reaction_counts keeps each emoji's count (and
-- when it came into use), so a message's reactions are read in 20 rows
-- however many users reacted. reaction_kinds counts a message's different
-- emoji, kept with the row so the cap of 20 is checked under the message's
-- lock and pages without reactions skip their query.
CREATE TABLE messages.reactions (
    message_id bigint      NOT NULL REFERENCES messages.messages (id),
    emoji      text        NOT NULL,
    user_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, emoji, user_id)
);
CREATE INDEX reactions_newest_idx ON messages.reactions (message_id, emoji, created_at DESC, user_id DESC);
CREATE TABLE messages.reaction_counts (
    message_id bigint      NOT NULL REFERENCES messages.messages (id),
    emoji      text        NOT NULL,
    count      bigint      NOT NULL,
    first_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, emoji)
);
ALTER TABLE messages.messages ADD COLUMN reaction_kinds smallint NOT NULL DEFAULT 0;
-- The emoji a reaction change is about.
ALTER TABLE messages.changes ADD COLUMN emoji text NOT NULL DEFAULT '';

-- Messages a user deleted for itself: left out of that user's syncs, last
-- message and unread count (by conversation and seq).
CREATE TABLE messages.hidden (
    user_id         bigint NOT NULL,
    message_id      bigint NOT NULL REFERENCES messages.messages (id),
    conversation_id text   NOT NULL,
    seq             bigint NOT NULL,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX hidden_by_seq_idx ON messages.hidden (user_id, conversation_id, seq);
-- Who deleted a message, for a change's recipients.
CREATE INDEX hidden_by_message_idx ON messages.hidden (message_id);

-- An idempotency key is one request's: a send (0) or a change (its
-- message.ChangeKind) of one message. A retry naming another is refused.
ALTER TABLE messages.idempotency_keys ADD COLUMN operation smallint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE messages.idempotency_keys DROP COLUMN operation;
DROP TABLE messages.hidden;
ALTER TABLE messages.changes DROP COLUMN emoji;
ALTER TABLE messages.messages DROP COLUMN reaction_kinds;
DROP TABLE messages.reaction_counts;
DROP TABLE messages.reactions;
