// Package migrations embeds every module's goose migrations. Each module has
// its own directory, PostgreSQL schema and version table.
package migrations

import (
	"embed"
	"io/fs"

	"github.com/parley-im/parley/platform/database"
)

//go:embed platform/*.sql users/*.sql groups/*.sql feeds/*.sql messages/*.sql
var files embed.FS

// modules lists the migration lines in the order they are applied.
// "platform" holds what every module may use (the search functions).
var modules = []string{"platform", "users", "groups", "feeds", "messages"}

// All returns every module's migration line.
func All() []database.Migrations {
	lines := make([]database.Migrations, 0, len(modules))
	for _, m := range modules {
		sub, err := fs.Sub(files, m)
		if err != nil {
			panic(err) // the directories are embedded at build time
		}
		lines = append(lines, database.Migrations{Module: m, FS: sub})
	}
	return lines
}
