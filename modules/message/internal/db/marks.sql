-- Delivery and read marks (receipts).

-- For each of user_ids, the users it shares a 1:1 conversation with, most
-- recently active first, up to row_limit each: their contacts for
-- presence. Each side is its own branch, with the partial indexes'
-- predicate spelled out so the planner can use them.
-- name: ConversationPeersOf :many
SELECT u.user_id::bigint AS user_id, p.peer_id::bigint AS peer_id
FROM unnest(@user_ids::bigint[]) AS u(user_id)
CROSS JOIN LATERAL (
    SELECT mine.peer_id FROM (
        SELECT c.user_b AS peer_id, c.last_message_at FROM messages.conversations c
        WHERE c.user_a = u.user_id AND c.user_a <> 0
        UNION ALL
        SELECT c.user_a, c.last_message_at FROM messages.conversations c
        WHERE c.user_b = u.user_id AND c.user_b <> 0) mine
    ORDER BY mine.last_message_at DESC
    LIMIT @row_limit::bigint) p;

-- Moves the user's read mark up to read_seq (a read message is delivered
-- too); no row when it was there already. old_* are the marks before
-- (the statement's snapshot: RETURNING's subqueries do not see its write).
-- name: MarkRead :one
WITH old AS (
    SELECT read_seq, delivered_seq FROM messages.reads WHERE user_id = @user_id AND conversation_id = @conversation_id
)
INSERT INTO messages.reads AS r (user_id, conversation_id, read_seq, delivered_seq)
VALUES (@user_id, @conversation_id, @read_seq, @read_seq)
ON CONFLICT (user_id, conversation_id) DO UPDATE
SET read_seq = excluded.read_seq, delivered_seq = greatest(r.delivered_seq, excluded.read_seq)
WHERE r.read_seq < excluded.read_seq
RETURNING r.read_seq, r.delivered_seq,
    coalesce((SELECT read_seq FROM old), 0)::bigint AS old_read_seq,
    coalesce((SELECT delivered_seq FROM old), 0)::bigint AS old_delivered_seq;

-- Moves the user's delivered mark up to delivered_seq; no row when it was
-- there already.
-- name: MarkDelivered :one
WITH old AS (
    SELECT read_seq, delivered_seq FROM messages.reads WHERE user_id = @user_id AND conversation_id = @conversation_id
)
INSERT INTO messages.reads AS r (user_id, conversation_id, delivered_seq)
VALUES (@user_id, @conversation_id, @delivered_seq)
ON CONFLICT (user_id, conversation_id) DO UPDATE
SET delivered_seq = excluded.delivered_seq
WHERE r.delivered_seq < excluded.delivered_seq
RETURNING r.read_seq, r.delivered_seq,
    coalesce((SELECT read_seq FROM old), 0)::bigint AS old_read_seq,
    coalesce((SELECT delivered_seq FROM old), 0)::bigint AS old_delivered_seq;

-- The senders (but the viewer) of the messages in (after_seq, upto]: who
-- gets a receipt frame when a member's marks move over them.
-- name: SendersBetween :many
SELECT DISTINCT m.from_user_id FROM messages.messages m
WHERE m.conversation_id = @conversation_id AND m.seq > @after_seq AND m.seq <= @upto
  AND m.from_user_id <> @viewer_id;

-- name: MessageBySeq :one
SELECT * FROM messages.messages WHERE conversation_id = @conversation_id AND seq = @seq;

-- name: MarksOf :one
SELECT read_seq, delivered_seq FROM messages.reads WHERE user_id = @user_id AND conversation_id = @conversation_id;

-- How many of user_ids have seq delivered, and read.
-- name: CountMarks :one
SELECT count(*) FILTER (WHERE delivered_seq >= @seq::bigint)::bigint AS delivered,
       count(*) FILTER (WHERE read_seq >= @seq::bigint)::bigint AS read
FROM messages.reads
WHERE conversation_id = @conversation_id AND user_id = ANY(@user_ids::bigint[]);

-- A page of user_ids, by id after after_user_id, that have seq delivered,
-- and whether they read it too.
-- name: MarksPage :many
SELECT user_id, (read_seq >= @seq::bigint)::boolean AS read
FROM messages.reads
WHERE conversation_id = @conversation_id AND user_id = ANY(@user_ids::bigint[])
  AND user_id > @after_user_id AND delivered_seq >= @seq::bigint
ORDER BY user_id
LIMIT @row_limit::bigint;
