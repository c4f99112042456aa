package message_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/testkit"
)

// conversationOf is p's entry for convID in ListConversations.
func (e *env) conversationOf(t *testing.T, p person, convID string) *messagepb.Conversation {
	t.Helper()
	for _, c := range e.conversations(t, p) {
		if c.GetConversationId() == convID {
			return c
		}
	}
	t.Fatalf("%s is not in the conversation list", convID)
	return nil
}

// A newcomer reads a group from its join on: SyncMessages and the
// conversation list start at its own JOINED event (what came before counts
// as read), and the seqs it sees are gap-free from there. Leaving keeps
// nothing new; rejoining starts again from the rejoin's event. Members
// from before see it all.
func TestGroupHistoryStartsAtJoin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, alice, bob := e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.groupOf(t, owner, alice)
	conv := groupConvID(g.GetId())
	for _, m := range []string{"before 1", "before 2", "before 3"} {
		e.sendText(t, owner, toGroup(g.GetId()), m)
	}

	e.join(t, bob, g.GetId())
	join := e.lastSeq(t, conv) // bob's JOINED event, stored before JoinGroup answered
	got := e.syncAll(t, bob, conv)
	require.Equal(t, []uint64{join}, seqs(got), "nothing from before the join")
	requireEvent(t, joined(bob.id, bob.id), got[0])
	c := e.conversationOf(t, bob, conv)
	require.Equal(t, join, c.GetLastSeq())
	require.Equal(t, join, c.GetReadSeq(), "what came before the join counts as read, and its own event too")
	require.Zero(t, c.GetUnreadCount())
	requireProtoEqual(t, got[0], c.GetLastMessage())

	e.sendText(t, alice, toGroup(g.GetId()), "after 1")
	e.sendText(t, owner, toGroup(g.GetId()), "after 2")
	got = e.syncAll(t, bob, conv)
	require.Equal(t, seqRange(join, join+2), seqs(got), "from the join on, gap-free")
	require.Equal(t, "after 1", got[1].GetText().GetContent())
	require.Equal(t, []uint64{join + 2}, seqs(e.sync(t, bob, conv, join+1, 0).GetMessage()))
	require.Equal(t, seqRange(join, join+2), seqs(e.sync(t, bob, conv, 1, 0).GetMessage()), "a cursor before the join starts at the join")
	c = e.conversationOf(t, bob, conv)
	require.Equal(t, join, c.GetReadSeq())
	require.Equal(t, uint64(2), c.GetUnreadCount())
	require.Equal(t, join+2, c.GetLastMessage().GetSeq())
	require.Equal(t, oneTo(int(join+2)), seqs(e.syncAll(t, alice, conv)), "earlier members keep everything")

	_, err := e.groups.QuitGroup(bob.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
	require.NoError(t, err)
	e.sendText(t, owner, toGroup(g.GetId()), "while bob is away")
	_, err = e.msgs.SyncMessages(bob.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
	testkit.RequireCode(t, err, codes.PermissionDenied)

	e.join(t, bob, g.GetId())
	rejoin := e.lastSeq(t, conv)
	require.Equal(t, join+5, rejoin, "his leaving, the send while away and the rejoin took a seq each")
	alices := e.syncAll(t, alice, conv)
	requireEvent(t, left(bob.id), alices[join+2], "the members read that bob left")
	requireEvent(t, joined(bob.id, bob.id), alices[rejoin-1])
	got = e.syncAll(t, bob, conv)
	require.Equal(t, []uint64{rejoin}, seqs(got), "a rejoin starts again from the rejoin")
	requireEvent(t, joined(bob.id, bob.id), got[0])
	e.sendText(t, owner, toGroup(g.GetId()), "welcome back")
	require.Equal(t, []uint64{rejoin, rejoin + 1}, seqs(e.syncAll(t, bob, conv)))
}

// Scrolling back stops where a member joined: before_seq pages never
// reach below its first seq, its own JOINED event, and has_more is false on
// the page holding it. Members from before scroll back to the start; one
// who joined after the last message scrolls back to its JOINED event only.
func TestGroupScrollBackStopsAtJoin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, alice, bob, carol := e.newUser(t), e.newUser(t), e.newUser(t), e.newUser(t)
	g := e.groupOf(t, owner, alice)
	conv := groupConvID(g.GetId())
	for i := range 5 {
		e.sendText(t, owner, toGroup(g.GetId()), fmt.Sprintf("before %d", i+1))
	}
	e.join(t, bob, g.GetId())
	first := e.lastSeq(t, conv) // bob's JOINED event
	for i := range 6 {
		e.sendText(t, alice, toGroup(g.GetId()), fmt.Sprintf("after %d", i+1))
	}
	last := e.lastSeq(t, conv)
	require.Equal(t, first+6, last)
	const newest = 1<<64 - 1

	type page struct {
		seqs []uint64
		more bool
	}
	back := func(p person, before, limit uint64) page {
		t.Helper()
		resp := e.syncBefore(t, p, conv, before, limit)
		return page{seqs(resp.GetMessage()), resp.GetHasMore()}
	}
	// Bob reads 7 messages, first..last: scrolling back by 3 from the
	// newest page.
	require.Equal(t, page{seqRange(last-2, last), true}, back(bob, newest, 3))
	require.Equal(t, page{seqRange(first+1, first+3), true}, back(bob, last-2, 3))
	require.Equal(t, page{[]uint64{first}, false}, back(bob, first+1, 3), "the page at the join is the last")
	require.Equal(t, page{[]uint64{}, false}, back(bob, first, 3), "nothing before the join")
	require.Equal(t, page{[]uint64{}, false}, back(bob, first-3, 0), "a cursor inside what came before finds nothing")
	require.Equal(t, page{[]uint64{}, false}, back(bob, 1, 0))
	require.Equal(t, page{seqRange(first, last), false}, back(bob, newest, 0))
	require.Equal(t, page{seqRange(first, last), false}, back(bob, newest, 7), "a page ending exactly at the join")
	require.Equal(t, page{seqRange(first+1, last), true}, back(bob, newest, 6))
	bobs := e.syncBefore(t, bob, conv, newest, 200).GetMessage()
	requireEvent(t, joined(bob.id, bob.id), bobs[0], "bob's first message is his join")
	for _, m := range bobs {
		require.NotContains(t, m.GetText().GetContent(), "before", "bob reads nothing from before he joined")
	}

	// Members from before read back to seq 1.
	require.Equal(t, page{seqRange(1, first-1), false}, back(owner, first, 0))
	require.Equal(t, page{seqRange(first-5, first-1), true}, back(alice, first, 5))

	// Carol joins after the last message: there is only her JOINED event
	// for her yet.
	e.join(t, carol, g.GetId())
	carols := last + 1
	require.Equal(t, carols, e.lastSeq(t, conv))
	require.Equal(t, page{[]uint64{carols}, false}, back(carol, newest, 0))
	requireEvent(t, joined(carol.id, carol.id), e.syncBefore(t, carol, conv, newest, 0).GetMessage()[0])
	require.Equal(t, page{[]uint64{}, false}, back(carol, carols, 0))
	e.sendText(t, owner, toGroup(g.GetId()), "welcome")
	require.Equal(t, page{[]uint64{carols, carols + 1}, false}, back(carol, newest, 0))
	require.Equal(t, page{seqRange(carols-1, carols+1), true}, back(bob, newest, 3))
}

