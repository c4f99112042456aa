-- +goose Up
CREATE SCHEMA users;

-- search_grams lists the distinct single characters and character pairs of s.
-- A GIN index over it serves substring search in any script, including CJK
-- where words are not space-separated and one character is a meaningful query
-- (pg_trgm needs three characters and a locale that knows the script).
-- +goose StatementBegin
CREATE FUNCTION users.search_grams(s text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(array_agg(DISTINCT g), '{}')
  FROM (
    SELECT substr(s, i, 1) AS g FROM generate_series(1, char_length(s)) AS i
    UNION ALL
    SELECT substr(s, i, 2) FROM generate_series(1, char_length(s) - 1) AS i
  ) AS grams
$$;
-- +goose StatementEnd

-- keyword_grams is what a row's search_grams must contain for the row to
-- possibly contain keyword k: k itself when it is one character, else its pairs.
-- +goose StatementBegin
CREATE FUNCTION users.keyword_grams(k text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE WHEN char_length(k) = 1 THEN ARRAY[k]
         ELSE ARRAY(SELECT DISTINCT substr(k, i, 2) FROM generate_series(1, char_length(k) - 1) AS i)
         END
$$;
-- +goose StatementEnd

CREATE TABLE users.users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    nickname        text        NOT NULL,
    -- nickname lower-cased in Go (Unicode-aware, independent of the server's
    -- locale): uniqueness and search are case-insensitive through it.
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
CREATE INDEX users_nickname_search_idx ON users.users USING gin (users.search_grams(nickname_folded));

-- Login tokens are random; only their SHA-256 is stored.
CREATE TABLE users.tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX tokens_user_id_idx ON users.tokens (user_id);

-- Failed logins per folded nickname, for the login rate limit. Rows older
-- than the window are deleted as new failures arrive.
CREATE TABLE users.login_failures (
    nickname_folded text        NOT NULL,
    failed_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_nickname_idx ON users.login_failures (nickname_folded, failed_at);

-- +goose Down
DROP SCHEMA users CASCADE;
