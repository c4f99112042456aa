-- +goose Up
CREATE SCHEMA users;

CREATE TABLE users.users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nickname        text        NOT NULL,
    -- search.Fold(nickname), made in Go: uniqueness and search are
    -- case-insensitive through it.
    nickname_folded text        NOT NULL,
    gender          smallint    NOT NULL DEFAULT 0,
    avatar_url      text        NOT NULL DEFAULT '',
    extra           text        NOT NULL DEFAULT '',
    password_hash   text        NOT NULL,
    is_admin        boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);

CREATE UNIQUE INDEX users_nickname_folded_key ON users.users (nickname_folded);
CREATE INDEX users_nickname_search_idx ON users.users USING gin (search.grams(nickname_folded));

-- Login tokens are random; only their SHA-256 is stored.
CREATE TABLE users.tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX tokens_user_id_idx ON users.tokens (user_id);

-- Failed logins per folded nickname, for the login rate limit. Rows older
-- than the window are deleted as new attempts arrive.
-- A login attempt is recorded as a failure before the password is checked
-- (and deleted if it was right), so parallel guesses are counted too.
CREATE TABLE users.login_failures (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nickname_folded text        NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_nickname_idx ON users.login_failures (nickname_folded, failed_at);
CREATE INDEX login_failures_failed_at_idx ON users.login_failures (failed_at);

-- +goose Down
DROP SCHEMA users CASCADE;
