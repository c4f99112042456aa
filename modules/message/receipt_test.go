package message_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
)

func (e *env) markDelivered(p person, convID string, seq uint64) error {
	_, err := e.msgs.MarkDelivered(p.ctx, &messagepb.MarkDeliveredRequest{ConversationId: convID, Seq: seq})
	return err
}

func (e *env) receipts(t *testing.T, p person, convID string, seq, after uint64, limit uint32) *messagepb.GetReceiptsResponse {
	t.Helper()
	r, err := e.msgs.GetReceipts(p.ctx, &messagepb.GetReceiptsRequest{ConversationId: convID, Seq: seq, AfterUserId: after, Limit: limit})
	require.NoError(t, err)
	return r
}

// receiptFrames decodes the recorded receipt deliveries.
func (e *env) receiptFrames(t *testing.T) (to []uint64, frames []*messagepb.Receipt) {
	t.Helper()
	for _, d := range e.rec.frames(message.CmdReceipt) {
		require.Len(t, d.UserIDs, 1, "a receipt frame goes to one sender")
		f := new(messagepb.Receipt)
		require.NoError(t, proto.Unmarshal(d.Data, f))
		to, frames = append(to, d.UserIDs[0]), append(frames, f)
	}
	return to, frames
}

func TestReceiptsInAPair(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	for _, s := range []string{"one", "two", "three"} {
		e.sendText(t, alice, toUser(bob.id), s)
	}
	require.NoError(t, e.markDelivered(bob, conv, 2))
	r := e.receipts(t, alice, conv, 2, 0, 0)
	requireProtoEqual(t, &messagepb.GetReceiptsResponse{Delivered: true, MemberCount: 1, DeliveredCount: 1, DeliveredUserId: []uint64{bob.id}}, r)
	requireProtoEqual(t, &messagepb.GetReceiptsResponse{MemberCount: 1}, e.receipts(t, alice, conv, 3, 0, 0))

	require.NoError(t, e.markRead(bob, conv, 3))
	r = e.receipts(t, alice, conv, 3, 0, 0)
	requireProtoEqual(t, &messagepb.GetReceiptsResponse{Delivered: true, Read: true, MemberCount: 1, DeliveredCount: 1, ReadCount: 1, ReadUserId: []uint64{bob.id}}, r)
	require.Equal(t, r, e.receipts(t, bob, conv, 3, 0, 0), "either participant may ask")

	// Marks never move back, and a mark that does not move tells no one.
	require.NoError(t, e.markDelivered(bob, conv, 1))
	require.NoError(t, e.markRead(bob, conv, 2))
	require.True(t, e.receipts(t, alice, conv, 3, 0, 0).GetRead())
	to, frames := e.receiptFrames(t)
	require.Equal(t, []uint64{alice.id, alice.id}, to, "each move goes to the sender at once")
	requireProtoEqual(t, &messagepb.Receipt{ConversationId: conv, UserId: bob.id, DeliveredSeq: 2}, frames[0])
	requireProtoEqual(t, &messagepb.Receipt{ConversationId: conv, UserId: bob.id, DeliveredSeq: 3, ReadSeq: 3}, frames[1])

}

func TestSyncMarksDelivered(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	for _, s := range []string{"one", "two", "three"} {
		e.sendText(t, alice, toUser(bob.id), s)
	}
	page := e.sync(t, bob, conv, 0, 2)
	require.Equal(t, uint64(2), page.GetCursor())
	r := e.receipts(t, alice, conv, 2, 0, 0)
	require.True(t, r.GetDelivered())
	require.False(t, r.GetRead())
	require.False(t, e.receipts(t, alice, conv, 3, 0, 0).GetDelivered(), "only what the page held")
	e.sync(t, bob, conv, 2, 0)
	require.True(t, e.receipts(t, alice, conv, 3, 0, 0).GetDelivered())
	_, frames := e.receiptFrames(t)
	require.Len(t, frames, 2)
	require.Equal(t, uint64(3), frames[1].GetDeliveredSeq())

	// Scroll-back fetches old messages: no mark.
	e.syncBefore(t, bob, conv, 3, 1)
	_, frames = e.receiptFrames(t)
	require.Len(t, frames, 2)
}

