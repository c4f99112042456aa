// Package ratelimit bounds what one key (a user, an address) may do: how
// often (Keyed, a token bucket per key) and how much it holds at once
// (Holds). Both are in memory, so per node.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys bounds the buckets kept; beyond it, idle ones are swept (at most
// once a second), and a new key finds no room (refused) until some are.
const maxKeys = 100_000

// Keyed is a token bucket per key. Idle buckets, back to full, are swept
// once a minute to bound memory.
type Keyed[K comparable] struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[K]*rate.Limiter
	lastSweep time.Time
}

// New gives each key perSecond tokens a second, up to burst at once.
func New[K comparable](perSecond float64, burst int) *Keyed[K] {
	return &Keyed[K]{rate: rate.Limit(perSecond), burst: burst, buckets: map[K]*rate.Limiter{}, lastSweep: time.Now()}
}

// Allow takes a token from key's bucket.
func (l *Keyed[K]) Allow(key K) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	sinceSweep := now.Sub(l.lastSweep)
	if sinceSweep > time.Minute || (len(l.buckets) >= maxKeys && sinceSweep > time.Second) {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxKeys {
			return false
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	return b.AllowN(now, 1)
}
