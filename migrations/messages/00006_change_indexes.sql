-- +goose Up
-- A recall marks the quotes of the replies to it, under the conversation's
-- lock: found through the replies' index, not a scan of the conversation.
CREATE INDEX messages_replies_idx ON messages.messages (conversation_id, reply_to_id) WHERE reply_to_id <> 0;
-- The unread count leaves out recalled messages: counted from this index.
CREATE INDEX messages_recalled_idx ON messages.messages (conversation_id, seq) WHERE recalled_at IS NOT NULL;

-- +goose Down
DROP INDEX messages.messages_recalled_idx;
DROP INDEX messages.messages_replies_idx;
