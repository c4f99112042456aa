// Package parleytest runs the assembled application (parley.Build, App.Run)
// on loopback ports for one test: the wiring `parley serve` uses, so a test
// never wires modules by hand. For tests only.
package parleytest

import (
	"context"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/parley-im/parley/internal/parley"
	"github.com/parley-im/parley/platform/config"
	"github.com/parley-im/parley/platform/testkit"
	"github.com/parley-im/parley/platform/testserver"
)

// Served is Parley running for one test.
type Served struct {
	*parley.App
	Cfg     config.Config
	Conn    *grpc.ClientConn // to the gRPC listener
	HTTPURL string           // the HTTP listener, http://127.0.0.1:port
	// Stop stops the app as SIGTERM does (it also runs when the test ends).
	Stop func()
}

// Config is the default configuration with the test's own data and storage
// directories.
func Config(t testing.TB) config.Config {
	cfg := config.Default()
	cfg.DataDir, cfg.StorageDir = t.TempDir(), t.TempDir()
	return cfg
}

// Serve builds and runs the app for cfg over pool; a shutdown at the test's
// end is given 5 s at most.
func Serve(t testing.TB, cfg config.Config, pool *pgxpool.Pool, opts parley.Options) *Served {
	t.Helper()
	app, err := parley.Build(context.Background(), cfg, pool, opts)
	require.NoError(t, err)
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, grpcLis, httpLis, min(cfg.ShutdownTimeout, 5*time.Second)) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("parley stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop) // registered before the connection's, so it runs after it
	return &Served{
		App: app, Cfg: cfg, Stop: stop,
		Conn:    testserver.Dial(t, grpcLis.Addr().String()),
		HTTPURL: "http://" + httpLis.Addr().String(),
	}
}

// Options are what module tests run the app with: warnings and errors
// logged to stderr (go test shows them when a package fails) and cheap
// password hashing, so sign-ups stay fast under the race detector.
func Options() parley.Options {
	return parley.Options{
		Log:            zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.WarnLevel),
		PasswordParams: testkit.CheapHashing,
	}
}