// The attack of the kicked member: removed by the owner, it is told of
// its removal and then can neither rejoin nor read the group; added back
// by the owner, it reads from the owner's adding it on.
func TestKickedMemberReadsNothingMore(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, carol := e.newUser(t), e.newUser(t)
	g := e.groupOf(t, owner, carol)
	conv := groupConvID(g.GetId())
	join := e.lastSeq(t, conv)
	seen := e.sendText(t, owner, toGroup(g.GetId()), "carol sees this")
	got := e.syncAll(t, carol, conv)
	require.Equal(t, []uint64{join, join + 1}, seqs(got), "her JOINED event, then the message")
	requireEvent(t, joined(carol.id, carol.id), got[0])
	require.Equal(t, seen, got[1].GetId())

	_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: g.GetId(), UserId: carol.id})
	require.NoError(t, err)
	kick := e.lastSeq(t, conv)
	unseen := e.sendText(t, owner, toGroup(g.GetId()), "after the kick")
	_, err = e.groups.JoinGroup(carol.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	_, err = e.msgs.SyncMessages(carol.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	// Her devices were pushed her removal, and nothing after it.
	var toCarol []*messagepb.Message
	for _, d := range e.rec.ofConversation(t, conv) {
		if slices.Contains(d.userIDs, carol.id) {
			toCarol = append(toCarol, d.msg)
		}
	}
	require.Equal(t, []uint64{join, join + 1, kick}, seqs(toCarol))
	requireEvent(t, kicked(owner.id, carol.id), toCarol[2])
	require.Equal(t, sorted(owner.id), e.rec.ofMessage(t, unseen)[0].userIDs)

	_, err = e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: carol.id})
	require.NoError(t, err)
	back := e.lastSeq(t, conv)
	e.sendText(t, owner, toGroup(g.GetId()), "added back")
	got = e.syncAll(t, carol, conv)
	require.Equal(t, []uint64{back, back + 1}, seqs(got))
	requireEvent(t, joined(owner.id, carol.id), got[0], "the owner let her in")
}

