package app

import "context"

// Users is what the feed module needs of the user module.
type Users interface {
	// FollowingIDs returns the ids of the live users userID follows.
	FollowingIDs(ctx context.Context, userID uint64) ([]uint64, error)
}
