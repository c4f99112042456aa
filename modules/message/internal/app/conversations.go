package app

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/modules/message/internal/db"
	"github.com/parley-im/parley/platform/apperr"
	"github.com/parley-im/parley/platform/database"
)

// Conversation list limits.
const (
	// MaxConversations is ListConversations' largest page, and its page
	// when none is asked for: a client that does not page sees the first
	// 1000, as before paging.
	MaxConversations = 1000
	// MaxPinned is how many conversations a user may have pinned.
	MaxPinned = 20
)

var (
	ErrTooManyPinned = apperr.FailedPrecondition("pinned: at most %d conversations may be pinned; unpin one first", MaxPinned)
	errBadPageToken  = apperr.InvalidArgument("page_token: not a next_page_token of ListConversations")
)

// ListOptions select a page of ListConversations.
type ListOptions struct {
	IncludeArchived bool
	PageSize        uint32 // 0: MaxConversations; at most MaxConversations
	PageToken       string // a next_page_token; empty: the first page
}

// Settings are what UpdateConversation changes; nil leaves a setting as
// it is.
type Settings struct {
	Pinned     *bool
	MutedUntil *time.Time // not in the future: unmuted
	Archived   *bool
}

// Conversations lists a page of userID's conversations: its 1:1
// conversations and its groups (with or without messages yet), pinned
// ones first, then the most recently active, the groups without a message
// yet last (by id); archived ones only with IncludeArchived. It returns the
// next page's token, empty on the last page. A group's counts and last
// message start where userID joined it.
//
// A conversation is archived while the caller's archived_seq is set and
// either no message came after it or the conversation is muted: computed
// here, so that a send writes nothing for it. One that came back stays
// back once its mute ends (UpdateConversation then clears archived_seq).
func (s *Service) Conversations(ctx context.Context, userID uint64, opt ListOptions) ([]*messagepb.Conversation, string, error) {
	params := db.ConversationPageParams{UserID: userID, IncludeArchived: opt.IncludeArchived}
	if opt.PageToken != "" {
		after, err := parseListCursor(opt.PageToken)
		if err != nil {
			return nil, "", err
		}
		params.HasCursor, params.CursorPinned, params.CursorActiveAt = true, after.pinned, after.activeAt
		params.CursorGroupID, params.CursorID = int64(after.groupID), after.id
	}
	limit := MaxConversations
	if opt.PageSize > 0 && opt.PageSize < MaxConversations {
		limit = int(opt.PageSize)
	}
	params.RowLimit = int64(limit) + 1

	groups, joinedAt, err := s.groups.GroupsOf(ctx, userID)
	if err != nil {
		return nil, "", err
	}
	mine := make(map[uint64]membership, len(groups))
	params.GroupIds = make([]int64, len(groups))
	for i, g := range groups {
		mine[g.GetId()] = membership{group: g, joinedAt: joinedAt[i]}
		params.GroupIds[i] = int64(g.GetId())
	}
	rows, err := s.q.ConversationPage(ctx, params)
	if err != nil {
		return nil, "", fmt.Errorf("list conversations: %w", err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	list := make([]listRow, len(rows))
	for i, r := range rows {
		list[i] = listRow(r)
	}
	out, err := s.describe(ctx, userID, list, mine)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more {
		last := list[len(list)-1]
		next = listCursor{pinned: last.Pinned, activeAt: last.ActiveAt, groupID: uint64(last.GroupID), id: last.ID}.token()
	}
	return out, next, nil
}

// UpdateConversation changes userID's own settings of a conversation it
// takes part in and returns the conversation as it now sees it. A pair
// without a message yet is ErrNoConversation; a group without one gets
// its conversation row (last_seq 0, listed with the groups without a
// message yet as before), which the settings refer to.
func (s *Service) UpdateConversation(ctx context.Context, userID uint64, conversationID string, set Settings) (*messagepb.Conversation, error) {
	conv, _, err := s.authorize(ctx, userID, conversationID)
	if err != nil {
		return nil, err
	}
	id := conv.ID()
	params := db.UpdateSettingsParams{UserID: userID, ConversationID: id, MutedUntil: set.MutedUntil}
	params.SetPinned, params.Pinned = set.Pinned != nil, set.Pinned != nil && *set.Pinned
	params.SetMuted = set.MutedUntil != nil
	params.SetArchived, params.Archived = set.Archived != nil, set.Archived != nil && *set.Archived
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if conv.groupID != 0 {
			if err := q.EnsureGroupConversation(ctx, db.EnsureGroupConversationParams{ID: id, GroupID: conv.groupID}); err != nil {
				return err
			}
		} else if _, err := q.GetConversation(ctx, id); errors.Is(err, pgx.ErrNoRows) {
			return ErrNoConversation
		} else if err != nil {
			return err
		}
		if params.Pinned {
			// Under the user's lock, so that concurrent pins cannot pass
			// the cap together; pinning a pinned one again is no new pin.
			if err := q.LockPins(ctx, int64(userID)); err != nil {
				return err
			}
			n, err := q.CountPinnedBut(ctx, db.CountPinnedButParams{UserID: userID, ConversationID: id})
			if err != nil {
				return err
			}
			if n >= MaxPinned {
				return ErrTooManyPinned
			}
		}
		if err := q.EnsureRead(ctx, db.EnsureReadParams{UserID: userID, ConversationID: id}); err != nil {
			return err
		}
		return q.UpdateSettings(ctx, params)
	})
	if err != nil {
		return nil, fmt.Errorf("update conversation %s: %w", id, err)
	}

	row, err := s.q.ConversationFor(ctx, db.ConversationForParams{UserID: userID, ID: id})
	if err != nil {
		return nil, fmt.Errorf("update conversation %s: %w", id, err)
	}
	mine := map[uint64]membership{}
	if conv.groupID != 0 {
		groups, joinedAt, err := s.groups.GroupsOf(ctx, userID)
		if err != nil {
			return nil, err
		}
		for i, g := range groups {
			if g.GetId() == conv.groupID {
				mine[g.GetId()] = membership{group: g, joinedAt: joinedAt[i]}
			}
		}
		if _, ok := mine[conv.groupID]; !ok {
			return nil, ErrNotParticipant // it left meanwhile
		}
	}
	out, err := s.describe(ctx, userID, []listRow{{
		ID: row.ID, UserA: int64(row.UserA), UserB: int64(row.UserB), GroupID: int64(row.GroupID),
		LastSeq: int64(row.LastSeq), LastMessageSeq: int64(row.LastMessageSeq), ActiveAt: row.ActiveAt,
		ReadSeq: row.ReadSeq, Pinned: row.Pinned, MutedUntil: row.MutedUntil, Archived: row.Archived,
		PeerReadSeq: row.PeerReadSeq, PeerDeliveredSeq: row.PeerDeliveredSeq,
	}}, mine)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// membership is one of the caller's groups and when it joined.
type membership struct {
	group    *grouppb.Group
	joinedAt time.Time
}

// listRow is a conversation of the caller's as the list reads it. Groups
// without a conversation row have one with last_seq 0.
type listRow db.ConversationPageRow

// describe puts rows on the wire as userID sees them, each kind of detail
// (first seqs, last messages, unread counts, peers, blocks) read once for
// all rows. groups are userID's groups by id.
func (s *Service) describe(ctx context.Context, userID uint64, rows []listRow, groups map[uint64]membership) ([]*messagepb.Conversation, error) {
	// The conversations with messages, and the first seq userID sees of
	// each: 1, or in a group the first since it joined.
	var convIDs, groupConvIDs []string
	var since []time.Time
	for _, r := range rows {
		if r.LastSeq == 0 {
			continue
		}
		convIDs = append(convIDs, r.ID)
		if m, ok := groups[uint64(r.GroupID)]; ok && r.GroupID != 0 {
			groupConvIDs, since = append(groupConvIDs, r.ID), append(since, m.joinedAt)
		}
	}
	firstSeqs, err := s.firstSeqs(ctx, groupConvIDs, since)
	if err != nil {
		return nil, err
	}
	first := func(r listRow) uint64 {
		if r.GroupID == 0 {
			return 1
		}
		if _, ok := groups[uint64(r.GroupID)]; !ok {
			return uint64(r.LastSeq) + 1 // not a member (any more): nothing of it
		}
		return max(firstSeqs[r.ID], 1)
	}

	lastProtoByConv, err := s.lastMessages(ctx, userID, rows, convIDs, first)
	if err != nil {
		return nil, err
	}

	out := make([]*messagepb.Conversation, len(rows))
	var readIDs []string
	var readSeqs []int64
	for i, r := range rows {
		pb := &messagepb.Conversation{ConversationId: r.ID, Pinned: r.Pinned, Archived: r.Archived}
		if r.MutedUntil != nil && r.MutedUntil.After(time.Now()) {
			pb.MutedUntil = timestamppb.New(*r.MutedUntil)
		}
		out[i] = pb
		if r.LastSeq == 0 {
			continue
		}
		// What came before the caller joined counts as read.
		pb.LastSeq = uint64(r.LastSeq)
		pb.ReadSeq = min(max(uint64(r.ReadSeq), first(r)-1), pb.LastSeq)
		readIDs, readSeqs = append(readIDs, r.ID), append(readSeqs, int64(pb.ReadSeq))
	}
	// Entries after read_seq that are changes, messages recalled since and
	// messages the caller deleted for itself are no unread messages.
	notUnread, err := s.q.NotUnreadSince(ctx, db.NotUnreadSinceParams{ConversationIds: readIDs, AfterSeqs: readSeqs, ViewerID: userID})
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	notUnreadAfterRead := make(map[string]uint64, len(notUnread))
	for _, c := range notUnread {
		notUnreadAfterRead[c.ConversationID] = uint64(c.NotUnread)
	}

	peers, err := s.peers(ctx, userID, rows)
	if err != nil {
		return nil, err
	}
	var quoting []*messagepb.Message // last messages quoting a message, in groups joined late
	var quotingFirst []uint64
	for i, r := range rows {
		pb := out[i]
		pb.UnreadCount = pb.LastSeq - pb.ReadSeq - min(notUnreadAfterRead[r.ID], pb.LastSeq-pb.ReadSeq)
		if m, ok := lastProtoByConv[r.ID]; ok && m.GetSeq() >= first(r) {
			pb.LastMessage = m
			if m.GetReplyTo() != nil && first(r) > 1 {
				quoting, quotingFirst = append(quoting, m), append(quotingFirst, first(r))
			}
		}
		if r.GroupID != 0 {
			pb.PeerGroup = groups[uint64(r.GroupID)].group
			continue
		}
		peer := peerOf(r, userID)
		pb.PeerUser = peers.users[peer]
		// A peer that blocks the caller, or is gone, shows no marks.
		if pb.PeerUser != nil && !peers.blockers[peer] {
			pb.PeerDeliveredSeq, pb.PeerReadSeq = uint64(r.PeerDeliveredSeq), uint64(r.PeerReadSeq)
		}
	}
	if err := s.redactQuotesFrom(ctx, quoting, quotingFirst); err != nil {
		return nil, err
	}
	return out, nil
}

// redactQuotesFrom is redactQuotes for messages of different
// conversations, msgs[i] as seen from firstSeqs[i] on, in one read of the
// quoted seqs.
func (s *Service) redactQuotesFrom(ctx context.Context, msgs []*messagepb.Message, firstSeqs []uint64) error {
	if len(msgs) == 0 {
		return nil
	}
	quoted := make([]uint64, len(msgs))
	for i, m := range msgs {
		quoted[i] = m.GetReplyTo().GetId()
	}
	rows, err := s.q.SeqsOf(ctx, database.BigintArray(quoted))
	if err != nil {
		return fmt.Errorf("quoted messages: %w", err)
	}
	seqOf := make(map[uint64]uint64, len(rows))
	for _, r := range rows {
		seqOf[r.ID] = r.Seq
	}
	for i, m := range msgs {
		if seqOf[m.GetReplyTo().GetId()] < firstSeqs[i] {
			m.ReplyTo = beforeJoinQuote(m.GetReplyTo())
		}
	}
	return nil
}

// lastMessages reads the last message userID sees of each of convIDs: the
// conversation's last, or when userID deleted that for itself the one
// before it, from its first seq on.
func (s *Service) lastMessages(ctx context.Context, userID uint64, rows []listRow, convIDs []string, first func(listRow) uint64) (map[string]*messagepb.Message, error) {
	last, err := s.q.LastMessages(ctx, db.LastMessagesParams{ConversationIds: convIDs, ViewerID: userID})
	if err != nil {
		return nil, fmt.Errorf("last messages: %w", err)
	}
	lastByConv := make(map[string]db.MessagesMessage, len(last))
	for _, m := range last {
		lastByConv[m.ConversationID] = m
	}
	// A last message the caller deleted for itself gives way to the one
	// before it.
	var hiddenLast []string
	var hiddenFirst []int64
	for _, r := range rows {
		if _, ok := lastByConv[r.ID]; ok || r.LastMessageSeq == 0 {
			continue
		}
		hiddenLast, hiddenFirst = append(hiddenLast, r.ID), append(hiddenFirst, int64(first(r)))
	}
	if len(hiddenLast) > 0 {
		before, err := s.q.LastVisibleMessages(ctx, db.LastVisibleMessagesParams{ConversationIds: hiddenLast, FirstSeqs: hiddenFirst, ViewerID: userID})
		if err != nil {
			return nil, fmt.Errorf("last messages: %w", err)
		}
		for _, m := range before {
			lastByConv[m.ConversationID] = m
		}
	}
	lastMessages := make([]db.MessagesMessage, 0, len(lastByConv))
	for _, m := range lastByConv {
		lastMessages = append(lastMessages, m)
	}
	lastProtos, err := s.protos(ctx, userID, lastMessages)
	if err != nil {
		return nil, err
	}
	byConv := make(map[string]*messagepb.Message, len(lastProtos))
	for _, m := range lastProtos {
		byConv[m.GetConversationId()] = m
	}
	return byConv, nil
}

// listPeers are the 1:1 peers of a page: the live users by id, and which
// of them block the caller (their marks are not shown to it).
type listPeers struct {
	users    map[uint64]*userpb.User
	blockers map[uint64]bool
}

func (s *Service) peers(ctx context.Context, userID uint64, rows []listRow) (listPeers, error) {
	var ids, withMarks []uint64
	for _, r := range rows {
		if r.GroupID != 0 {
			continue
		}
		ids = append(ids, peerOf(r, userID))
		if r.PeerReadSeq != 0 || r.PeerDeliveredSeq != 0 {
			withMarks = append(withMarks, peerOf(r, userID))
		}
	}
	out := listPeers{users: make(map[uint64]*userpb.User, len(ids)), blockers: map[uint64]bool{}}
	if len(ids) == 0 {
		return out, nil
	}
	users, err := s.users.GetUsers(ctx, ids)
	if err != nil {
		return listPeers{}, err
	}
	for _, u := range users {
		out.users[u.GetId()] = u
	}
	blockers, err := s.users.BlockersAmong(ctx, userID, withMarks)
	if err != nil {
		return listPeers{}, err
	}
	for _, b := range blockers {
		out.blockers[b] = true
	}
	return out, nil
}

func peerOf(r listRow, userID uint64) uint64 {
	if uint64(r.UserA) == userID {
		return uint64(r.UserB)
	}
	return uint64(r.UserA)
}

// listCursor is what a page token holds: the sort key of the last
// conversation of the page before, which the next page starts after.
type listCursor struct {
	pinned   bool
	activeAt time.Time
	groupID  uint64
	id       string
}

// pageTokenVersion begins every token, so that a later format can tell
// its own.
const pageTokenVersion = 1

// token is the cursor as an opaque page token: base64url of the version,
// pinned, active_at in Unix microseconds (PostgreSQL's precision), the
// group id and the conversation id.
func (c listCursor) token() string {
	b := make([]byte, 0, 18+len(c.id))
	b = append(b, pageTokenVersion, 0)
	if c.pinned {
		b[1] = 1
	}
	b = binary.BigEndian.AppendUint64(b, uint64(c.activeAt.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, c.groupID)
	b = append(b, c.id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseListCursor reads a page token, refusing anything token did not make.
func parseListCursor(token string) (listCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 18 || b[0] != pageTokenVersion || b[1] > 1 {
		return listCursor{}, errBadPageToken
	}
	c := listCursor{
		pinned:   b[1] == 1,
		activeAt: time.UnixMicro(int64(binary.BigEndian.Uint64(b[2:10]))).UTC(),
		groupID:  binary.BigEndian.Uint64(b[10:18]),
		id:       string(b[18:]),
	}
	conv, err := parseConversation(c.id)
	if err != nil || conv.groupID != c.groupID || conv.ID() != c.id {
		return listCursor{}, errBadPageToken
	}
	return c, nil
}
