-- +goose Up
-- Changes to messages (edits now; recalls, reactions and delete-for-me
-- next) are entries of the conversation's stream, as messages are: each
-- takes the next seq, so one cursor covers messages and changes, without
-- gaps (docs/message-lifecycle.md). The change itself is applied to the
-- message's row, which always holds its current state.
ALTER TABLE messages.messages
    ADD COLUMN edited_at  timestamptz,
    ADD COLUMN edit_count integer NOT NULL DEFAULT 0;

-- last_seq counts entries; the conversation's last message is at
-- last_message_seq.
ALTER TABLE messages.conversations ADD COLUMN last_message_seq bigint NOT NULL DEFAULT 0;
UPDATE messages.conversations SET last_message_seq = last_seq;

CREATE TABLE messages.changes (
    conversation_id text        NOT NULL REFERENCES messages.conversations,
    seq             bigint      NOT NULL,
    message_id      bigint      NOT NULL,
    kind            smallint    NOT NULL, -- message.ChangeKind
    actor_id        bigint      NOT NULL, -- who made the change
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);

-- +goose Down
DROP TABLE messages.changes;
ALTER TABLE messages.conversations DROP COLUMN last_message_seq;
ALTER TABLE messages.messages DROP COLUMN edited_at, DROP COLUMN edit_count;
