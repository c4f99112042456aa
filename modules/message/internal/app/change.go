package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/auth"
	"github.com/parley-im/parley/platform/bus"
)

// CmdChange is the push frame cmd of a change to a message (its data a
// messagepb.MessageChange).
const CmdChange = "change"

// Errors of changes to messages.
var (
	// ErrMessageNotFound is the answer for a message the caller cannot see,
	// the same whether it exists or not.
	ErrMessageNotFound = apperr.NotFound("message not found")
	ErrNotSender       = apperr.PermissionDenied("only its sender may edit a message")
	ErrNotText         = apperr.FailedPrecondition("only a text message can be edited")
	ErrRecalled        = apperr.FailedPrecondition("the message was recalled")
	ErrNotRecaller     = apperr.PermissionDenied("only its sender, the group's owner or an admin may recall a message")
)

// joinBand is how far from a message's creation a member's join leaves it
// unsure, without computing the member's first seq, whether the member sees
// the message (FirstSeqsSince's one-minute rule).
const joinBand = time.Minute

// Edit replaces the text of callerID's own text message id, within the edit
// window, as a change entry of its conversation; the same text is no change.
func (s *Service) Edit(ctx context.Context, callerID, id uint64, text *messagepb.TextMessage) (*messagepb.Message, error) {
	if !s.limiter.Allow(callerID) { // an edit costs what a send does
		return nil, ErrRateLimited
	}
	m, conv, err := s.visibleMessage(ctx, callerID, id)
	if err != nil {
		return nil, err
	}
	if err := s.editable(m, callerID); err != nil {
		return nil, err
	}
	// A peer who blocks the caller gets no new words from it, edited ones
	// included.
	if conv.groupID == 0 {
		peer := conv.userA
		if peer == callerID {
			peer = conv.userB
		}
		blocked, err := s.users.IsBlocked(ctx, peer, callerID)
		if err != nil {
			return nil, err
		}
		if blocked {
			return nil, ErrBlocked
		}
	}
	body, err := s.marshalBody(Body{Type: messagepb.MESSAGE_TYPE_TEXT, Msg: text})
	if err != nil {
		return nil, err
	}
	lock := s.lockFor(conv.ID())
	lock.Lock()
	defer lock.Unlock()
	var change *messagepb.MessageChange
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockConversation(ctx, conv.ID()); err != nil {
			return err
		}
		// Again under the row's lock: a concurrent edit may have come first.
		current, err := q.LockMessage(ctx, id)
		if err != nil {
			return err
		}
		if err := s.editable(current, callerID); err != nil {
			return err
		}
		if sameText(current.Body, text) {
			m = current
			return nil
		}
		seq, err := q.NextSeq(ctx, conv.ID())
		if err != nil {
			return err
		}
		if m, err = q.EditMessage(ctx, db.EditMessageParams{ID: id, Body: body}); err != nil {
			return err
		}
		if err := q.AddChange(ctx, db.AddChangeParams{
			ConversationID: conv.ID(), Seq: seq, MessageID: id, Kind: int16(messagepb.ChangeKind_CHANGE_KIND_EDITED), ActorID: callerID,
		}); err != nil {
			return err
		}
		change = &messagepb.MessageChange{Seq: seq, Kind: messagepb.ChangeKind_CHANGE_KIND_EDITED, ActorId: callerID}
		return nil
	})
	if err != nil {
		var known *apperr.Error
		if errors.As(err, &known) {
			return nil, err
		}
		return nil, fmt.Errorf("edit message %d: %w", id, err)
	}
	pb, err := s.toProto(m)
	if err != nil {
		return nil, err
	}
	if change != nil {
		change.Message = pb
		s.publishChange(ctx, conv, m, change)
	}
	return pb, nil
}

// Recall takes message id back as caller: its body erased, a tombstone
// left, the quotes of replies to it marked recalled, as a change entry of
// its conversation. A recalled message recalled again is no change.
func (s *Service) Recall(ctx context.Context, caller auth.Identity, id uint64) error {
	if !s.limiter.Allow(caller.UserID) {
		return ErrRateLimited
	}
	m, conv, err := s.recallable(ctx, caller, id)
	if err != nil {
		return err
	}
	lock := s.lockFor(conv.ID())
	lock.Lock()
	defer lock.Unlock()
	var change *messagepb.MessageChange
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockConversation(ctx, conv.ID()); err != nil {
			return err
		}
		current, err := q.LockMessage(ctx, id)
		if err != nil || current.RecalledAt != nil {
			return err
		}
		seq, err := q.NextSeq(ctx, conv.ID())
		if err != nil {
			return err
		}
		if m, err = q.RecallMessage(ctx, db.RecallMessageParams{ID: id, RecalledBy: caller.UserID}); err != nil {
			return err
		}
		if err := q.MarkQuotesRecalled(ctx, db.MarkQuotesRecalledParams{ConversationID: conv.ID(), ReplyToID: id}); err != nil {
			return err
		}
		if err := q.AddChange(ctx, db.AddChangeParams{
			ConversationID: conv.ID(), Seq: seq, MessageID: id, Kind: int16(messagepb.ChangeKind_CHANGE_KIND_RECALLED), ActorID: caller.UserID,
		}); err != nil {
			return err
		}
		change = &messagepb.MessageChange{Seq: seq, Kind: messagepb.ChangeKind_CHANGE_KIND_RECALLED, ActorId: caller.UserID}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recall message %d: %w", id, err)
	}
	if change == nil {
		return nil
	}
	if change.Message, err = s.toProto(m); err != nil {
		return err
	}
	s.publishChange(ctx, conv, m, change)
	return nil
}

