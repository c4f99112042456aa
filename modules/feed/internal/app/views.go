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
type viewCounter struct {
	q   *db.Queries
	log zerolog.Logger

	mu      sync.Mutex
	pending map[int64]int64 // feed id → views not yet written
}

func newViewCounter(q *db.Queries, log zerolog.Logger) *viewCounter {
	return &viewCounter{q: q, log: log, pending: map[int64]int64{}}
}

// add counts one view of feedID.
func (v *viewCounter) add(feedID int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pending[feedID]++
}

// unwritten returns the views of feedID not yet written.
func (v *viewCounter) unwritten(feedID int64) int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.pending[feedID]
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
	v.mu.Lock()
	batch := v.pending
	v.pending = map[int64]int64{}
	v.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	params := db.AddViewsParams{Ids: make([]int64, 0, len(batch)), Counts: make([]int64, 0, len(batch))}
	for id, n := range batch {
		params.Ids = append(params.Ids, id)
		params.Counts = append(params.Counts, n)
	}
	if err := v.q.AddViews(ctx, params); err != nil {
		v.log.Warn().Err(err).Int("feeds", len(batch)).Msg("writing view counts failed; retrying at the next flush")
		v.mu.Lock()
		for id, n := range batch {
			v.pending[id] += n
		}
		v.mu.Unlock()
	}
}