// Joins, leaves and sends in a random order (a fixed seed, so a failure
// repeats): after every step each member reads exactly what the
// conversation holds since its latest join — its own JOINED event first —
// the joins and leaves being events with a seq each, and anyone else
// reads nothing.
func TestGroupHistoryUnderRandomMembership(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rng := rand.New(rand.NewPCG(15, 2))
	owner := e.newUser(t)
	others := e.newUsers(t, 4)
	g := e.createGroup(t, owner)
	conv := groupConvID(g.GetId())
	var stream []string                        // what the conversation holds, by seq: describe's lines
	firstSeq := map[uint64]uint64{owner.id: 1} // a member's first seq; absent: not a member
	everyone := append([]person{owner}, others...)
	for step := range 60 {
		p := others[rng.IntN(len(others))]
		_, member := firstSeq[p.id]
		switch op := rng.IntN(3); {
		case op == 0 && member:
			_, err := e.groups.QuitGroup(p.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
			require.NoError(t, err)
			delete(firstSeq, p.id)
			stream = append(stream, describe(&messagepb.Message{Body: &messagepb.Message_GroupEvent{GroupEvent: left(p.id)}}))
		case op == 0:
			e.join(t, p, g.GetId())
			stream = append(stream, describe(&messagepb.Message{Body: &messagepb.Message_GroupEvent{GroupEvent: joined(p.id, p.id)}}))
			firstSeq[p.id] = uint64(len(stream))
		default:
			sender := owner
			if member {
				sender = p
			}
			content := fmt.Sprintf("step %d", step)
			e.sendText(t, sender, toGroup(g.GetId()), content)
			stream = append(stream, describe(&messagepb.Message{FromUserId: sender.id, Body: text(content).GetBody()}))
		}
		for _, u := range everyone {
			first, member := firstSeq[u.id]
			if !member {
				_, err := e.msgs.SyncMessages(u.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
				testkit.RequireCode(t, err, codes.PermissionDenied)
				continue
			}
			got := e.syncAll(t, u, conv)
			var lines []string
			for _, m := range got {
				lines = append(lines, describe(m))
			}
			require.Equal(t, seqRange(first, uint64(len(stream))), seqs(got), "step %d, user %d", step, u.id)
			require.Equal(t, stream[first-1:], lines, "step %d, user %d", step, u.id)
		}
	}
}

// Blocks hold through groups: Dave blocks Bob, so Bob cannot add Dave to a
// group, and once Dave is in one of Bob's groups by his own choice, Bob's
// @mention of him is refused as a mention of a non-member is; nothing is
// stored.
func TestBlocksHoldThroughGroups(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bob, dave, alice := e.newUser(t), e.newUser(t), e.newUser(t)
	_, err := e.users.BlockUser(dave.ctx, &userpb.BlockUserRequest{UserId: bob.id})
	require.NoError(t, err)
	g := e.groupOf(t, bob, alice)
	conv := groupConvID(g.GetId())
	rows := e.rowCount(t, conv) // alice's join

	_, err = e.groups.JoinGroup(bob.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: dave.id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	for _, c := range e.conversations(t, dave) {
		require.NotEqual(t, conv, c.GetConversationId(), "dave was not added")
	}
	require.Equal(t, rows, e.rowCount(t, conv), "a refused add stores no event")
	_, err = e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: dave.id})
	require.NoError(t, err, "dave does not block alice, who may add him")
	daves := e.syncAll(t, dave, conv)
	require.Len(t, daves, 1)
	requireEvent(t, joined(alice.id, dave.id), daves[0])
	rows++

	_, err = e.send(bob.ctx, toGroup(g.GetId(), dave.id), text("hey @dave"))
	requireInvalid(t, err, "at_user_id")
	_, err = e.send(bob.ctx, toGroup(g.GetId(), alice.id, dave.id), text("hey both"))
	requireInvalid(t, err, "at_user_id")
	require.Equal(t, rows, e.rowCount(t, conv), "a refused mention stores nothing")
	e.sendText(t, alice, toGroup(g.GetId(), dave.id), "alice may mention dave")
	_, err = e.send(bob.ctx, toGroup(g.GetId(), alice.id), text("hey alice"))
	require.NoError(t, err)
}

// On several nodes, sends begun in one order may take their seqs in
// another: a send begun after the join but held up (here on its
// idempotency key) takes a later seq than one begun after it on another
// node. The newcomer still reads both.
func TestGroupHistoryAcrossNodesKeepsSendsAfterTheJoin(t *testing.T) {
	t.Parallel()
	node1, node2 := setup(t), setup(t) // two nodes over one database
	owner, alice, bob := node1.newUser(t), node1.newUser(t), node1.newUser(t)
	g := node1.groupOf(t, owner, alice)
	node1.join(t, bob, g.GetId())
	conv := groupConvID(g.GetId())
	join := node1.lastSeq(t, conv) // bob's JOINED event

	// A transaction holding alice's idempotency key holds her send up
	// after it has begun.
	ctx := context.Background()
	hold, err := node1.pool.Begin(ctx)
	require.NoError(t, err)
	defer hold.Rollback(ctx) //nolint:errcheck
	_, err = hold.Exec(ctx, "INSERT INTO messages.idempotency_keys (sender_id, key) VALUES ($1, 'held')", int64(alice.id))
	require.NoError(t, err)
	sent := make(chan error, 1)
	go func() {
		_, err := node1.send(metadata.AppendToOutgoingContext(alice.ctx, "idempotency-key", "held"), toGroup(g.GetId()), text("begun first"))
		sent <- err
	}()
	time.Sleep(300 * time.Millisecond) // alice's send has begun and waits
	node2.sendText(t, owner, toGroup(g.GetId()), "begun second, the first seq after the join")
	require.NoError(t, hold.Rollback(ctx))
	require.NoError(t, <-sent)

	got := node1.syncAll(t, bob, conv)
	require.Equal(t, seqRange(join, join+2), seqs(got), "his JOINED event, then both: they were sent after bob joined")
	requireEvent(t, joined(bob.id, bob.id), got[0])
	require.Equal(t, "begun second, the first seq after the join", got[1].GetText().GetContent())
	require.Equal(t, "begun first", got[2].GetText().GetContent())
}
