package migrations

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/parley-im/parley/platform/identity"
)

// nicknameSkeletons is the users line's migration 6: it records the
// skeletons of every nickname from before migration 5 (in Go, as
// identity.Skeletons is). Of nicknames that already looked alike, the
// oldest holds the skeleton; the others still sign in, and no new
// look-alike of any of them is accepted.
var nicknameSkeletons = goose.NewGoMigration(6,
	&goose.GoFunc{RunTx: fillNicknameSkeletons},
	&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM users.nickname_skeletons`)
		return err
	}},
)

func fillNicknameSkeletons(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, nickname FROM users.users ORDER BY id`)
	if err != nil {
		return err
	}
	var ids []int64
	var skeletons []string
	taken := map[string]bool{}
	for rows.Next() {
		var id int64
		var nickname string
		if err := rows.Scan(&id, &nickname); err != nil {
			rows.Close()
			return err
		}
		for _, skeleton := range identity.Skeletons(nickname) {
			if !taken[skeleton] {
				taken[skeleton] = true
				ids, skeletons = append(ids, id), append(skeletons, skeleton)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// One statement for every row: unnest pairs the arrays element by element.
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO users.nickname_skeletons (skeleton, user_id)
		SELECT unnest($1::text[]), unnest($2::bigint[])
		ON CONFLICT DO NOTHING`, skeletons, ids); err != nil {
		return fmt.Errorf("fill nickname skeletons: %w", err)
	}
	return nil
}
