package user

import (
	"context"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/user/internal/app"
)

// API is what other modules may ask of the user module. Users travel as the
// wire's user.User: it is already the public, stable shape of a user and
// carries no credential.
type API interface {
	// GetUser returns a live user or ErrNotFound.
	GetUser(ctx context.Context, id uint64) (*userpb.User, error)
	// GetUsers returns the live users among ids, in no particular order;
	// missing ids are left out.
	GetUsers(ctx context.Context, ids []uint64) ([]*userpb.User, error)
	// FollowingIDs returns the ids of the live users userID follows.
	FollowingIDs(ctx context.Context, userID uint64) ([]uint64, error)
	// IsBlocked reports whether blockerID has blocked blockedID, or
	// ErrNotFound when blockerID is not a live user.
	IsBlocked(ctx context.Context, blockerID, blockedID uint64) (bool, error)
	// BlockersAmong returns those of candidates who have blocked blockedID,
	// in no particular order.
	BlockersAmong(ctx context.Context, blockedID uint64, candidates []uint64) ([]uint64, error)
}

// ErrNotFound is returned for a user that does not exist or was deleted.
var ErrNotFound = app.ErrNotFound
