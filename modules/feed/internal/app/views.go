package app

import (
	"cmp"
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/rs/zerolog"

	"github.com/parley-im/parley/modules/feed/internal/db"
	"github.com/parley-im/parley/platform/database"
)

// viewCounter counts FeedGet's views: a viewer counts once per feed per UTC
// day, on every node. Views are collected in memory and written once per
// flush interval, one statement for all of them, so reads do not each cost
// a write: the statement records each (day, feed, viewer) in
// feeds.daily_views and adds to a feed's view_count only the views that
// table did not hold yet. A crash loses at most the last interval's views.
//
// A node remembers the views it sent today in a Bloom filter of fixed size
// (seenCapacity views at 1 % false positives), so a viewer reading a feed
// again on the same node is not even sent; a false positive drops a view,
// so counts err low, never high. A filter that has taken seenCapacity views
// starts empty again (the database still counts each viewer once), so no
// flood of views raises the rate of false positives. Pending views are
// capped at maxPending.
//
// A reader adds the views not yet in the row it read: the pending ones, and
// those of recent flushes that had not committed when it read the row. Each
// flush stamps the rows it updates with its generation (view_flush_gen), so
// the reader can tell which flushes its row already holds. A view that
// another node already counted shows in this node's answers until its flush
// returns (one interval at most), then no more.
type viewCounter struct {
	q   *db.Queries
	log zerolog.Logger
	now func() time.Time

	mu      sync.Mutex
	day     time.Time          // the UTC day seen is for
	seen    *bloom.BloomFilter // views sent (or pending) on day
	inSeen  int                // views added to seen
	pruned  time.Time          // the day older rows were last deleted for
	pending map[viewKey]struct{}
	perFeed map[uint64]int64 // pending views per feed
	flushes []flushBatch     // the latest flushes, in flight or committed, oldest first
}

type viewKey struct {
	day            time.Time
	feed, viewerID uint64
}

// flushBatch is one flush's views per feed and generation: the views it
// sent until the database answers, then the views it counted.
type flushBatch struct {
	gen   int64
	views map[uint64]int64
}

const (
	keptFlushes  = 8
	seenCapacity = 2_000_000 // ~2.3 MiB of filter per node
	maxPending   = 200_000   // views waiting for a flush, ~20 MiB at most
)

func newViewCounter(q *db.Queries, log zerolog.Logger, now func() time.Time) *viewCounter {
	return &viewCounter{q: q, log: log, now: now, pending: map[viewKey]struct{}{}, perFeed: map[uint64]int64{}}
}

func utcDay(t time.Time) time.Time {
	return t.UTC().Truncate(24 * time.Hour)
}

// add counts viewerID's view of feedID unless it counted one today.
func (v *viewCounter) add(feedID, viewerID uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	day := utcDay(v.now())
	if !day.Equal(v.day) || v.inSeen >= seenCapacity {
		v.day, v.seen, v.inSeen = day, bloom.NewWithEstimates(seenCapacity, 0.01), 0
	}
	var key [16]byte
	binary.BigEndian.PutUint64(key[:8], feedID)
	binary.BigEndian.PutUint64(key[8:], viewerID)
	if len(v.pending) >= maxPending || v.seen.TestOrAdd(key[:]) {
		return
	}
	v.inSeen++
	v.pending[viewKey{day: day, feed: feedID, viewerID: viewerID}] = struct{}{}
	v.perFeed[feedID]++
}

// unwritten returns the views of feedID missing from a row read with
// view_flush_gen rowGen.
func (v *viewCounter) unwritten(feedID uint64, rowGen int64) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := v.perFeed[feedID]
	for _, f := range v.flushes {
		if rowGen < f.gen {
			n += f.views[feedID]
		}
	}
	return n
}

// run flushes every interval until ctx ends, then flushes once more.
func (v *viewCounter) run(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v.flush(flushCtx)
			cancel()
			return
		case <-ticker.C:
			v.flush(ctx)
		}
	}
}

// flush writes the pending views, and once a day deletes the days before.
// What fails to be written is put back for the next flush.
func (v *viewCounter) flush(ctx context.Context) {
	v.prune(ctx)
	// Generations are times, so they keep growing across restarts.
	gen := time.Now().UnixNano()
	v.mu.Lock()
	batch, perFeed := v.pending, v.perFeed
	if len(batch) == 0 {
		v.mu.Unlock()
		return
	}
	v.pending, v.perFeed = map[viewKey]struct{}{}, map[uint64]int64{}
	v.flushes = append(v.flushes, flushBatch{gen: gen, views: perFeed})
	if len(v.flushes) > keptFlushes {
		v.flushes = v.flushes[1:]
	}
	v.mu.Unlock()

	// In key order, so two nodes' inserts wait on each other in one order.
	// Their updates of a feed row may still deadlock; PostgreSQL then fails
	// one flush, and its views are sent again at the next.
	keys := make([]viewKey, 0, len(batch))
	for k := range batch {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b viewKey) int {
		return cmp.Or(a.day.Compare(b.day), cmp.Compare(a.feed, b.feed), cmp.Compare(a.viewerID, b.viewerID))
	})
	days, feeds, viewers := make([]pgtype.Date, len(keys)), make([]uint64, len(keys)), make([]uint64, len(keys))
	for i, k := range keys {
		days[i] = pgtype.Date{Time: k.day, Valid: true}
		feeds[i], viewers[i] = k.feed, k.viewerID
	}
	params := db.AddDailyViewsParams{Gen: gen, Days: days, FeedIds: database.BigintArray(feeds), ViewerIds: database.BigintArray(viewers)}
	counted, err := v.q.AddDailyViews(ctx, params)

	v.mu.Lock()
	defer v.mu.Unlock()
	if err == nil {
		views := make(map[uint64]int64, len(counted))
		for _, c := range counted {
			views[c.ID] = c.N
		}
		if i := v.indexOf(gen); i >= 0 {
			v.flushes[i].views = views
		}
		return
	}
	v.log.Warn().Err(err).Int("views", len(batch)).Msg("writing view counts failed; retrying at the next flush")
	if i := v.indexOf(gen); i >= 0 {
		v.flushes = slices.Delete(v.flushes, i, i+1)
	}
	for k := range batch {
		if len(v.pending) < maxPending {
			v.pending[k] = struct{}{}
			v.perFeed[k.feed]++
		}
	}
}

// indexOf finds flush gen among the kept ones (-1 once it is dropped).
func (v *viewCounter) indexOf(gen int64) int {
	return slices.IndexFunc(v.flushes, func(f flushBatch) bool { return f.gen == gen })
}

// prune deletes the views of days before yesterday, once a day per node:
// yesterday's stay, for views sent late (a flush that failed or ran just
// after midnight, a node whose clock is behind).
func (v *viewCounter) prune(ctx context.Context) {
	today := utcDay(v.now())
	if today.Equal(v.pruned) {
		return
	}
	if err := v.q.PruneDailyViews(ctx, pgtype.Date{Time: today.AddDate(0, 0, -1), Valid: true}); err != nil {
		v.log.Warn().Err(err).Msg("deleting the views of past days failed; retrying at the next flush")
		return
	}
	v.pruned = today
}
