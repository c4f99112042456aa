package group

import (
	"context"
	"time"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/modules/group/internal/app"
)

// API is what other modules may ask of the group module.
type API interface {
	// Exists reports whether the group exists and is not deleted.
	Exists(ctx context.Context, groupID uint64) (bool, error)
	// IsMember reports whether userID is a member of the live group groupID
	// (false for a missing or deleted group).
	IsMember(ctx context.Context, groupID, userID uint64) (bool, error)
	// MemberIDsAfter returns up to limit member ids of a live group greater
	// than afterUserID, in id order: page through a group of any size by
	// passing the last id back. ErrNotFound for a missing or deleted group.
	MemberIDsAfter(ctx context.Context, groupID, afterUserID uint64, limit int) ([]uint64, error)
	// JoinedAt is when userID last joined the live group groupID (a member
	// sees its messages from then on); false when it is not a member.
	JoinedAt(ctx context.Context, groupID, userID uint64) (time.Time, bool, error)
	// OwnerID is the live group's owner; ErrNotFound for a missing or
	// deleted group.
	OwnerID(ctx context.Context, groupID uint64) (uint64, error)
	// JoinedSince lists up to limit members who joined the live group at or
	// after since, in join order, with when each did.
	JoinedSince(ctx context.Context, groupID uint64, since time.Time, limit int) (userIDs []uint64, joinedAt []time.Time, err error)
	// GroupsOf lists the live groups userID is a member of, by id, and when
	// it joined each (joinedAt[i] for groups[i]).
	GroupsOf(ctx context.Context, userID uint64) (groups []*grouppb.Group, joinedAt []time.Time, err error)
}

// ErrNotFound is returned for a group that does not exist or was deleted.
var ErrNotFound = app.ErrNotFound
