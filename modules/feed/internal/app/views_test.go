package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/modules/feed/internal/db"
	"github.com/parley-im/parley/platform/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// A viewer counts again the next UTC day, and the days before are deleted.
func TestViewsCountAgainTheNextDay(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Pool(t)
	var feedID uint64
	require.NoError(t, pool.QueryRow(ctx,
		`INSERT INTO feeds.feeds (user_id, type, review_status) VALUES (1, 0, 2) RETURNING id`).Scan(&feedID))
	c := &clock{t: time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)}
	v := newViewCounter(db.New(pool), zerolog.Nop(), c.now)
	viewCount := func() (n int64) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT view_count FROM feeds.feeds WHERE id = $1`, feedID).Scan(&n))
		return n
	}
	days := func() (n int64) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(DISTINCT day) FROM feeds.daily_views WHERE feed_id = $1`, feedID).Scan(&n))
		return n
	}

	v.add(feedID, 7)
	v.add(feedID, 7)
	v.add(feedID, 8)
	require.EqualValues(t, 2, v.unwritten(feedID, 0))
	v.flush(ctx)
	require.EqualValues(t, 2, viewCount())
	v.add(feedID, 7)
	require.Zero(t, v.unwritten(feedID, time.Now().UnixNano()), "viewer 7 counted today")

	// A restarted node (an empty filter) sends the view again; the table
	// holds it already, so it is not counted twice.
	restarted := newViewCounter(db.New(pool), zerolog.Nop(), c.now)
	restarted.add(feedID, 7)
	restarted.flush(ctx)
	require.EqualValues(t, 2, viewCount())

	c.set(time.Date(2026, 3, 2, 0, 1, 0, 0, time.UTC))
	v.add(feedID, 7)
	require.EqualValues(t, 1, v.unwritten(feedID, time.Now().UnixNano()), "a new day counts viewer 7 again")
	v.flush(ctx)
	require.EqualValues(t, 3, viewCount())
	require.EqualValues(t, 2, days(), "yesterday's views stay, for late flushes")

	c.set(time.Date(2026, 3, 3, 0, 1, 0, 0, time.UTC))
	v.flush(ctx)
	require.EqualValues(t, 1, days(), "the day before yesterday is deleted")
}

// A filter full of views starts over instead of refusing ever more as
// false positives: the database still counts each viewer once.
func TestAFullFilterStartsOver(t *testing.T) {
	v := newViewCounter(nil, zerolog.Nop(), time.Now)
	v.add(1, 1)
	v.inSeen = seenCapacity
	v.pending = map[viewKey]struct{}{}
	v.add(1, 1)
	require.Len(t, v.pending, 1, "viewer 1 is sent again, to a filter started over")
	require.Equal(t, 1, v.inSeen)
}

// Views beyond the pending cap are dropped (counted low, never high), and
// the pending views stay bounded.
func TestPendingViewsAreCapped(t *testing.T) {
	v := newViewCounter(nil, zerolog.Nop(), time.Now)
	for viewer := range uint64(maxPending + 10) {
		v.add(1, viewer)
	}
	require.Len(t, v.pending, maxPending)
	require.EqualValues(t, maxPending, v.unwritten(1, 0))
}
