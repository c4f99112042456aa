package message_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/testkit"
)

// settings is an UpdateConversation's changes.
type settings struct {
	pinned, archived *bool
	mutedUntil       *time.Time
}

func pin(on bool) settings          { return settings{pinned: &on} }
func archive(on bool) settings      { return settings{archived: &on} }
func mute(until time.Time) settings { return settings{mutedUntil: &until} }

// update changes p's settings of convID.
func (e *env) update(p person, convID string, s settings) (*messagepb.Conversation, error) {
	req := &messagepb.UpdateConversationRequest{ConversationId: convID, Pinned: s.pinned, Archived: s.archived}
	if s.mutedUntil != nil {
		req.MutedUntil = timestamppb.New(*s.mutedUntil)
	}
	resp, err := e.msgs.UpdateConversation(p.ctx, req)
	return resp.GetConversation(), err
}

func (e *env) mustUpdate(t *testing.T, p person, convID string, s settings) *messagepb.Conversation {
	t.Helper()
	c, err := e.update(p, convID, s)
	require.NoError(t, err)
	require.Equal(t, convID, c.GetConversationId())
	return c
}

// listed is p's whole list, which fits the default page of 1000.
func (e *env) listed(t *testing.T, p person, includeArchived bool) []*messagepb.Conversation {
	t.Helper()
	resp, err := e.msgs.ListConversations(p.ctx, &messagepb.ListConversationsRequest{IncludeArchived: includeArchived})
	require.NoError(t, err)
	require.Empty(t, resp.GetNextPageToken(), "fewer than 1000: one page")
	return resp.GetConversation()
}

// convIDs are the conversations' ids, in order.
func convIDs(convs []*messagepb.Conversation) []string {
	out := make([]string, len(convs))
	for i, c := range convs {
		out[i] = c.GetConversationId()
	}
	return out
}

// find is convID's entry in convs, or nil.
func find(convs []*messagepb.Conversation, convID string) *messagepb.Conversation {
	for _, c := range convs {
		if c.GetConversationId() == convID {
			return c
		}
	}
	return nil
}

func TestPinnedFirst(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 4)
	alice, bob, carol, dave := u[0], u[1], u[2], u[3]
	quiet := e.createGroup(t, alice) // no message yet: creating a group stores no event
	withBob, withCarol, withDave := pairID(alice.id, bob.id), pairID(alice.id, carol.id), pairID(alice.id, dave.id)
	quietConv := groupConvID(quiet.GetId())
	e.sendText(t, bob, toUser(alice.id), "oldest")
	e.sendText(t, carol, toUser(alice.id), "middle")
	e.sendText(t, dave, toUser(alice.id), "newest")
	require.Equal(t, []string{withDave, withCarol, withBob, quietConv}, convIDs(e.listed(t, alice, false)))

	got := e.mustUpdate(t, alice, withBob, pin(true))
	require.True(t, got.GetPinned())
	require.Equal(t, bob.id, got.GetPeerUser().GetId(), "the answer is the conversation as listed")
	require.Equal(t, "oldest", got.GetLastMessage().GetText().GetContent())
	require.True(t, e.mustUpdate(t, alice, quietConv, pin(true)).GetPinned(), "a group without a message yet")
	e.mustUpdate(t, alice, withCarol, pin(true))
	// Pinned first, each part by activity; the group without a message last
	// among the pinned.
	list := e.listed(t, alice, false)
	require.Equal(t, []string{withCarol, withBob, quietConv, withDave}, convIDs(list))
	for i, pinned := range []bool{true, true, true, false} {
		require.Equal(t, pinned, list[i].GetPinned(), list[i].GetConversationId())
	}

	t.Run("activity orders the pinned", func(t *testing.T) {
		e.sendText(t, bob, toUser(alice.id), "again")
		require.Equal(t, []string{withBob, withCarol, quietConv, withDave}, convIDs(e.listed(t, alice, false)))
	})
	t.Run("unpinning puts it back in order", func(t *testing.T) {
		e.mustUpdate(t, alice, withCarol, pin(false))
		e.mustUpdate(t, alice, quietConv, pin(false))
		require.Equal(t, []string{withBob, withDave, withCarol, quietConv}, convIDs(e.listed(t, alice, false)))
	})
	t.Run("the group's first message", func(t *testing.T) {
		// The settings gave the group a conversation row: its first message,
		// the event of bob's join, is still seq 1, and it is listed as any
		// other.
		e.join(t, bob, quiet.GetId())
		c := e.listed(t, alice, false)[1]
		require.Equal(t, quietConv, c.GetConversationId())
		require.Equal(t, uint64(1), c.GetLastSeq())
		require.Equal(t, uint64(1), c.GetUnreadCount())
		requireEvent(t, joined(bob.id, bob.id), c.GetLastMessage())
		got := e.syncAll(t, alice, quietConv)
		require.Equal(t, []uint64{1}, seqs(got))
		requireProtoEqual(t, got[0], c.GetLastMessage())
	})
}

