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
)

// Sync limits.
const (
	DefaultSyncLimit = 50
	MaxSyncLimit     = 200
)

// authorize parses a conversation id and checks userID takes part in it:
// one of the pair, or a current member of the group. firstSeq is the first
// seq userID sees: 1, or in a group the first since it joined.
func (s *Service) authorize(ctx context.Context, userID uint64, conversationID string) (conv conversation, firstSeq uint64, err error) {
	conv, err = parseConversation(conversationID)
	if err != nil {
		return conversation{}, 0, err
	}
	if conv.groupID == 0 {
		if userID != conv.userA && userID != conv.userB {
			return conversation{}, 0, ErrNotParticipant
		}
		return conv, 1, nil
	}
	joinedAt, ok, err := s.groups.HistoryFrom(ctx, conv.groupID, userID)
	if err != nil {
		return conversation{}, 0, err
	}
	if !ok {
		return conversation{}, 0, ErrNotParticipant
	}
	first, err := s.firstSeqs(ctx, []string{conv.ID()}, []time.Time{joinedAt})
	if err != nil {
		return conversation{}, 0, err
	}
	return conv, first[conv.ID()], nil
}

// firstSeqs is, for each group conversation, the first seq a member who
// joined at since[i] sees.
func (s *Service) firstSeqs(ctx context.Context, conversationIDs []string, since []time.Time) (map[string]uint64, error) {
	rows, err := s.q.FirstSeqsSince(ctx, db.FirstSeqsSinceParams{ConversationIds: conversationIDs, Since: since})
	if err != nil {
		return nil, fmt.Errorf("first seqs since joining: %w", err)
	}
	out := make(map[string]uint64, len(rows))
	for _, r := range rows {
		out[r.ConversationID] = uint64(r.FirstSeq)
	}
	return out, nil
}

// The bounds of one SyncMessages page beside its limit of messages: how
// many changes it carries, and how many bytes (each change holds its
// message whole, so a long text changed often would make pages no client
// can receive). A page stops before the entry that passes them, but always
// holds one.
const (
	MaxChangesPerPage = 1000
	MaxPageBytes      = 1 << 20
)

