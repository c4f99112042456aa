-- Claims the key for this transaction: a row back means the key is new (or
-- its last use expired) and the send goes ahead; no row means a live send
-- already used it (the claim waits for that send's transaction to end).
-- name: ClaimIdempotencyKey :one
INSERT INTO messages.idempotency_keys (sender_id, key)
VALUES (@sender_id, @key)
ON CONFLICT (sender_id, key) DO UPDATE
SET message_id = 0, operation = 0, created_at = now()
WHERE messages.idempotency_keys.created_at < now() - interval '24 hours'
RETURNING sender_id;

-- name: IdempotentMessageID :one
SELECT message_id, operation FROM messages.idempotency_keys WHERE sender_id = @sender_id AND key = @key;

-- The request a live key (used within 24 hours) made, if any.
-- name: LiveIdempotentChange :one
SELECT message_id, operation FROM messages.idempotency_keys
WHERE sender_id = @sender_id AND key = @key AND created_at >= now() - interval '24 hours';

-- name: SetIdempotentMessageID :exec
UPDATE messages.idempotency_keys SET message_id = @message_id, operation = @operation WHERE sender_id = @sender_id AND key = @key;

-- name: DeleteExpiredIdempotencyKeys :exec
DELETE FROM messages.idempotency_keys WHERE created_at < now() - interval '24 hours';

-- Stores a message in one statement (so one round trip, atomic on its own):
-- creates the conversation on its first message or takes its next seq
-- under the conversation row's lock, inserts the message with that seq,
-- and marks it read (so delivered) by its sender.
-- name: StoreMessage :one
WITH seq AS (
    INSERT INTO messages.conversations (id, user_a, user_b, group_id, last_seq, last_message_seq)
    VALUES (@conversation_id, @user_a, @user_b, @group_id, 1, 1)
    ON CONFLICT (id) DO UPDATE
    SET last_seq = messages.conversations.last_seq + 1, last_message_seq = messages.conversations.last_seq + 1,
        last_message_at = now()
    RETURNING last_seq
), stored AS (
    INSERT INTO messages.messages (conversation_id, seq, from_user_id, to_user_id, to_group_id, type, body, at_user_ids,
                                   reply_to_id, reply_from_user_id, reply_type, reply_preview)
    SELECT @conversation_id, seq.last_seq, @from_user_id, @to_user_id, @to_group_id, @type, @body, @at_user_ids,
           @reply_to_id, @reply_from_user_id, @reply_type, @reply_preview
    FROM seq
    RETURNING *
), read_by_sender AS (
    INSERT INTO messages.reads (user_id, conversation_id, read_seq, delivered_seq)
    SELECT @from_user_id, @conversation_id, seq.last_seq, seq.last_seq FROM seq
    ON CONFLICT (user_id, conversation_id) DO UPDATE
    SET read_seq = greatest(messages.reads.read_seq, excluded.read_seq),
        delivered_seq = greatest(messages.reads.delivered_seq, excluded.read_seq)
)
SELECT * FROM stored;

-- name: GetConversation :one
SELECT * FROM messages.conversations WHERE id = @id;

-- A message of the conversation the caller sees (from first_seq on, not
-- deleted for itself): what a reply may quote.
-- name: VisibleMessage :one
SELECT * FROM messages.messages m
WHERE m.id = @id AND m.conversation_id = @conversation_id AND m.seq >= @first_seq
  AND NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = @viewer_id AND h.message_id = m.id);

-- Up to upto: a sync reads messages and changes up to one last_seq, so an
-- entry committed between its two statements is left for the next page.
-- Messages the viewer deleted for itself are left out.
-- name: MessagesAfter :many
SELECT * FROM messages.messages m
WHERE m.conversation_id = @conversation_id AND m.seq > @after_seq AND m.seq <= @upto
  AND NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = @viewer_id AND h.message_id = m.id)
ORDER BY seq
LIMIT @row_limit::bigint;

-- The newest messages before before_seq, from first_seq on, newest first
-- (the caller puts them back in seq order).
-- name: MessagesBefore :many
SELECT * FROM messages.messages m
WHERE m.conversation_id = @conversation_id AND m.seq < @before_seq AND m.seq >= @first_seq
  AND NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = @viewer_id AND h.message_id = m.id)
ORDER BY seq DESC
LIMIT @row_limit::bigint;

-- The conversations' last messages, but those the viewer deleted for
-- itself (LastVisibleMessages finds the ones before).
-- name: LastMessages :many
SELECT m.* FROM messages.messages m
JOIN messages.conversations c ON c.id = m.conversation_id AND m.seq = c.last_message_seq
WHERE c.id = ANY(@conversation_ids::text[])
  AND NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = @viewer_id AND h.message_id = m.id);

