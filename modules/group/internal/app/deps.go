package app

import (
	"context"

	"github.com/parley-im/parley/api/gen/userpb"
)

// Users is what the group module needs of the user module.
type Users interface {
	// GetUser returns a live user or an error with code NotFound.
	GetUser(ctx context.Context, id uint64) (*userpb.User, error)
	// GetUsers returns the live users among ids, in any order.
	GetUsers(ctx context.Context, ids []uint64) ([]*userpb.User, error)
	// IsBlocked reports whether blockerID has blocked blockedID, or an
	// error with code NotFound when blockerID is not a live user.
	IsBlocked(ctx context.Context, blockerID, blockedID uint64) (bool, error)
}
