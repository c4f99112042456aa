package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/parley-im/parley/api/gen/userpb"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testserver"
)

// loginLimitsServe is Parley trusting the tests' own address as a proxy,
// so each call can come from the address it names in x-forwarded-for.
func loginLimitsServe(t *testing.T) *authzEnv {
	t.Helper()
	return authzServe(t, zerolog.Nop(), func(cfg *config.Config) { cfg.TrustedProxies = "127.0.0.1" })
}

// from is a context whose call comes from addr.
func from(addr string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "x-forwarded-for", addr)
}

func (e *authzEnv) signUpFrom(addr string) error {
	nick := uniqueNickname("lim")
	_, err := e.users.CreateUser(from(addr), &userpb.UserCreateRequest{Nickname: nick, Password: authzPassword, PasswordRpt: authzPassword})
	return err
}

func (e *authzEnv) loginFrom(addr, nick, password string) error {
	_, err := e.users.UserLogin(from(addr), &userpb.UserLoginRequest{Nickname: nick, Password: password})
	return err
}

// Sign-ups and logins are limited per address (buckets of 20 and 60 that
// refill over a minute); other addresses are not affected.
func TestSignUpsAndLoginsAreLimitedPerAddress(t *testing.T) {
	t.Parallel()
	e := loginLimitsServe(t)
	// The bucket refills while the test runs (a slow machine makes more
	// calls before the refusal), so the calls allowed are checked against
	// the refill over the time they took.
	untilRefused := func(perMinute int, call func() error) (int, error) {
		start := time.Now()
		for n := 0; ; n++ {
			if err := call(); err != nil {
				refills := int(time.Since(start).Minutes()*float64(perMinute)) + 1
				require.GreaterOrEqual(t, n, perMinute, "refused before the bucket was empty")
				require.LessOrEqual(t, n, perMinute+refills, "more calls than the bucket and its refill allow")
				return n, err
			}
			require.Less(t, n, 10*perMinute, "never refused")
		}
	}
	_, err := untilRefused(20, func() error { return e.signUpFrom("203.0.113.10") })
	require.Equal(t, codes.ResourceExhausted, status.Code(err), err)
	require.Contains(t, status.Convert(err).Message(), "too many sign-ups from your address")
	require.NoError(t, e.signUpFrom("203.0.113.11"), "another address signs up")

	victim := e.signUp(t, authzStranger, false)
	_, err = untilRefused(60, func() error { return e.loginFrom("203.0.113.20", victim.nickname, authzPassword) })
	require.Equal(t, codes.ResourceExhausted, status.Code(err), err)
	require.Contains(t, status.Convert(err).Message(), "too many logins from your address")
	require.NoError(t, e.loginFrom("203.0.113.21", victim.nickname, authzPassword))
}

// Someone else's wrong guesses do not lock the owner out: failures count
// per nickname and address. Guessing stays bounded overall: 100 failures
// within a minute from any number of addresses block the nickname.
func TestLoginFailuresCountPerAddress(t *testing.T) {
	t.Parallel()
	e := loginLimitsServe(t)
	victim := e.signUp(t, authzStranger, false)
	for range 10 {
		err := e.loginFrom("198.51.100.66", victim.nickname, "wrong-password")
		require.Equal(t, codes.Unauthenticated, status.Code(err), err)
	}
	err := e.loginFrom("198.51.100.66", victim.nickname, authzPassword)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "the guessing address is blocked, the right password too")
	require.NoError(t, e.loginFrom("192.0.2.7", victim.nickname, authzPassword), "the owner, from its own address, is not")

	// 9 more addresses bring the nickname to 100 failures in the window.
	for a := range 9 {
		for range 10 {
			err := e.loginFrom(fmt.Sprintf("198.51.100.%d", a+1), victim.nickname, "wrong-password")
			require.Equal(t, codes.Unauthenticated, status.Code(err), err)
		}
	}
	for _, addr := range []string{"198.51.100.200", "192.0.2.7"} {
		err := e.loginFrom(addr, victim.nickname, authzPassword)
		require.Equal(t, codes.ResourceExhausted, status.Code(err), "%s: at the ceiling the nickname is blocked for everyone", addr)
		require.Contains(t, status.Convert(err).Message(), "too many failed logins for this nickname")
	}
}

// A flood of logins cannot starve the password checks: the queue for them
// is bounded, so the calls beyond it are refused at once (Unavailable, with
// a retry hint) instead of waiting behind hundreds of others, and a login
// after the flood succeeds.
func TestLoginFloodIsRefusedNotQueued(t *testing.T) {
	t.Parallel()
	e := loginLimitsServe(t)
	owner := e.signUp(t, authzStranger, false)
	// Four connections: one carries at most 128 calls at once.
	var clients []userpb.UserServiceClient
	for range 4 {
		clients = append(clients, userpb.NewUserServiceClient(testserver.Dial(t, e.conn.Target())))
	}
	var wg sync.WaitGroup
	codesSeen := make([]codes.Code, 400)
	for i := range codesSeen {
		wg.Go(func() {
			_, err := clients[i%len(clients)].UserLogin(from(fmt.Sprintf("10.9.%d.%d", i/250, i%250+1)),
				&userpb.UserLoginRequest{Nickname: uniqueNickname("nobody"), Password: "wrong-password"})
			codesSeen[i] = status.Code(err)
		})
	}
	wg.Wait()
	busy := 0
	for _, code := range codesSeen {
		switch code {
		case codes.Unauthenticated:
		case codes.Unavailable:
			busy++
		default:
			t.Fatalf("unexpected code %v", code)
		}
	}
	require.Positive(t, busy, "logins beyond the queue are refused at once")
	require.NoError(t, e.loginFrom("192.0.2.8", owner.nickname, authzPassword))
}
