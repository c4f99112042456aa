-- +goose Up
-- A participant's row of a conversation holds all it keeps per member: how
-- far it has read (read_seq) and how far its devices have received
-- (delivered_seq), and its settings. One row per (conversation, member),
-- never one per message: a 10,000-member group costs 10,000 rows however
-- long it runs.
ALTER TABLE messages.reads
    ADD COLUMN delivered_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN pinned boolean NOT NULL DEFAULT false,
    ADD COLUMN muted_until timestamptz,
    -- The conversation's last_seq when it was archived (NULL: not archived):
    -- a message after it brings the conversation back unless it is muted.
    ADD COLUMN archived_seq bigint;
UPDATE messages.reads SET delivered_seq = read_seq;

-- Receipt counts and pages read a conversation's marks by user id.
CREATE INDEX reads_conversation_idx ON messages.reads (conversation_id, user_id);

-- +goose Down
DROP INDEX messages.reads_conversation_idx;
ALTER TABLE messages.reads DROP COLUMN delivered_seq, DROP COLUMN pinned, DROP COLUMN muted_until, DROP COLUMN archived_seq;
