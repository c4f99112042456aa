package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/message/internal/db"
)

// Sync limits.
const (
	DefaultSyncLimit = 50
	MaxSyncLimit     = 200
	// MaxConversations is how many conversations ListConversations returns,
	// most recently active first.
	MaxConversations = 1000
)

// authorize parses a conversation id and checks userID takes part in it:
// one of the pair, or a current member of the group.
func (s *Service) authorize(ctx context.Context, userID uint64, conversationID string) (conversation, error) {
	conv, err := parseConversation(conversationID)
	if err != nil {
		return conversation{}, err
	}
	if conv.groupID != 0 {
		ok, err := s.groups.IsMember(ctx, conv.groupID, userID)
		if err != nil {
			return conversation{}, err
		}
		if !ok {
			return conversation{}, ErrNotParticipant
		}
		return conv, nil
	}
	if userID != conv.userA && userID != conv.userB {
		return conversation{}, ErrNotParticipant
	}
	return conv, nil
}

// Sync returns up to limit messages after afterSeq in seq order, and whether
// more follow.
func (s *Service) Sync(ctx context.Context, userID uint64, conversationID string, afterSeq, limit uint64) ([]*messagepb.Message, bool, error) {
	conv, err := s.authorize(ctx, userID, conversationID)
	if err != nil {
		return nil, false, err
	}
	switch {
	case limit == 0:
		limit = DefaultSyncLimit
	case limit > MaxSyncLimit:
		limit = MaxSyncLimit
	}
	rows, err := s.q.MessagesAfter(ctx, db.MessagesAfterParams{
		ConversationID: conv.ID(), AfterSeq: int64(min(afterSeq, 1<<62)), RowLimit: int64(limit) + 1,
	})
	if err != nil {
		return nil, false, fmt.Errorf("sync %s: %w", conv.ID(), err)
	}
	more := len(rows) > int(limit)
	if more {
		rows = rows[:limit]
	}
	out := make([]*messagepb.Message, len(rows))
	for i, r := range rows {
		if out[i], err = toProto(r); err != nil {
			return nil, false, err
		}
	}
	return out, more, nil
}

// MarkRead records that userID has read the conversation up to seq; the read
// position never moves back.
func (s *Service) MarkRead(ctx context.Context, userID uint64, conversationID string, seq uint64) error {
	conv, err := s.authorize(ctx, userID, conversationID)
	if err != nil {
		return err
	}
	c, err := s.q.GetConversation(ctx, conv.ID())
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoConversation
	}
	if err != nil {
		return fmt.Errorf("mark read %s: %w", conv.ID(), err)
	}
	if seq > uint64(c.LastSeq) {
		return ErrSeqBeyondLatest
	}
	if err := s.q.MarkRead(ctx, db.MarkReadParams{UserID: int64(userID), ConversationID: c.ID, ReadSeq: int64(seq)}); err != nil {
		return fmt.Errorf("mark read %s: %w", conv.ID(), err)
	}
	return nil
}

// Conversations lists userID's conversations, most recently active first:
// its 1:1 conversations, and its groups (with or without messages yet).
func (s *Service) Conversations(ctx context.Context, userID uint64) ([]*messagepb.Conversation, error) {
	groups, err := s.groups.GroupsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	groupByID := make(map[uint64]*grouppb.Group, len(groups))
	groupIDs := make([]int64, len(groups))
	for i, g := range groups {
		groupByID[g.GetId()] = g
		groupIDs[i] = int64(g.GetId())
	}
	rows, err := s.q.ConversationsOf(ctx, db.ConversationsOfParams{UserID: int64(userID), GroupIds: groupIDs, RowLimit: MaxConversations})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}

	convIDs := make([]string, len(rows))
	var peerIDs []uint64
	for i, r := range rows {
		convIDs[i] = r.MessagesConversation.ID
		if r.MessagesConversation.GroupID == 0 {
			peerIDs = append(peerIDs, peerOf(r.MessagesConversation, userID))
		}
	}
	last, err := s.q.LastMessages(ctx, convIDs)
	if err != nil {
		return nil, fmt.Errorf("last messages: %w", err)
	}
	lastByConv := make(map[string]db.MessagesMessage, len(last))
	for _, m := range last {
		lastByConv[m.ConversationID] = m
	}
	peers, err := s.users.GetUsers(ctx, peerIDs)
	if err != nil {
		return nil, err
	}
	peerByID := make(map[uint64]*userpb.User, len(peers))
	for _, p := range peers {
		peerByID[p.GetId()] = p
	}

	out := make([]*messagepb.Conversation, 0, len(rows)+len(groups))
	for _, r := range rows {
		c := r.MessagesConversation
		pb := &messagepb.Conversation{
			ConversationId: c.ID,
			LastSeq:        uint64(c.LastSeq),
			ReadSeq:        uint64(min(r.ReadSeq, c.LastSeq)),
		}
		pb.UnreadCount = pb.LastSeq - pb.ReadSeq
		if c.GroupID != 0 {
			pb.PeerGroup = groupByID[uint64(c.GroupID)]
			delete(groupByID, uint64(c.GroupID))
		} else {
			pb.PeerUser = peerByID[peerOf(c, userID)]
		}
		if m, ok := lastByConv[c.ID]; ok {
			if pb.LastMessage, err = toProto(m); err != nil {
				return nil, err
			}
		}
		out = append(out, pb)
	}
	// Groups without a message yet come last, by id; groups whose
	// conversation fell beyond the limit stay out.
	unlisted := make([]string, 0, len(groupByID))
	for id := range groupByID {
		unlisted = append(unlisted, groupConversation(id).ID())
	}
	existing, err := s.q.ExistingConversations(ctx, unlisted)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	hasMessages := make(map[string]bool, len(existing))
	for _, id := range existing {
		hasMessages[id] = true
	}
	for _, g := range groups {
		id := groupConversation(g.GetId()).ID()
		if _, unlisted := groupByID[g.GetId()]; unlisted && !hasMessages[id] && len(out) < MaxConversations {
			out = append(out, &messagepb.Conversation{ConversationId: id, PeerGroup: g})
		}
	}
	return out, nil
}

func peerOf(c db.MessagesConversation, userID uint64) uint64 {
	if uint64(c.UserA) == userID {
		return uint64(c.UserB)
	}
	return uint64(c.UserA)
}
