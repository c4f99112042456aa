-- +goose Up
-- A reply names the message it answers and keeps a quote of it as it was
-- when the reply was sent (its sender, type and a short preview), so a
-- client draws the quote without fetching the original. Adding columns with
-- constant defaults rewrites nothing (PostgreSQL 11+).
ALTER TABLE messages.messages
    ADD COLUMN reply_to_id        bigint   NOT NULL DEFAULT 0,
    ADD COLUMN reply_from_user_id bigint   NOT NULL DEFAULT 0,
    ADD COLUMN reply_type         smallint NOT NULL DEFAULT 0,
    ADD COLUMN reply_preview      text     NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE messages.messages
    DROP COLUMN reply_to_id,
    DROP COLUMN reply_from_user_id,
    DROP COLUMN reply_type,
    DROP COLUMN reply_preview;