func TestPinCap(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	// 25 conversations: 24 groups without messages, one pair.
	var convs []string
	for range 24 {
		convs = append(convs, groupConvID(e.createGroup(t, alice).GetId()))
	}
	e.sendText(t, bob, toUser(alice.id), "hi")
	convs = append(convs, pairID(alice.id, bob.id))

	// All 25 at once: the cap lets exactly 20 in.
	var wg sync.WaitGroup
	errs := make([]error, len(convs))
	for i := range errs {
		wg.Go(func() { _, errs[i] = e.update(alice, convs[i], pin(true)) })
	}
	wg.Wait()
	var pinnedConv, refusedConv string
	refused := 0
	for i, err := range errs {
		if err == nil {
			pinnedConv = convs[i]
			continue
		}
		st := testkit.RequireCode(t, err, codes.FailedPrecondition)
		require.Equal(t, "pinned: at most 20 conversations may be pinned; unpin one first", st.Message())
		refused, refusedConv = refused+1, convs[i]
	}
	require.Equal(t, 5, refused)

	countPinned := func() int {
		n := 0
		for _, c := range e.listed(t, alice, false) {
			if c.GetPinned() {
				n++
			}
		}
		return n
	}
	require.Equal(t, 20, countPinned())
	_, err := e.update(alice, refusedConv, pin(true))
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	require.False(t, find(e.listed(t, alice, false), refusedConv).GetPinned(), "a refused pin changes nothing")
	e.mustUpdate(t, alice, refusedConv, pin(false)) // unpinning is always fine

	e.mustUpdate(t, alice, pinnedConv, pin(true)) // pinned already: no new pin
	e.mustUpdate(t, alice, pinnedConv, settings{pinned: proto.Bool(true), archived: proto.Bool(false)})
	e.mustUpdate(t, alice, pinnedConv, pin(false))
	require.True(t, e.mustUpdate(t, alice, refusedConv, pin(true)).GetPinned(), "room for one again")
	require.Equal(t, 20, countPinned())
	// The cap is per user: bob pins his.
	e.mustUpdate(t, bob, pairID(alice.id, bob.id), pin(true))
}

