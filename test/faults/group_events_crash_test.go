//go:build faults

package faults

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/grouppb"
	"github.com/parley-im/parley/api/gen/messagepb"
)

// TestCrashDuringGroupEvents kills parley with SIGKILL, three times, while
// users join an open group concurrently: each join commits its membership
// and its event in the groups.events outbox together, and the event is
// stored in the group's conversation after. The kills leave events
// recorded but not yet stored (the first round's all of them: the database
// refuses to store them until the kill). After each restart, and once every
// failed join has been retried, the conversation must hold exactly one
// JOINED event per member (never two, none for a non-member), every
// acknowledged join must be a member, and the seqs have no gaps.
func TestCrashDuringGroupEvents(t *testing.T) {
	e := setup(t)
	srv := e.startServer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const rounds, perRound = 3, 80
	users := e.seedUsers(ctx, "joiner", 1+rounds*perRound)
	owner, joiners := users[0], users[1:]
	gid := e.createGroup(ctx, dial(t, srv.GRPC), "events", users[:1])

	db, err := pgx.Connect(ctx, e.dbURL)
	require.NoError(t, err)
	defer db.Close(ctx)
	outbox := func() int {
		var n int
		require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM groups.events`).Scan(&n))
		return n
	}

	// In the first round the database refuses to store group events, as a
	// failing store would: every join's event stays in the outbox until the
	// kill, so the restarted server surely has some to relay. The later
	// rounds race the kill with the relay as it runs.
	refuseEvents := func(on bool) {
		stmt := `DROP TRIGGER refuse_group_events ON messages.messages`
		if on {
			stmt = `
				CREATE OR REPLACE FUNCTION public.refuse_group_events() RETURNS trigger LANGUAGE plpgsql
				AS $$ BEGIN RAISE EXCEPTION 'the test refuses group events'; END $$;
				CREATE TRIGGER refuse_group_events BEFORE INSERT ON messages.messages
				FOR EACH ROW WHEN (NEW.type = 7) EXECUTE FUNCTION public.refuse_group_events()`
		}
		_, err := db.Exec(ctx, stmt)
		require.NoError(t, err)
	}

	rnd := rand.New(rand.NewPCG(20, 0x6e7))
	acked := map[uint64]bool{}
	var failed []user
	backlog := 0 // events recorded but not relayed when a kill struck
	for r := range rounds {
		if r == 0 {
			refuseEvents(true)
		}
		batch := joiners[r*perRound : (r+1)*perRound]
		rnd.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		gc := grouppb.NewGroupServiceClient(dial(t, srv.GRPC))
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			next = make(chan user)
		)
		for range 16 {
			wg.Go(func() {
				for u := range next {
					cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					_, err := gc.JoinGroup(u.ctx(cctx), &grouppb.JoinGroupRequest{Id: gid})
					cancel()
					mu.Lock()
					if err == nil {
						acked[u.ID] = true
					} else {
						failed = append(failed, u)
					}
					mu.Unlock()
				}
			})
		}
		// Kill once about half the round's joins are in.
		killAt := perRound/2 + rnd.IntN(perRound/4)
		for i, u := range batch {
			if i == killAt {
				srv.kill()
				backlog += outbox()
			}
			next <- u
		}
		close(next)
		wg.Wait()
		if r == 0 {
			refuseEvents(false)
		}
		srv = e.startServer()
		require.Eventually(t, func() bool { return outbox() == 0 }, 30*time.Second, 50*time.Millisecond,
			"the restarted server relays what the killed one left")
	}
	require.Positive(t, backlog, "no kill left an event unrelayed: the test did not test the relay")
	t.Logf("%d joins acknowledged, %d failed by the kills; %d events were waiting at the kills", len(acked), len(failed), backlog)

	// Retried, every failed join succeeds; one already in changes nothing.
	gc := grouppb.NewGroupServiceClient(dial(t, srv.GRPC))
	for _, u := range failed {
		_, err := gc.JoinGroup(u.ctx(ctx), &grouppb.JoinGroupRequest{Id: gid})
		require.NoError(t, err)
		acked[u.ID] = true
	}
	require.Eventually(t, func() bool { return outbox() == 0 }, 30*time.Second, 50*time.Millisecond)

	members := map[uint64]bool{}
	rows, err := db.Query(ctx, `SELECT user_id FROM groups.members WHERE group_id = $1`, int64(gid))
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	for _, id := range ids {
		members[uint64(id)] = true
	}
	for id := range acked {
		require.True(t, members[id], "user %d was told it joined but is not a member", id)
	}

	msgs, err := syncAll(ctx, dial(t, srv.GRPC), owner, groupConv(gid))
	require.NoError(t, err)
	require.NoError(t, checkSeqs(groupConv(gid), msgs))
	joined := map[uint64]int{}
	for _, m := range msgs {
		require.Equal(t, messagepb.MESSAGE_TYPE_GROUP_EVENT, m.GetType(), "only events were stored")
		ev := m.GetGroupEvent()
		require.Equal(t, grouppb.GroupEvent_KIND_JOINED, ev.GetKind())
		require.Equal(t, ev.GetUserId(), ev.GetActorId(), "a user joining by itself is the event's actor")
		require.Equal(t, ev.GetActorId(), m.GetFromUserId())
		joined[ev.GetUserId()]++
	}
	for id := range members {
		if id == owner.ID {
			continue
		}
		require.Equal(t, 1, joined[id], "member %d: JOINED events", id)
	}
	for id, n := range joined {
		require.True(t, members[id], "an event for %d, who is not a member (%d of them)", id, n)
	}
	require.Len(t, joined, len(members)-1, "one event per member but the owner")
}
