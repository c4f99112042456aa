package main

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what a closed-loop load run measured.
type Result struct {
	Requests  int
	Errors    int
	FirstErr  error
	Duration  time.Duration
	Latencies []time.Duration // of the successful requests
}

// RPS is successful requests per second.
func (r Result) RPS() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Duration.Seconds()
}

// Percentile returns the p-th percentile latency (p in 0..100).
func (r Result) Percentile(p float64) time.Duration {
	return percentile(r.Latencies, p)
}

func percentile(latencies []time.Duration, p float64) time.Duration {
	if len(latencies) == 0 {
		return 0
	}
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// closedLoop runs concurrency workers, each calling do back to back, for
// duration, and measures every call. Calls in flight when the time is up
// finish (they are not cut off by a deadline) and are not counted.
func closedLoop(ctx context.Context, concurrency int, duration time.Duration, do func(ctx context.Context, worker int) error) Result {
	var (
		mu      sync.Mutex
		res     Result
		wg      sync.WaitGroup
		stopped atomic.Bool
	)
	timer := time.AfterFunc(duration, func() { stopped.Store(true) })
	defer timer.Stop()
	start := time.Now()
	for w := range concurrency {
		wg.Go(func() {
			var local []time.Duration
			errors, requests := 0, 0
			var firstErr error
			for !stopped.Load() && ctx.Err() == nil {
				t0 := time.Now()
				err := do(ctx, w)
				if stopped.Load() {
					break
				}
				requests++
				if err != nil {
					errors++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			res.Requests += requests
			res.Errors += errors
			res.Latencies = append(res.Latencies, local...)
			if res.FirstErr == nil {
				res.FirstErr = firstErr
			}
		})
	}
	wg.Wait()
	res.Duration = min(time.Since(start), duration)
	return res
}

// closedCalls makes calls 0…n-1 (taken from next) on concurrency workers
// and measures each, as closedLoop does for a duration.
func closedCalls(ctx context.Context, concurrency, n int, next *atomic.Int64, call func(ctx context.Context, worker, i int) error) Result {
	var (
		mu  sync.Mutex
		res Result
		wg  sync.WaitGroup
	)
	start := time.Now()
	for w := range min(concurrency, n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				err := call(ctx, w, i)
				d := time.Since(t0)
				mu.Lock()
				res.Requests++
				if err != nil {
					res.Errors++
					if res.FirstErr == nil {
						res.FirstErr = err
					}
				} else {
					res.Latencies = append(res.Latencies, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	res.Duration = time.Since(start)
	return res
}
