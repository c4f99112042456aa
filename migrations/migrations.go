// Package migrations embeds every module's goose migrations. Each module has
// its own directory, PostgreSQL schema and version table.
package migrations

import (
	"embed"
	"io/fs"

	"github.com/parley-im/parley/platform/database"
)

//go:embed users/*.sql
var files embed.FS

// modules lists the migration lines in the order they are applied.
var modules = []string{"users"}

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
