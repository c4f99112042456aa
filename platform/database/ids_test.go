package database_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parley-im/parley/platform/database"
	"github.com/parley-im/parley/platform/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// A uint64 id beyond bigint's range reaches PostgreSQL as the largest
// bigint: an equality finds nothing (no id is that large) and a comparison
// keeps its sense, where it would otherwise fail to encode.
func TestIDsBeyondBigint(t *testing.T) {
	t.Parallel()
	pool := testdb.Pool(t)
	ctx := context.Background()
	var sent int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::bigint`, uint64(math.MaxUint64)).Scan(&sent))
	require.Equal(t, int64(math.MaxInt64), sent)
	require.NoError(t, pool.QueryRow(ctx, `SELECT $1::bigint`, uint64(42)).Scan(&sent))
	require.Equal(t, int64(42), sent)

	const ids = `(VALUES (1::bigint), (2), (3)) AS v(id)`
	count := func(where string, arg any) (n int) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM `+ids+` WHERE `+where, arg).Scan(&n))
		return n
	}
	huge := uint64(1<<64 - 1)
	require.Zero(t, count(`id = $1`, huge), "no id is that large")
	require.Equal(t, 3, count(`id < $1`, huge), "every id is below it")
	require.Zero(t, count(`id > $1`, huge))
	require.Equal(t, 3, count(`id = ANY($1::bigint[])`, database.BigintArray([]uint64{1, 2, 3, huge})))
	require.Equal(t, []int64{7, math.MaxInt64}, database.BigintArray([]uint64{7, huge}))
}
