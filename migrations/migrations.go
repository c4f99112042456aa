// Package migrations embeds every module's goose migrations. Each module has
// its own directory, PostgreSQL schema and version table.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/parley-im/parley/platform/database"
)

//go:embed platform/*.sql users/*.sql groups/*.sql feeds/*.sql messages/*.sql common/*.sql
var files embed.FS

// modules lists the migration lines in the order they are applied.
// "platform" holds what every module may use (the search functions).
var modules = []string{"platform", "users", "groups", "feeds", "messages", "common"}

// All returns every module's migration line.
func All() []database.Migrations {
	lines := make([]database.Migrations, 0, len(modules))
	for _, m := range modules {
		sub, err := fs.Sub(files, m)
		if err != nil {
			panic(err) // the directories are embedded at build time
		}
		line := database.Migrations{Module: m, FS: sub}
		switch m {
		case "users":
			line.Go = []*goose.Migration{nicknameSkeletons}
		case "common":
			line.After = riverUp
		}
		lines = append(lines, line)
	}
	return lines
}

// riverUp applies River's own migrations (the email job queue) into the
// common schema, which the common line's first migration creates. River's
// migrator takes no lock of its own, so nodes starting together on an empty
// database created its types at once: it runs while one connection holds a
// session lock (not in one transaction: a later River migration uses an
// enum value an earlier one adds). The pool needs a second connection for
// the migrator meanwhile.
func riverUp(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const key = "hashtextextended('parley.river-migrations', 0)"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock("+key+")"); err != nil {
		return fmt.Errorf("lock for River's migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")") //nolint:errcheck // ending the session ends the lock too
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: "common"})
	if err != nil {
		return err
	}
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
