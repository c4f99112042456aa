package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/modules/feed/internal/db"
	"github.com/parley-im/parley/platform/auth"
)

// Comment adds the caller's comment to a public feed; comment_count moves
// in the same transaction.
func (s *Service) Comment(ctx context.Context, caller auth.Identity, feedID uint64, content string, replyTo uint64) (db.FeedsComment, error) {
	if err := s.requirePublic(ctx, feedID); err != nil {
		return db.FeedsComment{}, err
	}
	if replyTo != 0 {
		parent, err := s.q.GetComment(ctx, int64(replyTo))
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && parent.FeedID != int64(feedID)) {
			return db.FeedsComment{}, ErrBadReplyTo
		}
		if err != nil {
			return db.FeedsComment{}, fmt.Errorf("get comment %d: %w", replyTo, err)
		}
	}
	var c db.FeedsComment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		c, err = q.CreateComment(ctx, db.CreateCommentParams{
			FeedID: int64(feedID), UserID: int64(caller.UserID),
			Content: strings.TrimSpace(content), ReplyToID: int64(replyTo),
		})
		if err != nil {
			return err
		}
		incremented, err := q.IncrementCommentCount(ctx, int64(feedID))
		if err == nil && incremented == 0 {
			return ErrNotFound // no longer public: the comment goes with the rollback
		}
		return err
	})
	if err != nil {
		return db.FeedsComment{}, fmt.Errorf("comment on feed %d: %w", feedID, err)
	}
	return c, nil
}

// Comments lists a visible feed's comments, newest first, with the feed's
// comment count.
func (s *Service) Comments(ctx context.Context, caller auth.Identity, feedID uint64, c Cursor) ([]db.FeedsComment, uint64, error) {
	f, err := s.q.GetFeed(ctx, int64(feedID))
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !visible(f, caller)) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get feed %d: %w", feedID, err)
	}
	comments, err := s.q.ListComments(ctx, db.ListCommentsParams{FeedID: f.ID, BeforeID: c.beforeID(), RowLimit: int64(c.Num)})
	if err != nil {
		return nil, 0, fmt.Errorf("list comments: %w", err)
	}
	return comments, uint64(f.CommentCount), nil
}

// DeleteComment removes a comment; its author or the feed's owner.
func (s *Service) DeleteComment(ctx context.Context, caller auth.Identity, commentID uint64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		c, err := q.GetComment(ctx, int64(commentID))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrCommentNotFound
		}
		if err != nil {
			return err
		}
		// Locking the feed first serialises this with other count changes.
		f, err := lockVisible(ctx, q, caller, uint64(c.FeedID))
		if errors.Is(err, ErrNotFound) {
			return ErrCommentNotFound
		}
		if err != nil {
			return err
		}
		if uint64(c.UserID) != caller.UserID && uint64(f.UserID) != caller.UserID {
			return ErrNotCommentOwner
		}
		deleted, err := q.DeleteComment(ctx, c.ID)
		if err != nil || deleted == 0 { // deleted meanwhile by someone else
			return err
		}
		return q.DecrementCommentCount(ctx, f.ID)
	})
	if err != nil {
		return fmt.Errorf("delete comment %d: %w", commentID, err)
	}
	return nil
}
