-- A participant's conversation settings (pinned, muted, archived) and the
-- conversation list.

-- One page of user_id's conversations in list order: pinned ones first,
-- then by activity (active_at: last_message_at, or the epoch while the
-- conversation has no message), ties by group id and id (so the groups
-- without a message yet by group id, as they all share the epoch). The
-- groups in group_ids without a conversation row (no message, no
-- settings) take part as empty rows. After the cursor (has_cursor) the
-- page starts after the row whose sort key it holds. archived is computed
-- here, never stored: set (archived_seq) and not overtaken by a message
-- since, or overtaken while muted. peer_* are a 1:1 peer's marks.
-- name: ConversationPage :many
WITH listed AS (
    SELECT c.id, c.user_a, c.user_b, c.group_id, c.last_seq, c.last_message_seq,
           (CASE WHEN c.last_seq = 0 THEN 'epoch'::timestamptz ELSE c.last_message_at END)::timestamptz AS active_at,
           coalesce(r.read_seq, 0)::bigint AS read_seq, coalesce(r.pinned, false)::boolean AS pinned, r.muted_until,
           (r.archived_seq IS NOT NULL AND (c.last_message_seq <= r.archived_seq OR coalesce(r.muted_until > now(), false)))::boolean AS archived,
           coalesce(p.read_seq, 0)::bigint AS peer_read_seq,
           greatest(coalesce(p.delivered_seq, 0), coalesce(p.read_seq, 0))::bigint AS peer_delivered_seq
    FROM messages.conversations c
    LEFT JOIN messages.reads r ON r.conversation_id = c.id AND r.user_id = @user_id
    LEFT JOIN messages.reads p ON c.group_id = 0 AND p.conversation_id = c.id
        AND p.user_id = (CASE WHEN c.user_a = @user_id THEN c.user_b ELSE c.user_a END)
    WHERE c.user_a = @user_id OR c.user_b = @user_id OR c.group_id = ANY(@group_ids::bigint[])
    UNION ALL
    SELECT 'g:' || g, 0, 0, g, 0, 0, 'epoch'::timestamptz, 0, false, NULL, false, 0, 0
    FROM unnest(@group_ids::bigint[]) AS g
    WHERE NOT EXISTS (SELECT 1 FROM messages.conversations x WHERE x.id = 'g:' || g)
)
SELECT id, user_a, user_b, group_id, last_seq, last_message_seq, active_at, read_seq, pinned, muted_until, archived,
       peer_read_seq, peer_delivered_seq
FROM listed
WHERE (@include_archived::boolean OR NOT archived)
  AND (NOT @has_cursor::boolean
       OR pinned < @cursor_pinned::boolean
       OR (pinned = @cursor_pinned::boolean AND (active_at < @cursor_active_at::timestamptz
           OR (active_at = @cursor_active_at::timestamptz
               AND (group_id, id COLLATE "C") > (@cursor_group_id::bigint, @cursor_id::text)))))
ORDER BY pinned DESC, active_at DESC, group_id, id COLLATE "C"
LIMIT @row_limit::bigint;

-- One conversation of user_id's as ConversationPage lists it (archived or
-- not); no row without its conversation row.
-- name: ConversationFor :one
SELECT c.id, c.user_a, c.user_b, c.group_id, c.last_seq, c.last_message_seq,
       (CASE WHEN c.last_seq = 0 THEN 'epoch'::timestamptz ELSE c.last_message_at END)::timestamptz AS active_at,
       coalesce(r.read_seq, 0)::bigint AS read_seq, coalesce(r.pinned, false)::boolean AS pinned, r.muted_until,
       (r.archived_seq IS NOT NULL AND (c.last_message_seq <= r.archived_seq OR coalesce(r.muted_until > now(), false)))::boolean AS archived,
       coalesce(p.read_seq, 0)::bigint AS peer_read_seq,
       greatest(coalesce(p.delivered_seq, 0), coalesce(p.read_seq, 0))::bigint AS peer_delivered_seq
FROM messages.conversations c
LEFT JOIN messages.reads r ON r.conversation_id = c.id AND r.user_id = @user_id
LEFT JOIN messages.reads p ON c.group_id = 0 AND p.conversation_id = c.id
    AND p.user_id = (CASE WHEN c.user_a = @user_id THEN c.user_b ELSE c.user_a END)
WHERE c.id = @id;

-- Gives a group that has no message yet its conversation row (last_seq 0),
-- so that its members' settings have a row to refer to; its first message
-- takes seq 1 as it would have. Nothing when the row exists.
-- name: EnsureGroupConversation :exec
INSERT INTO messages.conversations (id, group_id, last_seq, last_message_seq)
VALUES (@id, @group_id, 0, 0)
ON CONFLICT (id) DO NOTHING;

-- Serialises one user's pinning, so that the cap holds under concurrent
-- pins: held until the transaction ends.
-- name: LockPins :exec
SELECT pg_advisory_xact_lock(hashtextextended('messages.pins', @user_id::bigint));

-- How many conversations user_id has pinned but the one named.
-- name: CountPinnedBut :one
SELECT count(*) FROM messages.reads
WHERE user_id = @user_id AND pinned AND conversation_id <> @conversation_id;

-- name: EnsureRead :exec
INSERT INTO messages.reads (user_id, conversation_id)
VALUES (@user_id, @conversation_id)
ON CONFLICT (user_id, conversation_id) DO NOTHING;

-- Changes the settings set_* name; a muted_until not in the future unmutes
-- (NULL). Archiving stores the conversation's last_seq; a conversation
-- that was archived but is no longer (a message came after while it was
-- not muted) has its archived_seq cleared, so that muting it later does
-- not archive it again. The right side of SET sees the row before.
-- name: UpdateSettings :exec
UPDATE messages.reads r
SET pinned = CASE WHEN @set_pinned::boolean THEN @pinned::boolean ELSE r.pinned END,
    muted_until = CASE
        WHEN NOT @set_muted::boolean THEN r.muted_until
        WHEN sqlc.narg(muted_until)::timestamptz > now() THEN sqlc.narg(muted_until)::timestamptz
    END,
    archived_seq = CASE
        WHEN @set_archived::boolean AND @archived::boolean THEN c.last_seq
        WHEN @set_archived::boolean THEN NULL
        WHEN r.archived_seq IS NOT NULL AND c.last_message_seq > r.archived_seq AND NOT coalesce(r.muted_until > now(), false) THEN NULL
        ELSE r.archived_seq
    END
FROM messages.conversations c
WHERE r.user_id = @user_id AND r.conversation_id = @conversation_id AND c.id = r.conversation_id;
