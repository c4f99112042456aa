-- +goose Up
-- A recalled message stays as a tombstone: its body erased (not only
-- hidden), who recalled it and when kept. Replies to it keep its id; their
-- quote says it was recalled.
ALTER TABLE messages.messages
    ADD COLUMN recalled_at   timestamptz,
    ADD COLUMN recalled_by   bigint  NOT NULL DEFAULT 0,
    ADD COLUMN reply_recalled boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE messages.messages DROP COLUMN recalled_at, DROP COLUMN recalled_by, DROP COLUMN reply_recalled;
