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
	if err := s.q.Follow(ctx, db.FollowParams{FollowerID: int64(followerID), FolloweeID: int64(followeeID)}); err != nil {
		return fmt.Errorf("follow: %w", err)
	}
	return nil
}

// Unfollow stops followerID following followeeID; not following is no error.
func (s *Service) Unfollow(ctx context.Context, followerID, followeeID uint64) error {
	if err := s.q.Unfollow(ctx, db.UnfollowParams{FollowerID: int64(followerID), FolloweeID: int64(followeeID)}); err != nil {
		return fmt.Errorf("unfollow: %w", err)
	}
	return nil
}

// Following lists whom userID follows, most recent first.
func (s *Service) Following(ctx context.Context, userID uint64, page paging.Page) ([]db.UsersUser, uint64, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, 0, err
	}
	rows, err := s.q.ListFollowing(ctx, db.ListFollowingParams{UserID: int64(userID), RowLimit: page.Limit(), RowOffset: page.Offset()})
	if err != nil {
		return nil, 0, fmt.Errorf("list following: %w", err)
	}
	total, err := s.q.CountFollowing(ctx, int64(userID))
	if err != nil {
		return nil, 0, fmt.Errorf("count following: %w", err)
	}
	return usersOf(rows, func(r db.ListFollowingRow) db.UsersUser { return r.UsersUser }), uint64(total), nil
}

// Followers lists who follows userID, most recent first.
func (s *Service) Followers(ctx context.Context, userID uint64, page paging.Page) ([]db.UsersUser, uint64, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, 0, err
	}
	rows, err := s.q.ListFollowers(ctx, db.ListFollowersParams{UserID: int64(userID), RowLimit: page.Limit(), RowOffset: page.Offset()})
	if err != nil {
		return nil, 0, fmt.Errorf("list followers: %w", err)
	}
	total, err := s.q.CountFollowers(ctx, int64(userID))
	if err != nil {
		return nil, 0, fmt.Errorf("count followers: %w", err)
	}
	return usersOf(rows, func(r db.ListFollowersRow) db.UsersUser { return r.UsersUser }), uint64(total), nil
}

// usersOf takes the users out of a listing's rows.
func usersOf[R any](rows []R, user func(R) db.UsersUser) []db.UsersUser {
	users := make([]db.UsersUser, len(rows))
	for i, r := range rows {
		users[i] = user(r)
	}
	return users
}

// FollowingIDs returns the ids of the live users userID follows.
func (s *Service) FollowingIDs(ctx context.Context, userID uint64) ([]uint64, error) {
	ids, err := s.q.FollowingIDs(ctx, int64(userID))
	if err != nil {
		return nil, fmt.Errorf("following ids: %w", err)
	}
	out := make([]uint64, len(ids))
	for i, id := range ids {
		out[i] = uint64(id)
	}
	return out, nil
}
