package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/group/internal/db"
	"github.com/parley-im/parley/platform/apperr"
)

// Roles as stored (group.GroupRole).
const (
	roleMember = int16(grouppb.GroupRole_GROUP_ROLE_MEMBER)
	roleAdmin  = int16(grouppb.GroupRole_GROUP_ROLE_ADMIN)
	roleOwner  = int16(grouppb.GroupRole_GROUP_ROLE_OWNER)
)

// Join policies as stored (group.JoinPolicy).
const (
	policyOpen       = int16(grouppb.JoinPolicy_JOIN_POLICY_OPEN)
	policyApproval   = int16(grouppb.JoinPolicy_JOIN_POLICY_APPROVAL)
	policyInviteOnly = int16(grouppb.JoinPolicy_JOIN_POLICY_INVITE_ONLY)
)

// Limits on what one group may hold.
const (
	MaxAdmins          = 50
	MaxPendingRequests = 1000 // a full queue refuses new requests until some are decided
	MaxUsableInvites   = 100
	MaxListedBans      = 1000 // ListGroupBans answers the newest this many
	inviteCodeBytes    = 16   // 128 random bits: unguessable
)

var (
	ErrNotStaff        = apperr.PermissionDenied("only the group's owner or an admin may do this")
	ErrOutranked       = apperr.PermissionDenied("user_id: an admin cannot act on the owner or another admin")
	ErrSelfTarget      = apperr.InvalidArgument("user_id: you cannot do this to yourself")
	ErrTooManyAdmins   = apperr.FailedPrecondition("the group has %d admins already: demote one first", MaxAdmins)
	ErrRoleOwner       = apperr.InvalidArgument("role: ownership moves with TransferGroupOwner")
	ErrAlreadyOwner    = apperr.InvalidArgument("user_id: is the owner already")
	ErrBanned          = apperr.PermissionDenied("you are banned from this group")
	ErrTargetBanned    = apperr.FailedPrecondition("user_id: is banned from this group: unban them first")
	ErrNotBanned       = apperr.NotFound("user_id: is not banned from this group")
	ErrInviteOnly      = apperr.PermissionDenied("this group is invite-only: join it with an invite code")
	ErrStaffAddsOnly   = apperr.PermissionDenied("only the group's owner or an admin may add members to this group")
	ErrTooManyRequests = apperr.ResourceExhausted("the group has %d pending join requests: try again once some are decided", MaxPendingRequests)
	ErrRequestNotFound = apperr.NotFound("join request not found (it may have been decided already)")
	ErrInviteNotFound  = apperr.NotFound("invite code not found")
	ErrInviteRevoked   = apperr.FailedPrecondition("this invite code was revoked")
	ErrInviteExpired   = apperr.FailedPrecondition("this invite code has expired")
	ErrInviteUsedUp    = apperr.FailedPrecondition("this invite code has been used as many times as it allows")
	ErrTooManyInvites  = apperr.ResourceExhausted("the group has %d usable invite codes: revoke some first", MaxUsableInvites)
	ErrExpiresInPast   = apperr.InvalidArgument("expires_at: is in the past")
)

// member is a user's standing inside a locked group; ok is false for a
// non-member.
type member struct {
	ok         bool
	role       int16
	mutedUntil *time.Time
}

func (m member) staff() bool { return m.ok && m.role >= roleAdmin }

// outranks reports whether m may moderate target: the owner anyone else,
// an admin plain members only.
func (m member) outranks(target member) bool {
	return m.role == roleOwner && target.role != roleOwner || m.role == roleAdmin && target.role == roleMember
}

