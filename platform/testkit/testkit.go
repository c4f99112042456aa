// Package testkit is what tests across the modules share: cheap password
// hashing, unique names, tokens on outgoing calls, status checks and media
// links. For tests only.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/platform/media"
)

// CheapHashing keeps sign-ups fast under the race detector; the user
// module's own tests exercise the production cost.
var CheapHashing = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Unique returns prefix and 8 random hex digits: a name no other test uses.
func Unique(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// WithToken is a context whose calls carry token as the bearer token.
func WithToken(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

// RequireCode requires err to be a gRPC status with code want, and returns it.
func RequireCode(t testing.TB, err error, want codes.Code) *status.Status {
	t.Helper()
	require.Error(t, err)
	st, ok := status.FromError(err)
	require.True(t, ok, "not a gRPC status: %v", err)
	require.Equal(t, want, st.Code(), "message: %s", st.Message())
	return st
}

// MediaBase is where MediaLinks' links point: a host no test serves.
const MediaBase = "http://media.parley.test/media"

// MediaLinks signs media links under MediaBase with a secret of its own,
// for modules under test that answer with links nobody fetches.
func MediaLinks(t testing.TB) *media.Links {
	t.Helper()
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	links, err := media.NewLinks(MediaBase, secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return links
}
