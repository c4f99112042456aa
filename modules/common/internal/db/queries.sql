-- name: RecordObject :exec
INSERT INTO common.objects (key, owner_id, size, content_type, width, height)
VALUES (@key, @owner_id, @size, @content_type, @width, @height)
ON CONFLICT (key) DO NOTHING;

-- name: CreateEmail :one
INSERT INTO common.emails (requested_by, receivers, cc, subject, content)
VALUES (@requested_by, @receivers, @cc, @subject, @content)
RETURNING *;

-- name: GetEmail :one
SELECT * FROM common.emails WHERE id = @id;

-- name: EmailAttempted :exec
UPDATE common.emails
SET attempts = attempts + 1, last_error = @last_error,
    status = CASE WHEN @failed::boolean THEN 'failed' ELSE status END
WHERE id = @id;

-- name: EmailSent :exec
UPDATE common.emails SET status = 'sent', attempts = attempts + 1, last_error = '', sent_at = now()
WHERE id = @id;

-- name: AddSecret :exec
INSERT INTO common.secrets (name, value) VALUES (@name, @value)
ON CONFLICT (name) DO NOTHING;

-- name: GetSecret :one
SELECT value FROM common.secrets WHERE name = @name;
