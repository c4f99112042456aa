package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/testdb"
)

// A login the server was too busy to check is no failed login: under a
// flood the owner retrying with the right password is not backed off.
func TestBusyPasswordCheckIsNoFailedLogin(t *testing.T) {
	t.Parallel()
	cheap := &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	s := New(testdb.Pool(t), Config{TokenTTL: time.Hour, LoginMaxFailures: 2, LoginWindow: time.Minute, PasswordParams: cheap})
	ctx := context.Background()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	nick := "busy" + hex.EncodeToString(b)
	_, err := s.CreateUser(ctx, NewUser{Nickname: nick, Password: "secret123"})
	require.NoError(t, err)

	// Every hashing slot taken and no waiting allowed: the server is busy.
	slots := int64(2 * runtime.GOMAXPROCS(0))
	require.True(t, s.hashing.TryAcquire(slots))
	queue := s.hashingQueue
	s.hashingQueue = 0
	for range 5 {
		_, err := s.Login(ctx, nick, "secret123")
		require.ErrorIs(t, err, ErrHashingBusy)
	}
	s.hashing.Release(slots)
	s.hashingQueue = queue

	token, err := s.Login(ctx, nick, "secret123")
	require.NoError(t, err, "the busy answers were not counted as failures")
	require.NotEmpty(t, token)
}
