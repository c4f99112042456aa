package message_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
)

func (e *env) recall(ctx context.Context, id uint64) error {
	_, err := e.msgs.RecallMessage(ctx, &messagepb.RecallMessageRequest{MessageId: id})
	return err
}

// storedBody is the message's body as the database holds it.
func (e *env) storedBody(t *testing.T, id uint64) []byte {
	t.Helper()
	var body []byte
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT body FROM messages.messages WHERE id = $1`, id).Scan(&body))
	return body
}

// A recalled message is a tombstone everywhere: its body erased from the
// database, pushed and synced as a change, shown so in the list, no longer
// unread; replies to it keep its id, their quote saying recalled. It is
// final: no edit, no reply; recalling it again changes nothing.
func TestRecallMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	oops := e.sendText(t, alice, toUser(bob.id), "the wrong chat, sorry")
	reply := e.sendText(t, alice, target{id: bob.id, replyTo: oops}, "ignore that")
	require.Equal(t, uint64(2), e.conversationOf(t, bob, conv).GetUnreadCount())

	require.NoError(t, e.recall(alice.ctx, oops))
	require.Empty(t, e.storedBody(t, oops), "the body is erased, not hidden")
	pushed := e.rec.changes(t)
	require.Len(t, pushed, 1)
	require.Equal(t, sorted(alice.id, bob.id), pushed[0].userIDs)
	tomb := pushed[0].change.GetMessage()
	require.Equal(t, messagepb.ChangeKind_CHANGE_KIND_RECALLED, pushed[0].change.GetKind())
	require.True(t, tomb.GetRecalled())
	require.Equal(t, alice.id, tomb.GetRecalledBy())
	require.Nil(t, tomb.GetBody(), "a tombstone has no body")
	require.Equal(t, oops, tomb.GetId())

	synced := e.syncAll(t, bob, conv)
	require.True(t, synced[0].GetRecalled())
	require.Nil(t, synced[0].GetBody())
	require.Equal(t, reply, synced[1].GetId())
	require.Equal(t, oops, synced[1].GetReplyTo().GetId(), "a reply keeps the id")
	require.True(t, synced[1].GetReplyTo().GetRecalled())
	require.Empty(t, synced[1].GetReplyTo().GetPreview(), "nor does the quote keep the text")
	changes := e.sync(t, bob, conv, 2, 0).GetChanges()
	require.Len(t, changes, 1)
	requireProtoEqual(t, tomb, changes[0].GetMessage())
	c := e.conversationOf(t, bob, conv)
	require.Equal(t, uint64(1), c.GetUnreadCount(), "the recalled message is no longer unread")

	_, err := e.edit(alice.ctx, oops, "try again")
	testkit.RequireCode(t, err, codes.FailedPrecondition)
	_, err = e.send(bob.ctx, target{id: alice.id, replyTo: oops}, text("what was it?"))
	requireInvalid(t, err, "reply_to_id")
	seq := e.lastSeq(t, conv)
	require.NoError(t, e.recall(alice.ctx, oops), "recalling again is no error")
	require.Equal(t, seq, e.lastSeq(t, conv), "and no change")
	require.Len(t, e.rec.changes(t), 1)

	require.NoError(t, e.recall(alice.ctx, reply))
	last := e.conversationOf(t, bob, conv).GetLastMessage()
	require.Equal(t, reply, last.GetId())
	require.True(t, last.GetRecalled(), "a recalled last message shows as recalled")
	require.Zero(t, e.conversationOf(t, bob, conv).GetUnreadCount())
}

// Who may recall: the sender within the recall window; the group's owner
// and a Parley admin at any time. Anyone else is refused, an outsider as if
// the message did not exist, and nothing is written.
func TestRecallPermissions(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.RecallWindow = time.Second })
	owner, alice, bob, carol := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	admin := e.newAdmin(t)
	g := e.groupOf(t, owner, alice, bob)
	groupConv := groupConvID(g.GetId())
	first := e.sendText(t, alice, toGroup(g.GetId()), "first")
	second := e.sendText(t, alice, toGroup(g.GetId()), "second")
	third := e.sendText(t, alice, toGroup(g.GetId()), "third")
	private := e.sendText(t, alice, toUser(bob.id), "between alice and bob")
	seqs := map[string]uint64{groupConv: e.lastSeq(t, groupConv), pairID(alice.id, bob.id): e.lastSeq(t, pairID(alice.id, bob.id))}

	testkit.RequireCode(t, e.recall(bob.ctx, first), codes.PermissionDenied)
	outsider := testkit.RequireCode(t, e.recall(carol.ctx, first), codes.NotFound)
	require.Equal(t, outsider.Message(), testkit.RequireCode(t, e.recall(carol.ctx, 1<<62), codes.NotFound).Message())
	testkit.RequireCode(t, e.recall(owner.ctx, private), codes.NotFound)
	require.Equal(t, seqs, map[string]uint64{groupConv: e.lastSeq(t, groupConv), pairID(alice.id, bob.id): e.lastSeq(t, pairID(alice.id, bob.id))},
		"no refusal writes")

	require.NoError(t, e.recall(alice.ctx, first), "the sender, within the window")
	time.Sleep(1100 * time.Millisecond)
	st := testkit.RequireCode(t, e.recall(alice.ctx, second), codes.FailedPrecondition)
	require.Contains(t, st.Message(), "recall window")
	require.NoError(t, e.recall(owner.ctx, second), "the group's owner, any time")
	require.NoError(t, e.recall(admin.ctx, third), "an admin, any time, from outside")
	require.NoError(t, e.recall(admin.ctx, private))

	by := map[uint64]uint64{}
	for _, m := range userMessages(e.syncAll(t, bob, groupConv)) {
		require.True(t, m.GetRecalled())
		by[m.GetId()] = m.GetRecalledBy()
	}
	require.Equal(t, map[uint64]uint64{first: alice.id, second: owner.id, third: admin.id}, by)
}

// A Parley admin may recall a message of a group that was deleted since:
// the recall is stored (there is no one left to push it to).
func TestAdminRecallsInADeletedGroup(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, admin := e.newUser(t), e.newAdmin(t)
	g := e.createGroup(t, owner)
	id := e.sendText(t, owner, toGroup(g.GetId()), "before the group went")
	_, err := e.groups.DeleteGroup(owner.ctx, &grouppb.DeleteGroupRequest{Id: g.GetId()})
	require.NoError(t, err)
	require.NoError(t, e.recall(admin.ctx, id))
	require.Empty(t, e.storedBody(t, id))
}
