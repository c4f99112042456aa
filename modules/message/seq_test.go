package message_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/parley-im/parley/api/gen/messagepb"
	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/modules/message"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
)

// concurrently runs workers goroutines, released together, each calling
// send perWorker times, and returns every id and error.
func concurrently(workers, perWorker int, send func(worker, i int) (uint64, error)) ([]uint64, []error) {
	ids := make([]uint64, workers*perWorker)
	errs := make([]error, workers*perWorker)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range perWorker {
				ids[w*perWorker+i], errs[w*perWorker+i] = send(w, i)
			}
		})
	}
	close(start)
	wg.Wait()
	return ids, errs
}

// requireGapFree checks that conversation convID holds, after the before
// messages it held first (reader's view of them, stored and pushed
// before), exactly the messages ids, all with seqs 1..len(before)+len(ids)
// without a gap, and that the bus saw each of ids once, in seq order,
// addressed to recipients.
func requireGapFree(t *testing.T, e *env, reader person, convID string, before []*messagepb.Message, ids []uint64, recipients []uint64) {
	t.Helper()
	n := len(before) + len(ids)
	msgs := e.syncAll(t, reader, convID)
	require.Equal(t, oneTo(n), seqs(msgs), "seqs 1..%d, no gaps, no duplicates", n)
	for i, m := range before {
		requireProtoEqual(t, m, msgs[i])
	}
	stored := make([]uint64, len(ids))
	for i, m := range msgs[len(before):] {
		require.False(t, isGroupEvent(m), "no event after the first %d messages: %v", len(before), m)
		stored[i] = m.GetId()
	}
	require.Equal(t, sorted(ids...), sorted(stored...), "the stored messages are the ones whose ids were returned")
	require.Equal(t, n, e.rowCount(t, convID))

	pushed := e.rec.ofConversation(t, convID)
	require.Len(t, pushed, n, "one delivery per message")
	for i, d := range pushed {
		require.Equal(t, uint64(i+1), d.msg.GetSeq(), "deliveries leave in seq order")
		requireProtoEqual(t, msgs[i], d.msg)
		if i >= len(before) {
			require.Equal(t, recipients, d.userIDs)
		}
	}
}

// TestSeqsAreGapFreeUnderConcurrency has 20 concurrent senders write into
// one conversation.
func TestSeqsAreGapFreeUnderConcurrency(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 20, 4 // 40 sends per user in the 1:1, below the default burst

	t.Run("user", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		pair := e.newUsers(t, 2)
		e.rec.setJitter(true)
		sent, errs := concurrently(workers, perWorker, func(w, i int) (uint64, error) {
			from, to := pair[w%2], pair[1-w%2]
			return e.send(from.ctx, toUser(to.id), text(fmt.Sprintf("w%d m%d", w, i)))
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		requireGapFree(t, e, pair[0], pairID(pair[0].id, pair[1].id), nil, sent, ids(pair...))
	})

	t.Run("group", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		members := e.newUsers(t, workers)
		g := e.groupOf(t, members[0], members[1:]...)
		conv := groupConvID(g.GetId())
		// The joins came first: their events, each pushed to the members
		// it had then, the joiner included.
		joins, pushedJoins := e.syncAll(t, members[0], conv), e.rec.ofConversation(t, conv)
		require.Len(t, joins, workers-1)
		require.Len(t, pushedJoins, workers-1)
		for i, m := range joins {
			requireEvent(t, joined(members[i+1].id, members[i+1].id), m)
			require.Equal(t, ids(members[:i+2]...), pushedJoins[i].userIDs)
		}
		e.rec.setJitter(true)
		sent, errs := concurrently(workers, perWorker, func(w, i int) (uint64, error) {
			return e.send(members[w].ctx, toGroup(g.GetId()), text(fmt.Sprintf("w%d m%d", w, i)))
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		requireGapFree(t, e, members[0], conv, joins, sent, ids(members...))
	})
}

// TestGroupMessageIsOneRow: a group message is stored once, however many
// members it reaches.
func TestGroupMessageIsOneRow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	members := e.newUsers(t, 30)
	g := e.groupOf(t, members[0], members[1:]...)
	conv := groupConvID(g.GetId())

	rows := e.rowCount(t, conv)
	require.Equal(t, len(members)-1, rows, "a row per join: its event")
	var sent []uint64
	for _, from := range []person{members[0], members[17], members[29]} {
		sent = append(sent, e.sendText(t, from, toGroup(g.GetId()), "to all thirty"))
	}
	require.Equal(t, rows+len(sent), e.rowCount(t, conv))
	require.Equal(t, len(sent), e.userRowCount(t, conv))
	for _, id := range sent {
		pushed := e.rec.ofMessage(t, id)
		require.Len(t, pushed, 1)
		require.Equal(t, ids(members...), pushed[0].userIDs, "every member, the sender included")
	}
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, message.IdempotencyKeyHeader, key)
}

