// Package auth carries the caller's identity through a request. The identity
// is set only by the authentication interceptor, from the bearer token.
package auth

import (
	"context"
	"errors"
	"time"
)

// Identity is who is calling: a user, or an edge gateway presenting the
// gateway credential (Gateway set, no user).
type Identity struct {
	UserID  uint64
	Admin   bool
	Gateway bool
	// ExpiresAt is when the user's token stops working: a session that
	// outlives the call (a gateway stream) ends then. Zero for a gateway.
	ExpiresAt time.Time
	// IssuedAt is when the token was issued (its login). Zero for a gateway.
	IssuedAt time.Time
}

// Authenticator resolves a bearer token to an identity. It returns an
// *apperr.Error with code Unauthenticated for an unknown, expired or revoked token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Identity, error)
}

type identityKey struct{}

// WithIdentity returns ctx carrying id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the caller's identity, if the call was authenticated.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// ErrNoIdentity means a handler that needs a caller ran without one: a
// wiring bug (the method is marked public by mistake), never a client error.
var ErrNoIdentity = errors.New("auth: no identity in context")

// Caller returns the caller's identity or ErrNoIdentity.
func Caller(ctx context.Context) (Identity, error) {
	id, ok := FromContext(ctx)
	if !ok {
		return Identity{}, ErrNoIdentity
	}
	return id, nil
}
