-- +goose Up
-- Secrets every node must share, made by the first node that needs one:
-- "media-links" signs the links uploaded files are fetched at.
CREATE TABLE common.secrets (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE common.secrets;