func TestReceiptsAreForParticipantsAndCheckTheirInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob, mallory := e.newUser(t), e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	e.sendText(t, alice, toUser(bob.id), "one")
	id := e.sendText(t, alice, toUser(bob.id), "two")
	_, err := e.react(bob.ctx, id, "👍") // seq 3 is a change
	require.NoError(t, err)

	testkit.RequireCode(t, e.markDelivered(mallory, conv, 1), codes.PermissionDenied)
	_, err = e.msgs.GetReceipts(mallory.ctx, &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: 1})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	_, err = e.msgs.GetReceipts(anonymous, &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: 1})
	testkit.RequireCode(t, err, codes.Unauthenticated)
	requireInvalid(t, e.markDelivered(bob, conv, 4), "seq")
	requireInvalid(t, e.markDelivered(bob, "x", 1), "conversation_id")
	_, err = e.msgs.GetReceipts(alice.ctx, &messagepb.GetReceiptsRequest{ConversationId: conv})
	requireInvalid(t, err, "seq")
	_, err = e.msgs.GetReceipts(alice.ctx, &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: 3})
	testkit.RequireCode(t, err, codes.NotFound)
	_, err = e.msgs.GetReceipts(alice.ctx, &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: 9})
	testkit.RequireCode(t, err, codes.NotFound)
	testkit.RequireCode(t, e.markDelivered(alice, pairID(alice.id, mallory.id), 1), codes.NotFound)
	_, frames := e.receiptFrames(t)
	require.Empty(t, frames, "a refused mark tells no one")
}

func TestABlockerKeepsItsReceipts(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)
	e.sendText(t, alice, toUser(bob.id), "one")
	_, err := e.users.BlockUser(bob.ctx, &userpb.BlockUserRequest{UserId: alice.id})
	require.NoError(t, err)
	require.NoError(t, e.markRead(bob, conv, 1))
	requireProtoEqual(t, &messagepb.GetReceiptsResponse{MemberCount: 1}, e.receipts(t, alice, conv, 1, 0, 0))
	require.True(t, e.receipts(t, bob, conv, 1, 0, 0).GetRead(), "the blocker sees its own marks")
	_, frames := e.receiptFrames(t)
	require.Empty(t, frames)
}

func TestGroupReceiptsCountMembersWhoCouldSeeTheMessage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	us := e.newUsers(t, 6)
	owner, readers, late := us[0], us[1:5], us[5]
	g := e.groupOf(t, owner, readers...)
	conv := groupConvID(g.GetId())
	hello := e.seqOf(t, e.sendText(t, owner, toGroup(g.GetId()), "hello all"))
	time.Sleep(10 * time.Millisecond)
	e.join(t, late, g.GetId())
	hi := e.seqOf(t, e.sendText(t, late, toGroup(g.GetId()), "hi, new here"))
	require.NoError(t, e.markRead(late, conv, hi))

	require.NoError(t, e.markRead(readers[0], conv, hello))
	require.NoError(t, e.markRead(readers[1], conv, hi))
	require.NoError(t, e.markDelivered(readers[2], conv, hello))
	r := e.receipts(t, owner, conv, hello, 0, 0)
	requireProtoEqual(t, &messagepb.GetReceiptsResponse{
		MemberCount: 4, DeliveredCount: 3, ReadCount: 2,
		ReadUserId: ids(readers[0], readers[1]), DeliveredUserId: ids(readers[2]),
	}, r)
	require.Equal(t, r, e.receipts(t, readers[3], conv, hello, 0, 0), "members may ask")
	_, err := e.msgs.GetReceipts(late.ctx, &messagepb.GetReceiptsRequest{ConversationId: conv, Seq: hello})
	testkit.RequireCode(t, err, codes.NotFound) // from before its join: not its to see

	// Pages by user id.
	var read, delivered []uint64
	after := uint64(0)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		p := e.receipts(t, owner, conv, hello, after, 1)
		require.Equal(t, uint64(3), p.GetDeliveredCount())
		read, delivered = append(read, p.GetReadUserId()...), append(delivered, p.GetDeliveredUserId()...)
		if after = p.GetNextAfterUserId(); after == 0 {
			break
		}
	}
	require.Equal(t, r.GetReadUserId(), read)
	require.Equal(t, r.GetDeliveredUserId(), delivered)
}