// TestIdempotentSend: a repeated idempotency key returns the first send's id
// and neither stores nor pushes again.
func TestIdempotentSend(t *testing.T) {
	t.Parallel()
	e := setup(t)
	alice, bob := e.newUser(t), e.newUser(t)
	conv := pairID(alice.id, bob.id)

	key := testkit.Unique("key-")
	first, err := e.send(withKey(alice.ctx, key), toUser(bob.id), text("hello"))
	require.NoError(t, err)
	again, err := e.send(withKey(alice.ctx, key), toUser(bob.id), text("hello (retried)"))
	require.NoError(t, err)
	require.Equal(t, first, again, "the retry returns the first send's id")
	require.Equal(t, 1, e.rowCount(t, conv))
	require.Len(t, e.rec.ofConversation(t, conv), 1, "the retry is not pushed")

	t.Run("concurrent retries", func(t *testing.T) {
		key := testkit.Unique("key-")
		got, errs := concurrently(10, 1, func(w, _ int) (uint64, error) {
			return e.send(withKey(alice.ctx, key), toUser(bob.id), text(fmt.Sprintf("attempt %d", w)))
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		for _, id := range got {
			require.Equal(t, got[0], id, "every attempt gets the same id")
		}
		require.NotEqual(t, first, got[0])
		require.Equal(t, 2, e.rowCount(t, conv))
		require.Len(t, e.rec.ofMessage(t, got[0]), 1, "pushed once")
	})

	t.Run("another key", func(t *testing.T) {
		id, err := e.send(withKey(alice.ctx, testkit.Unique("key-")), toUser(bob.id), text("hello"))
		require.NoError(t, err)
		require.NotEqual(t, first, id)
		require.Equal(t, 3, e.rowCount(t, conv))
	})

	t.Run("another sender with the same key", func(t *testing.T) {
		id, err := e.send(withKey(bob.ctx, key), toUser(alice.id), text("hello"))
		require.NoError(t, err)
		require.NotEqual(t, first, id)
		require.Equal(t, 4, e.rowCount(t, conv))
		require.Len(t, e.rec.ofMessage(t, id), 1)
	})

	t.Run("key length", func(t *testing.T) {
		_, err := e.send(withKey(alice.ctx, strings.Repeat("k", 65)), toUser(bob.id), text("hello"))
		requireInvalid(t, err, message.IdempotencyKeyHeader)
		require.Equal(t, 4, e.rowCount(t, conv))

		_, err = e.send(withKey(alice.ctx, strings.Repeat("k", 64)), toUser(bob.id), text("hello"))
		require.NoError(t, err)
		require.Equal(t, 5, e.rowCount(t, conv))
	})

	t.Run("no key", func(t *testing.T) {
		a := e.sendText(t, alice, toUser(bob.id), "same words")
		b := e.sendText(t, alice, toUser(bob.id), "same words")
		require.NotEqual(t, a, b, "without a key, two sends are two messages")
		require.Equal(t, 7, e.rowCount(t, conv))
	})

	// Repeats took no seq, and were not pushed.
	require.Equal(t, oneTo(7), seqs(e.syncAll(t, bob, conv)))
	require.Len(t, e.rec.messages(t, func(*messagepb.Message) bool { return true }), 7)
}

// TestSendRateLimit: past the burst, a user's sends are refused until tokens
// come back; other users are not affected.
func TestSendRateLimit(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(cfg *config.Config, _ *parley.Options) { cfg.SendRate, cfg.SendBurst = 1, 3 })
	u := e.newUsers(t, 3)
	alice, bob, carol := u[0], u[1], u[2]
	g := e.groupOf(t, alice, bob)
	groupRows := e.rowCount(t, groupConvID(g.GetId())) // bob's join

	for i := range 3 {
		e.sendText(t, alice, toUser(bob.id), fmt.Sprintf("burst %d", i))
	}
	_, err := e.send(alice.ctx, toUser(bob.id), text("one too many"))
	st := testkit.RequireCode(t, err, codes.ResourceExhausted)
	require.NotEmpty(t, st.Message())
	_, err = e.send(alice.ctx, toGroup(g.GetId()), text("the group then?"))
	testkit.RequireCode(t, err, codes.ResourceExhausted)
	require.Equal(t, 3, e.rowCount(t, pairID(alice.id, bob.id)))
	require.Equal(t, groupRows, e.rowCount(t, groupConvID(g.GetId())), "a refused send stores nothing")

	// Others still have their own burst.
	for i := range 3 {
		e.sendText(t, carol, toUser(bob.id), fmt.Sprintf("carol %d", i))
	}
	e.sendText(t, bob, toGroup(g.GetId()), "bob is fine")
	require.Equal(t, 3, e.rowCount(t, pairID(bob.id, carol.id)))
	require.Equal(t, groupRows+1, e.rowCount(t, groupConvID(g.GetId())))
	require.Equal(t, 3, e.rowCount(t, pairID(alice.id, bob.id)))
}

// Idempotency keys older than a day are deleted in the background, so the
// table does not grow without bound; younger ones stay.
func TestExpiredIdempotencyKeysAreDeleted(t *testing.T) {
	t.Parallel()
	e := setupWith(t, func(_ *config.Config, opts *parley.Options) { opts.KeyCleanupInterval = 50 * time.Millisecond })
	ctx := context.Background()
	sender := int64(1<<40) + time.Now().UnixNano()%1_000_000 // no real user sends with this id
	_, err := e.pool.Exec(ctx, `INSERT INTO messages.idempotency_keys (sender_id, key, message_id, created_at)
		VALUES ($1, 'old', 1, now() - interval '25 hours'), ($1, 'fresh', 2, now() - interval '23 hours')`, sender)
	require.NoError(t, err)

	keys := func() []string {
		rows, err := e.pool.Query(ctx, `SELECT key FROM messages.idempotency_keys WHERE sender_id = $1 ORDER BY key`, sender)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	require.Eventually(t, func() bool { return len(keys()) == 1 }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, []string{"fresh"}, keys())
}
