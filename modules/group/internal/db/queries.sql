-- Queries return whole groups.groups rows (one Go type, db.GroupsGroup).
-- A deleted group is invisible to every query but LockGroup.

-- name: CreateGroup :one
INSERT INTO groups.groups (name, name_folded, introduction, avatar_url, owner_id, member_count)
VALUES (@name, @name_folded, @introduction, @avatar_url, @owner_id, 1)
RETURNING *;

-- name: GetGroup :one
SELECT * FROM groups.groups WHERE id = @id AND deleted_at IS NULL;

-- name: LockGroup :one
SELECT * FROM groups.groups WHERE id = @id AND deleted_at IS NULL FOR NO KEY UPDATE;

-- name: UpdateGroup :one
UPDATE groups.groups
SET name = @name, name_folded = @name_folded, introduction = @introduction,
    avatar_url = @avatar_url, join_policy = @join_policy, mute_all = @mute_all,
    history_visible = @history_visible, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: DeleteGroup :exec
UPDATE groups.groups SET deleted_at = now(), updated_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: ListGroups :many
SELECT * FROM groups.groups
WHERE deleted_at IS NULL
ORDER BY id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountGroups :one
SELECT count(*) FROM groups.groups WHERE deleted_at IS NULL;

-- The gram containment narrows through the GIN index; strpos decides.
-- name: SearchGroups :many
SELECT * FROM groups.groups
WHERE search.grams(name_folded) @> search.keyword_grams(@keyword::text)
  AND strpos(name_folded, @keyword::text) > 0
  AND deleted_at IS NULL
ORDER BY id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- name: CountSearchGroups :one
SELECT count(*) FROM groups.groups
WHERE search.grams(name_folded) @> search.keyword_grams(@keyword::text)
  AND strpos(name_folded, @keyword::text) > 0
  AND deleted_at IS NULL;

-- name: AddMember :execrows
INSERT INTO groups.members (group_id, user_id, role) VALUES (@group_id, @user_id, @role)
ON CONFLICT DO NOTHING;

-- name: RemoveMember :execrows
DELETE FROM groups.members WHERE group_id = @group_id AND user_id = @user_id;

-- name: AdjustMemberCount :exec
UPDATE groups.groups SET member_count = member_count + @delta::integer WHERE id = @id;

-- name: IsMember :one
SELECT EXISTS (
    SELECT 1 FROM groups.members m
    JOIN groups.groups g ON g.id = m.group_id
    WHERE m.group_id = @group_id AND m.user_id = @user_id AND g.deleted_at IS NULL
);

-- name: ListMembersByJoinTime :many
SELECT user_id, role, joined_at, muted_until FROM groups.members
WHERE group_id = @group_id
ORDER BY joined_at, user_id
LIMIT @row_limit::bigint OFFSET @row_offset::bigint;

-- Keyset paging by user id, for fan-out over large groups.
-- name: ListMemberIDsAfter :many
SELECT user_id FROM groups.members
WHERE group_id = @group_id AND user_id > @after_user_id
ORDER BY user_id
LIMIT @row_limit::bigint;

-- Each group's history starts for the member at its join, or at the
-- group's creation when the group shows its history.
-- name: GroupsOf :many
SELECT sqlc.embed(g),
       (CASE WHEN g.history_visible THEN g.created_at ELSE m.joined_at END)::timestamptz AS history_from
FROM groups.members m
JOIN groups.groups g ON g.id = m.group_id
WHERE m.user_id = @user_id AND g.deleted_at IS NULL
ORDER BY g.id;

-- name: RecordKick :exec
INSERT INTO groups.kicks (group_id, user_id, kicked_by) VALUES (@group_id, @user_id, @kicked_by)
ON CONFLICT (group_id, user_id) DO UPDATE SET kicked_by = EXCLUDED.kicked_by, kicked_at = now();

-- name: IsKicked :one
SELECT EXISTS (SELECT 1 FROM groups.kicks WHERE group_id = @group_id AND user_id = @user_id);

-- name: ClearKick :exec
DELETE FROM groups.kicks WHERE group_id = @group_id AND user_id = @user_id;

-- The members who joined the live group at or after since, and when (the
-- join order index serves it); none when the group shows its history.
-- name: JoinedSince :many
SELECT m.user_id, m.joined_at FROM groups.members m
JOIN groups.groups g ON g.id = m.group_id AND g.deleted_at IS NULL AND NOT g.history_visible
WHERE m.group_id = @group_id AND m.joined_at >= @since
ORDER BY m.joined_at, m.user_id
LIMIT @row_limit::bigint;
