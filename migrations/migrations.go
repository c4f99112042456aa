// Package migrations embeds every module's goose migrations. Each module has
// its own directory, PostgreSQL schema and version table.
package migrations

import (
	"context"
	"embed"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
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
		if m == "common" {
			line.After = riverUp
		}
		lines = append(lines, line)
	}
	return lines
}

// riverUp applies River's own migrations (the email job queue) into the
// common schema, which the common line's first migration creates.
func riverUp(ctx context.Context, pool *pgxpool.Pool) error {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Schema: "common"})
	if err != nil {
		return err
	}
	_, err = migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