func memberOf(ctx context.Context, q *db.Queries, groupID, userID uint64) (member, error) {
	row, err := q.GetMember(ctx, db.GetMemberParams{GroupID: groupID, UserID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return member{}, nil
	}
	if err != nil {
		return member{}, fmt.Errorf("member %d: %w", userID, err)
	}
	return member{ok: true, role: row.Role, mutedUntil: row.MutedUntil}, nil
}

// staffOf is the caller's standing, refused unless it is the owner or an
// admin.
func staffOf(ctx context.Context, q *db.Queries, groupID, callerID uint64) (member, error) {
	m, err := memberOf(ctx, q, groupID, callerID)
	if err != nil {
		return m, err
	}
	if !m.staff() {
		return m, ErrNotStaff
	}
	return m, nil
}

// moderate checks the caller may act on target, a member: the caller is
// staff and outranks it. It answers the target's standing.
func moderate(ctx context.Context, q *db.Queries, groupID, callerID, targetID uint64) (member, error) {
	if callerID == targetID {
		return member{}, ErrSelfTarget
	}
	caller, err := staffOf(ctx, q, groupID, callerID)
	if err != nil {
		return member{}, err
	}
	target, err := memberOf(ctx, q, groupID, targetID)
	switch {
	case err != nil:
		return member{}, err
	case !target.ok:
		return member{}, ErrNotAMember
	case !caller.outranks(target):
		return member{}, ErrOutranked
	}
	return target, nil
}

// record stores ev in the group's outbox, in the change's transaction; the
// relay stores it in the group's conversation once it has committed.
// alsoTo is a user who is no longer a member but is told too (kicked,
// banned): 0 for none.
func record(ctx context.Context, q *db.Queries, groupID uint64, ev *grouppb.GroupEvent, alsoTo uint64) error {
	data, err := proto.Marshal(ev)
	if err != nil {
		return err
	}
	return q.RecordEvent(ctx, db.RecordEventParams{GroupID: groupID, Event: data, ExtraTo: alsoTo})
}

// admit adds userID to the locked group g, as actorID let it in: under the
// member cap, clearing any pending request, recording the join. Already a
// member: nothing changes.
func (s *Service) admit(ctx context.Context, q *db.Queries, g db.GroupsGroup, userID, actorID uint64) error {
	already, err := q.IsMember(ctx, db.IsMemberParams{GroupID: g.ID, UserID: userID})
	if err != nil || already {
		return err
	}
	if int(g.MemberCount) >= s.cfg.MemberCap {
		return ErrGroupFull
	}
	if _, err := q.AddMember(ctx, db.AddMemberParams{GroupID: g.ID, UserID: userID, Role: roleMember}); err != nil {
		return err
	}
	if err := q.AdjustMemberCount(ctx, db.AdjustMemberCountParams{ID: g.ID, Delta: 1}); err != nil {
		return err
	}
	if err := q.DeleteJoinRequestOf(ctx, db.DeleteJoinRequestOfParams{GroupID: g.ID, UserID: userID}); err != nil {
		return err
	}
	return record(ctx, q, g.ID, &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_JOINED, ActorId: actorID, UserId: userID}, 0)
}

// remove takes userID out of the locked group g (a member) and records
// ev, told to the removed user too.
func remove(ctx context.Context, q *db.Queries, g db.GroupsGroup, userID uint64, ev *grouppb.GroupEvent) error {
	removed, err := q.RemoveMember(ctx, db.RemoveMemberParams{GroupID: g.ID, UserID: userID})
	if err != nil {
		return err
	}
	if removed == 0 {
		return ErrNotAMember
	}
	if err := q.AdjustMemberCount(ctx, db.AdjustMemberCountParams{ID: g.ID, Delta: -1}); err != nil {
		return err
	}
	return record(ctx, q, g.ID, ev, userID)
}

// SetMemberRole makes a member an admin or a plain member again; owner
// only, up to MaxAdmins admins.
func (s *Service) SetMemberRole(ctx context.Context, callerID, groupID, userID uint64, role grouppb.GroupRole) error {
	if role == grouppb.GroupRole_GROUP_ROLE_OWNER {
		return ErrRoleOwner
	}
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if g.OwnerID != callerID {
			return ErrNotOwner
		}
		if userID == callerID {
			return ErrSelfTarget
		}
		target, err := memberOf(ctx, q, g.ID, userID)
		if err != nil {
			return err
		}
		if !target.ok {
			return ErrNotAMember
		}
		if target.role == int16(role) {
			return nil
		}
		if role == grouppb.GroupRole_GROUP_ROLE_ADMIN {
			if err := s.roomForAdmin(ctx, q, g.ID); err != nil {
				return err
			}
		}
		if err := q.SetRole(ctx, db.SetRoleParams{GroupID: g.ID, UserID: userID, Role: int16(role)}); err != nil {
			return err
		}
		return record(ctx, q, g.ID, &grouppb.GroupEvent{
			Kind: grouppb.GroupEvent_KIND_ROLE_CHANGED, ActorId: callerID, UserId: userID, Role: role,
		}, 0)
	})
}

