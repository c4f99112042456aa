-- Queries return whole users.users rows (one Go type, db.UsersUser).

-- name: CreateUser :one
INSERT INTO users.users (nickname, nickname_folded, gender, avatar_url, password_hash)
VALUES (@nickname, @nickname_folded, @gender, @avatar_url, @password_hash)
RETURNING *;

-- name: ClaimNicknameSkeletons :exec
-- A taken skeleton fails the insert (nickname_skeletons_pkey).
INSERT INTO users.nickname_skeletons (skeleton, user_id)
SELECT unnest(@skeletons::text[]), @user_id;

-- name: GetUser :one
SELECT *
FROM users.users
WHERE id = @id AND deleted_at IS NULL;

-- name: GetUsersByIDs :many
SELECT *
FROM users.users
WHERE id = ANY(@ids::bigint[]) AND deleted_at IS NULL;

-- name: ListUsers :many
SELECT *
FROM users.users
WHERE deleted_at IS NULL
ORDER BY id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountUsers :one
SELECT count(*) FROM users.users WHERE deleted_at IS NULL;

-- The gram containment narrows through the GIN index; strpos decides.
-- name: SearchUsers :many
SELECT *
FROM users.users
WHERE search.grams(nickname_folded) @> search.keyword_grams(@keyword::text)
  AND strpos(nickname_folded, @keyword::text) > 0
  AND deleted_at IS NULL
ORDER BY id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountSearchUsers :one
SELECT count(*)
FROM users.users
WHERE search.grams(nickname_folded) @> search.keyword_grams(@keyword::text)
  AND strpos(nickname_folded, @keyword::text) > 0
  AND deleted_at IS NULL;

-- name: GetCredentials :one
-- The nickname as typed (folded) or in its normalised form: a nickname from
-- before identity.Name is stored as it was typed; the typed form wins.
SELECT id, password_hash, suspended_at
FROM users.users
WHERE nickname_folded IN (@typed::text, @normalised::text) AND deleted_at IS NULL
ORDER BY nickname_folded = @typed::text DESC
LIMIT 1;

-- name: UpdatePassword :execrows
UPDATE users.users
SET password_hash = @password_hash, updated_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: UpdateAvatar :execrows
UPDATE users.users
SET avatar_url = @avatar_url, updated_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: SetAdmin :execrows
UPDATE users.users
SET is_admin = @is_admin, updated_at = now()
WHERE nickname_folded = @nickname_folded AND deleted_at IS NULL;

-- name: Suspend :execrows
UPDATE users.users SET suspended_at = now(), updated_at = now()
WHERE id = @id AND deleted_at IS NULL AND suspended_at IS NULL;

-- name: CreateToken :exec
INSERT INTO users.tokens (token_hash, user_id, expires_at)
VALUES (@token_hash, @user_id, @expires_at);

-- name: DeleteExpiredTokens :exec
DELETE FROM users.tokens WHERE user_id = @user_id AND expires_at <= now();

-- name: DeleteUserTokens :exec
DELETE FROM users.tokens WHERE user_id = @user_id;

-- name: Authenticate :one
SELECT u.id, u.is_admin, t.created_at, t.expires_at
FROM users.tokens t
JOIN users.users u ON u.id = t.user_id
WHERE t.token_hash = @token_hash AND t.expires_at > now() AND u.deleted_at IS NULL AND u.suspended_at IS NULL;

-- Serialises the attempts on one nickname for the rest of the transaction.
-- name: LockNickname :exec
SELECT pg_advisory_xact_lock(hashtextextended(@nickname_folded::text, 0));

-- name: CountRecentLoginFailures :one
SELECT count(*)
FROM users.login_failures
WHERE nickname_folded = @nickname_folded
  AND failed_at > now() - make_interval(secs => @window_seconds::float8);

-- name: LoginFailuresFrom :one
SELECT count(*) AS failures, coalesce(max(failed_at), 'epoch')::timestamptz AS last_failed_at
FROM users.login_failures
WHERE nickname_folded = @nickname_folded AND address = @address
  AND failed_at > now() - make_interval(secs => @window_seconds::float8);

-- name: RecordLoginAttempt :one
INSERT INTO users.login_failures (nickname_folded, address) VALUES (@nickname_folded, @address)
RETURNING id;

-- name: ForgetLoginAttempt :exec
DELETE FROM users.login_failures WHERE id = @id;

-- A right password forgets that address's failures for the nickname.
-- name: ForgetLoginFailures :exec
DELETE FROM users.login_failures WHERE nickname_folded = @nickname_folded AND address = @address;

