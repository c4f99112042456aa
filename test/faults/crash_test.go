//go:build faults

package faults

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/api/gen/messagepb"
)

// TestCrashDuringLoad kills parley with SIGKILL while users send 1:1 and
// group messages, restarts it on the same database and checks that no
// acknowledged message was lost, that seqs stay gap-free, and that retrying
// every send with its idempotency key stores each key exactly once.
func TestCrashDuringLoad(t *testing.T) {
	e := setup(t)
	srv := e.startServer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	users := e.seedUsers(ctx, "crash", 8)
	conn := dial(t, srv.GRPC)
	small := e.createGroup(ctx, conn, "crash small", users[:4])
	big := e.createGroup(ctx, conn, "crash big", users)

	readers := map[string]user{groupConv(small): users[0], groupConv(big): users[0]}
	var workers []worker
	// 12 senders: one per user, and a second one for users 0–3, so each
	// conversation has concurrent senders.
	for i := range 12 {
		u := i % 8
		peer := users[u^1]
		pair := pairConv(users[u].ID, peer.ID)
		readers[pair] = users[u]
		targets := []target{{toUser: peer.ID, conv: pair}, {toGroup: big, conv: groupConv(big)}}
		if u < 4 {
			targets = append(targets, target{toGroup: small, conv: groupConv(small)})
		}
		workers = append(workers, worker{from: users[u], targets: targets})
	}

	l := startLoad(ctx, conn, "crash", workers)
	time.Sleep(2 * time.Second)
	l.halt()
	srv.kill()
	killedAt := time.Now()
	attempts := l.wait()

	var acked, unacked, beforeKill int
	for _, a := range attempts {
		switch {
		case a.acked():
			acked++
		case a.end.Before(l.haltTime()):
			beforeKill++
			t.Errorf("send %s failed before the kill: %v", a.key, a.err)
		default:
			unacked++
		}
	}
	t.Logf("%d sends: %d acknowledged, %d failed at the kill, %d failed before it", len(attempts), acked, unacked, beforeKill)
	require.Greater(t, acked, 50, "too few sends acknowledged before the kill for the test to mean anything")
	require.Positive(t, unacked, "no send was in flight at the kill")
	require.Less(t, time.Since(killedAt), 30*time.Second, "sends in flight did not fail promptly after the kill")

	// Restart on the same database: every acknowledged message is there,
	// once, and seqs have no gaps.
	srv = e.startServer()
	conn = dial(t, srv.GRPC)
	seqBefore, keysBefore, errs := verifyConversations(ctx, conn, attempts, readers)
	for _, msg := range errs {
		t.Errorf("after restart: %s", msg)
	}
	stored := 0
	for _, a := range attempts {
		if !a.acked() {
			if _, ok := keysBefore[a.key]; ok {
				stored++
			}
		}
	}
	t.Logf("after restart: %d of the %d unacknowledged sends had been committed", stored, unacked)

	// Retry every send with its key: unacknowledged ones get stored (once),
	// acknowledged ones answer their first id.
	mc := messagepb.NewMessageServiceClient(conn)
	retried := make([]*attempt, len(attempts))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var retryErrs []string
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(attempts); i += 8 {
				a := attempts[i]
				r := &attempt{key: a.key, from: a.from, to: a.to, start: time.Now()}
				cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				r.id, r.err = send(cctx, mc, r)
				cancel()
				retried[i] = r
				var msg string
				switch {
				case r.err != nil:
					msg = fmt.Sprintf("retry of %s: %v", a.key, r.err)
				case a.acked() && r.id != a.id:
					msg = fmt.Sprintf("retry of acknowledged %s answered id %d, first answer was %d", a.key, r.id, a.id)
				case !a.acked() && keysBefore[a.key] != 0 && r.id != keysBefore[a.key]:
					msg = fmt.Sprintf("retry of %s (committed before the kill as id %d) answered id %d", a.key, keysBefore[a.key], r.id)
				}
				if msg != "" {
					mu.Lock()
					retryErrs = append(retryErrs, msg)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, msg := range retryErrs {
		t.Error(msg)
	}
	require.Empty(t, retryErrs, "retries failed")

	// Now every key is acknowledged, and each is stored exactly once with
	// the id its retry answered; seqs are still gap-free, and messages
	// acknowledged before the kill kept their seq.
	seqAfter, _, errs := verifyConversations(ctx, conn, retried, readers)
	for _, msg := range errs {
		t.Errorf("after retries: %s", msg)
	}
	for _, a := range attempts {
		if a.acked() && seqAfter[a.id] != seqBefore[a.id] {
			t.Errorf("message %s (id %d) moved from seq %d to %d", a.key, a.id, seqBefore[a.id], seqAfter[a.id])
		}
	}

	// A retry of an acknowledged key after all that still stores nothing.
	id, err := send(ctx, mc, attempts[0])
	require.NoError(t, err)
	require.Equal(t, retried[0].id, id)
	msgs, err := syncAll(ctx, conn, readers[attempts[0].to.conv], attempts[0].to.conv)
	require.NoError(t, err)
	n := 0
	for _, a := range retried {
		if a.to.conv == attempts[0].to.conv {
			n++
		}
	}
	require.Len(t, msgs, n, "a late retry stored a new message")
}