// Sync returns the conversation's stream after afterSeq as userID sees it:
// up to limit messages, the changes to messages (each with the message as
// it is now) up to the last of them, each list in seq order, whether more
// entries follow, and the seq the page reaches. A group member's stream
// starts where it joined; changes to messages from before are not in it,
// nor other users' deletes-for-me, nor messages it deleted for itself.
func (s *Service) Sync(ctx context.Context, userID uint64, conversationID string, afterSeq, limit uint64) (*messagepb.SyncMessagesResponse, error) {
	conv, firstSeq, err := s.authorize(ctx, userID, conversationID)
	if err != nil {
		return nil, err
	}
	afterSeq = min(max(afterSeq, firstSeq-1), 1<<62)
	limit = syncLimit(limit)
	// Both reads stop at the last seq read first: entries commit in seq order
	// (under the conversation row's lock), so every seq up to it is there,
	// and one committed between the two reads waits for the next page.
	c, err := s.q.GetConversation(ctx, conv.ID())
	if errors.Is(err, pgx.ErrNoRows) {
		return &messagepb.SyncMessagesResponse{}, nil // no message yet
	}
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", conv.ID(), err)
	}
	rows, err := s.q.MessagesAfter(ctx, db.MessagesAfterParams{
		ConversationID: conv.ID(), AfterSeq: afterSeq, Upto: c.LastSeq, ViewerID: userID, RowLimit: int64(limit) + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("sync %s: %w", conv.ID(), err)
	}
	// The page ends at its last message when more follow, else at last_seq;
	// and earlier if its changes overflow.
	upto, more := c.LastSeq, len(rows) > int(limit)
	if more {
		rows = rows[:limit]
		upto = rows[len(rows)-1].Seq
	}
	changed, err := s.q.ChangesAfter(ctx, db.ChangesAfterParams{
		ConversationID: conv.ID(), AfterSeq: afterSeq, Upto: upto, FirstSeq: firstSeq, ViewerID: userID,
		RowLimit: MaxChangesPerPage + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("sync %s changes: %w", conv.ID(), err)
	}
	if len(changed) > MaxChangesPerPage {
		changed, more = changed[:MaxChangesPerPage], true
		upto = changed[len(changed)-1].Seq
		for len(rows) > 0 && rows[len(rows)-1].Seq > upto {
			rows = rows[:len(rows)-1]
		}
	}
	// The messages and the changed messages' states, in one read of their
	// reactions and quotes.
	all := slices.Clip(rows)
	for _, ch := range changed {
		all = append(all, ch.MessagesMessage)
	}
	protos, err := s.protos(ctx, userID, all)
	if err != nil {
		return nil, err
	}
	if err := s.redactQuotes(ctx, firstSeq, protos); err != nil {
		return nil, err
	}
	msgs, states := protos[:len(rows)], protos[len(rows):]
	changes := make([]*messagepb.MessageChange, len(changed))
	for i, ch := range changed {
		m := states[i]
		if messagepb.ChangeKind(ch.Kind) == messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME {
			m = &messagepb.Message{Id: m.GetId(), ConversationId: m.GetConversationId(), Seq: m.GetSeq()}
		}
		changes[i] = &messagepb.MessageChange{Seq: ch.Seq, Kind: messagepb.ChangeKind(ch.Kind), Message: m, ActorId: ch.ActorID, Emoji: ch.Emoji}
	}
	page := &messagepb.SyncMessagesResponse{Message: msgs, Changes: changes, HasMore: more, Cursor: upto}
	clipPage(page)
	s.markSynced(ctx, conv, userID, page.GetCursor())
	return page, nil
}

// clipPage cuts page, in seq order, before the entry that would take it
// past MaxPageBytes (keeping at least one), and says so in has_more and
// cursor.
func clipPage(page *messagepb.SyncMessagesResponse) {
	msgs, changes := page.GetMessage(), page.GetChanges()
	size, i, j := 0, 0, 0
	var taken uint64 // the seq of the last entry kept
	for i < len(msgs) || j < len(changes) {
		takeMessage := j == len(changes) || (i < len(msgs) && msgs[i].GetSeq() < changes[j].GetSeq())
		var n int
		var seq uint64
		if takeMessage {
			n, seq = proto.Size(msgs[i]), msgs[i].GetSeq()
		} else {
			n, seq = proto.Size(changes[j]), changes[j].GetSeq()
		}
		if size+n > MaxPageBytes && i+j > 0 {
			page.Message, page.Changes, page.HasMore, page.Cursor = msgs[:i], changes[:j], true, taken
			return
		}
		size, taken = size+n, seq
		if takeMessage {
			i++
		} else {
			j++
		}
	}
}

// SyncBefore returns the up to limit messages just before beforeSeq, in seq
// order, and whether older ones the caller sees precede them: scroll-back.
// A group member's pages stop where it joined; a beforeSeq beyond the last
// seq is the newest page.
func (s *Service) SyncBefore(ctx context.Context, userID uint64, conversationID string, beforeSeq, limit uint64) ([]*messagepb.Message, bool, error) {
	conv, firstSeq, err := s.authorize(ctx, userID, conversationID)
	if err != nil {
		return nil, false, err
	}
	limit = syncLimit(limit)
	rows, err := s.q.MessagesBefore(ctx, db.MessagesBeforeParams{
		ConversationID: conv.ID(), BeforeSeq: min(beforeSeq, 1<<62), FirstSeq: firstSeq, ViewerID: userID, RowLimit: int64(limit) + 1,
	})
	if err != nil {
		return nil, false, fmt.Errorf("sync %s before %d: %w", conv.ID(), beforeSeq, err)
	}
	// Newest first, one more than the page when older ones precede it.
	more := len(rows) > int(limit)
	if more {
		rows = rows[:limit]
	}
	slices.Reverse(rows)
	msgs, err := s.protos(ctx, userID, rows)
	if err != nil {
		return nil, false, err
	}
	return msgs, more, s.redactQuotes(ctx, firstSeq, msgs)
}

// syncLimit is a page's size: limit, 0 meaning the default, at most the
// maximum.
func syncLimit(limit uint64) uint64 {
	switch {
	case limit == 0:
		return DefaultSyncLimit
	case limit > MaxSyncLimit:
		return MaxSyncLimit
	}
	return limit
}
