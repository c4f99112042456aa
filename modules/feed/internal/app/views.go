package app

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/parley-im/parley/modules/feed/internal/db"
)

// viewCounter batches FeedGet's view counts: each view is counted in memory
// at once and written to the feed rows once per flush interval, one UPDATE
// for all the feeds viewed meanwhile, so reads do not each cost a write. A
// crash loses at most the last interval's views.
//
// A reader adds the views not yet in the row it read: the pending ones, and
// those of recent flushes that had not committed when it read the row. Each
// flush stamps the rows it updates with its generation (view_flush_gen), so
// the reader can tell which flushes its row already holds. A reader slower
// than keptFlushes intervals may report too few views, never too many.
type viewCounter struct {
	q   *db.Queries
	log zerolog.Logger

	mu      sync.Mutex
	pending map[int64]int64 // feed id → views not yet being written
	flushes []flushBatch    // the latest flushes, in flight or committed, oldest first
}

// flushBatch is one flush's views and generation.
type flushBatch struct {
	gen   int64
	views map[int64]int64
}

const keptFlushes = 8

func newViewCounter(q *db.Queries, log zerolog.Logger) *viewCounter {
	return &viewCounter{q: q, log: log, pending: map[int64]int64{}}
}

// add counts one view of feedID.
func (v *viewCounter) add(feedID int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pending[feedID]++
}

// unwritten returns the views of feedID missing from a row read with
// view_flush_gen rowGen.
func (v *viewCounter) unwritten(feedID, rowGen int64) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := v.pending[feedID]
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

// flush writes the pending views. What fails to be written is put back for
// the next flush.
func (v *viewCounter) flush(ctx context.Context) {
	// Generations are times, so they keep growing across restarts.
	gen := time.Now().UnixNano()
	v.mu.Lock()
	batch := v.pending
	if len(batch) == 0 {
		v.mu.Unlock()
		return
	}
	v.pending = map[int64]int64{}
	v.flushes = append(v.flushes, flushBatch{gen: gen, views: batch})
	if len(v.flushes) > keptFlushes {
		v.flushes = v.flushes[1:]
	}
	v.mu.Unlock()
	params := db.AddViewsParams{Gen: gen, Ids: make([]int64, 0, len(batch)), Counts: make([]int64, 0, len(batch))}
	for id, n := range batch {
		params.Ids = append(params.Ids, id)
		params.Counts = append(params.Counts, n)
	}
	err := v.q.AddViews(ctx, params)

	if err == nil {
		return
	}
	v.log.Warn().Err(err).Int("feeds", len(batch)).Msg("writing view counts failed; retrying at the next flush")
	v.mu.Lock()
	defer v.mu.Unlock()
	v.flushes = v.flushes[:len(v.flushes)-1] // it is the newest: flushes run one at a time
	for id, n := range batch {
		v.pending[id] += n
	}
}
