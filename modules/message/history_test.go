package message_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
// conversation list start there (what came before counts as read), and the
// seqs it sees are gap-free from that first one. Leaving keeps nothing new;
// rejoining starts again from the rejoin. Members from before see it all.
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
	require.Empty(t, e.syncAll(t, bob, conv), "nothing from before the join")
	c := e.conversationOf(t, bob, conv)
	require.Equal(t, uint64(3), c.GetLastSeq())
	require.Equal(t, uint64(3), c.GetReadSeq(), "what came before the join counts as read")
	require.Zero(t, c.GetUnreadCount())
	require.Nil(t, c.GetLastMessage(), "the last message is from before the join")

	e.sendText(t, alice, toGroup(g.GetId()), "after 4")
	e.sendText(t, owner, toGroup(g.GetId()), "after 5")
	got := e.syncAll(t, bob, conv)
	require.Equal(t, []uint64{4, 5}, seqs(got), "from the first message since the join, gap-free")
	require.Equal(t, "after 4", got[0].GetText().GetContent())
	require.Equal(t, []uint64{5}, seqs(e.sync(t, bob, conv, 4, 0).GetMessage()))
	require.Equal(t, []uint64{4, 5}, seqs(e.sync(t, bob, conv, 1, 0).GetMessage()), "a cursor before the join starts at the join")
	c = e.conversationOf(t, bob, conv)
	require.Equal(t, uint64(3), c.GetReadSeq())
	require.Equal(t, uint64(2), c.GetUnreadCount())
	require.Equal(t, uint64(5), c.GetLastMessage().GetSeq())
	require.Equal(t, oneTo(5), seqs(e.syncAll(t, alice, conv)), "earlier members keep everything")

	_, err := e.groups.QuitGroup(bob.ctx, &grouppb.QuitGroupRequest{Id: g.GetId()})
	require.NoError(t, err)
	e.sendText(t, owner, toGroup(g.GetId()), "while bob is away 6")
	_, err = e.msgs.SyncMessages(bob.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
	testkit.RequireCode(t, err, codes.PermissionDenied)

	e.join(t, bob, g.GetId())
	require.Empty(t, e.syncAll(t, bob, conv), "a rejoin starts again from the rejoin")
	e.sendText(t, owner, toGroup(g.GetId()), "welcome back 7")
	require.Equal(t, []uint64{7}, seqs(e.syncAll(t, bob, conv)))
}

// Scrolling back stops where a member joined: before_seq pages never
// reach below its first seq, and has_more is false on the page holding it.
// Members from before scroll back to the start; one who joined after the
// last message scrolls back to nothing.
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
	for i := range 7 {
		e.sendText(t, alice, toGroup(g.GetId()), fmt.Sprintf("after %d", i+6))
	}
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
	// Bob's first seq is 6: scrolling back by 3 from the newest page.
	require.Equal(t, page{[]uint64{10, 11, 12}, true}, back(bob, newest, 3))
	require.Equal(t, page{[]uint64{7, 8, 9}, true}, back(bob, 10, 3))
	require.Equal(t, page{[]uint64{6}, false}, back(bob, 7, 3), "the page at the join is the last")
	require.Equal(t, page{[]uint64{}, false}, back(bob, 6, 3), "nothing before the join")
	require.Equal(t, page{[]uint64{}, false}, back(bob, 3, 0), "a cursor inside what came before finds nothing")
	require.Equal(t, page{[]uint64{}, false}, back(bob, 1, 0))
	require.Equal(t, page{seqRange(6, 12), false}, back(bob, newest, 0))
	require.Equal(t, page{seqRange(6, 12), false}, back(bob, newest, 7), "a page ending exactly at the join")
	require.Equal(t, page{seqRange(7, 12), true}, back(bob, newest, 6))
	for _, m := range e.syncBefore(t, bob, conv, newest, 200).GetMessage() {
		require.NotContains(t, m.GetText().GetContent(), "before", "bob reads nothing from before he joined")
	}

	// Members from before read back to seq 1.
	require.Equal(t, page{seqRange(1, 6), false}, back(owner, 7, 0))
	require.Equal(t, page{seqRange(2, 6), true}, back(alice, 7, 5))

	// Carol joins after the last message: there is nothing for her yet.
	e.join(t, carol, g.GetId())
	require.Equal(t, page{[]uint64{}, false}, back(carol, newest, 0))
	require.Equal(t, page{[]uint64{}, false}, back(carol, 13, 0))
	e.sendText(t, owner, toGroup(g.GetId()), "welcome 13")
	require.Equal(t, page{[]uint64{13}, false}, back(carol, newest, 0))
	require.Equal(t, page{seqRange(11, 13), true}, back(bob, newest, 3))
}

