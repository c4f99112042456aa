-- Reports (common.reports).

-- A new open report, or none when the reporter has one open on the
-- content already (see FindOpenReport).
-- name: CreateReport :one
INSERT INTO common.reports (kind, content_id, reporter_id, reason, author_id, group_id)
VALUES (@kind, @content_id, @reporter_id, @reason, @author_id, @group_id)
ON CONFLICT (reporter_id, kind, content_id) WHERE resolution = 0 DO NOTHING
RETURNING *;

-- name: FindOpenReport :one
SELECT * FROM common.reports
WHERE reporter_id = @reporter_id AND kind = @kind AND content_id = @content_id AND resolution = 0;

-- Serialises one reporter's filings for the rest of the transaction (the
-- first key names the lock's use; ids folded into the second may share).
-- name: LockReporter :exec
SELECT pg_advisory_xact_lock(7301, mod(@reporter_id::bigint, 2147483647)::integer);

-- name: CountOpenReportsBy :one
SELECT count(*) FROM common.reports WHERE reporter_id = @reporter_id AND resolution = 0;

-- Newest first, below before_id; group_id 0 lists every report, another
-- only that group's.
-- name: ListReports :many
SELECT * FROM common.reports
WHERE id < @before_id
  AND (@group_id::bigint = 0 OR group_id = @group_id::bigint)
  AND (@include_resolved::boolean OR resolution = 0)
ORDER BY id DESC
LIMIT @row_limit::bigint;

-- name: LockReport :one
SELECT * FROM common.reports WHERE id = @id FOR UPDATE;

-- name: ResolveReport :one
UPDATE common.reports SET resolution = @resolution, resolved_by = @resolved_by, resolved_at = now()
WHERE id = @id
RETURNING *;
