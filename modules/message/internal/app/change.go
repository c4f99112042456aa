package app

import (
	"context"
	"errors"
	"fmt"
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
	ErrGroupEvent      = apperr.FailedPrecondition("a group event cannot be changed, recalled, reacted or replied to")
)

// joinBand is how far from a message's creation a member's join leaves it
// unsure, without computing the member's first seq, whether the member sees
// the message (FirstSeqsSince's one-minute rule).
const joinBand = time.Minute

// Edit replaces the text of callerID's own text message id, within the
// edit window, as a change entry of its conversation; the same text is no
// change. key, when set, makes a retry of the edit no second change.
func (s *Service) Edit(ctx context.Context, callerID, id uint64, text *messagepb.TextMessage, key string) (*messagepb.Message, error) {
	if !s.limiter.Allow(callerID) { // an edit costs what a send does
		return nil, ErrRateLimited
	}
	if m, ok, err := s.retriedMessage(ctx, callerID, key, id, messagepb.ChangeKind_CHANGE_KIND_EDITED); err != nil {
		return nil, err
	} else if ok {
		return s.messageProto(ctx, callerID, m)
	}
	m, conv, err := s.visibleMessage(ctx, callerID, id)
	if err != nil {
		return nil, err
	}
	if err := s.editable(m, callerID); err != nil {
		return nil, err
	}
	if err := s.mayWrite(ctx, conv, callerID); err != nil {
		return nil, err
	}
	body, err := s.marshalBody(Body{Type: messagepb.MESSAGE_TYPE_TEXT, Msg: text})
	if err != nil {
		return nil, err
	}
	edited, err := s.change(ctx, conv, id, callerID, key, messagepb.ChangeKind_CHANGE_KIND_EDITED, "",
		func(q *db.Queries, current db.MessagesMessage) (db.MessagesMessage, bool, error) {
			// Again under the row's lock: a concurrent edit may have come first.
			if err := s.editable(current, callerID); err != nil || sameText(current.Body, text) {
				return current, false, err
			}
			m, err := q.EditMessage(ctx, db.EditMessageParams{ID: id, Body: body})
			return m, true, err
		})
	if err != nil {
		return nil, err
	}
	return s.messageProto(ctx, callerID, edited)
}

// Recall takes message id back as caller: its body erased, its reactions
// deleted, a tombstone left, the quotes of replies to it marked recalled,
// as a change entry of its conversation. A recalled message recalled again
// is no change.
func (s *Service) Recall(ctx context.Context, caller auth.Identity, id uint64, key string) error {
	if !s.limiter.Allow(caller.UserID) {
		return ErrRateLimited
	}
	if ok, err := s.retried(ctx, caller.UserID, key, id, messagepb.ChangeKind_CHANGE_KIND_RECALLED); err != nil || ok {
		return err
	}
	_, conv, err := s.recallable(ctx, caller, id)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, conv, id, caller.UserID, key, messagepb.ChangeKind_CHANGE_KIND_RECALLED, "",
		func(q *db.Queries, current db.MessagesMessage) (db.MessagesMessage, bool, error) {
			if current.RecalledAt != nil {
				return current, false, nil
			}
			m, err := q.RecallMessage(ctx, db.RecallMessageParams{ID: id, RecalledBy: caller.UserID})
			if err != nil {
				return m, false, err
			}
			if err := q.DeleteReactions(ctx, id); err != nil {
				return m, false, err
			}
			if err := q.DeleteReactionCounts(ctx, id); err != nil {
				return m, false, err
			}
			return m, true, q.MarkQuotesRecalled(ctx, db.MarkQuotesRecalledParams{ConversationID: conv.ID(), ReplyToID: id})
		})
	return err
}

