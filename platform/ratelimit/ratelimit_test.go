package ratelimit_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/ratelimit"
)

func TestHolds(t *testing.T) {
	t.Parallel()
	h := ratelimit.NewHolds[string](2)
	require.True(t, h.Take("a"))
	require.True(t, h.Take("a"))
	require.False(t, h.Take("a"), "a holds its limit")
	require.True(t, h.Take("b"), "other keys are not affected")
	h.Release("a")
	require.True(t, h.Take("a"), "a released one")
}

func TestKeyed(t *testing.T) {
	t.Parallel()
	l := ratelimit.New[uint64](0.001, 3)
	for range 3 {
		require.True(t, l.Allow(1))
	}
	require.False(t, l.Allow(1), "the burst is spent")
	require.True(t, l.Allow(2), "other keys have their own bucket")
}