func (s *Service) roomForAdmin(ctx context.Context, q *db.Queries, groupID uint64) error {
	admins, err := q.CountAdmins(ctx, groupID)
	if err != nil {
		return err
	}
	if admins >= MaxAdmins {
		return ErrTooManyAdmins
	}
	return nil
}

// TransferOwner makes a member the owner; the old owner becomes an admin.
func (s *Service) TransferOwner(ctx context.Context, callerID, groupID, userID uint64) error {
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if g.OwnerID != callerID {
			return ErrNotOwner
		}
		if userID == callerID {
			return ErrAlreadyOwner
		}
		target, err := memberOf(ctx, q, g.ID, userID)
		if err != nil {
			return err
		}
		if !target.ok {
			return ErrNotAMember
		}
		if target.role != roleAdmin { // the old owner takes an admin's place
			if err := s.roomForAdmin(ctx, q, g.ID); err != nil {
				return err
			}
		}
		// The old owner steps down first: a group has one owner row.
		if err := q.SetRole(ctx, db.SetRoleParams{GroupID: g.ID, UserID: callerID, Role: roleAdmin}); err != nil {
			return err
		}
		if err := q.SetRole(ctx, db.SetRoleParams{GroupID: g.ID, UserID: userID, Role: roleOwner}); err != nil {
			return err
		}
		if err := q.SetOwner(ctx, db.SetOwnerParams{ID: g.ID, OwnerID: userID}); err != nil {
			return err
		}
		return record(ctx, q, g.ID, &grouppb.GroupEvent{
			Kind: grouppb.GroupEvent_KIND_OWNER_TRANSFERRED, ActorId: callerID, UserId: userID, Role: grouppb.GroupRole_GROUP_ROLE_OWNER,
		}, 0)
	})
}

// MuteMember mutes a member until until (it reads but cannot send); nil or
// a past time unmutes (no change, and no event, for a member not muted).
func (s *Service) MuteMember(ctx context.Context, callerID, groupID, userID uint64, until *time.Time) error {
	if until != nil && !until.After(time.Now()) {
		until = nil
	}
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		target, err := moderate(ctx, q, g.ID, callerID, userID)
		if err != nil {
			return err
		}
		wasMuted := target.mutedUntil != nil && target.mutedUntil.After(time.Now())
		if until == nil && !wasMuted {
			return nil // unmuting a member who is not muted changes nothing
		}
		if err := q.SetMutedUntil(ctx, db.SetMutedUntilParams{GroupID: g.ID, UserID: userID, Until: until}); err != nil {
			return err
		}
		ev := &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_MUTED, ActorId: callerID, UserId: userID}
		if until != nil {
			ev.Until = timestamppb.New(*until)
		}
		return record(ctx, q, g.ID, ev, 0)
	})
}

// ErrOwnerBanned refuses banning a group's owner from its own group.
var ErrOwnerBanned = apperr.FailedPrecondition("the group's owner cannot be banned from it")

