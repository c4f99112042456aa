package message_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
)

// seqRange is from, from+1, …, to.
func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// TestSyncPages reads a 210-message conversation a page at a time.
func TestSyncPages(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.SendRate, cfg.SendBurst = 10_000, 1_000 })
	pair := e.newUsers(t, 2)
	conv := pairID(pair[0].id, pair[1].id)
	const total = 210
	_, errs := concurrently(5, total/5, func(w, i int) (uint64, error) {
		from, to := pair[w%2], pair[1-w%2]
		return e.send(from.ctx, toUser(to.id), text(fmt.Sprintf("w%d m%d", w, i)))
	})
	for _, err := range errs {
		require.NoError(t, err)
	}

	for _, tc := range []struct {
		name            string
		afterSeq, limit uint64
		want            []uint64
		more            bool
	}{
		{"default limit is 50", 0, 0, seqRange(1, 50), true},
		{"default limit after a seq", 50, 0, seqRange(51, 100), true},
		{"small limit", 10, 5, seqRange(11, 15), true},
		{"limit above 200 is 200", 0, 500, seqRange(1, 200), true},
		{"exactly 200", 0, 200, seqRange(1, 200), true},
		{"the last page", 200, 200, seqRange(201, 210), false},
		{"a page ending on the last message", 160, 50, seqRange(161, 210), false},
		{"one short of the end", 159, 50, seqRange(160, 209), true},
		{"after the last", 210, 0, nil, false},
		{"far beyond the last", 1 << 63, 0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, reader := range pair {
				resp := e.sync(t, reader, conv, tc.afterSeq, tc.limit)
				if tc.want == nil {
					require.Empty(t, resp.GetMessage())
				} else {
					require.Equal(t, tc.want, seqs(resp.GetMessage()))
				}
				require.Equal(t, tc.more, resp.GetHasMore())
				for _, m := range resp.GetMessage() {
					require.Equal(t, conv, m.GetConversationId())
					require.NotNil(t, m.GetText())
				}
			}
		})
	}
}

// TestSyncBeforePages scrolls a 120-message conversation back from its
// newest page, and reads single pages before a seq.
func TestSyncBeforePages(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.SendRate, cfg.SendBurst = 10_000, 1_000 })
	pair := e.newUsers(t, 2)
	conv := pairID(pair[0].id, pair[1].id)
	const total = 120
	_, errs := concurrently(4, total/4, func(w, i int) (uint64, error) {
		from, to := pair[w%2], pair[1-w%2]
		return e.send(from.ctx, toUser(to.id), text(fmt.Sprintf("w%d m%d", w, i)))
	})
	for _, err := range errs {
		require.NoError(t, err)
	}

	t.Run("back to the start", func(t *testing.T) {
		t.Parallel()
		for _, reader := range pair {
			var (
				pages [][]uint64
				more  []bool
				read  []uint64 // oldest first
			)
			before := uint64(1<<64 - 1) // the newest page
			for range 10 {
				resp := e.syncBefore(t, reader, conv, before, 50)
				got := seqs(resp.GetMessage())
				require.NotEmpty(t, got)
				require.IsIncreasing(t, got, "ascending within a page")
				require.Less(t, got[len(got)-1], before)
				pages, more = append(pages, got), append(more, resp.GetHasMore())
				read = slices.Concat(got, read)
				if !resp.GetHasMore() {
					break
				}
				before = got[0]
			}
			require.Equal(t, [][]uint64{seqRange(71, 120), seqRange(21, 70), seqRange(1, 20)}, pages)
			require.Equal(t, []bool{true, true, false}, more)
			require.Equal(t, oneTo(total), read, "no gaps, no duplicates")
		}
	})

	for _, tc := range []struct {
		name             string
		beforeSeq, limit uint64
		want             []uint64
		more             bool
	}{
		{"default limit is 50", 1<<64 - 1, 0, seqRange(71, 120), true},
		{"just past the last", 121, 10, seqRange(111, 120), true},
		{"far beyond the last", 1 << 63, 10, seqRange(111, 120), true},
		{"before the last", 120, 10, seqRange(110, 119), true},
		{"limit above 200 is 200", 1<<64 - 1, 500, seqRange(1, 120), false},
		{"a page ending on the first message", 51, 50, seqRange(1, 50), false},
		{"one short of the start", 52, 50, seqRange(2, 51), true},
		{"before the second", 2, 0, []uint64{1}, false},
		{"before the first", 1, 0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, reader := range pair {
				resp := e.syncBefore(t, reader, conv, tc.beforeSeq, tc.limit)
				if tc.want == nil {
					require.Empty(t, resp.GetMessage())
				} else {
					require.Equal(t, tc.want, seqs(resp.GetMessage()))
				}
				require.Equal(t, tc.more, resp.GetHasMore())
				for _, m := range resp.GetMessage() {
					require.Equal(t, conv, m.GetConversationId())
					require.NotNil(t, m.GetText())
				}
			}
		})
	}

	t.Run("after_seq and before_seq together", func(t *testing.T) {
		t.Parallel()
		for _, req := range []*messagepb.SyncMessagesRequest{
			{ConversationId: conv, AfterSeq: 10, BeforeSeq: 20},
			{ConversationId: conv, AfterSeq: 1, BeforeSeq: 1<<64 - 1, Limit: 5},
		} {
			_, err := e.msgs.SyncMessages(pair[0].ctx, req)
			requireInvalid(t, err, "before_seq")
			require.Contains(t, err.Error(), "after_seq")
		}
	})

	t.Run("an empty conversation", func(t *testing.T) {
		t.Parallel()
		other := e.newUser(t)
		resp := e.syncBefore(t, pair[0], pairID(pair[0].id, other.id), 1<<64-1, 0)
		require.Empty(t, resp.GetMessage())
		require.False(t, resp.GetHasMore())
	})
}

