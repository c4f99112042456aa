-- Roles, moderation, join requests, invites and the event outbox.

-- A member's standing in the live group; no row when it is not a member.
-- name: GetMember :one
SELECT m.role, m.muted_until, m.joined_at FROM groups.members m
JOIN groups.groups g ON g.id = m.group_id AND g.deleted_at IS NULL
WHERE m.group_id = @group_id AND m.user_id = @user_id;

-- What the message module asks before a send or a history read: the live
-- group's settings and, when user_id is a member, its standing (role is
-- NULL for a non-member). No row: no such live group.
-- name: GetStanding :one
SELECT g.mute_all, g.history_visible, g.created_at AS group_created_at,
       m.role, m.muted_until, m.joined_at
FROM groups.groups g
LEFT JOIN groups.members m ON m.group_id = g.id AND m.user_id = @user_id
WHERE g.id = @group_id AND g.deleted_at IS NULL;

-- name: SetRole :exec
UPDATE groups.members SET role = @role WHERE group_id = @group_id AND user_id = @user_id;

-- name: CountAdmins :one
SELECT count(*) FROM groups.members WHERE group_id = @group_id AND role = 1;

-- name: SetOwner :exec
UPDATE groups.groups SET owner_id = @owner_id, updated_at = now() WHERE id = @id;

-- name: SetMutedUntil :exec
UPDATE groups.members SET muted_until = sqlc.narg(until)
WHERE group_id = @group_id AND user_id = @user_id;

-- name: Ban :exec
INSERT INTO groups.bans (group_id, user_id, banned_by, reason) VALUES (@group_id, @user_id, @banned_by, @reason)
ON CONFLICT (group_id, user_id) DO UPDATE
SET banned_by = EXCLUDED.banned_by, reason = EXCLUDED.reason, banned_at = now();

-- name: Unban :execrows
DELETE FROM groups.bans WHERE group_id = @group_id AND user_id = @user_id;

-- name: IsBanned :one
SELECT EXISTS (SELECT 1 FROM groups.bans WHERE group_id = @group_id AND user_id = @user_id);

-- name: ListBans :many
SELECT * FROM groups.bans WHERE group_id = @group_id
ORDER BY banned_at DESC, user_id
LIMIT @row_limit::bigint;

-- A pending request, or the one already there (xmax = 0: just made).
-- name: RequestToJoin :one
INSERT INTO groups.join_requests (group_id, user_id) VALUES (@group_id, @user_id)
ON CONFLICT (group_id, user_id) DO UPDATE SET group_id = EXCLUDED.group_id
RETURNING id, (xmax = 0) AS created;

-- name: CountJoinRequests :one
SELECT count(*) FROM groups.join_requests WHERE group_id = @group_id;

-- name: ListJoinRequests :many
SELECT * FROM groups.join_requests WHERE group_id = @group_id
ORDER BY id
LIMIT @row_limit::bigint;

-- name: GetJoinRequest :one
SELECT * FROM groups.join_requests WHERE id = @id;

-- name: DeleteJoinRequest :execrows
DELETE FROM groups.join_requests WHERE id = @id;

-- name: DeleteJoinRequestOf :exec
DELETE FROM groups.join_requests WHERE group_id = @group_id AND user_id = @user_id;

-- name: CreateInvite :one
INSERT INTO groups.invites (code, group_id, created_by, max_uses, expires_at)
VALUES (@code, @group_id, @created_by, @max_uses, sqlc.narg(expires_at))
RETURNING *;

-- Usable invites: not revoked, not expired, not used up.
-- name: ListUsableInvites :many
SELECT * FROM groups.invites
WHERE group_id = @group_id AND revoked_at IS NULL
  AND (expires_at IS NULL OR expires_at > now())
  AND (max_uses = 0 OR uses < max_uses)
ORDER BY created_at DESC, code
LIMIT @row_limit::bigint;

-- name: CountUsableInvites :one
SELECT count(*) FROM groups.invites
WHERE group_id = @group_id AND revoked_at IS NULL
  AND (expires_at IS NULL OR expires_at > now())
  AND (max_uses = 0 OR uses < max_uses);

-- name: GetInvite :one
SELECT * FROM groups.invites WHERE code = @code;

-- name: UseInvite :exec
UPDATE groups.invites SET uses = uses + 1 WHERE code = @code;

-- name: RevokeInvite :exec
UPDATE groups.invites SET revoked_at = now() WHERE code = @code AND revoked_at IS NULL;

-- name: RecordEvent :exec
INSERT INTO groups.events (group_id, event, extra_to) VALUES (@group_id, @event, @extra_to);

-- The oldest events not yet relayed, locked: a relay on another node waits
-- for these and then skips the ones deleted meanwhile, so each group's
-- events reach its conversation in the order they were recorded.
-- Only events recorded at least min_age_seconds ago (a negative age: all).
-- name: LockOldestEvents :many
SELECT * FROM groups.events
WHERE created_at <= now() - make_interval(secs => @min_age_seconds::float8)
ORDER BY id LIMIT @row_limit::bigint FOR UPDATE;

-- name: DeleteEvents :exec
DELETE FROM groups.events WHERE id = ANY(@ids::bigint[]);
