package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/bus"
)

// CmdReceipt is the gateway frame cmd of a receipt: a messagepb.Receipt.
const CmdReceipt = "receipt"

// Receipt limits.
const (
	// receiptWindow is how long a group's receipt frames to one sender
	// are coalesced: the first move goes at once, the rest of the window's
	// in one frame at its end.
	receiptWindow = time.Second
	// receiptScan bounds how many seqs a move is looked at for the senders
	// to tell: a member catching up on a long history tells the senders of
	// the last ones (GetReceipts counts them all).
	receiptScan = 1000
	// DefaultReceiptsPage and MaxReceiptsPage bound GetReceipts' ids.
	DefaultReceiptsPage = 100
	MaxReceiptsPage     = 1000
)

var errNoMessageAtSeq = apperr.NotFound("seq: no message of this conversation you see has this seq")

// ConversationPeersOf lists, for each of userIDs, up to limit users it
// shares a 1:1 conversation with, most recently active first.
func (s *Service) ConversationPeersOf(ctx context.Context, userIDs []uint64, limit int) (map[uint64][]uint64, error) {
	ids := make([]int64, len(userIDs))
	for i, id := range userIDs {
		ids[i] = int64(id)
	}
	rows, err := s.q.ConversationPeersOf(ctx, db.ConversationPeersOfParams{UserIds: ids, RowLimit: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("conversation peers of %d users: %w", len(userIDs), err)
	}
	peers := make(map[uint64][]uint64, len(userIDs))
	for _, r := range rows {
		peers[uint64(r.UserID)] = append(peers[uint64(r.UserID)], uint64(r.PeerID))
	}
	return peers, nil
}

// participate parses a conversation id and checks userID takes part in
// it now (one of the pair, a member of the group), for calls that do not
// read its history.
func (s *Service) participate(ctx context.Context, userID uint64, conversationID string) (conversation, error) {
	conv, err := parseConversation(conversationID)
	if err != nil {
		return conversation{}, err
	}
	if conv.groupID == 0 {
		if userID != conv.userA && userID != conv.userB {
			return conversation{}, ErrNotParticipant
		}
		return conv, nil
	}
	ok, err := s.groups.IsMember(ctx, conv.groupID, userID)
	if err != nil {
		return conversation{}, err
	}
	if !ok {
		return conversation{}, ErrNotParticipant
	}
	return conv, nil
}

// marks are a participant's positions in a conversation, before and after
// a move.
type marks struct {
	read, delivered       uint64
	oldRead, oldDelivered uint64
}

// MarkRead records that userID has read the conversation up to seq (and so
// has it delivered); marks never move back. The message's senders are
// told (receipt frames).
func (s *Service) MarkRead(ctx context.Context, userID uint64, conversationID string, seq uint64) error {
	return s.mark(ctx, userID, conversationID, seq, func(c db.MessagesConversation) (marks, bool, error) {
		row, err := s.q.MarkRead(ctx, db.MarkReadParams{UserID: userID, ConversationID: c.ID, ReadSeq: seq})
		return marks{row.ReadSeq, row.DeliveredSeq, uint64(row.OldReadSeq), uint64(row.OldDeliveredSeq)}, err == nil, noRowsIsNil(err)
	})
}

// MarkDelivered records that a device of userID has the conversation up to
// seq; the mark never moves back.
func (s *Service) MarkDelivered(ctx context.Context, userID uint64, conversationID string, seq uint64) error {
	return s.mark(ctx, userID, conversationID, seq, func(c db.MessagesConversation) (marks, bool, error) {
		row, err := s.q.MarkDelivered(ctx, db.MarkDeliveredParams{UserID: userID, ConversationID: c.ID, DeliveredSeq: seq})
		return marks{row.ReadSeq, row.DeliveredSeq, uint64(row.OldReadSeq), uint64(row.OldDeliveredSeq)}, err == nil, noRowsIsNil(err)
	})
}

func noRowsIsNil(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// mark checks the caller and seq, applies move, and tells the senders
// when the marks moved.
func (s *Service) mark(ctx context.Context, userID uint64, conversationID string, seq uint64, move func(db.MessagesConversation) (marks, bool, error)) error {
	conv, err := s.participate(ctx, userID, conversationID)
	if err != nil {
		return err
	}
	c, err := s.q.GetConversation(ctx, conv.ID())
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNoConversation
	}
	if err != nil {
		return fmt.Errorf("mark %s: %w", conv.ID(), err)
	}
	if seq > c.LastSeq {
		return ErrSeqBeyondLatest
	}
	m, moved, err := move(c)
	if err != nil {
		return fmt.Errorf("mark %s: %w", conv.ID(), err)
	}
	if moved {
		s.tellSenders(ctx, conv, userID, m)
	}
	return nil
}

// markSynced records that a sync page reached userID's device: it has the
// conversation up to cursor. A failure is logged, not the sync's error.
func (s *Service) markSynced(ctx context.Context, conv conversation, userID, cursor uint64) {
	if cursor == 0 {
		return
	}
	row, err := s.q.MarkDelivered(ctx, db.MarkDeliveredParams{UserID: userID, ConversationID: conv.ID(), DeliveredSeq: cursor})
	switch {
	case errors.Is(err, pgx.ErrNoRows): // there already
	case err != nil:
		s.log.Warn().Err(err).Str("conversation", conv.ID()).Msg("delivered mark of a sync not recorded")
	default:
		s.tellSenders(ctx, conv, userID, marks{row.ReadSeq, row.DeliveredSeq, uint64(row.OldReadSeq), uint64(row.OldDeliveredSeq)})
	}
}

// tellSenders pushes userID's moved marks: in a 1:1 conversation to the
// peer at once (unless userID blocks it); in a group up to
// -receipt-group-cap members to the senders of the messages the marks
// moved over from the marker's first seq on, coalesced per second. A
// failure is logged: the marks are stored, and GetReceipts answers them.
func (s *Service) tellSenders(ctx context.Context, conv conversation, userID uint64, m marks) {
	mm := &messagepb.MemberMarks{UserId: userID, DeliveredSeq: m.delivered, ReadSeq: m.read}
	if conv.groupID == 0 {
		peer := conv.userA
		if peer == userID {
			peer = conv.userB
		}
		blocked, err := s.users.IsBlocked(ctx, userID, peer)
		if err != nil || blocked {
			return
		}
		s.publishReceipt(peer, conv.ID(), []*messagepb.MemberMarks{mm})
		return
	}
	n, err := s.groups.MemberCount(ctx, conv.groupID)
	if err != nil || n > s.cfg.ReceiptGroupCap {
		return
	}
	from := m.oldDelivered
	if m.read > m.oldRead {
		from = m.oldRead
	}
	// Seqs before the marker's history were never its to read: their
	// senders are not told (a member added by another starts unmarked).
	_, first, err := s.authorize(ctx, userID, conv.ID())
	if err != nil {
		return
	}
	from = max(from, first-1)
	senders, err := s.q.SendersBetween(ctx, db.SendersBetweenParams{
		ConversationID: conv.ID(), AfterSeq: max(from, m.delivered-min(m.delivered, receiptScan)), Upto: m.delivered, ViewerID: userID,
	})
	if err != nil {
		s.log.Warn().Err(err).Str("conversation", conv.ID()).Msg("receipt not pushed: its senders are unknown")
		return
	}
	for _, to := range senders {
		s.receipts.add(conv.ID(), to, mm)
	}
}

func (s *Service) publishReceipt(to uint64, conversationID string, moved []*messagepb.MemberMarks) {
	first := moved[0]
	data, err := proto.Marshal(&messagepb.Receipt{
		ConversationId: conversationID, UserId: first.GetUserId(), DeliveredSeq: first.GetDeliveredSeq(), ReadSeq: first.GetReadSeq(),
		Others: moved[1:],
	})
	if err != nil {
		s.log.Error().Err(err).Msg("receipt not pushed")
		return
	}
	_ = s.bus.Publish(context.Background(), bus.Delivery{UserIDs: []uint64{to}, Cmd: CmdReceipt, Data: data})
}

// receiptCoalescer holds a group's receipt frames to each sender to one a
// window: the first move of a window goes at once, the moves after it in
// one frame when it ends. It holds at most one window per (conversation,
// sender) with a move in the last second, each at most the group's
// members' marks (groups up to -receipt-group-cap).
type receiptCoalescer struct {
	publish func(to uint64, conversationID string, moved []*messagepb.MemberMarks)
	mu      sync.Mutex
	open    map[receiptKey]map[uint64]*messagepb.MemberMarks // moves waiting for their window's end, by member
}

type receiptKey struct {
	conversationID string
	to             uint64
}

func newReceiptCoalescer(publish func(uint64, string, []*messagepb.MemberMarks)) *receiptCoalescer {
	return &receiptCoalescer{publish: publish, open: map[receiptKey]map[uint64]*messagepb.MemberMarks{}}
}

func (c *receiptCoalescer) add(conversationID string, to uint64, m *messagepb.MemberMarks) {
	key := receiptKey{conversationID, to}
	c.mu.Lock()
	if waiting, open := c.open[key]; open {
		if w, ok := waiting[m.GetUserId()]; !ok || w.GetDeliveredSeq() < m.GetDeliveredSeq() || w.GetReadSeq() < m.GetReadSeq() {
			waiting[m.GetUserId()] = &messagepb.MemberMarks{
				UserId: m.GetUserId(), DeliveredSeq: max(w.GetDeliveredSeq(), m.GetDeliveredSeq()), ReadSeq: max(w.GetReadSeq(), m.GetReadSeq()),
			}
		}
		c.mu.Unlock()
		return
	}
	c.open[key] = map[uint64]*messagepb.MemberMarks{}
	c.mu.Unlock()
	c.publish(to, conversationID, []*messagepb.MemberMarks{m})
	time.AfterFunc(receiptWindow, func() { c.flush(key) })
}

// flush ends key's window: its waiting moves go in one frame, which opens
// the next window; none close it.
func (c *receiptCoalescer) flush(key receiptKey) {
	c.mu.Lock()
	waiting := c.open[key]
	if len(waiting) == 0 {
		delete(c.open, key)
		c.mu.Unlock()
		return
	}
	c.open[key] = map[uint64]*messagepb.MemberMarks{}
	c.mu.Unlock()
	moved := make([]*messagepb.MemberMarks, 0, len(waiting))
	for _, m := range waiting {
		moved = append(moved, m)
	}
	slices.SortFunc(moved, func(a, b *messagepb.MemberMarks) int { return cmp.Compare(a.GetUserId(), b.GetUserId()) })
	c.publish(key.to, key.conversationID, moved)
	time.AfterFunc(receiptWindow, func() { c.flush(key) })
}

// Receipts answers who, besides its sender, has the message at seq
// delivered and read: its receiver in a 1:1 conversation (neither when it
// blocks the caller); in a group the members who could see it, counted,
// and paged by user id after afterUserID (counts only above
// -receipt-group-cap members).
func (s *Service) Receipts(ctx context.Context, userID uint64, conversationID string, seq, afterUserID uint64, limit uint32) (*messagepb.GetReceiptsResponse, error) {
	conv, firstSeq, err := s.authorize(ctx, userID, conversationID)
	if err != nil {
		return nil, err
	}
	if seq < firstSeq {
		return nil, errNoMessageAtSeq
	}
	m, err := s.q.MessageBySeq(ctx, db.MessageBySeqParams{ConversationID: conv.ID(), Seq: seq})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoMessageAtSeq
	}
	if err != nil {
		return nil, fmt.Errorf("receipts of %s/%d: %w", conv.ID(), seq, err)
	}
	var members []uint64 // who could have it
	size := 2            // the conversation's participants
	if conv.groupID == 0 {
		receiver := conv.userA
		if receiver == m.FromUserID {
			receiver = conv.userB
		}
		blocked := false
		if receiver != userID {
			if blocked, err = s.users.IsBlocked(ctx, receiver, userID); err != nil {
				return nil, err
			}
		}
		if blocked {
			return &messagepb.GetReceiptsResponse{MemberCount: 1}, nil
		}
		members = []uint64{receiver}
	} else {
		all, err := s.memberIDs(ctx, conv.groupID)
		if err != nil {
			return nil, err
		}
		size = len(all)
		blind := map[uint64]bool{m.FromUserID: true}
		if err := s.addBlind(ctx, conv, m, len(all), blind); err != nil {
			return nil, err
		}
		for _, u := range all {
			if !blind[u] {
				members = append(members, u)
			}
		}
	}
	ids := make([]int64, len(members))
	for i, u := range members {
		ids[i] = int64(u)
	}
	counts, err := s.q.CountMarks(ctx, db.CountMarksParams{Seq: int64(seq), ConversationID: conv.ID(), UserIds: ids})
	if err != nil {
		return nil, fmt.Errorf("receipts of %s/%d: %w", conv.ID(), seq, err)
	}
	out := &messagepb.GetReceiptsResponse{
		MemberCount: uint64(len(members)), DeliveredCount: uint64(counts.Delivered), ReadCount: uint64(counts.Read),
	}
	if conv.groupID == 0 {
		out.Delivered, out.Read = counts.Delivered > 0, counts.Read > 0
	} else if size > s.cfg.ReceiptGroupCap {
		return out, nil
	}
	limit = receiptsLimit(limit)
	page, err := s.q.MarksPage(ctx, db.MarksPageParams{
		Seq: int64(seq), ConversationID: conv.ID(), UserIds: ids, AfterUserID: afterUserID, RowLimit: int64(limit) + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("receipts of %s/%d: %w", conv.ID(), seq, err)
	}
	if len(page) > int(limit) {
		page = page[:limit]
		out.NextAfterUserId = page[len(page)-1].UserID
	}
	for _, r := range page {
		if r.Read {
			out.ReadUserId = append(out.ReadUserId, r.UserID)
		} else {
			out.DeliveredUserId = append(out.DeliveredUserId, r.UserID)
		}
	}
	return out, nil
}

func receiptsLimit(limit uint32) uint32 {
	switch {
	case limit == 0:
		return DefaultReceiptsPage
	case limit > MaxReceiptsPage:
		return MaxReceiptsPage
	}
	return limit
}