// recallable is message id and its conversation if caller may recall it:
// its sender within the recall window; the group's owner, or an admin, any
// time (an admin even outside the conversation).
func (s *Service) recallable(ctx context.Context, caller auth.Identity, id uint64) (db.MessagesMessage, conversation, error) {
	if caller.Admin {
		m, err := s.q.GetMessage(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return db.MessagesMessage{}, conversation{}, ErrMessageNotFound
		}
		if err != nil {
			return db.MessagesMessage{}, conversation{}, fmt.Errorf("get message %d: %w", id, err)
		}
		conv, err := parseConversation(m.ConversationID)
		return m, conv, err
	}
	m, conv, err := s.visibleMessage(ctx, caller.UserID, id)
	if err != nil {
		return m, conv, err
	}
	if conv.groupID != 0 {
		owner, err := s.groups.OwnerID(ctx, conv.groupID)
		if err != nil {
			return m, conv, err
		}
		if owner == caller.UserID {
			return m, conv, nil
		}
	}
	switch {
	case m.FromUserID != caller.UserID:
		return m, conv, ErrNotRecaller
	case m.RecalledAt == nil && s.cfg.RecallWindow > 0 && time.Since(m.CreatedAt) > s.cfg.RecallWindow:
		return m, conv, apperr.FailedPrecondition("the message is older than the %s recall window", s.cfg.RecallWindow)
	}
	return m, conv, nil
}

// visibleMessage is message id and its conversation, if callerID sees it.
func (s *Service) visibleMessage(ctx context.Context, callerID, id uint64) (db.MessagesMessage, conversation, error) {
	m, err := s.q.GetMessage(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.MessagesMessage{}, conversation{}, ErrMessageNotFound
	}
	if err != nil {
		return db.MessagesMessage{}, conversation{}, fmt.Errorf("get message %d: %w", id, err)
	}
	conv, firstSeq, err := s.authorize(ctx, callerID, m.ConversationID)
	if errors.Is(err, ErrNotParticipant) || (err == nil && m.Seq < firstSeq) {
		return db.MessagesMessage{}, conversation{}, ErrMessageNotFound
	}
	return m, conv, err
}

// editable says why callerID may not edit m, if it may not.
func (s *Service) editable(m db.MessagesMessage, callerID uint64) error {
	switch {
	case m.RecalledAt != nil:
		return ErrRecalled
	case m.FromUserID != callerID:
		return ErrNotSender
	case messagepb.MESSAGE_TYPE(m.Type) != messagepb.MESSAGE_TYPE_TEXT:
		return ErrNotText
	case s.cfg.EditWindow > 0 && time.Since(m.CreatedAt) > s.cfg.EditWindow:
		return apperr.FailedPrecondition("the message is older than the %s edit window", s.cfg.EditWindow)
	}
	return nil
}

// sameText reports whether the stored text body says text.
func sameText(stored []byte, text *messagepb.TextMessage) bool {
	var current messagepb.TextMessage
	return proto.Unmarshal(stored, &current) == nil && current.GetContent() == text.GetContent()
}

// publishChange pushes change of m, in its place in the conversation's
// stream, to the devices of everyone who sees m. Like a message's push, a
// failed one is caught up by SyncMessages.
func (s *Service) publishChange(ctx context.Context, conv conversation, m db.MessagesMessage, change *messagepb.MessageChange) {
	recipients, err := s.seers(ctx, conv, m)
	if err != nil {
		s.log.Warn().Err(err).Str("conversation", conv.ID()).Msg("change not pushed: its recipients are unknown")
		return
	}
	data, err := proto.Marshal(change)
	if err != nil {
		s.log.Error().Err(err).Msg("marshal change")
		return
	}
	_ = s.bus.Publish(ctx, bus.Delivery{UserIDs: recipients, Cmd: CmdChange, Data: data, Conversation: conv.ID(), Seq: change.GetSeq()})
}

// seers are the users who see m: both users of a 1:1 conversation; a
// group's members but those whose history starts after m. Only members who
// joined within joinBand of m's creation, or after it, need their first seq
// computed.
func (s *Service) seers(ctx context.Context, conv conversation, m db.MessagesMessage) ([]uint64, error) {
	if conv.groupID == 0 {
		return []uint64{conv.userA, conv.userB}, nil
	}
	members, err := s.memberIDs(ctx, conv.groupID)
	if err != nil {
		return nil, err
	}
	late, joinedAt, err := s.groups.JoinedSince(ctx, conv.groupID, m.CreatedAt.Add(-joinBand), len(members))
	if err != nil {
		return nil, err
	}
	if len(late) == 0 {
		return members, nil
	}
	blind := map[uint64]bool{}
	for i, u := range late {
		first, err := s.firstSeqs(ctx, []string{conv.ID()}, joinedAt[i:i+1])
		if err != nil {
			return nil, err
		}
		if first[conv.ID()] > m.Seq {
			blind[u] = true
		}
	}
	return slices.DeleteFunc(members, func(u uint64) bool { return blind[u] }), nil
}
