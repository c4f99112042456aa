package group

import (
	"context"
	"time"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group/internal/app"
)

// API is what other modules may ask of the group module.
type API interface {
	// IsMember reports whether userID is a member of the live group groupID
	// (false for a missing or deleted group).
	IsMember(ctx context.Context, groupID, userID uint64) (bool, error)
	// MemberIDsAfter returns up to limit member ids of a live group greater
	// than afterUserID, in id order: page through a group of any size by
	// passing the last id back. ErrNotFound for a missing or deleted group.
	MemberIDsAfter(ctx context.Context, groupID, afterUserID uint64, limit int) ([]uint64, error)
	// MaySend is nil when userID may send to the live group groupID now,
	// else an error saying why (no such group, not a member, muted, the
	// group muted for all but its owner and admins).
	MaySend(ctx context.Context, groupID, userID uint64) error
	// IsStaff reports whether userID is the owner or an admin of the live
	// group groupID.
	IsStaff(ctx context.Context, groupID, userID uint64) (bool, error)
	// HistoryFrom is where userID's view of the live group's conversation
	// starts: its join, or the group's creation when the group shows its
	// history; false when it is not a member.
	HistoryFrom(ctx context.Context, groupID, userID uint64) (time.Time, bool, error)
	// JoinedSince lists up to limit members who joined the live group at or
	// after since, in join order, with when each did: the members whose
	// history starts then (none when the group shows its whole history).
	JoinedSince(ctx context.Context, groupID uint64, since time.Time, limit int) (userIDs []uint64, joinedAt []time.Time, err error)
	// GroupsOf lists the live groups userID is a member of, by id, and
	// where its history starts in each (historyFrom[i] for groups[i]).
	GroupsOf(ctx context.Context, userID uint64) (groups []*grouppb.Group, historyFrom []time.Time, err error)
}

// Events is what the module needs of the message module: storing group
// events in the groups' conversations (RelayEvents).
type Events = app.Events

// ErrNotFound is returned for a group that does not exist or was deleted.
var ErrNotFound = app.ErrNotFound
