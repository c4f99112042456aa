package message_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/testkit"
)

func (e *env) deleteForMe(ctx context.Context, id uint64) error {
	_, err := e.msgs.DeleteMessageForMe(ctx, &messagepb.DeleteMessageForMeRequest{MessageId: id})
	return err
}

// messageIDs is the ids of msgs, in order.
func messageIDs(msgs []*messagepb.Message) []uint64 {
	out := make([]uint64, len(msgs))
	for i, m := range msgs {
		out[i] = m.GetId()
	}
	return out
}

// A message deleted for oneself is gone from one's own devices only: its
// entry is pushed to the deleter alone (the other side's devices are told
// to pass its seq), synced to the deleter alone, and the message leaves the
// deleter's syncs, scroll-back, last message and unread count, and what it
// can act on; the other side keeps it, and changes to it no longer reach
// the deleter.
func TestDeleteMessageForMe(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	first := e.sendText(t, alice, toUser(bob.id), "one")
	second := e.sendText(t, alice, toUser(bob.id), "two")
	third := e.sendText(t, alice, toUser(bob.id), "three")

	require.NoError(t, e.deleteForMe(bob.ctx, third))
	pushed := e.rec.changes(t)
	require.Len(t, pushed, 1)
	require.Equal(t, []uint64{bob.id}, pushed[0].userIDs, "only the deleter's devices")
	c := pushed[0].change
	require.Equal(t, messagepb.ChangeKind_CHANGE_KIND_DELETED_FOR_ME, c.GetKind())
	requireProtoEqual(t, &messagepb.Message{Id: third, ConversationId: conv, Seq: 3}, c.GetMessage())
	skips := e.rec.skips()
	require.Len(t, skips, 1)
	require.Equal(t, bus.Delivery{UserIDs: []uint64{alice.id}, Cmd: bus.CmdSkip, Conversation: conv, Seq: 4}, skips[0])

	require.Equal(t, []uint64{first, second}, messageIDs(e.syncAll(t, bob, conv)))
	require.Equal(t, []uint64{first, second, third}, messageIDs(e.syncAll(t, alice, conv)), "the other side still has it")
	bobs := e.sync(t, bob, conv, 0, 0)
	require.Len(t, bobs.GetChanges(), 1)
	require.Equal(t, uint64(4), bobs.GetCursor())
	alices := e.sync(t, alice, conv, 3, 0)
	require.Empty(t, alices.GetChanges(), "another's delete-for-me is not in one's stream")
	require.Equal(t, uint64(4), alices.GetCursor(), "but the cursor moves past it")
	require.Equal(t, []uint64{first, second}, messageIDs(e.syncBefore(t, bob, conv, 100, 0).GetMessage()))

	list := e.conversationOf(t, bob, conv)
	require.Equal(t, second, list.GetLastMessage().GetId(), "the last message is the one before")
	require.Equal(t, uint64(2), list.GetUnreadCount())
	require.Equal(t, third, e.conversationOf(t, alice, conv).GetLastMessage().GetId())

	_, err := e.react(bob.ctx, third, "👍")
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = e.send(bob.ctx, target{id: alice.id, replyTo: third}, text("re"))
	requireInvalid(t, err, "reply_to_id")
	seq := e.lastSeq(t, conv)
	require.NoError(t, e.deleteForMe(bob.ctx, third), "deleting again is no error")
	require.Equal(t, seq, e.lastSeq(t, conv), "and no change")

	// alice edits it: her devices get the change, bob's only pass its seq.
	_, err = e.edit(alice.ctx, third, "three, edited")
	require.NoError(t, err)
	pushed = e.rec.changes(t)
	require.Equal(t, []uint64{alice.id}, pushed[len(pushed)-1].userIDs)
	skips = e.rec.skips()
	require.Equal(t, []uint64{bob.id}, skips[len(skips)-1].UserIDs)
	require.Equal(t, uint64(5), skips[len(skips)-1].Seq)
	after := e.sync(t, bob, conv, 4, 0)
	require.Empty(t, after.GetChanges())
	require.Empty(t, after.GetMessage())
	require.Equal(t, uint64(5), after.GetCursor())

	testkit.RequireCode(t, e.deleteForMe(e.newUser(t).ctx, first), codes.NotFound)
}

// In a group, a member's delete-for-me reaches its own devices; every
// other member's devices pass its seq.
func TestGroupDeleteForMeSkipsTheOthers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, alice, bob := e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.groupOf(t, owner, alice, bob)
	conv := groupConvID(g.GetId())
	id := e.sendText(t, owner, toGroup(g.GetId()), "hello all")
	// Alice reads her join's event, bob's (unread: his), and the message.
	alices := e.syncAll(t, alice, conv)
	require.Len(t, alices, 3)
	requireEvent(t, joined(alice.id, alice.id), alices[0])
	requireEvent(t, joined(bob.id, bob.id), alices[1])
	require.Equal(t, id, alices[2].GetId())
	unread := e.conversationOf(t, alice, conv).GetUnreadCount()
	require.Equal(t, uint64(2), unread)
	bobs := e.syncAll(t, bob, conv)

	require.NoError(t, e.deleteForMe(alice.ctx, id))
	pushed := e.rec.changes(t)
	require.Len(t, pushed, 1)
	require.Equal(t, []uint64{alice.id}, pushed[0].userIDs)
	skips := e.rec.skips()
	require.Len(t, skips, 1)
	require.Equal(t, sorted(owner.id, bob.id), skips[0].UserIDs)
	requireMessagesEqual(t, alices[:2], e.syncAll(t, alice, conv), "the message left alice's sync, the events stay")
	requireMessagesEqual(t, bobs, e.syncAll(t, bob, conv), "bob keeps it")
	require.Equal(t, []uint64{id}, messageIDs(userMessages(bobs)))
	c := e.conversationOf(t, alice, conv)
	require.Equal(t, unread-1, c.GetUnreadCount(), "it is no longer unread")
	requireProtoEqual(t, alices[1], c.GetLastMessage()) // the last message is the one before it
}

// The list shows, in every conversation whose last message the caller
// deleted for itself, the one before it (none when nothing is left).
func TestListAfterDeletingLastMessages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bob := e.newUser(t)
	want := map[string]uint64{}
	for i := range 3 {
		peer := e.newUser(t)
		kept := e.sendText(t, peer, toUser(bob.id), "kept")
		gone := e.sendText(t, peer, toUser(bob.id), "gone")
		require.NoError(t, e.deleteForMe(bob.ctx, gone))
		if i == 2 {
			require.NoError(t, e.deleteForMe(bob.ctx, kept))
			kept = 0
		}
		want[pairID(peer.id, bob.id)] = kept
	}
	got := map[string]uint64{}
	for _, c := range e.conversations(t, bob) {
		got[c.GetConversationId()] = c.GetLastMessage().GetId()
	}
	require.Equal(t, want, got)
}
