package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/alexedwards/argon2id"
	"google.golang.org/grpc/metadata"
)

// seededUser is a user the harness created straight in the database, with
// a token it can call as.
type seededUser struct {
	ID    uint64
	Token string
}

// Ctx is a context carrying the user's token.
func (u seededUser) Ctx(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+u.Token)
}

// seedPassword is every seeded user's password (one argon2id hash for all).
const seedPassword = "bench-password"

// seedUsers inserts n users named prefix0…prefixN-1 with one token each,
// in two statements: sign-up and login through the API would spend the
// run hashing passwords.
func seedUsers(ctx context.Context, e *env, prefix string, n int) ([]seededUser, error) {
	hash, err := argon2id.CreateHash(seedPassword, argon2id.DefaultParams)
	if err != nil {
		return nil, err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	rows, err := e.pool.Query(ctx, `
		INSERT INTO users.users (nickname, nickname_folded, password_hash)
		SELECT name, lower(name), $2 FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i) ORDER BY i
		RETURNING id`, names, hash)
	if err != nil {
		return nil, fmt.Errorf("seed users: %w", err)
	}
	users := make([]seededUser, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		users = append(users, seededUser{ID: uint64(id)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seed users: %w", err)
	}
	ids := make([]int64, n)
	hashes := make([][]byte, n)
	for i := range users {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		users[i].Token = base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(users[i].Token))
		ids[i], hashes[i] = int64(users[i].ID), sum[:]
	}
	_, err = e.pool.Exec(ctx, `
		INSERT INTO users.tokens (token_hash, user_id, expires_at)
		SELECT h, u, $3 FROM unnest($1::bytea[], $2::bigint[]) AS t(h, u)`, hashes, ids, time.Now().Add(24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("seed tokens: %w", err)
	}
	return users, nil
}