// BanMember removes userID (if a member) and keeps it out by every path
// until unbanned; a user who is not a member can be banned too. The caller
// is the group's owner or an admin outranking userID, or (parleyAdmin,
// resolving a report) a Parley admin, who may ban anyone but the owner.
func (s *Service) BanMember(ctx context.Context, callerID, groupID, userID uint64, reason string, parleyAdmin bool) error {
	if userID == callerID {
		return ErrSelfTarget
	}
	// The user module needs a connection of its own: ask before the lock.
	if _, err := s.users.GetUser(ctx, userID); err != nil {
		return err
	}
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		target, err := memberOf(ctx, q, g.ID, userID)
		if err != nil {
			return err
		}
		if !parleyAdmin {
			caller, err := staffOf(ctx, q, g.ID, callerID)
			if err != nil {
				return err
			}
			if target.ok && !caller.outranks(target) {
				return ErrOutranked
			}
		}
		if target.role == roleOwner {
			return ErrOwnerBanned
		}
		if err := q.Ban(ctx, db.BanParams{GroupID: g.ID, UserID: userID, BannedBy: callerID, Reason: reason}); err != nil {
			return err
		}
		if err := q.DeleteJoinRequestOf(ctx, db.DeleteJoinRequestOfParams{GroupID: g.ID, UserID: userID}); err != nil {
			return err
		}
		ev := &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_BANNED, ActorId: callerID, UserId: userID, Reason: reason}
		if !target.ok {
			return record(ctx, q, g.ID, ev, userID)
		}
		return remove(ctx, q, g, userID, ev)
	})
}

// UnbanMember lifts a ban: the user may come back by the group's policy.
func (s *Service) UnbanMember(ctx context.Context, callerID, groupID, userID uint64) error {
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if _, err := staffOf(ctx, q, g.ID, callerID); err != nil {
			return err
		}
		n, err := q.Unban(ctx, db.UnbanParams{GroupID: g.ID, UserID: userID})
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotBanned
		}
		// A ban supersedes an earlier kick: unbanned, the user starts clean.
		if err := q.ClearKick(ctx, db.ClearKickParams{GroupID: g.ID, UserID: userID}); err != nil {
			return err
		}
		return record(ctx, q, g.ID, &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_UNBANNED, ActorId: callerID, UserId: userID}, userID)
	})
}

// Ban is a ban as ListBans answers it.
type Ban struct {
	User     *userpb.User
	Reason   string
	BannedBy uint64
	BannedAt time.Time
}

// ListBans lists the newest MaxListedBans bans; owner/admins.
func (s *Service) ListBans(ctx context.Context, callerID, groupID uint64) ([]Ban, error) {
	if err := s.requireStaff(ctx, groupID, callerID); err != nil {
		return nil, err
	}
	rows, err := s.q.ListBans(ctx, db.ListBansParams{GroupID: groupID, RowLimit: MaxListedBans})
	if err != nil {
		return nil, fmt.Errorf("list bans: %w", err)
	}
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	users, err := s.usersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Ban, 0, len(rows))
	for _, r := range rows {
		if u := users[r.UserID]; u != nil {
			out = append(out, Ban{User: u, Reason: r.Reason, BannedBy: r.BannedBy, BannedAt: r.BannedAt})
		}
	}
	return out, nil
}

// JoinRequest is a pending request as ListJoinRequests answers it.
type JoinRequest struct {
	ID        uint64
	User      *userpb.User
	CreatedAt time.Time
}

// ListJoinRequests lists the group's pending requests, oldest first;
// owner/admins.
func (s *Service) ListJoinRequests(ctx context.Context, callerID, groupID uint64) ([]JoinRequest, error) {
	if err := s.requireStaff(ctx, groupID, callerID); err != nil {
		return nil, err
	}
	rows, err := s.q.ListJoinRequests(ctx, db.ListJoinRequestsParams{GroupID: groupID, RowLimit: MaxPendingRequests})
	if err != nil {
		return nil, fmt.Errorf("list join requests: %w", err)
	}
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	users, err := s.usersByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]JoinRequest, 0, len(rows))
	for _, r := range rows {
		if u := users[r.UserID]; u != nil {
			out = append(out, JoinRequest{ID: r.ID, User: u, CreatedAt: r.CreatedAt})
		}
	}
	return out, nil
}

// DecideJoinRequest admits (approve) or turns away the requester; owner/
// admins. Either way the request is gone: a second decision finds nothing.
func (s *Service) DecideJoinRequest(ctx context.Context, callerID, requestID uint64, approve bool) error {
	req, err := s.q.GetJoinRequest(ctx, requestID)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrRequestNotFound
	}
	if err != nil {
		return fmt.Errorf("get join request: %w", err)
	}
	return s.inLockedGroup(ctx, req.GroupID, func(q *db.Queries, g db.GroupsGroup) error {
		if _, err := staffOf(ctx, q, g.ID, callerID); err != nil {
			return err
		}
		n, err := q.DeleteJoinRequest(ctx, requestID)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrRequestNotFound
		}
		if !approve {
			return nil
		}
		return s.admit(ctx, q, g, req.UserID, callerID)
	})
}

