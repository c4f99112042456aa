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
func (s *Service) Comment(ctx context.Context, caller auth.Identity, feedID uint64, content string, replyTo uint64) (Comment, error) {
	if err := s.requirePublic(ctx, feedID); err != nil {
		return Comment{}, err
	}
	if replyTo != 0 {
		parent, err := s.q.GetComment(ctx, replyTo)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && parent.FeedID != feedID) {
			return Comment{}, ErrBadReplyTo
		}
		if err != nil {
			return Comment{}, fmt.Errorf("get comment %d: %w", replyTo, err)
		}
	}
	var c db.FeedsComment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		c, err = q.CreateComment(ctx, db.CreateCommentParams{
			FeedID: feedID, UserID: caller.UserID,
			Content: strings.TrimSpace(content), ReplyToID: replyTo,
		})
		if err != nil {
			return err
		}
		incremented, err := q.IncrementCommentCount(ctx, feedID)
		if err == nil && incremented == 0 {
			return ErrNotFound // no longer public: the comment goes with the rollback
		}
		return err
	})
	if err != nil {
		return Comment{}, fmt.Errorf("comment on feed %d: %w", feedID, err)
	}
	return commentOf(c), nil
}

// CommentAuthor is the author of a comment viewer may see (on a feed it
// may see), else ErrCommentNotFound: what a report of it needs.
func (s *Service) CommentAuthor(ctx context.Context, viewer auth.Identity, commentID uint64) (uint64, error) {
	c, err := s.q.GetComment(ctx, commentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrCommentNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("get comment %d: %w", commentID, err)
	}
	if _, err := s.FeedAuthor(ctx, viewer, c.FeedID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return 0, ErrCommentNotFound
		}
		return 0, err
	}
	return c.UserID, nil
}

// Comments lists a visible feed's comments, newest first, with the feed's
// comment count.
func (s *Service) Comments(ctx context.Context, caller auth.Identity, feedID uint64, c Cursor) ([]Comment, uint64, error) {
	f, err := s.q.GetFeed(ctx, feedID)
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
	out := make([]Comment, len(comments))
	for i, c := range comments {
		out[i] = commentOf(c)
	}
	return out, uint64(f.CommentCount), nil
}

// DeleteComment removes a comment; its author, the feed's owner or an
// admin.
func (s *Service) DeleteComment(ctx context.Context, caller auth.Identity, commentID uint64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		c, err := q.GetComment(ctx, commentID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrCommentNotFound
		}
		if err != nil {
			return err
		}
		// Locking the feed first serialises this with other count changes.
		f, err := lockVisible(ctx, q, caller, c.FeedID)
		if errors.Is(err, ErrNotFound) {
			return ErrCommentNotFound
		}
		if err != nil {
			return err
		}
		if c.UserID != caller.UserID && f.UserID != caller.UserID && !caller.Admin {
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
