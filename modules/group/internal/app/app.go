// Package app is the group module's behaviour: groups, membership and who
// may change them.
package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/group/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/paging"
	"github.com/parley-im/parley/platform/textsearch"
)

// Config tunes the module.
type Config struct {
	// MemberCap is the most members a group may have.
	MemberCap int
	Log       zerolog.Logger
}

// DefaultMemberCap is the member cap when Config leaves it zero.
const DefaultMemberCap = 10_000

// Errors the module returns; the messages are what clients see.
var (
	ErrNotFound        = apperr.NotFound("group not found")
	ErrNotOwner        = apperr.PermissionDenied("only the group's owner may do this")
	ErrNotMember       = apperr.PermissionDenied("only members of the group may do this")
	ErrNotAMember      = apperr.NotFound("user_id: is not a member of this group")
	ErrOwnerCannotQuit = apperr.FailedPrecondition("the owner cannot quit its own group: transfer it (TransferGroupOwner) or delete it first")
	ErrGroupFull       = apperr.FailedPrecondition("the group is full")
	ErrKicked          = apperr.PermissionDenied("you were removed from this group: only its owner or an admin can add you back, or an invite code")
	ErrKickedByOwner   = apperr.PermissionDenied("user_id: was removed from this group: only its owner or an admin can add them back")
	ErrInviteeBlocks   = apperr.PermissionDenied("user_id: this user does not accept being added to groups by you")
)

// Service implements the module over its schema.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	users   Users
	cfg     Config
	events  atomic.Pointer[Events] // where relayNow stores events (SetEvents)
	relayMu sync.Mutex             // one drain at a time on this node
}

func New(pool *pgxpool.Pool, users Users, cfg Config) *Service {
	if cfg.MemberCap <= 0 {
		cfg.MemberCap = DefaultMemberCap
	}
	return &Service{pool: pool, q: db.New(pool), users: users, cfg: cfg}
}

// Fields are a group's editable fields, validated; UpdateGroup changes
// the strings given non-empty and the settings given non-nil.
type Fields struct {
	Name           string
	Introduction   string
	AvatarURL      string
	JoinPolicy     *grouppb.JoinPolicy
	MuteAll        *bool
	HistoryVisible *bool
}

// CreateGroup creates a group owned by ownerID, its first member.
func (s *Service) CreateGroup(ctx context.Context, ownerID uint64, f Fields) (Group, error) {
	var g db.GroupsGroup
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		g, err = q.CreateGroup(ctx, db.CreateGroupParams{
			Name:         strings.TrimSpace(f.Name),
			NameFolded:   textsearch.Fold(f.Name),
			Introduction: f.Introduction,
			AvatarUrl:    f.AvatarURL,
			OwnerID:      ownerID,
		})
		if err != nil {
			return err
		}
		_, err = q.AddMember(ctx, db.AddMemberParams{GroupID: g.ID, UserID: ownerID, Role: roleOwner})
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("create group: %w", err)
	}
	return groupOf(g), nil
}

