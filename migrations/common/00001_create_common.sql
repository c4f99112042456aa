-- +goose Up
CREATE SCHEMA common;

-- Uploaded objects, content-addressed: the key is the SHA-256 of the bytes
-- plus the format's extension, so the same bytes are stored once; the
-- first uploader is recorded as the owner.
CREATE TABLE common.objects (
    key          text        PRIMARY KEY,
    owner_id     bigint      NOT NULL,
    size         bigint      NOT NULL,
    content_type text        NOT NULL,
    width        integer     NOT NULL,
    height       integer     NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Emails accepted by SendEmail; a River job (in this schema too) sends each.
CREATE TABLE common.emails (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    requested_by bigint      NOT NULL,
    receivers    jsonb       NOT NULL, -- [{"address": ..., "name": ...}]
    cc           jsonb       NOT NULL,
    subject      text        NOT NULL,
    content      text        NOT NULL,
    status       text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);

-- +goose Down
DROP SCHEMA common CASCADE;
