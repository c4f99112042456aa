// Package testdb gives each test package its own freshly migrated PostgreSQL
// database. The server comes from, in order: TEST_DATABASE_URL; a
// PostgreSQL container when a Docker engine answers (testcontainers-go); a
// local cluster started from the machine's PostgreSQL binaries. A package
// that cannot get one fails, saying how to get one: it never skips.
//
// Use it from TestMain so the database is dropped when the package's tests end:
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"go.uber.org/goleak"

	"github.com/parley-im/parley/migrations"
	"github.com/parley-im/parley/platform/database"
	"github.com/parley-im/parley/platform/pglocal"
)

var (
	once     sync.Once
	pool     *pgxpool.Pool
	dbURL    string
	server   string // the URL databases are created through
	setupErr error
	cleanups []func()
)

// Main runs the package's tests, then removes the database (and the local
// cluster, if one was started), then fails if the tests left goroutines
// running: every server, stream, pool and worker a test starts must stop.
func Main(m *testing.M) {
	code := m.Run()
	if pool != nil {
		pool.Close()
	}
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	if code == 0 {
		if err := goleak.Find(leakOptions...); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: goroutines left running after the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// leakOptions ignores goroutines that are the runtime's or a library's by
// design, not a test's.
var leakOptions = []goleak.Option{
	// Idle keep-alive connections of http.DefaultClient (tests' /metrics,
	// /readyz and /media requests).
	goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
}

// Pool returns a pool on the package's migrated database.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	setup()
	if setupErr != nil {
		t.Fatalf("testdb: %v", setupErr)
	}
	return pool
}

// URL returns the connection URL of the package's migrated database, for
// tests that start Parley as a separate process.
func URL(t testing.TB) string {
	t.Helper()
	Pool(t)
	return dbURL
}

func setup() {
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		serverURL, err := serverURLFor(ctx)
		if err != nil {
			setupErr = err
			return
		}
		server = serverURL
		var name string
		dbURL, name, setupErr = createDatabase(ctx, serverURL)
		if setupErr != nil {
			return
		}
		cleanups = append(cleanups, func() { dropDatabase(serverURL, name) })
		if pool, setupErr = database.Open(ctx, dbURL, 8); setupErr != nil {
			return
		}
		migrator, err := database.NewMigrator(pool, migrations.All())
		if err != nil {
			setupErr = err
			return
		}
		_, setupErr = migrator.Up(ctx)
		migrator.Close()
	})
}

// EmptyURL returns the URL of a new database of t's own on the package's
// server, with nothing in it (not migrated); it is dropped when t ends.
func EmptyURL(t testing.TB) string {
	t.Helper()
	Pool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, name, err := createDatabase(ctx, server)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { dropDatabase(server, name) })
	return url
}

// Fresh returns a pool on a new database of t's own, migrated: for tests
// that must see only their own writes. It is dropped when t ends.
func Fresh(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := database.Open(ctx, EmptyURL(t), 8)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close)
	migrator, err := database.NewMigrator(pool, migrations.All())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	defer migrator.Close()
	if _, err := migrator.Up(ctx); err != nil {
		t.Fatalf("testdb: migrate: %v", err)
	}
	return pool
}

// serverURLFor returns the URL of a PostgreSQL server to create the database on.
func serverURLFor(ctx context.Context) (string, error) {
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		return url, nil
	}
	if dockerAnswers(ctx) {
		return container(ctx)
	}
	dir, err := os.MkdirTemp("", "parley-testdb-")
	if err != nil {
		return "", err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	cluster, err := pglocal.Start(ctx, dir, pglocal.Options{Ephemeral: true})
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL for tests: set TEST_DATABASE_URL to a server the tests may "+
			"create databases on, start a Docker engine, or install PostgreSQL's server binaries "+
			"(Debian: apt-get install postgresql): %w", err)
	}
	cleanups = append(cleanups, func() { _ = cluster.Stop(context.Background()) })
	return cluster.URL("postgres"), nil
}

// dockerAnswers reports whether a Docker engine is reachable, quickly.
func dockerAnswers(ctx context.Context) bool {
	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return false
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return provider.Health(ctx) == nil
}

// container starts PostgreSQL in Docker; Main removes it.
func container(ctx context.Context) (string, error) {
	ctr, err := tcpostgres.Run(ctx, "postgres:15-alpine",
		tcpostgres.WithDatabase("postgres"),
		tcpostgres.WithUsername("parley"),
		tcpostgres.WithPassword("parley"),
		tcpostgres.BasicWaitStrategies(),
	)
	if ctr != nil {
		cleanups = append(cleanups, func() { _ = testcontainers.TerminateContainer(ctr) })
	}
	if err != nil {
		return "", fmt.Errorf("PostgreSQL container: %w", err)
	}
	return ctr.ConnectionString(ctx, "sslmode=disable")
}

// createDatabase creates a uniquely named database on the server and
// returns its URL and name.
func createDatabase(ctx context.Context, serverURL string) (dbURL, name string, err error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme == "" {
		return "", "", fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL: %q", serverURL)
	}
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", "", fmt.Errorf("test database server: %w", err)
	}
	defer conn.Close(ctx)
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name = "parley_test_" + hex.EncodeToString(suffix)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("create test database: %w", err)
	}
	u.Path = "/" + name
	return u.String(), name, nil
}

func dropDatabase(serverURL, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}