// TestSyncAuthorization: only participants read a conversation, and its id
// must be well formed.
func TestSyncAuthorization(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 4)
	alice, bob, carol, dave := u[0], u[1], u[2], u[3]
	pair := pairID(alice.id, bob.id)
	e.sendText(t, alice, toUser(bob.id), "just us")
	g := e.groupOf(t, alice, carol)
	gconv := groupConvID(g.GetId())
	inGroup := e.sendText(t, carol, toGroup(g.GetId()), "members only")

	require.Len(t, e.sync(t, bob, pair, 0, 0).GetMessage(), 1)
	carols := e.sync(t, carol, gconv, 0, 0).GetMessage()
	require.Len(t, carols, 2, "her join's event and her message")
	requireEvent(t, joined(carol.id, carol.id), carols[0])
	require.Equal(t, inGroup, carols[1].GetId())
	require.Empty(t, e.sync(t, alice, pairID(alice.id, dave.id), 0, 0).GetMessage(), "a conversation not started yet is empty")

	denied := func(p person, conv string) {
		t.Helper()
		_, err := e.msgs.SyncMessages(p.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		_, err = e.msgs.SyncMessages(p.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv, BeforeSeq: 1<<64 - 1})
		testkit.RequireCode(t, err, codes.PermissionDenied)
		testkit.RequireCode(t, e.markRead(p, conv, 1), codes.PermissionDenied)
	}
	t.Run("third user on a 1:1", func(t *testing.T) { denied(carol, pair) })
	t.Run("non-member on a group", func(t *testing.T) { denied(bob, gconv) })
	t.Run("missing group", func(t *testing.T) { denied(alice, groupConvID(g.GetId()+1_000_000)) })
	t.Run("former member", func(t *testing.T) {
		_, err := e.groups.QuitGroup(carol.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
		require.NoError(t, err)
		denied(carol, gconv)
		alices := e.sync(t, alice, gconv, 0, 0).GetMessage()
		require.Equal(t, []uint64{inGroup}, messageIDs(userMessages(alices)), "the members still read it")
		requireEvent(t, left(carol.id), alices[len(alices)-1], "and that she left")
	})

	t.Run("malformed conversation id", func(t *testing.T) {
		for _, id := range []string{"", "x", "u:2:1", "u:1:1", "u:0:1", "u:1", "u:1:x", "g:0", "g:abc", "g:", "g:-1", "x:1", "g:1:2"} {
			_, err := e.msgs.SyncMessages(alice.ctx, &messagepb.SyncMessagesRequest{ConversationId: id})
			requireInvalid(t, err, "conversation_id")
			requireInvalid(t, e.markRead(alice, id, 0), "conversation_id")
		}
		// The pair in the wrong order names no conversation.
		_, err := e.msgs.SyncMessages(alice.ctx, &messagepb.SyncMessagesRequest{ConversationId: fmt.Sprintf("u:%d:%d", bob.id, alice.id)})
		requireInvalid(t, err, "conversation_id")
	})
}

