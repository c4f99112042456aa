package app

import (
	"context"
	"fmt"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/database"
)

// MaxReactionKinds is how many different emoji one message may hold.
const MaxReactionKinds = 20

var ErrTooManyReactionKinds = apperr.FailedPrecondition(
	"the message has %d different reactions already: react with one of them", MaxReactionKinds)

// React adds callerID's reaction with emoji to message id, or takes it back
// (remove), as a change entry of its conversation, and returns the
// message's reactions as callerID sees them. Adding a reaction held
// already, or removing one not held, is no change.
func (s *Service) React(ctx context.Context, callerID, id uint64, emoji string, remove bool, key string) ([]*messagepb.Reaction, error) {
	if !s.limiter.Allow(callerID) {
		return nil, ErrRateLimited
	}
	kind := messagepb.ChangeKind_CHANGE_KIND_REACTION_ADDED
	if remove {
		kind = messagepb.ChangeKind_CHANGE_KIND_REACTION_REMOVED
	}
	if m, ok, err := s.retriedMessage(ctx, callerID, key, id, kind); err != nil {
		return nil, err
	} else if ok {
		reactions, err := s.reactions(ctx, callerID, []db.MessagesMessage{m})
		return reactions[id], err
	}
	target, conv, err := s.visibleMessage(ctx, callerID, id)
	if err != nil {
		return nil, err
	}
	if messagepb.MESSAGE_TYPE(target.Type) == messagepb.MESSAGE_TYPE_GROUP_EVENT {
		return nil, ErrGroupEvent
	}
	if err := s.mayWrite(ctx, conv, callerID); err != nil {
		return nil, err
	}
	reaction := db.HasReactionParams{MessageID: id, Emoji: emoji, UserID: callerID}
	m, err := s.change(ctx, conv, id, callerID, key, kind, emoji,
		func(q *db.Queries, current db.MessagesMessage) (db.MessagesMessage, bool, error) {
			if current.RecalledAt != nil {
				return current, false, ErrRecalled
			}
			held, err := q.HasReaction(ctx, reaction)
			if err != nil || held != remove {
				return current, false, err // nothing to add or to take back
			}
			if remove {
				if err := q.RemoveReaction(ctx, db.RemoveReactionParams(reaction)); err != nil {
					return current, false, err
				}
				left, err := q.UncountReaction(ctx, db.UncountReactionParams{MessageID: id, Emoji: emoji})
				if err != nil || left > 0 {
					return current, err == nil, err
				}
				if err := q.DropReactionCount(ctx, db.DropReactionCountParams{MessageID: id, Emoji: emoji}); err != nil {
					return current, false, err
				}
				m, err := q.SetReactionKinds(ctx, db.SetReactionKindsParams{ID: id, Delta: -1}) // out of use
				return m, true, err
			}
			inUse, err := q.EmojiInUse(ctx, db.EmojiInUseParams{MessageID: id, Emoji: emoji})
			if err != nil {
				return current, false, err
			}
			if !inUse && current.ReactionKinds >= MaxReactionKinds {
				return current, false, ErrTooManyReactionKinds
			}
			if err := q.AddReaction(ctx, db.AddReactionParams(reaction)); err != nil {
				return current, false, err
			}
			if _, err := q.CountReaction(ctx, db.CountReactionParams{MessageID: id, Emoji: emoji}); err != nil || inUse {
				return current, err == nil, err
			}
			m, err := q.SetReactionKinds(ctx, db.SetReactionKindsParams{ID: id, Delta: 1}) // into use
			return m, true, err
		})
	if err != nil {
		return nil, err
	}
	reactions, err := s.reactions(ctx, callerID, []db.MessagesMessage{m})
	if err != nil {
		return nil, err
	}
	return reactions[id], nil
}

// reactions are the reactions to those of rows that have any, by message
// id, mine as viewerID's.
func (s *Service) reactions(ctx context.Context, viewerID uint64, rows []db.MessagesMessage) (map[uint64][]*messagepb.Reaction, error) {
	var ids []uint64
	for _, m := range rows {
		if m.ReactionKinds > 0 {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	got, err := s.q.ReactionsOf(ctx, db.ReactionsOfParams{ViewerID: viewerID, MessageIds: database.BigintArray(ids)})
	if err != nil {
		return nil, fmt.Errorf("reactions: %w", err)
	}
	out := make(map[uint64][]*messagepb.Reaction, len(ids))
	for _, r := range got {
		recent := make([]uint64, len(r.RecentUserIds))
		for i, u := range r.RecentUserIds {
			recent[i] = uint64(u)
		}
		out[r.MessageID] = append(out[r.MessageID], &messagepb.Reaction{
			Emoji: r.Emoji, Count: uint64(r.Count), Mine: r.Mine, RecentUserId: recent,
		})
	}
	return out, nil
}

// protos are rows on the wire as viewerID sees them, reactions included.
func (s *Service) protos(ctx context.Context, viewerID uint64, rows []db.MessagesMessage) ([]*messagepb.Message, error) {
	reactions, err := s.reactions(ctx, viewerID, rows)
	if err != nil {
		return nil, err
	}
	out := make([]*messagepb.Message, len(rows))
	for i, r := range rows {
		if out[i], err = s.toProto(r); err != nil {
			return nil, err
		}
		out[i].Reactions = reactions[r.ID]
	}
	return out, nil
}

// messageProto is m on the wire as viewerID sees it.
func (s *Service) messageProto(ctx context.Context, viewerID uint64, m db.MessagesMessage) (*messagepb.Message, error) {
	out, err := s.protos(ctx, viewerID, []db.MessagesMessage{m})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}
