package app

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/parley-im/parley/modules/common/internal/db"
)

// Secret returns the shared secret called name, made (32 random bytes) if
// no node has made it yet; of nodes making it at once, the first insert wins.
func Secret(ctx context.Context, q *db.Queries, name string) ([]byte, error) {
	value := make([]byte, 32)
	if _, err := rand.Read(value); err != nil {
		return nil, err
	}
	if err := q.AddSecret(ctx, db.AddSecretParams{Name: name, Value: value}); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	stored, err := q.GetSecret(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return stored, nil
}
