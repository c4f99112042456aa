-- Delivery and read marks (receipts).

-- The users userID shares a 1:1 conversation with, most recently active
-- first: its contacts for presence.
-- name: ConversationPeers :many
SELECT (CASE WHEN c.user_a = @user_id THEN c.user_b ELSE c.user_a END)::bigint AS peer_id
FROM messages.conversations c
WHERE c.user_a = @user_id OR c.user_b = @user_id
ORDER BY c.last_message_at DESC
LIMIT @row_limit::bigint;