-- name: PruneLoginFailures :exec
DELETE FROM users.login_failures
WHERE failed_at <= now() - make_interval(secs => @window_seconds::float8);

-- name: PasswordHash :one
SELECT password_hash FROM users.users WHERE id = @id FOR SHARE;
-- name: Follow :exec
INSERT INTO users.follows (follower_id, followee_id)
VALUES (@follower_id, @followee_id)
ON CONFLICT DO NOTHING;

-- name: Unfollow :exec
DELETE FROM users.follows WHERE follower_id = @follower_id AND followee_id = @followee_id;

-- Most recent follow first.
-- name: ListFollowing :many
SELECT sqlc.embed(u)
FROM users.follows f
JOIN users.users u ON u.id = f.followee_id
WHERE f.follower_id = @user_id AND u.deleted_at IS NULL
ORDER BY f.created_at DESC, f.followee_id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountFollowing :one
SELECT count(*)
FROM users.follows f
JOIN users.users u ON u.id = f.followee_id
WHERE f.follower_id = @user_id AND u.deleted_at IS NULL;

-- name: ListFollowers :many
SELECT sqlc.embed(u)
FROM users.follows f
JOIN users.users u ON u.id = f.follower_id
WHERE f.followee_id = @user_id AND u.deleted_at IS NULL
ORDER BY f.created_at DESC, f.follower_id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountFollowers :one
SELECT count(*)
FROM users.follows f
JOIN users.users u ON u.id = f.follower_id
WHERE f.followee_id = @user_id AND u.deleted_at IS NULL;

-- name: FollowingIDs :many
SELECT f.followee_id
FROM users.follows f
JOIN users.users u ON u.id = f.followee_id
WHERE f.follower_id = @user_id AND u.deleted_at IS NULL;

-- name: Block :exec
INSERT INTO users.blocks (blocker_id, blocked_id)
VALUES (@blocker_id, @blocked_id)
ON CONFLICT DO NOTHING;

-- name: Unblock :exec
DELETE FROM users.blocks WHERE blocker_id = @blocker_id AND blocked_id = @blocked_id;

-- No row when the blocker is not a live user.
-- name: IsBlocked :one
SELECT EXISTS (SELECT 1 FROM users.blocks b WHERE b.blocker_id = u.id AND b.blocked_id = @blocked_id)
FROM users.users u
WHERE u.id = @blocker_id AND u.deleted_at IS NULL;

-- Which of blocker_ids have blocked blocked_id (through the primary key).
-- name: BlockersAmong :many
SELECT b.blocker_id FROM users.blocks b
WHERE b.blocker_id = ANY(@blocker_ids::bigint[]) AND b.blocked_id = @blocked_id;

-- Most recent block first.
-- name: ListBlocked :many
SELECT sqlc.embed(u)
FROM users.blocks b
JOIN users.users u ON u.id = b.blocked_id
WHERE b.blocker_id = @user_id AND u.deleted_at IS NULL
ORDER BY b.created_at DESC, b.blocked_id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountBlocked :one
SELECT count(*)
FROM users.blocks b
JOIN users.users u ON u.id = b.blocked_id
WHERE b.blocker_id = @user_id AND u.deleted_at IS NULL;

-- Presence (app/presence.go): each node's sessions of the users online
-- there, its heartbeat, and who is told.

-- name: PresenceNow :one
SELECT now()::timestamptz AS now;

-- A node's heartbeat; no row when its row is gone (swept as dead).
-- name: TouchPresenceNode :one
UPDATE users.presence_nodes
SET beat_at = now(), expires_at = now() + make_interval(secs => @dead_after_seconds::float8)
WHERE node_id = @node_id
RETURNING beat_at;

-- name: InsertPresenceNode :one
INSERT INTO users.presence_nodes (node_id, beat_at, expires_at)
VALUES (@node_id, now(), now() + make_interval(secs => @dead_after_seconds::float8))
ON CONFLICT (node_id) DO UPDATE SET beat_at = excluded.beat_at, expires_at = excluded.expires_at
RETURNING beat_at;

-- A starting node's own row, left by a predecessor with its id.
-- name: LockPresenceNode :one
SELECT beat_at FROM users.presence_nodes WHERE node_id = @node_id FOR UPDATE;

-- Nodes that stopped beating, each locked by one sweeper only.
-- name: LockExpiredPresenceNodes :many
SELECT node_id, beat_at
FROM users.presence_nodes
WHERE expires_at < now() AND node_id <> @self_id::text
ORDER BY node_id
FOR UPDATE SKIP LOCKED;

