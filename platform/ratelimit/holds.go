package ratelimit

import "sync"

// Holds counts what each key holds at once (connections, uploads,
// streams) and refuses a key more than its limit.
type Holds[K comparable] struct {
	limit int
	mu    sync.Mutex
	held  map[K]int
}

// NewHolds lets each key hold limit at once.
func NewHolds[K comparable](limit int) *Holds[K] {
	return &Holds[K]{limit: limit, held: map[K]int{}}
}

// Take counts one more for key, unless it holds its limit already.
func (h *Holds[K]) Take(key K) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held[key] >= h.limit {
		return false
	}
	h.held[key]++
	return true
}

// Release gives one of key's back.
func (h *Holds[K]) Release(key K) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held[key]--; h.held[key] <= 0 {
		delete(h.held, key)
	}
}
