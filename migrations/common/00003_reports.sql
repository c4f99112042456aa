-- +goose Up
-- Reports of content (common.ReportKind) by users, resolved by Parley
-- admins or, for a group's messages, the group's owner and admins.
CREATE TABLE common.reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        smallint    NOT NULL, -- common.ReportKind
    content_id  bigint      NOT NULL,
    reporter_id bigint      NOT NULL,
    reason      text        NOT NULL DEFAULT '',
    author_id   bigint      NOT NULL,
    group_id    bigint      NOT NULL DEFAULT 0, -- a group message's group
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolution  smallint    NOT NULL DEFAULT 0, -- common.ReportAction; 0 while open
    resolved_by bigint      NOT NULL DEFAULT 0,
    resolved_at timestamptz
);

-- One open report per reporter and content: reporting again finds it.
CREATE UNIQUE INDEX reports_open_once_idx ON common.reports (reporter_id, kind, content_id) WHERE resolution = 0;
CREATE INDEX reports_newest_idx ON common.reports (id DESC);
CREATE INDEX reports_group_idx ON common.reports (group_id, id DESC) WHERE group_id <> 0;

-- +goose Down
DROP TABLE common.reports;
