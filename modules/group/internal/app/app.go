// Package app is the group module's behaviour: groups, membership and who
// may change them.
package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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
}

// DefaultMemberCap is the member cap when Config leaves it zero.
const DefaultMemberCap = 10_000

// Errors the module returns; the messages are what clients see.
var (
	ErrNotFound        = apperr.NotFound("group not found")
	ErrNotOwner        = apperr.PermissionDenied("only the group's owner may do this")
	ErrNotMember       = apperr.PermissionDenied("only members of the group may do this")
	ErrNotAMember      = apperr.NotFound("not a member of this group")
	ErrOwnerCannotQuit = apperr.FailedPrecondition("the owner cannot quit its own group: delete the group instead")
	ErrGroupFull       = apperr.FailedPrecondition("the group is full")
	ErrKicked          = apperr.PermissionDenied("you were removed from this group by its owner: only the owner can add you back")
	ErrKickedByOwner   = apperr.PermissionDenied("user_id: was removed from this group by its owner: only the owner can add them back")
	ErrInviteeBlocks   = apperr.PermissionDenied("user_id: this user does not accept being added to groups by you")
)

// Service implements the module over its schema.
type Service struct {
	pool  *pgxpool.Pool
	q     *db.Queries
	users Users
	cfg   Config
}

func New(pool *pgxpool.Pool, users Users, cfg Config) *Service {
	if cfg.MemberCap <= 0 {
		cfg.MemberCap = DefaultMemberCap
	}
	return &Service{pool: pool, q: db.New(pool), users: users, cfg: cfg}
}

// Fields are a group's editable fields, validated.
type Fields struct {
	Name         string
	Introduction string
	AvatarURL    string
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
		_, err = q.AddMember(ctx, db.AddMemberParams{GroupID: g.ID, UserID: ownerID})
		return err
	})
	if err != nil {
		return Group{}, fmt.Errorf("create group: %w", err)
	}
	return groupOf(g), nil
}

// UpdateGroup changes the fields given non-empty; owner only.
func (s *Service) UpdateGroup(ctx context.Context, callerID, groupID uint64, f Fields) (Group, error) {
	var g db.GroupsGroup
	err := s.inLockedGroup(ctx, groupID, func(q *db.Queries, current db.GroupsGroup) error {
		if current.OwnerID != callerID {
			return ErrNotOwner
		}
		next := db.UpdateGroupParams{
			ID: current.ID, Name: current.Name, NameFolded: current.NameFolded,
			Introduction: current.Introduction, AvatarUrl: current.AvatarUrl,
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
		var err error
		g, err = q.UpdateGroup(ctx, next)
		return err
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

// DeleteGroup soft-deletes the group; owner only.
func (s *Service) DeleteGroup(ctx context.Context, callerID, groupID uint64) error {
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if g.OwnerID != callerID {
			return ErrNotOwner
		}
		return q.DeleteGroup(ctx, g.ID)
	})
}

// JoinGroup adds userID to the group. Joining oneself needs no more; adding
// someone else needs the caller to be a member. Already a member: no-op. A
// user the owner removed comes back only when the owner adds them.
func (s *Service) JoinGroup(ctx context.Context, callerID, groupID, userID uint64) error {
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
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		if userID != callerID {
			isMember, err := q.IsMember(ctx, db.IsMemberParams{GroupID: g.ID, UserID: callerID})
			if err != nil {
				return err
			}
			if !isMember {
				return ErrNotMember
			}
			if inviteeErr != nil {
				return inviteeErr
			}
		}
		kicked, err := q.IsKicked(ctx, db.IsKickedParams{GroupID: g.ID, UserID: userID})
		if err != nil {
			return err
		}
		switch {
		case kicked && callerID == g.OwnerID:
			if err := q.ClearKick(ctx, db.ClearKickParams{GroupID: g.ID, UserID: userID}); err != nil {
				return err
			}
		case kicked && userID == callerID:
			return ErrKicked
		case kicked:
			return ErrKickedByOwner
		}
		if int(g.MemberCount) >= s.cfg.MemberCap {
			already, err := q.IsMember(ctx, db.IsMemberParams{GroupID: g.ID, UserID: userID})
			if err != nil || already {
				return err
			}
			return ErrGroupFull
		}
		added, err := q.AddMember(ctx, db.AddMemberParams{GroupID: g.ID, UserID: userID})
		if err != nil || added == 0 {
			return err
		}
		return q.AdjustMemberCount(ctx, db.AdjustMemberCountParams{ID: g.ID, Delta: 1})
	})
}

// QuitGroup removes userID from the group: oneself, or anyone but the owner
// when the caller is the owner, which is a kick: recorded, so the user
// cannot rejoin by themselves. The owner cannot leave.
func (s *Service) QuitGroup(ctx context.Context, callerID, groupID, userID uint64) error {
	if userID == 0 {
		userID = callerID
	}
	return s.inLockedGroup(ctx, groupID, func(q *db.Queries, g db.GroupsGroup) error {
		switch {
		case userID == g.OwnerID:
			if callerID == userID {
				return ErrOwnerCannotQuit
			}
			return ErrNotOwner
		case userID != callerID && g.OwnerID != callerID:
			return ErrNotOwner
		}
		removed, err := q.RemoveMember(ctx, db.RemoveMemberParams{GroupID: g.ID, UserID: userID})
		if err != nil {
			return err
		}
		if removed == 0 {
			return ErrNotAMember
		}
		if userID != callerID {
			err := q.RecordKick(ctx, db.RecordKickParams{GroupID: g.ID, UserID: userID, KickedBy: int64(callerID)})
			if err != nil {
				return err
			}
		}
		return q.AdjustMemberCount(ctx, db.AdjustMemberCountParams{ID: g.ID, Delta: -1})
	})
}

// Members lists the group's members by join time; members only.
func (s *Service) Members(ctx context.Context, callerID, groupID uint64, page paging.Page) ([]*userpb.User, uint64, error) {
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
	ids, err := s.q.ListMembersByJoinTime(ctx, db.ListMembersByJoinTimeParams{
		GroupID: g.ID, RowLimit: page.Limit(), RowOffset: page.Offset(),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list members: %w", err)
	}
	users, err := s.users.GetUsers(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	byID := make(map[uint64]*userpb.User, len(users))
	for _, u := range users {
		byID[u.GetId()] = u
	}
	ordered := make([]*userpb.User, 0, len(ids))
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			ordered = append(ordered, u)
		}
	}
	return ordered, uint64(g.MemberCount), nil
}

// JoinedSince lists the members who joined the live group at or after
// since, in join order, with when (at most limit).
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

// JoinedAt is when userID joined the live group groupID; false when it is
// not a member.
func (s *Service) JoinedAt(ctx context.Context, groupID, userID uint64) (time.Time, bool, error) {
	at, err := s.q.JoinedAt(ctx, db.JoinedAtParams{GroupID: groupID, UserID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("joined at: %w", err)
	}
	return at, true, nil
}

// GroupsOf lists the live groups userID is a member of, by id, with when it
// joined each.
func (s *Service) GroupsOf(ctx context.Context, userID uint64) ([]Membership, error) {
	rows, err := s.q.GroupsOf(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("groups of user %d: %w", userID, err)
	}
	out := make([]Membership, len(rows))
	for i, r := range rows {
		out[i] = Membership{Group: groupOf(r.GroupsGroup), JoinedAt: r.JoinedAt}
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
// which serialises the changes to one group (membership and its count).
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
	return nil
}
