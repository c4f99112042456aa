-- +goose Up
-- A suspended account (a report resolved with REPORT_ACTION_BAN_USER) has
-- no tokens and cannot log in.
ALTER TABLE users.users ADD COLUMN suspended_at timestamptz;

-- +goose Down
ALTER TABLE users.users DROP COLUMN suspended_at;