// The attack of the kicked member: removed by the owner, it can neither
// rejoin nor read the group; added back by the owner, it reads from then on.
func TestKickedMemberReadsNothingMore(t *testing.T) {
	t.Parallel()
	e := setup(t)
	owner, carol := e.newUser(t), e.newUser(t)
	g := e.groupOf(t, owner, carol)
	conv := groupConvID(g.GetId())
	e.sendText(t, owner, toGroup(g.GetId()), "carol sees this 1")
	require.Equal(t, []uint64{1}, seqs(e.syncAll(t, carol, conv)))

	_, err := e.groups.QuitGroup(owner.ctx, &grouppb.QuitGroupRequest{Id: g.GetId(), UserId: carol.id})
	require.NoError(t, err)
	e.sendText(t, owner, toGroup(g.GetId()), "after the kick 2")
	_, err = e.groups.JoinGroup(carol.ctx, &grouppb.JoinGroupRequest{Id: g.GetId()})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	_, err = e.msgs.SyncMessages(carol.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
	testkit.RequireCode(t, err, codes.PermissionDenied)

	_, err = e.groups.JoinGroup(owner.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: carol.id})
	require.NoError(t, err)
	e.sendText(t, owner, toGroup(g.GetId()), "added back 3")
	require.Equal(t, []uint64{3}, seqs(e.syncAll(t, carol, conv)))
}

// Joins, leaves and sends in a random order (a fixed seed, so a failure
// repeats): after every step each member reads exactly the seqs since its
// latest join, and anyone else reads nothing.
func TestGroupHistoryUnderRandomMembership(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rng := rand.New(rand.NewPCG(15, 2))
	owner := e.newUser(t)
	others := e.newUsers(t, 4)
	g := e.createGroup(t, owner)
	conv := groupConvID(g.GetId())
	lastSeq := uint64(0)
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
		case op == 0:
			e.join(t, p, g.GetId())
			firstSeq[p.id] = lastSeq + 1
		default:
			sender := owner
			if member {
				sender = p
			}
			e.sendText(t, sender, toGroup(g.GetId()), fmt.Sprintf("step %d", step))
			lastSeq++
		}
		for _, u := range everyone {
			first, member := firstSeq[u.id]
			if !member {
				_, err := e.msgs.SyncMessages(u.ctx, &messagepb.SyncMessagesRequest{ConversationId: conv})
				testkit.RequireCode(t, err, codes.PermissionDenied)
				continue
			}
			want := []uint64{}
			for seq := first; seq <= lastSeq; seq++ {
				want = append(want, seq)
			}
			require.Equal(t, want, seqs(e.syncAll(t, u, conv)), "step %d, user %d", step, u.id)
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

	_, err = e.groups.JoinGroup(bob.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: dave.id})
	testkit.RequireCode(t, err, codes.PermissionDenied)
	for _, c := range e.conversations(t, dave) {
		require.NotEqual(t, conv, c.GetConversationId(), "dave was not added")
	}
	_, err = e.groups.JoinGroup(alice.ctx, &grouppb.JoinGroupRequest{Id: g.GetId(), UserId: dave.id})
	require.NoError(t, err, "dave does not block alice, who may add him")

	_, err = e.send(bob.ctx, toGroup(g.GetId(), dave.id), text("hey @dave"))
	requireInvalid(t, err, "at_user_id")
	_, err = e.send(bob.ctx, toGroup(g.GetId(), alice.id, dave.id), text("hey both"))
	requireInvalid(t, err, "at_user_id")
	require.Zero(t, e.rowCount(t, conv), "a refused mention stores nothing")
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
	node2.sendText(t, owner, toGroup(g.GetId()), "begun second, seq 1")
	require.NoError(t, hold.Rollback(ctx))
	require.NoError(t, <-sent)

	got := node1.syncAll(t, bob, conv)
	require.Equal(t, []uint64{1, 2}, seqs(got), "both were sent after bob joined")
	require.Equal(t, "begun first", got[1].GetText().GetContent())
}