-- name: DeletePresenceNodes :exec
DELETE FROM users.presence_nodes WHERE node_id = ANY(@node_ids::text[]);

-- name: PresenceSessionsOn :many
SELECT user_id, node_id FROM users.presence_sessions WHERE node_id = ANY(@node_ids::text[]);

-- Locks the users whose sessions change, in id order (so two nodes never
-- deadlock), for the rest of the transaction: their first and last
-- sessions are counted under it.
-- name: LockPresenceUsers :many
SELECT id, hide_presence, last_seen_at
FROM users.users
WHERE id = ANY(@ids::bigint[])
ORDER BY id
FOR NO KEY UPDATE;

-- Each user's sessions on every node, and on the nodes given.
-- name: CountPresenceSessions :many
SELECT user_id, count(*) AS sessions, count(*) FILTER (WHERE node_id = ANY(@node_ids::text[])) AS on_nodes
FROM users.presence_sessions
WHERE user_id = ANY(@user_ids::bigint[])
GROUP BY user_id;

-- name: InsertPresenceSessions :exec
INSERT INTO users.presence_sessions (user_id, node_id)
SELECT unnest(@user_ids::bigint[]), @node_id::text
ON CONFLICT DO NOTHING;

-- name: DeletePresenceSessions :exec
DELETE FROM users.presence_sessions WHERE node_id = @node_id AND user_id = ANY(@user_ids::bigint[]);

-- name: DeleteSessionsOn :exec
DELETE FROM users.presence_sessions WHERE node_id = ANY(@node_ids::text[]);

-- last_seen_at moves at most once a minute: a stored value less than a
-- minute older than at stays.
-- name: SetLastSeen :exec
UPDATE users.users u
SET last_seen_at = p.at
FROM (SELECT @at::timestamptz AS at) p
WHERE u.id = ANY(@ids::bigint[]) AND (u.last_seen_at IS NULL OR u.last_seen_at < p.at - interval '1 minute');

-- Who is told of each subject's presence: the (subject, 1:1 peer) pairs
-- given and each subject's most recent followers, live users with no
-- block between them and the subject either way, each with whether it
-- hides its own presence.
-- name: PresenceAudiences :many
WITH pairs AS (
    SELECT unnest(@pair_subject_ids::bigint[]) AS subject_id, unnest(@pair_viewer_ids::bigint[]) AS viewer_id
    UNION
    SELECT s.subject_id, f.follower_id
    FROM unnest(@subject_ids::bigint[]) AS s(subject_id)
    CROSS JOIN LATERAL (
        SELECT follower_id FROM users.follows WHERE followee_id = s.subject_id
        ORDER BY created_at DESC LIMIT @follower_limit::bigint) f
)
SELECT pairs.subject_id::bigint AS subject_id, u.id AS viewer_id, u.hide_presence
FROM pairs
JOIN users.users u ON u.id = pairs.viewer_id
WHERE u.id <> pairs.subject_id
  AND u.deleted_at IS NULL
  AND NOT EXISTS (
        SELECT 1 FROM users.blocks b
        WHERE (b.blocker_id = pairs.subject_id AND b.blocked_id = u.id)
           OR (b.blocker_id = u.id AND b.blocked_id = pairs.subject_id));

-- The live users among ids as viewer_id may see them: online (a session
-- on some node), last seen, whether they hide it, whether a block stands
-- between them and the viewer either way.
-- name: GetPresence :many
SELECT u.id, u.hide_presence, u.last_seen_at,
       EXISTS (SELECT 1 FROM users.presence_sessions s WHERE s.user_id = u.id) AS online,
       EXISTS (SELECT 1 FROM users.blocks b
               WHERE (b.blocker_id = @viewer_id AND b.blocked_id = u.id)
                  OR (b.blocker_id = u.id AND b.blocked_id = @viewer_id)) AS blocked
FROM users.users u
WHERE u.id = ANY(@ids::bigint[]) AND u.deleted_at IS NULL;

-- name: GetHidePresence :one
SELECT hide_presence FROM users.users WHERE id = @id AND deleted_at IS NULL;

-- Locks the user's row, as a change of its sessions does, so a privacy
-- change and a presence change are told in the order they happened.
-- name: LockHidePresence :one
SELECT u.hide_presence, u.last_seen_at,
       EXISTS (SELECT 1 FROM users.presence_sessions s WHERE s.user_id = u.id) AS online
FROM users.users u
WHERE u.id = @id AND u.deleted_at IS NULL
FOR NO KEY UPDATE;

-- name: SetHidePresence :exec
UPDATE users.users SET hide_presence = @hide_presence WHERE id = @id;