// TestConversationsAndReads follows one user's conversation list through
// sends and MarkRead.
func TestConversationsAndReads(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	busy := e.groupOf(t, carol, alice)
	quiet := e.groupOf(t, carol, alice) // nothing but alice's join in it
	withBob, withCarol, busyConv := pairID(alice.id, bob.id), pairID(alice.id, carol.id), groupConvID(busy.GetId())
	quietConv := groupConvID(quiet.GetId())
	// Each group starts with the event of alice's join: it is hers, so
	// read by her, and unread for carol.
	busyJoin, quietJoin := e.syncAll(t, carol, busyConv), e.syncAll(t, carol, quietConv)
	for _, joins := range [][]*messagepb.Message{busyJoin, quietJoin} {
		require.Len(t, joins, 1)
		requireEvent(t, joined(alice.id, alice.id), joins[0])
	}
	busyEvents, quietEvents, quietLast := uint64(len(busyJoin)), uint64(len(quietJoin)), quietJoin[0].GetId()

	// In time order: alice→bob, bob→alice, carol→busy, alice→carol, bob→alice.
	e.sendText(t, alice, toUser(bob.id), "a1")
	e.sendText(t, bob, toUser(alice.id), "b1")
	groupMsg := e.sendText(t, carol, toGroup(busy.GetId()), "g1")
	toCarol := e.sendText(t, alice, toUser(carol.id), "c1")
	lastFromBob := e.sendText(t, bob, toUser(alice.id), "b2")

	type row struct {
		conv                    string
		peerUser, peerGroup     uint64
		lastSeq, readSeq, unred uint64
		lastMessage             uint64
	}
	list := func(p person) []row {
		t.Helper()
		var out []row
		for _, c := range e.conversations(t, p) {
			require.False(t, c.GetPeerUser() != nil && c.GetPeerGroup() != nil, "one peer: %v", c)
			if c.GetLastMessage() != nil {
				require.Equal(t, c.GetConversationId(), c.GetLastMessage().GetConversationId())
				require.Equal(t, c.GetLastSeq(), c.GetLastMessage().GetSeq())
			}
			out = append(out, row{
				conv: c.GetConversationId(), peerUser: c.GetPeerUser().GetId(), peerGroup: c.GetPeerGroup().GetId(),
				lastSeq: c.GetLastSeq(), readSeq: c.GetReadSeq(), unred: c.GetUnreadCount(), lastMessage: c.GetLastMessage().GetId(),
			})
		}
		return out
	}

	// Most recent activity first; the quiet group last, its last message
	// alice's join. Alice's own sends, and her joins' events, count as read.
	require.Equal(t, []row{
		{withBob, bob.id, 0, 3, 1, 2, lastFromBob},
		{withCarol, carol.id, 0, 1, 1, 0, toCarol},
		{busyConv, 0, busy.GetId(), busyEvents + 1, busyEvents, 1, groupMsg},
		{quietConv, 0, quiet.GetId(), quietEvents, quietEvents, 0, quietLast},
	}, list(alice))
	require.Equal(t, []row{
		{withBob, alice.id, 0, 3, 3, 0, lastFromBob},
	}, list(bob))
	require.Equal(t, []row{
		{withCarol, alice.id, 0, 1, 0, 1, toCarol},
		{busyConv, 0, busy.GetId(), busyEvents + 1, busyEvents + 1, 0, groupMsg},
		{quietConv, 0, quiet.GetId(), quietEvents, 0, quietEvents, quietLast},
	}, list(carol))

	t.Run("the peers and last message are complete", func(t *testing.T) {
		convs := e.conversations(t, alice)
		require.Len(t, convs, 4)
		require.NotEmpty(t, convs[0].GetPeerUser().GetNickname())
		require.Equal(t, busy.GetName(), convs[2].GetPeerGroup().GetName())
		require.Equal(t, quiet.GetName(), convs[3].GetPeerGroup().GetName())
		requireProtoEqual(t, quietJoin[0], convs[3].GetLastMessage())
		synced := e.syncAll(t, alice, withBob)
		requireProtoEqual(t, synced[len(synced)-1], convs[0].GetLastMessage())
	})

	t.Run("MarkRead", func(t *testing.T) {
		require.NoError(t, e.markRead(alice, withBob, 2))
		require.Equal(t, row{withBob, bob.id, 0, 3, 2, 1, lastFromBob}, list(alice)[0])

		require.NoError(t, e.markRead(alice, withBob, 1), "an older position is accepted...")
		require.Equal(t, row{withBob, bob.id, 0, 3, 2, 1, lastFromBob}, list(alice)[0], "...but never moves back")

		requireInvalid(t, e.markRead(alice, withBob, 4), "seq")
		require.Equal(t, uint64(2), list(alice)[0].readSeq)

		require.NoError(t, e.markRead(alice, withBob, 3))
		require.NoError(t, e.markRead(alice, busyConv, e.seqOf(t, groupMsg)))
		require.NoError(t, e.markRead(alice, withBob, 0))
		// Reading is not activity: the order stays.
		require.Equal(t, []row{
			{withBob, bob.id, 0, 3, 3, 0, lastFromBob},
			{withCarol, carol.id, 0, 1, 1, 0, toCarol},
			{busyConv, 0, busy.GetId(), busyEvents + 1, busyEvents + 1, 0, groupMsg},
			{quietConv, 0, quiet.GetId(), quietEvents, quietEvents, 0, quietLast},
		}, list(alice))
		// Alice's reads are hers alone.
		require.Equal(t, uint64(1), list(carol)[0].unred)

		testkit.RequireCode(t, e.markRead(alice, pairID(alice.id, alice.id+1_000_000), 0), codes.NotFound)
	})

	t.Run("new activity", func(t *testing.T) {
		quietMsg := e.sendText(t, carol, toGroup(quiet.GetId()), "finally")
		got := list(alice)
		require.Equal(t, row{quietConv, 0, quiet.GetId(), quietEvents + 1, quietEvents, 1, quietMsg}, got[0])
		require.Equal(t, []string{quietConv, withBob, withCarol, busyConv},
			[]string{got[0].conv, got[1].conv, got[2].conv, got[3].conv})

		_, err := e.groups.QuitGroup(alice.ctx, &grouppb.QuitGroupRequest{Id: busy.GetId()})
		require.NoError(t, err)
		got = list(alice)
		require.Len(t, got, 3, "a group left is no longer listed")
		for _, r := range got {
			require.NotEqual(t, busyConv, r.conv)
		}
	})
}

