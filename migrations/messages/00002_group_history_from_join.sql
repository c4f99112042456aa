-- +goose Up
-- A group member sees the group's messages from their join on: the first
-- seq they see is that of the first message created since they joined,
-- found through this index (group messages only: 1:1 sends do not pay for it).
CREATE INDEX messages_group_created_idx ON messages.messages (conversation_id, created_at, seq)
    WHERE to_group_id <> 0;

-- +goose Down
DROP INDEX messages.messages_group_created_idx;
