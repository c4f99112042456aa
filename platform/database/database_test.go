package database_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/database"
)

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("get user 2: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", wrap(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{"admin shutdown ends a connection", wrap(&pgconn.PgError{Severity: "FATAL", Code: "57P01"}), true},
		{"crash shutdown", wrap(&pgconn.PgError{Code: "57P02"}), true},
		{"starting up", wrap(&pgconn.PgError{Code: "57P03"}), true},
		{"connection exception", wrap(&pgconn.PgError{Code: "08006"}), true},
		{"too many connections", wrap(&pgconn.PgError{Code: "53300"}), true},
		{"connection cut mid-reply", wrap(io.ErrUnexpectedEOF), true},
		{"unique violation", wrap(&pgconn.PgError{Code: "23505"}), false},
		{"query cancelled", wrap(&pgconn.PgError{Code: "57014"}), false},
		{"a bug", errors.New("column does not exist"), false},
	} {
		require.Equal(t, tc.want, database.IsUnavailable(tc.err), tc.name)
	}
}