// Invite is an invite code as the module answers it.
type Invite struct {
	Code               string
	GroupID, CreatedBy uint64
	MaxUses, Uses      uint32 // MaxUses 0: no limit
	ExpiresAt          *time.Time
	CreatedAt          time.Time
}

func inviteOf(i db.GroupsInvite) Invite {
	return Invite{
		Code: i.Code, GroupID: i.GroupID, CreatedBy: i.CreatedBy, MaxUses: uint32(i.MaxUses), Uses: uint32(i.Uses),
		ExpiresAt: i.ExpiresAt, CreatedAt: i.CreatedAt,
	}
}

// CreateInvite makes an invite code for the group; owner/admins, up to
// MaxUsableInvites usable ones. maxUses 0 is no limit; expiresAt nil never.
func (s *Service) CreateInvite(ctx context.Context, callerID, groupID uint64, maxUses uint32, expiresAt *time.Time) (Invite, error) {
	if expiresAt != nil && !expiresAt.After(time.Now()) {
		return Invite{}, ErrExpiresInPast
	}
	code, err := newInviteCode()
	if err != nil {
		return Invite{}, err
	}
	var inv db.GroupsInvite
	err = s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if _, err := staffOf(ctx, q, g.ID, callerID); err != nil {
			return err
		}
		usable, err := q.CountUsableInvites(ctx, g.ID)
		if err != nil {
			return err
		}
		if usable >= MaxUsableInvites {
			return ErrTooManyInvites
		}
		inv, err = q.CreateInvite(ctx, db.CreateInviteParams{
			Code: code, GroupID: g.ID, CreatedBy: callerID, MaxUses: int32(min(maxUses, 1<<31-1)), ExpiresAt: expiresAt,
		})
		return err
	})
	return inviteOf(inv), err
}

