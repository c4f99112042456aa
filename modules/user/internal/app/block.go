package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/modules/user/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/paging"
)

var ErrBlockSelf = apperr.InvalidArgument("user_id: you cannot block yourself")

// Block stops blockedID messaging blockerID; blocking twice changes nothing.
func (s *Service) Block(ctx context.Context, blockerID, blockedID uint64) error {
	if blockerID == blockedID {
		return ErrBlockSelf
	}
	if _, err := s.GetUser(ctx, blockedID); err != nil {
		return err
	}
	if err := s.q.Block(ctx, db.BlockParams{BlockerID: blockerID, BlockedID: blockedID}); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	return nil
}

// Unblock lifts a block; not having blocked is no error.
func (s *Service) Unblock(ctx context.Context, blockerID, blockedID uint64) error {
	if err := s.q.Unblock(ctx, db.UnblockParams{BlockerID: blockerID, BlockedID: blockedID}); err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	return nil
}

// IsBlocked reports whether blockerID has blocked blockedID; ErrNotFound
// when blockerID is not a live user (one query for a send's two checks).
func (s *Service) IsBlocked(ctx context.Context, blockerID, blockedID uint64) (bool, error) {
	blocked, err := s.q.IsBlocked(ctx, db.IsBlockedParams{BlockerID: blockerID, BlockedID: blockedID})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("is blocked: %w", err)
	}
	return blocked, nil
}

// BlockersAmong returns those of candidates who have blocked blockedID, in
// no particular order: one query for a list's worth of IsBlocked.
func (s *Service) BlockersAmong(ctx context.Context, blockedID uint64, candidates []uint64) ([]uint64, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(candidates))
	for i, id := range candidates {
		ids[i] = int64(id)
	}
	blockers, err := s.q.BlockersAmong(ctx, db.BlockersAmongParams{BlockerIds: ids, BlockedID: blockedID})
	if err != nil {
		return nil, fmt.Errorf("blockers among: %w", err)
	}
	return blockers, nil
}

// Blocked lists whom userID has blocked, most recent first.
func (s *Service) Blocked(ctx context.Context, userID uint64, page paging.Page) ([]User, uint64, error) {
	rows, err := s.q.ListBlocked(ctx, db.ListBlockedParams{UserID: userID, RowLimit: page.Limit(), RowOffset: page.Offset()})
	if err != nil {
		return nil, 0, fmt.Errorf("list blocked: %w", err)
	}
	total, err := s.q.CountBlocked(ctx, userID)
	if err != nil {
		return nil, 0, fmt.Errorf("count blocked: %w", err)
	}
	return usersOf(rows, func(r db.ListBlockedRow) User { return userOf(r.UsersUser) }), uint64(total), nil
}
