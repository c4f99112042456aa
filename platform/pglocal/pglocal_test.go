package pglocal_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/pglocal"
)

// TestClusterPersistsAndIsReused follows `make run` across restarts: the
// cluster is created once, a second start while it runs reuses it, and data
// survives a stop and start.
func TestClusterPersistsAndIsReused(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "parley-pglocal-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	first, err := pglocal.Start(ctx, dir, pglocal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Stop(ctx) })
	require.NoError(t, first.CreateDatabase(ctx, "parley"))
	require.NoError(t, first.CreateDatabase(ctx, "parley"), "creating an existing database is a no-op")
	exec(t, first.URL("parley"), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	withoutPassword := strings.Replace(first.URL("parley"), ":"+password(t, dir)+"@", "@", 1)
	require.NotEqual(t, first.URL("parley"), withoutPassword)
	_, err = pgx.Connect(ctx, withoutPassword)
	require.Error(t, err, "the loopback port does not trust local users")

	second, err := pglocal.Start(ctx, dir, pglocal.Options{})
	require.NoError(t, err)
	require.Equal(t, first.URL("parley"), second.URL("parley"), "a running cluster is reused")
	require.NoError(t, second.Stop(ctx), "stopping a reused cluster leaves it to its starter")
	exec(t, first.URL("parley"), "SELECT 1")

	require.NoError(t, first.Stop(ctx))
	_, err = pgx.Connect(ctx, first.URL("parley"))
	require.Error(t, err, "the cluster is down after Stop")

	again, err := pglocal.Start(ctx, dir, pglocal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = again.Stop(ctx) })
	conn, err := pgx.Connect(ctx, again.URL("parley"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var v string
	require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	require.Equal(t, "still here", v)
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	require.NoError(t, err)
}

func password(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "password"))
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, "password"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	return strings.TrimSpace(string(b))
}
