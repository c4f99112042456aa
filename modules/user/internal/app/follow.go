package app

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/modules/user/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/paging"
)

var ErrFollowSelf = apperr.InvalidArgument("user_id: you cannot follow yourself")

// Follow makes followerID follow followeeID; following twice changes nothing.
func (s *Service) Follow(ctx context.Context, followerID, followeeID uint64) error {
	if followerID == followeeID {
		return ErrFollowSelf
	}
	if _, err := s.GetUser(ctx, followeeID); err != nil {
		return err
	}
	if err := s.q.Follow(ctx, db.FollowParams{FollowerID: followerID, FolloweeID: followeeID}); err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	return nil
}

// Unfollow stops followerID following followeeID; not following is no error.
func (s *Service) Unfollow(ctx context.Context, followerID, followeeID uint64) error {
	if err := s.q.Unfollow(ctx, db.UnfollowParams{FollowerID: followerID, FolloweeID: followeeID}); err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	return nil
}

// Following lists whom userID follows, most recent first.
func (s *Service) Following(ctx context.Context, userID uint64, page paging.Page) ([]User, uint64, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, 0, err
	}
	rows, err := s.q.ListFollowing(ctx, db.ListFollowingParams{UserID: userID, RowLimit: page.Limit(), RowOffset: page.Offset()})
	if err != nil {
		return nil, 0, fmt.Errorf("list following: %w", err)
	}
	total, err := s.q.CountFollowing(ctx, userID)
	if err != nil {
		return nil, 0, fmt.Errorf("count following: %w", err)
	}
	return usersOf(rows, func(r db.ListFollowingRow) User { return userOf(r.UsersUser) }), uint64(total), nil
}

// Followers lists who follows userID, most recent first.
func (s *Service) Followers(ctx context.Context, userID uint64, page paging.Page) ([]User, uint64, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, 0, err
	}
	rows, err := s.q.ListFollowers(ctx, db.ListFollowersParams{UserID: userID, RowLimit: page.Limit(), RowOffset: page.Offset()})
	if err != nil {
		return nil, 0, fmt.Errorf("list followers: %w", err)
	}
	total, err := s.q.CountFollowers(ctx, userID)
	if err != nil {
		return nil, 0, fmt.Errorf("count followers: %w", err)
	}
	return usersOf(rows, func(r db.ListFollowersRow) User { return userOf(r.UsersUser) }), uint64(total), nil
}

// FollowingIDs returns the ids of the live users userID follows.
func (s *Service) FollowingIDs(ctx context.Context, userID uint64) ([]uint64, error) {
	ids, err := s.q.FollowingIDs(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("following ids: %w", err)
	}
	return ids, nil
}