func newInviteCode() (string, error) {
	b := make([]byte, inviteCodeBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("invite code: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// invite reads an invite code; ErrInviteNotFound when there is none.
func invite(ctx context.Context, q *db.Queries, code string) (db.GroupsInvite, error) {
	inv, err := q.GetInvite(ctx, code)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.GroupsInvite{}, ErrInviteNotFound
	}
	if err != nil {
		return db.GroupsInvite{}, fmt.Errorf("get invite: %w", err)
	}
	return inv, nil
}

// RevokeInvite stops an invite code working; owner/admins of its group.
func (s *Service) RevokeInvite(ctx context.Context, callerID uint64, code string) error {
	inv, err := invite(ctx, s.q, code)
	if err != nil {
		return err
	}
	return s.inLockedGroup(ctx, inv.GroupID, func(q *db.Queries, g db.GroupsGroup) error {
		if _, err := staffOf(ctx, q, g.ID, callerID); err != nil {
			return err
		}
		return q.RevokeInvite(ctx, code)
	})
}

// ListInvites lists the group's usable invite codes, newest first;
// owner/admins.
func (s *Service) ListInvites(ctx context.Context, callerID, groupID uint64) ([]Invite, error) {
	if err := s.requireStaff(ctx, groupID, callerID); err != nil {
		return nil, err
	}
	rows, err := s.q.ListUsableInvites(ctx, db.ListUsableInvitesParams{GroupID: groupID, RowLimit: MaxUsableInvites})
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	invites := make([]Invite, len(rows))
	for i, r := range rows {
		invites[i] = inviteOf(r)
	}
	return invites, nil
}

// JoinByInvite adds the caller to the code's group, under any policy; a
// member already stays one and uses nothing. It lifts an earlier kick, not
// a ban.
func (s *Service) JoinByInvite(ctx context.Context, callerID uint64, code string) (Group, error) {
	found, err := invite(ctx, s.q, code)
	if err != nil {
		return Group{}, err
	}
	var joined db.GroupsGroup
	err = s.inLockedGroup(ctx, found.GroupID, func(q *db.Queries, g db.GroupsGroup) error {
		inv, err := invite(ctx, q, code) // again, under the lock: uses and revocation are current
		if err != nil {
			return err
		}
		banned, err := q.IsBanned(ctx, db.IsBannedParams{GroupID: g.ID, UserID: callerID})
		if err != nil {
			return err
		}
		if banned {
			return ErrBanned
		}
		joined = g
		already, err := q.IsMember(ctx, db.IsMemberParams{GroupID: g.ID, UserID: callerID})
		if err != nil || already {
			return err
		}
		switch {
		case inv.RevokedAt != nil:
			return ErrInviteRevoked
		case inv.ExpiresAt != nil && !inv.ExpiresAt.After(time.Now()):
			return ErrInviteExpired
		case inv.MaxUses > 0 && inv.Uses >= inv.MaxUses:
			return ErrInviteUsedUp
		}
		if err := q.ClearKick(ctx, db.ClearKickParams{GroupID: g.ID, UserID: callerID}); err != nil {
			return err
		}
		if err := s.admit(ctx, q, g, callerID, callerID); err != nil {
			return err
		}
		joined.MemberCount++
		return q.UseInvite(ctx, code)
	})
	return groupOf(joined), err
}

// requireStaff checks, outside a transaction, that callerID is the owner
// or an admin of the live group.
func (s *Service) requireStaff(ctx context.Context, groupID, callerID uint64) error {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return err
	}
	_, err := staffOf(ctx, s.q, groupID, callerID)
	return err
}

// usersByID looks the live users among ids up in the user module.
func (s *Service) usersByID(ctx context.Context, ids []uint64) (map[uint64]*userpb.User, error) {
	users, err := s.users.GetUsers(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[uint64]*userpb.User, len(users))
	for _, u := range users {
		byID[u.GetId()] = u
	}
	return byID, nil
}

// Standing is what the message module asks of a user in a group before a
// send or a history read.
type Standing struct {
	Member     bool
	Role       grouppb.GroupRole
	MutedUntil *time.Time // set while muted
	MuteAll    bool       // only the owner and admins may send
	// HistoryFrom is where the member's view of the conversation starts:
	// its join, or the group's creation when the group shows history.
	HistoryFrom time.Time
}

// Standing is userID's standing in the live group groupID (ErrNotFound
// for none).
func (s *Service) Standing(ctx context.Context, groupID, userID uint64) (Standing, error) {
	row, err := s.q.GetStanding(ctx, db.GetStandingParams{GroupID: groupID, UserID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Standing{}, ErrNotFound
	}
	if err != nil {
		return Standing{}, fmt.Errorf("standing: %w", err)
	}
	st := Standing{MuteAll: row.MuteAll}
	if !row.Role.Valid {
		return st, nil
	}
	st.Member, st.Role = true, grouppb.GroupRole(row.Role.Int16)
	if row.MutedUntil != nil && row.MutedUntil.After(time.Now()) {
		st.MutedUntil = row.MutedUntil
	}
	st.HistoryFrom = *row.JoinedAt
	if row.HistoryVisible {
		st.HistoryFrom = row.GroupCreatedAt
	}
	return st, nil
}

// ErrMutedAll refuses a plain member's send to a muted group.
var ErrMutedAll = apperr.PermissionDenied("the group is muted: only its owner and admins may send")

// MaySend is nil when userID may send to the live group now, else why not.
func (s *Service) MaySend(ctx context.Context, groupID, userID uint64) error {
	st, err := s.Standing(ctx, groupID, userID)
	switch {
	case err != nil:
		return err
	case !st.Member:
		return ErrNotMember
	case st.MutedUntil != nil:
		return apperr.PermissionDenied("you are muted in this group until %s", st.MutedUntil.UTC().Format(time.RFC3339))
	case st.MuteAll && st.Role == grouppb.GroupRole_GROUP_ROLE_MEMBER:
		return ErrMutedAll
	}
	return nil
}
