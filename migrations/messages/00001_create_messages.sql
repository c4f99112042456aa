-- +goose Up
CREATE SCHEMA messages;

-- A conversation is a pair of users ("u:<a>:<b>", a < b) or a group
-- ("g:<id>"). last_seq is the seq of its newest message: sends take the next
-- one under this row's lock, so seqs are gap-free and in commit order.
CREATE TABLE messages.conversations (
    id              text        PRIMARY KEY,
    user_a          bigint      NOT NULL DEFAULT 0, -- 1:1: the smaller user id
    user_b          bigint      NOT NULL DEFAULT 0, -- 1:1: the larger user id
    group_id        bigint      NOT NULL DEFAULT 0, -- group conversations
    last_seq        bigint      NOT NULL DEFAULT 0,
    last_message_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX conversations_user_a_idx ON messages.conversations (user_a) WHERE user_a <> 0;
CREATE INDEX conversations_user_b_idx ON messages.conversations (user_b) WHERE user_b <> 0;
CREATE INDEX conversations_group_idx ON messages.conversations (group_id) WHERE group_id <> 0;

-- One row per message, whatever the number of recipients: a group message
-- to 10,000 members is one row.
CREATE TABLE messages.messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id text        NOT NULL REFERENCES messages.conversations (id),
    seq             bigint      NOT NULL,
    from_user_id    bigint      NOT NULL,
    to_user_id      bigint      NOT NULL DEFAULT 0,
    to_group_id     bigint      NOT NULL DEFAULT 0,
    type            smallint    NOT NULL, -- message.MESSAGE_TYPE
    body            bytea       NOT NULL, -- the serialized body (TextMessage, ...)
    at_user_ids     bigint[]    NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq)
);

-- How far each user has read each conversation. A sender has read its own
-- message, so a send moves the sender's row.
CREATE TABLE messages.reads (
    user_id         bigint NOT NULL,
    conversation_id text   NOT NULL REFERENCES messages.conversations (id),
    read_seq        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
);

-- A client's idempotency key names its first send for 24 hours.
CREATE TABLE messages.idempotency_keys (
    sender_id  bigint      NOT NULL,
    key        text        NOT NULL,
    message_id bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sender_id, key)
);

CREATE INDEX idempotency_keys_created_idx ON messages.idempotency_keys (created_at);

-- +goose Down
DROP SCHEMA messages CASCADE;