func TestGroupReceiptFramesAreCoalescedPerSender(t *testing.T) {
	t.Parallel()
	e := setup(t)
	us := e.newUsers(t, 5)
	owner, members := us[0], us[1:]
	g := e.groupOf(t, owner, members...)
	conv := groupConvID(g.GetId())
	// The members who will mark first catch up on the joins' events. An
	// event is a message from its joiner, so these moves tell the later
	// joiners: members[1]'s tells members[2] and members[3] at once,
	// members[2]'s members[3] at the end of that window. Then nothing is
	// pending, and the moves below pass over the two messages only.
	joins := e.lastSeq(t, conv)
	require.Equal(t, uint64(len(members)), joins)
	for _, m := range members[1:3] {
		require.NoError(t, e.markRead(m, conv, joins))
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		to, _ := e.receiptFrames(t)
		assert.ElementsMatch(c, []uint64{members[2].id, members[3].id, members[3].id}, to)
	}, 3*time.Second, 50*time.Millisecond)
	caughtUp := 3

	fromOwner := e.seqOf(t, e.sendText(t, owner, toGroup(g.GetId()), "from the owner"))
	fromMember := e.seqOf(t, e.sendText(t, members[0], toGroup(g.GetId()), "from the first member"))

	require.NoError(t, e.markRead(members[1], conv, fromMember)) // over both messages: both senders
	require.NoError(t, e.markRead(members[2], conv, fromOwner))  // over the owner's only
	require.NoError(t, e.markDelivered(members[3], conv, fromMember))
	to, frames := e.receiptFrames(t)
	to, frames = to[caughtUp:], frames[caughtUp:]
	require.ElementsMatch(t, []uint64{owner.id, members[0].id}, to, "the first move goes at once, to each sender")
	for _, f := range frames {
		requireProtoEqual(t, &messagepb.Receipt{ConversationId: conv, UserId: members[1].id, DeliveredSeq: fromMember, ReadSeq: fromMember}, f)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		to, _ := e.receiptFrames(t)
		assert.Len(c, to, caughtUp+4)
	}, 3*time.Second, 50*time.Millisecond)
	to, frames = e.receiptFrames(t)
	to, frames = to[caughtUp:], frames[caughtUp:]
	byTo := map[uint64]*messagepb.Receipt{to[2]: frames[2], to[3]: frames[3]}
	require.Len(t, byTo, 2, "one more frame each, at the window's end")
	ownerFrame := byTo[owner.id]
	require.Equal(t, []uint64{members[2].id, members[3].id}, sorted(ownerFrame.GetUserId(), ownerFrame.GetOthers()[0].GetUserId()))
	// members[3] joined last: its JOINED event, the last of the joins, is
	// its own, so read by it.
	requireProtoEqual(t, &messagepb.Receipt{ConversationId: conv, UserId: members[3].id, DeliveredSeq: fromMember, ReadSeq: joins}, byTo[members[0].id])

	time.Sleep(1500 * time.Millisecond)
	to, _ = e.receiptFrames(t)
	require.Len(t, to, caughtUp+4, "a window with no move sends nothing")
}

func TestReceiptsAboveTheCapAreCountsOnly(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.ReceiptGroupCap = 2 })
	us := e.newUsers(t, 3)
	g := e.groupOf(t, us[0], us[1], us[2])
	conv := groupConvID(g.GetId())
	hello := e.seqOf(t, e.sendText(t, us[0], toGroup(g.GetId()), "hello"))
	require.NoError(t, e.markRead(us[1], conv, hello))
	requireProtoEqual(t, &messagepb.GetReceiptsResponse{MemberCount: 2, DeliveredCount: 1, ReadCount: 1}, e.receipts(t, us[0], conv, hello, 0, 0))
	time.Sleep(100 * time.Millisecond)
	_, frames := e.receiptFrames(t)
	require.Empty(t, frames)
}

// A member's marks tell only the senders of messages it could see: a member
// the owner adds, marking its first message, tells nobody about what was
// sent before it joined.
func TestReceiptFramesSkipWhatTheMarkerNeverSaw(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, alice, bob := e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.groupOf(t, owner, alice)
	conv := groupConvID(g.GetId())
	e.sendText(t, alice, toGroup(g.GetId()), "before bob")
	_, err := e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: bob.id})
	require.NoError(t, err)
	bobsFirst := e.lastSeq(t, conv) // the owner's event of adding him
	before, _ := e.receiptFrames(t)

	require.NoError(t, e.markRead(bob, conv, bobsFirst))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		to, _ := e.receiptFrames(t)
		assert.Equal(c, []uint64{owner.id}, to[len(before):], "the sender of bob's first message")
	}, 3*time.Second, 50*time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // past the coalescing window: a frame held for alice would be out
	to, _ := e.receiptFrames(t)
	require.NotContains(t, to[len(before):], alice.id, "alice's message was sent before bob joined")
}
