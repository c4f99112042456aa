-- +goose Up
-- Failed logins are counted per nickname and the address they came from,
-- so one address's guesses do not lock the owner out everywhere; rows are
-- kept a day, for the backoff that grows with repeated failures.
ALTER TABLE users.login_failures ADD COLUMN address text NOT NULL DEFAULT '';
CREATE INDEX login_failures_nickname_address_idx ON users.login_failures (nickname_folded, address, failed_at);

-- +goose Down
DROP INDEX users.login_failures_nickname_address_idx;
ALTER TABLE users.login_failures DROP COLUMN address;