// DeleteForMe hides message id from callerID's own devices, as a change
// entry only they receive; hiding it again is no change.
func (s *Service) DeleteForMe(ctx context.Context, callerID, id uint64, key string) error {
	if !s.limiter.Allow(callerID) {
		return ErrRateLimited
	}
	if ok, err := s.retried(ctx, callerID, key, id, messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME); err != nil || ok {
		return err
	}
	m, conv, err := s.participantMessage(ctx, callerID, id)
	if err != nil {
		return err
	}
	_, err = s.change(ctx, conv, id, callerID, key, messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME, "",
		func(q *db.Queries, current db.MessagesMessage) (db.MessagesMessage, bool, error) {
			_, err := q.HideMessage(ctx, db.HideMessageParams{UserID: callerID, MessageID: id, ConversationID: conv.ID(), Seq: m.Seq})
			if errors.Is(err, pgx.ErrNoRows) {
				return current, false, nil // hidden already
			}
			return current, err == nil, err
		})
	return err
}

// mayWrite refuses what a send would be refused: ErrBlocked when the
// other user of a 1:1 conversation blocks callerID (it gets no new words
// from it, edits and reactions included); in a group, a caller muted or
// not a member (Groups.MaySend).
func (s *Service) mayWrite(ctx context.Context, conv conversation, callerID uint64) error {
	if conv.groupID != 0 {
		return s.groups.MaySend(ctx, conv.groupID, callerID)
	}
	peer := conv.userA
	if peer == callerID {
		peer = conv.userB
	}
	blocked, err := s.users.IsBlocked(ctx, peer, callerID)
	if err != nil {
		return err
	}
	if blocked {
		return ErrBlocked
	}
	return nil
}

// changeOp applies a change to current, the message locked in q's
// transaction: the message after it, or changed false for no change.
type changeOp func(q *db.Queries, current db.MessagesMessage) (after db.MessagesMessage, changed bool, err error)

// change applies op to message id of conv for actor in one transaction
// that claims its idempotency key, then locks the conversation's row and
// then the message's (the order of sends too: none deadlocks another, on
// any node). When op changes the message, the change is an entry of the
// conversation's stream with its next seq, pushed while the conversation's
// lock is held, so pushes leave in seq order. A key used before makes it no change; a refusal
// writes nothing, the key's claim included.
func (s *Service) change(ctx context.Context, conv conversation, id, actor uint64, key string, kind messagepb.ChangeKind, emoji string, op changeOp) (db.MessagesMessage, error) {
	lock := s.lockFor(conv.ID())
	lock.Lock()
	defer lock.Unlock()
	var (
		m   db.MessagesMessage
		seq uint64
	)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// The key first, as a send claims it: one lock order for both.
		fresh, err := claimKey(ctx, q, actor, key, id, kind)
		if err != nil {
			return err
		}
		if err := q.LockConversation(ctx, conv.ID()); err != nil {
			return err
		}
		current, err := q.LockMessage(ctx, id)
		m = current
		if err != nil || !fresh {
			return err
		}
		after, changed, err := op(q, current)
		if err != nil || !changed {
			return err
		}
		m = after
		if seq, err = q.NextSeq(ctx, conv.ID()); err != nil {
			return err
		}
		return q.AddChange(ctx, db.AddChangeParams{
			ConversationID: conv.ID(), Seq: seq, MessageID: id, Kind: int16(kind), ActorID: actor, Emoji: emoji,
		})
	})
	if err != nil {
		var known *apperr.Error
		if errors.As(err, &known) {
			return m, err
		}
		return m, fmt.Errorf("%s message %d: %w", kind, id, err)
	}
	if seq != 0 {
		s.publishChange(ctx, conv, m, &messagepb.MessageChange{Seq: seq, Kind: kind, ActorId: actor, Emoji: emoji})
	}
	return m, nil
}

// retried reports whether callerID used key within its lifetime for
// this change (kind of message id): the call is then a retry of a change
// made already and answers OK without checking again what may have changed
// since (a retried edit of a message recalled meanwhile was applied;
// refusing it would say otherwise). A key used by another request is
// refused.
func (s *Service) retried(ctx context.Context, callerID uint64, key string, id uint64, kind messagepb.ChangeKind) (bool, error) {
	if key == "" {
		return false, nil
	}
	used, err := s.q.LiveIdempotentChange(ctx, db.LiveIdempotentChangeParams{SenderID: callerID, Key: key})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("idempotency key: %w", err)
	}
	return true, usedFor(used, id, kind)
}

