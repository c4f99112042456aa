package migrations_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/migrations"
	"github.com/parley-im/parley/platform/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// Nicknames from before the skeleton rule, some already look-alikes of
// each other, get skeletons: the oldest of a look-alike set keeps it, the
// others NULL; every one still exists and new look-alikes are refused.
func TestNicknameSkeletonsOfExistingUsers(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Fresh(t)

	// Back to the state before migration 6, with the seed's nicknames.
	_, err := pool.Exec(ctx, `DELETE FROM users.nickname_skeletons`)
	require.NoError(t, err)
	ids := map[string]int64{}
	for _, nickname := range []string{"alice", "аlice", "alice\u200b", "bob", "Ｂob", "b0b", "carol"} {
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO users.users (nickname, nickname_folded, password_hash) VALUES ($1, lower($1), 'x') RETURNING id`, nickname).Scan(&id))
		ids[nickname] = id
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	require.NoError(t, migrations.FillNicknameSkeletons(ctx, tx))
	require.NoError(t, tx.Commit())

	holders := map[int64][]string{}
	rows, err := pool.Query(ctx, `SELECT user_id, skeleton FROM users.nickname_skeletons`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		var skeleton string
		require.NoError(t, rows.Scan(&id, &skeleton))
		holders[id] = append(holders[id], skeleton)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"alice"}, holders[ids["alice"]])
	require.Empty(t, holders[ids["аlice"]], "a later look-alike holds nothing")
	require.Empty(t, holders[ids["alice\u200b"]])
	require.Equal(t, []string{"bob"}, holders[ids["bob"]])
	require.Empty(t, holders[ids["Ｂob"]])
	require.Equal(t, []string{"bOb"}, holders[ids["b0b"]], "b0b's own skeleton; its other one is bob's")
	require.NotEmpty(t, holders[ids["carol"]])
	var users int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM users.users`).Scan(&users))
	require.Equal(t, 7, users, "every nickname stays")

	_, err = pool.Exec(ctx, `INSERT INTO users.nickname_skeletons (skeleton, user_id) VALUES ('alice', $1)`, ids["carol"])
	require.ErrorContains(t, err, "nickname_skeletons_pkey", "a skeleton has one holder")
}
