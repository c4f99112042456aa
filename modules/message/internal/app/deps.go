package app

import (
	"context"
	"time"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/userpb"
)

// Users is what the message module needs of the user module.
type Users interface {
	GetUsers(ctx context.Context, ids []uint64) ([]*userpb.User, error)
	// IsBlocked reports whether blockerID has blocked blockedID, or an
	// error with code NotFound when blockerID is not a live user.
	IsBlocked(ctx context.Context, blockerID, blockedID uint64) (bool, error)
	// BlockersAmong returns those of candidates who have blocked
	// blockedID: one query for a conversation list's peers.
	BlockersAmong(ctx context.Context, blockedID uint64, candidates []uint64) ([]uint64, error)
}

// Groups is what the message module needs of the group module.
type Groups interface {
	IsMember(ctx context.Context, groupID, userID uint64) (bool, error)
	// MaySend is nil when userID may send to the group now, else why not
	// (no such group, not a member, muted, the group muted).
	MaySend(ctx context.Context, groupID, userID uint64) error
	MemberIDsAfter(ctx context.Context, groupID, afterUserID uint64, limit int) ([]uint64, error)
	// MemberCount is how many members the group has (NotFound: no group).
	MemberCount(ctx context.Context, groupID uint64) (int, error)
	// HistoryFrom is where userID's view of the group's messages starts.
	HistoryFrom(ctx context.Context, groupID, userID uint64) (time.Time, bool, error)
	// IsStaff reports an owner or admin: it may recall any of its messages.
	IsStaff(ctx context.Context, groupID, userID uint64) (bool, error)
	// JoinedSince lists the members whose history starts at or after
	// since, and when.
	JoinedSince(ctx context.Context, groupID uint64, since time.Time, limit int) ([]uint64, []time.Time, error)
	GroupsOf(ctx context.Context, userID uint64) (groups []*grouppb.Group, historyFrom []time.Time, err error)
}
