package app

import (
	"sync"
	"time"

	"github.com/parley-im/parley/platform/auth"
)

// authCache remembers resolved tokens briefly, so a client's burst of calls
// costs one token lookup, not one each. Entries live at most ttl and never
// past their token's expiry; revoking a user's tokens on this node drops
// its entries at once (on other nodes they lapse within ttl). The cache is
// bounded: when full it starts over.
type authCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[[32]byte]cachedIdentity
	// generation moves with every forget: a lookup that read the database
	// before a revocation must not store its result after it.
	generation uint64
}

type cachedIdentity struct {
	id    auth.Identity
	until time.Time
}

func newAuthCache(ttl time.Duration, max int) *authCache {
	return &authCache{ttl: ttl, max: max, entries: map[[32]byte]cachedIdentity{}}
}

func (c *authCache) get(tokenHash [32]byte, now time.Time) (auth.Identity, bool) {
	if c.ttl <= 0 {
		return auth.Identity{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[tokenHash]
	if !ok || now.After(e.until) {
		return auth.Identity{}, false
	}
	return e.id, true
}

// current is the generation to pass to put for a lookup starting now.
func (c *authCache) current() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation
}

// put stores a lookup's result unless a forget happened since it began
// (generation is what current returned before the lookup).
func (c *authCache) put(tokenHash [32]byte, id auth.Identity, now, expires time.Time, generation uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if generation != c.generation {
		return
	}
	if len(c.entries) >= c.max {
		clear(c.entries)
	}
	until := now.Add(c.ttl)
	if expires.Before(until) {
		until = expires
	}
	c.entries[tokenHash] = cachedIdentity{id: id, until: until}
}

// forget drops every entry of userID.
func (c *authCache) forget(userID uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	for k, e := range c.entries {
		if e.id.UserID == userID {
			delete(c.entries, k)
		}
	}
}
