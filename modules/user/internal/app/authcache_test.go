package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/auth"
)

func TestAuthCache(t *testing.T) {
	t.Parallel()
	now := time.Now()
	c := newAuthCache(time.Minute, 2)
	ann, bob := [32]byte{1}, [32]byte{2}
	annID := auth.Identity{UserID: 1}

	c.put(ann, annID, now, now.Add(time.Hour), c.current())
	got, ok := c.get(ann, now)
	require.True(t, ok)
	require.Equal(t, annID, got)
	_, ok = c.get(ann, now.Add(2*time.Minute))
	require.False(t, ok, "entries live at most the ttl")

	c.put(bob, auth.Identity{UserID: 2}, now, now.Add(time.Second), c.current())
	_, ok = c.get(bob, now.Add(2*time.Second))
	require.False(t, ok, "and never past the token's expiry")

	// A lookup that began before a revocation does not store after it.
	before := c.current()
	c.forget(1)
	_, ok = c.get(ann, now)
	require.False(t, ok)
	c.put(ann, annID, now, now.Add(time.Hour), before)
	_, ok = c.get(ann, now)
	require.False(t, ok, "a stale lookup was cached after the revocation")

	// Bounded: a full cache starts over.
	c.put(ann, annID, now, now.Add(time.Hour), c.current())
	c.put([32]byte{3}, auth.Identity{UserID: 3}, now, now.Add(time.Hour), c.current())
	c.put([32]byte{4}, auth.Identity{UserID: 4}, now, now.Add(time.Hour), c.current())
	require.LessOrEqual(t, len(c.entries), 2)
}