-- The newest message of each conversation from first_seqs[i] on that the
-- viewer did not delete for itself, found backwards through the
-- (conversation_id, seq) index.
-- name: LastVisibleMessages :many
WITH wanted AS (
    SELECT (@conversation_ids::text[])[i] AS id, (@first_seqs::bigint[])[i] AS first_seq
    FROM generate_subscripts(@conversation_ids::text[], 1) AS i
)
SELECT m.* FROM wanted c
CROSS JOIN LATERAL (
    SELECT * FROM messages.messages x
    WHERE x.conversation_id = c.id AND x.seq >= c.first_seq
      AND NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = @viewer_id AND h.message_id = x.id)
    ORDER BY x.seq DESC
    LIMIT 1
) m;

-- A message by id, locked for a change to it.
-- name: LockMessage :one
SELECT * FROM messages.messages WHERE id = @id FOR UPDATE;

-- name: GetMessage :one
SELECT * FROM messages.messages WHERE id = @id;

-- The conversation's row, locked first by a change: the lock order of
-- every change (conversation, then messages) cannot deadlock another.
-- name: LockConversation :exec
SELECT id FROM messages.conversations WHERE id = @id FOR UPDATE;

-- A reply stored while the message it quotes was being recalled: its quote
-- is marked recalled too (the recall's own marking ran before it existed).
-- name: QuoteOfRecalled :one
UPDATE messages.messages r SET reply_recalled = true, reply_preview = ''
WHERE r.id = @id AND NOT r.reply_recalled
  AND EXISTS (SELECT 1 FROM messages.messages q WHERE q.id = r.reply_to_id AND q.recalled_at IS NOT NULL)
RETURNING *;

-- The conversation's next seq, for a change entry.
-- name: NextSeq :one
UPDATE messages.conversations SET last_seq = last_seq + 1 WHERE id = @id RETURNING last_seq;

-- name: EditMessage :one
UPDATE messages.messages SET body = @body, edited_at = now(), edit_count = edit_count + 1
WHERE id = @id
RETURNING *;

-- Recalls the message: its body erased, the quotes of the replies to it
-- marked recalled.
-- name: RecallMessage :one
UPDATE messages.messages SET body = '', recalled_at = now(), recalled_by = @recalled_by, reaction_kinds = 0
WHERE id = @id
RETURNING *;

-- A tombstone has no reactions.
-- name: DeleteReactions :exec
DELETE FROM messages.reactions WHERE message_id = @message_id;

-- name: DeleteReactionCounts :exec
DELETE FROM messages.reaction_counts WHERE message_id = @message_id;

-- name: MarkQuotesRecalled :exec
UPDATE messages.messages SET reply_recalled = true, reply_preview = ''
WHERE conversation_id = @conversation_id AND reply_to_id = @reply_to_id;

-- name: AddChange :exec
INSERT INTO messages.changes (conversation_id, seq, message_id, kind, actor_id, emoji)
VALUES (@conversation_id, @seq, @message_id, @kind, @actor_id, @emoji);

-- Change entries after after_seq, from first_seq on, in seq order, with
-- the changed message as it is now, that the viewer sees: not a change of
-- a message from before first_seq (before a member joined), not another
-- user's delete-for-me (kind 5), and of a message the viewer deleted for
-- itself only that deletion.
-- name: ChangesAfter :many
SELECT ch.seq, ch.kind, ch.actor_id, ch.emoji, sqlc.embed(m)
FROM messages.changes ch
JOIN messages.messages m ON m.id = ch.message_id
WHERE ch.conversation_id = @conversation_id AND ch.seq > @after_seq AND ch.seq <= @upto
  AND ch.seq >= @first_seq AND m.seq >= @first_seq
  AND CASE WHEN ch.kind = 5 THEN ch.actor_id = @viewer_id
      ELSE NOT EXISTS (SELECT 1 FROM messages.hidden h WHERE h.user_id = @viewer_id AND h.message_id = m.id) END
ORDER BY ch.seq
LIMIT @row_limit::bigint;

-- How many entries after after_seqs[i] are no unread message of the
-- viewer's: the change entries, the messages recalled since, and the ones
-- it deleted for itself.
-- name: NotUnreadSince :many
WITH since AS (
    SELECT (@conversation_ids::text[])[i] AS conversation_id, (@after_seqs::bigint[])[i] AS after_seq
    FROM generate_subscripts(@conversation_ids::text[], 1) AS i
)
SELECT s.conversation_id::text AS conversation_id,
    (SELECT count(*) FROM messages.changes ch WHERE ch.conversation_id = s.conversation_id AND ch.seq > s.after_seq)
  + (SELECT count(*) FROM messages.messages m WHERE m.conversation_id = s.conversation_id AND m.seq > s.after_seq AND m.recalled_at IS NOT NULL)
  + (SELECT count(*) FROM messages.hidden h JOIN messages.messages m ON m.id = h.message_id
     WHERE h.user_id = @viewer_id AND h.conversation_id = s.conversation_id AND h.seq > s.after_seq AND m.recalled_at IS NULL)
    AS not_unread
FROM since s;

-- The first seq of each group conversation a member who joined at since
-- sees: the smallest seq of the messages created (their send began) within
-- a minute after the join (sends begun in order may take their seqs out of
-- order, never a minute apart), else the first one created since, else the
-- next seq. Every seq after it is theirs: no gaps. since[i] is for
-- conversation_ids[i] (which may repeat), row i is for both.
-- name: FirstSeqsSince :many
WITH joined AS (
    SELECT i, (@conversation_ids::text[])[i] AS conversation_id, (@since::timestamptz[])[i] AS since
    FROM generate_subscripts(@conversation_ids::text[], 1) AS i
)
SELECT j.conversation_id::text AS conversation_id, coalesce(
    (SELECT min(m.seq) FROM messages.messages m
     WHERE m.conversation_id = j.conversation_id AND m.to_group_id <> 0
       AND m.created_at >= j.since AND m.created_at < j.since + interval '1 minute'),
    (SELECT m.seq FROM messages.messages m
     WHERE m.conversation_id = j.conversation_id AND m.created_at >= j.since AND m.to_group_id <> 0
     ORDER BY m.created_at, m.seq LIMIT 1),
    (SELECT c.last_seq + 1 FROM messages.conversations c WHERE c.id = j.conversation_id),
    1)::bigint AS first_seq
FROM joined j
ORDER BY j.i;

-- name: HasReaction :one
SELECT EXISTS (SELECT 1 FROM messages.reactions WHERE message_id = @message_id AND emoji = @emoji AND user_id = @user_id);

-- clock_timestamp, not the transaction's start: reactions commit in the
-- conversation lock's order, and recent_user_id is newest first by it.
-- name: AddReaction :exec
INSERT INTO messages.reactions (message_id, emoji, user_id, created_at) VALUES (@message_id, @emoji, @user_id, clock_timestamp());

-- name: RemoveReaction :exec
DELETE FROM messages.reactions WHERE message_id = @message_id AND emoji = @emoji AND user_id = @user_id;

-- The emoji's count after one more reaction with it: 1 when it comes into
-- use.
-- name: CountReaction :one
INSERT INTO messages.reaction_counts (message_id, emoji, count) VALUES (@message_id, @emoji, 1)
ON CONFLICT (message_id, emoji) DO UPDATE SET count = messages.reaction_counts.count + 1
RETURNING count;

-- The emoji's count after one reaction fewer with it; at 0 it goes out of
-- use (DropReactionCount).
-- name: UncountReaction :one
UPDATE messages.reaction_counts SET count = count - 1
WHERE message_id = @message_id AND emoji = @emoji
RETURNING count;

-- name: DropReactionCount :exec
DELETE FROM messages.reaction_counts WHERE message_id = @message_id AND emoji = @emoji;

-- name: EmojiInUse :one
SELECT EXISTS (SELECT 1 FROM messages.reaction_counts WHERE message_id = @message_id AND emoji = @emoji);

-- name: SetReactionKinds :one
UPDATE messages.messages SET reaction_kinds = reaction_kinds + @delta::smallint WHERE id = @id RETURNING *;

-- The reactions to messages, one row per (message, emoji), each message's
-- in the order its emoji came into use: how many, whether the viewer is one
-- of them, and the last five to react (through reactions_newest_idx: the
-- cost does not grow with the reactions).
-- name: ReactionsOf :many
SELECT c.message_id, c.emoji, c.count,
    EXISTS (SELECT 1 FROM messages.reactions r
            WHERE r.message_id = c.message_id AND r.emoji = c.emoji AND r.user_id = @viewer_id) AS mine,
    ARRAY(SELECT r.user_id FROM messages.reactions r
          WHERE r.message_id = c.message_id AND r.emoji = c.emoji
          ORDER BY r.created_at DESC, r.user_id DESC LIMIT 5)::bigint[] AS recent_user_ids
FROM messages.reaction_counts c
WHERE c.message_id = ANY(@message_ids::bigint[])
ORDER BY c.message_id, c.first_at, c.emoji;

-- Hides the message from user_id: a row back means it was not hidden yet.
-- name: HideMessage :one
INSERT INTO messages.hidden (user_id, message_id, conversation_id, seq)
VALUES (@user_id, @message_id, @conversation_id, @seq)
ON CONFLICT DO NOTHING
RETURNING message_id;

-- Who deleted the message for itself.
-- name: HiddenFor :many
SELECT user_id FROM messages.hidden WHERE message_id = @message_id;

-- name: IsHidden :one
SELECT EXISTS (SELECT 1 FROM messages.hidden WHERE user_id = @user_id AND message_id = @message_id);

-- name: SeqsOf :many
SELECT id, seq FROM messages.messages WHERE id = ANY(@ids::bigint[]);
