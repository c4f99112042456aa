package app

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sendLimiter is a token bucket per user, in memory (so per node). Idle
// buckets, back to full, are swept once a minute to bound memory.
type sendLimiter struct {
	rate  rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[uint64]*rate.Limiter
	lastSweep time.Time
}

func newSendLimiter(perSecond float64, burst int) *sendLimiter {
	return &sendLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: map[uint64]*rate.Limiter{}, lastSweep: time.Now()}
}

// allow takes a token from userID's bucket.
func (l *sendLimiter) allow(userID uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.lastSweep) > time.Minute {
		for id, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, id)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[userID]
	if !ok {
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[userID] = b
	}
	return b.AllowN(now, 1)
}
