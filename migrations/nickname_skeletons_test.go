package migrations_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/migrations"
	"github.com/parley-im/parley/platform/database"
	"github.com/parley-im/parley/platform/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// Nicknames from before the skeleton rule, some already look-alikes of
// each other, get skeletons: the oldest of a look-alike set keeps it, the
// others NULL; every one still exists and new look-alikes are refused.
func TestNicknameSkeletonsOfExistingUsers(t *testing.T) {
	ctx := context.Background()
	pool, err := database.Open(ctx, testdb.EmptyURL(t), 4)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	migrator, err := database.NewMigrator(pool, migrations.All())
	require.NoError(t, err)
	defer migrator.Close()
	_, err = migrator.Up(ctx)
	require.NoError(t, err)

	// Back to the state before migration 6, with the seed's nicknames.
	_, err = pool.Exec(ctx, `DROP INDEX users.users_nickname_skeleton_key`)
	require.NoError(t, err)
	for _, nickname := range []string{"alice", "аlice", "alice\u200b", "bob", "Ｂob", "carol"} {
		_, err := pool.Exec(ctx, `INSERT INTO users.users (nickname, nickname_folded, password_hash) VALUES ($1, lower($1), 'x')`, nickname)
		require.NoError(t, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, migrations.FillNicknameSkeletons(ctx, tx))
	require.NoError(t, tx.Commit())

	rows, err := pool.Query(ctx, `SELECT nickname, nickname_skeleton FROM users.users ORDER BY id`)
	require.NoError(t, err)
	got := map[string]sql.NullString{}
	for rows.Next() {
		var nickname string
		var skeleton sql.NullString
		require.NoError(t, rows.Scan(&nickname, &skeleton))
		got[nickname] = skeleton
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, 6, "every nickname stays")
	require.True(t, got["alice"].Valid)
	require.False(t, got["аlice"].Valid, "a later look-alike keeps NULL")
	require.False(t, got["alice\u200b"].Valid)
	require.Equal(t, got["alice"].String, "alice")
	require.True(t, got["bob"].Valid)
	require.False(t, got["Ｂob"].Valid)
	require.True(t, got["carol"].Valid)

	_, err = pool.Exec(ctx, `INSERT INTO users.users (nickname, nickname_folded, nickname_skeleton, password_hash) VALUES ('ALICE!', 'alice!', 'alice', 'x')`)
	require.ErrorContains(t, err, "users_nickname_skeleton_key", "the skeleton is unique again")
}