// TestGroupBeyondConversationLimit: ListConversations returns at most
// message's MaxConversations (1000) conversations by activity. A group
// conversation with messages that falls past the limit must not come back
// as an empty one. It does: Conversations (modules/message/internal/app/sync.go:168-172)
// appends every group it did not see among the fetched rows as a group
// "without a message yet", so the group shows last_seq 0, no last message
// and no unread count although it holds messages.
func TestGroupBeyondConversationLimit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	g := e.groupOf(t, bob, alice)
	sent := e.sendText(t, bob, toGroup(g.GetId()), "an older group message")

	// 1000 more recent 1:1 conversations for alice, each with one message
	// (written directly: signing up 1000 peers over gRPC would be slow).
	body, err := proto.Marshal(&messagepb.TextMessage{Content: "hi"})
	require.NoError(t, err)
	const peerBase = 1 << 40 // ids no user has
	_, err = e.pool.Exec(context.Background(), `
		WITH c AS (
			INSERT INTO messages.conversations (id, user_a, user_b, last_seq, last_message_at)
			SELECT format('u:%s:%s', $1::bigint, $2::bigint + i), $1, $2::bigint + i, 1, now() + interval '1 minute'
			FROM generate_series(1, 1000) AS i
			RETURNING id, user_b
		)
		INSERT INTO messages.messages (conversation_id, seq, from_user_id, to_user_id, type, body)
		SELECT id, 1, user_b, $1, $3, $4 FROM c`,
		int64(alice.id), int64(peerBase), int16(messagepb.MESSAGE_TYPE_TEXT), body)
	require.NoError(t, err)

	convs := e.conversations(t, alice)
	require.GreaterOrEqual(t, len(convs), 1000)
	for _, c := range convs {
		if c.GetConversationId() != groupConvID(g.GetId()) {
			continue
		}
		require.Equal(t, e.lastSeq(t, groupConvID(g.GetId())), c.GetLastSeq(), "the group holds alice's join and a message")
		require.Equal(t, uint64(1), c.GetUnreadCount(), "bob's message: alice's join is hers")
		require.Equal(t, sent, c.GetLastMessage().GetId())
	}
}
