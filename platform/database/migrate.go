package database

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// Migrations is one module's migration line: its own directory of goose files
// and its own version table, so the module can later leave with them.
type Migrations struct {
	Module string
	FS     fs.FS
	// Go are the line's migrations written in Go (for data only Go can
	// compute), numbered among FS's files.
	Go []*goose.Migration
	// After, when set, runs after the line's migrations are up: for a
	// library's own migrations into the module's schema (River's jobs).
	After func(ctx context.Context, pool *pgxpool.Pool) error
}

// Migrator applies module migration lines in order.
type Migrator struct {
	pool      *pgxpool.Pool
	db        *sql.DB // goose's view of pool
	providers []*goose.Provider
	lines     []Migrations
}

// NewMigrator prepares the providers for lines, in the order given (a module
// comes after the modules it reads from in-process at start-up).
func NewMigrator(pool *pgxpool.Pool, lines []Migrations) (*Migrator, error) {
	m := &Migrator{pool: pool, db: stdlib.OpenDBFromPool(pool), lines: lines}
	for _, line := range lines {
		// A session lock keeps nodes starting together from migrating at once.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			m.Close()
			return nil, err
		}
		p, err := goose.NewProvider(goose.DialectPostgres, m.db, line.FS,
			goose.WithTableName("goose_"+line.Module+"_version"), goose.WithSessionLocker(locker),
			goose.WithGoMigrations(line.Go...))
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("migrations of %s: %w", line.Module, err)
		}
		m.providers = append(m.providers, p)
	}
	return m, nil
}

// Close releases the migrator's handle on the pool (not the pool itself).
func (m *Migrator) Close() { m.db.Close() }

// Up applies every pending migration of every module.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	var all []*goose.MigrationResult
	for i, p := range m.providers {
		res, err := p.Up(ctx)
		all = append(all, res...)
		if err != nil {
			return all, fmt.Errorf("migrate %s up: %w", m.lines[i].Module, err)
		}
		if after := m.lines[i].After; after != nil {
			if err := after(ctx, m.pool); err != nil {
				return all, fmt.Errorf("migrate %s up: %w", m.lines[i].Module, err)
			}
		}
	}
	return all, nil
}

// Down rolls back the newest migration of the last module that has one applied.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) {
	for i := len(m.providers) - 1; i >= 0; i-- {
		v, err := m.providers[i].GetDBVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate %s: %w", m.lines[i].Module, err)
		}
		if v == 0 {
			continue
		}
		res, err := m.providers[i].Down(ctx)
		if err != nil {
			return res, fmt.Errorf("migrate %s down: %w", m.lines[i].Module, err)
		}
		return res, nil
	}
	return nil, fmt.Errorf("no migration to roll back")
}

// ModuleStatus is the state of one module's migrations.
type ModuleStatus struct {
	Module     string
	Migrations []*goose.MigrationStatus
}

// Status lists every migration of every module and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]ModuleStatus, error) {
	var out []ModuleStatus
	for i, p := range m.providers {
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate %s status: %w", m.lines[i].Module, err)
		}
		out = append(out, ModuleStatus{Module: m.lines[i].Module, Migrations: st})
	}
	return out, nil
}