// UpdateGroup changes the fields given; owner/admins. A change of policy,
// group mute or history visibility is recorded as a group event.
func (s *Service) UpdateGroup(ctx context.Context, callerID, groupID uint64, f Fields) (Group, error) {
	var g db.GroupsGroup
	err := s.inLockedGroup(ctx, groupID, func(q *db.Queries, current db.GroupsGroup) error {
		if _, err := staffOf(ctx, q, current.ID, callerID); err != nil {
			return err
		}
		next := db.UpdateGroupParams{
			ID: current.ID, Name: current.Name, NameFolded: current.NameFolded,
			Introduction: current.Introduction, AvatarUrl: current.AvatarUrl,
			JoinPolicy: current.JoinPolicy, MuteAll: current.MuteAll, HistoryVisible: current.HistoryVisible,
		}
		if name := strings.TrimSpace(f.Name); name != "" {
			next.Name, next.NameFolded = name, textsearch.Fold(name)
		}
		if f.Introduction != "" {
			next.Introduction = f.Introduction
		}
		if f.AvatarURL != "" {
			next.AvatarUrl = f.AvatarURL
		}
		if f.JoinPolicy != nil {
			next.JoinPolicy = int16(*f.JoinPolicy)
		}
		if f.MuteAll != nil {
			next.MuteAll = *f.MuteAll
		}
		if f.HistoryVisible != nil {
			next.HistoryVisible = *f.HistoryVisible
		}
		var err error
		if g, err = q.UpdateGroup(ctx, next); err != nil {
			return err
		}
		if g.JoinPolicy == current.JoinPolicy && g.MuteAll == current.MuteAll && g.HistoryVisible == current.HistoryVisible {
			return nil
		}
		return record(ctx, q, g.ID, &grouppb.GroupEvent{
			Kind: grouppb.GroupEvent_KIND_POLICY_CHANGED, ActorId: callerID,
			JoinPolicy: grouppb.JoinPolicy(g.JoinPolicy), MuteAll: g.MuteAll, HistoryVisible: g.HistoryVisible,
		}, 0)
	})
	return groupOf(g), err
}

func (s *Service) GetGroup(ctx context.Context, groupID uint64) (Group, error) {
	g, err := s.q.GetGroup(ctx, groupID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Group{}, ErrNotFound
	}
	if err != nil {
		return Group{}, fmt.Errorf("get group %d: %w", groupID, err)
	}
	return groupOf(g), nil
}

// QueryGroups lists live groups whose name contains keyword
// (case-insensitive), or all live groups for an empty keyword, by id.
func (s *Service) QueryGroups(ctx context.Context, keyword string, page paging.Page) ([]Group, uint64, error) {
	keyword = textsearch.Fold(keyword)
	var (
		groups []db.GroupsGroup
		total  int64
		err    error
	)
	if keyword == "" {
		groups, err = s.q.ListGroups(ctx, db.ListGroupsParams{RowLimit: page.Limit(), RowOffset: page.Offset()})
		if err == nil {
			total, err = s.q.CountGroups(ctx)
		}
	} else {
		groups, err = s.q.SearchGroups(ctx, db.SearchGroupsParams{Keyword: keyword, RowLimit: page.Limit(), RowOffset: page.Offset()})
		if err == nil {
			total, err = s.q.CountSearchGroups(ctx, keyword)
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("query groups: %w", err)
	}
	out := make([]Group, len(groups))
	for i, g := range groups {
		out[i] = groupOf(g)
	}
	return out, uint64(total), nil
}

// DeleteGroup soft-deletes the group; owner only, unless parleyAdmin (a
// Parley admin resolving a report).
func (s *Service) DeleteGroup(ctx context.Context, callerID, groupID uint64, parleyAdmin bool) error {
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if g.OwnerID != callerID && !parleyAdmin {
			return ErrNotOwner
		}
		return q.DeleteGroup(ctx, g.ID)
	})
}

// JoinGroup adds userID to the group, or asks to. Oneself: an open group
// joins, an approval group makes a pending request (its id is answered),
// an invite-only group refuses. Adding someone else: owner/admins under
// any policy, any member of an open group. Already a member: no-op. A
// banned user comes in by no path; a kicked one only when owner/admins add
// it (or by invite code).
func (s *Service) JoinGroup(ctx context.Context, callerID, groupID, userID uint64) (requestID uint64, err error) {
	if userID == 0 {
		userID = callerID
	}
	// Look the invitee up before taking the group's lock: the user module
	// needs a connection of its own, which a lock holder must not wait for.
	// One query: NotFound for a missing invitee, else whether it blocks the
	// caller, who then may not add them.
	var inviteeErr error
	if userID != callerID {
		blocked, err := s.users.IsBlocked(ctx, userID, callerID)
		switch {
		case err != nil:
			inviteeErr = err
		case blocked:
			inviteeErr = ErrInviteeBlocks
		}
	}
	err = s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if userID != callerID {
			return s.add(ctx, q, g, callerID, userID, inviteeErr)
		}
		banned, err := q.IsBanned(ctx, db.IsBannedParams{GroupID: g.ID, UserID: userID})
		if err != nil {
			return err
		}
		if banned {
			return ErrBanned
		}
		already, err := q.IsMember(ctx, db.IsMemberParams{GroupID: g.ID, UserID: userID})
		if err != nil || already {
			return err
		}
		kicked, err := q.IsKicked(ctx, db.IsKickedParams{GroupID: g.ID, UserID: userID})
		if err != nil {
			return err
		}
		if kicked {
			return ErrKicked
		}
		switch g.JoinPolicy {
		case policyOpen:
			return s.admit(ctx, q, g, userID, userID)
		case policyApproval:
			requestID, err = s.request(ctx, q, g.ID, userID)
			return err
		default:
			return ErrInviteOnly
		}
	})
	return requestID, err
}