// retriedMessage is message id as callerID sees it now, when the call is
// a retry (retried).
func (s *Service) retriedMessage(ctx context.Context, callerID uint64, key string, id uint64, kind messagepb.ChangeKind) (db.MessagesMessage, bool, error) {
	ok, err := s.retried(ctx, callerID, key, id, kind)
	if err != nil || !ok {
		return db.MessagesMessage{}, false, err
	}
	m, _, err := s.participantMessage(ctx, callerID, id)
	return m, err == nil, err
}

// usedFor is ErrKeyReused unless the key was used for change kind of
// message id.
func usedFor(used db.LiveIdempotentChangeRow, id uint64, kind messagepb.ChangeKind) error {
	if used.MessageID != id || used.Operation != int16(kind) {
		return ErrKeyReused
	}
	return nil
}

// claimKey claims callerID's idempotency key for change kind of message
// id: fresh is false when this change was made with the key before (a
// concurrent retry committed first). No key is always fresh.
func claimKey(ctx context.Context, q *db.Queries, callerID uint64, key string, id uint64, kind messagepb.ChangeKind) (fresh bool, err error) {
	if key == "" {
		return true, nil
	}
	claim := db.ClaimIdempotencyKeyParams{SenderID: callerID, Key: key}
	if _, err := q.ClaimIdempotencyKey(ctx, claim); errors.Is(err, pgx.ErrNoRows) {
		// Live: a claim fails only then.
		used, err := q.LiveIdempotentChange(ctx, db.LiveIdempotentChangeParams(claim))
		if err != nil {
			return false, err
		}
		return false, usedFor(used, id, kind)
	} else if err != nil {
		return false, err
	}
	return true, q.SetIdempotentMessageID(ctx, db.SetIdempotentMessageIDParams{SenderID: callerID, Key: key, MessageID: id, Operation: int16(kind)})
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
	if messagepb.MESSAGE_TYPE(m.Type) == messagepb.MESSAGE_TYPE_GROUP_EVENT {
		return m, conv, ErrGroupEvent
	}
	if conv.groupID != 0 {
		staff, err := s.groups.IsStaff(ctx, conv.groupID, caller.UserID)
		if err != nil {
			return m, conv, err
		}
		if staff {
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

// visibleMessage is message id and its conversation, if callerID sees it:
// a participant's message, from its first seq on, not deleted for it.
func (s *Service) visibleMessage(ctx context.Context, callerID, id uint64) (db.MessagesMessage, conversation, error) {
	m, conv, err := s.participantMessage(ctx, callerID, id)
	if err != nil {
		return m, conv, err
	}
	hidden, err := s.q.IsHidden(ctx, db.IsHiddenParams{UserID: callerID, MessageID: id})
	if err != nil {
		return m, conv, fmt.Errorf("get message %d: %w", id, err)
	}
	if hidden {
		return db.MessagesMessage{}, conversation{}, ErrMessageNotFound
	}
	return m, conv, nil
}

// ReportedMessage is the sender and group (0: a 1:1 message) of message
// id, which viewerID must see; a group event or a recalled message has
// nothing to report.
func (s *Service) ReportedMessage(ctx context.Context, viewerID, id uint64) (senderID, groupID uint64, err error) {
	m, conv, err := s.visibleMessage(ctx, viewerID, id)
	switch {
	case err != nil:
		return 0, 0, err
	case messagepb.MESSAGE_TYPE(m.Type) == messagepb.MESSAGE_TYPE_GROUP_EVENT:
		return 0, 0, ErrGroupEvent
	case m.RecalledAt != nil:
		return 0, 0, ErrRecalled
	}
	return m.FromUserID, conv.groupID, nil
}

// participantMessage is message id and its conversation, if callerID takes
// part in it and the message is from its first seq on.
func (s *Service) participantMessage(ctx context.Context, callerID, id uint64) (db.MessagesMessage, conversation, error) {
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
// stream, to the devices of everyone who sees m (a delete-for-me: only its
// actor), and tells the devices of the other participants to pass its seq
// (bus.CmdSkip), so their order does not wait for it. The message is as
// the actor sees it (Reaction.mine). Like a message's push, a failed one is
// caught up by SyncMessages.
//
// The participants are read here, after the commit and under the
// conversation's lock, with who joined when: a member who left by then gets
// nothing, one who joined after m a skip.
func (s *Service) publishChange(ctx context.Context, conv conversation, m db.MessagesMessage, change *messagepb.MessageChange) {
	participants, err := s.participants(ctx, conv)
	if err != nil {
		s.log.Warn().Err(err).Str("conversation", conv.ID()).Msg("change not pushed: its recipients are unknown")
		return
	}
	see, pass, err := s.audience(ctx, conv, participants, m, change)
	if err != nil {
		s.log.Warn().Err(err).Str("conversation", conv.ID()).Msg("change not pushed: its recipients are unknown")
		return
	}
	if len(pass) > 0 {
		_ = s.bus.Publish(ctx, bus.Delivery{UserIDs: pass, Cmd: bus.CmdSkip, Conversation: conv.ID(), Seq: change.GetSeq()})
	}
	if change.Kind == messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME {
		change.Message = &messagepb.Message{Id: m.ID, ConversationId: m.ConversationID, Seq: m.Seq}
	} else if change.Message, err = s.messageProto(ctx, change.GetActorId(), m); err != nil {
		s.log.Error().Err(err).Msg("change not pushed")
		return
	}
	s.publishQuoting(ctx, conv, len(see)+len(pass), change.GetMessage(), bus.Delivery{UserIDs: see, Cmd: CmdChange, Conversation: conv.ID(), Seq: change.GetSeq()},
		func(m *messagepb.Message) ([]byte, error) {
			c := proto.CloneOf(change)
			c.Message = m
			return proto.Marshal(c)
		})
}

// participants are the users of a 1:1 conversation, or a group's members.
func (s *Service) participants(ctx context.Context, conv conversation) ([]uint64, error) {
	if conv.groupID == 0 {
		return []uint64{conv.userA, conv.userB}, nil
	}
	return s.memberIDs(ctx, conv.groupID)
}

// audience splits all, the conversation's participants, for change of m:
// see, who get it (a delete-for-me's actor; else everyone whose history
// holds m and who did not delete it for themselves), and pass, the others.
func (s *Service) audience(ctx context.Context, conv conversation, all []uint64, m db.MessagesMessage, change *messagepb.MessageChange) (see, pass []uint64, err error) {
	unseen := map[uint64]bool{}
	if change.Kind == messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME {
		for _, u := range all {
			unseen[u] = u != change.GetActorId()
		}
	} else {
		if conv.groupID != 0 {
			if err := s.addBlind(ctx, conv, m, len(all), unseen); err != nil {
				return nil, nil, err
			}
		}
		hidden, err := s.q.HiddenFor(ctx, m.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("who deleted message %d: %w", m.ID, err)
		}
		for _, u := range hidden {
			unseen[u] = true
		}
	}
	for _, u := range all {
		if unseen[u] {
			pass = append(pass, u)
		} else {
			see = append(see, u)
		}
	}
	return see, pass, nil
}

// addBlind marks the group members whose history starts after m. Only
// members who joined within joinBand of m's creation need their first seq
// computed (in one query); those who joined later never saw it.
func (s *Service) addBlind(ctx context.Context, conv conversation, m db.MessagesMessage, members int, blind map[uint64]bool) error {
	late, joinedAt, err := s.groups.JoinedSince(ctx, conv.groupID, m.CreatedAt.Add(-joinBand), members)
	if err != nil {
		return err
	}
	var band []uint64 // joined within joinBand of m
	var bandJoinedAt []time.Time
	for i, u := range late {
		if joinedAt[i].After(m.CreatedAt.Add(joinBand)) {
			blind[u] = true
		} else {
			band, bandJoinedAt = append(band, u), append(bandJoinedAt, joinedAt[i])
		}
	}
	if len(band) == 0 {
		return nil
	}
	convIDs := make([]string, len(band))
	for i := range convIDs {
		convIDs[i] = conv.ID()
	}
	first, err := s.q.FirstSeqsSince(ctx, db.FirstSeqsSinceParams{ConversationIds: convIDs, Since: bandJoinedAt})
	if err != nil {
		return fmt.Errorf("first seqs since joining: %w", err)
	}
	for i, u := range band {
		if uint64(first[i].FirstSeq) > m.Seq {
			blind[u] = true
		}
	}
	return nil
}
