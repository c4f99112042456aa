package migrations

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3"

	"github.com/parley-im/parley/platform/identity"
)

// nicknameSkeletons is the users line's migration 6: it computes the
// skeleton of every nickname from before migration 5 (in Go, as
// identity.Skeleton is) and makes skeletons unique. Of nicknames that
// already looked alike, the oldest keeps the skeleton and the others keep
// NULL, so they still sign in and no new look-alike of them is accepted.
var nicknameSkeletons = goose.NewGoMigration(6,
	&goose.GoFunc{RunTx: fillNicknameSkeletons},
	&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DROP INDEX users.users_nickname_skeleton_key; UPDATE users.users SET nickname_skeleton = NULL`)
		return err
	}},
)

func fillNicknameSkeletons(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, nickname FROM users.users WHERE nickname_skeleton IS NULL ORDER BY id`)
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
		if skeleton := identity.Skeleton(nickname); !taken[skeleton] {
			taken[skeleton] = true
			ids, skeletons = append(ids, id), append(skeletons, skeleton)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// One statement for every row: unnest pairs the arrays element by element.
	if _, err := tx.ExecContext(ctx, `
		UPDATE users.users u SET nickname_skeleton = s.skeleton
		FROM unnest($1::bigint[], $2::text[]) AS s(id, skeleton)
		WHERE u.id = s.id`, ids, skeletons); err != nil {
		return fmt.Errorf("fill nickname skeletons: %w", err)
	}
	_, err = tx.ExecContext(ctx, `CREATE UNIQUE INDEX users_nickname_skeleton_key ON users.users (nickname_skeleton)`)
	return err
}