// add is JoinGroup of another user, userID, by callerID in the locked g.
func (s *Service) add(ctx context.Context, q *db.Queries, g db.GroupsGroup, callerID, userID uint64, inviteeErr error) error {
	caller, err := memberOf(ctx, q, g.ID, callerID)
	switch {
	case err != nil:
		return err
	case !caller.ok:
		return ErrNotMember
	case g.JoinPolicy != policyOpen && !caller.staff():
		return ErrStaffAddsOnly
	case inviteeErr != nil:
		return inviteeErr
	}
	banned, err := q.IsBanned(ctx, db.IsBannedParams{GroupID: g.ID, UserID: userID})
	if err != nil {
		return err
	}
	if banned {
		return ErrTargetBanned
	}
	kicked, err := q.IsKicked(ctx, db.IsKickedParams{GroupID: g.ID, UserID: userID})
	if err != nil {
		return err
	}
	if kicked {
		if !caller.staff() {
			return ErrKickedByOwner
		}
		if err := q.ClearKick(ctx, db.ClearKickParams{GroupID: g.ID, UserID: userID}); err != nil {
			return err
		}
	}
	return s.admit(ctx, q, g, userID, callerID)
}

// request files userID's request to join group groupID (or finds the one
// pending), up to MaxPendingRequests a group.
func (s *Service) request(ctx context.Context, q *db.Queries, groupID, userID uint64) (uint64, error) {
	pending, err := q.CountJoinRequests(ctx, groupID)
	if err != nil {
		return 0, err
	}
	req, err := q.RequestToJoin(ctx, db.RequestToJoinParams{GroupID: groupID, UserID: userID})
	if err != nil {
		return 0, err
	}
	// One filed before is answered even when the queue is full; a new one
	// over the limit is refused, and the transaction's rollback takes it back.
	if req.Created && pending >= MaxPendingRequests {
		return 0, ErrTooManyRequests
	}
	return req.ID, nil
}

// QuitGroup removes userID from the group: oneself (the owner must
// transfer the group first), or a member the caller outranks when the
// caller is the owner or an admin, which is a kick: recorded, so the user
// cannot rejoin by themselves.
func (s *Service) QuitGroup(ctx context.Context, callerID, groupID, userID uint64) error {
	if userID == 0 {
		userID = callerID
	}
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if userID == callerID {
			if userID == g.OwnerID {
				return ErrOwnerCannotQuit
			}
			return remove(ctx, q, g, userID, &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_LEFT, ActorId: userID, UserId: userID})
		}
		if _, err := moderate(ctx, q, g.ID, callerID, userID); err != nil {
			return err
		}
		err := q.RecordKick(ctx, db.RecordKickParams{GroupID: g.ID, UserID: userID, KickedBy: int64(callerID)})
		if err != nil {
			return err
		}
		return remove(ctx, q, g, userID, &grouppb.GroupEvent{Kind: grouppb.GroupEvent_KIND_KICKED, ActorId: callerID, UserId: userID})
	})
}

// Member is a group member as GetGroupUser answers it.
type Member struct {
	User       *userpb.User
	Role       grouppb.GroupRole
	JoinedAt   time.Time
	MutedUntil *time.Time // set while muted
}