func TestMute(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	e.sendText(t, bob, toUser(alice.id), "one")
	e.sendText(t, bob, toUser(alice.id), "two")

	until := time.Now().Add(time.Hour).Truncate(time.Second)
	got := e.mustUpdate(t, alice, conv, mute(until))
	require.Equal(t, until, got.GetMutedUntil().AsTime().Local())

	e.sendText(t, bob, toUser(alice.id), "three")
	c := e.listed(t, alice, false)[0]
	require.Equal(t, conv, c.GetConversationId(), "a muted conversation is listed")
	require.Equal(t, uint64(3), c.GetUnreadCount(), "and counts unread")
	require.True(t, until.Equal(c.GetMutedUntil().AsTime()), "marked muted: %v", c.GetMutedUntil())
	require.Nil(t, e.listed(t, bob, false)[0].GetMutedUntil(), "alice's mute is hers")

	t.Run("changing another setting keeps the mute", func(t *testing.T) {
		e.mustUpdate(t, alice, conv, pin(true))
		require.True(t, until.Equal(e.listed(t, alice, false)[0].GetMutedUntil().AsTime()))
	})
	t.Run("a time in the past unmutes", func(t *testing.T) {
		got := e.mustUpdate(t, alice, conv, mute(time.Now().Add(-time.Minute)))
		require.Nil(t, got.GetMutedUntil())
		require.Nil(t, e.listed(t, alice, false)[0].GetMutedUntil())
		var stored *time.Time
		require.NoError(t, e.pool.QueryRow(context.Background(),
			`SELECT muted_until FROM messages.reads WHERE user_id = $1 AND conversation_id = $2`, int64(alice.id), conv).Scan(&stored))
		require.Nil(t, stored, "stored as not muted")
	})
	t.Run("a mute that ran out is no mute", func(t *testing.T) {
		e.mustUpdate(t, alice, conv, mute(until))
		_, err := e.pool.Exec(context.Background(),
			`UPDATE messages.reads SET muted_until = now() - interval '1 second' WHERE user_id = $1 AND conversation_id = $2`, int64(alice.id), conv)
		require.NoError(t, err)
		require.Nil(t, e.listed(t, alice, false)[0].GetMutedUntil())
	})
}

func TestArchive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	withBob, withCarol := pairID(alice.id, bob.id), pairID(alice.id, carol.id)
	hi := e.sendText(t, bob, toUser(alice.id), "hi")
	e.sendText(t, carol, toUser(alice.id), "hello")

	got := e.mustUpdate(t, alice, withBob, archive(true))
	require.True(t, got.GetArchived())
	require.Equal(t, []string{withCarol}, convIDs(e.listed(t, alice, false)), "archived: out of the list")
	all := e.listed(t, alice, true)
	require.Equal(t, []string{withCarol, withBob}, convIDs(all), "unless asked for")
	require.True(t, all[1].GetArchived())
	require.False(t, all[0].GetArchived())
	require.Equal(t, uint64(1), all[1].GetUnreadCount())

	bobs := e.listed(t, bob, false)
	require.Equal(t, []string{withBob}, convIDs(bobs), "alice's archive is hers")
	require.False(t, bobs[0].GetArchived())

	require.False(t, e.mustUpdate(t, alice, withBob, archive(false)).GetArchived())
	require.Equal(t, []string{withCarol, withBob}, convIDs(e.listed(t, alice, false)), "unarchived")

	t.Run("a new message brings it back", func(t *testing.T) {
		e.mustUpdate(t, alice, withBob, archive(true))
		require.Nil(t, find(e.listed(t, alice, false), withBob))
		// A change (it takes a seq too) is no new message.
		_, err := e.msgs.ReactToMessage(bob.ctx, &messagepb.ReactToMessageRequest{MessageId: hi, Emoji: "👍"})
		require.NoError(t, err)
		require.Nil(t, find(e.listed(t, alice, false), withBob), "a reaction does not bring it back")
		e.sendText(t, bob, toUser(alice.id), "are you there?")
		list := e.listed(t, alice, false)
		require.Equal(t, []string{withBob, withCarol}, convIDs(list))
		require.False(t, list[0].GetArchived())
		require.Equal(t, uint64(2), list[0].GetUnreadCount())
	})
	t.Run("a muted one stays archived", func(t *testing.T) {
		until := time.Now().Add(time.Hour)
		e.mustUpdate(t, alice, withCarol, settings{archived: proto.Bool(true), mutedUntil: &until})
		e.sendText(t, carol, toUser(alice.id), "spam")
		require.Nil(t, find(e.listed(t, alice, false), withCarol), "muted: a message does not bring it back")
		c := find(e.listed(t, alice, true), withCarol)
		require.True(t, c.GetArchived())
		require.NotNil(t, c.GetMutedUntil())
		require.Equal(t, uint64(2), c.GetUnreadCount())

		// Once the mute ends, the message that came brings it back.
		_, err := e.pool.Exec(context.Background(),
			`UPDATE messages.reads SET muted_until = now() - interval '1 second' WHERE user_id = $1 AND conversation_id = $2`, int64(alice.id), withCarol)
		require.NoError(t, err)
		c = find(e.listed(t, alice, false), withCarol)
		require.NotNil(t, c)
		require.False(t, c.GetArchived())
	})
	t.Run("muting one that came back does not archive it again", func(t *testing.T) {
		e.mustUpdate(t, alice, withBob, archive(true))
		e.sendText(t, bob, toUser(alice.id), "back")
		got := e.mustUpdate(t, alice, withBob, mute(time.Now().Add(time.Hour)))
		require.False(t, got.GetArchived())
		require.NotNil(t, find(e.listed(t, alice, false), withBob))
	})
	t.Run("a group without a message yet", func(t *testing.T) {
		g := e.createGroup(t, alice) // creating a group stores no event
		conv := groupConvID(g.GetId())
		require.True(t, e.mustUpdate(t, alice, conv, archive(true)).GetArchived(), "a group without a message yet")
		require.Nil(t, find(e.listed(t, alice, false), conv))
		e.join(t, bob, g.GetId())
		require.NotNil(t, find(e.listed(t, alice, false), conv), "its first message, bob's join, brings it back")
	})
}

func TestSettingsParticipantsOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 3)
	alice, bob, mallory := u[0], u[1], u[2]
	conv := pairID(alice.id, bob.id)
	e.sendText(t, alice, toUser(bob.id), "hi")
	g := e.groupOf(t, alice, bob)

	for _, id := range []string{conv, groupConvID(g.GetId())} {
		_, err := e.update(mallory, id, pin(true))
		testkit.RequireCode(t, err, codes.PermissionDenied)
	}
	_, err := e.update(person{ctx: anonymous}, conv, pin(true))
	testkit.RequireCode(t, err, codes.Unauthenticated)
	for _, id := range []string{"x", "u:2:1", "g:0", fmt.Sprintf("u:%d:%d", alice.id, alice.id)} {
		_, err := e.update(alice, id, pin(true))
		requireInvalid(t, err, "conversation_id")
	}
	_, err = e.msgs.UpdateConversation(alice.ctx, &messagepb.UpdateConversationRequest{ConversationId: conv})
	requireInvalid(t, err, "pinned or muted_until or archived")
	_, err = e.msgs.UpdateConversation(alice.ctx, &messagepb.UpdateConversationRequest{
		ConversationId: conv, MutedUntil: &timestamppb.Timestamp{Seconds: 1, Nanos: -1},
	})
	requireInvalid(t, err, "muted_until")
	// A pair without a message yet has no conversation to set.
	_, err = e.update(alice, pairID(alice.id, mallory.id), pin(true))
	testkit.RequireCode(t, err, codes.NotFound)

	// A member who left is a stranger again.
	e.mustUpdate(t, bob, groupConvID(g.GetId()), pin(true))
	_, err = e.groups.QuitGroup(bob.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
	require.NoError(t, err)
	_, err = e.update(bob, groupConvID(g.GetId()), pin(false))
	testkit.RequireCode(t, err, codes.PermissionDenied)

	var rows int
	require.NoError(t, e.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM messages.reads WHERE user_id = $1`, int64(mallory.id)).Scan(&rows))
	require.Zero(t, rows, "refused calls store nothing")
}

func TestPeerMarks(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	conv := pairID(alice.id, bob.id)
	e.sendText(t, alice, toUser(bob.id), "one")
	e.sendText(t, alice, toUser(bob.id), "two")
	g := e.groupOf(t, alice, bob)
	e.sendText(t, bob, toGroup(g.GetId()), "in the group")

	c := find(e.listed(t, alice, false), conv)
	require.Zero(t, c.GetPeerReadSeq())
	require.NoError(t, e.markRead(bob, conv, 1))
	c = find(e.listed(t, alice, false), conv)
	require.Equal(t, uint64(1), c.GetPeerReadSeq())
	require.GreaterOrEqual(t, c.GetPeerDeliveredSeq(), uint64(1), "a read mark implies delivery")
	require.Zero(t, find(e.listed(t, alice, false), groupConvID(g.GetId())).GetPeerReadSeq(), "1:1 only")
	require.Equal(t, uint64(2), find(e.listed(t, bob, false), conv).GetPeerReadSeq(), "alice sent both: she read them")

	// carol has a conversation too, so the block check runs over several peers.
	e.sendText(t, carol, toUser(alice.id), "hey")
	_, err := e.users.BlockUser(bob.ctx, &userpb.BlockUserRequest{UserId: alice.id})
	require.NoError(t, err)
	c = find(e.listed(t, alice, false), conv)
	require.Zero(t, c.GetPeerReadSeq(), "bob blocks alice: his marks are his")
	require.Zero(t, c.GetPeerDeliveredSeq())
	require.Equal(t, uint64(1), find(e.listed(t, alice, false), pairID(alice.id, carol.id)).GetPeerReadSeq(), "carol does not")
	require.Equal(t, uint64(2), find(e.listed(t, bob, false), conv).GetPeerReadSeq(), "the blocker still sees alice's")
}

func TestConversationPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := e.newUsers(t, 4)
	alice, bob, carol, dave := u[0], u[1], u[2], u[3]
	e.sendText(t, bob, toUser(alice.id), "b")
	e.sendText(t, carol, toUser(alice.id), "c")
	e.sendText(t, dave, toUser(alice.id), "d")
	busy := e.groupOf(t, bob, alice)
	e.sendText(t, bob, toGroup(busy.GetId()), "g")
	var empty []string // groups without a message yet: alice's own, nobody joined
	for range 5 {
		empty = append(empty, groupConvID(e.createGroup(t, alice).GetId()))
	}
	// 6 pairs whose last messages share one instant: the order needs its
	// tie-breaks (written directly; their peers are no users).
	body, err := proto.Marshal(&messagepb.TextMessage{Content: "tie"})
	require.NoError(t, err)
	const peerBase = 1 << 41
	_, err = e.pool.Exec(context.Background(), `
		WITH c AS (
			INSERT INTO messages.conversations (id, user_a, user_b, last_seq, last_message_seq, last_message_at)
			SELECT format('u:%s:%s', $1::bigint, $2::bigint + i), $1, $2::bigint + i, 1, 1, now() - interval '1 hour'
			FROM generate_series(1, 6) AS i
			RETURNING id, user_b
		)
		INSERT INTO messages.messages (conversation_id, seq, from_user_id, to_user_id, type, body)
		SELECT id, 1, user_b, $1, $3, $4 FROM c`,
		int64(alice.id), int64(peerBase), int16(messagepb.MESSAGE_TYPE_TEXT), body)
	require.NoError(t, err)
	e.mustUpdate(t, alice, pairID(alice.id, peerBase+3), pin(true))
	e.mustUpdate(t, alice, empty[2], pin(true))
	e.mustUpdate(t, alice, empty[3], mute(time.Now().Add(time.Hour))) // a row, not pinned
	e.mustUpdate(t, alice, pairID(alice.id, carol.id), archive(true))

	for _, includeArchived := range []bool{false, true} {
		t.Run(fmt.Sprintf("include_archived %v", includeArchived), func(t *testing.T) {
			whole := e.listed(t, alice, includeArchived)
			want := 15
			if !includeArchived {
				want = 14
			}
			require.Len(t, whole, want)
			// The groups without a message yet last, by id, whether or not
			// they have a row.
			require.Equal(t, []string{empty[0], empty[1], empty[3], empty[4]}, convIDs(whole[len(whole)-4:]))
			require.Equal(t, []string{pairID(alice.id, peerBase+3), empty[2]}, convIDs(whole[:2]))
			for _, size := range []uint32{1, 2, 3, 5, 14, 15} {
				var paged []*messagepb.Conversation
				token, pages := "", 0
				for {
					resp, err := e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{
						IncludeArchived: includeArchived, PageSize: size, PageToken: token,
					})
					require.NoError(t, err)
					require.LessOrEqual(t, len(resp.GetConversation()), int(size))
					paged = append(paged, resp.GetConversation()...)
					pages++
					require.Less(t, pages, 20, "paging ends")
					if token = resp.GetNextPageToken(); token == "" {
						break
					}
					require.Len(t, resp.GetConversation(), int(size), "only the last page is short")
				}
				require.Equal(t, convIDs(whole), convIDs(paged), "page size %d: no duplicates, no gaps", size)
				for i := range whole {
					requireProtoEqual(t, whole[i], paged[i])
				}
			}
		})
	}

	t.Run("a conversation that moves between pages", func(t *testing.T) {
		first, err := e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{PageSize: 4})
		require.NoError(t, err)
		davesConv := pairID(alice.id, dave.id)
		require.Equal(t, davesConv, first.GetConversation()[3].GetConversationId())
		// dave's conversation, on the first page, becomes the most recent
		// but the pinned: the pages after the token hold it no twice.
		e.sendText(t, dave, toUser(alice.id), "again")
		rest, err := e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{PageToken: first.GetNextPageToken()})
		require.NoError(t, err)
		require.Len(t, rest.GetConversation(), 10)
		require.Nil(t, find(rest.GetConversation(), davesConv))
	})
}

func TestConversationPageBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	e.sendText(t, bob, toUser(alice.id), "hi")
	g1, g2 := e.groupOf(t, bob, alice), e.groupOf(t, bob, alice)
	resp, err := e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{PageSize: 1})
	require.NoError(t, err)
	good := resp.GetNextPageToken()
	require.NotEmpty(t, good)
	raw, err := base64.RawURLEncoding.DecodeString(good)
	require.NoError(t, err)

	tamper := func(f func(b []byte) []byte) string {
		return base64.RawURLEncoding.EncodeToString(f(append([]byte(nil), raw...)))
	}
	for name, token := range map[string]string{
		"not base64":          "!!!",
		"padded":              good + "=",
		"too short":           base64.RawURLEncoding.EncodeToString(raw[:10]),
		"another version":     tamper(func(b []byte) []byte { b[0] = 9; return b }),
		"pinned neither 0/1":  tamper(func(b []byte) []byte { b[1] = 7; return b }),
		"not a conversation":  tamper(func(b []byte) []byte { return append(b[:18], "drop table"...) }),
		"group id mismatched": tamper(func(b []byte) []byte { return append(b[:18], groupConvID(g1.GetId())...) }),
		"NUL":                 "\x00",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{PageToken: token})
			requireInvalid(t, err, "page_token")
		})
	}
	_, err = e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{PageToken: strings.Repeat("A", 129)})
	requireInvalid(t, err, "page_token")
	_, err = e.msgs.ListConversations(alice.ctx, &messagepb.ListConversationsRequest{PageSize: 1001})
	requireInvalid(t, err, "page_size")

	// A token of another user's list is only a position: it reveals nothing.
	resp, err = e.msgs.ListConversations(bob.ctx, &messagepb.ListConversationsRequest{PageToken: good})
	require.NoError(t, err)
	for _, c := range resp.GetConversation() {
		require.True(t, c.GetPeerUser().GetId() == alice.id || c.GetPeerGroup().GetId() == g1.GetId() || c.GetPeerGroup().GetId() == g2.GetId(),
			"bob's own conversations only: %v", c)
	}
}
