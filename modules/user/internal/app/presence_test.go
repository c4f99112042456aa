package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/bus"
	"github.com/parley-im/parley/platform/testdb"
)

// 5,000 users coming online at once cost a handful of transactions, not
// 5,000: the writer takes whatever piled up as one batch, written in
// chunks of presenceChunk. At shutdown one transaction ends them all.
func TestPresenceBatchesTransitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	require.NoError(t, err)
	var uses atomic.Int64 // connections handed back: one per transaction or lone query
	cfg.AfterRelease = func(*pgx.Conn) bool { uses.Add(1); return true }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	const n = 5000
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "batch" + hex.EncodeToString(b) + "-"
	// Hidden users: their transitions are told to no one, so the only
	// queries are the writer's.
	rows, err := pool.Query(ctx, `INSERT INTO users.users (nickname, nickname_folded, password_hash, hide_presence)
		SELECT $1 || g, $1 || g, 'x', true FROM generate_series(1, $2::int) g RETURNING id`, prefix, n)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	require.Len(t, ids, n)

	local := bus.NewLocal()
	var pushes atomic.Int64
	local.Subscribe(func(bus.Delivery) { pushes.Add(1) })
	s := New(pool, Config{})
	tracker := s.NewTracker(PresenceConfig{NodeID: "batch-" + hex.EncodeToString(b), Bus: local, Grace: time.Hour, Beat: time.Hour})
	for _, id := range ids {
		tracker.UserOnline(uint64(id), true)
	}
	sessions := func() int {
		var c int
		require.NoError(t, testdb.Pool(t).QueryRow(ctx,
			`SELECT count(*) FROM users.presence_sessions WHERE user_id = ANY($1)`, ids).Scan(&c))
		return c
	}
	uses.Store(0)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); tracker.Run(runCtx) }()
	require.Eventually(t, func() bool { return sessions() == n }, time.Minute, 50*time.Millisecond)
	written := uses.Load()
	t.Logf("%d users online in %d transactions", n, written)
	require.LessOrEqual(t, written, int64(1+n/presenceChunk+2), "the claim and a transaction per chunk of %d", presenceChunk)

	uses.Store(0)
	stop()
	<-done
	require.Zero(t, sessions(), "the sessions end with the node")
	require.LessOrEqual(t, uses.Load(), int64(2), "in one transaction")
	require.Zero(t, pushes.Load(), "hidden users are told to no one")
	var seen int
	require.NoError(t, testdb.Pool(t).QueryRow(ctx,
		`SELECT count(*) FROM users.users WHERE id = ANY($1) AND last_seen_at > now() - interval '1 minute'`, ids).Scan(&seen))
	require.Equal(t, n, seen, "last seen when the node stopped")
}