// Members lists the group's members by join time; members only.
func (s *Service) Members(ctx context.Context, callerID, groupID uint64, page paging.Page) ([]Member, uint64, error) {
	g, err := s.GetGroup(ctx, groupID)
	if err != nil {
		return nil, 0, err
	}
	isMember, err := s.IsMember(ctx, groupID, callerID)
	if err != nil {
		return nil, 0, err
	}
	if !isMember {
		return nil, 0, ErrNotMember
	}
	rows, err := s.q.ListMembersByJoinTime(ctx, db.ListMembersByJoinTimeParams{
		GroupID: g.ID, RowLimit: page.Limit(), RowOffset: page.Offset(),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list members: %w", err)
	}
	ids := make([]uint64, len(rows))
	for i, r := range rows {
		ids[i] = r.UserID
	}
	users, err := s.usersByID(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	now := time.Now()
	members := make([]Member, 0, len(rows))
	for _, r := range rows {
		u := users[r.UserID]
		if u == nil {
			continue
		}
		m := Member{User: u, Role: grouppb.GroupRole(r.Role), JoinedAt: r.JoinedAt}
		if r.MutedUntil != nil && r.MutedUntil.After(now) {
			m.MutedUntil = r.MutedUntil
		}
		members = append(members, m)
	}
	return members, uint64(g.MemberCount), nil
}

// JoinedSince lists the members who joined the live group at or after
// since, in join order, with when (at most limit): those whose history
// starts then. None when the group shows members its whole history.
func (s *Service) JoinedSince(ctx context.Context, groupID uint64, since time.Time, limit int) (userIDs []uint64, joinedAt []time.Time, err error) {
	rows, err := s.q.JoinedSince(ctx, db.JoinedSinceParams{GroupID: groupID, Since: since, RowLimit: int64(limit)})
	if err != nil {
		return nil, nil, fmt.Errorf("joined since: %w", err)
	}
	userIDs, joinedAt = make([]uint64, len(rows)), make([]time.Time, len(rows))
	for i, r := range rows {
		userIDs[i], joinedAt[i] = r.UserID, r.JoinedAt
	}
	return userIDs, joinedAt, nil
}

// GroupsOf lists the live groups userID is a member of, by id, with where
// its history starts in each (Standing.HistoryFrom).
func (s *Service) GroupsOf(ctx context.Context, userID uint64) ([]Membership, error) {
	rows, err := s.q.GroupsOf(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of user %d: %w", userID, err)
	}
	out := make([]Membership, len(rows))
	for i, r := range rows {
		out[i] = Membership{Group: groupOf(r.GroupsGroup), HistoryFrom: r.HistoryFrom}
	}
	return out, nil
}

// IsMember reports whether userID is a member of the live group groupID.
func (s *Service) IsMember(ctx context.Context, groupID, userID uint64) (bool, error) {
	ok, err := s.q.IsMember(ctx, db.IsMemberParams{GroupID: groupID, UserID: userID})
	if err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return ok, nil
}

// MemberIDsAfter pages through a live group's member ids in id order.
func (s *Service) MemberIDsAfter(ctx context.Context, groupID, afterUserID uint64, limit int) ([]uint64, error) {
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, err
	}
	ids, err := s.q.ListMemberIDsAfter(ctx, db.ListMemberIDsAfterParams{
		GroupID: groupID, AfterUserID: afterUserID, RowLimit: int64(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list member ids: %w", err)
	}
	return ids, nil
}

// inLockedGroup runs fn in a transaction holding the live group's row lock,
// which serialises the changes to one group (membership and its count),
// then stores the events it recorded in the group's conversation.
func (s *Service) inLockedGroup(ctx context.Context, groupID uint64, fn func(q *db.Queries, g db.GroupsGroup) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		g, err := q.LockGroup(ctx, groupID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return fn(q, g)
	})
	if err != nil {
		return fmt.Errorf("group %d: %w", groupID, err)
	}
	s.relayNow(ctx) // the change may have recorded events
	return nil
}
