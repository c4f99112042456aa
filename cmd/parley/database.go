package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/parley-im/parley/migrations"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/database"
	"github.com/parley-im/parley/platform/pglocal"
)

// openDatabase connects to cfg.DatabaseURL or, when it is empty, to a local
// PostgreSQL cluster under the data directory, started if it is not running.
// close releases the pool and stops a cluster this call started.
func openDatabase(ctx context.Context, cfg config.Config, log zerolog.Logger) (pool *pgxpool.Pool, close func(), err error) {
	url := cfg.DatabaseURL
	stopCluster := func() {}
	if url == "" {
		dir := filepath.Join(cfg.DataDir, "postgres")
		log.Info().Str("dir", dir).Msg("no database URL set: using the local PostgreSQL cluster")
		cluster, err := pglocal.Start(ctx, dir, pglocal.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("local PostgreSQL: %w", err)
		}
		stopCluster = func() {
			if err := cluster.Stop(context.Background()); err != nil {
				log.Error().Err(err).Msg("stop local PostgreSQL")
			}
		}
		if err := cluster.CreateDatabase(ctx, "parley"); err != nil {
			stopCluster()
			return nil, nil, fmt.Errorf("local PostgreSQL: %w", err)
		}
		url = cluster.URL("parley")
	}
	pool, err = database.Open(ctx, url, int32(cfg.DBMaxConns))
	if err != nil {
		stopCluster()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); stopCluster() }, nil
}

func newMigrator(pool *pgxpool.Pool) (*database.Migrator, error) {
	return database.NewMigrator(pool, migrations.All())
}
